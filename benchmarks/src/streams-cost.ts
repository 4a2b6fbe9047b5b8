/**
 * What the RxJS streams cost: the same producer workload with nobody
 * subscribed, and with a subscriber on each of records$, batchesDrained$ and
 * responses$, interleaved over rounds on one testkit cluster. Reported as
 * records/s and client CPU per record, and as a ratio. Not a test.
 *
 *   npx tsc -b benchmarks && node benchmarks/dist/src/streams-cost.js
 */
import 'reflect-metadata';
import { createProducer } from '@tributary/core';
import { startCluster } from '@tributary/testkit';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 200_000);
const ROUNDS = 3;

const cluster = await startCluster({ brokers: 3, topics: [{ name: 'streams', partitions: 6 }] });
const producer = await createProducer({ bootstrapServers: cluster.bootstrapServers, lingerMs: 5 });
await producer.send({ topic: 'streams', value: 'warm-up' });
const key = Buffer.alloc(16, 0x6b);
const value = Buffer.alloc(100, 0x76);

async function run(): Promise<{ rps: number; cpuUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sends = new Array<Promise<unknown>>(RECORDS);
  for (let i = 0; i < RECORDS; i++) sends[i] = producer.send({ topic: 'streams', key, value });
  await Promise.all(sends);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return { rps: (RECORDS / ms) * 1000, cpuUs: (cpu.user + cpu.system) / RECORDS };
}

const results: Record<'unobserved' | 'observed', Array<{ rps: number; cpuUs: number }>> = {
  unobserved: [],
  observed: [],
};
for (let round = 0; round < ROUNDS; round++) {
  results.unobserved.push(await run());
  let events = 0;
  const subs = [
    producer.records$.subscribe(() => events++),
    producer.batchesDrained$.subscribe(() => events++),
    producer.responses$.subscribe(() => events++),
  ];
  results.observed.push(await run());
  for (const s of subs) s.unsubscribe();
  if (events === 0) throw new Error('the observed run saw no events');
}
await producer.close();
await cluster.stop();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const [name, rs] of Object.entries(results)) {
  console.log(
    `${name.padEnd(11)} ${Math.round(median(rs.map((r) => r.rps)))
      .toLocaleString()
      .padStart(
        10,
      )} records/s   ${median(rs.map((r) => r.cpuUs)).toFixed(2)} µs CPU/record   (${ROUNDS} rounds of ${RECORDS.toLocaleString()})`,
  );
}
const ratio = median(results.observed.map((r) => r.cpuUs)) / median(results.unobserved.map((r) => r.cpuUs));
console.log(`CPU per record, observed / unobserved: ${ratio.toFixed(3)}`);
