import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ClusterView,
  createProducer,
  JsonSerializer,
  PARTITIONER,
  type Partitioner,
  partitionForKey,
  VALUE_SERIALIZER,
} from '@tributary/core';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { container } from 'tsyringe';
import { FieldPartitioner } from '../../src/index.js';

// Partitioners registered through the container decide where records land,
// as kcat reads them back. The first is the guide's example in docs/producer.md,
// verbatim: if you change one, change the other.

/** Every record of a tenant goes to the tenant's partition; others are left to the default (-1). */
class TenantPartitioner implements Partitioner {
  partition(
    topic: string,
    key: unknown,
    _kb: Uint8Array | null,
    _v: unknown,
    _vb: Uint8Array | null,
    cluster: ClusterView,
  ): number {
    if (typeof key !== 'string' || !key.startsWith('tenant-')) return -1;
    return Number(key.slice(7)) % cluster.partitionCount(topic);
  }
}

describe(`custom partitioners end to end (librdkafka ${librdkafkaFromEnv()})`, () => {
  let cluster: MockCluster;
  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      topics: [
        { name: 'tenants', partitions: 5 },
        { name: 'orders', partitions: 7 },
      ],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it("the guide's TenantPartitioner decides the partitions kcat reads back", async () => {
    const c = container.createChildContainer();
    c.register(PARTITIONER, { useValue: new TenantPartitioner() });
    const producer = await createProducer({ bootstrapServers: cluster.bootstrapServers }, { container: c });
    await Promise.all(
      [3, 8, 11, 4].map((n) => producer.send({ topic: 'tenants', key: `tenant-${n}`, value: `for ${n}` })),
    );
    await producer.close();
    const back = await readTopic(cluster.bootstrapServers, 'tenants', { headers: false });
    assert.equal(back.length, 4);
    for (const r of back)
      assert.equal(r.partition, Number(r.key!.toString().slice(7)) % 5, r.key!.toString());
  });

  it('FieldPartitioner places JSON records by a field of the value', async () => {
    const c = container.createChildContainer();
    c.register(PARTITIONER, {
      useValue: new FieldPartitioner((_k, v) => (v as { customer: string }).customer),
    });
    c.register(VALUE_SERIALIZER, { useValue: new JsonSerializer() });
    const producer = await createProducer<string, { customer: string; n: number }>(
      { bootstrapServers: cluster.bootstrapServers },
      { container: c },
    );
    const orders = Array.from({ length: 40 }, (_, n) => ({ customer: `c${n % 6}`, n }));
    await Promise.all(orders.map((o) => producer.send({ topic: 'orders', key: `order-${o.n}`, value: o })));
    await producer.close();
    const back = await readTopic(cluster.bootstrapServers, 'orders', { headers: false });
    assert.equal(back.length, 40);
    for (const r of back) {
      const order = JSON.parse(r.value!.toString()) as { customer: string };
      assert.equal(r.partition, partitionForKey(Buffer.from(order.customer), 7), order.customer);
    }
  });
});
