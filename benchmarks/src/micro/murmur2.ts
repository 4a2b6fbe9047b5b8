/**
 * murmur2 micro-benchmark: hashes per second of core's `murmur2` (the
 * default partitioner's hash of the serialized key, Kafka's `Utils.murmur2`)
 * for 16-byte keys (the side-by-side workload's), 36-byte keys (a UUID as
 * text), 100 B and 1 KiB, over 256 distinct keys of each size; and of
 * `partitionForKey` (hash, sign bit cleared, modulo 6) for the 16-byte keys,
 * which is what a keyed send() pays.
 *
 *   npx tsc -b benchmarks && node benchmarks/dist/src/micro/murmur2.js
 */
import { murmur2, partitionForKey } from '@tributary/core';
import { measure, millions, randomBytes } from './measure.js';

const DISTINCT = 256;

function keysOf(size: number): Buffer[] {
  return Array.from({ length: DISTINCT }, (_, i) => {
    const b = randomBytes(size, size * 7919 + i + 1);
    // Printable, as most keys are; the hash does not care, but the bytes stay realistic.
    for (let j = 0; j < size; j++) b[j] = 0x21 + ((b[j] as number) % 94);
    return b;
  });
}

console.log(`node ${process.version} ${process.platform}-${process.arch}`);
console.log(
  `${'key size'.padEnd(12)}${'hashes/s (min–max)'.padEnd(28)}${'ns/hash'.padStart(9)}${'GB/s'.padStart(8)}`,
);
for (const size of [16, 36, 100, 1024]) {
  const keys = keysOf(size);
  const m = measure(() => {
    let h = 0;
    for (let i = 0; i < DISTINCT; i++) h ^= murmur2(keys[i] as Buffer);
    return h;
  }, DISTINCT);
  console.log(
    `${`${size} B`.padEnd(12)}${millions(m).padEnd(28)}${m.ns.toFixed(1).padStart(9)}${((m.opsPerSecond * size) / 1e9).toFixed(2).padStart(8)}`,
  );
}
const keys16 = keysOf(16);
const p = measure(() => {
  let s = 0;
  for (let i = 0; i < DISTINCT; i++) s += partitionForKey(keys16[i] as Buffer, 6);
  return s;
}, DISTINCT);
console.log(`\npartitionForKey, 16 B keys, 6 partitions: ${millions(p)}, ${p.ns.toFixed(1)} ns each`);
