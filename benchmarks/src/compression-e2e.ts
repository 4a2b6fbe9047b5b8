/**
 * Compression end to end (issue 9's compression target: each codec's
 * throughput and ratio on a realistic JSON payload; lz4 and zstd at >= 50% of
 * the uncompressed throughput).
 *
 * One testkit cluster (3 brokers), one producer per codec (`compressionType`,
 * `lingerMs: 5`, defaults otherwise: acks all, idempotence on, 16 KiB
 * batches), each with its own 6-partition topic and warm metadata, in this
 * process. Records: order-like JSON events of about 300-600 bytes (repeated
 * field names, varied values, a seeded PRNG, so every run sends the same
 * bytes), 10,000 distinct events cycled, 16-byte keys; 300,000 records per
 * codec per round with `send()` and at most 100,000 promises outstanding,
 * interleaved over 3 rounds (the codec order rotating each round), after a
 * warm-up run of 30,000 records per codec that is not counted.
 *
 * Per codec: records/s, MB/s of uncompressed key + value bytes, client CPU µs
 * per record (the whole process: compression runs on this thread), the
 * producer's `compression-rate-avg` (compressed / uncompressed batch bytes,
 * docs/metrics.md), cross-checked by bytes on the wire (`batchesDrained$`:
 * bytes per record, against the uncompressed run's), and throughput as a
 * fraction of the uncompressed run of the same round. Medians with min-max.
 * Afterwards every topic's end offsets (kcat) must sum to what was sent, or
 * the script exits 1. A missed target is reported, not an error.
 *
 *   npx tsc -b benchmarks && npm run bench:compression -w benchmarks
 *   BENCH_RECORDS=100000 BENCH_ROUNDS=1 BENCH_OUT=results/x npm run bench:compression
 */
import 'reflect-metadata';
import {
  type CompressionName,
  CompressionType,
  compressionCodec,
  createProducer,
  type KafkaProducer,
} from '@tributary/core';
import { endOffsets, mulberry32, startCluster } from '@tributary/testkit';
import { machineLine, writeReport } from './bench-io.js';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 300_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const PARTITIONS = 6;
const WINDOW = 100_000;
const DISTINCT = 10_000;
const TARGET_FRACTION = 0.5;
const WARMUP = Math.min(30_000, RECORDS);

/** `DISTINCT` order events as JSON, from a seeded PRNG: the same bytes every run. */
function orderEvents(seed = 20261122): Buffer[] {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const statuses = ['created', 'paid', 'packed', 'shipped', 'delivered', 'cancelled'] as const;
  const channels = ['web', 'ios', 'android', 'marketplace', 'store'] as const;
  const cities = [
    ['Lyon', 'FR', '69002'],
    ['Berlin', 'DE', '10115'],
    ['Porto', 'PT', '4000-123'],
    ['Leeds', 'GB', 'LS1 4AP'],
    ['Utrecht', 'NL', '3511 AB'],
    ['Bologna', 'IT', '40121'],
  ] as const;
  const products = ['Trail shoe', 'Rain jacket', 'Wool socks', 'Head torch', 'Water bottle', 'Day pack'];
  const streets = ['Rue de la République', 'Hauptstraße', 'Rua das Flores', 'Park Row', 'Oudegracht'];
  const out: Buffer[] = [];
  for (let i = 0; i < DISTINCT; i++) {
    const items = Array.from({ length: 1 + int(3) }, () => {
      const p = int(products.length);
      return {
        sku: `SKU-${String(p * 1000 + int(1000)).padStart(6, '0')}`,
        name: products[p],
        quantity: 1 + int(4),
        unitPrice: Math.round((5 + rnd() * 195) * 100) / 100,
      };
    });
    const [city, country, zip] = pick(cities);
    const event = {
      type: 'order.updated',
      orderId: `ord-${(0x10000000 + int(0xefffffff)).toString(16)}-${i}`,
      customerId: `cus-${int(500_000)}`,
      status: pick(statuses),
      channel: pick(channels),
      createdAt: new Date(1_790_000_000_000 + i * 1_731 + int(1_000)).toISOString(),
      currency: country === 'GB' ? 'GBP' : 'EUR',
      items,
      total: Math.round(items.reduce((s, it) => s + it.quantity * it.unitPrice, 0) * 100) / 100,
      shipping: { street: `${1 + int(200)} ${pick(streets)}`, city, zip, country },
      payment: {
        method: pick(['card', 'paypal', 'sepa', 'klarna']),
        last4: String(int(10_000)).padStart(4, '0'),
      },
    };
    out.push(Buffer.from(JSON.stringify(event)));
  }
  return out;
}

