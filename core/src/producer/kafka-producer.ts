import { Observable, type Subscriber } from 'rxjs';
import type { ProducerConfig } from '../config/producer-config.js';
import { IllegalStateError, KafkaClientError, RecordTooLargeError } from '../errors.js';
import type { Logger } from '../network/logger.js';
import type { Metadata, PartitionMetadata, TopicMetadata } from '../network/metadata.js';
import type { NetworkClient } from '../network/network-client.js';
import { estimateSizeInBytesUpperBound, type RecordHeader } from '../protocol/record-batch.js';
import type { Clock } from './clock.js';
import type { IdempotenceManager } from './idempotence.js';
import type { ProducerInterceptors } from './interceptors.js';
import { PRODUCER_METRICS, type ProducerMetricValues, type ProducerSensors } from './metrics.js';
import type { MetricsReporter, MetricsSource } from './metrics-reporter.js';
import type { OnDelivered, OnFailed, RecordSink, Reject, Resolve } from './producer-batch.js';
import { AppendResult, type RecordAccumulator } from './record-accumulator.js';
import { RecordGroup, type SendBatchOptions, type SendBatchResult } from './record-group.js';
import type { Sender } from './sender.js';
import { serializeOrThrow } from './serializers.js';
import type { ProducerStreams } from './streams.js';
import {
  type ConsumerGroupMetadata,
  type OffsetToCommit,
  type TransactionManager,
  TransactionState,
} from './transactions.js';
import type {
  BufferPool,
  Partitioner,
  ProducerRecord,
  RecordHeaders,
  RecordMetadata,
  Serializer,
} from './types.js';

export interface ProducerParts<K, V> {
  config: Readonly<ProducerConfig>;
  client: NetworkClient;
  metadata: Metadata;
  accumulator: RecordAccumulator;
  sender: Sender;
  pool: BufferPool;
  partitioner: Partitioner;
  keySerializer: Serializer<K>;
  valueSerializer: Serializer<V>;
  interceptors: ProducerInterceptors<K, V>;
  streams: ProducerStreams;
  logger: Logger;
  counters: ProducerSensors;
  reporters: readonly MetricsReporter[];
  idempotence: IdempotenceManager | undefined;
  transactions: TransactionManager | undefined;
  clock: Clock;
}

/**
 * `metrics()`: every metric by its Kafka name (`record-send-rate`,
 * `request-latency-avg`, ...; see PRODUCER_METRICS and docs/metrics.md), plus
 * a few camelCase shorthands.
 */
export interface ProducerMetrics extends ProducerMetricValues {
  recordsSent: number;
  recordsFailed: number;
  bufferAvailableBytes: number;
  bufferTotalBytes: number;
  bufferPoolWaiters: number;
  batchesIncomplete: number;
  batchesInFlight: number;
  /** Idempotence: the producer id and epoch (-1 when off or not yet assigned), and epoch bumps so far. */
  producerId: number;
  producerEpoch: number;
  epochBumps: number;
}

/** Called once per record: with the error, or with the metadata. */
export type SendCallback = (error: Error | undefined, metadata: RecordMetadata | undefined) => void;

/**
 * A Kafka producer. Obtain one with `createProducer`; it only wires and
 * delegates: the accumulator holds batches, the sender ships them, the
 * network client talks to brokers.
 *
 * `send` returns a promise per record that always settles: with the record's
 * metadata once acknowledged, or with a typed error (the producer is closed,
 * serialization failed, the record is too large, metadata or memory did not
 * come within maxBlockMs, the broker refused it, deliveryTimeoutMs passed).
 */
export class KafkaProducer<K = unknown, V = unknown> {
  readonly #p: ProducerParts<K, V>;
  readonly #maxRequestSize: number;
  readonly #bufferMemory: number;
  readonly #batchSize: number;
  readonly #maxBlockMs: number;
  #closing: Promise<void> | undefined;
  #noHeaders: RecordHeader[] = [];
  readonly #clock: Clock;
  readonly #keySerializerName: string;
  readonly #valueSerializerName: string;

