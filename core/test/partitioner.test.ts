import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/errors.js';
import { ClusterView, type PartitionMetadata, type TopicMetadata } from '../src/network/metadata.js';
import {
  BuiltInPartitioner,
  DefaultPartitioner,
  murmur2,
  partitionForKey,
  toPositive,
} from '../src/producer/partitioner.js';
import { mulberry32 } from './prng.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A cluster with one topic whose partitions have the given leaders (-1: none). */
function clusterWith(topic: string, leaders: number[]): ClusterView {
  const partitions: PartitionMetadata[] = leaders.map((leader, partition) => ({
    partition,
    leader,
    leaderEpoch: 0,
    replicas: [],
    isr: [],
    offline: [],
    errorCode: 0,
  }));
  const meta: TopicMetadata = { name: topic, topicId: Buffer.alloc(16), isInternal: false, partitions };
  return new ClusterView(new Map(), new Map([[topic, meta]]), new Map(), null, -1);
}

const allLed = (n: number) =>
  clusterWith(
    't',
    Array.from({ length: n }, (_, i) => i % 3),
  );

/** Draws 0, 1, 2, ... after scaling to [0, 2^31), like Java's test-only SequentialPartitioner. */
function sequential(): () => number {
  let i = 0;
  return () => i++ / 2 ** 31;
}

