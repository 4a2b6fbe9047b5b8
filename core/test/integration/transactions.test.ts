import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { IllegalStateError, isKafkaClientError, ProducerFencedError } from '../../src/errors.js';
import {
  createProducer,
  type KafkaProducer,
  type Logger,
  type ProducerConfigInput,
} from '../../src/index.js';
import { produceTap, stampsByValue } from './produce-tap.js';

// The transactional producer against librdkafka's mock cluster, which runs a
// transaction coordinator and checks producer ids, epochs and sequences for
// transactional producers; kcat reads the records back.
//
// What this mock cannot show (read in rdkafka_mock_handlers.c): its Fetch
// always reports no aborted transactions and a last stable offset at the log
// end, so a read_committed consumer sees aborted records too; and a second
// InitProducerId for the same transactional id creates a new producer id
// instead of bumping the epoch, so a second instance does not fence the first.
// Fencing is therefore exercised by injecting the answer a broker gives a
// fenced producer (PRODUCER_FENCED), and aborts by the coordinator accepting
// EndTxn(abort).

const leg = librdkafkaFromEnv();
const PRODUCE = 0;
const ADD_PARTITIONS_TO_TXN = 24;
const CONCURRENT_TRANSACTIONS = 51;
const TOPIC_AUTHORIZATION_FAILED = 29;
const INVALID_TXN_STATE = 48;
const NOT_COORDINATOR = 16;
const COORDINATOR_LOAD_IN_PROGRESS = 14;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