  constructor(parts: ProducerParts<K, V>) {
    this.#p = parts;
    this.#maxRequestSize = parts.config.maxRequestSize;
    this.#bufferMemory = parts.config.bufferMemory;
    this.#batchSize = Math.max(parts.config.batchSize, 128);
    this.#maxBlockMs = parts.config.maxBlockMs;
    this.#clock = parts.clock;
    this.#keySerializerName = `key serializer ${parts.keySerializer.constructor?.name ?? ''}`.trim();
    this.#valueSerializerName = `value serializer ${parts.valueSerializer.constructor?.name ?? ''}`.trim();
  }

  get config(): Readonly<ProducerConfig> {
    return this.#p.config;
  }

  /** Each record accepted into the accumulator. */
  get records$() {
    return this.#p.streams.records$;
  }

  /** Each batch leaving for a broker. */
  get batchesDrained$() {
    return this.#p.streams.batchesDrained$;
  }

  /** Each produce response, per partition. */
  get responses$() {
    return this.#p.streams.responses$;
  }

  /**
   * Sends a record; resolves when the broker acknowledges it (see the class
   * docs for failures). With a callback, it is also called once, Node style,
   * with the error or the metadata (the Java client's Callback).
   */
  send(record: ProducerRecord<K, V>, callback?: SendCallback): Promise<RecordMetadata> {
    if (callback !== undefined && typeof callback !== 'function') {
      // Calling it would throw in a reaction nobody handles: refuse the record instead.
      return Promise.reject(
        new KafkaClientError(
          'INVALID_CALLBACK',
          `the send callback must be a function, got ${describeRecord(callback)}`,
        ),
      );
    }
    const promise = this.#sendRecord(record);
    if (callback !== undefined) {
      promise.then(
        (m) => callback(undefined, m),
        (e: Error) => callback(e, undefined),
      );
    }
    return promise;
  }

  /**
   * Sends many records with one promise for all of them: it resolves when
   * every record is acknowledged, or rejects with a BatchSendError naming
   * each record that failed (by input index) once every record has settled.
   * Each record goes through the same pipeline as `send()` (partitioning,
   * batching, retries, ordering), but costs no promise of its own, which is
   * what makes this the fast path for bulk and stream input. With
   * `{ metadata: true }` the result carries every record's metadata.
   */
  sendBatch(
    records: readonly ProducerRecord<K, V>[],
    options: SendBatchOptions = {},
  ): Promise<SendBatchResult> {
    if (!Array.isArray(records)) {
      return Promise.reject(
        new KafkaClientError(
          'INVALID_RECORD',
          `sendBatch takes an array of records, got ${describeRecord(records)}`,
        ),
      );
    }
    const refused = this.#refuseSend();
    if (refused !== undefined) return refused;
    const p = this.#p;
    const group = new RecordGroup(records.length, options.metadata === true);
    // Interceptors see every record and its acknowledgement: give each a sink that reports to them.
    const sink: RecordSink = p.interceptors.empty ? group : new InterceptedSink(group, p.interceptors);
    const now = this.#clock.now();
    for (let i = 0; i < records.length; i++) {
      let record = records[i] as ProducerRecord<K, V>;
      if (!p.interceptors.empty) record = p.interceptors.onSend(record);
      if (isInvalidRecord(record)) {
        p.counters.recordFailed(1, now);
        group.failed(i, invalidRecordError(record));
        continue;
      }
      const known = this.#knownTopic(record.topic);
      if (known !== undefined) this.#send(record, known, now, now, sink, i);
      else this.#sendAfterMetadata(record, sink, i);
    }
    group.seal();
    return group.promise;
  }

  // The last topic sent to, while the cluster view is the same: most programs
  // send to one topic at a time, and this saves a map lookup per record.
  #lastCluster: unknown;
  #lastTopic = '';
  #lastKnown: TopicMetadata | undefined;

  /** The topic's metadata if it is known and has partitions, else undefined. */
  #knownTopic(topic: string): TopicMetadata | undefined {
    const cluster = this.#p.metadata.cluster;
    if (topic === this.#lastTopic && cluster === this.#lastCluster) return this.#lastKnown;
    const known = cluster.topics.get(topic);
    if (known === undefined || known.partitions.length === 0) return undefined;
    this.#lastCluster = cluster;
    this.#lastTopic = topic;
    this.#lastKnown = known;
    return known;
  }

