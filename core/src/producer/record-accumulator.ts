import type { ClusterView } from '../network/metadata.js';
import type { CompressionType } from '../protocol/compression/index.js';
import type { ProducerStamp, RecordHeader } from '../protocol/record-batch.js';
import { type Clock, systemClock } from './clock.js';
import type { ProducerSensors } from './metrics.js';
import { BuiltInPartitioner } from './partitioner.js';
import {
  type OnDelivered,
  type OnFailed,
  ProducerBatch,
  type Reject,
  type Resolve,
  type TopicInfo,
} from './producer-batch.js';
import type { BufferPool } from './types.js';

interface PartitionQueue {
  readonly partition: number;
  batches: ProducerBatch[];
  /** Ordering: a batch of this partition is in flight and must complete first. */
  muted: boolean;
  /** Records waiting, in send order, for the memory of this partition's next batch. */
  waiting: WaitingRecord[];
  /** A pool allocation for this partition is outstanding. */
  allocating: boolean;
  /** Records in the last batch drained: how much bookkeeping the next batch reserves. */
  lastRecordCount: number;
}

/** A record that found its partition's batch full while the pool had no memory. */
export interface WaitingRecord {
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[] | undefined;
  resolve: Resolve;
  reject: Reject;
  /** Its buffer size if it starts a batch (max of batchSize and its upper bound). */
  bufferSize: number;
  /** When its maxBlockMs runs out. */
  deadline: number;
  /** Called once it is in a batch (with the append result) or has failed (with the error). */
  settled: (result: AppendResult | Error) => void;
}

interface TopicQueues {
  readonly info: TopicInfo;
  readonly partitions: (PartitionQueue | undefined)[];
  readonly sticky: BuiltInPartitioner;
  /** Scratch for adaptive partitioning's load stats, reused by every ready pass. */
  readonly queueSizes: number[];
  readonly partitionIds: number[];
}

export interface AccumulatorConfig {
  batchSize: number;
  lingerMs: number;
  deliveryTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  compression: CompressionType;
  adaptivePartitioning: boolean;
  partitionAvailabilityTimeoutMs: number;
}

/** Idempotence's hooks into drain: whether a batch may go now, and the stamp it carries. */
export interface Sequencer {
  canDrain(batch: ProducerBatch): boolean;
  stamp(batch: ProducerBatch): ProducerStamp;
}

export interface ReadyCheck {
  readyNodes: Set<number>;
  /** Milliseconds until some batch becomes sendable (Infinity if none waits). */
  nextReadyCheckDelayMs: number;
  /** Topics with queued batches and a partition without a known leader. */
  unknownLeaderTopics: Set<string>;
}

/** What an append did; the sender is woken when a batch filled or was created. */
export const AppendResult = { Appended: 0, NewBatch: 1, BatchFull: 2, NeedsMemory: 3 } as const;
export type AppendResult = (typeof AppendResult)[keyof typeof AppendResult];

/**
 * The record accumulator: a deque of batches per partition. `append` writes
 * a record into the open batch of its partition (the fast path, synchronous,
 * no allocation beyond the record's promise), or into a new batch whose
 * buffer comes from the pool. `ready` finds the nodes with something to send
 * (a full batch, a lingered one, a flush, memory waiters), `drain` takes per
 * node at most `maxRequestSize` bytes of first batches, rotating where it
 * starts so no partition starves.
 */
export class RecordAccumulator {
  readonly #config: AccumulatorConfig;
  readonly #pool: BufferPool;
  readonly #topics = new Map<string, TopicQueues>();
  /** The last topic looked up: most programs send to one topic at a time. */
  #lastTopic: TopicQueues | undefined;
  readonly #incomplete = new Set<ProducerBatch>();
  readonly #drainIndex = new Map<number, number>();
  readonly #drained = new Map<number, ProducerBatch[]>();
  /** Per ready pass: each node's partitions that have batches. */
  readonly #byNode = new Map<number, PartitionQueue[]>();
  readonly #unavailableSince = new Map<number, number>();
  #flushes = 0;
  #flushWaiters: Array<{ pending: Set<ProducerBatch>; resolve: () => void }> = [];
  closed = false;

  readonly #clock: Clock;

  /** Where time spent waiting for buffer memory is recorded (bufferpool-wait-*). */
  sensors: ProducerSensors | undefined;

