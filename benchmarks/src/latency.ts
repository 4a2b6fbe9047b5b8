/**
 * Acknowledgement latency at a steady rate (issue 9's latency target: with
 * `lingerMs: 0` at 10,000 records/s, p99 under 2 ms on loopback).
 *
 * One testkit cluster (3 brokers), a fresh 6-partition topic per client; each
 * client runs in its own process and sends 16-byte keys and 100-byte values
 * at a steady rate: a 1 ms interval timer sends, each tick, the records due by
 * then (rate x elapsed time, minus what was sent), so the load is spread, not
 * burst. A record's latency runs from just before its `send()` (or
 * `produce()`) call to its acknowledgement as user code sees it (the promise's
 * reaction, or node-rdkafka's delivery-report event), in a preallocated
 * Float64Array. Records of the warm-up (the first WARMUP seconds) are sent but
 * not counted. After each client the harness sums the topic's end offsets
 * (kcat): every record sent must be stored, or the script exits 1. A missed
 * target is reported, never an error.
 *
 *   npx tsc -b benchmarks && npm run bench:latency -w benchmarks
 *   BENCH_RATE=20000 BENCH_SECONDS=10 BENCH_CLIENTS=tributary BENCH_OUT=results/x npm run bench:latency
 *
 * Also reported, for honesty about the pacer: the latency from each record's
 * scheduled time (start + i / rate), which adds the timer's lateness (the
 * "coordinated omission" a send()-based clock hides), and the gaps between
 * the pacer's ticks over the measured window.
 */
import 'reflect-metadata';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { machineLine, printResult, runJob, writeReport } from './bench-io.js';

const RATE = Number(process.env['BENCH_RATE'] ?? 10_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 3);
const CLIENTS = (process.env['BENCH_CLIENTS'] ?? 'tributary,node-rdkafka').split(',');
const PARTITIONS = 6;
const TARGET_P99_MS = 2;
const SCRIPT = fileURLToPath(import.meta.url);

interface Job {
  client: string;
  bootstrapServers: string;
  topic: string;
  rate: number;
  seconds: number;
  warmupSeconds: number;
}

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

interface ClientResult {
  client: string;
  settings: string;
  sent: number;
  acknowledged: number;
  failed: number;
  measured: number;
  /** Records sent per second over the measured window. */
  achievedRate: number;
  /** From send() to the acknowledgement, ms. */
  latency: Percentiles;
  /** From the record's scheduled time to its acknowledgement, ms. */
  fromSchedule: Percentiles;
  /** Gaps between the pacer's 1 ms ticks over the measured window, ms: how late the timer ran. */
  tickGapMs: { p50: number; p99: number; max: number };
  /** Garbage collections over the measured window: how many, the longest pause and their sum, ms. */
  gc: { count: number; maxMs: number; totalMs: number };
  cpuUsPerRecord: number;
  maxRssMb: number;
  version: string;
  stored?: number;
}

const key = (i: number) => Buffer.from(`key-${String(i % 1000).padStart(12, '0')}`, 'latin1');
const VALUE = Buffer.from('tributary-latency-value:'.padEnd(100, '.'), 'latin1');

/** Percentiles of xs, ms (sorts xs in place). */
function percentiles(xs: Float64Array): Percentiles {
  xs.sort();
  const at = (q: number) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] as number;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i] as number;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: xs[xs.length - 1] as number,
    mean: sum / xs.length,
  };
}

/**
 * The record timing shared by both clients: `sendOne(i)` is called for
 * i = 0..total-1 at `rate` per second, from a 1 ms interval timer that sends
 * what is due each tick; `acked(i)` records the acknowledgement. `finish()`
 * computes the figures once every record has settled.
 */
