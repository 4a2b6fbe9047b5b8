import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmur2 } from '@tributary/core';
import { ConsistentHashPartitioner, jumpHash } from '../src/index.js';
import { clusterWith, led, randomKey, seeded } from './helpers.js';

/** The paper's algorithm with BigInt 64-bit arithmetic: slow, obviously right. */
function jumpHashReference(key: bigint, buckets: number): number {
  let k = BigInt.asUintN(64, key);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = BigInt.asUintN(64, k * 2862933555777941757n + 1n);
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

const split = (key: bigint): [number, number] => [
  Number(BigInt.asUintN(64, key) >> 32n),
  Number(BigInt.asUintN(32, key)),
];

describe('jumpHash', () => {
  it("matches the reference C++ code's outputs", () => {
    // Buckets 1, 2, 3, ... (published alongside Go's port of the paper's code).
    const vectors: Array<[bigint, number[]]> = [
      [0n, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
      [1n, [0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17]],
      [0xdeadbeefn, [0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16]],
      [0x0ddc0ffeebadf00dn, [0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15]],
    ];
    for (const [key, expected] of vectors) {
      const [hi, lo] = split(key);
      assert.deepEqual(
        expected.map((_, i) => jumpHash(hi, lo, i + 1)),
        expected,
        `key ${key.toString(16)}`,
      );
    }
  });

  it('agrees with a BigInt transcription on random 64-bit keys', () => {
    const random = seeded(2014);
    for (let i = 0; i < 3000; i++) {
      const hi = Math.floor(random() * 2 ** 32);
      const lo = Math.floor(random() * 2 ** 32);
      const buckets = 1 + Math.floor(random() * 5000);
      const key = (BigInt(hi) << 32n) | BigInt(lo);
      assert.equal(jumpHash(hi, lo, buckets), jumpHashReference(key, buckets), `${key} over ${buckets}`);
    }
  });

  it('accepts the high word as a signed int32', () => {
    assert.equal(jumpHash(-1, -5, 1000), jumpHash(0xffffffff, 0xfffffffb, 1000));
  });

  it('returns -1 for no buckets', () => {
    assert.equal(jumpHash(0, 1, 0), -1);
  });
});

describe('ConsistentHashPartitioner', () => {
  const partitioner = new ConsistentHashPartitioner();
  const random = seeded(6);
  const keys = Array.from({ length: 10_000 }, () => randomKey(random));
  const partitionIn = (key: Uint8Array, n: number) =>
    partitioner.partition('t', null, key, null, null, clusterWith({ t: led(n) }));

  it('is the jump hash of the sign-extended murmur2 of the key', () => {
    const key = new TextEncoder().encode('1'); // murmur2 -1993445489: negative
    const h = murmur2(key);
    assert.ok(h < 0);
    assert.equal(partitionIn(key, 100), jumpHashReference(BigInt(h), 100));
  });

  it('growing from 6 to 12 partitions moves keys only to new partitions, about half of them', () => {
    const six = clusterWith({ t: led(6) });
    const twelve = clusterWith({ t: led(12) });
    let stayed = 0;
    for (const key of keys) {
      const before = partitioner.partition('t', null, key, null, null, six);
      const after = partitioner.partition('t', null, key, null, null, twelve);
      assert.ok(after === before || after >= 6, `a key moved from ${before} to ${after}`);
      if (after === before) stayed++;
    }
    assert.ok(Math.abs(stayed / keys.length - 0.5) < 0.02, `${stayed} of ${keys.length} stayed`);
  });

  it('moves keys only to the added partition, one partition at a time', () => {
    for (let n = 1; n < 40; n++) {
      let moved = 0;
      for (const key of keys.slice(0, 2000)) {
        const before = partitionIn(key, n);
        const after = partitionIn(key, n + 1);
        if (after !== before) {
          assert.equal(after, n);
          moved++;
        }
      }
      // About 1/(n+1) of the keys move; allow generous sampling noise.
      const expected = 2000 / (n + 1);
      assert.ok(Math.abs(moved - expected) < 5 * Math.sqrt(expected) + 5, `${n}->${n + 1}: ${moved} moved`);
    }
  });

  it('spreads keys evenly', () => {
    const counts = new Array<number>(12).fill(0);
    const cluster = clusterWith({ t: led(12) });
    for (const key of keys) counts[partitioner.partition('t', null, key, null, null, cluster)]!++;
    const expected = keys.length / 12;
    const chiSquare = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 11 degrees of freedom: 31.26 is the 0.1% critical value.
    assert.ok(chiSquare < 31.26, `chi-square ${chiSquare.toFixed(1)}: ${counts.join(',')}`);
  });

  it('ignores leaders: a key stays put while its partition has none', () => {
    const key = keys[0]!;
    const home = partitionIn(key, 8);
    const leaders = led(8).map((l, i) => (i === home ? -1 : l));
    assert.equal(partitioner.partition('t', null, key, null, null, clusterWith({ t: leaders })), home);
  });

  it('hashes an empty key, and leaves a null key to the sticky partitioner', () => {
    const cluster = clusterWith({ t: led(12) });
    const empty = partitioner.partition('t', '', new Uint8Array(0), null, null, cluster);
    assert.ok(empty >= 0 && empty < 12);
    assert.equal(partitioner.partition('t', null, null, 'v', null, cluster), -1);
  });

  it('returns -1 for a topic without partitions in the metadata', () => {
    assert.equal(partitioner.partition('x', null, keys[0]!, null, null, clusterWith({})), -1);
  });
});
