import { KafkaClientError } from '../errors.js';
import type { RecordSink } from './producer-batch.js';
import type { RecordMetadata } from './types.js';

/** Options of `sendBatch`. */
export interface SendBatchOptions {
  /**
   * Also collect every record's metadata (offset, partition, timestamp), in
   * input order. Default false: only counts, which costs no object per record.
   */
  metadata?: boolean;
}

/** What `sendBatch` resolves with once every record is acknowledged. */
export interface SendBatchResult {
  /** Records acknowledged: all of them. */
  records: number;
  /** With `{ metadata: true }`: each record's metadata, in input order. */
  metadata?: RecordMetadata[];
}

/** One record of a `sendBatch` call that was not delivered: its index in the input, and why. */
export interface RecordFailure {
  index: number;
  error: Error;
}

/**
 * `sendBatch` settles once every record has: it rejects with this when any
 * record failed. Nothing is dropped silently: `failures` names each record
 * that was not delivered (by its index in the input) with its own error, and
 * `delivered` counts the others, which are stored.
 */
export class BatchSendError extends KafkaClientError {
  readonly failures: readonly RecordFailure[];
  readonly delivered: number;
  /** With `{ metadata: true }`: the delivered records' metadata by input index (undefined for failed ones). */
  readonly metadata: ReadonlyArray<RecordMetadata | undefined> | undefined;

  constructor(
    failures: RecordFailure[],
    delivered: number,
    metadata: Array<RecordMetadata | undefined> | undefined,
  ) {
    const sorted = failures.sort((a, b) => a.index - b.index);
    const first = sorted[0] as RecordFailure;
    super(
      'BATCH_SEND_FAILED',
      `${sorted.length} of ${sorted.length + delivered} records were not delivered; the first (index ${first.index}): ${first.error.message}`,
      { cause: first.error },
    );
    this.failures = sorted;
    this.delivered = delivered;
    this.metadata = metadata;
  }
}

/**
 * The records of one `sendBatch` call: settles its promise when the last
 * record is acknowledged or has failed. Batches hold the group itself in
 * place of a per-record promise, so a record costs no promise, no closure
 * and (unless metadata is asked for) no metadata object.
 */
export class RecordGroup implements RecordSink {
  readonly promise: Promise<SendBatchResult>;
  #resolve!: (r: SendBatchResult) => void;
  #reject!: (e: Error) => void;
  #pending: number;
  #delivered = 0;
  #failures: RecordFailure[] | undefined;
  readonly #metadata: Array<RecordMetadata | undefined> | undefined;
  /** Until sealed, records may still be added: settling waits for it. */
  #sealed = false;

  constructor(count: number, withMetadata: boolean) {
    this.#pending = count;
    this.#metadata = withMetadata ? new Array<RecordMetadata | undefined>(count) : undefined;
    this.promise = new Promise<SendBatchResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  delivered(
    index: number,
    topic: string,
    partition: number,
    offset: number,
    timestamp: number,
    keySize: number,
    valueSize: number,
  ): void {
    if (this.#metadata !== undefined) {
      this.#metadata[index] = {
        topic,
        partition,
        offset,
        timestamp,
        serializedKeySize: keySize,
        serializedValueSize: valueSize,
      };
    }
    this.#delivered++;
    if (--this.#pending === 0 && this.#sealed) this.#settle();
  }

  failed(index: number, error: Error): void {
    if (this.#failures === undefined) this.#failures = [];
    this.#failures.push({ index, error });
    if (--this.#pending === 0 && this.#sealed) this.#settle();
  }

  /** Every record has been handed to the producer: settle as soon as they are all done. */
  seal(): void {
    this.#sealed = true;
    if (this.#pending === 0) this.#settle();
  }

  #settle(): void {
    if (this.#failures !== undefined) {
      this.#reject(new BatchSendError(this.#failures, this.#delivered, this.#metadata));
      return;
    }
    const result: SendBatchResult = { records: this.#delivered };
    if (this.#metadata !== undefined) result.metadata = this.#metadata as RecordMetadata[];
    this.#resolve(result);
  }
}
