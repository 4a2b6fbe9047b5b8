/**
 * What idempotence and acks cost: the same workload with idempotence on
 * (the default, acks=all), off with acks=all, and off with acks=1,
 * interleaved over rounds on one testkit cluster. Records/s and client CPU
 * per record, medians. Not a test. Note: librdkafka's mock does not check
 * sequences for non-transactional producers, so the broker-side cost of
 * idempotence is not in these numbers; the client-side cost is.
 *
 *   npx tsc -b benchmarks && node benchmarks/dist/src/idempotence-cost.js
 */
import 'reflect-metadata';
import { createProducer, type KafkaProducer, type ProducerConfigInput } from '@tributary/core';
import { startCluster } from '@tributary/testkit';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 200_000);
const ROUNDS = 3;
const cluster = await startCluster({ brokers: 3, topics: [{ name: 'idem', partitions: 6 }] });
const modes: Record<string, Partial<ProducerConfigInput>> = {
  'idempotent, acks=all': {},
  'not idempotent, acks=all': { enableIdempotence: false },
  'not idempotent, acks=1': { enableIdempotence: false, acks: 1 },
};
const producers = new Map<string, KafkaProducer>();
for (const [name, cfg] of Object.entries(modes)) {
  const p = await createProducer({ bootstrapServers: cluster.bootstrapServers, lingerMs: 5, ...cfg });
  await p.send({ topic: 'idem', value: 'warm-up' });
  producers.set(name, p);
}
const key = Buffer.alloc(16, 0x6b);
const value = Buffer.alloc(100, 0x76);
const results = new Map<string, Array<{ rps: number; cpuUs: number }>>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, p] of producers) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const sends = new Array<Promise<unknown>>(RECORDS);
    for (let i = 0; i < RECORDS; i++) sends[i] = p.send({ topic: 'idem', key, value });
    await Promise.all(sends);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    results.set(name, [
      ...(results.get(name) ?? []),
      { rps: (RECORDS / ms) * 1000, cpuUs: (cpu.user + cpu.system) / RECORDS },
    ]);
  }
}
for (const p of producers.values()) await p.close();
await cluster.stop();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const [name, rs] of results) {
  console.log(
    `${name.padEnd(26)} ${Math.round(median(rs.map((r) => r.rps)))
      .toLocaleString()
      .padStart(10)} records/s   ${median(rs.map((r) => r.cpuUs)).toFixed(2)} µs CPU/record`,
  );
}