describe(`transactional producer (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  const open: KafkaProducer[] = [];
  let seq = 0;

  async function producer(
    transactionalId: string,
    overrides: Partial<ProducerConfigInput> = {},
    options: Parameters<typeof createProducer>[1] = {},
  ): Promise<KafkaProducer> {
    const p = await createProducer(
      {
        bootstrapServers: cluster.bootstrapServers,
        transactionalId,
        lingerMs: 5,
        ...overrides,
      },
      options,
    );
    open.push(p);
    return p;
  }

  async function topic(partitions: number): Promise<string> {
    const name = `txn${++seq}`;
    await cluster.createTopic(name, partitions, 1);
    return name;
  }

  const values = async (
    t: string,
    isolationLevel: 'read_committed' | 'read_uncommitted' = 'read_committed',
  ) =>
    (await readTopic(cluster.bootstrapServers, t, { headers: false, isolationLevel })).map((r) =>
      r.value!.toString(),
    );

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });
  after(async () => {
    for (const p of open) await p.close({ timeoutMs: 0 });
    await cluster?.stop();
  });

  it('commits, aborts, and runs two transactions in a row through the coordinator', async () => {
    const t = await topic(2);
    const p = await producer(`tx-${t}`);
    await p.initTransactions();

    p.beginTransaction();
    await Promise.all(['c1', 'c2', 'c3'].map((v, i) => p.send({ topic: t, partition: i % 2, value: v })));
    await p.commitTransaction();

    p.beginTransaction();
    await Promise.all(['a1', 'a2'].map((v, i) => p.send({ topic: t, partition: i % 2, value: v })));
    await p.abortTransaction();

    p.beginTransaction();
    await p.send({ topic: t, partition: 0, value: 'c4' });
    await p.commitTransaction();

    // All six were written (the mock cannot hide the aborted two from readers, see above).
    assert.deepEqual((await values(t, 'read_uncommitted')).sort(), ['a1', 'a2', 'c1', 'c2', 'c3', 'c4']);
    assert.equal(p.metrics().recordsFailed, 0);
  });

  it('refuses misuse with IllegalStateError saying what to call first, for the method called', async () => {
    const t = await topic(1);
    const p = await producer(`tx-${t}`);
    const offsets = [{ topic: t, partition: 0, offset: 1 }];
    const group = { groupId: `g-${t}` };
    /** The call fails with an IllegalStateError whose message is exactly `message`. */
    const refused = async (call: () => unknown, message: string) => {
      let thrown: unknown;
      try {
        await call();
      } catch (err) {
        thrown = err;
      }
      assert.ok(thrown instanceof IllegalStateError, `expected an IllegalStateError, got ${String(thrown)}`);
      assert.equal(thrown.message, message);
    };

    // Before initTransactions().
    await refused(() => p.beginTransaction(), 'call initTransactions() before beginTransaction()');
    await refused(
      () => p.send({ topic: t, value: 'x' }),
      'call initTransactions() and beginTransaction() before send()',
    );
    await refused(
      () => p.sendOffsetsToTransaction(offsets, group),
      'call initTransactions() and beginTransaction() before sendOffsetsToTransaction()',
    );
    await refused(
      () => p.commitTransaction(),
      'call initTransactions() and beginTransaction() before commitTransaction()',
    );
    await refused(
      () => p.abortTransaction(),
      'call initTransactions() and beginTransaction() before abortTransaction()',
    );

    // Initialized, no transaction open.
    await p.initTransactions();
    await refused(
      () => p.initTransactions(),
      'initTransactions() was already called (the transaction state is ready): call it once, before anything else',
    );
    await refused(
      () => p.send({ topic: t, value: 'x' }),
      'no transaction is open: call beginTransaction() before send()',
    );
    await refused(
      () => p.sendOffsetsToTransaction(offsets, group),
      'no transaction is open: call beginTransaction() before sendOffsetsToTransaction()',
    );
    await refused(
      () => p.commitTransaction(),
      'no transaction is open: call beginTransaction() before commitTransaction()',
    );
    await refused(
      () => p.abortTransaction(),
      'no transaction is open: call beginTransaction() before abortTransaction()',
    );

    // A transaction open.
    p.beginTransaction();
    await refused(
      () => p.beginTransaction(),
      'a transaction is already open: call commitTransaction() or abortTransaction() before beginTransaction()',
    );
    await p.send({ topic: t, value: 'kept' });
    await p.commitTransaction();
    assert.deepEqual(await values(t), ['kept'], 'the misuse did not disturb the transaction');

    const plain = await createProducer({ bootstrapServers: cluster.bootstrapServers });
    open.push(plain);
    await assert.rejects(plain.initTransactions(), /no transactionalId/);
  });

  /** A logger that counts the AddPartitionsToTxn requests the producer sends. */
  function addPartitionsCounter(): { logger: Logger; count: () => number } {
    let n = 0;
    const logger: Logger = {
      debugEnabled: true,
      infoEnabled: false,
      debug: (message, fields) => {
        if (message === 'request sent' && fields?.['api'] === 'AddPartitionsToTxn') n++;
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    return { logger, count: () => n };
  }

  it('a non-retriable AddPartitionsToTxn error (TOPIC_AUTHORIZATION_FAILED) fails the transaction at once, without a loop', async () => {
    const t = await topic(2);
    const { logger, count } = addPartitionsCounter();
    const p = await createProducer(
      {
        bootstrapServers: cluster.bootstrapServers,
        transactionalId: `tx-${t}`,
        lingerMs: 5,
        retryBackoffMs: 20,
        deliveryTimeoutMs: 60_000,
      },
      { logger },
    );
    open.push(p);
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic: t, partition: 0, value: 'in-p0' }); // partition 0 joins the transaction
    const addsBefore = count();
    // Every AddPartitionsToTxn from now on is refused, as a broker refuses a topic the producer may not write.
    await cluster.pushRequestErrors(ADD_PARTITIONS_TO_TXN, Array(200).fill(TOPIC_AUTHORIZATION_FAILED));
    const t0 = Date.now();
    const refused = Array.from({ length: 5 }, (_, i) => p.send({ topic: t, partition: 1, value: `p1-${i}` }));
    const outcome = await Promise.allSettled(refused);
    const failedIn = Date.now() - t0;
    for (const r of outcome) {
      assert.equal(r.status, 'rejected', 'a record of a partition that was never added must not resolve');
      const e = (r as PromiseRejectedResult).reason as Error;
      assert.ok(isKafkaClientError(e) && e.code === 'TOPIC_AUTHORIZATION_FAILED', String(e));
    }
    assert.ok(failedIn < 5000, `the records failed after ${failedIn} ms (deliveryTimeoutMs is 60 s)`);
    await assert.rejects(
      p.send({ topic: t, partition: 0, value: 'late' }),
      (e: Error) => e instanceof IllegalStateError && /abortTransaction\(\)/.test(e.message),
    );
    await assert.rejects(
      p.commitTransaction(),
      (e: Error) => isKafkaClientError(e) && e.code === 'TOPIC_AUTHORIZATION_FAILED',
    );
    const a0 = Date.now();
    await p.abortTransaction();
    const abortedIn = Date.now() - a0;
    assert.ok(abortedIn < 5000, `abortTransaction() took ${abortedIn} ms`);
    const adds = count() - addsBefore;
    assert.ok(adds >= 1 && adds <= 2, `${adds} AddPartitionsToTxn requests for one refused partition`);

    await cluster.clearRequestErrors(ADD_PARTITIONS_TO_TXN);
    p.beginTransaction();
    await Promise.all(
      ['n0', 'n1', 'n2', 'n3'].map((v, i) => p.send({ topic: t, partition: i % 2, value: v })),
    );
    await p.commitTransaction();
    const back = await readTopic(cluster.bootstrapServers, t, {
      headers: false,
      isolationLevel: 'read_committed',
    });
    // The refused partition got nothing of the failed transaction; the next one is complete.
    assert.deepEqual(
      back.filter((r) => r.partition === 1).map((r) => r.value!.toString()),
      ['n1', 'n3'],
    );
    assert.deepEqual(
      back
        .map((r) => r.value!.toString())
        .filter((v) => v.startsWith('n'))
        .sort(),
      ['n0', 'n1', 'n2', 'n3'],
    );
  });

  it('retries the retriable AddPartitionsToTxn errors (CONCURRENT_TRANSACTIONS, NOT_COORDINATOR, loading, unknown partition)', async () => {
    const t = await topic(1);
    const { logger, count } = addPartitionsCounter();
    const p = await createProducer(
      {
        bootstrapServers: cluster.bootstrapServers,
        transactionalId: `tx-${t}`,
        lingerMs: 5,
        retryBackoffMs: 20,
      },
      { logger },
    );
    open.push(p);
    await p.initTransactions();
    const injected = [
      CONCURRENT_TRANSACTIONS,
      NOT_COORDINATOR,
      COORDINATOR_LOAD_IN_PROGRESS,
      UNKNOWN_TOPIC_OR_PARTITION,
      CONCURRENT_TRANSACTIONS,
    ];
    await cluster.pushRequestErrors(ADD_PARTITIONS_TO_TXN, injected);
    p.beginTransaction();
    await p.send({ topic: t, value: 'after-retries' });
    await p.commitTransaction();
    assert.equal(count(), injected.length + 1, 'each refusal asked again, once');
    assert.deepEqual(await values(t), ['after-retries']);
  });

  it('INVALID_TXN_STATE from AddPartitionsToTxn is fatal, as in the Java client: pending records and later calls fail with it', async () => {
    const t = await topic(2);
    const p = await producer(`tx-${t}`, { retryBackoffMs: 20, deliveryTimeoutMs: 60_000 });
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic: t, partition: 0, value: 'in-p0' });
    await cluster.pushRequestErrors(ADD_PARTITIONS_TO_TXN, Array(50).fill(INVALID_TXN_STATE));
    const t0 = Date.now();
    const outcome = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => p.send({ topic: t, partition: 1, value: `p1-${i}` })),
    );
    const elapsed = Date.now() - t0;
    await cluster.clearRequestErrors(ADD_PARTITIONS_TO_TXN);
    const isInvalidTxnState = (e: unknown) => isKafkaClientError(e) && e.code === 'INVALID_TXN_STATE';
    for (const r of outcome) {
      assert.equal(r.status, 'rejected');
      assert.ok(
        isInvalidTxnState((r as PromiseRejectedResult).reason),
        String((r as PromiseRejectedResult).reason),
      );
    }
    assert.ok(elapsed < 5000, `the records failed after ${elapsed} ms (deliveryTimeoutMs is 60 s)`);
    await assert.rejects(p.commitTransaction(), isInvalidTxnState);
    await assert.rejects(p.abortTransaction(), isInvalidTxnState);
    await assert.rejects(p.send({ topic: t, partition: 0, value: 'late' }), isInvalidTxnState);
    assert.throws(() => p.beginTransaction(), isInvalidTxnState);
    assert.deepEqual(
      (await values(t, 'read_uncommitted')).filter((v) => v.startsWith('p1')),
      [],
      'nothing reached the partition that was never added',
    );
  });

  it('commits consumer offsets in the transaction', async () => {
    const t = await topic(1);
    const p = await producer(`tx-${t}`);
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic: t, value: 'processed' });
    await p.sendOffsetsToTransaction([{ topic: t, partition: 0, offset: 42 }], { groupId: `group-${t}` });
    await p.commitTransaction();
    assert.deepEqual(await values(t), ['processed']);
  });

  it('is fenced (PRODUCER_FENCED): pending records reject with ProducerFencedError, later calls at once', async () => {
    const t = await topic(1);
    const a = await producer(`tx-${t}`, { lingerMs: 50 });
    await a.initTransactions();
    a.beginTransaction();
    await a.send({ topic: t, value: 'a-before' });
    // What a broker answers a producer whose epoch a newer instance has replaced.
    await cluster.pushRequestErrors(PRODUCE, [90]);
    const pending = Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => a.send({ topic: t, value: `a${i}` })),
    );
    const outcome = await pending;
    for (const r of outcome) {
      assert.equal(r.status, 'rejected');
      assert.ok(
        (r as PromiseRejectedResult).reason instanceof ProducerFencedError,
        String((r as PromiseRejectedResult).reason),
      );
    }
    await assert.rejects(a.commitTransaction(), ProducerFencedError);
    await assert.rejects(a.send({ topic: t, value: 'late' }), ProducerFencedError);
    assert.throws(() => a.beginTransaction(), ProducerFencedError);

    const b = await producer(`tx2-${t}`);
    await b.initTransactions();
    b.beginTransaction();
    await b.send({ topic: t, value: 'b' });
    await b.commitTransaction();
    assert.ok((await values(t, 'read_uncommitted')).includes('b'), 'another producer carries on');
  });

  // KIP-360 for transactional producers: a batch that failed with its
  // sequence state unknown makes the transaction abortable; the abort then
  // bumps the epoch through the coordinator (InitProducerId with the current
  // id and epoch), which the mock supports and enforces: its pid check refuses
  // the old epoch afterwards, so the second transaction gets through only
  // with the bumped one.
  for (const [name, code] of [
    ['UNKNOWN_PRODUCER_ID', 59],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
  ] as const) {
    it(`aborts after ${name}, bumps the epoch through the coordinator, and the next transaction commits`, async () => {
      const t = await topic(2);
      const p = await producer(`tx-${t}`, { maxInFlightRequestsPerConnection: 5, retryBackoffMs: 20 });
      await p.initTransactions();
      const before = p.metrics();
      p.beginTransaction();
      await p.send({ topic: t, partition: 0, value: 'first' });
      await cluster.pushRequestErrors(PRODUCE, [code]);
      const outcome = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => p.send({ topic: t, partition: i % 2, value: `a${i}` })),
      );
      const reasons = outcome.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      assert.ok(
        reasons.some((e) => isKafkaClientError(e) && e.code === name),
        `some record rejected with ${name}: ${reasons.slice(0, 2).map(String)}`,
      );
      await assert.rejects(
        p.send({ topic: t, value: 'late' }),
        (e: Error) => e instanceof IllegalStateError && /abortTransaction\(\)/.test(e.message),
      );
      await assert.rejects(p.commitTransaction(), (e: Error) => isKafkaClientError(e) && e.code === name);
      await p.abortTransaction();
      const after = p.metrics();
      assert.equal(after.producerId, before.producerId, 'the same producer id');
      assert.equal(after.producerEpoch, before.producerEpoch + 1, 'the epoch went up by one');

      p.beginTransaction();
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => p.send({ topic: t, partition: i % 2, value: `c${i}` })),
      );
      await p.commitTransaction();
      const committed = (await values(t)).filter((v) => v.startsWith('c'));
      assert.deepEqual(
        committed.sort(),
        Array.from({ length: 100 }, (_, i) => `c${i}`).sort(),
        'the second transaction, each record once',
      );
    });
  }

  it('aborts after a batch expired once sent (it may have been written), bumps the epoch, and goes on', async () => {
    const t = await topic(1);
    const id = `tx-${t}`;
    const p = await producer(id, { requestTimeoutMs: 1000, deliveryTimeoutMs: 1500, retryBackoffMs: 20 });
    const leader = (await p.partitionsFor(t))[0]!.leader;
    // The coordinator elsewhere, so only the partition's leader is slow.
    await cluster.setCoordinator('transaction', id, leader === 1 ? 2 : 1);
    await p.initTransactions();
    const before = p.metrics();
    p.beginTransaction();
    await p.send({ topic: t, value: 'first' });
    await cluster.setBrokerRtt(leader, 3000);
    const err = await p.send({ topic: t, value: 'slow' }).then(
      () => assert.fail('a record past its delivery timeout must not resolve'),
      (e: unknown) => e,
    );
    assert.ok(isKafkaClientError(err) && err.code === 'DELIVERY_TIMEOUT', String(err));
    assert.match((err as Error).message, /may have been written/);
    await cluster.setBrokerRtt(leader, 0);
    await p.abortTransaction();
    const after = p.metrics();
    assert.deepEqual(
      [after.producerId, after.producerEpoch],
      [before.producerId, before.producerEpoch + 1],
      'same id, next epoch',
    );
    p.beginTransaction();
    await Promise.all(['n1', 'n2', 'n3'].map((v) => p.send({ topic: t, value: v })));
    await p.commitTransaction();
    const committed = (await values(t)).filter((v) => v.startsWith('n'));
    assert.deepEqual(committed, ['n1', 'n2', 'n3']);
  });

  it('writes 50,000 records exactly once and in order through injected errors and responses later than the request timeout', async () => {
    const t = await topic(3);
    const tap = await produceTap();
    const p = await producer(
      `tx-${t}`,
      {
        maxInFlightRequestsPerConnection: 5,
        requestTimeoutMs: 800,
        retryBackoffMs: 20,
        retryBackoffMaxMs: 100,
      },
      { transport: tap.factory },
    );
    await p.initTransactions();
    p.beginTransaction();
    const parts = await p.partitionsFor(t);
    const N = 50_000;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      sends.push(p.send({ topic: t, partition: i % 3, value: String(i) }));
      if (i === 5000) await cluster.pushRequestErrors(PRODUCE, [6, 7, 6, 7]);
      if (i === 20_000) {
        // Written, but answered after the request timeout: retries must be recognised as duplicates.
        await cluster.setBrokerRtt(parts[1]!.leader, 1200);
        setTimeout(() => void cluster.setBrokerRtt(parts[1]!.leader, 0), 1500);
      }
      if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sends);
    await p.commitTransaction();
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false, timeoutMs: 120_000 });
    // The mock's duplicate check has a flaw (rd_kafka_mock_validate_records,
    // found by the soak): after recognising one retried batch as a duplicate
    // it rewinds the sequence it expects, and appends the retry of the next
    // in-flight batch a second time. A real broker drops that retry. So a
    // second copy is the mock's when every attempt carried the record under
    // one producer id, epoch and sequence (read from the wire); a record sent
    // under two sequences would be a client bug, and fails the test.
    const stamps = stampsByValue(tap.batches);
    const restamped = [...stamps].filter(([, s]) => s.length > 1).map(([v]) => v);
    assert.deepEqual(restamped, [], 'no record sent under two sequences');
    const seen = new Set<string>();
    const last = new Map<number, number>();
    let mockCopies = 0;
    for (const r of back) {
      const value = r.value?.toString() ?? '';
      if (seen.has(value)) {
        mockCopies++;
        continue;
      }
      seen.add(value);
      const v = Number(value);
      assert.ok(
        (last.get(r.partition) ?? -1) < v,
        `partition ${r.partition}: ${v} after ${last.get(r.partition)}`,
      );
      last.set(r.partition, v);
    }
    assert.equal(seen.size, N, 'every record stored');
    assert.equal(back.length, N + mockCopies);
  });
});
