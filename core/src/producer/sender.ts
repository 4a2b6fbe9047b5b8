import { acksValue, type ProducerConfig } from '../config/producer-config.js';
import {
  type AuthenticationError,
  DeliveryTimeoutError,
  InvalidMetadataError,
  isKafkaClientError,
  kafkaProtocolError,
  ProducerFencedError,
} from '../errors.js';
import type { Logger } from '../network/logger.js';
import type { Metadata } from '../network/metadata.js';
import type { NetworkClient } from '../network/network-client.js';
import type { ProduceResponse } from '../protocol/apis/produce.js';
import { ProduceApi } from '../protocol/apis/produce.js';
import { CompressionType } from '../protocol/compression/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { encodeProduceRequestBody, type ProduceTopicBatches } from '../protocol/produce-request.js';
import { type BrokerApiVersions, chooseProduceVersion } from '../protocol/versions.js';
import { type Clock, systemClock } from './clock.js';
import { type IdempotenceManager, SequenceVerdict } from './idempotence.js';
import type { ProducerSensors } from './metrics.js';
import type { ProducerBatch } from './producer-batch.js';
import type { RecordAccumulator, Sequencer } from './record-accumulator.js';
import type { ProducerStreams } from './streams.js';
import { isFencedCode, type TransactionManager } from './transactions.js';

const selectAll = (): boolean => true;

/**
 * The sender: drains the accumulator to the brokers. Event-driven, not a
 * polling loop: a pass runs when an append fills or opens a batch, when a
 * response frees a slot, when a connection becomes ready, and when the one
 * re-armed timer reaches the nearest linger, backoff or expiry deadline.
 *
 * A pass is the seeds' `sendProducerData`: ready nodes; unknown leaders ->
 * metadata update; nodes not connected -> connect, and skip them this pass;
 * drain; mute partitions when order must be kept; expire batches past
 * `deliveryTimeoutMs`; one Produce request per node.
 */
const NOTHING_DRAINED: ReadonlyMap<number, ProducerBatch[]> = new Map();

