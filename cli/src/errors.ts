/**
 * The command line's exit codes. Scripts depend on them: never renumber.
 */
export const ExitCode = {
  /** Every record was delivered (or the command did what it was asked). */
  Ok: 0,
  /** Some records were not delivered; the summary says how many and the first error. */
  RecordsFailed: 1,
  /** A bad flag, or a file that cannot be read or is not a valid schema. */
  Usage: 2,
  /** The brokers (or the schema registry) could not be reached, metadata did not come in time, or the topic does not exist. */
  Unavailable: 3,
  /** Stopped by SIGINT with input cut short or records not delivered (128 + 2). */
  Sigint: 130,
  /** Stopped by SIGTERM with input cut short or records not delivered (128 + 15). */
  Sigterm: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error that ends a command with one line on stderr and `exitCode`. Thrown
 * for what the user can fix (flags, files, addresses); anything else that
 * escapes a command is a bug and is reported with its stack.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** A usage or configuration error (exit code 2). */
export function usageError(message: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.Usage, cause === undefined ? {} : { cause });
}

/** The cluster or registry could not be used (exit code 3). */
export function unavailableError(message: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.Unavailable, cause === undefined ? {} : { cause });
}

/** The message of anything thrown, on one line. */
export function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
