import type { ClusterView } from '../network/metadata.js';
import type { RecordHeader } from '../protocol/record-batch.js';

/** Header values: bytes, a string (encoded UTF-8), or null. */
export type HeaderValue = Uint8Array | string | null;

/** Headers as an object (one value per key) or as [key, value] pairs (repeated keys allowed, order kept). */
export type RecordHeaders =
  | Readonly<Record<string, HeaderValue>>
  | ReadonlyArray<readonly [string, HeaderValue]>;

/** What a user sends. `key` and `value` are typed by the configured serializers; a null value is a tombstone. */
export interface ProducerRecord<K = unknown, V = unknown> {
  topic: string;
  key?: K | null | undefined;
  value: V | null;
  /** An explicit partition; otherwise the partitioner decides. */
  partition?: number | undefined;
  /** Milliseconds since the epoch; default: now. */
  timestamp?: number | undefined;
  headers?: RecordHeaders | undefined;
}

/** Where an acknowledged record landed. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 when unknown (acks=0). */
  offset: number;
  /** The record's timestamp, or the broker's LogAppendTime when the topic uses it. */
  timestamp: number;
  serializedKeySize: number;
  serializedValueSize: number;
}

/**
 * Turns a key or value into bytes. Called synchronously on the send path, so
 * it must not do I/O per record: a serializer that needs a schema id or a
 * connection does that in `prepare()`, which the producer awaits once before
 * the first send. Throwing fails that record with a SerializationError.
 */
export interface Serializer<T = unknown> {
  serialize(topic: string, data: T, headers: RecordHeader[]): Uint8Array | null;
  prepare?(): Promise<void>;
  close?(): void | Promise<void>;
}

/**
 * Chooses a partition. Return a partition index, or -1 to leave the choice to
 * the built-in sticky partitioner (the Java client's behaviour for records
 * without a key). Must be fast and synchronous.
 */
export interface Partitioner {
  partition(
    topic: string,
    key: unknown,
    keyBytes: Uint8Array | null,
    value: unknown,
    valueBytes: Uint8Array | null,
    cluster: ClusterView,
  ): number;
  close?(): void;
}

/**
 * Sees every record before it is serialized (and may replace it), and every
 * acknowledgement or failure. An interceptor that throws is logged and
 * skipped; its exception never reaches the caller.
 */
export interface Interceptor<K = unknown, V = unknown> {
  onSend?(record: ProducerRecord<K, V>): ProducerRecord<K, V>;
  onAcknowledgement?(metadata: RecordMetadata | undefined, error: Error | undefined): void;
  close?(): void;
}

/**
 * Memory for record batches, `bufferMemory` bytes in all. `tryAllocate` is
 * the synchronous fast path (null when the memory is not free now, or when
 * others already wait: waiters are served first-in first-out); `allocate`
 * waits up to `maxBlockMs` and then fails with BufferExhaustedError.
 * `deallocate` returns a buffer when its batch completes.
 */
export interface BufferPool {
  tryAllocate(size: number): Buffer | null;
  allocate(size: number, maxBlockMs: number): Promise<Buffer>;
  deallocate(buffer: Buffer): void;
  /** Bytes not in use (free list plus never allocated). */
  readonly availableMemory: number;
  readonly totalMemory: number;
  /** Allocations waiting for memory. */
  readonly queued: number;
  /** Fails every waiter; later allocations fail at once. */
  close(): void;
}
