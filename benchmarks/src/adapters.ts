/**
 * `npm run bench:adapters`: the producer's throughput over each transport
 * adapter on the same workload and the same testkit cluster: Node TCP, Node
 * TLS, Bun TCP and Bun TLS. TLS goes through a real TLS terminator (Debian's
 * stunnel4, one service per broker, certificates made for the run by
 * `createTestPki`), as in the adapters' TLS tests; the transport maps each
 * broker's advertised port to its TLS port. Each leg runs in its own process
 * (adapters-worker.ts; Bun from the npm package `bun`, as the Bun adapter's
 * tests run it). 100-byte values, 16-byte keys, lingerMs 5, acks=all,
 * idempotent; median of the rounds. Not a test; never fails on timing.
 *
 *   npx tsc -b benchmarks && npm run bench:adapters -w @tributary/benchmarks
 *   BENCH_RECORDS=200000 BENCH_ROUNDS=5 ... for longer runs
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPki } from '@tributary/core/testing';
import { startCluster } from '@tributary/testkit';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const worker = fileURLToPath(new URL('./adapters-worker.js', import.meta.url));

function which(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

/** The Bun binary from the npm package's platform package (as adapters/bun/scripts/run-bun.mjs finds it). */
function bunBinary(): string | undefined {
  const root = dirname(fileURLToPath(import.meta.url));
  const require = createRequire(join(root, '..', '..', '..', 'adapters', 'bun', 'package.json'));
  for (const name of ['@oven/bun-linux-x64', '@oven/bun-linux-x64-baseline', '@oven/bun-linux-aarch64']) {
    try {
      const bin = join(dirname(require.resolve(`${name}/package.json`)), 'bin', 'bun');
      if (existsSync(bin)) return bin;
    } catch {}
  }
  return which('bun') ? 'bun' : undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const cluster = await startCluster({ brokers: 3, topics: [{ name: 'adapters', partitions: 6 }] });
const pki = createTestPki();
let stunnel: ChildProcess | undefined;
const route: Record<string, number> = {};
if (which('stunnel')) {
  const lines = ['foreground = yes', 'pid =', 'debug = 3', `output = ${join(pki.dir, 'stunnel.log')}`];
  for (const b of cluster.brokers) {
    route[b.port] = await freePort();
    lines.push(
      `[b${b.id}]`,
      `accept = 127.0.0.1:${route[b.port]}`,
      `connect = 127.0.0.1:${b.port}`,
      `cert = ${join(pki.dir, 'server.crt')}`,
      `key = ${join(pki.dir, 'server.key')}`,
    );
  }
  writeFileSync(join(pki.dir, 'stunnel.conf'), `${lines.join('\n')}\n`);
  // setpriv --pdeathsig: the kernel kills stunnel if this process dies first.
  const conf = join(pki.dir, 'stunnel.conf');
  stunnel = which('setpriv')
    ? spawn('setpriv', ['--pdeathsig', 'KILL', 'stunnel', conf], { stdio: 'ignore' })
    : spawn('stunnel', [conf], { stdio: 'ignore' });
  process.once('exit', () => stunnel?.kill('SIGKILL'));
  for (const port of Object.values(route)) {
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}

const bun = bunBinary();
const legs: Array<{ name: string; runtime: string | undefined; adapter: 'node' | 'bun'; tls: boolean }> = [
  { name: 'Node TCP', runtime: process.execPath, adapter: 'node', tls: false },
  { name: 'Node TLS (stunnel)', runtime: stunnel ? process.execPath : undefined, adapter: 'node', tls: true },
  { name: 'Bun TCP', runtime: bun, adapter: 'bun', tls: false },
  { name: 'Bun TLS (stunnel)', runtime: stunnel ? bun : undefined, adapter: 'bun', tls: true },
];

const rows: string[][] = [];
for (const leg of legs) {
  if (leg.runtime === undefined) {
    rows.push([leg.name, 'skipped', leg.tls ? 'no stunnel' : 'no Bun', '']);
    continue;
  }
  const settings = {
    adapter: leg.adapter,
    tls: leg.tls,
    bootstrapServers: cluster.bootstrapServers,
    route,
    caFile: join(pki.dir, 'ca.crt'),
    topic: 'adapters',
    records: RECORDS,
    rounds: ROUNDS,
  };
  const run = spawnSync(leg.runtime, [worker], {
    env: { ...process.env, TRIBUTARY_BENCH: JSON.stringify(settings) },
    encoding: 'utf8',
    timeout: 600_000,
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    const r = JSON.parse(line) as { rps: number; cpuUs: number };
    const version = spawnSync(leg.runtime, ['--version'], { encoding: 'utf8' }).stdout.trim();
    rows.push([leg.name, Math.round(r.rps).toLocaleString('en-US'), r.cpuUs.toFixed(2), version]);
  } catch {
    rows.push([leg.name, 'failed', (run.stderr || run.stdout).trim().split('\n').slice(-3).join(' / '), '']);
  }
}

stunnel?.kill('SIGTERM');
await cluster.stop();
pki.dispose();

const header = ['adapter', 'records/s', 'CPU µs/record', 'runtime'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const fmt = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
console.log(
  `${RECORDS.toLocaleString('en-US')} records x ${ROUNDS} rounds (median), 3 brokers, 6 partitions, 100 B values`,
);
console.log(fmt(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(fmt(r));
