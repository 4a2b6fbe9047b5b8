import { isKafkaClientError, kafkaProtocolError } from '../errors.js';
import type { Logger } from '../network/logger.js';
import type { NetworkClient } from '../network/network-client.js';
import { InitProducerIdApi } from '../protocol/apis/init-producer-id.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ProducerStamp } from '../protocol/record-batch.js';
import type { ProducerBatch } from './producer-batch.js';
import type { Sequencer } from './record-accumulator.js';

/** The last usable epoch: past it, a fresh producer id is needed. */
const MAX_EPOCH = 32766;

interface PartitionState {
  /** The sequence the next new batch gets. */
  next: number;
  /** The last sequence the broker acknowledged (-1: none). */
  lastAcked: number;
  /** Batches of this partition in flight. */
  inFlight: number;
}

/** What a response error means for an idempotent batch. */
export const SequenceVerdict = { Success: 0, RetryInOrder: 1, BumpEpoch: 2, NotMine: 3 } as const;
export type SequenceVerdict = (typeof SequenceVerdict)[keyof typeof SequenceVerdict];

/**
 * The idempotent producer's state (the Java client's TransactionManager,
 * without transactions): a producer id and epoch from InitProducerId, and
 * per partition the next sequence number and the last acknowledged one.
 *
 * Sequences are assigned when a batch is first drained and stay with it
 * through retries; a retried batch goes back among the queued ones in
 * sequence order, and a partition with a retry pending drains nothing new
 * while earlier batches are still in flight, so the broker sees sequences in
 * order. When the broker no longer knows our sequences (UNKNOWN_PRODUCER_ID,
 * an OUT_OF_ORDER_SEQUENCE_NUMBER that no earlier batch explains, an invalid
 * epoch) or a batch expired after it may have been written ("unsure if
 * produced"), the epoch is bumped (KIP-360): draining stops, in-flight
 * requests finish, the epoch goes up by one (a client-side bump: there is no
 * transaction coordinator to involve; a fresh id from InitProducerId once
 * the epoch is exhausted), every partition's sequences restart at 0, and
 * queued batches are re-stamped in order. A transactional producer cannot
 * bump on its own: a failed batch makes its transaction abortable, and the
 * TransactionManager bumps the epoch through the coordinator after the abort.
 */
export class IdempotenceManager implements Sequencer {
  producerId = -1;
  epoch = -1;
  readonly #client: NetworkClient;
  readonly #log: Logger;
  readonly #wakeup: () => void;
  readonly #retryBackoffMs: number;
  readonly #retryBackoffMaxMs: number;
  #failures = 0;
  readonly #partitions = new Map<string, PartitionState[]>();
  #initializing = false;
  #bumpRequested = false;
  #retryAt = 0;
  #inFlightTotal = 0;
  /** Epoch bumps so far (for tests and metrics). */
  bumps = 0;
  /** Transactional: the producer id comes from initTransactions(), and batches carry the transactional bit. */
  transactional = false;
  /**
   * Transactional only: a batch of the open transaction failed in a way that
   * leaves the partition's sequence unknown to us (or left a gap), so the
   * epoch must be bumped through the coordinator once the transaction is
   * aborted (KIP-360); until then the open transaction can only abort.
   */
  #transactionalBumpRequired = false;

  constructor(
    client: NetworkClient,
    log: Logger,
    wakeup: () => void,
    retryBackoffMs: number,
    retryBackoffMaxMs: number,
  ) {
    this.#client = client;
    this.#log = log;
    this.#wakeup = wakeup;
    this.#retryBackoffMs = retryBackoffMs;
    this.#retryBackoffMaxMs = retryBackoffMaxMs;
  }

