import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  createProducer,
  isKafkaClientError,
  type KafkaProducer,
  type RecordMetadata,
  VALUE_SERIALIZER,
} from '@tributary/core';
import { parseWireFormat, SchemaRegistryClient } from '@tributary/schema-registry';
import { type MockSchemaRegistry, startMockSchemaRegistry } from '@tributary/schema-registry/testing';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { container } from 'tsyringe';
import { ProtobufSerializer } from '../../src/index.js';
import { OrderSchema, orderInit, RuleSchema, ShipmentSchema } from '../fixtures.js';

// Protobuf records written by Tributary's producer with ProtobufSerializer in
// the Confluent wire format, read back by kcat byte for byte, the header and
// message-index path checked, and the payload decoded by @bufbuild/protobuf.
// Descriptors are built at runtime (test/fixtures.ts). Both librdkafka legs.

const leg = librdkafkaFromEnv();

interface OrderShape {
  id: string;
  customer: string;
  amount: number;
  quantity: number;
  createdAt: bigint;
  tags: string[];
  address?: { street: string; city: string; zip: string };
  items: { sku: string; qty: number; price: number }[];
  labels: Record<string, string>;
  payment: { case: string | undefined; value?: unknown };
}

describe(`Protobuf through the producer, read back by kcat (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  let registry: MockSchemaRegistry;
  const open: KafkaProducer<unknown, unknown>[] = [];

  async function producerWith(value: ProtobufSerializer) {
    const c = container.createChildContainer();
    c.register(VALUE_SERIALIZER, { useValue: value });
    const p = await createProducer<string, unknown>(
      { bootstrapServers: cluster.bootstrapServers, lingerMs: 5 },
      { container: c },
    );
    open.push(p as KafkaProducer<unknown, unknown>);
    return p;
  }

  function client() {
    return new SchemaRegistryClient({ url: registry.url, retries: 1, retryBackoffMs: 5 });
  }

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      topics: [
        { name: 'pb-orders', partitions: 3 },
        { name: 'pb-rules', partitions: 1 },
        { name: 'pb-shipments', partitions: 1 },
        { name: 'pb-bad-input', partitions: 1 },
      ],
    });
    registry = await startMockSchemaRegistry();
  });
  after(async () => {
    for (const p of open) await p.close({ timeoutMs: 0 });
    await registry?.stop();
    await cluster?.stop();
  });

  it('writes messages and init objects byte-exact, with header and index path [0]', async () => {
    const value = new ProtobufSerializer(OrderSchema, { registry: client(), topics: ['pb-orders'] });
    const producer = await producerWith(value);
    const id = registry.subjects().get('pb-orders-value')![0]!;
    const N = 300;
    const inits = Array.from({ length: N }, (_, i) => ({
      ...orderInit(i),
      labels: { n: String(i) },
      payment: i % 2 === 0 ? { case: 'card', value: `card-${i}` } : { case: undefined },
    }));
    const sent: Promise<RecordMetadata>[] = [];
    for (let i = 0; i < N; i++) {
      // Half as messages, half as plain init objects.
      const v = i % 2 === 0 ? create(OrderSchema, inits[i]) : inits[i];
      sent.push(producer.send({ topic: 'pb-orders', key: `k${i}`, value: v }));
    }
    const metas = await Promise.all(sent);

    const records = await readTopic(cluster.bootstrapServers, 'pb-orders', { headers: false });
    assert.equal(records.length, N);
    for (const r of records) {
      const i = Number(r.key!.toString().slice(1));
      assert.equal(metas[i]!.partition, r.partition);
      assert.equal(metas[i]!.offset, r.offset);
      const bytes = r.value!;
      // Header: magic byte, id big-endian, then the single 0x00 for the path [0].
      assert.equal(bytes[0], 0x00);
      assert.equal(bytes.readInt32BE(1), id);
      assert.equal(bytes[5], 0x00);
      const expected = Buffer.concat([
        bytes.subarray(0, 6),
        toBinary(OrderSchema, create(OrderSchema, inits[i])),
      ]);
      assert.equal(bytes.toString('hex'), expected.toString('hex'));
      const parsed = parseWireFormat(bytes, { messageIndexes: true });
      assert.deepEqual(parsed.messageIndexes, [0]);
      const got = fromBinary(OrderSchema, parsed.payload) as unknown as OrderShape;
      const want = inits[i] as unknown as OrderShape;
      assert.equal(got.id, want.id);
      assert.equal(got.customer, want.customer);
      assert.equal(got.amount, want.amount);
      assert.equal(got.quantity, want.quantity);
      assert.equal(got.createdAt, want.createdAt);
      assert.deepEqual(got.tags, want.tags);
      assert.deepEqual({ ...got.address }, { $typeName: 'shop.Order.Address', ...want.address });
      assert.deepEqual(
        got.items.map((it) => [it.sku, it.qty, it.price]),
        want.items.map((it) => [it.sku, it.qty, it.price]),
      );
      assert.deepEqual(got.labels, { n: String(i) });
      assert.deepEqual(got.payment, want.payment);
    }
  });

  it('writes nested and non-first message types with their index paths', async () => {
    const sr = client();
    const rules = await producerWith(
      new ProtobufSerializer(RuleSchema, { registry: sr, topics: ['pb-rules'] }),
    );
    const shipments = await producerWith(
      new ProtobufSerializer(ShipmentSchema, { registry: sr, topics: ['pb-shipments'] }),
    );
    for (let i = 0; i < 5; i++) {
      await rules.send({ topic: 'pb-rules', value: { percent: i * 10 } });
      await shipments.send({ topic: 'pb-shipments', value: create(ShipmentSchema, { orderId: `o-${i}` }) });
    }
    const ruleId = registry.subjects().get('pb-rules-value')![0]!;
    const shipmentId = registry.subjects().get('pb-shipments-value')![0]!;
    const ruleRecords = await readTopic(cluster.bootstrapServers, 'pb-rules', { headers: false });
    ruleRecords.forEach((r, i) => {
      // Discount.Rule is [0, 2, 0]: count 3 and the indexes, zig-zag: 06 00 04 00.
      assert.equal(
        r.value!.subarray(0, 9).toString('hex'),
        `00${ruleId.toString(16).padStart(8, '0')}06000400`,
      );
      const parsed = parseWireFormat(r.value!, { messageIndexes: true });
      assert.deepEqual(parsed.messageIndexes, [0, 2, 0]);
      assert.equal(
        (fromBinary(RuleSchema, parsed.payload) as unknown as { percent: number }).percent,
        i * 10,
      );
    });
    const shipmentRecords = await readTopic(cluster.bootstrapServers, 'pb-shipments', { headers: false });
    shipmentRecords.forEach((r, i) => {
      // Shipment is [1]: 02 02.
      assert.equal(
        r.value!.subarray(0, 7).toString('hex'),
        `00${shipmentId.toString(16).padStart(8, '0')}0202`,
      );
      const parsed = parseWireFormat(r.value!, { messageIndexes: true });
      assert.deepEqual(parsed.messageIndexes, [1]);
      assert.equal(
        (fromBinary(ShipmentSchema, parsed.payload) as unknown as { orderId: string }).orderId,
        `o-${i}`,
      );
    });
    assert.equal(ruleRecords.length + shipmentRecords.length, 10);
  });

  it('fails only the init object with a wrong field type: records before and after are unaffected', async () => {
    const producer = await producerWith(
      new ProtobufSerializer(OrderSchema, { registry: client(), topics: ['pb-bad-input'] }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 9 }, (_, i) =>
        producer.send({
          topic: 'pb-bad-input',
          value: i === 4 ? { ...orderInit(4), quantity: '4' } : orderInit(i),
        }),
      ),
    );
    const bad = results[4]!;
    assert.equal(bad.status, 'rejected');
    const err = (bad as PromiseRejectedResult).reason;
    assert.ok(isKafkaClientError(err));
    assert.equal(err.code, 'SERIALIZATION_ERROR');
    assert.match(err.message, /field quantity should be int32, got the string "4"/);
    assert.ok(results.every((r, i) => i === 4 || r.status === 'fulfilled'));
    const records = await readTopic(cluster.bootstrapServers, 'pb-bad-input', { headers: false });
    assert.deepEqual(
      records.map(
        (r) =>
          (
            fromBinary(
              OrderSchema,
              parseWireFormat(r.value!, { messageIndexes: true }).payload,
            ) as unknown as OrderShape
          ).id,
      ),
      [0, 1, 2, 3, 5, 6, 7, 8].map((i) => `order-${i}`),
    );
  });
});
