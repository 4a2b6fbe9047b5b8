/**
 * Memory while producing 10,000,000 records (issue 9's memory target: RSS
 * under 150 MB and the heap flat, no growth after warm-up).
 *
 * One testkit cluster (3 brokers); each variant runs in its own process (peak
 * RSS is a per-process high-water mark) against a fresh 6-partition topic,
 * with the compare workload: 16-byte keys cycling through 1,000 values and
 * one 100-byte value, default producer config but `lingerMs: 5`. Variants:
 * - `send`: `send()` per record, at most 100,000 promises outstanding,
 *   resuming at 50,000 (as the side-by-side benchmark's Tributary client);
 * - `send-10k`: the same with at most 10,000 outstanding (what the window
 *   itself costs);
 * - `sendBatch`: `sendBatch()` of 1,000 records per call (a fresh array each
 *   call, as user code would build it), at most 100,000 records outstanding.
 *
 * `process.memoryUsage()` is sampled every 250 ms. Reported: peak RSS (the
 * process's ru_maxrss), the heapUsed trend after warm-up (least-squares slope
 * of the heapUsed samples taken after the first 20% of the records were
 * acknowledged, MB per million records: a sawtooth, so a rough figure) and,
 * with `--expose-gc` (the npm script passes it), the retained heap: at every
 * 10% of the records, the next time the window is full (so the same number of
 * records is outstanding at each checkpoint), a full GC and heapUsed; its
 * slope from the 20% checkpoint on is the clean measure of growth. The nine
 * full GCs cost well under a second of a run. Also the heap after a full GC
 * at the end (every record settled, producer open) and after close().
 *
 * "Flat" means the retained heap's slope (without --expose-gc: the sampled
 * slope) stays under FLAT_SLOPE MB per million records.
 *
 * After each variant the harness sums the topic's end offsets (kcat): every
 * record must be stored, or the script exits 1. A missed target is reported,
 * not an error.
 *
 *   npx tsc -b benchmarks && npm run bench:memory -w benchmarks
 *   BENCH_RECORDS=2000000 BENCH_VARIANTS=send BENCH_OUT=results/x npm run bench:memory
 */
import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { machineLine, printResult, runJob, writeReport } from './bench-io.js';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 10_000_000);
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'send,send-10k,sendBatch').split(',');
const PARTITIONS = 6;
const SAMPLE_MS = 250;
const WARM_FRACTION = 0.2;
const TARGET_RSS_MB = 150;
/** MB of heap growth per million records still counted as flat (4 MB over the 8 M after warm-up). */
const FLAT_SLOPE = 0.5;
const CHUNK = 1_000;
const SCRIPT = fileURLToPath(import.meta.url);
const MB = 1024 * 1024;

interface Job {
  variant: string;
  bootstrapServers: string;
  topic: string;
  records: number;
}

interface Sample {
  /** ms since the first record. */
  t: number;
  acknowledged: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

interface VariantResult {
  variant: string;
  records: number;
  acknowledged: number;
  failed: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
  /** RSS once the producer is connected, before the first record. */
  rssAtStartMb: number;
  maxSampledHeapUsedMb: number;
  maxSampledHeapTotalMb: number;
  /** Buffers outside the JS heap (the buffer pool, requests being written). */
  maxSampledArrayBuffersMb: number;
  /** Least-squares slope of heapUsed over acknowledged records, after warm-up. */
  heapSlopeMbPerMillion: number;
  samplesInSlope: number;
  /** With --expose-gc: heapUsed after a full GC at each 10% checkpoint, window full. */
  checkpoints?: Array<{ sent: number; heapMb: number }>;
  /** Slope of the checkpoints from 20% on, MB per million records. */
  retainedSlopeMbPerMillion?: number;
  /** With --expose-gc: heap after a full GC once every record settled, and after close(). */
  heapAtEndMb?: number;
  heapAfterCloseMb?: number;
  samples: Sample[];
  stored?: number;
}

const key = (i: number) => Buffer.from(`key-${String(i % 1000).padStart(12, '0')}`, 'latin1');
const VALUE = Buffer.from('tributary-memory-value:'.padEnd(100, '.'), 'latin1');
const gc = (globalThis as { gc?: () => void }).gc;

function fullGcHeapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / MB;
}

