import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import { networkConfigDefs } from '../src/config/network-config.js';
import { silentLogger } from '../src/network/logger.js';
import { NetworkClient } from '../src/network/network-client.js';
import { DefaultBufferPool } from '../src/producer/buffer-pool.js';
import { IdempotenceManager, SequenceVerdict } from '../src/producer/idempotence.js';
import { ProducerBatch } from '../src/producer/producer-batch.js';
import { RecordAccumulator } from '../src/producer/record-accumulator.js';
import { ErrorCode } from '../src/protocol/error-codes.js';
import { decodeRecordBatches } from '../src/protocol/record-batch.js';
import { idleSelector as idle } from './fixtures.js';

// The sequencing rules on their own (librdkafka's mock does not check
// sequences for non-transactional producers, so these pin them directly).

const client = new NetworkClient(
  resolveConfig(networkConfigDefs, { bootstrapServers: ['127.0.0.1:1'] }),
  idle,
);
const topic = { name: 't', nameBytes: Buffer.from('t') };

function manager(): IdempotenceManager {
  const m = new IdempotenceManager(client, silentLogger, () => {}, 10, 100);
  m.producerId = 7;
  m.epoch = 0;
  return m;
}

function batch(records: number): ProducerBatch {
  const b = new ProducerBatch(topic, 0, Buffer.alloc(4096), 0, Date.now());
  for (let i = 0; i < records; i++)
    b.tryAppend(
      i,
      null,
      Buffer.from(`v${i}`),
      undefined,
      () => {},
      () => {},
    );
  return b;
}

describe('idempotent sequencing', () => {
  it('assigns consecutive sequences per partition at drain and stamps them into the batch', () => {
    const m = manager();
    const a = batch(3);
    const b = batch(2);
    a.seal(m.stamp(a));
    b.seal(m.stamp(b));
    assert.deepEqual([a.baseSequence, b.baseSequence], [0, 3]);
    const [decoded] = decodeRecordBatches(b.seal());
    assert.equal(decoded?.producerId, 7);
    assert.equal(decoded?.producerEpoch, 0);
    assert.equal(decoded?.baseSequence, 3);
  });

  it('holds a retry until its partition has nothing in flight, and keeps its sequence', () => {
    const m = manager();
    const a = batch(1);
    const b = batch(1);
    a.seal(m.stamp(a));
    b.seal(m.stamp(b));
    // a failed; b is still in flight.
    m.returned(a);
    assert.equal(m.canDrain(a), false, 'waits for b');
    assert.equal(m.verdict(b, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), SequenceVerdict.RetryInOrder);
    m.returned(b);
    assert.equal(m.canDrain(a), true);
    assert.equal(m.stamp(a).baseSequence, 0, 'a retry keeps its sequence');
  });

  it('treats duplicates as success and a gap nobody explains as a reason to bump the epoch', () => {
    const m = manager();
    const a = batch(2);
    a.seal(m.stamp(a));
    assert.equal(m.verdict(a, ErrorCode.DUPLICATE_SEQUENCE_NUMBER), SequenceVerdict.Success);
    assert.equal(m.verdict(a, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), SequenceVerdict.BumpEpoch);
    assert.equal(m.verdict(a, ErrorCode.UNKNOWN_PRODUCER_ID), SequenceVerdict.BumpEpoch);
    assert.equal(m.verdict(a, ErrorCode.NOT_LEADER_OR_FOLLOWER), SequenceVerdict.NotMine);
  });

  it('bumps the epoch itself once nothing is in flight, restarting sequences and re-stamping queued batches', () => {
    const m = manager();
    const a = batch(4);
    a.seal(m.stamp(a));
    m.requestBump('test');
    assert.equal(
      m.maintain(Date.now(), () => {}),
      false,
      'no bump while a is in flight',
    );
    m.returned(a);
    assert.equal(
      m.maintain(Date.now(), () => {}),
      true,
    );
    assert.deepEqual([m.producerId, m.epoch, m.bumps], [7, 1, 1]);
    m.resequence([a]);
    assert.equal(a.baseSequence, -1);
    const sealed = a.seal(m.stamp(a));
    const [decoded] = decodeRecordBatches(sealed); // the CRC still checks after the rewrite
    assert.deepEqual([decoded?.producerEpoch, decoded?.baseSequence, decoded?.records.length], [1, 0, 4]);
  });

  it('transactional: a bump request waits for the abort; later gap refusals fail fast; the bump restarts sequences', () => {
    const m = manager();
    m.transactional = true;
    const a = batch(2);
    const b = batch(3);
    a.seal(m.stamp(a));
    b.seal(m.stamp(b));
    m.returned(a);
    m.returned(b);
    // b came too early (a is unacknowledged): normally retried in order.
    assert.equal(m.verdict(b, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), SequenceVerdict.RetryInOrder);
    m.requestBump('a failed');
    assert.equal(m.transactionalBumpRequired, true);
    assert.equal(
      m.maintain(Date.now(), () => {}),
      true,
      'no client-side bump: the coordinator does it after the abort',
    );
    assert.equal(m.epoch, 0);
    assert.equal(m.verdict(b, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), SequenceVerdict.BumpEpoch);
    m.epochBumped(7, 1);
    assert.deepEqual([m.producerId, m.epoch, m.bumps, m.transactionalBumpRequired], [7, 1, 1, false]);
    const c = batch(1);
    assert.equal(m.stamp(c).baseSequence, 0, 'sequences restart at 0');
  });

  it('splits a refused batch into pieces that keep its sequence range and creation time', () => {
    const m = manager();
    m.stamp(batch(5)); // sequences 0..4 go to an earlier batch
    const big = new ProducerBatch(topic, 0, Buffer.alloc(8192), 0, 1234);
    for (let i = 0; i < 6; i++)
      big.tryAppend(
        i,
        null,
        Buffer.alloc(1000),
        undefined,
        () => {},
        () => {},
      );
    big.seal(m.stamp(big));
    assert.equal(big.baseSequence, 5);
    const pieces = big.split(2200, 0);
    assert.ok(pieces.length >= 2);
    let expected = 5;
    for (const piece of pieces) {
      assert.equal(piece.createdMs, 1234);
      assert.equal(piece.baseSequence, expected);
      assert.equal(piece.producerEpoch, m.epoch);
      const [decoded] = decodeRecordBatches(piece.seal(m.stamp(piece)));
      assert.equal(decoded?.baseSequence, expected);
      expected += piece.recordCount;
    }
    assert.equal(expected, 11);
  });

  it('puts retried batches back in sequence order', () => {
    const acc = new RecordAccumulator(
      {
        batchSize: 1024,
        lingerMs: 0,
        deliveryTimeoutMs: 60_000,
        retryBackoffMs: 0,
        retryBackoffMaxMs: 0,
        compression: 0,
        adaptivePartitioning: false,
        partitionAvailabilityTimeoutMs: 0,
      },
      new DefaultBufferPool(1 << 20, 1024),
    );
    const m = manager();
    const batches = [batch(1), batch(1), batch(1)];
    for (const b of batches) b.seal(m.stamp(b));
    for (const b of [batches[2]!, batches[0]!, batches[1]!]) {
      b.attempts = 1;
      acc.reenqueue(b, Date.now());
    }
    assert.deepEqual(
      [...acc.queuedBatches()].map((b) => b.baseSequence),
      [0, 1, 2],
    );
  });
});
