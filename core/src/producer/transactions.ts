import {
  IllegalStateError,
  isKafkaClientError,
  type KafkaClientError,
  KafkaProtocolError,
  kafkaProtocolError,
  ProducerFencedError,
  TimeoutError,
} from '../errors.js';
import type { Logger } from '../network/logger.js';
import type { NetworkClient } from '../network/network-client.js';
import type { ApiDescriptor } from '../protocol/api.js';
import { AddOffsetsToTxnApi } from '../protocol/apis/add-offsets-to-txn.js';
import { AddPartitionsToTxnApi } from '../protocol/apis/add-partitions-to-txn.js';
import { EndTxnApi } from '../protocol/apis/end-txn.js';
import { FindCoordinatorApi } from '../protocol/apis/find-coordinator.js';
import { InitProducerIdApi } from '../protocol/apis/init-producer-id.js';
import { TxnOffsetCommitApi } from '../protocol/apis/txn-offset-commit.js';
import { ErrorCode, errorCodeInfo } from '../protocol/error-codes.js';
import type { IdempotenceManager } from './idempotence.js';
import type { ProducerBatch } from './producer-batch.js';

export const TransactionState = {
  Uninitialized: 'uninitialized',
  Ready: 'ready',
  InTransaction: 'in-transaction',
  Committing: 'committing',
  Aborting: 'aborting',
  /** A batch failed inside the transaction: only abortTransaction() is allowed. */
  AbortableError: 'abortable-error',
  /** Fenced by a newer producer (or another fatal error): nothing more is allowed. */
  Fatal: 'fatal',
} as const;
export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState];

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset to consume (last processed + 1). */
  offset: number;
  leaderEpoch?: number;
  metadata?: string | null;
}

export interface ConsumerGroupMetadata {
  groupId: string;
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;
/** Errors a coordinator request waits out and retries. */
const RETRY_CODES = new Set<number>([
  ErrorCode.CONCURRENT_TRANSACTIONS,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.REQUEST_TIMED_OUT,
]);
/** Errors that mean "ask FindCoordinator again". */
const REFIND_CODES = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE]);
/** Errors that fence this producer. */
const FENCED_CODES = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH]);
/** AddPartitionsToTxn errors after which the producer cannot go on (the Java client's choice). */
const FATAL_ADD_CODES = new Set<number>([
  ErrorCode.INVALID_TXN_STATE,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
]);

/**
 * A per-partition AddPartitionsToTxn error that is asked again: a busy or
 * moved coordinator, and any code the error table calls retriable
 * (UNKNOWN_TOPIC_OR_PARTITION while metadata propagates, a timeout).
 */
function addPartitionsRetriable(code: number): boolean {
  return RETRY_CODES.has(code) || REFIND_CODES.has(code) || errorCodeInfo(code).retriable;
}

/**
 * The transactional producer's state machine (the Java client's
 * TransactionManager): the coordinator (found with FindCoordinator, found
 * again on NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE), the transactional
 * producer id, the partitions added to the open transaction (AddPartitionsToTxn
 * before a partition's first batch), offsets (AddOffsetsToTxn then
 * TxnOffsetCommit), and EndTxn. CONCURRENT_TRANSACTIONS and loading
 * coordinators are retried with backoff until the deadline. Fencing
 * (PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH from a newer instance) is fatal.
 */
export class TransactionManager {
  readonly transactionalId: string;
  readonly transactionalIdBytes: Buffer;
  state: TransactionState = TransactionState.Uninitialized;
  fatalError: KafkaClientError | undefined;
  /** The first error of a batch in the open transaction (the transaction must then abort). */
  abortableError: Error | undefined;
  readonly #client: NetworkClient;
  readonly #idem: IdempotenceManager;
  readonly #log: Logger;
  readonly #wakeup: () => void;
  readonly #timeoutMs: number;
  readonly #maxBlockMs: number;
  readonly #retryBackoffMs: number;
  readonly #retryBackoffMaxMs: number;
  readonly #onFatal: (err: KafkaClientError) => void;
  #coordinator: number | undefined;
  /** Partitions in the open transaction, and those waiting to be added. */
  #added = new Map<string, Set<number>>();
  #pending = new Map<string, Set<number>>();
  #adding = false;
  #addRetryAt = 0;
  #addFailures = 0;
  /** EndTxn succeeded but the epoch bump after it did not: a retried abort only bumps. */
  #endTxnDone = false;

