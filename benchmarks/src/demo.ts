#!/usr/bin/env node
/**
 * The README's demo: starts the embedded test cluster (librdkafka's mock,
 * 3 brokers), produces 1,000,000 keyed records to a 12-partition topic with
 * Tributary's producer, shows progress and a summary, then has kcat (an
 * independent client) confirm that every record is in the topic.
 *
 *   npm run demo                 (DEMO_RECORDS=100000 npm run demo for a shorter run)
 */
import 'reflect-metadata';
import { createProducer } from '@tributary/core';
import { endOffsets, startCluster } from '@tributary/testkit';

const RECORDS = Number(process.env['DEMO_RECORDS'] ?? 1_000_000);
const PARTITIONS = 12;
const TOPIC = 'demo';
const tty = process.stdout.isTTY === true;

function progress(done: number, startedAt: number): void {
  const elapsed = (performance.now() - startedAt) / 1000;
  const rate = Math.round(done / Math.max(elapsed, 1e-3));
  const width = 30;
  const filled = Math.round((done / RECORDS) * width);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString()}/${RECORDS.toLocaleString()} acked, ${rate.toLocaleString()} records/s`;
  if (tty) process.stdout.write(`\r${line}`);
  else console.log(line);
}

async function main(): Promise<void> {
  const cluster = await startCluster({ brokers: 3, topics: [{ name: TOPIC, partitions: PARTITIONS }] });
  try {
    console.log(
      `test cluster up: librdkafka ${cluster.librdkafkaVersion} mock, brokers ${cluster.bootstrapServers}`,
    );
    const producer = await createProducer<string, Buffer>({
      bootstrapServers: cluster.bootstrapServers,
      lingerMs: 5,
    });
    const value = Buffer.from(JSON.stringify({ note: 'hello from tributary', padding: 'x'.repeat(40) }));
    const keys = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    let acked = 0;
    let bytes = 0;
    const lastOffset = new Array<number>(PARTITIONS).fill(-1);
    const startedAt = performance.now();
    const step = Math.max(1, Math.floor(RECORDS / (tty ? 200 : 4)));
    const onAck = (m: {
      partition: number;
      offset: number;
      serializedKeySize: number;
      serializedValueSize: number;
    }) => {
      acked++;
      bytes += m.serializedKeySize + m.serializedValueSize;
      if (m.offset > (lastOffset[m.partition] as number)) lastOffset[m.partition] = m.offset;
      if (acked % step === 0) progress(acked, startedAt);
    };
    // At most WINDOW sends outstanding, as a real program would bound them:
    // the buffer pool back-pressures anyway, but pending promises cost memory
    // and garbage-collection time (see benchmarks/README.md).
    const WINDOW = 8_000;
    let outstanding = 0;
    let failed: unknown;
    let resume: (() => void) | undefined;
    const settled = () => {
      outstanding--;
      if (resume && outstanding <= WINDOW / 2) {
        resume();
        resume = undefined;
      }
    };
    for (let i = 0; i < RECORDS; i++) {
      if (outstanding >= WINDOW) await new Promise<void>((r) => (resume = r));
      outstanding++;
      producer.send({ topic: TOPIC, key: keys[i % keys.length] as string, value }).then(
        (m) => {
          onAck(m);
          settled();
        },
        (err: unknown) => {
          failed ??= err;
          settled();
        },
      );
    }
    await producer.flush();
    if (failed) throw failed;
    const seconds = (performance.now() - startedAt) / 1000;
    progress(acked, startedAt);
    if (tty) process.stdout.write('\n');
    await producer.close();

    console.log(
      `\nproduced ${acked.toLocaleString()} records (${(bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(2)} s: ` +
        `${Math.round(acked / seconds).toLocaleString()} records/s, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s`,
    );
    console.log('per partition (last offset acknowledged):');
    for (let p = 0; p < PARTITIONS; p++) console.log(`  ${TOPIC}[${p}]  ${lastOffset[p]}`);

    const ends = await endOffsets(cluster.bootstrapServers, TOPIC, PARTITIONS);
    const total = ends.reduce((a, b) => a + b, 0);
    console.log(`kcat reports ${total.toLocaleString()} records in ${TOPIC}`);
    if (total !== RECORDS || ends.some((e, p) => e !== (lastOffset[p] as number) + 1)) {
      throw new Error(
        `expected ${RECORDS} records ending at the acknowledged offsets, kcat found ${total} (${ends.join(', ')})`,
      );
    }
    console.log('every record accounted for.');
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
