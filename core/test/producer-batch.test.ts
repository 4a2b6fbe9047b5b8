import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProducerBatch, type RecordSink } from '../src/producer/producer-batch.js';
import type { RecordMetadata } from '../src/producer/types.js';

// A batch sizes its per-record bookkeeping from the first record and grows it
// when smaller records follow: every record must still be settled with its
// own offset, timestamp and sizes, whether it has a promise or a sink.

const topic = { name: 't', nameBytes: Buffer.from('t') };

describe('ProducerBatch bookkeeping', () => {
  it('settles every record when many small ones follow a large first one', () => {
    const b = new ProducerBatch(topic, 2, Buffer.alloc(16_384), 0, 1_000);
    const got: RecordMetadata[] = [];
    const resolve = (m: RecordMetadata) => got.push(m);
    const reject = () => assert.fail('no record fails');
    assert.ok(b.tryAppend(1_700_000_000_000, null, Buffer.alloc(1_000, 1), undefined, resolve, reject));
    let n = 1;
    // The first record reserved room for ~17 like it; these are ~20 bytes each.
    while (
      b.tryAppend(
        1_700_000_000_000 + n,
        Buffer.from([n & 0xff]),
        Buffer.from(`v${n}`),
        undefined,
        resolve,
        reject,
      )
    )
      n++;
    assert.ok(n > 500, `${n} records`);
    b.complete(100, -1);
    assert.equal(got.length, n);
    got.forEach((m, i) => {
      assert.equal(m.offset, 100 + i);
      assert.equal(m.partition, 2);
      assert.equal(m.timestamp, 1_700_000_000_000 + i);
      assert.equal(m.serializedKeySize, i === 0 ? -1 : 1);
      assert.equal(m.serializedValueSize, i === 0 ? 1_000 : Buffer.byteLength(`v${i}`));
    });
  });

  it('fails records of a sink and of promises alike, by index', () => {
    const b = new ProducerBatch(topic, 0, Buffer.alloc(4_096), 0, 0);
    const failed: Array<[number, string]> = [];
    const sink: RecordSink = {
      delivered: () => assert.fail('nothing is delivered'),
      failed: (index, error) => failed.push([index, error.message]),
    };
    const rejected: string[] = [];
    for (let i = 0; i < 40; i++) {
      if (i % 2 === 0) assert.ok(b.tryAppend(i, null, Buffer.from('x'), undefined, sink, 1_000 + i));
      else
        assert.ok(
          b.tryAppend(
            i,
            null,
            Buffer.from('y'),
            undefined,
            () => assert.fail(),
            (e) => rejected.push(e.message),
          ),
        );
    }
    b.fail(new Error('boom'));
    assert.deepEqual(
      failed.map(([i]) => i),
      Array.from({ length: 20 }, (_, k) => 1_000 + 2 * k),
    );
    assert.equal(rejected.length, 20);
    assert.ok([...failed.map(([, m]) => m), ...rejected].every((m) => m === 'boom'));
  });
});