class Pacer {
  readonly total: number;
  readonly warmup: number;
  readonly sentAt: Float64Array;
  readonly ackedAt: Float64Array;
  acknowledged = 0;
  failed = 0;
  firstError: unknown;
  #sent = 0;
  #t0 = 0;
  #settled: (() => void) | undefined;
  readonly #ticks: Float64Array;
  #tickCount = 0;
  #lastTick = 0;
  #cpu0: NodeJS.CpuUsage | undefined;
  #gc = { count: 0, maxMs: 0, totalMs: 0 };
  #measuring = false;
  readonly #gcObserver = new PerformanceObserver((list) => {
    if (!this.#measuring) return;
    for (const e of list.getEntries()) {
      this.#gc.count++;
      this.#gc.totalMs += e.duration;
      if (e.duration > this.#gc.maxMs) this.#gc.maxMs = e.duration;
    }
  });

  constructor(
    readonly rate: number,
    seconds: number,
    warmupSeconds: number,
  ) {
    this.warmup = Math.round(rate * warmupSeconds);
    this.total = this.warmup + Math.round(rate * seconds);
    this.sentAt = new Float64Array(this.total);
    this.ackedAt = new Float64Array(this.total).fill(Number.NaN);
    this.#ticks = new Float64Array(Math.ceil(seconds * 1000) + 1000);
  }

