import type { MetricDescriptor, ProducerMetricValues } from './metrics.js';

/** What a reporter gets from the producer: the metrics' descriptions and a way to read them. */
export interface MetricsSource {
  /** `clientId` of the producer: the attribute to tell producers apart. */
  readonly clientId: string;
  readonly descriptors: readonly MetricDescriptor[];
  /** A fresh snapshot (cheap: a few dozen numbers). */
  read(): ProducerMetricValues;
}

/**
 * Java's `metric.reporters`: register implementations under the
 * `METRICS_REPORTER` token (several may be registered). `init` is called once
 * the producer is built; `close` when it closes. A reporter pulls values with
 * `source.read()` whenever it wants (on its own schedule, or when its
 * backend collects).
 */
export interface MetricsReporter {
  init(source: MetricsSource): void;
  close?(): void;
}

// OpenTelemetry's metrics API, structurally: only what the bridge uses, so
// core has no dependency on @opentelemetry/api. A real `Meter` fits.
/** An instrument created by `OTelMeterLike`. */
export type OTelObservable = object;
/** The result a batch callback observes into. */
export interface OTelBatchObservableResult {
  observe(observable: OTelObservable, value: number, attributes?: Record<string, string>): void;
}
/** The part of OpenTelemetry's `Meter` the bridge needs. */
export interface OTelMeterLike {
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): OTelObservable;
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): OTelObservable;
  addBatchObservableCallback(
    callback: (result: OTelBatchObservableResult) => void,
    observables: OTelObservable[],
  ): void;
  removeBatchObservableCallback(
    callback: (result: OTelBatchObservableResult) => void,
    observables: OTelObservable[],
  ): void;
}

/** The instrument name for a metric: `<prefix>` + the Kafka name with dashes as dots (KIP-714's style). */
export function openTelemetryName(metric: string, prefix = 'kafka.producer.'): string {
  return prefix + metric.replaceAll('-', '.');
}

/**
 * Publishes the producer's metrics as OpenTelemetry observable instruments:
 * totals as counters, everything else as gauges, each observed with the
 * attribute `client.id`. One snapshot is read per collection. Metrics that
 * have no value yet (an average before anything was recorded is NaN) are
 * not observed.
 *
 * ```ts
 * const reporter = new OpenTelemetryMetricsReporter(metrics.getMeter('tributary'));
 * container.registerInstance(METRICS_REPORTER, reporter);
 * ```
 */
export class OpenTelemetryMetricsReporter implements MetricsReporter {
  readonly #meter: OTelMeterLike;
  readonly #prefix: string;
  #instruments: { name: keyof ProducerMetricValues; instrument: OTelObservable }[] = [];
  #callback: ((result: OTelBatchObservableResult) => void) | undefined;

  constructor(meter: OTelMeterLike, options: { prefix?: string } = {}) {
    this.#meter = meter;
    this.#prefix = options.prefix ?? 'kafka.producer.';
  }

  init(source: MetricsSource): void {
    this.#instruments = source.descriptors.map((m) => {
      const options = { description: m.description, unit: m.unit };
      const name = openTelemetryName(m.name, this.#prefix);
      const instrument =
        m.kind === 'counter'
          ? this.#meter.createObservableCounter(name, options)
          : this.#meter.createObservableGauge(name, options);
      return { name: m.name, instrument };
    });
    const attributes = { 'client.id': source.clientId };
    this.#callback = (result) => {
      const values = source.read();
      for (const { name, instrument } of this.#instruments) {
        const value = values[name];
        if (!Number.isNaN(value)) result.observe(instrument, value, attributes);
      }
    };
    this.#meter.addBatchObservableCallback(
      this.#callback,
      this.#instruments.map((i) => i.instrument),
    );
  }

  /** Stops observing: the producer's instruments report nothing after it closed. */
  close(): void {
    if (this.#callback === undefined) return;
    this.#meter.removeBatchObservableCallback(
      this.#callback,
      this.#instruments.map((i) => i.instrument),
    );
    this.#callback = undefined;
  }
}
