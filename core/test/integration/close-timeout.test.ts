import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { isKafkaClientError } from '../../src/errors.js';
import { createProducer, type KafkaProducer } from '../../src/index.js';

// close({ timeoutMs }) against a slow broker (every response delayed by an
// RTT fault): it returns within the bound, what was acknowledged in time is
// in the topic exactly once, and every other record is rejected with a clear
// error; no promise is left unsettled.
//
// A batch in flight when the time is up may already be in the log (the mock,
// like a real broker, appends before it answers, and the RTT delays only the
// answer), so such records are rejected and yet present: at most one
// request's worth here (one partition, one request in flight).

const leg = librdkafkaFromEnv();
const RTT_MS = 300;
const CLOSE_TIMEOUT_MS = 1000;
const RECORDS = 400;

describe(`close({ timeoutMs }) with a slow broker (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  let producer: KafkaProducer<string, string> | undefined;

  before(async () => {
    cluster = await startCluster({ brokers: 3, topics: [{ name: 'closing', partitions: 1 }] });
  });
  after(async () => {
    await producer?.close({ timeoutMs: 0 });
    await cluster?.stop();
  });

  it('delivers what it can within the timeout, rejects the rest, settles every promise', async (t) => {
    producer = await createProducer<string, string>({
      bootstrapServers: cluster.bootstrapServers,
      lingerMs: 0,
      batchSize: 1024,
      maxInFlightRequestsPerConnection: 1,
      requestTimeoutMs: 10_000,
    });
    const [part] = await producer.partitionsFor('closing');
    assert.ok(part);
    // Warm up the connection, then slow the leader down.
    await producer.send({ topic: 'closing', value: 'warm-up' });
    await cluster.setBrokerRtt(part.leader, RTT_MS);

    const outcomes: Array<{ ok: boolean; err?: unknown; value: string }> = [];
    const settled: Promise<void>[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const value = `r${i}-${'x'.repeat(90)}`;
      settled.push(
        producer.send({ topic: 'closing', value }).then(
          () => void outcomes.push({ ok: true, value }),
          (err: unknown) => void outcomes.push({ ok: false, err, value }),
        ),
      );
    }
    // Let a few round trips complete before closing.
    await new Promise((r) => setTimeout(r, RTT_MS * 3));

    const started = performance.now();
    await producer.close({ timeoutMs: CLOSE_TIMEOUT_MS });
    const took = performance.now() - started;
    assert.ok(
      took < CLOSE_TIMEOUT_MS + 1000,
      `close took ${Math.round(took)} ms, bound ${CLOSE_TIMEOUT_MS} ms`,
    );

    // Every promise settled by the time close() resolved (one turn for the reactions).
    await new Promise((r) => setImmediate(r));
    assert.equal(outcomes.length, RECORDS, 'every promise settled when close() resolved');
    await Promise.all(settled);

    const delivered = outcomes.filter((o) => o.ok);
    const rejected = outcomes.filter((o) => !o.ok);
    assert.ok(delivered.length > 0, 'some records were delivered before the timeout');
    assert.ok(rejected.length > 0, 'the slow broker left records to reject');
    for (const o of rejected) {
      assert.ok(isKafkaClientError(o.err), `typed error, got ${(o.err as Error)?.message}`);
      assert.equal(o.err.code, 'ILLEGAL_STATE');
      assert.match(o.err.message, new RegExp(`closed .*close timeout ${CLOSE_TIMEOUT_MS} ms`));
    }

    await cluster.setBrokerRtt(part.leader, 0);
    const back = await readTopic(cluster.bootstrapServers, 'closing', { headers: false });
    const counts = new Map<string, number>();
    for (const r of back) {
      const v = r.value?.toString() ?? '';
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const o of delivered)
      assert.equal(counts.get(o.value), 1, `${o.value.slice(0, 6)} delivered exactly once`);
    const rejectedButWritten = rejected.filter((o) => counts.has(o.value));
    t.diagnostic(
      `close took ${Math.round(took)} ms: ${delivered.length} delivered, ${rejected.length} rejected (${rejectedButWritten.length} of them written)`,
    );
    // Only the request in flight at the deadline can have been written: one batch of <= 1024 bytes.
    assert.ok(
      rejectedButWritten.length <= 10,
      `${rejectedButWritten.length} rejected records are in the topic; at most one in-flight batch may be`,
    );
    assert.equal(
      back.length,
      1 + delivered.length + rejectedButWritten.length,
      'kcat finds the warm-up, the delivered records and at most the in-flight batch',
    );
  });
});
