import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { endOffsets, librdkafkaFromEnv } from '@tributary/testkit';
import { lastValueFrom, take, toArray } from 'rxjs';
import { container } from 'tsyringe';
import {
  createProducer,
  ErrorCode,
  METRICS_REPORTER,
  OpenTelemetryMetricsReporter,
  PRODUCER_METRICS,
} from '../../src/index.js';
import { useCluster } from './cluster-fixture.js';

// Producer metrics under Kafka's names, end to end against librdkafka's mock
// cluster: each figure is checked against something independent of the
// metrics code (kcat's end offsets, an injected broker RTT, injected errors,
// the records the test itself failed), and the OpenTelemetry bridge is read
// through the real @opentelemetry/sdk-metrics SDK.

const leg = librdkafkaFromEnv();
const PRODUCE = 0;

/** A pull reader: `collect()` on demand, as an exporter would on its schedule. */
class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe(`producer metrics (librdkafka ${leg})`, () => {
  const fx = useCluster('metrics');
  const producer = fx.producer.bind(fx);
  const topic = fx.topic.bind(fx);

  it('counts what kcat finds, per record, per batch and per request', async () => {
    const t = await topic(4);
    const p = await producer({ lingerMs: 10, compressionType: 'gzip' });
    const n = 5_000;
    const sends = [];
    for (let i = 0; i < n; i++)
      sends.push(
        p.send({ topic: t, key: `k${i % 97}`, value: `{"id":${i},"payload":"${'abc'.repeat(20)}"}` }),
      );
    await Promise.all(sends);
    const m = p.metrics();
    const stored = (await endOffsets(fx.cluster.bootstrapServers, t, 4)).reduce((a, b) => a + b, 0);
    assert.equal(stored, n);
    assert.equal(m['record-send-total'], stored);
    assert.equal(m['record-error-total'], 0);
    assert.equal(m['record-retry-total'], 0);
    // Every record went out in exactly one request: avg x count is the total.
    assert.ok(m['request-total'] >= 1);
    assert.ok(Math.abs(m['records-per-request-avg'] * m['request-total'] - n) < 1e-6);
    assert.ok(m['request-rate'] > 0);
    assert.ok(m['record-send-rate'] > 0);
    // Repetitive JSON compresses well under gzip; batches are smaller than their records.
    assert.ok(
      m['compression-rate-avg'] > 0 && m['compression-rate-avg'] < 0.5,
      `${m['compression-rate-avg']}`,
    );
    assert.ok(m['batch-size-avg'] > 0 && m['batch-size-max'] >= m['batch-size-avg']);
    assert.ok(m['record-size-avg'] > 60, `${m['record-size-avg']}`);
    assert.ok(m['record-queue-time-max'] >= m['record-queue-time-avg']);
    assert.equal(m['requests-in-flight'], 0);
    assert.equal(m['batches-incomplete'], 0);
    assert.equal(m['buffer-total-bytes'], p.config.bufferMemory);
    assert.equal(m['buffer-available-bytes'], p.config.bufferMemory);
    assert.ok(m['metadata-age'] >= 0 && m['metadata-age'] < 60);
    assert.ok(m['producer-id'] >= 0, 'idempotence is on by default: a producer id was assigned');
    // Every descriptor has a value (numbers; NaN only for windows with nothing recorded).
    for (const d of PRODUCER_METRICS) assert.equal(typeof m[d.name], 'number', d.name);
  });

  it('request latency follows an injected broker round-trip time', async () => {
    const t = await topic(1);
    const p = await producer({ lingerMs: 0 });
    await p.send({ topic: t, value: 'warm-up' });
    const leader = (await p.partitionsFor(t))[0]?.leader ?? 1;
    await fx.cluster.setBrokerRtt(leader, 150);
    try {
      for (let i = 0; i < 3; i++) await p.send({ topic: t, value: `slow${i}` });
    } finally {
      await fx.cluster.setBrokerRtt(leader, 0);
    }
    const m = p.metrics();
    assert.ok(m['request-latency-max'] >= 150, `max ${m['request-latency-max']}`);
    // Four requests, three of them slowed: the mean is above 3/4 of the RTT.
    assert.ok(m['request-latency-avg'] >= 110, `avg ${m['request-latency-avg']}`);
  });

  it('counts retries and errors as the broker caused them', async () => {
    const t = await topic(1);
    const p = await producer({ lingerMs: 0, enableIdempotence: false, acks: 1, retryBackoffMs: 10 });
    await p.send({ topic: t, value: 'warm-up' });
    // Two retriable errors, then success: the record is retried twice and delivered once.
    await fx.cluster.pushRequestErrors(PRODUCE, [
      ErrorCode.NOT_ENOUGH_REPLICAS,
      ErrorCode.NOT_ENOUGH_REPLICAS,
    ]);
    await p.send({ topic: t, value: 'retried' });
    let m = p.metrics();
    assert.equal(m['record-retry-total'], 2);
    assert.equal(m['record-send-total'], 2);
    // A non-retriable error fails the record: counted once as an error.
    await fx.cluster.pushRequestErrors(PRODUCE, [ErrorCode.INVALID_RECORD]);
    await assert.rejects(p.send({ topic: t, value: 'refused' }));
    // And records refused before reaching a batch (an invalid timestamp) count too.
    await assert.rejects(p.send({ topic: t, value: 'bad', timestamp: -5 }));
    m = p.metrics();
    assert.equal(m['record-error-total'], 2);
    assert.ok(m['record-error-rate'] > 0);
    const stored = (await endOffsets(fx.cluster.bootstrapServers, t, 1)).reduce((a, b) => a + b, 0);
    assert.equal(stored, m['record-send-total']);
  });

  it('metrics$ emits snapshots and completes when the producer closes', async () => {
    const t = await topic(1);
    const p = await createProducer({ bootstrapServers: fx.cluster.bootstrapServers, lingerMs: 0 });
    const seen = lastValueFrom(p.metrics$(50).pipe(toArray()));
    await p.send({ topic: t, value: 'one' });
    await new Promise((r) => setTimeout(r, 120));
    await p.close();
    const snapshots = await seen;
    assert.ok(snapshots.length >= 3, `${snapshots.length} snapshots`);
    assert.equal(snapshots[0]?.['record-send-total'], 0);
    assert.equal(snapshots.at(-1)?.['record-send-total'], 1);
    // After close, a new subscription completes at once.
    assert.deepEqual(await lastValueFrom(p.metrics$(10).pipe(take(5), toArray())), []);
  });

  it('exports through OpenTelemetry (the real SDK) as counters and gauges with client.id', async () => {
    const t = await topic(2);
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const c = container.createChildContainer();
    c.registerInstance(
      METRICS_REPORTER,
      new OpenTelemetryMetricsReporter(provider.getMeter('tributary-test')),
    );
    const p = await producer({ clientId: 'otel-test', lingerMs: 0 }, { container: c });
    await Promise.all(Array.from({ length: 250 }, (_, i) => p.send({ topic: t, value: `v${i}` })));
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const byName = new Map(metrics.map((m) => [m.descriptor.name, m]));
    const sent = byName.get('kafka.producer.record.send.total');
    assert.ok(sent, `instruments: ${[...byName.keys()].join(', ')}`);
    assert.equal(sent.dataPoints[0]?.value, 250);
    assert.equal(sent.dataPoints[0]?.attributes['client.id'], 'otel-test');
    assert.equal(
      byName.get('kafka.producer.buffer.total.bytes')?.dataPoints[0]?.value,
      p.config.bufferMemory,
    );
    assert.equal(byName.get('kafka.producer.request.latency.avg')?.descriptor.unit, 'ms');
    // metadata-age moves with the clock: while observed, two collections differ.
    const age = async () =>
      (await reader.collect()).resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'kafka.producer.metadata.age')?.dataPoints[0]?.value;
    const before = await age();
    await new Promise((r) => setTimeout(r, 30));
    assert.notEqual(await age(), before);
    // Closed: the reporter stops observing; the SDK keeps the last value, which no longer moves.
    await p.close();
    const last = await age();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(await age(), last);
    await provider.shutdown();
  });
});