  constructor(config: AccumulatorConfig, pool: BufferPool, clock: Clock = systemClock) {
    this.#config = config;
    this.#pool = pool;
    this.#clock = clock;
  }

  /** The per-topic state (created on first use): the topic's name bytes and sticky partitioner. */
  topic(name: string): TopicQueues {
    if (name === this.#lastTopic?.info.name) return this.#lastTopic;
    let t = this.#topics.get(name);
    if (t === undefined) {
      t = {
        info: { name, nameBytes: Buffer.from(name, 'utf8') },
        partitions: [],
        sticky: new BuiltInPartitioner(name, this.#config.batchSize),
        queueSizes: [],
        partitionIds: [],
      };
      this.#topics.set(name, t);
    }
    this.#lastTopic = t;
    return t;
  }

  #queue(t: TopicQueues, partition: number): PartitionQueue {
    let q = t.partitions[partition];
    if (q === undefined) {
      q = { partition, batches: [], muted: false, waiting: [], allocating: false, lastRecordCount: 0 };
      t.partitions[partition] = q;
    }
    return q;
  }

  /**
   * Appends to the partition's open batch, or to a new one if the pool has
   * memory now. Returns NeedsMemory (nothing written) when a new batch is
   * needed and the pool has none free, or when records of the partition
   * already wait for memory: the caller then queues the record with
   * `enqueueWaiting`.
   */
  append(
    t: TopicQueues,
    partition: number,
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    resolve: OnDelivered,
    reject: OnFailed,
    bufferSize: number,
    now: number,
  ): AppendResult {
    const q = this.#queue(t, partition);
    // Records already waiting for memory go first: order within a partition is kept.
    if (q.waiting.length > 0) return AppendResult.NeedsMemory;
    const last = q.batches[q.batches.length - 1];
    if (last?.tryAppend(timestamp, key, value, headers, resolve, reject)) {
      return last.sizeInBytes >= this.#config.batchSize ? AppendResult.BatchFull : AppendResult.Appended;
    }
    const buffer = this.#pool.tryAllocate(bufferSize);
    if (buffer === null) return AppendResult.NeedsMemory;
    return this.#newBatch(t, q, buffer, timestamp, key, value, headers, resolve, reject, now);
  }

  /**
   * Queues a record that needs a new batch while the pool has no memory. One
   * allocation per partition is outstanding at a time; when it arrives, the
   * waiting records fill the new batch in send order (as many as fit) and
   * the rest wait for the next. So pool waiters are bounded by partitions,
   * not records, and a batch is never started for a single record while
   * others could share it.
   */
  enqueueWaiting(t: TopicQueues, partition: number, record: WaitingRecord): void {
    const q = this.#queue(t, partition);
    q.waiting.push(record);
    if (!q.allocating) this.#allocateFor(t, q);
  }

  #allocateFor(t: TopicQueues, q: PartitionQueue): void {
    const head = q.waiting[0];
    if (head === undefined) return;
    q.allocating = true;
    const waitStart = this.#clock.now();
    const remaining = Math.max(0, head.deadline - waitStart);
    this.#pool.allocate(head.bufferSize, remaining).then(
      (buffer) => {
        q.allocating = false;
        if (this.sensors !== undefined) {
          const now = this.#clock.now();
          this.sensors.recordPoolWait(now - waitStart, now);
        }
        if (this.closed) {
          this.#pool.deallocate(buffer);
          return;
        }
        this.#fillFromWaiting(t, q, buffer);
        if (q.waiting.length > 0) this.#allocateFor(t, q);
      },
      (err: Error) => {
        q.allocating = false;
        // The head's time ran out (or the pool closed): it fails, with
        // everyone else whose deadline has passed; the rest keep waiting.
        const now = this.#clock.now();
        const head = q.waiting.shift();
        head?.reject(err);
        head?.settled(err);
        q.waiting = q.waiting.filter((w) => {
          if (w.deadline > now && !this.closed) return true;
          w.reject(err);
          w.settled(err);
          return false;
        });
        if (q.waiting.length > 0) this.#allocateFor(t, q);
      },
    );
  }

  #fillFromWaiting(t: TopicQueues, q: PartitionQueue, buffer: Buffer): void {
    const now = this.#clock.now();
    let first = true;
    while (q.waiting.length > 0) {
      const w = q.waiting[0] as WaitingRecord;
      let result: AppendResult;
      if (first) {
        result = this.#newBatch(
          t,
          q,
          buffer,
          w.timestamp,
          w.key,
          w.value,
          w.headers,
          w.resolve,
          w.reject,
          now,
        );
        first = false;
      } else {
        const last = q.batches[q.batches.length - 1] as ProducerBatch;
        if (!last.tryAppend(w.timestamp, w.key, w.value, w.headers, w.resolve, w.reject)) break;
        result = last.sizeInBytes >= this.#config.batchSize ? AppendResult.BatchFull : AppendResult.Appended;
      }
      q.waiting.shift();
      w.settled(result);
    }
  }

  /** Records waiting for memory, all partitions. */
  get waitingCount(): number {
    let n = 0;
    for (const t of this.#topics.values()) for (const q of t.partitions) if (q) n += q.waiting.length;
    return n;
  }

  #newBatch(
    t: TopicQueues,
    q: PartitionQueue,
    buffer: Buffer,
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    resolve: OnDelivered,
    reject: OnFailed,
    now: number,
  ): AppendResult {
    const batch = new ProducerBatch(
      t.info,
      q.partition,
      buffer,
      this.#config.compression,
      now,
      true,
      q.lastRecordCount,
    );
    if (!batch.tryAppend(timestamp, key, value, headers, resolve, reject)) {
      // The buffer was sized by the record's upper bound, so this cannot happen.
      this.#pool.deallocate(buffer);
      throw new RangeError(`record does not fit a ${buffer.length}-byte batch buffer`);
    }
    const previous = q.batches[q.batches.length - 1];
    if (previous !== undefined) previous.closedForAppends = true;
    q.batches.push(batch);
    this.#incomplete.add(batch);
    return AppendResult.NewBatch;
  }

  /**
   * Which nodes have a sendable batch: the first batch of a partition is
   * sendable when full, lingered `lingerMs` (or out of retry backoff),
   * flushing, closing, or when others wait for memory.
   */
  // What a ready pass returns, reused: a pass runs per batch (per record with
  // lingerMs 0), so it allocates nothing in the steady state. Valid until the
  // next pass.
  readonly #check: ReadyCheck = {
    readyNodes: new Set<number>(),
    nextReadyCheckDelayMs: Number.POSITIVE_INFINITY,
    unknownLeaderTopics: new Set<string>(),
  };

  ready(cluster: ClusterView, now: number, isNodeReady: (nodeId: number) => boolean): ReadyCheck {
    const check = this.#check;
    const readyNodes = check.readyNodes;
    const unknownLeaderTopics = check.unknownLeaderTopics;
    readyNodes.clear();
    unknownLeaderTopics.clear();
    let next = Number.POSITIVE_INFINITY;
    const byNode = this.#byNode;
    for (const list of byNode.values()) list.length = 0;
    const exhausted = this.#pool.queued > 0 || this.waitingCount > 0;
    const flushing = this.#flushes > 0 || this.closed;
    const adaptive = this.#config.adaptivePartitioning;

    for (const t of this.#topics.values()) {
      const topicMeta = adaptive ? cluster.topic(t.info.name) : undefined;
      if (topicMeta !== undefined) {
        const queueSizes = t.queueSizes;
        const partitionIds = t.partitionIds;
        queueSizes.length = 0;
        partitionIds.length = 0;
        for (const p of topicMeta.partitions) {
          if (p.leader < 0 || !this.#available(p.leader, now, isNodeReady)) continue;
          queueSizes.push(t.partitions[p.partition]?.batches.length ?? 0);
          partitionIds.push(p.partition);
        }
        t.sticky.updatePartitionLoadStats(queueSizes, partitionIds, partitionIds.length);
      }
      for (const q of t.partitions) {
        if (q === undefined || q.batches.length === 0) continue;
        const leader = cluster.leaderFor(t.info.name, q.partition);
        if (leader < 0) {
          unknownLeaderTopics.add(t.info.name);
          continue;
        }
        let list = byNode.get(leader);
        if (list === undefined) {
          list = [];
          byNode.set(leader, list);
        }
        list.push(q);
        if (q.muted || readyNodes.has(leader)) continue;
        const first = q.batches[0] as ProducerBatch;
        const backingOff = first.inRetry && now < first.retryAt;
        if (backingOff) {
          next = Math.min(next, first.retryAt - now);
          continue;
        }
        const full =
          q.batches.length > 1 || first.closedForAppends || first.sizeInBytes >= this.#config.batchSize;
        const lingerLeft = first.inRetry ? 0 : first.createdMs + this.#config.lingerMs - now;
        if (full || lingerLeft <= 0 || flushing || exhausted) readyNodes.add(leader);
        else next = Math.min(next, lingerLeft);
      }
    }
    check.nextReadyCheckDelayMs = next;
    return check;
  }

  /** Partition availability for adaptive partitioning: a leader not ready for longer than the timeout is skipped. */
  #available(leader: number, now: number, isNodeReady: (nodeId: number) => boolean): boolean {
    const timeout = this.#config.partitionAvailabilityTimeoutMs;
    if (timeout <= 0) return true;
    if (isNodeReady(leader)) {
      this.#unavailableSince.delete(leader);
      return true;
    }
    const since = this.#unavailableSince.get(leader);
    if (since === undefined) {
      this.#unavailableSince.set(leader, now);
      return true;
    }
    return now - since < timeout;
  }

  /**
   * Takes, for each node, the first batch of each of its partitions (from
   * the last `ready` pass), starting where the previous drain of that node
   * stopped, until `maxRequestSize` bytes. Drained batches are sealed.
   */
  drain(
    nodes: Iterable<number>,
    maxRequestSize: number,
    now: number,
    sequencer?: Sequencer,
  ): Map<number, ProducerBatch[]> {
    // Reused (valid until the next drain); the batch arrays go with the requests.
    const out = this.#drained;
    out.clear();
    for (const node of nodes) {
      const parts = this.#byNode.get(node);
      if (parts === undefined || parts.length === 0) continue;
      const start = (this.#drainIndex.get(node) ?? 0) % parts.length;
      const batches: ProducerBatch[] = [];
      let size = 0;
      let i = 0;
      for (; i < parts.length; i++) {
        const q = parts[(start + i) % parts.length] as PartitionQueue;
        const first = q.batches[0];
        if (first === undefined || q.muted || (first.inRetry && now < first.retryAt)) continue;
        if (sequencer !== undefined && !sequencer.canDrain(first)) continue;
        if (batches.length > 0 && size + first.sizeInBytes > maxRequestSize) break;
        q.batches.shift();
        q.lastRecordCount = first.recordCount;
        const sealed = sequencer === undefined ? first.seal() : first.seal(sequencer.stamp(first));
        first.attempts++;
        first.lastAttemptMs = now;
        size += sealed.length;
        batches.push(first);
      }
      this.#drainIndex.set(node, (start + i) % parts.length);
      if (batches.length > 0) out.set(node, batches);
    }
    return out;
  }

  mute(topic: string, partition: number): void {
    const q = this.#topics.get(topic)?.partitions[partition];
    if (q) q.muted = true;
  }

  unmute(topic: string, partition: number): void {
    const q = this.#topics.get(topic)?.partitions[partition];
    if (q) q.muted = false;
  }

  /** Puts a batch back at the front of its queue, to be sent again after the retry backoff. */
  reenqueue(batch: ProducerBatch, now: number): void {
    const exp = Math.min(
      this.#config.retryBackoffMs * 2 ** Math.min(batch.attempts - 1, 30),
      this.#config.retryBackoffMaxMs,
    );
    batch.retryAt = now + Math.round(exp * (0.8 + Math.random() * 0.4));
    const batches = this.#queue(this.topic(batch.topic.name), batch.partition).batches;
    // A batch with a sequence number goes among the other retried ones in
    // sequence order, so retries reach the broker in order.
    // One without goes among them in creation order, which keeps every queue
    // in creation order (expiry looks only at the front).
    let at = 0;
    if (batch.baseSequence >= 0) {
      while (at < batches.length) {
        const b = batches[at] as ProducerBatch;
        if (b.baseSequence < 0 || b.baseSequence > batch.baseSequence) break;
        at++;
      }
    } else {
      while (at < batches.length) {
        const b = batches[at] as ProducerBatch;
        if (!b.inRetry || b.createdMs > batch.createdMs) break;
        at++;
      }
    }
    batches.splice(at, 0, batch);
  }

  /** Every queued batch (for re-sequencing after a producer epoch bump). */
  *queuedBatches(): Generator<ProducerBatch> {
    for (const t of this.#topics.values()) for (const q of t.partitions) if (q) yield* q.batches;
  }

  /** Replaces a batch (split after MESSAGE_TOO_LARGE) by its pieces, at the front of its queue. */
  requeueSplit(original: ProducerBatch, pieces: ProducerBatch[]): void {
    const q = this.#queue(this.topic(original.topic.name), original.partition);
    for (const p of pieces) {
      p.closedForAppends = true;
      this.#incomplete.add(p);
    }
    q.batches.unshift(...pieces);
    this.batchDone(original);
  }

  /** Removes and returns queued batches older than deliveryTimeoutMs. */
  expired(now: number): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    const limit = this.#config.deliveryTimeoutMs;
    for (const t of this.#topics.values()) {
      for (const q of t.partitions) {
        if (q === undefined || q.batches.length === 0) continue;
        // A partition's queue is in creation order (new batches go to the back;
        // retried and split ones, older than all the rest, to the front), so
        // the front batch is its oldest: a pass looks at one batch per partition.
        if (now - (q.batches[0] as ProducerBatch).createdMs < limit) continue;
        q.batches = q.batches.filter((b) => {
          if (now - b.createdMs < limit) return true;
          out.push(b);
          return false;
        });
      }
    }
    return out;
  }

  /** The earliest delivery deadline of a queued batch (not in flight), for the sender's timer. */
  nextExpiry(): number {
    // Queued batches only (the sender knows its in-flight ones); the front of
    // each partition's queue is its oldest, so this is one look per partition.
    let next = Number.POSITIVE_INFINITY;
    for (const t of this.#topics.values()) {
      for (const q of t.partitions) {
        const first = q?.batches[0];
        if (first !== undefined && first.createdMs < next) next = first.createdMs;
      }
    }
    return next + this.#config.deliveryTimeoutMs;
  }

  /** Called once a batch is settled: returns its buffer and wakes flushes it completes. */
  batchDone(batch: ProducerBatch): void {
    if (!this.#incomplete.delete(batch)) return;
    if (batch.pooled) this.#pool.deallocate(batch.buffer);
    if (this.#flushWaiters.length > 0) {
      this.#flushWaiters = this.#flushWaiters.filter((w) => {
        w.pending.delete(batch);
        if (w.pending.size > 0) return true;
        w.resolve();
        return false;
      });
    }
  }

  get incompleteCount(): number {
    return this.#incomplete.size;
  }

  /** Makes every batch sendable now and resolves when every batch that exists now is settled. */
  flush(): Promise<void> {
    if (this.#incomplete.size === 0) return Promise.resolve();
    this.#flushes++;
    return new Promise<void>((resolve) => {
      this.#flushWaiters.push({ pending: new Set(this.#incomplete), resolve });
    }).finally(() => {
      this.#flushes--;
    });
  }

  /** Fails every batch not yet settled (closing): queued ones are removed; in-flight ones are failed in place. */
  abortAll(error: Error, sentError: Error = error): void {
    for (const t of this.#topics.values()) {
      for (const q of t.partitions) {
        if (!q) continue;
        q.batches = [];
        for (const w of q.waiting.splice(0)) {
          w.reject(error);
          w.settled(error);
        }
      }
    }
    for (const b of [...this.#incomplete]) {
      // A batch sent at least once may have been written: say so.
      b.fail(b.attempts > 0 ? sentError : error);
      this.batchDone(b);
    }
  }

  /**
   * Removes and returns the queued batches of the partitions `select` picks,
   * for the sender to fail: their leader refused us, or their transaction
   * can only abort. Records still waiting for memory stay where they are.
   */
  removeQueued(select: (topic: string, partition: number) => boolean): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    for (const t of this.#topics.values()) {
      for (const q of t.partitions) {
        if (q === undefined || q.batches.length === 0 || !select(t.info.name, q.partition)) continue;
        for (const b of q.batches.splice(0)) out.push(b);
      }
    }
    return out;
  }
}
