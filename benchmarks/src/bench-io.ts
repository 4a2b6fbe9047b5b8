/**
 * What the stand-alone benchmarks (latency, memory, compression) share: the
 * machine line their reports open with, running one of their own jobs in a
 * child process, and writing the report under BENCH_OUT.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { RESULT_PREFIX } from './compare/workload.js';

/** "Machine: <cpu>, N cores, N GiB, Node vX; load average before a / b / c." */
export function machineLine(): string {
  const cpu = cpus();
  return `Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average before ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')}.`;
}

/**
 * Runs `script` again in a child process (same node, same flags) with `job`
 * as its argument, and resolves with the JSON the child printed after
 * RESULT_PREFIX (see `printResult`); rejects, naming `label`, if it exits
 * otherwise.
 */
export function runJob<T>(script: string, job: object, label: string): Promise<T> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => (out += d));
    p.on('error', fail);
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || line === undefined) fail(new Error(`${label} exited with ${code}: ${out.trim()}`));
      else ok(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
    });
  });
}

/** In the child: prints the result line and exits once it is out (native handles may keep the process alive). */
export function printResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => process.exit(0));
}

/** With BENCH_OUT set: writes `<name>.md` and `<name>.json` there and says so. */
export function writeReport(name: string, md: string, json: unknown): void {
  const out = process.env['BENCH_OUT'];
  if (out === undefined) return;
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), md);
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  console.log(`written: ${join(dir, `${name}.md`)}, ${name}.json`);
}