interface Run {
  rps: number;
  mbps: number;
  cpuUs: number;
  /** compression-rate-avg right after the run. */
  rate: number;
  /** Bytes on the wire per record (batchesDrained$). */
  wirePerRecord: number;
  recordsPerBatch: number;
}

const values = orderEvents();
const keys = Array.from({ length: 1000 }, (_, i) =>
  Buffer.from(`cus-${String(i).padStart(12, '0')}`, 'latin1'),
);
let payloadBytes = 0;
for (let i = 0; i < RECORDS; i++) payloadBytes += 16 + (values[i % DISTINCT] as Buffer).length;
const sizes = values.map((v) => v.length).sort((a, b) => a - b);

let context = machineLine();
const cluster = await startCluster({
  brokers: 3,
  topics: CODECS.map((c) => ({ name: `compression-${c}`, partitions: PARTITIONS })),
});
const producers = new Map<CompressionName, KafkaProducer<Buffer, Buffer>>();
const wire = new Map<CompressionName, { bytes: number; records: number; batches: number }>();
const results = new Map<CompressionName, Run[]>();
let verifyFailed = false;
try {
  for (const codec of CODECS) {
    const p = await createProducer<Buffer, Buffer>({
      bootstrapServers: cluster.bootstrapServers,
      lingerMs: 5,
      compressionType: codec,
    });
    await p.partitionsFor(`compression-${codec}`);
    const counter = { bytes: 0, records: 0, batches: 0 };
    // One event per batch, not per record: a negligible cost next to the batch's compression.
    p.batchesDrained$.subscribe((b) => {
      counter.bytes += b.bytes;
      counter.records += b.recordCount;
      counter.batches++;
    });
    producers.set(codec, p);
    wire.set(codec, counter);
    results.set(codec, []);
  }

  const run = async (codec: CompressionName, records = RECORDS): Promise<Run> => {
    const p = producers.get(codec) as KafkaProducer<Buffer, Buffer>;
    const topic = `compression-${codec}`;
    const counter = wire.get(codec) as { bytes: number; records: number; batches: number };
    counter.bytes = 0;
    counter.records = 0;
    counter.batches = 0;
    let outstanding = 0;
    let failed: unknown;
    let resume: (() => void) | undefined;
    let drained: (() => void) | undefined;
    const settled = () => {
      outstanding--;
      if (outstanding === 0 && drained !== undefined) drained();
      if (resume !== undefined && outstanding <= WINDOW / 2) {
        const r = resume;
        resume = undefined;
        r();
      }
    };
    const onError = (err: unknown) => {
      failed ??= err;
      settled();
    };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < records; i++) {
      if (outstanding >= WINDOW) await new Promise<void>((r) => (resume = r));
      outstanding++;
      p.send({ topic, key: keys[i % 1000] as Buffer, value: values[i % DISTINCT] as Buffer }).then(
        settled,
        onError,
      );
    }
    await p.flush();
    if (outstanding > 0) await new Promise<void>((r) => (drained = r));
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (failed !== undefined) throw failed;
    return {
      rps: (records / ms) * 1000,
      mbps: ((payloadBytes / RECORDS) * records) / ms / 1000,
      cpuUs: (c.user + c.system) / records,
      rate: p.metrics()['compression-rate-avg'],
      wirePerRecord: counter.bytes / counter.records,
      recordsPerBatch: counter.records / counter.batches,
    };
  };

  // A warm-up per codec (JIT, connections, codec libraries), not counted.
  for (const codec of CODECS) await run(codec, WARMUP);

  for (let round = 0; round < ROUNDS; round++) {
    const order = CODECS.map((_, i) => CODECS[(i + round) % CODECS.length] as CompressionName);
    for (const codec of order) {
      const r = await run(codec);
      (results.get(codec) as Run[]).push(r);
      console.log(
        `round ${round + 1} ${codec.padEnd(6)} ${Math.round(r.rps).toLocaleString('en-US').padStart(9)} records/s  ${r.cpuUs.toFixed(2)} µs/record  rate ${r.rate.toFixed(3)}`,
      );
    }
  }
  for (const p of producers.values()) await p.close();
  producers.clear();
  for (const codec of CODECS) {
    const ends = await endOffsets(cluster.bootstrapServers, `compression-${codec}`, PARTITIONS);
    const stored = ends.reduce((a, b) => a + b, 0);
    if (stored !== RECORDS * ROUNDS + WARMUP) {
      verifyFailed = true;
      console.error(`${codec}: stored ${stored} of ${RECORDS * ROUNDS + WARMUP}: VERIFICATION FAILED`);
    }
  }
} finally {
  for (const p of producers.values()) await p.close().catch(() => undefined);
  await cluster.stop();
}
context += ` Mock cluster: librdkafka ${cluster.librdkafkaVersion}. The machine is shared with other work and the mock brokers run on the same cores: a single invocation, noisy; read the ratios.`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const range = (xs: number[], f: (x: number) => string) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const none = results.get('none') as Run[];
const summary = CODECS.map((codec) => {
  const rs = results.get(codec) as Run[];
  // Fraction of the uncompressed throughput in the same round.
  const fractions = rs.map((r, i) => r.rps / (none[i] as Run).rps);
  return {
    codec,
    implementation: compressionCodec(CompressionType[codec]).implementation,
    runs: rs,
    rps: median(rs.map((r) => r.rps)),
    fraction: median(fractions),
    fractions,
    rate: median(rs.map((r) => r.rate)),
    wireRatio: median(rs.map((r, i) => r.wirePerRecord / (none[i] as Run).wirePerRecord)),
    recordsPerBatch: median(rs.map((r) => r.recordsPerBatch)),
  };
});
const lines = [
  `# Compression end to end, ${new Date().toISOString().slice(0, 10)}`,
  '',
  `${RECORDS.toLocaleString('en-US')} records per codec per round, ${ROUNDS} rounds interleaved (codec order rotating) after an uncounted warm-up of ${WARMUP.toLocaleString('en-US')} per codec; order-like JSON events of ${sizes[0]}–${sizes[sizes.length - 1]} bytes (median ${sizes[sizes.length >> 1]}; ${DISTINCT.toLocaleString('en-US')} distinct, seeded), 16-byte keys; one producer per codec (\`lingerMs: 5\`, defaults otherwise: acks all, idempotence on, batchSize 16384) on one testkit cluster of 3 brokers, a 6-partition topic each; send() per record, at most ${WINDOW.toLocaleString('en-US')} outstanding. Medians with (min–max). MB/s counts uncompressed key + value bytes. Every record verified stored (sum of end offsets, kcat).`,
  '',
  '| codec (implementation) | records/s | MB/s | client CPU µs/record | compression-rate-avg | wire bytes ÷ uncompressed run’s | records per batch | throughput ÷ none |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const s of summary) {
  lines.push(
    `| ${s.codec} (${s.implementation}) | ${range(
      s.runs.map((r) => r.rps),
      int,
    )} | ${range(
      s.runs.map((r) => r.mbps),
      (x) => x.toFixed(1),
    )} | ${range(
      s.runs.map((r) => r.cpuUs),
      (x) => x.toFixed(2),
    )} | ${s.rate.toFixed(3)} | ${s.wireRatio.toFixed(3)} | ${s.recordsPerBatch.toFixed(0)} | ${range(s.fractions, (x) => x.toFixed(2))} |`,
  );
}
lines.push('');
for (const codec of ['lz4', 'zstd'] as const) {
  const s = summary.find((x) => x.codec === codec);
  if (s === undefined) continue;
  lines.push(
    `- ${codec} at >= ${TARGET_FRACTION * 100}% of uncompressed throughput: **${s.fraction >= TARGET_FRACTION ? 'met' : 'not met'}** (${(s.fraction * 100).toFixed(0)}%).`,
  );
}
lines.push(
  '',
  'compression-rate-avg is the producer’s own metric (compressed ÷ uncompressed batch bytes, over its sample window); the wire column divides each run’s bytes per record on the wire (batchesDrained$, batch headers included) by the uncompressed run’s in the same round, an independent check of the same ratio.',
  '',
  context,
);
const md = `${lines.join('\n')}\n`;
console.log(`\n${md}`);
writeReport('compression', md, {
  records: RECORDS,
  rounds: ROUNDS,
  payload: {
    min: sizes[0],
    median: sizes[sizes.length >> 1],
    max: sizes[sizes.length - 1],
    distinct: DISTINCT,
  },
  context,
  summary,
});
if (verifyFailed) process.exitCode = 1;
