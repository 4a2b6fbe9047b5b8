import type { Logger } from '../network/logger.js';
import type { Interceptor, ProducerRecord, RecordMetadata } from './types.js';

/** `-1`: unknown, as in the Java client's RecordMetadata for a failed send (RecordBatch.NO_TIMESTAMP for the timestamp). */
const UNKNOWN = -1;

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The producer's interceptor chain, in configuration order, like the Java
 * client's `ProducerInterceptors`. Interceptor exceptions are caught and
 * logged (warn, naming the interceptor), never propagated: a failing
 * interceptor cannot fail a send or an acknowledgement.
 *
 * The methods are synchronous. An interceptor written as `async` is called
 * anyway, but its promise is not awaited: from `onSend` it is not a record,
 * so that step is skipped; a rejection from any of them is logged rather
 * than left unhandled (which would crash Node).
 */
export class ProducerInterceptors<K, V> {
  readonly #log: Logger;
  // Resolved once so the per-record loops touch only interceptors that have the method.
  readonly #onSend: Interceptor<K, V>[] = [];
  readonly #onSendNames: string[] = [];
  readonly #onAck: Interceptor<K, V>[] = [];
  readonly #onAckNames: string[] = [];
  readonly #all: readonly Interceptor<K, V>[];
  readonly #names: string[] = [];

  constructor(interceptors: readonly Interceptor<K, V>[], logger: Logger) {
    this.#log = logger;
    this.#all = interceptors.slice();
    for (let i = 0; i < interceptors.length; i++) {
      const ic = interceptors[i] as Interceptor<K, V>;
      const ctor = (ic as { constructor?: { name?: unknown } }).constructor?.name;
      // An object literal's constructor is Object: its position says more.
      const name = typeof ctor === 'string' && ctor !== '' && ctor !== 'Object' ? ctor : `interceptor #${i}`;
      this.#names.push(name);
      if (typeof ic.onSend === 'function') {
        this.#onSend.push(ic);
        this.#onSendNames.push(name);
      }
      if (typeof ic.onAcknowledgement === 'function') {
        this.#onAck.push(ic);
        this.#onAckNames.push(name);
      }
    }
  }

  /** True when there are no interceptors: the producer can skip calling them. */
  get empty(): boolean {
    return this.#all.length === 0;
  }

  /**
   * Runs each interceptor's `onSend` in order, each on the previous one's
   * result. One that throws, or returns something that is not a record, is
   * logged and skipped: the record goes on as it was before that step.
   */
  onSend(record: ProducerRecord<K, V>): ProducerRecord<K, V> {
    let current = record;
    const chain = this.#onSend;
    for (let i = 0; i < chain.length; i++) {
      let next: unknown;
      try {
        next = (chain[i] as Interceptor<K, V>).onSend!(current);
      } catch (err) {
        this.#warn('onSend', this.#onSendNames[i], current.topic, err);
        continue;
      }
      if (
        typeof next === 'object' &&
        next !== null &&
        !isThenable(next) &&
        typeof (next as { topic?: unknown }).topic === 'string'
      ) {
        current = next as ProducerRecord<K, V>;
      } else {
        this.#rejectedResult(this.#onSendNames[i], current.topic, next);
      }
    }
    return current;
  }

  /** Tells every interceptor about an acknowledgement (metadata) or a failure (error); throws are logged. */
  onAcknowledgement(metadata: RecordMetadata | undefined, error: Error | undefined): void {
    const chain = this.#onAck;
    for (let i = 0; i < chain.length; i++) {
      try {
        const r: unknown = (chain[i] as Interceptor<K, V>).onAcknowledgement!(metadata, error);
        if (r !== undefined && isThenable(r)) this.#catchAsync(r, 'onAcknowledgement', this.#onAckNames[i]);
      } catch (err) {
        this.#warn('onAcknowledgement', this.#onAckNames[i], metadata?.topic, err);
      }
    }
  }

  /**
   * A send that failed before its record reached a batch (serialization,
   * partitioning, buffer memory, an unknown topic): as the Java client does,
   * each interceptor's `onAcknowledgement` gets a metadata naming the topic
   * and partition with offset, timestamp and sizes -1. The partition is the
   * chosen one, else the record's own, else -1 (undefined and -1 both mean
   * "not chosen yet").
   * Without a record, the metadata is undefined.
   */
  onSendError(record: ProducerRecord<K, V> | undefined, partition: number | undefined, error: Error): void {
    if (this.#onAck.length === 0) return;
    let metadata: RecordMetadata | undefined;
    if (record !== undefined) {
      // One object shared by all interceptors, frozen so none can change what the next one sees.
      metadata = Object.freeze({
        topic: record.topic,
        partition: partition !== undefined && partition >= 0 ? partition : (record.partition ?? UNKNOWN),
        offset: UNKNOWN,
        timestamp: UNKNOWN,
        serializedKeySize: UNKNOWN,
        serializedValueSize: UNKNOWN,
      });
    }
    this.onAcknowledgement(metadata, error);
  }

  /** Closes every interceptor, in order; throws are logged. */
  close(): void {
    const all = this.#all;
    for (let i = 0; i < all.length; i++) {
      const ic = all[i] as Interceptor<K, V>;
      if (typeof ic.close !== 'function') continue;
      try {
        const r: unknown = ic.close();
        if (r !== undefined && isThenable(r)) this.#catchAsync(r, 'close', this.#names[i]);
      } catch (err) {
        this.#warn('close', this.#names[i], undefined, err);
      }
    }
  }

  #warn(method: string, interceptor: string | undefined, topic: string | undefined, err: unknown): void {
    this.#log.warn(`interceptor ${method} threw; ignored`, {
      interceptor,
      method,
      topic,
      error: errorMessage(err),
    });
  }

  #rejectedResult(interceptor: string | undefined, topic: string, result: unknown): void {
    if (isThenable(result)) this.#catchAsync(result, 'onSend', interceptor);
    this.#log.warn(
      'interceptor onSend returned no record; the step is skipped and the record sent unchanged',
      {
        interceptor,
        method: 'onSend',
        topic,
        error: isThenable(result)
          ? 'onSend returned a promise: interceptors are synchronous'
          : `onSend returned ${result === null ? 'null' : typeof result}, not a record`,
      },
    );
  }

  #catchAsync(p: PromiseLike<unknown>, method: string, interceptor: string | undefined): void {
    p.then(undefined, (err: unknown) => this.#warn(method, interceptor, undefined, err));
  }
}
