import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endOffsets, librdkafkaFromEnv, readTopic } from '@tributary/testkit';
import { bufferCount, from, lastValueFrom, reduce } from 'rxjs';
import { container } from 'tsyringe';
import {
  BatchSendError,
  ErrorCode,
  INTERCEPTOR,
  type Interceptor,
  type ProducerRecord,
  produceBatches,
} from '../../src/index.js';
import { useCluster } from './cluster-fixture.js';

// sendBatch, the bulk path: one promise for many records, each record going
// through the same pipeline as send(). Against librdkafka's mock cluster (both
// legs), every outcome checked with kcat.

const leg = librdkafkaFromEnv();
const PRODUCE = 0;

describe(`sendBatch (librdkafka ${leg})`, () => {
  const fx = useCluster('batch');
  const producer = fx.producer.bind(fx);
  const topic = fx.topic.bind(fx);
  const total = async (t: string, partitions: number) =>
    (await endOffsets(fx.cluster.bootstrapServers, t, partitions)).reduce((a, b) => a + b, 0);

  it('delivers every record of many batches once, in order per key', async () => {
    const t = await topic(6);
    const p = await producer<string, string>({ lingerMs: 5 });
    const results = [];
    const perKey = new Map<string, number>();
    for (let b = 0; b < 40; b++) {
      const records: ProducerRecord<string, string>[] = [];
      for (let i = 0; i < 1000; i++) {
        const key = `k${(b * 1000 + i) % 50}`;
        const n = perKey.get(key) ?? 0;
        perKey.set(key, n + 1);
        records.push({ topic: t, key, value: `${key}:${n}` });
      }
      results.push(p.sendBatch(records));
    }
    for (const r of await Promise.all(results)) assert.deepEqual(r, { records: 1000 });
    assert.equal(await total(t, 6), 40_000);
    assert.equal(p.metrics()['record-send-total'], 40_000);
    // Order per key: each key's values come back numbered 0, 1, 2, ...
    const read = await readTopic(fx.cluster.bootstrapServers, t, { headers: false });
    const next = new Map<string, number>();
    for (const r of read) {
      const [key, n] = (r.value?.toString() ?? '').split(':') as [string, string];
      assert.equal(r.key?.toString(), key);
      assert.equal(Number(n), next.get(key) ?? 0, `order of ${key}`);
      next.set(key, Number(n) + 1);
    }
  });

  it('returns each record metadata in input order when asked, matching what kcat reads', async () => {
    const t = await topic(3);
    const p = await producer<string, string>({ lingerMs: 5 });
    // A topic not in metadata yet: the first records wait for it.
    const records = Array.from({ length: 300 }, (_, i) => ({
      topic: t,
      key: `key-${i % 7}`,
      value: `v${i}`,
    }));
    const r = await p.sendBatch(records, { metadata: true });
    assert.equal(r.records, 300);
    assert.equal(r.metadata?.length, 300);
    const read = await readTopic(fx.cluster.bootstrapServers, t, { headers: false });
    const stored = new Map(read.map((x) => [`${x.partition}/${x.offset}`, x.value?.toString()]));
    r.metadata?.forEach((m, i) => {
      assert.equal(m.topic, t);
      assert.equal(stored.get(`${m.partition}/${m.offset}`), `v${i}`, `record ${i}`);
      assert.equal(m.serializedValueSize, Buffer.byteLength(`v${i}`));
    });
  });

  it('rejects with BatchSendError naming each bad record by index, and delivers the rest', async () => {
    const t = await topic(2);
    const p = await producer<string, string>({ lingerMs: 5 });
    const records = [
      { topic: t, value: 'ok0' },
      null,
      { topic: t, value: 'bad-ts', timestamp: -1 },
      { topic: t, value: 'ok3' },
      { topic: t, value: 'bad-partition', partition: 7 },
      { topic: t, value: 'ok5' },
    ] as unknown as ProducerRecord<string, string>[];
    const err = await p.sendBatch(records).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BatchSendError);
    assert.deepEqual(
      err.failures.map((f) => [f.index, (f.error as { code?: string }).code]),
      [
        [1, 'INVALID_RECORD'],
        [2, 'INVALID_TIMESTAMP'],
        [4, 'INVALID_PARTITION'],
      ],
    );
    assert.equal(err.delivered, 3);
    assert.match(err.message, /3 of 6 records were not delivered; the first \(index 1\)/);
    const read = await readTopic(fx.cluster.bootstrapServers, t, { headers: false });
    assert.deepEqual(read.map((r) => r.value?.toString()).sort(), ['ok0', 'ok3', 'ok5']);
  });

  it('a broker refusal fails exactly the records of the refused batch', async () => {
    const t = await topic(1);
    const p = await producer<string, string>({ lingerMs: 0, enableIdempotence: false, acks: 1 });
    await p.send({ topic: t, value: 'warm-up' });
    await fx.cluster.pushRequestErrors(PRODUCE, [ErrorCode.INVALID_RECORD]);
    const err = await p.sendBatch([{ topic: t, value: 'a' }]).catch((e: unknown) => e);
    assert.ok(err instanceof BatchSendError);
    assert.equal(err.failures[0]?.index, 0);
    assert.equal((err.failures[0]?.error as { code?: string } | undefined)?.code, 'INVALID_RECORD');
    assert.deepEqual(await p.sendBatch([{ topic: t, value: 'b' }]), { records: 1 });
    const read = await readTopic(fx.cluster.bootstrapServers, t, { headers: false });
    assert.deepEqual(
      read.map((r) => r.value?.toString()),
      ['warm-up', 'b'],
    );
  });

  it('waits for buffer memory like send() and still delivers everything', async () => {
    const t = await topic(4);
    // 64 KiB of memory for ~400 KB of records: most records wait for memory.
    const p = await producer<string, Buffer>({ bufferMemory: 65_536, batchSize: 16_384, lingerMs: 0 });
    const value = Buffer.alloc(400, 7);
    const records = Array.from({ length: 1000 }, (_, i) => ({ topic: t, key: `k${i}`, value }));
    assert.deepEqual(await p.sendBatch(records), { records: 1000 });
    assert.equal(await total(t, 4), 1000);
  });

  it('settles every record when the producer closes under it', async () => {
    const t = await topic(1);
    const p = await producer<string, string>({ lingerMs: 0 });
    await p.send({ topic: t, value: 'warm-up' });
    const leader = (await p.partitionsFor(t))[0]?.leader ?? 1;
    await fx.cluster.setBrokerRtt(leader, 3_000);
    try {
      const pending = p.sendBatch(Array.from({ length: 500 }, (_, i) => ({ topic: t, value: `v${i}` })));
      const outcome = pending.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await p.close({ timeoutMs: 100 });
      const err = await outcome;
      // Whatever was not delivered within the close timeout is named, record by record.
      assert.ok(err instanceof BatchSendError, String(err));
      assert.equal(err.failures.length + err.delivered, 500);
      assert.ok(err.failures.length > 0);
      // Records already on the wire are reported as maybe written, the others as never sent.
      for (const f of err.failures)
        assert.match(f.error.message, /may have been written|closed before the record was sent/);
      assert.ok(err.failures.some((f) => /may have been written/.test(f.error.message)));
    } finally {
      await fx.cluster.setBrokerRtt(leader, 0);
    }
    assert.equal(
      await p.sendBatch([{ topic: t, value: 'late' }]).catch((e: Error) => e.name),
      'IllegalStateError',
    );
  });

  it('runs interceptors for every record and acknowledgement', async () => {
    const t = await topic(2);
    let sent = 0;
    let acked = 0;
    const counting: Interceptor = {
      onSend: (r) => {
        sent++;
        return { ...r, headers: { via: 'interceptor' } };
      },
      onAcknowledgement: (m, e) => {
        if (m !== undefined && e === undefined) acked++;
      },
    };
    const c = container.createChildContainer();
    c.registerInstance(INTERCEPTOR, counting);
    const p = await producer<string, string>({ lingerMs: 5 }, { container: c });
    await p.sendBatch(Array.from({ length: 50 }, (_, i) => ({ topic: t, value: `v${i}` })));
    assert.equal(sent, 50);
    assert.equal(acked, 50);
    const read = await readTopic(fx.cluster.bootstrapServers, t);
    assert.equal(read.length, 50);
    for (const r of read)
      assert.deepEqual(
        r.headers.map(([k, v]) => [k, v?.toString()]),
        [['via', 'interceptor']],
      );
  });

  it('produceBatches feeds buffered stream input through sendBatch', async () => {
    const t = await topic(3);
    const p = await producer<string, string>({ lingerMs: 5 });
    const n = 20_000;
    const acked = await lastValueFrom(
      from(Array.from({ length: n }, (_, i) => ({ topic: t, key: `k${i % 13}`, value: `v${i}` }))).pipe(
        bufferCount(500),
        produceBatches(p, { concurrency: 8 }),
        reduce((sum, r) => sum + r.records, 0),
      ),
    );
    assert.equal(acked, n);
    assert.equal(await total(t, 3), n);
  });

  it('inside a transaction it commits with the transaction; outside one it is refused', async () => {
    const t = await topic(2);
    const p = await producer<string, string>({ transactionalId: `batch-txn-${leg}` });
    await p.initTransactions();
    await assert.rejects(p.sendBatch([{ topic: t, value: 'outside' }]), { name: 'IllegalStateError' });
    p.beginTransaction();
    const r = p.sendBatch(Array.from({ length: 100 }, (_, i) => ({ topic: t, value: `t${i}` })));
    await p.commitTransaction();
    assert.deepEqual(await r, { records: 100 });
    const read = await readTopic(fx.cluster.bootstrapServers, t, {
      headers: false,
      isolationLevel: 'read_committed',
    });
    assert.equal(read.length, 100);
  });
});
