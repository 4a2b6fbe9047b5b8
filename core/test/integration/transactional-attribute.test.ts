import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { librdkafkaFromEnv, readTopic } from '@tributary/testkit';
import {
  decodeRecordBatches,
  ProduceApi,
  Reader,
  readRequestHeader,
  requestHeaderVersion,
  type Transport,
  type TransportFactory,
} from '../../src/index.js';
import { useCluster } from './cluster-fixture.js';

// A transactional producer's record batches must carry the transactional
// attribute bit (record batch v2, attributes bit 4): it is how a broker knows
// the records belong to a transaction, so that read_committed consumers skip
// them if it aborts. librdkafka's mock does not check the bit, so the test
// reads it from the Produce requests on the wire (a tap around the Node
// transport that only reads what is written), and kcat confirms the records.

const leg = librdkafkaFromEnv();

/** Every record batch's transactional bit, from the Produce requests written through the returned factory. */
async function tapProduceBatches(): Promise<{ factory: TransportFactory; transactional: boolean[] }> {
  // The Node adapter depends on core, so core's tests load it by name at run time.
  const specifier = '@tributary/adapter-node';
  const { createTcpTransport } = (await import(specifier)) as { createTcpTransport: TransportFactory };
  const transactional: boolean[] = [];
  const observe = (data: Buffer) => {
    for (let pos = 0; pos + 4 <= data.length; ) {
      const start = pos + 4;
      const end = start + data.readInt32BE(pos);
      pos = end;
      if (data.readInt16BE(start) !== ProduceApi.apiKey) continue;
      const version = data.readInt16BE(start + 2);
      const r = new Reader(data, start, end);
      readRequestHeader(r, requestHeaderVersion(ProduceApi, version));
      for (const t of ProduceApi.decodeRequest(r, version).topicData)
        for (const p of t.partitionData)
          for (const b of decodeRecordBatches(p.records ?? Buffer.alloc(0)))
            transactional.push(b.transactional);
    }
  };
  const factory: TransportFactory = (options, handler) => {
    const inner = createTcpTransport(options, handler);
    const tapped: Transport = {
      write: (data: Buffer) => {
        observe(data);
        return inner.write(data);
      },
      destroy: (error?: Error) => inner.destroy(error),
    };
    return tapped;
  };
  return { factory, transactional };
}

describe(`the transactional attribute on the wire (librdkafka ${leg})`, () => {
  const fx = useCluster('txnbit');

  it('is set on every batch of a transactional producer', async () => {
    const t = await fx.topic(3);
    const tap = await tapProduceBatches();
    const p = await fx.producer({ transactionalId: `txnbit-${leg}` }, { transport: tap.factory });
    await p.initTransactions();
    p.beginTransaction();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => p.send({ topic: t, key: `k${i}`, value: `v${i}` })),
    );
    await p.commitTransaction();
    assert.ok(tap.transactional.length >= 1);
    assert.deepEqual(new Set(tap.transactional), new Set([true]));
    const read = await readTopic(fx.cluster.bootstrapServers, t, {
      headers: false,
      isolationLevel: 'read_committed',
    });
    assert.equal(read.length, 60);
  });

  it('is not set on an idempotent producer outside transactions', async () => {
    const t = await fx.topic(2);
    const tap = await tapProduceBatches();
    const p = await fx.producer({}, { transport: tap.factory });
    await Promise.all(Array.from({ length: 30 }, (_, i) => p.send({ topic: t, value: `v${i}` })));
    assert.ok(tap.transactional.length >= 1);
    assert.deepEqual(new Set(tap.transactional), new Set([false]));
  });
});
