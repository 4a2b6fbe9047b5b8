import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundRobinPartitioner } from '../src/index.js';
import { clusterWith, led } from './helpers.js';

const key = new TextEncoder().encode('same-key');

describe('RoundRobinPartitioner', () => {
  it('cycles through the partitions in order, whatever the key', () => {
    const cluster = clusterWith({ t: led(6) });
    const rr = new RoundRobinPartitioner();
    const got = Array.from({ length: 13 }, () => rr.partition('t', 'k', key, null, null, cluster));
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0]);
  });

  it('spreads records exactly evenly', () => {
    const cluster = clusterWith({ t: led(7) });
    const rr = new RoundRobinPartitioner();
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[rr.partition('t', null, null, null, null, cluster)]!++;
    assert.deepEqual(counts, new Array<number>(7).fill(1000));
  });

  it('skips partitions without a leader while others have one', () => {
    const cluster = clusterWith({ t: [1, -1, 2, -1, 3] });
    const rr = new RoundRobinPartitioner();
    const got = Array.from({ length: 6 }, () => rr.partition('t', null, null, null, null, cluster));
    assert.deepEqual(got, [0, 2, 4, 0, 2, 4]);
  });

  it('cycles through all partitions when none has a leader', () => {
    const cluster = clusterWith({ t: [-1, -1, -1] });
    const rr = new RoundRobinPartitioner();
    const got = Array.from({ length: 4 }, () => rr.partition('t', null, null, null, null, cluster));
    assert.deepEqual(got, [0, 1, 2, 0]);
  });

  it('follows new metadata, keeping its place in the cycle', () => {
    const rr = new RoundRobinPartitioner();
    const before = clusterWith({ t: led(4) });
    assert.equal(rr.partition('t', null, null, null, null, before), 0);
    assert.equal(rr.partition('t', null, null, null, null, before), 1);
    const after = clusterWith({ t: [1, 1, -1, 1] });
    assert.deepEqual(
      Array.from({ length: 3 }, () => rr.partition('t', null, null, null, null, after)),
      [3, 0, 1],
    );
  });

  it('keeps one counter per topic', () => {
    const cluster = clusterWith({ a: led(3), b: led(3) });
    const rr = new RoundRobinPartitioner();
    assert.equal(rr.partition('a', null, null, null, null, cluster), 0);
    assert.equal(rr.partition('a', null, null, null, null, cluster), 1);
    assert.equal(rr.partition('b', null, null, null, null, cluster), 0);
    assert.equal(rr.partition('a', null, null, null, null, cluster), 2);
  });

  it('returns -1 for a topic without partitions in the metadata', () => {
    assert.equal(new RoundRobinPartitioner().partition('x', null, null, null, null, clusterWith({})), -1);
  });
});
