import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { ConfigError } from '../../src/errors.js';
import {
  createProducer,
  type KafkaProducer,
  type ProducerConfigInput,
  resolveProducerConfig,
} from '../../src/index.js';

// The idempotent producer against librdkafka's mock brokers; kcat reads back
// what was stored.
//
// What this broker can and cannot show: librdkafka's mock validates producer
// ids, epochs and sequences only for transactional producers
// (rd_kafka_mock_validate_records returns early without a TransactionalId),
// so for a plain idempotent producer it neither refuses out-of-order
// sequences nor drops duplicates. Exactly-once under duplicated writes, and
// order with 5 requests in flight while earlier ones fail, therefore cannot
// be demonstrated here; these tests assert what the mock does observe: the
// producer id and epochs in use, recovery by epoch bump, no record lost, and
// order and uniqueness where no write is duplicated or overtaken. The same
// scenarios against a peer that does check sequences (the SequenceBroker
// proxy in front of the mock) are in idempotence-sequence.test.ts.

const leg = librdkafkaFromEnv();
const PRODUCE = 0;

describe(`idempotent producer (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  const open: KafkaProducer[] = [];
  let seq = 0;

  async function producer(overrides: Partial<ProducerConfigInput> = {}): Promise<KafkaProducer> {
    const p = await createProducer({ bootstrapServers: cluster.bootstrapServers, ...overrides });
    open.push(p);
    return p;
  }

  async function topic(partitions: number): Promise<string> {
    const name = `idem${++seq}`;
    await cluster.createTopic(name, partitions, 1);
    return name;
  }

  /** Every value once, in send order per key. */
  async function assertExactlyOnceInOrder(t: string, count: number, partition?: number): Promise<void> {
    const back = await readTopic(cluster.bootstrapServers, t, {
      headers: false,
      timeoutMs: 120_000,
      ...(partition === undefined ? {} : { partition }),
    });
    const seen = new Map<number, number>();
    const lastByPartition = new Map<number, number>();
    for (const r of back) {
      const n = Number(r.value!.toString());
      seen.set(n, (seen.get(n) ?? 0) + 1);
      assert.ok(
        (lastByPartition.get(r.partition) ?? -1) < n,
        `partition ${r.partition}: ${n} after ${lastByPartition.get(r.partition)}`,
      );
      lastByPartition.set(r.partition, n);
    }
    const duplicates = [...seen.entries()].filter(([, c]) => c > 1);
    assert.deepEqual(duplicates.slice(0, 5), [], `${duplicates.length} duplicated values`);
    assert.equal(seen.size, count, 'every record is in the topic');
    assert.equal(back.length, count);
  }

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });
  after(async () => {
    for (const p of open) await p.close({ timeoutMs: 0 });
    await cluster?.stop();
  });

  it('is on by default, with acks=all; a conflicting explicit setting is refused, a default one turns it off', () => {
    const base = { bootstrapServers: 'a:1' };
    assert.equal(resolveProducerConfig(base).enableIdempotence, true);
    assert.equal(resolveProducerConfig(base).acks, 'all');
    assert.equal(resolveProducerConfig({ ...base, acks: 1 }).enableIdempotence, false);
    assert.equal(
      resolveProducerConfig({ ...base, maxInFlightRequestsPerConnection: 6 }).enableIdempotence,
      false,
    );
    for (const conflict of [{ acks: 1 as const }, { retries: 0 }, { maxInFlightRequestsPerConnection: 6 }]) {
      assert.throws(
        () => resolveProducerConfig({ ...base, enableIdempotence: true, ...conflict }),
        (e: Error) => {
          assert.ok(e instanceof ConfigError);
          assert.equal(e.key, 'enableIdempotence');
          return true;
        },
      );
    }
  });

  it('writes 200,000 records over 6 partitions with 5 in flight through injected errors and a broker outage: none lost', async () => {
    const t = await topic(6);
    const p = await producer({
      maxInFlightRequestsPerConnection: 5,
      lingerMs: 5,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 200,
      reconnectBackoffMaxMs: 200,
    });
    const parts = await p.partitionsFor(t);
    const N = 200_000;
    const sends: Promise<unknown>[] = [];
    const victim = parts[2]!.leader;
    for (let i = 0; i < N; i++) {
      sends.push(p.send({ topic: t, key: `k${i % 60}`, value: String(i) }));
      if (i === 20_000) await cluster.pushRequestErrors(PRODUCE, [6, 7, 6, 7, 7, 6]); // NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT
      if (i === 120_000) {
        await cluster.setBrokerDown(victim);
        setTimeout(() => void cluster.setBrokerUp(victim), 2000);
      }
      if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.allSettled(sends);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.deepEqual(
      failed.slice(0, 3).map((f) => String(f.reason)),
      [],
      `${failed.length} sends failed`,
    );
    assert.ok(p.metrics().producerId >= 0);
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false, timeoutMs: 120_000 });
    const values = new Set(back.map((r) => Number(r.value!.toString())));
    assert.equal(values.size, N, 'every record is in the topic');
  });

  it('takes concurrent sends from many async tasks: each record once, distinct offsets', async () => {
    const t = await topic(3);
    const p = await producer({ lingerMs: 1 });
    const tasks = Array.from({ length: 50 }, async (_, task) => {
      const metas = [];
      for (let i = 0; i < 200; i++) {
        metas.push(await p.send({ topic: t, key: `task-${task}`, value: String(task * 1000 + i) }));
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, Math.random() * 3));
      }
      return metas;
    });
    const all = (await Promise.all(tasks)).flat();
    const offsets = new Set(all.map((m) => `${m.partition}:${m.offset}`));
    assert.equal(offsets.size, 10_000, 'distinct offsets');
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false });
    assert.equal(back.length, 10_000);
    assert.equal(new Set(back.map((r) => r.value!.toString())).size, 10_000);
  });

  for (const [name, code] of [
    ['UNKNOWN_PRODUCER_ID', 59],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
  ] as const) {
    it(`recovers from ${name} with an epoch bump and keeps producing, exactly once`, async () => {
      const t = await topic(2);
      // One request in flight: the refused batch is retried before later ones
      // go, so order and uniqueness hold even on a broker that checks nothing.
      const p = await producer({ lingerMs: 2, retryBackoffMs: 20, maxInFlightRequestsPerConnection: 1 });
      await p.send({ topic: t, partition: 0, value: '0' });
      const before = p.metrics();
      await cluster.pushRequestErrors(PRODUCE, [code]);
      const sends = Array.from({ length: 2000 }, (_, i) =>
        p.send({ topic: t, partition: 0, value: String(i + 1) }),
      );
      await Promise.all(sends);
      const after = p.metrics();
      assert.equal(after.producerId, before.producerId, 'same producer id');
      assert.ok(after.epochBumps >= 1, 'the epoch was bumped');
      assert.ok(
        after.producerEpoch > before.producerEpoch,
        `epoch ${before.producerEpoch} -> ${after.producerEpoch}`,
      );
      await assertExactlyOnceInOrder(t, 2001, 0);
    });
  }
});