/** Slope of y over x by least squares. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    num += dx * ((ys[i] as number) - my);
    den += dx * dx;
  }
  return num / den;
}

/** In a child process: one variant's run. */
async function child(job: Job): Promise<VariantResult> {
  const { createProducer } = await import('@tributary/core');
  const producer = await createProducer<Buffer, Buffer>({
    bootstrapServers: job.bootstrapServers,
    lingerMs: 5,
  });
  await producer.partitionsFor(job.topic);
  const keys = Array.from({ length: 1000 }, (_, i) => key(i));
  const { records, topic } = job;
  const window = job.variant === 'send-10k' ? 10_000 : 100_000;
  const rssAtStartMb = process.memoryUsage().rss / MB;

  let acknowledged = 0;
  let failed = 0;
  let firstError: unknown;
  let outstanding = 0;
  let resume: (() => void) | undefined;
  let drained: (() => void) | undefined;
  const settled = (n: number) => {
    outstanding -= n;
    if (outstanding === 0 && drained !== undefined) drained();
    if (resume !== undefined && outstanding <= window / 2) {
      const r = resume;
      resume = undefined;
      r();
    }
  };
  const onAck = () => {
    acknowledged++;
    settled(1);
  };
  const onError = (err: unknown) => {
    failed++;
    firstError ??= err;
    settled(1);
  };

  const samples: Sample[] = [];
  const checkpoints: Array<{ sent: number; heapMb: number }> = [];
  let nextCheckpoint = gc === undefined ? Number.POSITIVE_INFINITY : records / 10;
  /** Called where the loop waits for a full window: a checkpoint if one is due. */
  const checkpoint = (sent: number) => {
    if (sent < nextCheckpoint) return;
    checkpoints.push({ sent, heapMb: fullGcHeapMb() });
    nextCheckpoint += records / 10;
  };
  const t0 = performance.now();
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({
      t: performance.now() - t0,
      acknowledged,
      rssMb: m.rss / MB,
      heapUsedMb: m.heapUsed / MB,
      heapTotalMb: m.heapTotal / MB,
      externalMb: m.external / MB,
      arrayBuffersMb: m.arrayBuffers / MB,
    });
  };
  const sampler = setInterval(sample, SAMPLE_MS);

  if (job.variant === 'sendBatch') {
    for (let start = 0; start < records; start += CHUNK) {
      if (outstanding >= window) {
        checkpoint(start);
        await new Promise<void>((r) => (resume = r));
      }
      const n = Math.min(CHUNK, records - start);
      const chunk = new Array<{ topic: string; key: Buffer; value: Buffer }>(n);
      for (let j = 0; j < n; j++) chunk[j] = { topic, key: keys[(start + j) % 1000] as Buffer, value: VALUE };
      outstanding += n;
      producer.sendBatch(chunk).then(
        (r) => {
          acknowledged += r.records;
          settled(n);
        },
        (err: unknown) => {
          failed += n;
          firstError ??= err;
          settled(n);
        },
      );
    }
  } else {
    for (let i = 0; i < records; i++) {
      if (outstanding >= window) {
        checkpoint(i);
        await new Promise<void>((r) => (resume = r));
      }
      outstanding++;
      producer.send({ topic, key: keys[i % 1000] as Buffer, value: VALUE }).then(onAck, onError);
    }
  }
  await producer.flush();
  if (outstanding > 0) await new Promise<void>((r) => (drained = r));
  const seconds = (performance.now() - t0) / 1000;
  sample();
  clearInterval(sampler);
  const heapAtEndMb = fullGcHeapMb();
  await producer.close();
  const heapAfterCloseMb = fullGcHeapMb();
  if (firstError !== undefined) throw firstError;

  const warm = samples.filter((s) => s.acknowledged >= records * WARM_FRACTION);
  return {
    variant: job.variant,
    records,
    acknowledged,
    failed,
    seconds,
    recordsPerSecond: records / seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssAtStartMb,
    maxSampledHeapUsedMb: Math.max(...samples.map((s) => s.heapUsedMb)),
    maxSampledHeapTotalMb: Math.max(...samples.map((s) => s.heapTotalMb)),
    maxSampledArrayBuffersMb: Math.max(...samples.map((s) => s.arrayBuffersMb)),
    heapSlopeMbPerMillion: slope(
      warm.map((s) => s.acknowledged / 1e6),
      warm.map((s) => s.heapUsedMb),
    ),
    samplesInSlope: warm.length,
    ...(gc !== undefined
      ? {
          checkpoints,
          retainedSlopeMbPerMillion: slope(
            checkpoints.filter((c) => c.sent >= records * WARM_FRACTION).map((c) => c.sent / 1e6),
            checkpoints.filter((c) => c.sent >= records * WARM_FRACTION).map((c) => c.heapMb),
          ),
          heapAtEndMb,
          heapAfterCloseMb,
        }
      : {}),
    samples,
  };
}

interface Verdict {
  rss: boolean;
  flat: boolean;
}

function verdict(r: VariantResult): Verdict {
  const growth = r.retainedSlopeMbPerMillion ?? r.heapSlopeMbPerMillion;
  // Too few points to tell is not "flat".
  return { rss: r.peakRssMb < TARGET_RSS_MB, flat: known(growth) && growth < FLAT_SLOPE };
}

