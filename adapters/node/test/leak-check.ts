import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';

/**
 * File-system requests are left out: the test runner's own reporting can have one in flight at a
 * test's edges (a 'CloseReq' before the first test), and the transports touch no files.
 */
const FS_RESOURCES = new Set(['FSReqCallback', 'FSReqPromise', 'CloseReq', 'FileHandle', 'StatWatcher']);

function resources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => !FS_RESOURCES.has(r))
    .sort();
}

/**
 * Registers hooks that fail a test which leaves a socket, server or timer behind: the active
 * resources after each test must equal those before it. Call at the top level of a test file.
 */
export function checkNoLeaksAroundEachTest(): void {
  let before: string[] = [];
  const same = (): boolean => {
    const now = resources();
    return now.length === before.length && now.every((r, i) => r === before[i]);
  };
  beforeEach(() => {
    before = resources();
  });
  afterEach(async () => {
    // A server's 'close' event comes on nextTick, before libuv has run the handle's close callback:
    // give the loop a few turns to finish closing. A real leak stays, and fails below.
    for (let turn = 0; turn < 20 && !same(); turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(resources(), before, 'active resources after the test differ from before it');
  });
}