export class Sender {
  readonly #config: ProducerConfig;
  readonly #accumulator: RecordAccumulator;
  readonly #client: NetworkClient;
  readonly #metadata: Metadata;
  readonly #log: Logger;
  readonly #streams: ProducerStreams;
  readonly #acks: number;
  readonly #guaranteeOrder: boolean;
  readonly #inFlight = new Set<ProducerBatch>();
  readonly #idem: IdempotenceManager | undefined;
  #txn: TransactionManager | undefined;
  /** Idempotence's (and transactions') gate and stamp for drain. */
  readonly #sequencer: Sequencer | undefined;
  #bumpsSeen = 0;
  readonly #sensors: ProducerSensors;
  readonly #clock: Clock;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #connecting = new Set<number>();
  readonly #run = () => this.#pass();
  readonly #produceVersion = (v: BrokerApiVersions) =>
    chooseProduceVersion(v, { inTransaction: this.#txn !== undefined, topicIdsKnown: false });
  // Bound once, with the pass's scratch state: a pass allocates nothing of its own.
  readonly #isNodeReady = (nodeId: number) => this.#client.isReady(nodeId);
  readonly #sendable: number[] = [];
  #readyDelay = Number.POSITIVE_INFINITY;
  readonly #lowerReadyDelay = (delayMs: number) => {
    if (delayMs < this.#readyDelay) this.#readyDelay = delayMs;
  };
  #closed = false;

  constructor(
    config: ProducerConfig,
    accumulator: RecordAccumulator,
    client: NetworkClient,
    metadata: Metadata,
    streams: ProducerStreams,
    log: Logger,
    sensors: ProducerSensors,
    idempotence?: IdempotenceManager,
    clock: Clock = systemClock,
  ) {
    this.#clock = clock;
    this.#sensors = sensors;
    this.#idem = idempotence;
    this.#sequencer =
      idempotence === undefined
        ? undefined
        : {
            canDrain: (b) =>
              idempotence.canDrain(b) && (this.#txn === undefined || this.#txn.partitionReady(b)),
            stamp: (b) => idempotence.stamp(b),
          };
    this.#config = config;
    this.#accumulator = accumulator;
    this.#client = client;
    this.#metadata = metadata;
    this.#streams = streams;
    this.#log = log;
    this.#acks = acksValue(config.acks);
    this.#guaranteeOrder = config.maxInFlightRequestsPerConnection === 1;
    client.on('ready', () => this.wakeup());
    client.on('authenticationFailed', ({ nodeId, error }) => this.#refused(nodeId, error));
    metadata.on('update', () => this.wakeup());
  }

  /** Makes the sender transactional (set once by the composition root). */
  set transactions(txn: TransactionManager) {
    this.#txn = txn;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Schedules a pass (coalesced: appends in the same tick all land before it runs). */
  wakeup(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(this.#run);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #pass(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    const now = this.#clock.now();
    const cluster = this.#metadata.cluster;
    const check = this.#accumulator.ready(cluster, now, this.#isNodeReady);
    if (check.unknownLeaderTopics.size > 0) {
      for (const t of check.unknownLeaderTopics) this.#metadata.add(t);
      this.#metadata.requestUpdate();
    }
    this.#readyDelay = check.nextReadyCheckDelayMs;
    let mayDrain = true;
    const idem = this.#idem;
    if (idem !== undefined) {
      mayDrain = idem.maintain(now, this.#lowerReadyDelay);
      if (idem.bumps !== this.#bumpsSeen) {
        this.#bumpsSeen = idem.bumps;
        idem.resequence(this.#accumulator.queuedBatches());
      }
    }
    const abortable = this.#txn?.abortableFailure;
    if (abortable !== undefined) {
      // The transaction can only abort: what is still queued is never sent.
      this.#failUnsent(this.#accumulator.removeQueued(selectAll), abortable, now);
    }
    const sendable = this.#sendable;
    sendable.length = 0;
    for (const node of check.readyNodes) {
      if (this.#client.isReady(node)) {
        sendable.push(node);
        continue;
      }
      const refusal = this.#client.refusal(node);
      if (refusal === undefined) this.#connect(node);
      else this.#failUnsent(this.#removeQueuedFor(node), refusal, now);
    }
    const drained = mayDrain
      ? this.#accumulator.drain(sendable, this.#config.maxRequestSize, now, this.#sequencer)
      : NOTHING_DRAINED;
    for (const [node, batches] of drained) {
      if (this.#guaranteeOrder) for (const b of batches) this.#accumulator.mute(b.topic.name, b.partition);
      this.#sendProduceRequest(node, batches, now);
    }
    this.#expire(now);
    this.#arm(this.#readyDelay, now);
  }

  /**
   * The broker refused us (SASL or TLS, see NetworkClient): its batches
   * would otherwise wait for deliveryTimeoutMs. The queued ones for the
   * partitions it leads fail now with the AuthenticationError; the ones in
   * flight to it fail through their request, which the client rejected with
   * the same error. Until its reconnect backoff ends, later batches for it
   * fail at drain time (see #pass); after that the next batch for it tries
   * one connection again (the broker may have been fixed), so a refusing
   * broker sees at most one attempt per `reconnectBackoffMaxMs`, and none
   * while nothing is sent to it.
   */
  #refused(node: number, error: AuthenticationError): void {
    if (this.#closed) return;
    const batches = this.#removeQueuedFor(node);
    if (batches.length > 0) {
      if (this.#log.infoEnabled)
        this.#log.info('failing batches for a broker that refused authentication', {
          nodeId: node,
          batches: batches.length,
          error: error.message,
        });
      this.#failUnsent(batches, error, this.#clock.now());
    }
    // No pass is needed for this: a pass with no producer id yet would ask
    // for one, and against a cluster that refuses us that is a connection.
  }

  #removeQueuedFor(node: number): ProducerBatch[] {
    const cluster = this.#metadata.cluster;
    return this.#accumulator.removeQueued((topic, partition) => cluster.leaderFor(topic, partition) === node);
  }

  /**
   * Fails batches taken out of the queue before they were (re)sent. One that
   * went out before (a retry) carries a sequence, and failing it leaves a
   * gap: the epoch must be bumped, as for an expired batch.
   */
  #failUnsent(batches: readonly ProducerBatch[], error: Error, now: number): void {
    for (const b of batches) {
      const sequenced = b.baseSequence >= 0;
      if (sequenced && this.#idem !== undefined && this.#txn === undefined)
        this.#idem.requestBump(`${b.topic.name}-${b.partition} failed after it was sent`);
      this.#finish(b, error, now, sequenced);
    }
  }

  #connect(node: number): void {
    if (this.#connecting.has(node)) return;
    this.#connecting.add(node);
    this.#client.awaitReady(node).then(
      () => {
        this.#connecting.delete(node);
        this.wakeup();
      },
      () => {
        // Not reachable in time: its batches wait (and expire by deliveryTimeoutMs);
        // the leader may have moved, so look again.
        this.#connecting.delete(node);
        this.#metadata.requestUpdate();
        this.wakeup();
      },
    );
  }

  #arm(readyDelay: number, now: number): void {
    const expiry = Math.min(this.#accumulator.nextExpiry(), this.#nextInFlightExpiry());
    const at = Math.min(now + readyDelay, expiry);
    // A timer due no later than needed stays: an early pass finds nothing to
    // do and re-arms. This saves a new timer on most passes.
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (!Number.isFinite(at)) return;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, at - now));
  }

  readonly #onTimer = () => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.wakeup();
  };

  #nextInFlightExpiry(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const b of this.#inFlight) if (b.createdMs < next) next = b.createdMs;
    return next + this.#config.deliveryTimeoutMs;
  }

  /** Fails batches past deliveryTimeoutMs, queued or in flight, with the seeds' message. */
  #expire(now: number): void {
    const expired = this.#accumulator.expired(now);
    for (const b of this.#inFlight) if (now - b.createdMs >= this.#config.deliveryTimeoutMs) expired.push(b);
    for (const b of expired) {
      // Sent at least once: it may have been written, so the sequences after
      // it cannot be trusted (KIP-360): bump the epoch before going on.
      if (this.#idem !== undefined && b.baseSequence >= 0)
        this.#idem.requestBump(`${b.topic.name}-${b.partition} expired after it was sent`);
      this.#inFlight.delete(b);
      const err = new DeliveryTimeoutError(
        `Expiring ${b.recordCount} record(s) for ${b.topic.name}-${b.partition}: ${now - b.createdMs} ms has passed since batch creation${b.attempts > 0 ? '; it was sent, so it may have been written' : ''}`,
      );
      this.#finish(b, err, now);
    }
  }

  #sendProduceRequest(node: number, batches: ProducerBatch[], now: number): void {
    // Group by topic, keeping the drain order (a request has few topics: a scan, no map).
    const topics: Array<ProduceTopicBatches & { partitions: { partition: number; records: Buffer }[] }> = [];
    let requestRecords = 0;
    for (const b of batches) {
      let t: (typeof topics)[number] | undefined;
      for (let i = topics.length - 1; i >= 0; i--) {
        if ((topics[i] as (typeof topics)[number]).nameBytes === b.topic.nameBytes) {
          t = topics[i];
          break;
        }
      }
      if (t === undefined) {
        t = { nameBytes: b.topic.nameBytes, topicId: undefined, partitions: [] };
        topics.push(t);
      }
      const records = b.seal();
      t.partitions.push({ partition: b.partition, records });
      this.#inFlight.add(b);
      this.#sensors.recordBatchSent(records.length, b.sizeInBytes, b.recordCount, now - b.createdMs, now);
      requestRecords += b.recordCount;
    }
    this.#sensors.recordRequest(requestRecords, now);
    const sentAt = now;
    if (this.#streams.drainedObserved) {
      for (const b of batches) this.#streams.batchDrained(node, b, this.#config.compressionType);
    }
    const expectResponse = this.#acks !== 0;
    this.#client
      .request(node, ProduceApi, undefined as never, {
        version: this.#produceVersion,
        encode: (w, version) =>
          encodeProduceRequestBody(
            w,
            version,
            this.#txn?.transactionalIdBytes ?? null,
            this.#acks,
            this.#config.requestTimeoutMs,
            topics,
          ),
        expectResponse,
      })
      .then(
        (res) => this.#onResponse(node, batches, res as ProduceResponse | undefined, sentAt),
        (err: Error) => this.#onRequestFailed(node, batches, err),
      );
  }

  #onResponse(
    node: number,
    batches: ProducerBatch[],
    res: ProduceResponse | undefined,
    sentAt: number,
  ): void {
    const now = this.#clock.now();
    if (this.#idem !== undefined) for (const b of batches) this.#idem.returned(b);
    if (res === undefined) {
      // acks=0: no response; done once written, offsets unknown.
      for (const b of batches) this.#complete(b, -1, -1, now);
      this.wakeup();
      return;
    }
    this.#sensors.recordResponse(now - sentAt, res.throttleTimeMs, now);
    if (this.#streams.responsesObserved) this.#streams.response(node, now - sentAt, res);
    for (const b of batches) {
      const p = partitionResponse(res, b.topic.name, b.partition);
      if (p === undefined) {
        this.#retryOrFail(
          b,
          kafkaProtocolError(
            ErrorCode.UNKNOWN_SERVER_ERROR,
            `no response for ${b.topic.name}-${b.partition}`,
          ),
          now,
        );
        continue;
      }
      if (p.errorCode === ErrorCode.NONE) {
        this.#idem?.acked(b);
        this.#complete(b, p.baseOffset, p.logAppendTimeMs, now);
        continue;
      }
      if (this.#idem !== undefined) {
        const verdict = this.#idem.verdict(b, p.errorCode);
        if (verdict === SequenceVerdict.Success) {
          // DUPLICATE_SEQUENCE_NUMBER: the broker already has it.
          this.#idem.acked(b);
          this.#complete(b, p.baseOffset, p.logAppendTimeMs, now);
          continue;
        }
        if (verdict !== SequenceVerdict.NotMine) {
          const error = kafkaProtocolError(p.errorCode, `${b.topic.name}-${b.partition} on node ${node}`);
          if (verdict === SequenceVerdict.BumpEpoch && this.#txn !== undefined) {
            // Transactional: a newer instance fenced us, or the transaction can no longer be trusted.
            if (isFencedCode(p.errorCode)) {
              this.#txn.fail(
                new ProducerFencedError(
                  p.errorCode,
                  `${b.topic.name}-${b.partition}: a newer producer with the same transactional id took over`,
                ),
              );
            } else {
              this.#finish(b, error, now);
            }
            continue;
          }
          if (verdict === SequenceVerdict.BumpEpoch) this.#idem.requestBump(error.code);
          this.#retryOrFail(b, error, now, true);
          continue;
        }
      }
      const detail = [`${b.topic.name}-${b.partition} on node ${node}`, p.errorMessage ?? '']
        .filter(Boolean)
        .join(': ');
      const error = kafkaProtocolError(p.errorCode, detail);
      if (p.errorCode === ErrorCode.MESSAGE_TOO_LARGE && b.recordCount > 1) {
        // Too large for the broker: split into smaller batches and try those (not a retry of the same bytes).
        this.#inFlight.delete(b);
        // Halve what was refused (never above batchSize): repeated refusals
        // end in batches of single records.
        const target = Math.min(this.#config.batchSize, Math.ceil(b.sizeInBytes / 2));
        const pieces = b.split(target, CompressionType[this.#config.compressionType]);
        this.#accumulator.requeueSplit(b, pieces);
        this.#sensors.recordSplit(now);
        if (this.#guaranteeOrder) this.#accumulator.unmute(b.topic.name, b.partition);
        if (this.#log.infoEnabled)
          this.#log.info('split a batch the broker refused as too large', {
            topic: b.topic.name,
            partition: b.partition,
            pieces: pieces.length,
          });
        continue;
      }
      this.#retryOrFail(b, error, now);
    }
    this.wakeup();
  }

  #onRequestFailed(node: number, batches: ProducerBatch[], err: Error): void {
    const now = this.#clock.now();
    if (this.#log.infoEnabled) this.#log.info('produce request failed', { nodeId: node, error: err.message });
    // A lost connection may mean a lost leader: refresh before retrying.
    if (isKafkaClientError(err) && err.retriable) this.#metadata.requestUpdate();
    if (this.#idem !== undefined) for (const b of batches) this.#idem.returned(b);
    for (const b of batches) this.#retryOrFail(b, err, now);
    this.wakeup();
  }

  /** The Java client's canRetry: retriable, attempts left, and still within the delivery timeout. */
  #retryOrFail(b: ProducerBatch, error: Error, now: number, forceRetry = false): void {
    if (b.done) {
      this.#inFlight.delete(b);
      return;
    }
    const retriable = forceRetry || (isKafkaClientError(error) && error.retriable);
    const inTime = now - b.createdMs < this.#config.deliveryTimeoutMs;
    if (retriable && inTime && b.attempts <= this.#config.retries && !this.#closed) {
      this.#inFlight.delete(b);
      if (error instanceof InvalidMetadataError) this.#metadata.requestUpdate();
      if (this.#log.debugEnabled) {
        this.#log.debug('retrying batch', {
          topic: b.topic.name,
          partition: b.partition,
          attempt: b.attempts,
          error: error.message,
        });
      }
      this.#sensors.recordRetry(b.recordCount, now);
      this.#accumulator.reenqueue(b, now);
      if (this.#guaranteeOrder) this.#accumulator.unmute(b.topic.name, b.partition);
      return;
    }
    this.#finish(b, error, now);
  }

  #complete(b: ProducerBatch, baseOffset: number, logAppendTime: number, now: number): void {
    this.#inFlight.delete(b);
    if (!b.done) this.#sensors.recordSent(b.recordCount, now);
    b.complete(baseOffset, logAppendTime);
    if (this.#guaranteeOrder) this.#accumulator.unmute(b.topic.name, b.partition);
    this.#accumulator.batchDone(b);
  }

  #finish(b: ProducerBatch, error: Error, now: number, sequenced = true): void {
    if (this.#txn !== undefined && !b.done) this.#txn.batchFailed(error, sequenced);
    this.#inFlight.delete(b);
    if (!b.done) this.#sensors.recordFailed(b.recordCount, now);
    b.fail(error);
    if (this.#guaranteeOrder) this.#accumulator.unmute(b.topic.name, b.partition);
    this.#accumulator.batchDone(b);
  }
}

/** The response for one partition: a scan, since a response holds a few partitions (no map per response). */
function partitionResponse(
  res: ProduceResponse,
  topic: string,
  partition: number,
): ProduceResponse['responses'][number]['partitionResponses'][number] | undefined {
  for (const t of res.responses) {
    if (t.name !== topic) continue;
    for (const p of t.partitionResponses) if (p.index === partition) return p;
  }
  return undefined;
}
