import { type ClusterView, type Partitioner, partitionForKey } from '@tributary/core';

/** Picks the bytes a record is placed by: a field of the value, say. Null leaves the record to the default. */
export type PartitionField = (key: unknown, value: unknown) => string | Uint8Array | null | undefined;

/**
 * Places a record by one field of its value (or anything else derived from
 * the record) instead of its key: the field's bytes (a string as UTF-8) are
 * hashed with Kafka's murmur2, exactly as a key would be, so a field value
 * always lands on the same partition while the partition count stays the
 * same. A record whose field is null or missing goes to the producer's
 * default choice (-1: sticky).
 */
export class FieldPartitioner implements Partitioner {
  readonly #field: PartitionField;

  constructor(field: PartitionField) {
    this.#field = field;
  }

  partition(
    topic: string,
    key: unknown,
    _kb: Uint8Array | null,
    value: unknown,
    _vb: Uint8Array | null,
    cluster: ClusterView,
  ): number {
    const count = cluster.partitionCount(topic);
    const field = this.#field(key, value);
    if (field === null || field === undefined || count === 0) return -1;
    return partitionForKey(typeof field === 'string' ? Buffer.from(field, 'utf8') : field, count);
  }
}