  /**
   * The rejection for a send refused outright, else undefined: after close()
   * (which wins: the transaction is then not asked), or outside an open
   * transaction (assertCanSend's error).
   */
  #refuseSend(): Promise<never> | undefined {
    const txn = this.#p.transactions;
    if (txn !== undefined && !this.#closing) {
      try {
        txn.assertCanSend();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (this.#closing)
      return Promise.reject(new IllegalStateError('cannot send after the producer is closed'));
    return undefined;
  }

  #sendRecord(record: ProducerRecord<K, V>): Promise<RecordMetadata> {
    const refused = this.#refuseSend();
    if (refused !== undefined) return refused;
    const p = this.#p;
    if (!p.interceptors.empty) record = p.interceptors.onSend(record);
    if (isInvalidRecord(record)) return Promise.reject(invalidRecordError(record));
    const known = this.#knownTopic(record.topic);
    if (known !== undefined) {
      const now = this.#clock.now();
      return this.#send(record, known, now, now) as Promise<RecordMetadata>;
    }
    return this.#sendAfterMetadata(record) as Promise<RecordMetadata>;
  }

  /**
   * Sends not yet in the accumulator (waiting for metadata or memory): flush()
   * waits for them to join a batch first, since they were sent before it.
   */
  readonly #preAppend = new Set<Promise<unknown>>();

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#preAppend.add(promise);
    const untrack = () => this.#preAppend.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }

  /** Waits for the topic's metadata, then sends; with a sink, the outcome goes to it and nothing is returned. */
  #sendAfterMetadata(
    record: ProducerRecord<K, V>,
    sink?: RecordSink,
    index = -1,
  ): Promise<RecordMetadata> | undefined {
    const start = this.#clock.now();
    // Only the wait is tracked for flush(): once it settles, the record is
    // appended (this reaction runs before flush's) or has failed.
    const waiting = this.#track(this.#p.metadata.waitOnMetadata(record.topic, this.#maxBlockMs));
    const sent = waiting.then(
      (topic) => {
        if (this.#closing) {
          const err = new IllegalStateError('the producer closed while the record waited for metadata');
          this.#p.interceptors.onSendError(record, -1, err);
          this.#p.counters.recordFailed(1, this.#clock.now());
          throw err;
        }
        return this.#send(record, topic, start, this.#clock.now(), sink, index);
      },
      (err: Error) => {
        this.#p.interceptors.onSendError(record, -1, err);
        this.#p.counters.recordFailed(1, this.#clock.now());
        throw err;
      },
    );
    if (sink === undefined) return sent as Promise<RecordMetadata>;
    sent.catch((err: Error) => sink.failed(index, err));
    return undefined;
  }

