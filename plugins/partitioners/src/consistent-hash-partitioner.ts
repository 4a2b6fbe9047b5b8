import { type ClusterView, murmur2, type Partitioner } from '@tributary/core';
import { jumpHash } from './jump-hash.js';

/**
 * Keyed records keep their partition when the topic grows: the partition is
 * the jump consistent hash ({@link jumpHash}) of Kafka's murmur2 of the key
 * over the topic's partition count. Growing from n to m partitions moves a
 * key only to one of the new partitions n..m-1, about (m - n) / m of the
 * keys in all, where the default `murmur2 % n` moves nearly every key; so
 * per-key order survives a partition increase for the keys that stay.
 *
 * The 32-bit murmur2 is sign-extended to the 64-bit key, as Java widens an
 * `int` to a `long`, so a JVM port of the paper's function fed
 * `Utils.murmur2(keyBytes)` computes the same partitions.
 *
 * Like the default partitioner, it hashes over all partitions, with a leader
 * or not, and hashes an empty key; a record without a key gets -1 (the
 * built-in sticky partitioner chooses), as does a topic without partitions in
 * the metadata. Not compatible with other clients' default partitioning: use
 * it for every producer of a topic or none.
 */
export class ConsistentHashPartitioner implements Partitioner {
  partition(
    topic: string,
    _key: unknown,
    keyBytes: Uint8Array | null,
    _value: unknown,
    _valueBytes: Uint8Array | null,
    cluster: ClusterView,
  ): number {
    if (keyBytes === null) return -1;
    const n = cluster.partitionCount(topic);
    if (n < 1) return -1;
    const h = murmur2(keyBytes);
    return jumpHash(h >> 31, h, n);
  }
}
