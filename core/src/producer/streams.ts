import {
  type MonoTypeOperatorFunction,
  mergeMap,
  type Observable,
  type OperatorFunction,
  Subject,
} from 'rxjs';
import type { ProduceResponse } from '../protocol/apis/produce.js';
import type { ProducerBatch } from './producer-batch.js';
import type { SendBatchOptions, SendBatchResult } from './record-group.js';
import type { ProducerRecord, RecordMetadata } from './types.js';

/** A record accepted into the accumulator. */
export interface RecordAccepted {
  topic: string;
  partition: number;
  keySize: number;
  valueSize: number;
  timestamp: number;
}

/** A batch leaving the accumulator for a broker. */
export interface BatchDrained {
  nodeId: number;
  topic: string;
  partition: number;
  recordCount: number;
  /** Bytes on the wire (after compression). */
  bytes: number;
  compression: string;
  attempt: number;
}

/** A produce response, per partition. */
export interface ProduceResponseEvent {
  nodeId: number;
  latencyMs: number;
  partitions: Array<{ topic: string; partition: number; errorCode: number; baseOffset: number }>;
}

/**
 * The producer's three streams. The subjects are private; each emits only
 * while someone subscribes (`observed`), so an unwatched stream costs one
 * property read per event. A failed record is a value (in responses$, with
 * its error code), never a stream error; the streams complete on close().
 */
export class ProducerStreams {
  readonly #records = new Subject<RecordAccepted>();
  readonly #drained = new Subject<BatchDrained>();
  readonly #responses = new Subject<ProduceResponseEvent>();
  readonly records$: Observable<RecordAccepted> = this.#records.asObservable();
  readonly batchesDrained$: Observable<BatchDrained> = this.#drained.asObservable();
  readonly responses$: Observable<ProduceResponseEvent> = this.#responses.asObservable();

  get recordsObserved(): boolean {
    return this.#records.observed;
  }

  get drainedObserved(): boolean {
    return this.#drained.observed;
  }

  get responsesObserved(): boolean {
    return this.#responses.observed;
  }

  record(topic: string, partition: number, keySize: number, valueSize: number, timestamp: number): void {
    this.#records.next({ topic, partition, keySize, valueSize, timestamp });
  }

  batchDrained(nodeId: number, b: ProducerBatch, compression: string): void {
    this.#drained.next({
      nodeId,
      topic: b.topic.name,
      partition: b.partition,
      recordCount: b.recordCount,
      bytes: b.seal().length,
      compression,
      attempt: b.attempts,
    });
  }

  response(nodeId: number, latencyMs: number, res: ProduceResponse): void {
    const partitions: ProduceResponseEvent['partitions'] = [];
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        partitions.push({
          topic: t.name,
          partition: p.index,
          errorCode: p.errorCode,
          baseOffset: p.baseOffset,
        });
      }
    }
    this.#responses.next({ nodeId, latencyMs, partitions });
  }

  complete(): void {
    this.#records.complete();
    this.#drained.complete();
    this.#responses.complete();
  }
}

/** What `produceFrom` needs of a producer. */
export interface Sends<K, V> {
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata>;
}

/**
 * An operator feeding records from an Observable into a producer, at most
 * `concurrency` sends outstanding at once (the buffer pool adds its own
 * back-pressure), emitting each record's metadata. A failed send errors the
 * stream unless `onError` is given, which then decides.
 */
export function produceFrom<K, V>(
  producer: Sends<K, V>,
  options: { concurrency?: number } = {},
): OperatorFunction<ProducerRecord<K, V>, RecordMetadata> {
  return mergeMap((record: ProducerRecord<K, V>) => producer.send(record), options.concurrency ?? 1024);
}

/** Anything with `sendBatch`, like `KafkaProducer`. */
export interface SendsBatches<K, V> {
  sendBatch(records: readonly ProducerRecord<K, V>[], options?: SendBatchOptions): Promise<SendBatchResult>;
}

/**
 * The stream fast path: an operator feeding arrays of records (e.g. from
 * `bufferCount` or `bufferTime`) to `sendBatch`, at most `concurrency` arrays
 * outstanding, emitting one result per array when all its records are
 * acknowledged. Records cost no promise each; acknowledgement is per array.
 * A failed record errors the stream with a BatchSendError naming it.
 *
 * ```ts
 * records$.pipe(bufferCount(1000), produceBatches(producer)).subscribe((r) => acked += r.records);
 * ```
 */
export function produceBatches<K, V>(
  producer: SendsBatches<K, V>,
  options: { concurrency?: number; metadata?: boolean } = {},
): OperatorFunction<readonly ProducerRecord<K, V>[], SendBatchResult> {
  const sendOptions: SendBatchOptions = { metadata: options.metadata === true };
  return mergeMap(
    (records: readonly ProducerRecord<K, V>[]) => producer.sendBatch(records, sendOptions),
    options.concurrency ?? 64,
  );
}

export type { MonoTypeOperatorFunction };
