import { EventEmitter } from 'node:events';
import {
  IllegalStateError,
  isAuthenticationError,
  KafkaProtocolError,
  kafkaProtocolError,
  TimeoutError,
} from '../errors.js';
import { MetadataApi, type MetadataResponse } from '../protocol/apis/metadata.js';
import { ErrorCode, errorCodeInfo } from '../protocol/error-codes.js';
import { type Logger, silentLogger } from './logger.js';
import type { BrokerAddress, NetworkClient } from './network-client.js';

export interface PartitionMetadata {
  readonly partition: number;
  /** -1 when the partition has no leader. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offline: readonly number[];
  readonly errorCode: number;
}

export interface TopicMetadata {
  readonly name: string;
  readonly topicId: Buffer;
  readonly isInternal: boolean;
  /** Indexed by partition number. */
  readonly partitions: readonly PartitionMetadata[];
}

export interface BrokerMetadata extends BrokerAddress {
  readonly rack: string | null;
}

/** An immutable snapshot of the cluster, replaced as a whole on each update. */
export class ClusterView {
  constructor(
    readonly brokers: ReadonlyMap<number, BrokerMetadata>,
    readonly topics: ReadonlyMap<string, TopicMetadata>,
    /** The latest error per topic that has no metadata (e.g. UNKNOWN_TOPIC_OR_PARTITION). */
    readonly topicErrors: ReadonlyMap<string, number>,
    readonly clusterId: string | null,
    readonly controllerId: number,
  ) {}

  static readonly empty = new ClusterView(new Map(), new Map(), new Map(), null, -1);

  topic(name: string): TopicMetadata | undefined {
    return this.topics.get(name);
  }

  partitionCount(topic: string): number {
    return this.topics.get(topic)?.partitions.length ?? 0;
  }

