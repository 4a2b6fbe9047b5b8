import type { CompressionType } from '../protocol/compression/index.js';
import {
  decodeRecordBatches,
  estimateSizeInBytesUpperBound,
  type ProducerStamp,
  RECORD_BATCH_OVERHEAD,
  RecordBatchBuilder,
  type RecordHeader,
  restampBatch,
} from '../protocol/record-batch.js';
import type { RecordMetadata } from './types.js';

export type Resolve = (metadata: RecordMetadata) => void;
const NO_SETTLE: never[] = [];
const NO_INFO: number[] = [];
export type Reject = (error: Error) => void;

/**
 * Settles many records at once without a promise (or closure) per record:
 * `sendBatch`'s group. A batch stores the sink in place of a record's resolve
 * function, and the record's index in the group in place of its reject.
 */
export interface RecordSink {
  delivered(
    index: number,
    topic: string,
    partition: number,
    offset: number,
    timestamp: number,
    keySize: number,
    valueSize: number,
  ): void;
  failed(index: number, error: Error): void;
}

/** How a batch settles one record: a promise's resolve and reject, or a sink and the record's index in it. */
export type OnDelivered = Resolve | RecordSink;
export type OnFailed = Reject | number;

/** Per-topic state the accumulator keeps: the name's bytes are encoded once, for every request. */
export interface TopicInfo {
  readonly name: string;
  readonly nameBytes: Buffer;
}

/**
 * One batch of records for one partition, written into a pooled buffer as
 * records are appended. The records' promises are kept in parallel arrays
 * (no object per record); `complete` and `fail` settle all of them, once.
 */
export class ProducerBatch {
  readonly topic: TopicInfo;
  readonly partition: number;
  readonly createdMs: number;
  readonly buffer: Buffer;
  /** False for split batches, whose buffers are not the pool's. */
  readonly pooled: boolean;
  readonly #builder: RecordBatchBuilder;
  // Two arrays per batch, not five: fewer headers and growth copies per record.
  /** Per record: how it is settled on success, then on failure (OnDelivered, OnFailed). */
  #settle: Array<OnDelivered | OnFailed> = NO_SETTLE;
  /**
   * Per record: timestamp minus the first record's, key size, value size (-1
   * for null). Small integers all (unless a record carries a timestamp far
   * from the first's), so the array keeps V8's small-integer elements: a
   * millisecond timestamp itself is no small integer, and storing one turned
   * the array into doubles, a second copy of it per batch.
   */
  #info: number[] = NO_INFO;
  /** The first record's timestamp, which #info's are relative to. */
  #timestampBase = 0;
  #count = 0;
  readonly #expectedRecords: number;
  #sealed: Buffer | undefined;
  #done = false;
  /** Send attempts so far. */
  attempts = 0;
  /** While in retry backoff: when it may be sent again. */
  retryAt = 0;
  lastAttemptMs = 0;
  /** No more appends: full, or drained. */
  closedForAppends = false;

  constructor(
    topic: TopicInfo,
    partition: number,
    buffer: Buffer,
    compression: CompressionType,
    now: number,
    pooled = true,
    expectedRecords = 0,
  ) {
    this.#expectedRecords = expectedRecords;
    this.topic = topic;
    this.partition = partition;
    this.buffer = buffer;
    this.pooled = pooled;
    this.createdMs = now;
    this.#builder = new RecordBatchBuilder(buffer, compression);
  }