  #state(b: ProducerBatch): PartitionState {
    let list = this.#partitions.get(b.topic.name);
    if (list === undefined) {
      list = [];
      this.#partitions.set(b.topic.name, list);
    }
    let s = list[b.partition];
    if (s === undefined) {
      s = { next: 0, lastAcked: -1, inFlight: 0 };
      list[b.partition] = s;
    }
    return s;
  }

  /** Ready to stamp batches: a producer id, and no epoch bump pending. */
  get ready(): boolean {
    return this.producerId >= 0 && !this.#bumpRequested && !this.#initializing;
  }

  /**
   * Called at the start of every sender pass: fetches a producer id when
   * there is none, and performs a requested epoch bump once nothing is in
   * flight. Returns whether batches may be drained this pass.
   */
  maintain(now: number, onRetryTimer: (delayMs: number) => void): boolean {
    // A transactional producer's id and epoch are the transaction manager's business.
    if (this.transactional) return this.producerId >= 0;
    if (this.#initializing) return false;
    if (this.#bumpRequested && this.#inFlightTotal === 0 && this.producerId >= 0 && this.epoch < MAX_EPOCH) {
      // Without transactions there is no coordinator state to fence: the
      // client bumps its epoch itself (as the Java client does, KIP-360), and
      // the broker starts the id's sequences afresh on the higher epoch.
      this.#bump(this.producerId, this.epoch + 1);
      return true;
    }
    if (this.producerId < 0 || (this.#bumpRequested && this.#inFlightTotal === 0)) {
      if (now < this.#retryAt) {
        onRetryTimer(this.#retryAt - now);
        return false;
      }
      void this.#initProducerId();
      return false;
    }
    return !this.#bumpRequested;
  }

  #bump(producerId: number, epoch: number): void {
    const newId = producerId !== this.producerId;
    this.producerId = producerId;
    this.epoch = epoch;
    this.bumps++;
    for (const list of this.#partitions.values()) {
      for (const s of list) {
        if (s === undefined) continue;
        s.next = 0;
        s.lastAcked = -1;
      }
    }
    this.#bumpRequested = false;
    if (this.#log.infoEnabled)
      this.#log.info(newId ? 'new producer id' : 'producer epoch bumped', { producerId, epoch });
  }

  async #initProducerId(): Promise<void> {
    const node = this.#client.leastLoadedNode();
    if (node === undefined) {
      this.#retryAt = Date.now() + this.#retryBackoffMs;
      this.#wakeup();
      return;
    }
    this.#initializing = true;
    const replacing = this.producerId >= 0;
    try {
      // A fresh id: at start, and when the epoch of the current one is exhausted.
      const res = await this.#client.request(node, InitProducerIdApi, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      if (res.errorCode !== ErrorCode.NONE)
        throw kafkaProtocolError(res.errorCode, `InitProducerId from node ${node}`);
      this.#failures = 0;
      if (replacing) this.#bump(res.producerId, res.producerEpoch);
      else {
        this.producerId = res.producerId;
        this.epoch = res.producerEpoch;
        if (this.#log.infoEnabled)
          this.#log.info('producer id assigned', { producerId: this.producerId, epoch: this.epoch });
      }
    } catch (err) {
      this.#failures++;
      const backoff = Math.min(
        this.#retryBackoffMs * 2 ** Math.min(this.#failures - 1, 20),
        this.#retryBackoffMaxMs,
      );
      this.#retryAt = Date.now() + backoff;
      const level = isKafkaClientError(err) && err.retriable ? 'info' : 'warn';
      this.#log[level]('InitProducerId failed; will retry', { error: (err as Error).message, inMs: backoff });
    } finally {
      this.#initializing = false;
      this.#wakeup();
    }
  }

  /** Transactional: whether the next abort must bump the epoch (see {@link requestBump}). */
  get transactionalBumpRequired(): boolean {
    return this.#transactionalBumpRequired;
  }

  /**
   * Transactional: the coordinator bumped the epoch (InitProducerId with our
   * current id and epoch): sequences restart at 0 on every partition, and
   * queued batches are re-stamped by the sender's next pass.
   */
  epochBumped(producerId: number, epoch: number): void {
    this.#bump(producerId, epoch);
    this.#transactionalBumpRequired = false;
  }

  /** After a bump, queued batches that carry an old stamp must be re-sequenced in queue order. */
  resequence(queued: Iterable<ProducerBatch>): void {
    for (const b of queued) {
      if (b.baseSequence >= 0 && b.producerEpoch !== this.epoch) b.baseSequence = -1;
    }
  }

  // Sequencer -------------------------------------------------------------------

  canDrain(batch: ProducerBatch): boolean {
    if (this.producerId < 0 || (!this.transactional && !this.ready)) return false;
    // A retry (it keeps its sequence) waits until nothing of its partition is
    // in flight: the queue is in sequence order, so retries go out in order.
    if (batch.baseSequence >= 0 && batch.producerEpoch === this.epoch)
      return this.#state(batch).inFlight === 0;
    return true;
  }

  stamp(batch: ProducerBatch): ProducerStamp {
    const s = this.#state(batch);
    let base = batch.baseSequence;
    if (base < 0 || batch.producerEpoch !== this.epoch) {
      base = s.next;
      s.next = (s.next + batch.recordCount) | 0;
      if (s.next < 0) s.next = 0; // sequences wrap at 2^31
    }
    s.inFlight++;
    this.#inFlightTotal++;
    return {
      producerId: this.producerId,
      producerEpoch: this.epoch,
      baseSequence: base,
      transactional: this.transactional,
    };
  }

  // Outcomes ----------------------------------------------------------------------

  /** The batch's request came back (any outcome) or failed: it is no longer in flight. */
  returned(batch: ProducerBatch): void {
    const s = this.#state(batch);
    if (s.inFlight > 0) s.inFlight--;
    if (this.#inFlightTotal > 0) this.#inFlightTotal--;
  }

  acked(batch: ProducerBatch): void {
    if (batch.producerEpoch !== this.epoch) return;
    const s = this.#state(batch);
    const last = batch.baseSequence + batch.recordCount - 1;
    if (last > s.lastAcked) s.lastAcked = last;
  }

  /** How an idempotence-related error code is handled for this batch. */
  verdict(batch: ProducerBatch, errorCode: number): SequenceVerdict {
    switch (errorCode) {
      case ErrorCode.DUPLICATE_SEQUENCE_NUMBER:
        return SequenceVerdict.Success;
      case ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER: {
        // An earlier batch of the transaction failed: a later one refused for
        // the gap will not get through before the epoch bump, so it fails too
        // (the transaction is aborted anyway) instead of retrying until it expires.
        if (this.#transactionalBumpRequired) return SequenceVerdict.BumpEpoch;
        const s = this.#state(batch);
        // An earlier batch of the partition is unacknowledged (retrying or in
        // flight): this one was refused because it came too early.
        if (batch.producerEpoch === this.epoch && batch.baseSequence > s.lastAcked + 1)
          return SequenceVerdict.RetryInOrder;
        return SequenceVerdict.BumpEpoch;
      }
      case ErrorCode.UNKNOWN_PRODUCER_ID:
      case ErrorCode.INVALID_PRODUCER_EPOCH:
        return SequenceVerdict.BumpEpoch;
      default:
        return SequenceVerdict.NotMine;
    }
  }

  /**
   * Sequences can no longer be trusted: bump the epoch once nothing is in
   * flight. A transactional producer cannot bump on its own: the transaction
   * becomes abortable, and the bump follows the abort (through the coordinator).
   */
  requestBump(reason: string): void {
    const pending = this.transactional ? this.#transactionalBumpRequired : this.#bumpRequested;
    if (!pending && this.#log.infoEnabled) this.#log.info('producer epoch bump requested', { reason });
    if (this.transactional) {
      this.#transactionalBumpRequired = true;
      return;
    }
    this.#bumpRequested = true;
    this.#wakeup();
  }
}
