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

  it('is not set on an idempotent producer outside transactions', async () => {
    const t = await fx.topic(2);
    const tap = await produceTap();
    const p = await fx.producer({}, { transport: tap.factory });
    await Promise.all(Array.from({ length: 30 }, (_, i) => p.send({ topic: t, value: `v${i}` })));
    assert.ok(tap.batches.length >= 1);
    assert.deepEqual(new Set(tap.batches.map((b) => b.transactional)), new Set([false]));
  });
});