  constructor(opts: {
    transactionalId: string;
    transactionTimeoutMs: number;
    maxBlockMs: number;
    retryBackoffMs: number;
    retryBackoffMaxMs: number;
    client: NetworkClient;
    idempotence: IdempotenceManager;
    logger: Logger;
    wakeup: () => void;
    onFatal: (err: KafkaClientError) => void;
  }) {
    this.transactionalId = opts.transactionalId;
    this.transactionalIdBytes = Buffer.from(opts.transactionalId, 'utf8');
    this.#timeoutMs = opts.transactionTimeoutMs;
    this.#maxBlockMs = opts.maxBlockMs;
    this.#retryBackoffMs = opts.retryBackoffMs;
    this.#retryBackoffMaxMs = opts.retryBackoffMaxMs;
    this.#client = opts.client;
    this.#idem = opts.idempotence;
    this.#log = opts.logger;
    this.#wakeup = opts.wakeup;
    this.#onFatal = opts.onFatal;
  }

  // -- the public operations --------------------------------------------------------

  async initTransactions(): Promise<void> {
    this.#assertNotFatal();
    if (this.state !== TransactionState.Uninitialized) {
      throw new IllegalStateError(
        `initTransactions() was already called (the transaction state is ${this.state}): call it once, before anything else`,
      );
    }
    const res = await this.#coordinatorRequest(InitProducerIdApi, {
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.#timeoutMs,
      producerId: -1,
      producerEpoch: -1,
    });
    this.#idem.producerId = res.producerId;
    this.#idem.epoch = res.producerEpoch;
    this.state = TransactionState.Ready;
    if (this.#log.infoEnabled)
      this.#log.info('transactions initialised', { producerId: res.producerId, epoch: res.producerEpoch });
    this.#wakeup();
  }

  beginTransaction(): void {
    this.#assertNotFatal();
    switch (this.state) {
      case TransactionState.Ready:
        break;
      case TransactionState.Uninitialized:
        throw new IllegalStateError('call initTransactions() before beginTransaction()');
      case TransactionState.AbortableError:
        throw new IllegalStateError(
          `the open transaction failed (${this.abortableError?.message ?? 'see the earlier error'}): call abortTransaction() before beginTransaction()`,
        );
      case TransactionState.Committing:
      case TransactionState.Aborting:
        throw new IllegalStateError(
          `the previous transaction is still ${this.#ending()}: wait for ${this.#endCall()} to settle before beginTransaction()`,
        );
      default:
        throw new IllegalStateError(
          'a transaction is already open: call commitTransaction() or abortTransaction() before beginTransaction()',
        );
    }
    this.state = TransactionState.InTransaction;
    this.abortableError = undefined;
    this.#endTxnDone = false;
  }

  /** Throws unless records may be sent now (inside an open transaction), saying what to call first. */
  assertCanSend(): void {
    this.#assertInTransaction('send()');
  }

  /**
   * Throws unless `commitTransaction()` (`commit` true) or
   * `abortTransaction()` may run now: a transaction is open, or failed and
   * waits for its abort (the caller then decides: commit rejects with the
   * transaction's error). The message says what to call first.
   */
  assertCanEnd(commit: boolean): void {
    this.#assertNotFatal();
    if (this.state === TransactionState.AbortableError) return;
    this.#assertInTransaction(commit ? 'commitTransaction()' : 'abortTransaction()');
  }

  /** The IllegalStateError for `call` outside an open transaction names what must come first. */
  #assertInTransaction(call: string): void {
    this.#assertNotFatal();
    switch (this.state) {
      case TransactionState.InTransaction:
        return;
      case TransactionState.Uninitialized:
        throw new IllegalStateError(`call initTransactions() and beginTransaction() before ${call}`);
      case TransactionState.Ready:
        throw new IllegalStateError(`no transaction is open: call beginTransaction() before ${call}`);
      case TransactionState.AbortableError:
        throw new IllegalStateError(
          `the transaction failed (${this.abortableError?.message ?? 'see the earlier error'}): call abortTransaction(), then beginTransaction(), before ${call}`,
        );
      default:
        throw new IllegalStateError(
          `the transaction is being ${this.#ending()}: wait for ${this.#endCall()} to settle, then call beginTransaction() before ${call}`,
        );
    }
  }

  #ending(): string {
    return this.state === TransactionState.Committing ? 'committed' : 'aborted';
  }

  #endCall(): string {
    return this.state === TransactionState.Committing ? 'commitTransaction()' : 'abortTransaction()';
  }

  async sendOffsetsToTransaction(
    offsets: readonly OffsetToCommit[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    this.#assertInTransaction('sendOffsetsToTransaction()');
    const idem = this.#idem;
    await this.#coordinatorRequest(AddOffsetsToTxnApi, {
      transactionalId: this.transactionalId,
      producerId: idem.producerId,
      producerEpoch: idem.epoch,
      groupId: group.groupId,
    });
    const byTopic = new Map<string, OffsetToCommit[]>();
    for (const o of offsets) {
      let list = byTopic.get(o.topic);
      if (list === undefined) {
        list = [];
        byTopic.set(o.topic, list);
      }
      list.push(o);
    }
    const res = await this.#coordinatorRequest(
      TxnOffsetCommitApi,
      {
        transactionalId: this.transactionalId,
        groupId: group.groupId,
        producerId: idem.producerId,
        producerEpoch: idem.epoch,
        generationId: group.generationId ?? -1,
        memberId: group.memberId ?? '',
        groupInstanceId: group.groupInstanceId ?? null,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((o) => ({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            committedLeaderEpoch: o.leaderEpoch ?? -1,
            committedMetadata: o.metadata ?? null,
          })),
        })),
      },
      { keyType: KEY_TYPE_GROUP, key: group.groupId },
    );
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE)
          throw this.#classify(p.errorCode, `TxnOffsetCommit ${t.name}-${p.partitionIndex}`);
      }
    }
  }

  /**
   * EndTxn after the producer flushed the transaction's records. An abort
   * after a batch failed with its sequence state unknown (or with a gap
   * left behind it) then bumps the epoch (KIP-360): InitProducerId with the
   * current producer id and epoch (v3+; older coordinators bump the epoch of
   * the transactional id anyway), and sequences restart at 0, so the next
   * transaction starts clean instead of tripping on the old sequences.
   */
  async endTransaction(commit: boolean): Promise<void> {
    this.#assertNotFatal();
    const idem = this.#idem;
    this.state = commit ? TransactionState.Committing : TransactionState.Aborting;
    try {
      if (!this.#endTxnDone && (this.#added.size > 0 || !commit)) {
        await this.#coordinatorRequest(EndTxnApi, {
          transactionalId: this.transactionalId,
          producerId: idem.producerId,
          producerEpoch: idem.epoch,
          committed: commit,
        });
      }
      this.#endTxnDone = true;
      if (!commit && idem.transactionalBumpRequired) await this.#bumpEpoch();
    } catch (err) {
      if ((this.state as TransactionState) !== TransactionState.Fatal)
        this.state = TransactionState.AbortableError;
      throw err;
    }
    this.#added = new Map();
    this.#pending = new Map();
    this.abortableError = undefined;
    this.#endTxnDone = false;
    this.state = TransactionState.Ready;
    this.#wakeup();
  }

  async #bumpEpoch(): Promise<void> {
    const idem = this.#idem;
    const from = { producerId: idem.producerId, epoch: idem.epoch };
    const res = await this.#coordinatorRequest(InitProducerIdApi, {
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.#timeoutMs,
      producerId: idem.producerId,
      producerEpoch: idem.epoch,
    });
    idem.epochBumped(res.producerId, res.producerEpoch);
    if (this.#log.infoEnabled)
      this.#log.info('transactional producer epoch bumped after abort', {
        from,
        producerId: res.producerId,
        epoch: res.producerEpoch,
      });
  }

  // -- the sender's hooks ----------------------------------------------------------------

  /** Whether the batch's partition is in the transaction (queueing an AddPartitionsToTxn if not). */
  partitionReady(batch: ProducerBatch): boolean {
    // Outside an open transaction nothing is drained: an abortable one's
    // queued batches are failed by the sender instead.
    if (this.state !== TransactionState.InTransaction) return false;
    const name = batch.topic.name;
    if (this.#added.get(name)?.has(batch.partition)) return true;
    this.#requeue(name, batch.partition);
    this.#maybeAddPartitions();
    return false;
  }

  /**
   * A batch of the open transaction failed for good: the transaction must
   * abort, and the epoch be bumped after the abort. Whatever the error, the
   * partition's sequence is no longer what the next batch would carry: the
   * broker may hold the batch (sent, then expired or unanswered), may have
   * lost our state (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER), or
   * never got it, leaving a gap. A bumped epoch starts every partition at 0.
   * `sequenced` false: the batch never got a sequence (it failed before its
   * first drain), so no partition's sequence moved and no bump is needed.
   */
  batchFailed(err: Error, sequenced = true): void {
    if (isFenced(err)) {
      this.#failFenced(err);
      return;
    }
    if (sequenced) this.#idem.requestBump(`a batch of the transaction failed: ${err.message}`);
    this.#abortable(err);
  }

  /**
   * The error the open transaction failed with, while only
   * abortTransaction() is allowed: the sender fails the batches still queued
   * with it instead of sending them (the Java client's abortUndrainedBatches).
   */
  get abortableFailure(): Error | undefined {
    return this.state === TransactionState.AbortableError ? this.abortableError : undefined;
  }

  #abortable(err: Error): void {
    this.abortableError ??= err;
    if (this.state === TransactionState.InTransaction) this.state = TransactionState.AbortableError;
  }

  fail(err: KafkaClientError): void {
    if (this.state === TransactionState.Fatal) return;
    this.state = TransactionState.Fatal;
    this.fatalError = err;
    this.#log.error('transactional producer is fenced or failed fatally', { error: err.message });
    this.#onFatal(err);
  }

  // -- internals ---------------------------------------------------------------------------

  /** Fails the producer with `err` (isFenced) as a ProducerFencedError. */
  #failFenced(err: Error): void {
    this.fail(new ProducerFencedError((err as KafkaProtocolError).errorCode, err.message));
  }

  #assertNotFatal(): void {
    if (this.state === TransactionState.Fatal)
      throw this.fatalError ?? new IllegalStateError('the producer failed fatally');
  }

  #maybeAddPartitions(): void {
    if (this.state !== TransactionState.InTransaction) {
      // The transaction can only abort (or the producer is dead): adding partitions to it is pointless.
      this.#pending = new Map();
      return;
    }
    if (this.#adding || this.#pending.size === 0 || Date.now() < this.#addRetryAt) return;
    this.#adding = true;
    const batch = this.#pending;
    this.#pending = new Map();
    const idem = this.#idem;
    this.#coordinatorRequest(
      AddPartitionsToTxnApi,
      {
        v3AndBelowTransactionalId: this.transactionalId,
        v3AndBelowProducerId: idem.producerId,
        v3AndBelowProducerEpoch: idem.epoch,
        v3AndBelowTopics: [...batch].map(([name, parts]) => ({ name, partitions: [...parts] })),
      },
      { timeoutMs: this.#maxBlockMs },
    ).then(
      (res) => {
        this.#adding = false;
        let retry = false;
        let failure: KafkaClientError | undefined;
        for (const t of res.resultsByTopicV3AndBelow) {
          for (const p of t.resultsByPartition) {
            const code = p.partitionErrorCode;
            if (code === ErrorCode.NONE) {
              addTo(this.#added, t.name, p.partitionIndex);
              continue;
            }
            if (addPartitionsRetriable(code) || code === ErrorCode.OPERATION_NOT_ATTEMPTED) {
              // Asked again after a backoff (the coordinator found again if it
              // moved); a partition not attempted goes with the others, unless
              // one of them failed for good below.
              if (REFIND_CODES.has(code)) this.#coordinator = undefined;
              retry = true;
              this.#requeue(t.name, p.partitionIndex);
              continue;
            }
            // Not retriable: the first such error decides what happens to the transaction.
            failure ??= this.#classify(code, `AddPartitionsToTxn ${t.name}-${p.partitionIndex}`);
          }
        }
        if (failure !== undefined) this.#addPartitionsFailed(failure);
        else {
          this.#addFailures = retry ? this.#addFailures + 1 : 0;
          if (retry) this.#retryAddsLater();
        }
        this.#wakeup();
      },
      (err: Error) => {
        this.#adding = false;
        if (isKafkaClientError(err) && !err.retriable) {
          this.#addPartitionsFailed(err);
        } else {
          // Still not through after maxBlockMs of retries (or a lost connection): keep trying.
          for (const [name, parts] of batch) for (const p of parts) this.#requeue(name, p);
          this.#addFailures++;
          this.#retryAddsLater();
        }
        this.#wakeup();
      },
    );
  }

  /**
   * AddPartitionsToTxn failed for good (the Java client's rules): fencing,
   * INVALID_TXN_STATE and a refused transactional id are fatal; anything
   * else (TOPIC_AUTHORIZATION_FAILED, an unexpected code) makes the
   * transaction abortable, and UNKNOWN_PRODUCER_ID / INVALID_PRODUCER_ID_MAPPING
   * also need the epoch bumped after the abort. Either way the partitions are
   * never added: the sender fails the batches still queued (they would
   * otherwise ask again on every pass until deliveryTimeoutMs), and
   * abortTransaction() does not wait for them.
   */
  #addPartitionsFailed(err: Error): void {
    this.#pending = new Map();
    this.#addFailures = 0;
    const code = err instanceof KafkaProtocolError ? err.errorCode : undefined;
    if (isFenced(err)) {
      this.#failFenced(err);
      return;
    }
    if (code !== undefined && FATAL_ADD_CODES.has(code)) {
      this.fail(err as KafkaProtocolError);
      return;
    }
    if (code === ErrorCode.UNKNOWN_PRODUCER_ID || code === ErrorCode.INVALID_PRODUCER_ID_MAPPING)
      this.#idem.requestBump(`AddPartitionsToTxn failed: ${err.message}`);
    if (this.#log.infoEnabled)
      this.#log.info('AddPartitionsToTxn failed; the transaction must be aborted', { error: err.message });
    this.#abortable(err);
  }

  /** Backs off, then wakes the sender, whose next pass asks again. */
  #retryAddsLater(): void {
    const delay = this.#backoff(this.#addFailures);
    this.#addRetryAt = Date.now() + delay;
    setTimeout(this.#wakeup, delay);
  }

  #requeue(name: string, partition: number): void {
    addTo(this.#pending, name, partition);
  }

  #backoff(failures: number): number {
    return Math.min(this.#retryBackoffMs * 2 ** Math.min(failures - 1, 20), this.#retryBackoffMaxMs);
  }

  #classify(code: number, detail: string): KafkaClientError {
    if (FENCED_CODES.has(code)) return new ProducerFencedError(code, detail);
    return kafkaProtocolError(code, detail);
  }

  async #findCoordinator(keyType: number, key: string, deadline: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const node = this.#client.leastLoadedNode();
      try {
        if (node === undefined) throw new TimeoutError('no broker reachable to find the coordinator');
        const res = await this.#client.request(
          node,
          FindCoordinatorApi,
          { key, keyType, coordinatorKeys: [key] },
          { failFast: true },
        );
        const c = res.coordinators[0];
        const errorCode = c ? c.errorCode : res.errorCode;
        const nodeId = c ? c.nodeId : res.nodeId;
        if (errorCode === ErrorCode.NONE) {
          this.#client.ensureBroker({ nodeId, host: c ? c.host : res.host, port: c ? c.port : res.port });
          return nodeId;
        }
        const err = kafkaProtocolError(errorCode, `FindCoordinator for ${key}`);
        if (!err.retriable) throw err;
      } catch (err) {
        if (!(isKafkaClientError(err) && err.retriable) || Date.now() >= deadline) throw err;
      }
      await sleep(this.#backoff(attempt));
    }
  }

  /**
   * A request to the transaction coordinator (or, with `group`, the group
   * coordinator), retried until `timeoutMs` (default maxBlockMs): waits out
   * CONCURRENT_TRANSACTIONS and loading coordinators, finds the coordinator
   * again when it moved, and turns fencing into ProducerFencedError.
   */
  async #coordinatorRequest<Req, Res extends object>(
    api: ApiDescriptor<Req, Res>,
    request: Req,
    opts: { keyType?: number; key?: string; timeoutMs?: number } = {},
  ): Promise<Res> {
    const keyType = opts.keyType ?? KEY_TYPE_TRANSACTION;
    const key = opts.key ?? this.transactionalId;
    const deadline = Date.now() + (opts.timeoutMs ?? this.#maxBlockMs);
    let coordinator = keyType === KEY_TYPE_TRANSACTION ? this.#coordinator : undefined;
    for (let attempt = 1; ; attempt++) {
      let code: number = ErrorCode.NONE;
      try {
        coordinator ??= await this.#findCoordinator(keyType, key, deadline);
        if (keyType === KEY_TYPE_TRANSACTION) this.#coordinator = coordinator;
        const res = await this.#client.request(coordinator, api, request);
        code = (res as { errorCode?: number }).errorCode ?? ErrorCode.NONE;
        if (code === ErrorCode.NONE) return res;
      } catch (err) {
        if (!(isKafkaClientError(err) && err.retriable) || Date.now() >= deadline) throw err;
        coordinator = undefined; // the connection failed: the coordinator may have moved
      }
      if (code !== ErrorCode.NONE) {
        if (FENCED_CODES.has(code)) {
          const fenced = new ProducerFencedError(
            code,
            `${api.name} for ${this.transactionalId}: a newer producer with the same transactional id took over`,
          );
          this.fail(fenced);
          throw fenced;
        }
        if (REFIND_CODES.has(code)) coordinator = undefined;
        else if (!RETRY_CODES.has(code))
          throw this.#classify(code, `${api.name} for ${this.transactionalId}`);
        if (Date.now() >= deadline)
          throw new TimeoutError(
            `${api.name} for ${this.transactionalId} did not succeed in time (last error ${kafkaProtocolError(code).code})`,
          );
      }
      if (keyType === KEY_TYPE_TRANSACTION && coordinator === undefined) this.#coordinator = undefined;
      await sleep(this.#backoff(attempt));
    }
  }
}

/** Whether a broker error code fences this producer (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH). */
export function isFencedCode(code: number): boolean {
  return FENCED_CODES.has(code);
}

function isFenced(err: unknown): boolean {
  return (
    err instanceof ProducerFencedError || (err instanceof KafkaProtocolError && isFencedCode(err.errorCode))
  );
}

/** Adds `partition` to `topic`'s set in `map`, creating the set if needed. */
function addTo(map: Map<string, Set<number>>, topic: string, partition: number): void {
  let set = map.get(topic);
  if (set === undefined) {
    set = new Set();
    map.set(topic, set);
  }
  set.add(partition);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