// A slope over fewer than two points is NaN, which JSON carries from the child as null.
const known = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
const f1 = (x: number | null | undefined) => (known(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number | null | undefined) => (known(x) ? x.toFixed(2) : 'n/a');
const metOrNot = (b: boolean) => (b ? 'met' : 'not met');

function markdown(results: VariantResult[], context: string): string {
  const lines = [
    `# Memory over ${RECORDS.toLocaleString('en-US')} records, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `16-byte keys (1,000 distinct), 100-byte values, \`lingerMs: 5\`, defaults otherwise (acks all, idempotence on, batchSize 16384, bufferMemory 32 MiB); one testkit cluster of 3 brokers, a fresh 6-partition topic per variant, each variant in its own process (${gc === undefined ? 'without' : 'with'} --expose-gc). memoryUsage() sampled every ${SAMPLE_MS} ms. Every record verified stored (sum of end offsets, kcat).`,
    '',
    '| variant | records/s | peak RSS MB | RSS before the first record MB | max heapUsed / heapTotal / arrayBuffers MB (sampled) | sampled heapUsed slope after 20%, MB/M records | retained heap slope after 20%, MB/M records | retained heap at checkpoints, MB | heap after GC at end / after close, MB | RSS < 150 MB | heap flat |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const v = verdict(r);
    const cps = r.checkpoints?.map((c) => f1(c.heapMb)).join(', ') ?? 'n/a';
    lines.push(
      `| ${r.variant} | ${Math.round(r.recordsPerSecond).toLocaleString('en-US')} | ${f1(r.peakRssMb)} | ${f1(r.rssAtStartMb)} | ${f1(r.maxSampledHeapUsedMb)} / ${f1(r.maxSampledHeapTotalMb)} / ${f1(r.maxSampledArrayBuffersMb)} | ${f2(r.heapSlopeMbPerMillion)} (${r.samplesInSlope} samples) | ${f2(r.retainedSlopeMbPerMillion)} | ${cps} | ${f1(r.heapAtEndMb)} / ${f1(r.heapAfterCloseMb)} | ${metOrNot(v.rss)} | ${metOrNot(v.flat)} |`,
    );
  }
  lines.push(
    '',
    `Variants: \`send\`: send() per record, at most 100,000 promises outstanding (resuming at 50,000); \`send-10k\`: the same with at most 10,000; \`sendBatch\`: sendBatch() of ${CHUNK.toLocaleString('en-US')} records per call, at most 100,000 records outstanding.`,
    '',
    `Retained heap: heapUsed after a full GC at every 10% of the records, taken when the window is full (the same number of records outstanding each time); its slope uses the checkpoints from 20% on. Targets: peak RSS under ${TARGET_RSS_MB} MB; heap flat, judged as a retained-heap slope (without --expose-gc, the sampled slope) under ${FLAT_SLOPE} MB per million records.`,
    '',
    context,
  );
  return `${lines.join('\n')}\n`;
}

async function coordinator(): Promise<void> {
  const { endOffsets, startCluster } = await import('@tributary/testkit');
  let context = machineLine();
  if (gc === undefined)
    console.warn('run with --expose-gc (npm run bench:memory does) for the post-GC heap figures');
  const cluster = await startCluster({
    brokers: 3,
    topics: VARIANTS.map((v) => ({ name: `memory-${v}`, partitions: PARTITIONS })),
  });
  const results: VariantResult[] = [];
  let verifyFailed = false;
  try {
    for (const variant of VARIANTS) {
      if (!['send', 'send-10k', 'sendBatch'].includes(variant)) throw new Error(`unknown variant ${variant}`);
      const topic = `memory-${variant}`;
      console.log(`${variant}: ${RECORDS.toLocaleString('en-US')} records ...`);
      const r = await runJob<VariantResult>(
        SCRIPT,
        {
          variant,
          bootstrapServers: cluster.bootstrapServers,
          topic,
          records: RECORDS,
        },
        variant,
      );
      const ends = await endOffsets(cluster.bootstrapServers, topic, PARTITIONS);
      r.stored = ends.reduce((a, b) => a + b, 0);
      if (r.stored !== RECORDS || r.acknowledged !== RECORDS) {
        verifyFailed = true;
        console.error(
          `${variant}: acknowledged ${r.acknowledged}, stored ${r.stored} of ${RECORDS}: VERIFICATION FAILED`,
        );
      }
      results.push(r);
    }
  } finally {
    await cluster.stop();
  }
  context += ` Mock cluster: librdkafka ${cluster.librdkafkaVersion}. The machine is shared with other work and the mock brokers run on the same cores: a single run, noisy; read it as orientation.`;
  const md = markdown(results, context);
  console.log(`\n${md}`);
  writeReport('memory', md, {
    records: RECORDS,
    context,
    targets: { rssMb: TARGET_RSS_MB, flatSlopeMbPerMillion: FLAT_SLOPE },
    results,
  });
  if (verifyFailed) process.exitCode = 1;
}

const arg = process.argv[2];
if (arg === undefined) {
  await coordinator();
} else {
  printResult(await child(JSON.parse(arg) as Job));
}
