import type { ClusterView, Partitioner, TopicMetadata } from '@tributary/core';

interface TopicCursor {
  next: number;
  /** The metadata `available` was built from; a metadata update replaces the object. */
  meta: TopicMetadata | undefined;
  /** Partitions with a leader, `count` of them. */
  available: Int32Array;
  count: number;
}

// Keeps the counter a small integer (V8 Smi) however long the producer runs.
const COUNTER_MASK = 0x3fffffff;

/**
 * Cycles through a topic's partitions record by record, keys ignored (the
 * Java client's `RoundRobinPartitioner`): over the partitions that have a
 * leader, or over all of them when none has. One counter per topic,
 * starting at partition 0's turn.
 *
 * Every record gets a partition of its own choosing, so batches fill
 * `partitionCount` times slower than with the sticky default: expect smaller
 * batches and more requests. Returns -1 (sticky choice) only while the topic
 * has no partitions in the metadata. Per record: one map lookup by topic
 * name; the list of available partitions is rebuilt only when the topic's
 * metadata changes.
 */
export class RoundRobinPartitioner implements Partitioner {
  readonly #topics = new Map<string, TopicCursor>();

  partition(
    topic: string,
    _key: unknown,
    _keyBytes: Uint8Array | null,
    _value: unknown,
    _valueBytes: Uint8Array | null,
    cluster: ClusterView,
  ): number {
    const meta = cluster.topics.get(topic);
    if (meta === undefined || meta.partitions.length === 0) return -1;
    let cursor = this.#topics.get(topic);
    if (cursor === undefined) {
      cursor = { next: 0, meta: undefined, available: new Int32Array(0), count: 0 };
      this.#topics.set(topic, cursor);
    }
    if (cursor.meta !== meta) indexAvailable(cursor, meta);
    const next = cursor.next;
    cursor.next = (next + 1) & COUNTER_MASK;
    return cursor.count > 0 ? cursor.available[next % cursor.count]! : next % meta.partitions.length;
  }

  close(): void {
    this.#topics.clear();
  }
}

function indexAvailable(cursor: TopicCursor, meta: TopicMetadata): void {
  const partitions = meta.partitions;
  if (cursor.available.length < partitions.length) cursor.available = new Int32Array(partitions.length);
  let count = 0;
  for (let i = 0; i < partitions.length; i++) {
    if ((partitions[i]?.leader ?? -1) >= 0) cursor.available[count++] = i;
  }
  cursor.count = count;
  cursor.meta = meta;
}
