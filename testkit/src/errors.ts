/**
 * Every failure of the testkit itself (a launcher that will not build, a mock
 * cluster that crashed or rejected a command, kcat failing) is a TestkitError,
 * so a test can tell a broken harness from a failing system under test.
 */
export class TestkitError extends Error {
  override readonly name = 'TestkitError';
  readonly isTestkitError = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