  leaderFor(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC_LENGTH = 249;

/** Throws INVALID_TOPIC_EXCEPTION (not retriable) for a name Kafka would refuse. */
export function validateTopicName(name: unknown): asserts name is string {
  const why =
    typeof name !== 'string'
      ? 'a topic name must be a string'
      : name.length === 0
        ? 'a topic name cannot be empty'
        : name === '.' || name === '..'
          ? `"${name}" is not a valid topic name`
          : name.length > MAX_TOPIC_LENGTH
            ? `a topic name is at most ${MAX_TOPIC_LENGTH} characters, this one has ${name.length}`
            : !LEGAL_TOPIC.test(name)
              ? `topic name ${JSON.stringify(name)} has characters other than ASCII letters, digits, '.', '_' and '-'`
              : undefined;
  if (why !== undefined) throw new KafkaProtocolError(ErrorCode.INVALID_TOPIC_EXCEPTION, why);
}

/** Topic errors that end a wait at once; the others (unknown topic, no leader yet) are retried until the deadline. */
function fatalTopicError(code: number): boolean {
  return code === ErrorCode.INVALID_TOPIC_EXCEPTION || code === ErrorCode.TOPIC_AUTHORIZATION_FAILED;
}

export interface MetadataConfig {
  metadataMaxAgeMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** Ask brokers to create unknown topics (the Java producer's allow.auto.create.topics, default true). */
  allowAutoTopicCreation: boolean;
}

interface Waiter {
  topic: string;
  deadline: number;
  maxBlockMs: number;
  resolve: (t: TopicMetadata) => void;
  reject: (err: Error) => void;
}

/**
 * The client's view of the cluster and what keeps it fresh: an update is
 * sent (to the least loaded node) when asked for — an unknown topic, a
 * leader error, a lost leader — and at least every `metadataMaxAgeMs`.
 * Failed updates back off exponentially. A response carrying a partition
 * with an older leader epoch than the one known is stale for that partition
 * and ignored. One timer serves refreshes, retries and wait deadlines.
 */
export class Metadata extends EventEmitter<{ update: [ClusterView] }> {
  readonly #client: NetworkClient;
  readonly #config: MetadataConfig;
  readonly #log: Logger;
  #cluster = ClusterView.empty;
  readonly #interest = new Set<string>();
  #waiters: Waiter[] = [];
  #updateRequested = true;
  #inProgress = false;
  #failures = 0;
  #lastSuccess = 0;
  #nextAttemptAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** The earliest deadline among the waiters (kept as waiters come and go). */
  #minDeadline = Number.POSITIVE_INFINITY;
  #closed = false;
  /** The last update failed with an AuthenticationError: no periodic refresh until someone asks. */
  #refused = false;
  /** How many updates have been applied. */
  updates = 0;

  constructor(client: NetworkClient, config: MetadataConfig, logger: Logger = silentLogger) {
    super();
    this.#client = client;
    this.#config = config;
    this.#log = logger;
    // A broker we did not disconnect from may have lost its leaderships: look again.
    client.on('disconnect', this.#onDisconnect);
  }

  readonly #onDisconnect = (e: { nodeId: number; byClient: boolean }) => {
    if (!e.byClient && this.#cluster.brokers.has(e.nodeId)) this.requestUpdate();
  };

  get cluster(): ClusterView {
    return this.#cluster;
  }

  /** When the last update succeeded (Date.now() time; 0 before the first). */
  get lastUpdateMs(): number {
    return this.#lastSuccess;
  }

  /** Topics included in every update. */
  get topics(): ReadonlySet<string> {
    return this.#interest;
  }

  /** Asks for an update as soon as possible (coalesced with one already under way). */
  requestUpdate(): void {
    this.#updateRequested = true;
    this.#refused = false;
    this.#schedule();
  }

  /** Adds a topic to every update from now on. */
  add(topic: string): void {
    validateTopicName(topic);
    if (!this.#interest.has(topic)) {
      this.#interest.add(topic);
      this.requestUpdate();
    }
  }

  /**
   * Resolves with the topic's metadata once it has partitions, fetching it if
   * needed; waits at most `maxBlockMs`. An invalid name rejects at once; an
   * unknown topic is retried until the deadline, then rejects with a
   * TimeoutError naming the topic and the last error. An update that fails
   * because a broker refused us (AuthenticationError) rejects every wait
   * with that error at once.
   */
  waitOnMetadata(topic: string, maxBlockMs: number): Promise<TopicMetadata> {
    try {
      validateTopicName(topic);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.reject(new IllegalStateError('metadata is closed'));
    const known = this.#cluster.topics.get(topic);
    if (known && known.partitions.length > 0) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + maxBlockMs;
      this.#waiters.push({ topic, deadline, maxBlockMs, resolve, reject });
      if (deadline < this.#minDeadline) this.#minDeadline = deadline;
      if (!this.#interest.has(topic)) this.#interest.add(topic);
      this.requestUpdate();
    });
  }

  /** Applies a Metadata response (exposed for tests of the merge rules). */
  update(response: MetadataResponse): ClusterView {
    const brokers = new Map<number, BrokerMetadata>();
    for (const b of response.brokers)
      brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    const topics = new Map(this.#cluster.topics);
    const topicErrors = new Map(this.#cluster.topicErrors);
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== ErrorCode.NONE) {
        topicErrors.set(t.name, t.errorCode);
        topics.delete(t.name);
        continue;
      }
      topicErrors.delete(t.name);
      const previous = topics.get(t.name);
      const sameTopic =
        previous !== undefined &&
        (isZero(previous.topicId) || isZero(t.topicId) || previous.topicId.equals(t.topicId));
      const partitions: PartitionMetadata[] = [];
      for (const p of t.partitions) {
        const fresh: PartitionMetadata = {
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas,
          errorCode: p.errorCode,
        };
        const old = sameTopic ? previous?.partitions[p.partitionIndex] : undefined;
        // A lower leader epoch than we know means this broker's view is older: keep ours.
        partitions[p.partitionIndex] =
          old && old.leaderEpoch >= 0 && fresh.leaderEpoch >= 0 && fresh.leaderEpoch < old.leaderEpoch
            ? old
            : fresh;
      }
      for (let i = 0; i < partitions.length; i++) {
        if (partitions[i] === undefined) {
          partitions[i] = {
            partition: i,
            leader: -1,
            leaderEpoch: -1,
            replicas: [],
            isr: [],
            offline: [],
            errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
          };
        }
      }
      topics.set(t.name, { name: t.name, topicId: t.topicId, isInternal: t.isInternal, partitions });
    }
    this.#cluster = new ClusterView(brokers, topics, topicErrors, response.clusterId, response.controllerId);
    this.updates++;
    return this.#cluster;
  }

  close(): void {
    this.#closed = true;
    this.#client.off('disconnect', this.#onDisconnect);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const err = new IllegalStateError('metadata was closed');
    for (const w of this.#waiters.splice(0)) w.reject(err);
    this.#minDeadline = Number.POSITIVE_INFINITY;
  }

  // ---------------------------------------------------------------------------

  /**
   * Arms the one timer for the nearest of: a requested update (after its
   * backoff), the periodic refresh, the earliest wait deadline. Re-arms only
   * when that moves earlier, so a burst of waits costs O(1) each.
   */
  #schedule(): void {
    if (this.#closed) return;
    const now = Date.now();
    // The periodic refresh, never before the backoff of a failed attempt ends (before the first
    // success lastSuccess is 0: without the max the timer would fire at once until then).
    let next =
      this.#inProgress || this.#refused
        ? Number.POSITIVE_INFINITY
        : Math.max(this.#lastSuccess + this.#config.metadataMaxAgeMs, this.#nextAttemptAt);
    if (this.#updateRequested && !this.#inProgress) next = Math.min(next, Math.max(now, this.#nextAttemptAt));
    next = Math.min(next, this.#minDeadline);
    if (this.#timer && this.#timerAt <= next) {
      if (this.#waiters.length > 0) this.#timer.ref();
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = next;
    if (!Number.isFinite(next)) return;
    this.#timer = setTimeout(this.#onTick, Math.max(0, next - now));
    // Someone waiting keeps the process alive; a background refresh does not.
    if (this.#waiters.length === 0) this.#timer.unref();
  }

  readonly #onTick = () => this.#tick();

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    this.#expireWaiters(now);
    if (
      !this.#inProgress &&
      (this.#updateRequested || (!this.#refused && now >= this.#lastSuccess + this.#config.metadataMaxAgeMs))
    ) {
      if (now >= this.#nextAttemptAt) void this.#sendUpdate();
    }
    this.#schedule();
  }

  async #sendUpdate(): Promise<void> {
    const nodeId = this.#client.leastLoadedNode();
    if (nodeId === undefined) {
      // Every node is backing off; if one refused us, waiting cannot help.
      this.#fail(this.#client.authenticationFailure() ?? new Error('no broker is reachable'));
      return;
    }
    this.#inProgress = true;
    this.#updateRequested = false;
    const topics = [...this.#interest].map((name) => ({ name, topicId: undefined }));
    try {
      const response = await this.#client.request(
        nodeId,
        MetadataApi,
        {
          topics,
          allowAutoTopicCreation: this.#config.allowAutoTopicCreation,
          includeTopicAuthorizedOperations: false,
        },
        { failFast: true },
      );
      this.#inProgress = false;
      if (this.#closed) return;
      if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) {
        throw kafkaProtocolError(response.errorCode, `Metadata from node ${nodeId}`);
      }
      const cluster = this.update(response);
      this.#client.setBrokers([...cluster.brokers.values()]);
      this.#failures = 0;
      this.#lastSuccess = Date.now();
      // As Java's refresh backoff: even after a success, the next update waits
      // retryBackoffMs. Without it, a topic whose leader stays unknown (or a
      // run of NOT_LEADER answers) asked for metadata about once a millisecond.
      this.#nextAttemptAt = this.#lastSuccess + this.#config.retryBackoffMs;
      if (this.#log.debugEnabled) {
        this.#log.debug('metadata updated', {
          nodeId,
          brokers: cluster.brokers.size,
          topics: cluster.topics.size,
        });
      }
      this.emit('update', cluster);
      this.#settleWaiters();
    } catch (err) {
      this.#inProgress = false;
      if (this.#closed) return;
      this.#fail(err as Error);
    }
    this.#schedule();
  }

  #fail(err: Error): void {
    const refused = isAuthenticationError(err);
    if (refused && this.#waiters.length > 0) {
      // A broker refused our credentials or its certificate did not verify: the
      // Java client's waitOnMetadata throws the AuthenticationException, so do we.
      for (const w of this.#waiters.splice(0)) w.reject(err);
      this.#minDeadline = Number.POSITIVE_INFINITY;
    }
    this.#failures++;
    // A refusal is not retried on a timer (that would reconnect forever): the
    // next wait, request or periodic refresh asks again.
    this.#updateRequested = !refused;
    this.#refused = refused;
    const backoff = Math.min(
      this.#config.retryBackoffMs * 2 ** Math.min(this.#failures - 1, 30),
      this.#config.retryBackoffMaxMs,
    );
    this.#nextAttemptAt = Date.now() + Math.round(backoff * (0.8 + Math.random() * 0.4));
    if (this.#log.infoEnabled)
      this.#log.info('metadata update failed; will retry', { error: err.message, failures: this.#failures });
    this.#schedule();
  }

  #settleWaiters(): void {
    let retry = false;
    this.#waiters = this.#waiters.filter((w) => {
      const t = this.#cluster.topics.get(w.topic);
      if (t && t.partitions.length > 0) {
        w.resolve(t);
        return false;
      }
      const code = this.#cluster.topicErrors.get(w.topic);
      if (code !== undefined && fatalTopicError(code)) {
        w.reject(kafkaProtocolError(code, `topic ${w.topic}`));
        return false;
      }
      retry = true;
      return true;
    });
    this.#recomputeMinDeadline();
    if (retry) {
      // Unknown topic or no leader yet: ask again after the retry backoff.
      this.#updateRequested = true;
      this.#nextAttemptAt = Date.now() + this.#config.retryBackoffMs;
    }
  }

  #expireWaiters(now: number): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (w.deadline > now) return true;
      const code = this.#cluster.topicErrors.get(w.topic);
      const last = code === undefined ? '' : ` (last error: ${errorCodeInfo(code).name})`;
      w.reject(new TimeoutError(`topic ${w.topic} not present in metadata after ${w.maxBlockMs} ms${last}`));
      return false;
    });
    this.#recomputeMinDeadline();
  }

  #recomputeMinDeadline(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const w of this.#waiters) if (w.deadline < min) min = w.deadline;
    this.#minDeadline = min;
  }
}

function isZero(id: Buffer): boolean {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}
