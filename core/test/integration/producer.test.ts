import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { from, lastValueFrom, toArray } from 'rxjs';
import { container } from 'tsyringe';
import { ConfigError, isKafkaClientError } from '../../src/errors.js';
import {
  CLOCK,
  createProducer,
  INTERCEPTOR,
  type Interceptor,
  type KafkaProducer,
  PARTITIONER,
  type Partitioner,
  type ProducerConfigInput,
  type ProducerRecord,
  partitionForKey,
  produceFrom,
  type RecordMetadata,
  VALUE_SERIALIZER,
} from '../../src/index.js';

// The producer end to end, against librdkafka's mock cluster (both legs),
// every result read back by kcat. The transport is the Node adapter, picked
// by createProducer for this runtime.

const leg = librdkafkaFromEnv();
const PRODUCE = 0;

describe(`producer end to end (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  const open: KafkaProducer<unknown, unknown>[] = [];
  let seq = 0;

  async function producer<K = unknown, V = unknown>(
    overrides: Partial<ProducerConfigInput> = {},
    options: Parameters<typeof createProducer>[1] = {},
  ): Promise<KafkaProducer<K, V>> {
    const p = await createProducer<K, V>(
      { bootstrapServers: cluster.bootstrapServers, ...overrides },
      options,
    );
    open.push(p as KafkaProducer<unknown, unknown>);
    return p;
  }

  async function topic(partitions: number): Promise<string> {
    const name = `t${++seq}`;
    await cluster.createTopic(name, partitions, 1);
    return name;
  }

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });
  after(async () => {
    for (const p of open) await p.close({ timeoutMs: 0 });
    await cluster?.stop();
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`round-trips keys, values, headers and timestamps byte-exact (${codec})`, async () => {
      const t = await topic(3);
      const p = await producer({ compressionType: codec, lingerMs: 20 });
      const records: ProducerRecord<unknown, unknown>[] = [];
      for (let i = 0; i < 300; i++) {
        records.push({
          topic: t,
          key: i % 7 === 0 ? null : Buffer.from([i & 0xff, 0x00, 0xff, 0x80]),
          value:
            i % 11 === 0 ? null : Buffer.concat([Buffer.from(`v${i}-`), Buffer.from([0xc3, 0x28, 0x00])]),
          timestamp: 1_700_000_000_000 + i,
          headers:
            i % 3 === 0
              ? [
                  ['h', Buffer.from([0, i & 0xff])],
                  ['s', 'ünï'],
                  ['n', null],
                ]
              : undefined,
        });
      }
      const acks = await Promise.all(records.map((r) => p.send(r)));
      const back = await readTopic(cluster.bootstrapServers, t);
      assert.equal(back.length, records.length);
      const byPosition = new Map(back.map((r) => [`${r.partition}:${r.offset}`, r]));
      acks.forEach((m, i) => {
        const sent = records[i]!;
        const got = byPosition.get(`${m.partition}:${m.offset}`);
        assert.ok(got, `record ${i} at ${m.partition}:${m.offset}`);
        assert.deepEqual(got.key, sent.key ?? null);
        assert.deepEqual(got.value, sent.value);
        assert.equal(got.timestamp, sent.timestamp);
        const wantHeaders = (sent.headers as Array<[string, unknown]> | undefined)?.map(([k, v]) => [
          k,
          v === null ? null : Buffer.from(v as string),
        ]);
        assert.deepEqual(got.headers, wantHeaders ?? []);
        if (sent.key !== null)
          assert.equal(m.partition, partitionForKey(sent.key as Buffer, 3), 'keyed records go by murmur2');
      });
    });
  }

  it('keeps per-partition order for 100,000 records with one request in flight', async () => {
    const t = await topic(4);
    const p = await producer({ maxInFlightRequestsPerConnection: 1, lingerMs: 2 });
    const sends: Promise<RecordMetadata>[] = [];
    for (let i = 0; i < 100_000; i++) sends.push(p.send({ topic: t, key: `k${i % 64}`, value: String(i) }));
    await Promise.all(sends);
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false });
    assert.equal(back.length, 100_000);
    const last = new Map<string, number>();
    for (const r of back) {
      const k = r.key!.toString();
      const v = Number(r.value!.toString());
      assert.ok((last.get(k) ?? -1) < v, `key ${k}: ${v} after ${last.get(k)}`);
      last.set(k, v);
    }
  });

  it('survives injected errors and a moved leader: every record acknowledged, none lost', async () => {
    const t = await topic(6);
    const p = await producer({ retryBackoffMs: 20, retryBackoffMaxMs: 100, lingerMs: 5 });
    await p.partitionsFor(t);
    // NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS, then normal answers.
    await cluster.pushRequestErrors(PRODUCE, [6, 7, 19, 6, 19, 7]);
    const sends: Promise<RecordMetadata>[] = [];
    for (let i = 0; i < 3000; i++) {
      sends.push(p.send({ topic: t, value: `r${i}` }));
      if (i === 1500)
        await cluster.setPartitionLeader(t, 0, (((await p.partitionsFor(t))[0]?.leader ?? 1) % 3) + 1);
    }
    const acks = await Promise.all(sends);
    assert.equal(acks.length, 3000);
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false });
    const values = new Set(back.map((r) => r.value!.toString()));
    for (let i = 0; i < 3000; i++) assert.ok(values.has(`r${i}`), `r${i} is in the topic`);
  });

  it('rides out a broker down for 2 s', async () => {
    const t = await topic(3);
    const p = await producer({ retryBackoffMs: 50, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 200 });
    const parts = await p.partitionsFor(t);
    const victim = parts[0]!.leader;
    await cluster.setBrokerDown(victim);
    const sends = Array.from({ length: 600 }, (_, i) =>
      p.send({ topic: t, partition: i % 3, value: `d${i}` }),
    );
    setTimeout(() => void cluster.setBrokerUp(victim), 2000);
    const acks = await Promise.all(sends);
    assert.equal(acks.length, 600);
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false });
    const values = new Set(back.map((r) => r.value!.toString()));
    for (let i = 0; i < 600; i++) assert.ok(values.has(`d${i}`));
  });

  it('fails only the records of a broker down past deliveryTimeoutMs, with the expiry message', async () => {
    const t = await topic(3);
    const p = await producer({
      deliveryTimeoutMs: 1500,
      requestTimeoutMs: 1000,
      lingerMs: 5,
      reconnectBackoffMaxMs: 200,
    });
    const parts = await p.partitionsFor(t);
    const victim = parts[1]!.leader;
    const onVictim = parts.filter((x) => x.leader === victim).map((x) => x.partition);
    await cluster.setBrokerDown(victim);
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => p.send({ topic: t, partition: i % 3, value: `x${i}` })),
    );
    await cluster.setBrokerUp(victim);
    results.forEach((r, i) => {
      if (onVictim.includes(i % 3)) {
        assert.equal(r.status, 'rejected', `record ${i} on the dead leader`);
        const err = (r as PromiseRejectedResult).reason as Error;
        assert.ok(isKafkaClientError(err));
        assert.equal(err.code, 'DELIVERY_TIMEOUT');
        assert.match(
          err.message,
          /^Expiring \d+ record\(s\) for t\d+-\d: \d+ ms has passed since batch creation$/,
        );
      } else {
        assert.equal(r.status, 'fulfilled', `record ${i} on a live leader`);
      }
    });
  });

  it('waits for buffer memory, then fails with BufferExhaustedError after maxBlockMs', async () => {
    const t = await topic(1);
    const p = await producer({ bufferMemory: 32 * 1024, batchSize: 16 * 1024, maxBlockMs: 400, lingerMs: 0 });
    const leader = (await p.partitionsFor(t))[0]!.leader;
    await cluster.setBrokerRtt(leader, 1500);
    const value = Buffer.alloc(1000);
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => p.send({ topic: t, value })));
    await cluster.setBrokerRtt(leader, 0);
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.ok(rejected.length > 0, 'some sends could not get memory');
    for (const r of rejected) {
      assert.equal((r.reason as { code?: string }).code, 'BUFFER_EXHAUSTED', String(r.reason));
    }
    const m = p.metrics();
    assert.ok(m.bufferAvailableBytes >= 0 && m.bufferAvailableBytes <= 32 * 1024);
    assert.ok(
      results.some((r) => r.status === 'fulfilled'),
      'the records that got memory were delivered',
    );
  });

  it('shares scarce memory: 20,000 records through a 64 KiB pool, in order, waiters bounded by partitions', async () => {
    const t = await topic(2);
    const p = await producer({ bufferMemory: 64 * 1024, batchSize: 16 * 1024, lingerMs: 0 });
    await p.partitionsFor(t);
    let maxPoolWaiters = 0;
    const sends = Array.from({ length: 20_000 }, (_, i) => {
      const s = p.send({ topic: t, partition: i % 2, value: `m${i}`.padEnd(200, '.') });
      maxPoolWaiters = Math.max(maxPoolWaiters, p.metrics().bufferPoolWaiters);
      return s;
    });
    await Promise.all(sends);
    assert.ok(maxPoolWaiters <= 2, `${maxPoolWaiters} pool waiters for 2 partitions`);
    const back = await readTopic(cluster.bootstrapServers, t, { headers: false });
    assert.equal(back.length, 20_000);
    for (const part of [0, 1]) {
      const seqs = back
        .filter((r) => r.partition === part)
        .map((r) => Number(r.value!.toString().slice(1, r.value!.indexOf(46))));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `partition ${part} in send order`,
      );
    }
  });

  for (const enableIdempotence of [true, false]) {
    it(`splits a batch the broker refuses as MESSAGE_TOO_LARGE and delivers every record once, in order (idempotence ${enableIdempotence ? 'on' : 'off'})`, async () => {
      const t = await topic(1);
      const p = await producer({ enableIdempotence, lingerMs: 50, batchSize: 64 * 1024 });
      await p.partitionsFor(t);
      const drained: number[] = [];
      const watch = p.batchesDrained$.subscribe((b) => drained.push(b.recordCount));
      await cluster.pushRequestErrors(PRODUCE, [10]); // MESSAGE_TOO_LARGE for the first request
      const metas = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          p.send({ topic: t, partition: 0, value: `s${i}`.padEnd(200, '.') }),
        ),
      );
      watch.unsubscribe();
      // The refused batch of 300, then its pieces: each smaller, together the same records.
      assert.equal(drained[0], 300);
      assert.ok(
        drained.length >= 3 && drained.slice(1).every((n) => n < 300),
        `drained ${drained.join(', ')}`,
      );
      assert.equal(
        drained.slice(1).reduce((a, b) => a + b, 0),
        300,
      );
      assert.equal(new Set(metas.map((m) => m.offset)).size, 300);
      const back = await readTopic(cluster.bootstrapServers, t, { headers: false });
      assert.deepEqual(
        back.map((r) => r.value!.toString().replace(/\.+$/, '')),
        Array.from({ length: 300 }, (_, i) => `s${i}`),
      );
    });
  }

  it('rejects bad input with typed errors and keeps going', async () => {
    const t = await topic(2);
    const p = await producer({ maxRequestSize: 10_000, maxBlockMs: 600, allowAutoCreateTopics: false });
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
    assert.equal(await codeOf(p.send({ topic: t, value: Buffer.alloc(20_000) })), 'RECORD_TOO_LARGE');
    assert.equal(
      await codeOf(p.send({ topic: t, value: 'x', headers: { big: 'h'.repeat(20_000) } })),
      'RECORD_TOO_LARGE',
    );
    assert.equal(await codeOf(p.send({ topic: 'bad topic', value: 'x' })), 'INVALID_TOPIC_EXCEPTION');
    assert.equal(await codeOf(p.send({ topic: t, value: { not: 'bytes' } })), 'SERIALIZATION_ERROR');
    assert.equal(await codeOf(p.send({ topic: t, partition: 7, value: 'x' })), 'INVALID_PARTITION');
    assert.equal(await codeOf(p.send({ topic: t, value: 'x', timestamp: -5 })), 'INVALID_TIMESTAMP');
    await cluster.setTopicError('never-created', 3);
    assert.equal(await codeOf(p.send({ topic: 'never-created', value: 'x' })), 'TIMEOUT');
    // The callback form hears of failures and successes too.
    const heard = await new Promise<string>((resolve) =>
      p
        .send({ topic: t, value: Buffer.alloc(20_000) }, (err, meta) =>
          resolve(err ? `error ${(err as { code?: string }).code}` : `ok ${meta?.offset}`),
        )
        .catch(() => {}),
    );
    assert.equal(heard, 'error RECORD_TOO_LARGE');
    // A tombstone (null value) is a valid record.
    const tomb = await p.send({ topic: t, key: 'k', value: null });
    const ok = await p.send({ topic: t, key: 'k2', value: 'after the errors' });
    const back = await readTopic(cluster.bootstrapServers, t);
    assert.ok(
      back.some((r) => r.partition === tomb.partition && r.offset === tomb.offset && r.value === null),
    );
    assert.ok(back.some((r) => r.partition === ok.partition && r.value?.toString() === 'after the errors'));
    await p.close();
    assert.equal(await codeOf(p.send({ topic: t, value: 'late' })), 'ILLEGAL_STATE');
  });

  it('flushes, and on close fails what could not be sent; no promise is left unsettled', async () => {
    const t = await topic(2);
    const p = await producer({ lingerMs: 60_000, requestTimeoutMs: 500, deliveryTimeoutMs: 60_500 });
    const first = Array.from({ length: 50 }, (_, i) => p.send({ topic: t, value: `f${i}` }));
    await p.flush();
    let settled = 0;
    for (const s of first) s.then(() => settled++);
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, 50, 'flush resolved after every earlier record was acknowledged');

    const parts = await p.partitionsFor(t);
    for (const part of parts) await cluster.setBrokerDown(part.leader);
    // Observed before close() rejects them, so no rejection is ever unhandled.
    const stuck = Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => p.send({ topic: t, value: `s${i}` })),
    );
    await p.close({ timeoutMs: 300 });
    const outcome = await stuck;
    for (const b of cluster.brokers) await cluster.setBrokerUp(b.id);
    for (const o of outcome) {
      assert.equal(o.status, 'rejected');
      assert.equal(((o as PromiseRejectedResult).reason as { code?: string }).code, 'ILLEGAL_STATE');
    }
  });

  it('streams records in, batches drained and responses out, and completes them on close', async () => {
    const t = await topic(2);
    const p = await producer({ lingerMs: 10 });
    const records = lastValueFrom(p.records$.pipe(toArray()));
    const batches = lastValueFrom(p.batchesDrained$.pipe(toArray()));
    const responses = lastValueFrom(p.responses$.pipe(toArray()));
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => p.send({ topic: t, partition: i % 2, value: `s${i}` })),
    );
    await p.close();
    const [r, b, s] = await Promise.all([records, batches, responses]);
    assert.equal(r.length, 40);
    assert.deepEqual(new Set(r.map((x) => x.partition)), new Set([0, 1]));
    assert.equal(
      b.reduce((n, x) => n + x.recordCount, 0),
      40,
    );
    assert.ok(b.every((x) => x.topic === t && x.bytes > 61 && x.compression === 'none'));
    const parts = s.flatMap((x) => x.partitions);
    assert.equal(parts.length, b.length);
    assert.ok(parts.every((x) => x.errorCode === 0 && x.topic === t));
    assert.ok(s.every((x) => x.latencyMs >= 0));
  });

  it('takes records from an Observable with bounded concurrency', async () => {
    const t = await topic(1);
    const p = await producer();
    const metas = await lastValueFrom(
      from(Array.from({ length: 500 }, (_, i) => ({ topic: t, value: `o${i}` }))).pipe(
        produceFrom(p, { concurrency: 50 }),
        toArray(),
      ),
    );
    assert.equal(metas.length, 500);
    assert.equal((await readTopic(cluster.bootstrapServers, t, { headers: false })).length, 500);
  });

  it('uses the partitioner, interceptor and serializer registered in the container', async () => {
    const t = await topic(4);
    class LastPartition implements Partitioner {
      partition(
        _t: string,
        _k: unknown,
        _kb: Uint8Array | null,
        _v: unknown,
        _vb: Uint8Array | null,
        cluster: import('../../src/index.js').ClusterView,
      ) {
        return cluster.partitionCount(t) - 1;
      }
    }
    const seen: string[] = [];
    const tagging: Interceptor = {
      onSend: (r) => ({ ...r, headers: [['via', 'interceptor']] }),
      onAcknowledgement: (m, e) => seen.push(m ? `ack ${m.partition}` : `error ${e?.message}`),
    };
    const upper = { serialize: (_t: string, v: unknown) => Buffer.from(String(v).toUpperCase()) };
    const c = container.createChildContainer();
    c.register(PARTITIONER, { useValue: new LastPartition() });
    c.register(INTERCEPTOR, { useValue: tagging });
    c.register(VALUE_SERIALIZER, { useValue: upper });
    const p = await producer({}, { container: c });
    await Promise.all(['a', 'b', 'c'].map((v) => p.send({ topic: t, value: v })));
    const back = await readTopic(cluster.bootstrapServers, t);
    assert.deepEqual(
      back.map((r) => [r.partition, r.value?.toString(), r.headers[0]?.[0]]),
      [
        [3, 'A', 'via'],
        [3, 'B', 'via'],
        [3, 'C', 'via'],
      ],
    );
    assert.deepEqual(seen, ['ack 3', 'ack 3', 'ack 3']);
  });

  it('reads the time from the CLOCK registered in the container', async () => {
    const t = await topic(1);
    const DAY = 86_400_000;
    const c = container.createChildContainer();
    // A day behind, and advancing: linger and deadlines still work on it.
    c.register(CLOCK, { useValue: { now: () => Date.now() - DAY } });
    const p = await producer({}, { container: c });
    const before = Date.now() - DAY;
    const meta = await p.send({ topic: t, value: 'then' });
    const after = Date.now() - DAY;
    const [back] = await readTopic(cluster.bootstrapServers, t);
    assert.ok(
      back && back.timestamp >= before && back.timestamp <= after,
      `stored timestamp ${back?.timestamp}`,
    );
    assert.equal(meta.offset, 0);
  });

  it('refuses invalid configuration, naming the key', async () => {
    await assert.rejects(
      createProducer({
        bootstrapServers: 'a:1',
        lingerMs: 10,
        requestTimeoutMs: 30_000,
        deliveryTimeoutMs: 1000,
      }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.key, 'deliveryTimeoutMs');
        return true;
      },
    );
    await assert.rejects(
      createProducer({ bootstrapServers: 'a:1', ['linger.ms' as 'lingerMs']: 5 }),
      /did you mean lingerMs/,
    );
    await assert.rejects(
      createProducer({ bootstrapServers: 'a:1', batchSize: -1 }),
      /^ConfigError|batchSize: must be at least 0/,
    );
  });
});