  /** Sends every record at the steady rate; resolves when all have settled. */
  run(sendOne: (i: number) => void): Promise<void> {
    const done = new Promise<void>((r) => (this.#settled = r));
    this.#gcObserver.observe({ entryTypes: ['gc'] });
    this.#t0 = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      if (this.#sent > this.warmup && this.#tickCount < this.#ticks.length) {
        this.#ticks[this.#tickCount++] = now - this.#lastTick;
      }
      this.#lastTick = now;
      const due = Math.min(this.total, Math.floor(((now - this.#t0) * this.rate) / 1000));
      while (this.#sent < due) {
        const i = this.#sent++;
        if (i === this.warmup) {
          this.#cpu0 = process.cpuUsage();
          this.#measuring = true;
        }
        this.sentAt[i] = performance.now();
        sendOne(i);
      }
      if (this.#sent === this.total) clearInterval(timer);
    }, 1);
    return done;
  }

  acked(i: number): void {
    this.ackedAt[i] = performance.now();
    this.acknowledged++;
    this.#check();
  }

  failedOne(err: unknown): void {
    this.failed++;
    this.firstError ??= err;
    this.#check();
  }

  #check(): void {
    if (this.acknowledged + this.failed === this.total) {
      this.#measuring = false;
      this.#gcObserver.disconnect();
      this.#settled?.();
    }
  }

  finish(client: string, settings: string, version: string): ClientResult {
    const cpu = process.cpuUsage(this.#cpu0);
    const n = this.total - this.warmup;
    const fromSend = new Float64Array(n);
    const fromSchedule = new Float64Array(n);
    let m = 0;
    for (let i = this.warmup; i < this.total; i++) {
      const acked = this.ackedAt[i] as number;
      if (Number.isNaN(acked)) continue; // failed
      fromSend[m] = acked - (this.sentAt[i] as number);
      fromSchedule[m] = acked - (this.#t0 + (i * 1000) / this.rate);
      m++;
    }
    const span = ((this.sentAt[this.total - 1] as number) - (this.sentAt[this.warmup] as number)) / 1000;
    const ticks = percentiles(this.#ticks.subarray(0, this.#tickCount));
    return {
      client,
      settings,
      sent: this.#sent,
      acknowledged: this.acknowledged,
      failed: this.failed,
      measured: m,
      achievedRate: (n - 1) / span,
      latency: percentiles(fromSend.subarray(0, m)),
      fromSchedule: percentiles(fromSchedule.subarray(0, m)),
      tickGapMs: { p50: ticks.p50, p99: ticks.p99, max: ticks.max },
      gc: this.#gc,
      cpuUsPerRecord: (cpu.user + cpu.system) / n,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      version,
    };
  }
}

const TRIBUTARY_SETTINGS =
  'lingerMs 0; defaults otherwise (acks all, idempotence on, batchSize 16384, 5 in flight per connection, no compression); send() per record';
const RDKAFKA_SETTINGS =
  'queue.buffering.max.ms 0, socket.nagle.disable true, request.required.acks -1, dr_cb with the record index as opaque, polled every 1 ms (setPollInterval(1)); librdkafka defaults otherwise (no idempotence)';

async function runTributary(job: Job): Promise<ClientResult> {
  const { createProducer } = await import('@tributary/core');
  const producer = await createProducer<Buffer, Buffer>({
    bootstrapServers: job.bootstrapServers,
    lingerMs: 0,
  });
  await producer.partitionsFor(job.topic);
  const keys = Array.from({ length: 1000 }, (_, i) => key(i));
  const pacer = new Pacer(job.rate, job.seconds, job.warmupSeconds);
  const onError = (err: unknown) => pacer.failedOne(err);
  await pacer.run((i) => {
    producer
      .send({ topic: job.topic, key: keys[i % 1000] as Buffer, value: VALUE })
      .then(() => pacer.acked(i), onError);
  });
  const result = pacer.finish('tributary', TRIBUTARY_SETTINGS, 'workspace');
  await producer.close();
  if (pacer.firstError !== undefined) throw pacer.firstError;
  return result;
}

async function runNodeRdkafka(job: Job): Promise<ClientResult> {
  const Kafka = (await import('node-rdkafka')).default;
  const producer = new Kafka.Producer(
    {
      'metadata.broker.list': job.bootstrapServers,
      'client.id': 'bench-latency-node-rdkafka',
      dr_cb: true,
      'queue.buffering.max.ms': 0,
      'socket.nagle.disable': true,
    },
    { 'request.required.acks': -1 },
  );
  await new Promise<void>((ok, fail) =>
    producer.connect({ topic: job.topic, timeout: 10_000 }, (err) => (err ? fail(err) : ok())),
  );
  const keys = Array.from({ length: 1000 }, (_, i) => key(i));
  const pacer = new Pacer(job.rate, job.seconds, job.warmupSeconds);
  producer.on('delivery-report', (err, report) => {
    if (err) pacer.failedOne(err);
    else pacer.acked(report.opaque as number);
  });
  producer.setPollInterval(1);
  await pacer.run((i) => {
    producer.produce(job.topic, null, VALUE, keys[i % 1000] as Buffer, null, i);
  });
  const result = pacer.finish(
    'node-rdkafka',
    RDKAFKA_SETTINGS,
    `node-rdkafka 3.6.1, librdkafka ${Kafka.librdkafkaVersion}`,
  );
  producer.setPollInterval(0);
  await new Promise<void>((ok) => producer.disconnect(5_000, () => ok()));
  if (pacer.firstError !== undefined) throw pacer.firstError;
  return result;
}

/** In a child process: one client's run, printed as one RESULT line. */
async function child(job: Job): Promise<void> {
  const result = job.client === 'tributary' ? await runTributary(job) : await runNodeRdkafka(job);
  // node-rdkafka may keep native handles alive: exit once the line is out.
  printResult(result);
}

const ms = (x: number) => x.toFixed(2);

function markdown(results: ClientResult[], context: string): string {
  const lines = [
    `# Ack latency at a steady rate, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `${RATE.toLocaleString('en-US')} records/s for ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up (not counted); 16-byte keys, 100-byte values; one testkit cluster of 3 brokers, a fresh 6-partition topic per client, each client in its own process. Latency: from just before send()/produce() to the acknowledgement as user code sees it, ms. Every record verified stored (sum of end offsets, kcat).`,
    '',
    '| client | achieved records/s | p50 | p90 | p99 | p99.9 | max | mean | CPU µs/record | peak RSS MB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const l = r.latency;
    lines.push(
      `| ${r.client} | ${Math.round(r.achievedRate).toLocaleString('en-US')} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} | ${ms(l.mean)} | ${r.cpuUsPerRecord.toFixed(1)} | ${Math.round(r.maxRssMb)} |`,
    );
  }
  lines.push(
    '',
    'From each record’s scheduled time (adds the pacer’s lateness); the gaps between the pacer’s 1 ms ticks (how long the event loop was away); garbage collections in the measured window:',
    '',
  );
  lines.push(
    '| client | p50 | p99 | p99.9 | max | tick gap p50 / p99 / max | GCs: count, longest, total ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of results) {
    const s = r.fromSchedule;
    const e = r.tickGapMs;
    lines.push(
      `| ${r.client} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.p999)} | ${ms(s.max)} | ${ms(e.p50)} / ${ms(e.p99)} / ${ms(e.max)} | ${r.gc.count}, ${ms(r.gc.maxMs)}, ${ms(r.gc.totalMs)} |`,
    );
  }
  const trib = results.find((r) => r.client === 'tributary');
  const rd = results.find((r) => r.client === 'node-rdkafka');
  lines.push('');
  if (trib && rd) {
    lines.push(
      `Tributary ÷ node-rdkafka: p50 ${(trib.latency.p50 / rd.latency.p50).toFixed(2)}×, p99 ${(trib.latency.p99 / rd.latency.p99).toFixed(2)}×, p99.9 ${(trib.latency.p999 / rd.latency.p999).toFixed(2)}× (below 1: Tributary is faster).`,
      '',
    );
  }
  if (trib) {
    lines.push(
      `Target (p99 < ${TARGET_P99_MS} ms on loopback): **${trib.latency.p99 < TARGET_P99_MS ? 'met' : 'not met'}** (p99 ${ms(trib.latency.p99)} ms).`,
      '',
    );
  }
  lines.push('Settings:', '');
  for (const r of results) lines.push(`- ${r.client} (${r.version}): ${r.settings}.`);
  lines.push('', context);
  return `${lines.join('\n')}\n`;
}

async function coordinator(): Promise<void> {
  const { endOffsets, startCluster } = await import('@tributary/testkit');
  const context = machineLine();
  const cluster = await startCluster({
    brokers: 3,
    topics: CLIENTS.map((c) => ({ name: `latency-${c}`, partitions: PARTITIONS })),
  });
  const results: ClientResult[] = [];
  let verifyFailed = false;
  try {
    for (const client of CLIENTS) {
      if (client !== 'tributary' && client !== 'node-rdkafka') throw new Error(`unknown client ${client}`);
      const topic = `latency-${client}`;
      console.log(`${client}: ${RATE} records/s for ${WARMUP_SECONDS} + ${SECONDS} s ...`);
      const r = await runJob<ClientResult>(
        SCRIPT,
        {
          client,
          bootstrapServers: cluster.bootstrapServers,
          topic,
          rate: RATE,
          seconds: SECONDS,
          warmupSeconds: WARMUP_SECONDS,
        },
        client,
      );
      const ends = await endOffsets(cluster.bootstrapServers, topic, PARTITIONS);
      r.stored = ends.reduce((a, b) => a + b, 0);
      if (r.stored !== r.sent || r.acknowledged !== r.sent) {
        verifyFailed = true;
        console.error(
          `${client}: sent ${r.sent}, acknowledged ${r.acknowledged}, stored ${r.stored}: VERIFICATION FAILED`,
        );
      }
      results.push(r);
    }
  } finally {
    await cluster.stop();
  }
  const md = markdown(
    results,
    `${context} Mock cluster: librdkafka ${cluster.librdkafkaVersion}. The machine is shared with other work and the mock brokers run on the same cores: single run, noisy; read it as orientation.`,
  );
  console.log(`\n${md}`);
  writeReport('latency', md, {
    rate: RATE,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    context,
    results,
  });
  if (verifyFailed) process.exitCode = 1;
}

const arg = process.argv[2];
if (arg === undefined) await coordinator();
else await child(JSON.parse(arg) as Job);