/** Java's Utils.murmur2, transcribed with BigInt arithmetic modulo 2^32: slow, obviously right. */
function murmur2Reference(data: Uint8Array): number {
  const MASK = 0xffffffffn;
  const m = 0x5bd1e995n;
  const mul = (a: bigint, b: bigint) => (a * b) & MASK;
  let h = (0x9747b28cn ^ BigInt(data.length)) & MASK;
  const n4 = Math.floor(data.length / 4);
  for (let i = 0; i < n4; i++) {
    let k = 0n;
    for (let j = 3; j >= 0; j--) k = (k << 8n) | BigInt(data[i * 4 + j]!);
    k = mul(k, m);
    k ^= k >> 24n;
    k = mul(k, m);
    h = mul(h, m) ^ k;
  }
  const base = n4 * 4;
  const rest = data.length % 4;
  if (rest >= 3) h ^= BigInt(data[base + 2]!) << 16n;
  if (rest >= 2) h ^= BigInt(data[base + 1]!) << 8n;
  if (rest >= 1) h = mul(h ^ BigInt(data[base]!), m);
  h ^= h >> 13n;
  h = mul(h, m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

describe('murmur2', () => {
  it("matches the Java client's values", () => {
    const vectors: Array<[string, number]> = [
      ['0', 971027396],
      ['1', -1993445489],
      ['128', -326012175],
      ['2187', -1508407203],
      ['16384', -325739742],
      ['100:48069', 1009543857],
      // Kafka's own UtilsTest.testMurmur2
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of vectors) assert.equal(murmur2(utf8(key)), expected, key);
  });

  it('hashes the empty key (to the seed, mixed)', () => {
    assert.equal(murmur2(new Uint8Array(0)), 275646681);
    assert.equal(murmur2(new Uint8Array(0)), murmur2Reference(new Uint8Array(0)));
  });

  it('agrees with a BigInt transcription on random bytes of every tail length', () => {
    const random = mulberry32(794);
    for (let n = 0; n < 2000; n++) {
      const data = new Uint8Array(n % 67);
      for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
      assert.equal(murmur2(data), murmur2Reference(data), `bytes ${Buffer.from(data).toString('hex')}`);
    }
  });

  it('reads a subarray by its own offset', () => {
    const whole = utf8('xxfoobar');
    assert.equal(murmur2(whole.subarray(2)), -790332482);
  });

  it('returns signed 32-bit integers', () => {
    const h = murmur2(utf8('1'));
    assert.ok(h < 0 && h === (h | 0));
  });
});

describe('toPositive and partitionForKey', () => {
  it('clears the sign bit rather than negating', () => {
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(-(2 ** 31)), 0);
    assert.equal(toPositive(5), 5);
  });

  it('is murmur2 modulo the partition count', () => {
    assert.equal(partitionForKey(utf8('1'), 17), (-1993445489 & 0x7fffffff) % 17);
    assert.equal(partitionForKey(utf8('0'), 6), 971027396 % 6);
  });
});

describe('DefaultPartitioner', () => {
  const cluster = allLed(17);

  it('hashes keyed records over all partitions', () => {
    const p = new DefaultPartitioner();
    for (const key of ['0', '1', '128', 'foobar']) {
      assert.equal(p.partition('t', key, utf8(key), null, null, cluster), partitionForKey(utf8(key), 17));
    }
  });

  it('hashes the empty key: it is a key, not a missing one', () => {
    const p = new DefaultPartitioner();
    const empty = new Uint8Array(0);
    assert.equal(p.partition('t', '', empty, null, null, cluster), toPositive(275646681) % 17);
  });

  it('leaves records without a key to the built-in partitioner', () => {
    assert.equal(new DefaultPartitioner().partition('t', null, null, 'v', utf8('v'), cluster), -1);
  });

  it('keeps a key on its partition when that partition has no leader', () => {
    const key = utf8('foobar');
    const home = partitionForKey(key, 17);
    const leaders = Array.from({ length: 17 }, (_, i) => (i === home ? -1 : 1));
    assert.equal(
      new DefaultPartitioner().partition('t', null, key, null, null, clusterWith('t', leaders)),
      home,
    );
  });

  it('with ignoreKeys, leaves every record to the built-in partitioner', () => {
    assert.equal(new DefaultPartitioner(true).partition('t', 'k', utf8('k'), null, null, cluster), -1);
  });

  it('returns -1 for a topic without partitions in the metadata', () => {
    assert.equal(new DefaultPartitioner().partition('other', 'k', utf8('k'), null, null, cluster), -1);
  });
});

describe('BuiltInPartitioner', () => {
  it('refuses a sticky batch size below 1', () => {
    assert.throws(() => new BuiltInPartitioner('t', 0), ConfigError);
    assert.doesNotThrow(() => new BuiltInPartitioner('t', 1));
  });

  it('sticks to a partition until stickyBatchSize bytes went to it', () => {
    const cluster = allLed(3);
    const bp = new BuiltInPartitioner('t', 3, sequential());
    const first = bp.peekCurrentPartition(cluster);
    bp.updatePartitionInfo(first, 1, cluster, true);
    assert.equal(bp.peekCurrentPartition(cluster), first);
    bp.updatePartitionInfo(first, 1, cluster, true);
    assert.equal(bp.peekCurrentPartition(cluster), first);
    bp.updatePartitionInfo(first, 1, cluster, true);
    assert.notEqual(bp.peekCurrentPartition(cluster), first);
  });

  it('switches after a record larger than the sticky batch size', () => {
    const cluster = allLed(3);
    const bp = new BuiltInPartitioner('t', 100, sequential());
    const first = bp.peekCurrentPartition(cluster);
    bp.updatePartitionInfo(first, 500, cluster, true);
    assert.notEqual(bp.peekCurrentPartition(cluster), first);
  });

  it('keeps switching on a single-partition topic', () => {
    const cluster = allLed(1);
    const bp = new BuiltInPartitioner('t', 1);
    for (let i = 0; i < 10; i++) {
      const p = bp.peekCurrentPartition(cluster);
      assert.equal(p, 0);
      bp.updatePartitionInfo(p, 1, cluster, true);
    }
  });

  it('holds a switch while disabled, up to twice the sticky batch size', () => {
    const cluster = allLed(3);
    const bp = new BuiltInPartitioner('t', 10, sequential());
    const first = bp.peekCurrentPartition(cluster);
    bp.updatePartitionInfo(first, 10, cluster, false);
    assert.equal(bp.peekCurrentPartition(cluster), first, '>= stickyBatchSize but switching disabled');
    bp.updatePartitionInfo(first, 9, cluster, false);
    assert.equal(bp.peekCurrentPartition(cluster), first, '19 bytes < 2 * stickyBatchSize');
    bp.updatePartitionInfo(first, 1, cluster, false);
    assert.notEqual(bp.peekCurrentPartition(cluster), first, '20 bytes: the cap forces the switch');
  });

  it('completes a held-back switch on a zero-byte update with switching enabled', () => {
    const cluster = allLed(3);
    const bp = new BuiltInPartitioner('t', 10, sequential());
    const first = bp.peekCurrentPartition(cluster);
    bp.updatePartitionInfo(first, 12, cluster, false);
    assert.equal(bp.peekCurrentPartition(cluster), first);
    bp.updatePartitionInfo(first, 0, cluster, true);
    assert.notEqual(bp.peekCurrentPartition(cluster), first);
  });

  it('ignores updates for a partition that is not the sticky one', () => {
    const cluster = allLed(3);
    const bp = new BuiltInPartitioner('t', 10, sequential());
    const first = bp.peekCurrentPartition(cluster);
    const other = (first + 1) % 3;
    bp.updatePartitionInfo(other, 1000, cluster, true);
    bp.updatePartitionInfo(-1, 1000, cluster, true);
    assert.equal(bp.peekCurrentPartition(cluster), first);
  });

  it('spreads switches uniformly over the partitions', () => {
    const n = 17;
    const cluster = allLed(n);
    const bp = new BuiltInPartitioner('t', 1, mulberry32(42));
    const counts = new Array<number>(n).fill(0);
    const draws = 17_000;
    for (let i = 0; i < draws; i++) {
      const p = bp.peekCurrentPartition(cluster);
      counts[p]!++;
      bp.updatePartitionInfo(p, 1, cluster, true);
    }
    const expected = draws / n;
    const chiSquare = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 16 degrees of freedom: 39.25 is the 0.1% critical value.
    assert.ok(chiSquare < 39.25, `chi-square ${chiSquare.toFixed(1)} over ${counts.join(',')}`);
  });

  it('avoids partitions without a leader while others have one', () => {
    const cluster = clusterWith('t', [1, -1, 2, -1, 3]);
    const bp = new BuiltInPartitioner('t', 1, mulberry32(7));
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const p = bp.peekCurrentPartition(cluster);
      seen.add(p);
      bp.updatePartitionInfo(p, 1, cluster, true);
    }
    assert.deepEqual([...seen].sort(), [0, 2, 4]);
  });

  it('chooses among all partitions when none has a leader', () => {
    const cluster = clusterWith('t', [-1, -1, -1]);
    const bp = new BuiltInPartitioner('t', 1, mulberry32(8));
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const p = bp.peekCurrentPartition(cluster);
      seen.add(p);
      bp.updatePartitionInfo(p, 1, cluster, true);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });

  it('follows leadership changes in new metadata', () => {
    const before = clusterWith('t', [1, -1]);
    const after = clusterWith('t', [-1, 1]);
    const bp = new BuiltInPartitioner('t', 1, mulberry32(9));
    for (let i = 0; i < 50; i++) bp.updatePartitionInfo(bp.peekCurrentPartition(before), 1, before, true);
    assert.equal(bp.peekCurrentPartition(before), 0);
    bp.updatePartitionInfo(0, 1, after, true);
    for (let i = 0; i < 50; i++) {
      const p = bp.peekCurrentPartition(after);
      assert.equal(p, 1);
      bp.updatePartitionInfo(p, 1, after, true);
    }
  });

  it('returns -1 while the topic has no partitions, and chooses once it has', () => {
    const bp = new BuiltInPartitioner('t', 1);
    assert.equal(bp.peekCurrentPartition(ClusterView.empty), -1);
    assert.equal(bp.peekCurrentPartition(allLed(4)) >= 0, true);
  });

  it("weights partitions by maxQueue + 1 - queue, exactly (Java's adaptive test)", () => {
    const cluster = allLed(5);
    const bp = new BuiltInPartitioner('t', 1, sequential());
    const queueSizes = [5, 0, 3, 0, 1];
    bp.updatePartitionLoadStats(queueSizes, [0, 1, 2, 3, 4], 5);
    assert.deepEqual(queueSizes, [5, 0, 3, 0, 1], 'the caller keeps its arrays');
    // The weights are 6 - size = 1 6 3 6 5, 21 in all; sequential draws
    // 0..41 walk the table twice, so the counts are exact.
    const counts = [0, 0, 0, 0, 0];
    // The first peek draws 0; every switch draws the next number.
    for (let i = 0; i < 42; i++) {
      const p = bp.peekCurrentPartition(cluster);
      counts[p]!++;
      bp.updatePartitionInfo(p, 1, cluster, true);
    }
    assert.deepEqual(counts, [2, 12, 6, 12, 10]);
  });

  it('prefers partitions with short queues', () => {
    const cluster = allLed(4);
    const bp = new BuiltInPartitioner('t', 1, mulberry32(11));
    bp.updatePartitionLoadStats([0, 9, 9, 9], [0, 1, 2, 3], 4);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 13_000; i++) {
      const p = bp.peekCurrentPartition(cluster);
      counts[p]!++;
      bp.updatePartitionInfo(p, 1, cluster, true);
    }
    // Weights 10 1 1 1: partition 0 gets 10/13 of the switches.
    assert.ok(Math.abs(counts[0]! / 13_000 - 10 / 13) < 0.02, counts.join(','));
    for (let i = 1; i < 4; i++) assert.ok(Math.abs(counts[i]! / 13_000 - 1 / 13) < 0.01, counts.join(','));
  });

  it('chooses only the listed partitions when some were left out', () => {
    const cluster = allLed(4);
    const bp = new BuiltInPartitioner('t', 1, mulberry32(12));
    // Four partitions, only 2 and 3 available; equal queues still use the stats.
    bp.updatePartitionLoadStats([2, 2, 0, 0], [2, 3, 0, 0], 2);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = bp.peekCurrentPartition(cluster);
      seen.add(p);
      bp.updatePartitionInfo(p, 1, cluster, true);
    }
    assert.deepEqual([...seen].sort(), [2, 3]);
  });

  it('drops the stats for equal queues, null arrays, no partitions or a single partition', () => {
    const cluster = clusterWith('t', [1, -1, 1]);
    const check = (update: (bp: BuiltInPartitioner) => void) => {
      const bp = new BuiltInPartitioner('t', 1, mulberry32(13));
      bp.updatePartitionLoadStats([0, 9, 9], [1, 0, 2], 3);
      update(bp);
      // Uniform over partitions with a leader: 1 (no leader) never chosen.
      for (let i = 0; i < 200; i++) {
        const p = bp.peekCurrentPartition(cluster);
        assert.notEqual(p, 1);
        bp.updatePartitionInfo(p, 1, cluster, true);
      }
    };
    check((bp) => bp.updatePartitionLoadStats([3, 3, 3], [0, 1, 2], 3));
    check((bp) => bp.updatePartitionLoadStats(null, null, 0));
    check((bp) => bp.updatePartitionLoadStats([1, 2, 3], [0, 1, 2], 0));
    check((bp) => bp.updatePartitionLoadStats([7], [1], 1));
  });
});
