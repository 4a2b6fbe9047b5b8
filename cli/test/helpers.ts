import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (this file is dist/test/helpers.js). */
export const CLI = fileURLToPath(new URL('../src/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Starts `node dist/src/main.js ...args` with piped stdio. */
export function spawnCli(args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Collects a started CLI's output until it exits; kills it after `timeoutMs`. */
export function finished(child: ChildProcessWithoutNullStreams, timeoutMs = 120_000): Promise<CliResult> {
  const started = performance.now();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => {
    // EPIPE when the CLI exits before reading all of its input (a usage error).
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        elapsedMs: performance.now() - started,
      });
    });
  });
}

/** Runs the CLI to completion with `input` on stdin (stdin is closed either way). */
export function runCli(
  args: readonly string[],
  input?: Buffer | string,
  timeoutMs?: number,
): Promise<CliResult> {
  const child = spawnCli(args);
  const done = finished(child, timeoutMs);
  child.stdin.end(input ?? '');
  return done;
}

export interface Summary {
  records: number;
  delivered: number;
  failed: number;
}

/** The numbers of the summary line the CLI prints last on stderr. */
export function summaryOf(stderr: string): Summary {
  const m = /(\d+) records: (\d+) delivered, (\d+) failed/.exec(stderr);
  if (!m) throw new Error(`no summary line in stderr: ${stderr}`);
  return { records: Number(m[1]), delivered: Number(m[2]), failed: Number(m[3]) };
}

/** Stderr without blank lines (a one-line error has exactly one). */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
