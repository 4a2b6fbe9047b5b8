import { ConfigError } from '../errors.js';
import type { ClusterView, TopicMetadata } from '../network/metadata.js';
import type { Partitioner } from './types.js';

/**
 * Partition choice as the Java client (4.x) makes it: murmur2 of the
 * serialized key for keyed records, and the adaptive sticky partitioner of
 * KIP-794 for the rest. A record's partition is, in order: the explicit one;
 * the registered Partitioner's answer; if that is -1, `BuiltInPartitioner`.
 */

// Mixing constants of murmur2 as Kafka uses it (Utils.murmur2): any other
// seed gives other partitions than every Java, librdkafka (murmur2_random)
// and franz-go producer, and keyed records would no longer line up.
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 of `data`: a signed 32-bit integer, bit for bit what the
 * Java client's `Utils.murmur2` returns. Allocates nothing.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    // Little-endian word; the bytes do not overlap, so | is Java's +.
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last 1-3 bytes: Java's fall-through switch, spelled as ifs.
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

/** Clears the sign bit (Java's `Utils.toPositive`): not `Math.abs`, which fails for -2^31. */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition of a serialized key among `numPartitions`, as every Kafka client computes it. */
export function partitionForKey(keyBytes: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(keyBytes)) % numPartitions;
}

/**
 * The default Partitioner: a keyed record goes to murmur2(key) modulo the
 * topic's partition count (all partitions, with a leader or not, so a key's
 * partition does not move while a leader is down); a record without a key, or
 * any record when `ignoreKeys` (Java's `partitioner.ignore.keys`), gets -1, so
 * the built-in sticky partitioner chooses. An empty key is a key: it is
 * hashed. Returns -1 too while the topic has no partitions in `cluster`.
 */
export class DefaultPartitioner implements Partitioner {
  readonly #ignoreKeys: boolean;

  constructor(ignoreKeys = false) {
    this.#ignoreKeys = ignoreKeys;
  }

  partition(
    topic: string,
    _key: unknown,
    keyBytes: Uint8Array | null,
    _value: unknown,
    _valueBytes: Uint8Array | null,
    cluster: ClusterView,
  ): number {
    if (keyBytes === null || this.#ignoreKeys) return -1;
    const n = cluster.partitionCount(topic);
    return n > 0 ? partitionForKey(keyBytes, n) : -1;
  }
}

const TWO_31 = 2 ** 31;
const NO_PARTITIONS = new Int32Array(0);

/**
 * The sticky, adaptive partitioner for records the Partitioner left to it
 * (KIP-794), one per topic, as in Java's `BuiltInPartitioner`. It keeps one
 * partition until `stickyBatchSize` bytes went to it, then picks the next at
 * random: uniformly among the partitions with a leader (among all when none
 * has one) or, once the accumulator reports queue sizes, with probability
 * proportional to `maxQueue + 1 - queue`, so partitions whose brokers drain
 * slowly get fewer new records.
 *
 * The producer's protocol, per record without a partition:
 * 1. `p = peekCurrentPartition(cluster)` and append to `p`;
 * 2. `updatePartitionInfo(p, appendedBytes, cluster, enableSwitch)`, with
 *    `enableSwitch` false while `p`'s queue holds a batch that is not full
 *    (Java's `allBatchesFull`), so a switch waits for a batch boundary;
 * 3. before appending to the sticky partition again, if all of its batches are
 *    now full, `updatePartitionInfo(p, 0, cluster, true)` completes a switch
 *    that was held back (Java's `partitionChanged`), then peek again.
 * And from each ready() pass: `updatePartitionLoadStats(...)`.
 *
 * Single-threaded, so Java's compare-and-set dance reduces to "is `partition`
 * still the sticky one". Peek and update allocate nothing and build no
 * closures; the table of available partitions is rebuilt only when the
 * topic's metadata object changes (each metadata update replaces it).
 */
export class BuiltInPartitioner {
  readonly topic: string;
  readonly #stickyBatchSize: number;
  readonly #random: () => number;

  /** The sticky partition, -1 before the first choice (or when the topic had no partitions). */
  #partition = -1;
  #producedBytes = 0;

  // Load stats: a cumulative frequency table over `#loadIds[0..#loadLength)`;
  // #loadLength 0 means none (uniform choice). Reused buffers, grown only.
  #cft: Int32Array = NO_PARTITIONS;
  #loadIds: Int32Array = NO_PARTITIONS;
  #loadLength = 0;

  // Partitions with a leader, for the topic metadata object `#availableOf`.
  #availableOf: TopicMetadata | undefined;
  #available: Int32Array = NO_PARTITIONS;
  #availableCount = 0;

  /**
   * @param stickyBatchSize bytes to produce to a partition before switching:
   *   the producer's `batchSize`, at least 1 (Java passes `max(1, batch.size)`).
   * @param random a source of uniform numbers in [0, 1); seed it in tests.
   */
  constructor(topic: string, stickyBatchSize: number, random: () => number = Math.random) {
    if (!Number.isInteger(stickyBatchSize) || stickyBatchSize < 1)
      throw new ConfigError(
        'batchSize',
        `the sticky batch size must be an integer >= 1, got ${stickyBatchSize}`,
      );
    this.topic = topic;
    this.#stickyBatchSize = stickyBatchSize;
    this.#random = random;
  }