  /** `startMs`: when send() was called (maxBlockMs counts from it); `now`: the time now. */
  #send(
    record: ProducerRecord<K, V>,
    topic: TopicMetadata,
    startMs: number,
    now: number,
    sink?: RecordSink,
    index = -1,
  ): Promise<RecordMetadata> | undefined {
    const p = this.#p;
    let partition = -1;
    try {
      let headers = record.headers === undefined ? undefined : toHeaderList(record.headers);
      // Serializers may add headers (as Java's may). A record without headers
      // lends them a shared empty list; if they added to it, it becomes this
      // record's list and the next record gets a fresh one.
      const serializerHeaders = headers ?? this.#noHeaders;
      const keyBytes = serializeOrThrow(
        p.keySerializer,
        this.#keySerializerName,
        record.topic,
        record.key ?? null,
        serializerHeaders,
        'key',
      );
      const valueBytes = serializeOrThrow(
        p.valueSerializer,
        this.#valueSerializerName,
        record.topic,
        record.value,
        serializerHeaders,
        'value',
      );
      if (headers === undefined && serializerHeaders.length > 0) {
        headers = serializerHeaders;
        this.#noHeaders = [];
      }
      const count = topic.partitions.length;
      let sticky = false;
      if (record.partition !== undefined) {
        partition = record.partition;
        if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
          throw new KafkaClientError(
            'INVALID_PARTITION',
            `partition ${String(partition)} is not in [0, ${count - 1}] for topic ${record.topic}`,
          );
        }
      } else {
        partition = p.partitioner.partition(
          record.topic,
          record.key,
          keyBytes,
          record.value,
          valueBytes,
          p.metadata.cluster,
        );
        if (partition < 0) {
          sticky = true;
          partition = p.accumulator.topic(record.topic).sticky.peekCurrentPartition(p.metadata.cluster);
        } else if (partition >= count || !Number.isInteger(partition)) {
          throw new KafkaClientError(
            'INVALID_PARTITION',
            `the partitioner chose partition ${partition}, but ${record.topic} has ${count}`,
          );
        }
      }
      const size = estimateSizeInBytesUpperBound(keyBytes, valueBytes, headers);
      if (size > this.#maxRequestSize) {
        throw new RecordTooLargeError(
          `the record is ${size} bytes when serialized, larger than maxRequestSize (${this.#maxRequestSize}) for topic ${record.topic}`,
        );
      }
      if (size > this.#bufferMemory) {
        throw new RecordTooLargeError(
          `the record is ${size} bytes when serialized, larger than bufferMemory (${this.#bufferMemory})`,
        );
      }
      const timestamp = record.timestamp ?? now;
      // Milliseconds since the epoch as an int64: a safe integer here (the
      // record batch writes it as a varlong delta, exact only for integers).
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
        throw new KafkaClientError(
          'INVALID_TIMESTAMP',
          `invalid timestamp ${String(timestamp)} for topic ${record.topic}: must be a non-negative integer (ms since the epoch)`,
        );
      }
      return this.#append(
        record,
        partition,
        sticky,
        timestamp,
        keyBytes,
        valueBytes,
        headers,
        size,
        startMs,
        now,
        sink,
        index,
      );
    } catch (err) {
      p.interceptors.onSendError(record, partition, err as Error);
      this.#p.counters.recordFailed(1, this.#clock.now());
      if (sink === undefined) return Promise.reject(err);
      sink.failed(index, err as Error);
      return undefined;
    }
  }

  // new Promise(this.#capture) hands over the resolving functions without a
  // closure (and its context) per record: the hot path's largest allocation.
  #capturedResolve: ((m: RecordMetadata) => void) | undefined;
  #capturedReject: ((e: Error) => void) | undefined;
  readonly #capture = (resolve: (m: RecordMetadata) => void, reject: (e: Error) => void): void => {
    this.#capturedResolve = resolve;
    this.#capturedReject = reject;
  };

  #append(
    record: ProducerRecord<K, V>,
    partition: number,
    sticky: boolean,
    timestamp: number,
    keyBytes: Uint8Array | null,
    valueBytes: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    size: number,
    startMs: number,
    now: number,
    sink: RecordSink | undefined,
    index: number,
  ): Promise<RecordMetadata> | undefined {
    if (sink !== undefined) {
      // A sendBatch record: the batch settles it through the sink, by index.
      this.#appendTo(
        record,
        partition,
        sticky,
        timestamp,
        keyBytes,
        valueBytes,
        headers,
        size,
        startMs,
        now,
        sink,
        index,
      );
      return undefined;
    }
    const p = this.#p;
    const promise = new Promise<RecordMetadata>(this.#capture);
    let res = this.#capturedResolve as (m: RecordMetadata) => void;
    let rej = this.#capturedReject as (e: Error) => void;
    if (!p.interceptors.empty) {
      const resolve = res;
      const reject = rej;
      res = (m) => {
        p.interceptors.onAcknowledgement(m, undefined);
        resolve(m);
      };
      rej = (e) => {
        p.interceptors.onAcknowledgement(undefined, e);
        reject(e);
      };
    }
    this.#appendTo(
      record,
      partition,
      sticky,
      timestamp,
      keyBytes,
      valueBytes,
      headers,
      size,
      startMs,
      now,
      res,
      rej,
    );
    return promise;
  }

  /**
   * Appends the record; the batch settles it with `delivered` / `failed`:
   * a promise's resolve and reject, or a sendBatch sink and the record's index.
   */
  #appendTo(
    record: ProducerRecord<K, V>,
    partition: number,
    sticky: boolean,
    timestamp: number,
    keyBytes: Uint8Array | null,
    valueBytes: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    size: number,
    startMs: number,
    now: number,
    delivered: OnDelivered,
    failed: OnFailed,
  ): void {
    const p = this.#p;
    try {
      const tq = p.accumulator.topic(record.topic);
      const bufferSize = Math.max(size, this.#batchSize);
      const result = p.accumulator.append(
        tq,
        partition,
        timestamp,
        keyBytes,
        valueBytes,
        headers,
        delivered,
        failed,
        bufferSize,
        now,
      );
      if (result !== AppendResult.NeedsMemory) {
        this.#appended(record, tq, partition, sticky, result, keyBytes, valueBytes, timestamp, size);
        return;
      }
      // The slow path may allocate: a sink's record gets closures that report to it.
      const sink = typeof delivered === 'function' ? undefined : delivered;
      const index = failed as number;
      this.#waitForMemory(record, tq, partition, sticky, timestamp, keyBytes, valueBytes, headers, size, {
        bufferSize,
        deadline: startMs + this.#maxBlockMs,
        resolve:
          sink === undefined
            ? (delivered as Resolve)
            : (m) =>
                sink.delivered(
                  index,
                  m.topic,
                  m.partition,
                  m.offset,
                  m.timestamp,
                  m.serializedKeySize,
                  m.serializedValueSize,
                ),
        reject: sink === undefined ? (failed as Reject) : (e) => sink.failed(index, e),
      });
    } catch (err) {
      if (typeof failed === 'function') failed(err as Error);
      else (delivered as RecordSink).failed(failed, err as Error);
    }
  }

  /**
   * Memory is exhausted: wakes the sender (full batches free memory when
   * acknowledged) and queues the record for its partition's next batch.
   */
  #waitForMemory(
    record: ProducerRecord<K, V>,
    tq: ReturnType<RecordAccumulator['topic']>,
    partition: number,
    sticky: boolean,
    timestamp: number,
    keyBytes: Uint8Array | null,
    valueBytes: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    size: number,
    w: {
      bufferSize: number;
      deadline: number;
      resolve: (m: RecordMetadata) => void;
      reject: (e: Error) => void;
    },
  ): void {
    const p = this.#p;
    p.sender.wakeup();
    let settle!: () => void;
    this.#track(new Promise<void>((r) => (settle = r)));
    p.accumulator.enqueueWaiting(tq, partition, {
      timestamp,
      key: keyBytes,
      value: valueBytes,
      headers,
      resolve: w.resolve,
      reject: (e) => {
        p.counters.recordFailed(1, this.#clock.now());
        w.reject(e);
      },
      bufferSize: w.bufferSize,
      deadline: w.deadline,
      settled: (outcome) => {
        settle();
        if (typeof outcome === 'number')
          this.#appended(record, tq, partition, sticky, outcome, keyBytes, valueBytes, timestamp, size);
      },
    });
  }

  #appended(
    record: ProducerRecord<K, V>,
    tq: ReturnType<RecordAccumulator['topic']>,
    partition: number,
    sticky: boolean,
    result: AppendResult,
    keyBytes: Uint8Array | null,
    valueBytes: Uint8Array | null,
    timestamp: number,
    size: number,
  ): void {
    const p = this.#p;
    // Java's rule: a switch is allowed once the partition's batches are all full.
    if (sticky)
      tq.sticky.updatePartitionInfo(partition, size, p.metadata.cluster, result === AppendResult.BatchFull);
    if (result === AppendResult.NewBatch || result === AppendResult.BatchFull) p.sender.wakeup();
    if (p.streams.recordsObserved) {
      p.streams.record(record.topic, partition, keyBytes?.length ?? -1, valueBytes?.length ?? -1, timestamp);
    }
  }

  /** Resolves when every record sent before the call is acknowledged or failed. */
  async flush(): Promise<void> {
    while (this.#preAppend.size > 0) await Promise.allSettled([...this.#preAppend]);
    const done = this.#p.accumulator.flush();
    this.#p.sender.wakeup();
    await done;
  }

  // -- transactions (a producer with transactionalId) -----------------------------------

  #txn(): TransactionManager {
    const t = this.#p.transactions;
    if (t === undefined)
      throw new IllegalStateError(
        'this producer has no transactionalId: set transactionalId in its config to use transactions',
      );
    return t;
  }

  /** Registers the transactional id with its coordinator (fencing older instances). Call once, first. */
  async initTransactions(): Promise<void> {
    await this.#txn().initTransactions();
  }

  /** Opens a transaction: sends until commit/abort belong to it. */
  beginTransaction(): void {
    this.#txn().beginTransaction();
  }

  /** Adds consumer offsets to the open transaction (consume-transform-produce). */
  async sendOffsetsToTransaction(
    offsets: readonly OffsetToCommit[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    await this.#txn().sendOffsetsToTransaction(offsets, group);
  }

  /**
   * Sends what is buffered and commits the transaction. If a record of it
   * failed, nothing is committed: this rejects with that error and the
   * transaction must be aborted.
   */
  async commitTransaction(): Promise<void> {
    const t = this.#txn();
    t.assertCanEnd(true); // "call ... before commitTransaction()", or the fatal error
    await this.flush();
    if (t.abortableError !== undefined || t.state === TransactionState.AbortableError) {
      const err =
        t.abortableError ?? new IllegalStateError('the transaction failed: call abortTransaction()');
      throw err;
    }
    await t.endTransaction(true);
  }

  /** Aborts the open transaction: its records are never visible to read_committed consumers. */
  async abortTransaction(): Promise<void> {
    const t = this.#txn();
    t.assertCanEnd(false); // "call ... before abortTransaction()", or the fatal error
    await this.flush();
    await t.endTransaction(false);
  }

  /** The topic's partitions (fetching metadata if needed, up to maxBlockMs). */
  async partitionsFor(topic: string): Promise<readonly PartitionMetadata[]> {
    return (await this.#p.metadata.waitOnMetadata(topic, this.#maxBlockMs)).partitions;
  }

  /** Every metric now: Kafka's names (windowed rates, averages and maxima; totals) and the camelCase shorthands. */
  metrics(): ProducerMetrics {
    const p = this.#p;
    const values = this.#metricValues();
    return {
      ...values,
      recordsSent: p.counters.sent,
      recordsFailed: p.counters.failed,
      bufferAvailableBytes: values['buffer-available-bytes'],
      bufferTotalBytes: values['buffer-total-bytes'],
      bufferPoolWaiters: values['waiting-threads'],
      batchesIncomplete: values['batches-incomplete'],
      batchesInFlight: values['requests-in-flight'],
      producerId: values['producer-id'],
      producerEpoch: values['producer-epoch'],
      epochBumps: values['epoch-bump-total'],
    };
  }

  #metricValues(): ProducerMetricValues {
    const p = this.#p;
    const lastUpdate = p.metadata.lastUpdateMs;
    return p.counters.snapshot(this.#clock.now(), {
      inFlight: p.sender.inFlightCount,
      bufferTotal: p.pool.totalMemory,
      bufferAvailable: p.pool.availableMemory,
      poolWaiters: p.pool.queued,
      metadataAgeMs: lastUpdate > 0 ? Date.now() - lastUpdate : Number.NaN,
      incompleteBatches: p.accumulator.incompleteCount,
      producerId: p.idempotence?.producerId ?? -1,
      producerEpoch: p.idempotence?.epoch ?? -1,
      epochBumps: p.idempotence?.bumps ?? 0,
    });
  }

  /**
   * The metrics as a stream: a snapshot at once, then every `periodMs`
   * (default 1000) until the producer closes, when it completes. Each
   * subscription has its own timer, which keeps the process alive while
   * subscribed (as rxjs's `interval` does).
   */
  metrics$(periodMs = 1000): Observable<ProducerMetrics> {
    return new Observable<ProducerMetrics>((subscriber) => {
      if (this.#closed) {
        subscriber.complete();
        return;
      }
      subscriber.next(this.metrics());
      const timer = setInterval(() => subscriber.next(this.metrics()), periodMs);
      this.#metricSubscribers.add(subscriber);
      return () => {
        clearInterval(timer);
        this.#metricSubscribers.delete(subscriber);
      };
    });
  }

  readonly #metricSubscribers = new Set<Subscriber<ProducerMetrics>>();
  #closed = false;

  /** Hands the registered METRICS_REPORTERs their source (called once by createProducer). */
  initReporters(): void {
    const source: MetricsSource = {
      clientId: this.#p.config.clientId,
      descriptors: PRODUCER_METRICS,
      read: () => this.#metricValues(),
    };
    for (const r of this.#p.reporters) r.init(source);
  }

  /**
   * Stops accepting records, sends what is buffered within `timeoutMs`
   * (default: no limit), then fails whatever is left with an
   * IllegalStateError, closes every connection and completes the streams.
   * No record's promise is left unsettled.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? Number.POSITIVE_INFINITY);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    const p = this.#p;
    p.accumulator.closed = true;
    p.sender.wakeup();
    if (timeoutMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const flushed = this.flush();
      await (Number.isFinite(timeoutMs)
        ? Promise.race([flushed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
        : flushed);
      if (timer) clearTimeout(timer);
    }
    const timeout = Number.isFinite(timeoutMs) ? `${timeoutMs} ms` : 'none';
    const err = new IllegalStateError(
      `the producer was closed before the record was sent (close timeout ${timeout})`,
    );
    const sentErr = new IllegalStateError(
      `the producer was closed before the broker acknowledged the record; it was sent, so it may have been written (close timeout ${timeout})`,
    );
    p.accumulator.abortAll(err, sentErr);
    p.sender.close();
    p.metadata.close();
    p.pool.close();
    await p.client.close();
    p.interceptors.close();
    for (const s of [p.keySerializer, p.valueSerializer]) await s.close?.();
    p.partitioner.close?.();
    p.streams.complete();
    this.#closed = true;
    for (const r of p.reporters) {
      try {
        r.close?.();
      } catch (err) {
        p.logger.warn('a metrics reporter failed to close', { error: (err as Error).message });
      }
    }
    for (const s of [...this.#metricSubscribers]) s.complete();
  }
}

/** Headers as the record batch writes them: keys as strings, values as bytes or null. */
function toHeaderList(headers: RecordHeaders): RecordHeader[] {
  const out: RecordHeader[] = [];
  const isArray = Array.isArray(headers);
  // A plain object or an array of pairs; anything else (a string, a Map, a
  // Buffer) would otherwise be read as the wrong headers or none at all.
  if (!isArray && (headers === null || typeof headers !== 'object' || !isPlainObject(headers))) {
    throw new KafkaClientError(
      'INVALID_HEADER',
      `headers must be a plain object or an array of [key, value] pairs, got ${describeRecord(headers)}`,
    );
  }
  const entries = isArray ? headers : Object.entries(headers as Record<string, unknown>);
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry))
      throw new KafkaClientError(
        'INVALID_HEADER',
        `a header must be a [key, value] pair, got ${describeRecord(entry)}`,
      );
    const [key, value] = entry as [unknown, unknown];
    if (typeof key !== 'string')
      throw new KafkaClientError('INVALID_HEADER', `header keys must be strings, got ${describeRecord(key)}`);
    if (value === null || value === undefined) out.push({ key, value: null });
    else if (typeof value === 'string') out.push({ key, value: Buffer.from(value, 'utf8') });
    else if (value instanceof Uint8Array) out.push({ key, value });
    else
      throw new KafkaClientError(
        'INVALID_HEADER',
        `header ${key}: values must be strings, bytes or null, got ${describeRecord(value)}`,
      );
  }
  return out;
}

