import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { librdkafkaFromEnv, readTopic } from '@tributary/testkit';
import { useCluster } from './cluster-fixture.js';
import { produceTap } from './produce-tap.js';

// A transactional producer's record batches must carry the transactional
// attribute bit (record batch v2, attributes bit 4): it is how a broker knows
// the records belong to a transaction, so that read_committed consumers skip
// them if it aborts. librdkafka's mock does not check the bit, so the test
// reads it from the Produce requests on the wire (a tap around the Node
// transport that only reads what is written), and kcat confirms the records.

const leg = librdkafkaFromEnv();

describe(`the transactional attribute on the wire (librdkafka ${leg})`, () => {
  const fx = useCluster('txnbit');

  it('is set on every batch of a transactional producer', async () => {
    const t = await fx.topic(3);
    const tap = await produceTap();
    const p = await fx.producer({ transactionalId: `txnbit-${leg}` }, { transport: tap.factory });
    await p.initTransactions();
    p.beginTransaction();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => p.send({ topic: t, key: `k${i}`, value: `v${i}` })),
    );
    await p.commitTransaction();
    assert.ok(tap.batches.length >= 1);
    assert.deepEqual(new Set(tap.batches.map((b) => b.transactional)), new Set([true]));
    const read = await readTopic(fx.cluster.bootstrapServers, t, {
      headers: false,
      isolationLevel: 'read_committed',
    });
    assert.equal(read.length, 60);
  });

  it("an abort ends the transaction on the wire with committed=false, under the batches' producer id and epoch", async () => {
    // What makes aborted records invisible is the broker's: transactional
    // batches plus an abort marker written for EndTxn(committed=false). The
    // mock's Fetch reports no aborted transactions, so kcat's read_committed
    // cannot show that here; the wire can show the producer's half of it.
    const t = await fx.topic(2);
    const tap = await produceTap();
    const p = await fx.producer({ transactionalId: `txnabort-${leg}` }, { transport: tap.factory });
    await p.initTransactions();
    p.beginTransaction();
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.send({ topic: t, value: `aborted${i}` })));
    await p.abortTransaction();
    p.beginTransaction();
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.send({ topic: t, value: `kept${i}` })));
    await p.commitTransaction();
    const [abort, commit] = tap.endTxns;
    assert.equal(tap.endTxns.length, 2);
    assert.equal(abort?.committed, false);
    assert.equal(commit?.committed, true);
    assert.equal(abort?.transactionalId, `txnabort-${leg}`);
    const aborted = tap.batches.filter((b) => b.values.some((v) => v?.toString().startsWith('aborted')));
    assert.ok(aborted.length > 0);
    for (const b of aborted) {
      assert.equal(b.transactional, true);
      assert.equal(b.producerId, abort?.producerId);
      assert.equal(b.producerEpoch, abort?.producerEpoch);
    }
  });

  it('is not set on an idempotent producer outside transactions', async () => {
    const t = await fx.topic(2);
    const tap = await produceTap();
    const p = await fx.producer({}, { transport: tap.factory });
    await Promise.all(Array.from({ length: 30 }, (_, i) => p.send({ topic: t, value: `v${i}` })));
    assert.ok(tap.batches.length >= 1);
    assert.deepEqual(new Set(tap.batches.map((b) => b.transactional)), new Set([false]));
  });
});
