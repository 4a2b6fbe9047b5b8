import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { container } from 'tsyringe';
import { isKafkaClientError } from '../../src/errors.js';
import { createProducer, type KafkaProducer, type ProducerConfigInput } from '../../src/index.js';
import { TRANSPORT_FACTORY } from '../../src/tokens.js';
import { SequenceBroker, type SequenceBrokerOptions } from './sequence-broker.js';

// The idempotent producer against a peer that checks sequences the way a
// Kafka broker does: librdkafka's mock brokers, each behind the test's
// SequenceBroker proxy (which deduplicates, refuses gaps, old epochs and
// unknown producers, and loses responses after appending). The producer
// reaches the proxy through the TRANSPORT_FACTORY seam; kcat reads what the
// mock stored directly from the mock, not through the proxy.

const leg = librdkafkaFromEnv();
const PRODUCE = 0;
const NOT_LEADER_OR_FOLLOWER = 6;
const REQUEST_TIMED_OUT = 7;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;

describe(`idempotent producer against a sequence-checking broker (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  const proxies: SequenceBroker[] = [];
  const open: KafkaProducer[] = [];
  let seq = 0;

  async function proxy(options: SequenceBrokerOptions = {}): Promise<SequenceBroker> {
    const p = await SequenceBroker.start(cluster, options);
    proxies.push(p);
    return p;
  }

  async function producer(
    through: SequenceBroker,
    overrides: Partial<ProducerConfigInput> = {},
  ): Promise<KafkaProducer> {
    const c = container.createChildContainer();
    c.register(TRANSPORT_FACTORY, { useValue: through.transport });
    const p = await createProducer(
      {
        bootstrapServers: cluster.bootstrapServers,
        maxInFlightRequestsPerConnection: 5,
        lingerMs: 5,
        retryBackoffMs: 20,
        retryBackoffMaxMs: 200,
        reconnectBackoffMaxMs: 200,
        ...overrides,
      },
      { container: c },
    );
    open.push(p);
    return p;
  }

  async function topic(partitions: number): Promise<string> {
    const name = `seqb${++seq}`;
    await cluster.createTopic(name, partitions, 1);
    return name;
  }

  /**
   * kcat's read-back: each expected value exactly once, values rising within
   * each partition (send order per partition), nothing else.
   */
  async function assertExactlyOnceInOrder(t: string, expected: ReadonlySet<number>): Promise<void> {
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false, timeoutMs: 120_000 });
    const seen = new Map<number, number>();
    const last = new Map<number, number>();
    const disorder: string[] = [];
    for (const r of back) {
      const n = Number(r.value!.toString());
      seen.set(n, (seen.get(n) ?? 0) + 1);
      if ((last.get(r.partition) ?? -1) >= n)
        disorder.push(`p${r.partition}: ${n} after ${last.get(r.partition)}`);
      last.set(r.partition, n);
    }
    const duplicated = [...seen].filter(([, c]) => c > 1).map(([v, c]) => `${v} x${c}`);
    assert.deepEqual(duplicated.slice(0, 5), [], `${duplicated.length} value(s) stored more than once`);
    assert.deepEqual(disorder.slice(0, 5), [], `${disorder.length} value(s) out of order`);
    const missing = [...expected].filter((v) => !seen.has(v));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} value(s) missing`);
    const extra = [...seen.keys()].filter((v) => !expected.has(v));
    assert.deepEqual(extra.slice(0, 5), [], `${extra.length} unexpected value(s)`);
  }

  const range = (from: number, to: number) => new Set(Array.from({ length: to - from }, (_, i) => from + i));

  async function settleAll(sends: Promise<unknown>[]): Promise<PromiseRejectedResult[]> {
    const results = await Promise.allSettled(sends);
    return results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  }

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });
  after(async () => {
    for (const p of open) await p.close({ timeoutMs: 0 });
    for (const p of proxies) await p.close();
    await cluster?.stop();
  });

  it('writes 200,000 records over 6 partitions with 5 in flight exactly once and in order, through injected errors, lost responses and a broker outage', async (tc) => {
    const broker = await proxy();
    const t = await topic(6);
    const p = await producer(broker, { requestTimeoutMs: 3000 });
    const parts = await p.partitionsFor(t);
    const victim = parts[2]!.leader;
    const N = 200_000;
    const sends: Promise<unknown>[] = [];
    let outage: Promise<void> | undefined;
    for (let i = 0; i < N; i++) {
      sends.push(p.send({ topic: t, key: `k${i % 60}`, value: String(i) }));
      // Each fault once the producer is busy with earlier records, so they spread over the run.
      if (i % 10_000 === 0 && i >= 20_000) await sends[i - 15_000];
      if (i === 20_000)
        await cluster.pushRequestErrors(PRODUCE, [
          NOT_LEADER_OR_FOLLOWER,
          REQUEST_TIMED_OUT,
          NOT_LEADER_OR_FOLLOWER,
          REQUEST_TIMED_OUT,
          REQUEST_TIMED_OUT,
          NOT_LEADER_OR_FOLLOWER,
        ]);
      if (i === 50_000) broker.loseResponses(3, 'close');
      if (i === 80_000) broker.loseResponses(1, 'stall');
      if (i === 120_000) {
        await cluster.setBrokerDown(victim);
        outage = new Promise((resolve) => setTimeout(resolve, 2000)).then(() => cluster.setBrokerUp(victim));
      }
      if (i === 160_000) broker.loseResponses(4, 'close');
      if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
    }
    const failed = await settleAll(sends);
    tc.diagnostic(`proxy: ${JSON.stringify(broker.stats)}; producer: epoch bumps ${p.metrics().epochBumps}`);
    await outage;
    assert.deepEqual(
      failed.slice(0, 3).map((f) => String(f.reason)),
      [],
      `${failed.length} sends failed`,
    );
    assert.deepEqual(broker.stats.anomalies, []);
    assert.ok(broker.stats.lost >= 8, `responses lost after append: ${broker.stats.lost}`);
    // The retries of what was appended but unanswered came back and were recognised.
    assert.ok(broker.stats.duplicates >= 1, `duplicates answered by the proxy: ${broker.stats.duplicates}`);
    await assertExactlyOnceInOrder(t, range(0, N));
  });

  it('recovers when the broker forgets the producer (UNKNOWN_PRODUCER_ID) and when it answers OUT_OF_ORDER_SEQUENCE_NUMBER mid-stream', async (tc) => {
    const broker = await proxy();
    const t = await topic(2);
    const p = await producer(broker);
    const N = 20_000;
    const sends: Promise<unknown>[] = [];
    let epochBefore = -1;
    for (let i = 0; i < N; i++) {
      sends.push(p.send({ topic: t, key: `k${i % 10}`, value: String(i) }));
      if (i === 6000) {
        await Promise.all(sends.slice(0, 2000));
        epochBefore = p.metrics().producerEpoch;
        broker.forgetProducers();
      }
      if (i === 14_000) {
        // Only once the batches after the forgetting were judged, so each fault is seen on its own.
        await Promise.all(sends.slice(6000, 10_000));
        assert.ok(broker.stats.unknownProducer >= 1, 'the proxy refused the forgotten producer');
      }
      if (i === 14_000) broker.answerNext([OUT_OF_ORDER_SEQUENCE_NUMBER, OUT_OF_ORDER_SEQUENCE_NUMBER]);
      if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    const failed = await settleAll(sends);
    tc.diagnostic(`proxy: ${JSON.stringify(broker.stats)}; producer: epoch bumps ${p.metrics().epochBumps}`);
    assert.deepEqual(
      failed.slice(0, 3).map((f) => String(f.reason)),
      [],
      `${failed.length} sends failed`,
    );
    assert.ok(broker.stats.unknownProducer >= 1, 'the proxy refused the forgotten producer');
    assert.equal(broker.stats.injected, 2);
    const m = p.metrics();
    assert.ok(m.epochBumps >= 1, 'the epoch was bumped');
    assert.ok(m.producerEpoch > epochBefore, `epoch ${epochBefore} -> ${m.producerEpoch}`);
    assert.equal(broker.epochOf(m.producerId, t, 0), m.producerEpoch, 'the broker holds the new epoch');
    assert.deepEqual(broker.stats.anomalies, []);
    await assertExactlyOnceInOrder(t, range(0, N));
  });

  it('reports a batch that expired after it was sent as unsure, bumps the epoch and goes on', async () => {
    const broker = await proxy();
    const t = await topic(1);
    const p = await producer(broker, { requestTimeoutMs: 1000, deliveryTimeoutMs: 2500, lingerMs: 0 });
    await p.send({ topic: t, partition: 0, value: '0' });
    const { producerEpoch: epochBefore } = p.metrics();
    const [leader] = (await p.partitionsFor(t)).map((x) => x.leader);
    // Appended, then the network between the producer and the broker fails for longer than the delivery timeout.
    broker.isolateAfterNextAppend(leader!, 4000);
    const unsure = p.send({ topic: t, partition: 0, value: '1' }).then(
      () => assert.fail('the unsure record must not be reported as delivered'),
      (e: unknown) => e,
    );
    const err = await unsure;
    assert.ok(isKafkaClientError(err), String(err));
    assert.equal(err.code, 'DELIVERY_TIMEOUT');
    assert.match(err.message, /may have been written/);
    await new Promise((r) => setTimeout(r, 1600)); // the partition heals
    const later = Array.from({ length: 1000 }, (_, i) =>
      p.send({ topic: t, partition: 0, value: String(i + 2) }),
    );
    const failed = await settleAll(later);
    assert.deepEqual(
      failed.slice(0, 3).map((f) => String(f.reason)),
      [],
      `${failed.length} sends failed`,
    );
    assert.ok(p.metrics().producerEpoch > epochBefore, 'a new epoch for what follows the unsure batch');
    assert.deepEqual(broker.stats.anomalies, []);
    // The unsure record was in fact written (the proxy saw the append): stored once, not dropped, not repeated.
    await assertExactlyOnceInOrder(t, range(0, 1002));
  });

  it('on an older broker: DUPLICATE_SEQUENCE_NUMBER is success, and OUT_OF_ORDER for a forgotten producer recovers', async (tc) => {
    const broker = await proxy({ duplicates: 'error', unknownProducer: 'out-of-order' });
    const t = await topic(3);
    const p = await producer(broker);
    const N = 30_000;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      sends.push(p.send({ topic: t, key: `k${i % 30}`, value: String(i) }));
      if (i === 5000) broker.loseResponses(3, 'close');
      if (i === 15_000) {
        await Promise.all(sends.slice(0, 10_000));
        broker.forgetProducers();
      }
      if (i === 22_000) broker.loseResponses(2, 'close');
      if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    const failed = await settleAll(sends);
    tc.diagnostic(`proxy: ${JSON.stringify(broker.stats)}; producer: epoch bumps ${p.metrics().epochBumps}`);
    assert.deepEqual(
      failed.slice(0, 3).map((f) => String(f.reason)),
      [],
      `${failed.length} sends failed`,
    );
    assert.ok(broker.stats.duplicates >= 1, `duplicates: ${broker.stats.duplicates}`);
    assert.ok(broker.stats.unknownProducer >= 1, 'the forgotten producer was refused');
    assert.ok(p.metrics().epochBumps >= 1);
    assert.deepEqual(broker.stats.anomalies, []);
    await assertExactlyOnceInOrder(t, range(0, N));
  });
});
