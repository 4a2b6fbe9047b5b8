import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProduceApi } from '../src/protocol/apis/produce.js';
import {
  encodeProduceRequestBody,
  type ProduceTopicBatches,
  REFERENCE_MIN_BYTES,
} from '../src/protocol/produce-request.js';
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
            // Some at or past REFERENCE_MIN_BYTES: written by reference, not copied.
            records: Buffer.from(
              Array.from({ length: int(4) === 0 ? REFERENCE_MIN_BYTES + int(3000) : int(300) }, () =>
                int(256),
              ),
            ),
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
        const chunks = fast.finishChunks();
        const bytes = Array.isArray(chunks) ? Buffer.concat(chunks) : chunks;
        // Every large batch is one of the chunks, itself (no copy); small ones are copied.
        const large = topics
          .flatMap((t) => t.partitions.map((p) => p.records))
          .filter((r) => r.length >= REFERENCE_MIN_BYTES);
        for (const r of large)
          assert.ok(
            Array.isArray(chunks) && chunks.includes(r),
            `v${version} case ${c}: a large batch was copied`,
          );
        if (large.length === 0) assert.ok(!Array.isArray(chunks));

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

  it('frames a request around referenced batches: the size prefix counts them, the writer can be reused', () => {
    const w = new Writer(8);
    const batch = Buffer.alloc(5000, 1);
    const at = w.reset().reserveInt32();
    w.int16(7).reference(batch).int8(9).reference(batch);
    assert.equal(w.length, 4 + 2 + 5000 + 1 + 5000);
    w.patchInt32(at, w.length - 4);
    const chunks = w.finishChunks() as Buffer[];
    assert.deepEqual(
      chunks.map((c) => c.length),
      [6, 5000, 1, 5000],
    );
    assert.equal(chunks[1], batch);
    assert.equal(chunks[3], batch);
    assert.equal(Buffer.concat(chunks).readInt32BE(0), 10_003);
    // reset() forgets the references; the copied chunks do not change with the writer.
    w.reset().int32(1);
    assert.equal(w.length, 4);
    assert.ok(Buffer.isBuffer(w.finishChunks()));
    assert.equal(chunks[0]?.readInt16BE(4), 7);
  });
});
