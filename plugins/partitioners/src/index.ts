/**
 * @tributary/partitioners: partitioners beyond core's Java-compatible
 * default. Register one under core's `PARTITIONER` token.
 */
export { ConsistentHashPartitioner } from './consistent-hash-partitioner.js';
export { FieldPartitioner, type PartitionField } from './field-partitioner.js';
export { jumpHash } from './jump-hash.js';
export { RoundRobinPartitioner } from './round-robin-partitioner.js';