function isPlainObject(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}

/** Whether `record` (after the interceptors) is not an object with a string topic. */
function isInvalidRecord(record: ProducerRecord<unknown, unknown>): boolean {
  return record === null || typeof record !== 'object' || typeof record.topic !== 'string';
}

/** The INVALID_RECORD error for a record isInvalidRecord refused (only on the error path). */
function invalidRecordError(record: unknown): KafkaClientError {
  return new KafkaClientError(
    'INVALID_RECORD',
    `a record must be an object with a string topic, got ${describeRecord(record)}`,
  );
}

/** What a rejected input was, for error messages (only on the error path). */
function describeRecord(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return `an object (${(x as object).constructor?.name ?? 'no prototype'})`;
  if (typeof x === 'string')
    return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x)}`;
  return `${typeof x} ${String(x)}`;
}

/** A `sendBatch` sink that tells the interceptors about each acknowledgement, then the group. */
class InterceptedSink<K, V> implements RecordSink {
  readonly #group: RecordSink;
  readonly #interceptors: ProducerInterceptors<K, V>;

  constructor(group: RecordSink, interceptors: ProducerInterceptors<K, V>) {
    this.#group = group;
    this.#interceptors = interceptors;
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
    this.#interceptors.onAcknowledgement(
      { topic, partition, offset, timestamp, serializedKeySize: keySize, serializedValueSize: valueSize },
      undefined,
    );
    this.#group.delivered(index, topic, partition, offset, timestamp, keySize, valueSize);
  }

  failed(index: number, error: Error): void {
    this.#interceptors.onAcknowledgement(undefined, error);
    this.#group.failed(index, error);
  }
}
