/**
 * Producer metrics under the names Kafka users know from the Java client's
 * `producer-metrics` group (record-send-rate, request-latency-avg, ...).
 *
 * Rates, averages and maxima are windowed as Java's are: `metricsNumSamples`
 * samples of `metricsSampleWindowMs` each; the oldest sample is dropped when a
 * new window starts. A rate divides the window's total by the time the
 * samples cover, padded to at least (samples - 1) full windows, so a rate
 * starts low and settles rather than spiking on the first second (Java's
 * `Rate`). Totals are cumulative from the producer's start.
 *
 * Recording costs a few additions per batch or per request, never an
 * allocation: the sender records per batch, the producer per failed record.
 */

/** A windowed count, sum and maximum: the samples behind one or more metrics. */
export class WindowedStat {
  readonly #windowMs: number;
  // Parallel arrays, one slot per sample: no objects on the record path.
  readonly #start: Float64Array;
  readonly #count: Float64Array;
  readonly #sum: Float64Array;
  readonly #max: Float64Array;
  #current = 0;
  /** Cumulative over the producer's life. */
  totalCount = 0;
  totalSum = 0;

  constructor(windowMs: number, samples: number, now: number) {
    this.#windowMs = windowMs;
    const n = Math.max(2, samples);
    this.#start = new Float64Array(n).fill(now);
    this.#count = new Float64Array(n);
    this.#sum = new Float64Array(n);
    this.#max = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  }

  record(value: number, now: number): void {
    let i = this.#current;
    if (now - (this.#start[i] as number) >= this.#windowMs) i = this.#advance(now);
    this.#count[i] = (this.#count[i] as number) + 1;
    this.#sum[i] = (this.#sum[i] as number) + value;
    if (value > (this.#max[i] as number)) this.#max[i] = value;
    this.totalCount++;
    this.totalSum += value;
  }

  #advance(now: number): number {
    const i = (this.#current + 1) % this.#start.length;
    this.#current = i;
    this.#start[i] = now;
    this.#count[i] = 0;
    this.#sum[i] = 0;
    this.#max[i] = Number.NEGATIVE_INFINITY;
    return i;
  }

  /** Drops samples older than the whole window, as Java's purge does before measuring. */
  #purge(now: number): void {
    const span = this.#windowMs * this.#start.length;
    for (let i = 0; i < this.#start.length; i++) {
      if (now - (this.#start[i] as number) >= span) {
        this.#start[i] = now;
        this.#count[i] = 0;
        this.#sum[i] = 0;
        this.#max[i] = Number.NEGATIVE_INFINITY;
      }
    }
  }

  /** Sum per second over the window (Java's Rate). */
  rate(now: number): number {
    return this.#perSecond(this.#sum, now);
  }

  /** Recordings per second over the window (Java's Rate of a count). */
  countRate(now: number): number {
    return this.#perSecond(this.#count, now);
  }

  #perSecond(values: Float64Array, now: number): number {
    this.#purge(now);
    let sum = 0;
    let oldest = now;
    for (let i = 0; i < this.#start.length; i++) {
      sum += values[i] as number;
      if ((this.#start[i] as number) < oldest) oldest = this.#start[i] as number;
    }
    let elapsed = now - oldest;
    const minFull = this.#start.length - 1;
    const full = Math.floor(elapsed / this.#windowMs);
    if (full < minFull) elapsed += (minFull - full) * this.#windowMs;
    return elapsed <= 0 ? 0 : (sum * 1000) / elapsed;
  }

  /** Mean of the recorded values in the window; NaN when there are none (Java reports NaN too). */
  avg(now: number): number {
    this.#purge(now);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < this.#start.length; i++) {
      sum += this.#sum[i] as number;
      count += this.#count[i] as number;
    }
    return count === 0 ? Number.NaN : sum / count;
  }

  /** Largest recorded value in the window; NaN when there are none. */
  max(now: number): number {
    this.#purge(now);
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.#start.length; i++)
      if ((this.#max[i] as number) > max) max = this.#max[i] as number;
    return max === Number.NEGATIVE_INFINITY ? Number.NaN : max;
  }
}

/** What a metric is: a value that goes up and down, or a cumulative total (for OpenTelemetry: gauge or counter). */
export type MetricKind = 'gauge' | 'counter';

/** A metric's name (Java's, in the `producer-metrics` group), kind, unit and meaning. */
export interface MetricDescriptor<N extends string = ProducerMetricName> {
  readonly name: N;
  readonly group: 'producer-metrics';
  readonly kind: MetricKind;
  /** UCUM-style unit, as OpenTelemetry expects: `1`, `By`, `ms`, `{record}/s`, ... */
  readonly unit: string;
  readonly description: string;
}

const d = <N extends string>(
  name: N,
  kind: MetricKind,
  unit: string,
  description: string,
): MetricDescriptor<N> => ({
  name,
  group: 'producer-metrics',
  kind,
  unit,
  description,
});

/**
 * Every metric `metrics()` reports, in the order it reports them. Names, and
 * meanings, follow the Java producer's `producer-metrics` group; the last four
 * are Tributary's own (idempotence state and queued batches).
 */
export const PRODUCER_METRICS = [
  d('record-send-rate', 'gauge', '{record}/s', 'Records acknowledged per second.'),
  d('record-send-total', 'counter', '{record}', 'Records acknowledged.'),
  d('record-error-rate', 'gauge', '{record}/s', 'Records that failed, per second.'),
  d('record-error-total', 'counter', '{record}', 'Records that failed (rejected through their promise).'),
  d('record-retry-rate', 'gauge', '{record}/s', 'Records in batches queued again for a retry, per second.'),
  d('record-retry-total', 'counter', '{record}', 'Records in batches queued again for a retry.'),
  d('record-size-avg', 'gauge', 'By', 'Average record size in a batch (uncompressed batch bytes / records).'),
  d(
    'record-queue-time-avg',
    'gauge',
    'ms',
    'Average time a batch waited in the accumulator before it was sent.',
  ),
  d(
    'record-queue-time-max',
    'gauge',
    'ms',
    'Longest time a batch waited in the accumulator before it was sent.',
  ),
  d('batch-size-avg', 'gauge', 'By', 'Average bytes per batch sent (after compression).'),
  d('batch-size-max', 'gauge', 'By', 'Largest batch sent, in bytes (after compression).'),
  d(
    'batch-split-rate',
    'gauge',
    '{batch}/s',
    'Batches split after the broker refused them as too large, per second.',
  ),
  d('batch-split-total', 'counter', '{batch}', 'Batches split after the broker refused them as too large.'),
  d('compression-rate-avg', 'gauge', '1', 'Average compressed / uncompressed size of the batches sent.'),
  d('records-per-request-avg', 'gauge', '{record}', 'Average records per Produce request.'),
  d('request-rate', 'gauge', '{request}/s', 'Produce requests sent per second.'),
  d('request-total', 'counter', '{request}', 'Produce requests sent.'),
  d('request-latency-avg', 'gauge', 'ms', 'Average time from a Produce request to its response.'),
  d('request-latency-max', 'gauge', 'ms', 'Longest time from a Produce request to its response.'),
  d('produce-throttle-time-avg', 'gauge', 'ms', 'Average throttle time the brokers reported.'),
  d('produce-throttle-time-max', 'gauge', 'ms', 'Largest throttle time a broker reported.'),
  d('requests-in-flight', 'gauge', '{batch}', 'Batches sent and waiting for their response.'),
  d('buffer-total-bytes', 'gauge', 'By', 'bufferMemory: the most memory batches may hold.'),
  d(
    'buffer-available-bytes',
    'gauge',
    'By',
    'Buffer memory not in use (never allocated plus the free list).',
  ),
  d('bufferpool-wait-ratio', 'gauge', '1', 'Fraction of time appends waited for buffer memory.'),
  d('bufferpool-wait-time-ns-total', 'counter', 'ns', 'Total time appends waited for buffer memory.'),
  d(
    'waiting-threads',
    'gauge',
    '{partition}',
    'Partitions whose records wait for buffer memory (Java: threads blocked).',
  ),
  d('metadata-age', 'gauge', 's', 'Seconds since the last successful metadata update.'),
  d(
    'batches-incomplete',
    'gauge',
    '{batch}',
    'Batches not yet acknowledged or failed (queued or in flight).',
  ),
  d('producer-id', 'gauge', '1', 'Idempotence: the producer id (-1 when off or not yet assigned).'),
  d('producer-epoch', 'gauge', '1', 'Idempotence: the producer epoch (-1 when off or not yet assigned).'),
  d('epoch-bump-total', 'counter', '{bump}', 'Idempotence: epoch bumps after unsure outcomes (KIP-360).'),
] as const satisfies readonly MetricDescriptor<string>[];

/** The name of every metric `metrics()` reports. */
export type ProducerMetricName = (typeof PRODUCER_METRICS)[number]['name'];

/** A snapshot of every producer metric by its Kafka name. Averages and maxima are NaN before anything was recorded. */
export type ProducerMetricValues = { readonly [N in ProducerMetricName]: number };

/** Gauges the sensors cannot know themselves; the producer supplies them when a snapshot is taken. */
export interface MetricGauges {
  inFlight: number;
  bufferTotal: number;
  bufferAvailable: number;
  poolWaiters: number;
  /** Milliseconds since the last metadata update; NaN before the first. */
  metadataAgeMs: number;
  incompleteBatches: number;
  producerId: number;
  producerEpoch: number;
  epochBumps: number;
}

/**
 * The producer's sensors. The sender and producer record into it; `snapshot`
 * turns it into values. `sent` and `failed` are the cumulative totals (of
 * the send and error stats) everything else is checked against.
 */
export class ProducerSensors {
  readonly #send: WindowedStat;
  readonly #error: WindowedStat;
  readonly #retry: WindowedStat;
  readonly #split: WindowedStat;
  readonly #batchBytes: WindowedStat;
  readonly #uncompressedBytes: WindowedStat;
  readonly #compression: WindowedStat;
  readonly #queueTime: WindowedStat;
  readonly #requestRecords: WindowedStat;
  readonly #latency: WindowedStat;
  readonly #throttle: WindowedStat;
  readonly #poolWait: WindowedStat;

  constructor(windowMs: number, samples: number, now: number) {
    const w = () => new WindowedStat(windowMs, samples, now);
    this.#send = w();
    this.#error = w();
    this.#retry = w();
    this.#split = w();
    this.#batchBytes = w();
    this.#uncompressedBytes = w();
    this.#compression = w();
    this.#queueTime = w();
    this.#requestRecords = w();
    this.#latency = w();
    this.#throttle = w();
    this.#poolWait = w();
  }

  /** Records acknowledged so far. */
  get sent(): number {
    return this.#send.totalSum;
  }

  /** Records failed so far. */
  get failed(): number {
    return this.#error.totalSum;
  }

  /** A batch was acknowledged. */
  recordSent(records: number, now: number): void {
    this.#send.record(records, now);
  }

  /** Records failed (in a batch, or before they reached one). */
  recordFailed(records: number, now: number): void {
    this.#error.record(records, now);
  }

  recordRetry(records: number, now: number): void {
    this.#retry.record(records, now);
  }

  recordSplit(now: number): void {
    this.#split.record(1, now);
  }

  /** A batch left for a broker: its sealed (compressed) size, its uncompressed size, its records and queue time. */
  recordBatchSent(
    sealedBytes: number,
    uncompressedBytes: number,
    records: number,
    queuedMs: number,
    now: number,
  ): void {
    this.#batchBytes.record(sealedBytes, now);
    this.#uncompressedBytes.record(uncompressedBytes / records, now);
    this.#compression.record(uncompressedBytes > 0 ? sealedBytes / uncompressedBytes : 1, now);
    this.#queueTime.record(queuedMs, now);
  }

  recordRequest(records: number, now: number): void {
    this.#requestRecords.record(records, now);
  }

  recordResponse(latencyMs: number, throttleMs: number, now: number): void {
    this.#latency.record(latencyMs, now);
    this.#throttle.record(throttleMs, now);
  }

  recordPoolWait(waitedMs: number, now: number): void {
    this.#poolWait.record(waitedMs, now);
  }

  snapshot(now: number, g: MetricGauges): ProducerMetricValues {
    return {
      'record-send-rate': this.#send.rate(now),
      'record-send-total': this.sent,
      'record-error-rate': this.#error.rate(now),
      'record-error-total': this.failed,
      'record-retry-rate': this.#retry.rate(now),
      'record-retry-total': this.#retry.totalSum,
      'record-size-avg': this.#uncompressedBytes.avg(now),
      'record-queue-time-avg': this.#queueTime.avg(now),
      'record-queue-time-max': this.#queueTime.max(now),
      'batch-size-avg': this.#batchBytes.avg(now),
      'batch-size-max': this.#batchBytes.max(now),
      'batch-split-rate': this.#split.countRate(now),
      'batch-split-total': this.#split.totalSum,
      'compression-rate-avg': this.#compression.avg(now),
      'records-per-request-avg': this.#requestRecords.avg(now),
      'request-rate': this.#requestRecords.countRate(now),
      'request-total': this.#requestRecords.totalCount,
      'request-latency-avg': this.#latency.avg(now),
      'request-latency-max': this.#latency.max(now),
      'produce-throttle-time-avg': this.#throttle.avg(now),
      'produce-throttle-time-max': this.#throttle.max(now),
      'requests-in-flight': g.inFlight,
      'buffer-total-bytes': g.bufferTotal,
      'buffer-available-bytes': g.bufferAvailable,
      // Milliseconds waited per second, as a fraction of that second.
      'bufferpool-wait-ratio': this.#poolWait.rate(now) / 1000,
      'bufferpool-wait-time-ns-total': Math.round(this.#poolWait.totalSum * 1e6),
      'waiting-threads': g.poolWaiters,
      'metadata-age': g.metadataAgeMs / 1000,
      'batches-incomplete': g.incompleteBatches,
      'producer-id': g.producerId,
      'producer-epoch': g.producerEpoch,
      'epoch-bump-total': g.epochBumps,
    };
  }
}