  /**
   * The sticky partition, choosing one first if there is none. -1 only when
   * `cluster` has no partitions for the topic (the producer waits for
   * metadata with partitions before it gets here).
   */
  peekCurrentPartition(cluster: ClusterView): number {
    if (this.#partition < 0) {
      this.#partition = this.#nextPartition(cluster);
      this.#producedBytes = 0;
    }
    return this.#partition;
  }

  /**
   * Counts `appendedBytes` appended to `partition` and switches to a new
   * partition once it has had enough. Java's rule, exactly: switch when the
   * bytes produced to the current sticky partition reach `stickyBatchSize` and
   * `enableSwitch` is true, or reach `2 * stickyBatchSize` whatever
   * `enableSwitch` says (a cap, so a switch held back for an unfinished batch
   * cannot be held back forever). The new partition is drawn at random and may
   * be the same one; its count starts at 0. A `partition` that is not the
   * current sticky one (a keyed or explicit record, or a stale peek) is
   * ignored, like Java's null or changed `StickyPartitionInfo`.
   */
  updatePartitionInfo(
    partition: number,
    appendedBytes: number,
    cluster: ClusterView,
    enableSwitch: boolean,
  ): void {
    if (partition < 0 || partition !== this.#partition) return;
    const produced = this.#producedBytes + appendedBytes;
    this.#producedBytes = produced;
    const size = this.#stickyBatchSize;
    if ((produced >= size && enableSwitch) || produced >= size * 2) {
      this.#partition = this.#nextPartition(cluster);
      this.#producedBytes = 0;
    }
  }

  /**
   * Sets the load stats from the accumulator's ready() pass, Java's
   * semantics: `queueSizes[i]` is the number of batches queued for partition
   * `partitionIds[i]`, for the `length` partitions that have a leader (and are
   * not excluded for latency); `queueSizes.length` is the number of the
   * topic's partitions considered. Stats are cleared (uniform choice) when
   * either array is null, `length` is 0, there are fewer than 2 partitions, or
   * every partition is available and all queues are equal. Otherwise the
   * sizes become a cumulative frequency table of `maxSize + 1 - size`.
   *
   * Unlike Java, the arrays are neither modified nor kept: they are copied
   * into buffers owned here, so the caller may reuse them on the next pass.
   */
  updatePartitionLoadStats(queueSizes: number[] | null, partitionIds: number[] | null, length: number): void {
    if (queueSizes === null || partitionIds === null || length < 1 || queueSizes.length < 2) {
      this.#loadLength = 0;
      return;
    }
    let maxSizePlus1 = queueSizes[0]!;
    let allEqual = true;
    for (let i = 1; i < length; i++) {
      const q = queueSizes[i]!;
      if (q !== maxSizePlus1) allEqual = false;
      if (q > maxSizePlus1) maxSizePlus1 = q;
    }
    maxSizePlus1++;
    if (allEqual && length === queueSizes.length) {
      // Uniform is what the table would say anyway, and cheaper.
      this.#loadLength = 0;
      return;
    }
    if (this.#cft.length < length) {
      const capacity = Math.max(length, queueSizes.length);
      this.#cft = new Int32Array(capacity);
      this.#loadIds = new Int32Array(capacity);
    }
    const cft = this.#cft;
    const ids = this.#loadIds;
    let sum = 0;
    for (let i = 0; i < length; i++) {
      sum += maxSizePlus1 - queueSizes[i]!;
      cft[i] = sum;
      ids[i] = partitionIds[i]!;
    }
    this.#loadLength = length;
  }

  #nextPartition(cluster: ClusterView): number {
    // Java: Utils.toPositive(ThreadLocalRandom.nextInt()), uniform in [0, 2^31).
    const random = Math.floor(this.#random() * TWO_31);
    const n = this.#loadLength;
    if (n === 0) {
      const meta = cluster.topics.get(this.topic);
      if (meta === undefined || meta.partitions.length === 0) return -1;
      if (meta !== this.#availableOf) this.#indexAvailable(meta);
      if (this.#availableCount > 0) return this.#available[random % this.#availableCount]!;
      return random % meta.partitions.length;
    }
    // Weighted: the first table entry strictly greater than a uniform draw in
    // [0, total). The table strictly increases (every weight is >= 1).
    const cft = this.#cft;
    const weighted = random % cft[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cft[mid]! > weighted) hi = mid;
      else lo = mid + 1;
    }
    return this.#loadIds[lo]!;
  }

  #indexAvailable(meta: TopicMetadata): void {
    const partitions = meta.partitions;
    if (this.#available.length < partitions.length) this.#available = new Int32Array(partitions.length);
    let count = 0;
    for (let i = 0; i < partitions.length; i++) {
      if ((partitions[i]?.leader ?? -1) >= 0) this.#available[count++] = i;
    }
    this.#availableCount = count;
    this.#availableOf = meta;
  }
}
