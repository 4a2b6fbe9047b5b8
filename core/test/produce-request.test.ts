import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProduceApi } from '../src/protocol/apis/produce.js';
import { encodeProduceRequestBody, type ProduceTopicBatches } from '../src/protocol/produce-request.js';
import { Reader } from '../src/protocol/reader.js';
import { Writer } from '../src/protocol/writer.js';
import { mulberry32 } from './prng.js';

describe('hand-tuned Produce request encoder', () => {
  it('matches the general codec byte for byte and decodes through it, v3-v13', () => {
    const rand = mulberry32(42);
    const int = (n: number) => Math.floor(rand() * n);
    const fast = new Writer(16);
    const general = new Writer(16);
    for (let version = 3; version <= 13; version++) {
      for (let c = 0; c < 50; c++) {
        const topics: ProduceTopicBatches[] = Array.from({ length: int(4) }, (_, t) => ({
          nameBytes: Buffer.from(`topic-${t}-${'é'.repeat(int(3))}`),
          topicId: Buffer.from(Array.from({ length: 16 }, () => int(256))),
          partitions: Array.from({ length: int(4) }, () => ({
            partition: int(1000),
            records: Buffer.from(Array.from({ length: int(300) }, () => int(256))),
          })),
        }));
        const tid = c % 3 === 0 ? null : `txn-${c}`;
        const acks = [-1, 0, 1][c % 3] as number;
        encodeProduceRequestBody(
          fast.reset(),
          version,
          tid === null ? null : Buffer.from(tid),
          acks,
          30_000,
          topics,
        );
        const bytes = fast.finish();

        const message = {
          transactionalId: tid,
          acks,
          timeoutMs: 30_000,
          topicData: topics.map((t) => ({
            name: t.nameBytes.toString('utf8'),
            topicId: t.topicId,
            partitionData: t.partitions.map((p) => ({ index: p.partition, records: p.records })),
          })),
        };
        ProduceApi.encodeRequest(general.reset(), version, message);
        assert.ok(bytes.equals(general.finish()), `v${version} case ${c}: differs from the general encoder`);

        const r = new Reader(bytes);
        const decoded = ProduceApi.decodeRequest(r, version);
        assert.equal(r.remaining, 0);
        assert.equal(decoded.transactionalId, tid);
        assert.equal(decoded.acks, acks);
        assert.equal(decoded.topicData.length, topics.length);
        decoded.topicData.forEach((t, i) => {
          const want = topics[i] as ProduceTopicBatches;
          if (version >= 13) assert.deepEqual(t.topicId, want.topicId);
          else assert.equal(t.name, want.nameBytes.toString('utf8'));
          assert.deepEqual(
            t.partitionData.map((p) => [p.index, p.records]),
            want.partitions.map((p) => [p.partition, p.records]),
          );
        });
      }
    }
  });

  it('refuses v13 for a topic without an id', () => {
    assert.throws(
      () =>
        encodeProduceRequestBody(new Writer(), 13, null, -1, 1000, [
          { nameBytes: Buffer.from('t'), topicId: undefined, partitions: [] },
        ]),
      /addresses topics by id/,
    );
  });
});