  /** Room for `records` records' settlement and info (keeping what is there). */
  #reserve(records: number): void {
    const settle = new Array<OnDelivered | OnFailed>(2 * records);
    // A plain array (on-heap, a bump allocation) rather than a Float64Array,
    // whose off-heap buffer cost microseconds per batch.
    const info = new Array<number>(3 * records);
    for (let i = 0; i < 2 * this.#count; i++) settle[i] = this.#settle[i] as OnDelivered | OnFailed;
    for (let i = 0; i < 3 * this.#count; i++) info[i] = this.#info[i] as number;
    this.#settle = settle;
    this.#info = info;
  }

  get recordCount(): number {
    return this.#count;
  }

  /** Bytes written, header included, before compression. */
  get sizeInBytes(): number {
    return this.#builder.sizeInBytes;
  }

  get done(): boolean {
    return this.#done;
  }

  get inRetry(): boolean {
    return this.attempts > 0;
  }

  /** Appends a record if it fits (never after the batch is closed). */
  tryAppend(
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    resolve: OnDelivered,
    reject: OnFailed,
  ): boolean {
    if (this.closedForAppends) return false;
    if (this.#builder.tryAppend(timestamp, key, value, headers) < 0) return false;
    const n = this.#count;
    // Sized once, at the first record: as many as the partition's previous
    // batch held (a little more), else a few; doubled if outgrown, never
    // beyond how many records like the first fit in the buffer. Growing by
    // push cost about 100 bytes of garbage per record in copies; sizing for a
    // full buffer every time wastes kilobytes per batch when batches are small
    // (lingerMs 0).
    if (n === 0) {
      const fit =
        Math.ceil(this.buffer.length / Math.max(1, this.#builder.sizeInBytes - RECORD_BATCH_OVERHEAD)) + 1;
      const hint = this.#expectedRecords > 0 ? this.#expectedRecords + (this.#expectedRecords >> 3) + 1 : 8;
      this.#reserve(Math.min(fit, hint));
    } else if (3 * n >= this.#info.length) this.#reserve(2 * n);
    this.#settle[2 * n] = resolve;
    this.#settle[2 * n + 1] = reject;
    if (n === 0) this.#timestampBase = timestamp;
    const info = this.#info;
    info[3 * n] = timestamp - this.#timestampBase;
    info[3 * n + 1] = key === null ? -1 : key.length;
    info[3 * n + 2] = value === null ? -1 : value.length;
    this.#count = n + 1;
    return true;
  }

  /** The producer stamp the sealed bytes carry (idempotence); baseSequence -1 when none. */
  producerId = -1;
  producerEpoch = -1;
  baseSequence = -1;

  /**
   * The batch's bytes, sealed once (compressed, CRC'd) and reused by every
   * attempt. With a stamp, the first seal writes it; a later different stamp
   * (after an epoch bump) rewrites those fields and the CRC in place.
   */
  seal(stamp?: ProducerStamp): Buffer {
    this.closedForAppends = true;
    if (this.#sealed === undefined) {
      const built = this.#builder.build(stamp);
      // Uncompressed, build() returns a view of the pool's buffer, which is
      // reused once the batch is done: copy it. Compressed, it is new memory.
      this.#sealed = this.#builder.compression === 0 ? Buffer.from(built) : built;
    } else if (
      stamp !== undefined &&
      (stamp.producerId !== this.producerId ||
        stamp.producerEpoch !== this.producerEpoch ||
        stamp.baseSequence !== this.baseSequence)
    ) {
      restampBatch(this.#sealed, stamp);
    }
    if (stamp !== undefined) {
      this.producerId = stamp.producerId;
      this.producerEpoch = stamp.producerEpoch;
      this.baseSequence = stamp.baseSequence;
    }
    return this.#sealed;
  }

  /** Settles every record with its offset. `logAppendTime` is -1 unless the topic uses LogAppendTime. */
  complete(baseOffset: number, logAppendTime: number): void {
    if (this.#done) return;
    this.#done = true;
    const topic = this.topic.name;
    const settle = this.#settle;
    const info = this.#info;
    for (let i = 0; i < this.#count; i++) {
      const onDelivered = settle[2 * i] as OnDelivered;
      const offset = baseOffset < 0 ? -1 : baseOffset + i;
      const timestamp = logAppendTime >= 0 ? logAppendTime : this.#timestampBase + (info[3 * i] as number);
      if (typeof onDelivered === 'function') {
        onDelivered({
          topic,
          partition: this.partition,
          offset,
          timestamp,
          serializedKeySize: info[3 * i + 1] as number,
          serializedValueSize: info[3 * i + 2] as number,
        });
      } else {
        onDelivered.delivered(
          settle[2 * i + 1] as number,
          topic,
          this.partition,
          offset,
          timestamp,
          info[3 * i + 1] as number,
          info[3 * i + 2] as number,
        );
      }
    }
    this.#release();
  }

  /**
   * Drops what the batch held for its records once they are settled. A
   * settled batch may linger in old space until a major GC (V8 pretenures
   * objects like these); while it points at young promise functions and
   * buffers, every scavenge keeps those alive and copies them ("nepotism").
   */
  #release(): void {
    this.#settle = NO_SETTLE;
    this.#info = NO_INFO;
    this.#sealed = undefined;
  }

  /** Rejects every record with `error`. */
  fail(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    const settle = this.#settle;
    for (let i = 0; i < this.#count; i++) {
      const onFailed = settle[2 * i + 1] as OnFailed;
      if (typeof onFailed === 'function') onFailed(error);
      else (settle[2 * i] as RecordSink).failed(onFailed, error);
    }
    this.#release();
  }

  /**
   * Splits a batch the broker refused as too large into batches of at most
   * `targetSize` bytes each (one record each, at worst), carrying every
   * record's promise over, in order. The split batches are not pooled; they
   * keep the original's creation time and, with idempotence, its sequence range.
   */
  split(targetSize: number, compression: CompressionType): ProducerBatch[] {
    const sealed = this.seal();
    const [decoded] = decodeRecordBatches(sealed);
    const records = decoded?.records ?? [];
    const out: ProducerBatch[] = [];
    let current: ProducerBatch | undefined;
    records.forEach((r, i) => {
      const resolve = this.#settle[2 * i] as OnDelivered;
      const reject = this.#settle[2 * i + 1] as OnFailed;
      if (!current?.tryAppend(r.timestamp, r.key, r.value, r.headers, resolve, reject)) {
        const size = Math.max(targetSize, estimateSizeInBytesUpperBound(r.key, r.value, r.headers));
        current = new ProducerBatch(
          this.topic,
          this.partition,
          Buffer.allocUnsafe(size),
          compression,
          // The original's creation time: deliveryTimeoutMs still bounds the records.
          this.createdMs,
          false,
        );
        // With idempotence the pieces take over the original's sequence range
        // (it was never accepted), each starting at its first record's number.
        if (this.baseSequence >= 0) {
          current.producerId = this.producerId;
          current.producerEpoch = this.producerEpoch;
          current.baseSequence = (this.baseSequence + i) | 0;
        }
        current.tryAppend(r.timestamp, r.key, r.value, r.headers, resolve, reject);
        out.push(current);
      }
    });
    this.#done = true; // its promises now belong to the split batches
    this.#release();
    return out;
  }
}
