#!/usr/bin/env node
/**
 * The README's demo, until Tributary's producer lands (issue 5 replaces the
 * kcat producer below with ours): starts the embedded test cluster, produces
 * keyed records to a 6-partition topic, and reads them back with an
 * independent consumer to check that every record arrived.
 */
import { performance } from 'node:perf_hooks';
import { kcatProduce, readTopic, startCluster } from './index.js';

const RECORDS = Number(process.env['DEMO_RECORDS'] ?? 100_000);
const PARTITIONS = 6;
const TOPIC = 'demo';

async function main(): Promise<void> {
  const cluster = await startCluster({ brokers: 3, topics: [{ name: TOPIC, partitions: PARTITIONS }] });
  try {
    console.log(
      `test cluster up: librdkafka ${cluster.librdkafkaVersion} mock, brokers ${cluster.bootstrapServers}`,
    );
    const records = Array.from({ length: RECORDS }, (_, i) => ({
      key: `user-${i % 997}`,
      value: JSON.stringify({ seq: i, at: Date.now(), note: 'hello from tributary' }),
    }));
    const bytes = records.reduce((n, r) => n + r.key.length + r.value.length, 0);

    const t0 = performance.now();
    await kcatProduce(cluster.bootstrapServers, TOPIC, records);
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `produced ${RECORDS.toLocaleString()} records (${(bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(2)} s: ` +
        `${Math.round(RECORDS / seconds).toLocaleString()} records/s`,
    );

    const back = await readTopic(cluster.bootstrapServers, TOPIC, { headers: false });
    const perPartition = new Map<number, number>();
    for (const r of back) perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);
    console.log('read back with kcat, per partition:');
    for (let p = 0; p < PARTITIONS; p++) console.log(`  ${TOPIC}[${p}]  ${perPartition.get(p) ?? 0} records`);
    const sent = new Set(records.map((r) => r.value));
    const intact = back.filter((r) => r.value !== null && sent.has(r.value.toString('utf8'))).length;
    if (back.length !== RECORDS || intact !== RECORDS) {
      throw new Error(`expected ${RECORDS} intact records, read back ${back.length} (${intact} intact)`);
    }
    console.log(`all ${RECORDS.toLocaleString()} records accounted for.`);
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
