import { spawn } from 'node:child_process';

export interface ProcessOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last 4 KiB of stderr. */
  stderrTail: string;
  /** From spawn to exit, as the harness saw it. */
  wallMs: number;
  timedOut: boolean;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

const STDERR_TAIL = 4096;

/**
 * Runs one process to completion with a hard timeout (SIGKILL), collecting
 * its stdout and the tail of its stderr. `stdin` is a file descriptor to read
 * from, or nothing.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; stdin?: number; env?: NodeJS.ProcessEnv },
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(command, args, {
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    let spawnError: string | undefined;
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-STDERR_TAIL);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderrTail: err,
        wallMs: performance.now() - t0,
        timedOut,
        ...(spawnError !== undefined ? { spawnError } : {}),
      });
    });
  });
}
