import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CompressionName, CompressionType } from '../src/protocol/compression/index.js';
import { crc32c } from '../src/protocol/crc32c.js';
import {
  decodeRecordBatches,
  estimateSizeInBytesUpperBound,
  RecordBatchBuilder,
  type RecordHeader,
  restampBatch,
} from '../src/protocol/record-batch.js';
import { mulberry32 } from './prng.js';

describe('record batch v2', () => {
  it('lays out a one-record batch exactly as the protocol guide specifies', () => {
    // Protocol guide, "Record Batch" and "Record": header fields in order,
    // then one record: length, attributes, timestampDelta, offsetDelta,
    // keyLength (-1 = null), valueLength, value, header count.
    const builder = new RecordBatchBuilder(Buffer.alloc(256));
    assert.equal(builder.tryAppend(1_700_000_000_000, null, Buffer.from('a')), 0);
    const batch = builder.build({ producerId: 42, producerEpoch: 3, baseSequence: 7, transactional: true });
    const afterCrc = Buffer.from(
      [
        '0010', // attributes: no compression, CreateTime, transactional (bit 4)
        '00000000', // lastOffsetDelta 0
        '0000018bcfe56800', // baseTimestamp 1_700_000_000_000
        '0000018bcfe56800', // maxTimestamp
        '000000000000002a', // producerId 42
        '0003', // producerEpoch 3
        '00000007', // baseSequence 7
        '00000001', // record count 1
        '0e', // record length 7 (zig-zag)
        '00', // record attributes
        '00', // timestampDelta 0
        '00', // offsetDelta 0
        '01', // keyLength -1: null key
        '02', // valueLength 1
        '61', // 'a'
        '00', // header count 0
      ].join(''),
      'hex',
    );
    const head = Buffer.from(
      [
        '0000000000000000', // baseOffset (the broker assigns it)
        (afterCrc.length + 9).toString(16).padStart(8, '0'), // batchLength: from partitionLeaderEpoch on
        'ffffffff', // partitionLeaderEpoch -1
        '02', // magic 2
      ].join(''),
      'hex',
    );
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32c(afterCrc));
    assert.equal(batch.toString('hex'), Buffer.concat([head, crc, afterCrc]).toString('hex'));
  });

  for (const codec of Object.keys(CompressionType) as CompressionName[]) {
    it(`round-trips records through the decoder (${codec})`, () => {
      const rand = mulberry32(codec.length * 977);
      const int = (n: number) => Math.floor(rand() * n);
      const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
      const builder = new RecordBatchBuilder(Buffer.alloc(1 << 20), CompressionType[codec]);
      const base = 1_700_000_000_000;
      const sent: Array<{ ts: number; key: Buffer | null; value: Buffer | null; headers: RecordHeader[] }> =
        [];
      for (let i = 0; i < 200; i++) {
        const headers: RecordHeader[] = Array.from({ length: int(3) }, (_, h) => ({
          key: `h${h}-é`,
          value: int(4) === 0 ? null : bytes(int(20)),
        }));
        const rec = {
          ts: base + int(100_000) - 50_000, // deltas on both sides of the first record
          key: int(5) === 0 ? null : bytes(int(30)),
          value: int(7) === 0 ? null : bytes(int(2000)),
          headers,
        };
        assert.equal(builder.tryAppend(rec.ts, rec.key, rec.value, rec.headers), i);
        sent.push(rec);
      }
      const [decoded, ...more] = decodeRecordBatches(builder.build());
      assert.equal(more.length, 0);
      assert.ok(decoded);
      assert.equal(decoded.compression, CompressionType[codec]);
      assert.equal(decoded.magic, 2);
      assert.equal(decoded.lastOffsetDelta, 199);
      assert.equal(decoded.baseTimestamp, sent[0]!.ts);
      assert.equal(decoded.maxTimestamp, Math.max(...sent.map((s) => s.ts)));
      assert.equal(decoded.producerId, -1);
      assert.equal(decoded.baseSequence, -1);
      assert.equal(decoded.records.length, 200);
      decoded.records.forEach((r, i) => {
        const s = sent[i]!;
        assert.equal(r.offset, i);
        assert.equal(r.timestamp, s.ts);
        assert.deepEqual(r.key, s.key);
        assert.deepEqual(r.value, s.value);
        assert.deepEqual(
          r.headers,
          s.headers.map((h) => ({ key: h.key, value: h.value })),
        );
      });
    });
  }

  it('bounds every record from above, as the size check needs', () => {
    const rand = mulberry32(7);
    const int = (n: number) => Math.floor(rand() * n);
    for (let i = 0; i < 500; i++) {
      const key = int(3) === 0 ? null : Buffer.alloc(int(300));
      const value = int(5) === 0 ? null : Buffer.alloc(int(70_000));
      const headers = Array.from({ length: int(4) }, () => ({
        key: 'k'.repeat(int(200)),
        value: Buffer.alloc(int(200)),
      }));
      const builder = new RecordBatchBuilder(Buffer.alloc(100_000));
      // The worst case deltas: a timestamp far from the batch's first one, a late offset.
      builder.tryAppend(0, null, null);
      const bound = estimateSizeInBytesUpperBound(key, value, headers);
      const before = builder.sizeInBytes;
      assert.notEqual(builder.tryAppend(2 ** 50, key, value, headers), -1);
      const alone = new RecordBatchBuilder(Buffer.alloc(100_000));
      alone.tryAppend(Date.now(), key, value, headers);
      assert.ok(alone.build().length <= bound, `single-record batch ${alone.sizeInBytes} > bound ${bound}`);
      assert.ok(builder.sizeInBytes - before + 61 <= bound, 'record with large deltas exceeds the bound');
    }
  });

  it('refuses a record that does not fit and stays intact', () => {
    const builder = new RecordBatchBuilder(Buffer.alloc(120));
    assert.equal(builder.tryAppend(1, Buffer.from('k'), Buffer.alloc(20)), 0);
    const size = builder.sizeInBytes;
    assert.equal(builder.tryAppend(2, Buffer.from('k'), Buffer.alloc(100)), -1);
    assert.equal(builder.sizeInBytes, size);
    assert.equal(builder.recordCount, 1);
    assert.equal(decodeRecordBatches(builder.build())[0]?.records.length, 1);
    assert.throws(() => new RecordBatchBuilder(Buffer.alloc(100)).build(), /empty record batch/);
  });

  it('restamps producer id, epoch and sequence with a valid CRC', () => {
    const builder = new RecordBatchBuilder(Buffer.alloc(4096), CompressionType.lz4);
    for (let i = 0; i < 10; i++) builder.tryAppend(1000 + i, null, Buffer.from(`v${i}`));
    const batch = Buffer.from(
      builder.build({ producerId: 5, producerEpoch: 0, baseSequence: 0, transactional: false }),
    );
    restampBatch(batch, { producerId: 5, producerEpoch: 1, baseSequence: 40, transactional: true });
    const [d] = decodeRecordBatches(batch); // verifies the CRC
    assert.equal(d?.producerEpoch, 1);
    assert.equal(d?.baseSequence, 40);
    assert.equal(d?.transactional, true);
    assert.equal(d?.records.length, 10);
    batch[batch.length - 1] = (batch[batch.length - 1] as number) ^ 0xff;
    assert.throws(() => decodeRecordBatches(batch), /CRC mismatch/);
  });
});
