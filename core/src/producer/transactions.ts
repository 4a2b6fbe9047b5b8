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
import { ErrorCode } from '../protocol/error-codes.js';
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
        `initTransactions() was already called (the transaction state is ${this.state})`,
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
    if (this.state === TransactionState.Uninitialized)
      throw new IllegalStateError('call initTransactions() before beginTransaction()');
    if (this.state !== TransactionState.Ready) {
      throw new IllegalStateError(
        `a transaction is already open (state ${this.state}): commitTransaction() or abortTransaction() first`,
      );
    }
    this.state = TransactionState.InTransaction;
    this.abortableError = undefined;
    this.#endTxnDone = false;
  }

  /** Throws unless records may be sent now (inside an open transaction). */
  assertCanSend(): void {
    this.#assertNotFatal();
    if (this.state === TransactionState.InTransaction) return;
    if (this.state === TransactionState.AbortableError) {
      throw new IllegalStateError(
        `the transaction failed (${this.abortableError?.message}): call abortTransaction()`,
      );
    }
    if (this.state === TransactionState.Uninitialized)
      throw new IllegalStateError('call initTransactions() and beginTransaction() before send()');
    throw new IllegalStateError(
      `call beginTransaction() before send() (the transaction state is ${this.state})`,
    );
  }

  async sendOffsetsToTransaction(
    offsets: readonly OffsetToCommit[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    this.#assertNotFatal();
    if (this.state !== TransactionState.InTransaction) {
      throw new IllegalStateError('call beginTransaction() before sendOffsetsToTransaction()');
    }
    const idem = this.#idem;
    const added = await this.#coordinatorRequest(AddOffsetsToTxnApi, {
      transactionalId: this.transactionalId,
      producerId: idem.producerId,
      producerEpoch: idem.epoch,
      groupId: group.groupId,
    });
    void added;
    const byTopic = new Map<string, OffsetToCommit[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
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
    if (this.state === TransactionState.Fatal) return false;
    const name = batch.topic.name;
    if (this.#added.get(name)?.has(batch.partition)) return true;
    let set = this.#pending.get(name);
    if (set === undefined) {
      set = new Set();
      this.#pending.set(name, set);
    }
    set.add(batch.partition);
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
   */
  batchFailed(err: Error): void {
    if (isFenced(err)) {
      this.fail(new ProducerFencedError((err as KafkaProtocolError).errorCode, (err as Error).message));
      return;
    }
    this.#idem.requestBump(`a batch of the transaction failed: ${err.message}`);
    this.#abortable(err);
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

  #assertNotFatal(): void {
    if (this.state === TransactionState.Fatal)
      throw this.fatalError ?? new IllegalStateError('the producer failed fatally');
  }

  #maybeAddPartitions(): void {
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
        for (const t of res.resultsByTopicV3AndBelow) {
          for (const p of t.resultsByPartition) {
            if (p.partitionErrorCode === ErrorCode.NONE) {
              let set = this.#added.get(t.name);
              if (set === undefined) {
                set = new Set();
                this.#added.set(t.name, set);
              }
              set.add(p.partitionIndex);
            } else if (
              RETRY_CODES.has(p.partitionErrorCode) ||
              p.partitionErrorCode === ErrorCode.OPERATION_NOT_ATTEMPTED
            ) {
              retry = true;
              this.#requeue(t.name, p.partitionIndex);
            } else {
              const err = this.#classify(
                p.partitionErrorCode,
                `AddPartitionsToTxn ${t.name}-${p.partitionIndex}`,
              );
              if (isFenced(err)) this.fail(err);
              else this.#abortable(err);
            }
          }
        }
        this.#addFailures = retry ? this.#addFailures + 1 : 0;
        if (retry) this.#retryAddsLater();
        this.#wakeup();
      },
      (err: Error) => {
        this.#adding = false;
        for (const [name, parts] of batch) for (const p of parts) this.#requeue(name, p);
        if (isFenced(err))
          this.fail(new ProducerFencedError((err as KafkaProtocolError).errorCode, err.message));
        else {
          this.#addFailures++;
          this.#retryAddsLater();
        }
        this.#wakeup();
      },
    );
  }

  /** Backs off, then wakes the sender, whose next pass asks again. */
  #retryAddsLater(): void {
    const delay = this.#backoff(this.#addFailures);
    this.#addRetryAt = Date.now() + delay;
    setTimeout(this.#wakeup, delay);
  }

  #requeue(name: string, partition: number): void {
    let set = this.#pending.get(name);
    if (set === undefined) {
      set = new Set();
      this.#pending.set(name, set);
    }
    set.add(partition);
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

function isFenced(err: unknown): boolean {
  return (
    err instanceof ProducerFencedError ||
    (err instanceof KafkaProtocolError && FENCED_CODES.has(err.errorCode))
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
