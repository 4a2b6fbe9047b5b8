import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createProducer,
  isKafkaClientError,
  type KafkaProducer,
  KEY_SERIALIZER,
  type RecordMetadata,
  VALUE_SERIALIZER,
} from '@tributary/core';
import { parseWireFormat, SchemaRegistryClient } from '@tributary/schema-registry';
import { type MockSchemaRegistry, startMockSchemaRegistry } from '@tributary/schema-registry/testing';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import avsc, { type Schema } from 'avsc';
import { container } from 'tsyringe';
import { AvroSerializer } from '../../src/index.js';

// Avro records written by Tributary's producer with AvroSerializer in the
// Confluent wire format, read back by kcat (its own librdkafka) byte for
// byte, and decoded by avsc from those bytes. Schema ids come from an
// in-process Schema Registry. Runs on both librdkafka legs.

const leg = librdkafkaFromEnv();

const schema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'customer', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Item',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'qty', type: 'int' },
          ],
        },
      },
    },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
} as unknown as Schema;

interface Order {
  id: string;
  customer: string;
  quantity: number;
  amount: string;
  placedAt: Date;
  items: { sku: string; qty: number }[];
  note: string | null;
}

function order(i: number): Order {
  return {
    id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    customer: `customer-${i % 7}`,
    quantity: 1 + (i % 4),
    amount: `${i}.${String(i % 100).padStart(2, '0')}`,
    placedAt: new Date(1_700_000_000_000 + i * 1000),
    items: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ sku: `sku-${i}-${j}`, qty: j + 1 })),
    note: i % 2 === 0 ? null : `note ${i} ünïcødé`,
  };
}

/** An independent reader: avsc with the same logical types, from the registered schema text. */
function readerFor(registered: string) {
  const probe = new AvroSerializer(registered, { logicalTypes: true });
  return probe.type;
}

function header(id: number): string {
  return `00${id.toString(16).padStart(8, '0')}`;
}

describe(`Avro through the producer, read back by kcat (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  let registry: MockSchemaRegistry;
  const open: KafkaProducer<unknown, unknown>[] = [];

  async function producerWith(value: AvroSerializer<Order>, key?: AvroSerializer<string>) {
    const c = container.createChildContainer();
    c.register(VALUE_SERIALIZER, { useValue: value });
    if (key !== undefined) c.register(KEY_SERIALIZER, { useValue: key });
    const p = await createProducer<string, Order>(
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
        { name: 'avro-orders', partitions: 3 },
        { name: 'avro-bad-input', partitions: 1 },
        { name: 'avro-registry-down', partitions: 1 },
        { name: 'avro-late-topic', partitions: 1 },
      ],
    });
    registry = await startMockSchemaRegistry();
  });
  after(async () => {
    for (const p of open) await p.close({ timeoutMs: 0 });
    await registry?.stop();
    await cluster?.stop();
  });

  it('writes keys and values in the Confluent wire format, byte-exact, decodable field by field', async () => {
    const sr = client();
    const value = new AvroSerializer<Order>(schema, {
      registry: sr,
      topics: ['avro-orders'],
      logicalTypes: true,
    });
    const key = new AvroSerializer<string>('"string"', {
      registry: sr,
      topics: ['avro-orders'],
      isKey: true,
    });
    const producer = await producerWith(value, key);
    // prepare() ran inside createProducer: both subjects are registered.
    const valueId = registry.subjects().get('avro-orders-value')![0]!;
    const keyId = registry.subjects().get('avro-orders-key')![0]!;
    assert.notEqual(valueId, keyId);

    const N = 300;
    const sent: Promise<RecordMetadata>[] = [];
    for (let i = 0; i < N; i++)
      sent.push(producer.send({ topic: 'avro-orders', key: `k${i}`, value: order(i) }));
    const metas = await Promise.all(sent);

    const records = await readTopic(cluster.bootstrapServers, 'avro-orders', { headers: false });
    assert.equal(records.length, N);
    const reader = readerFor(registry.schema(valueId)!.schema);
    const keyType = avsc.Type.forSchema('string');
    const seen = new Set<number>();
    for (const r of records) {
      // The key: header with the key subject's id, then an Avro string.
      const k = parseWireFormat(r.key!);
      assert.equal(k.schemaId, keyId);
      const i = Number((keyType.fromBuffer(Buffer.from(k.payload)) as string).slice(1));
      seen.add(i);
      assert.equal(metas[i]!.partition, r.partition);
      assert.equal(metas[i]!.offset, r.offset);
      // Byte-exact: what avsc encodes for the value, behind magic byte and id.
      const expected = `${header(valueId)}${value.type.toBuffer(order(i)).toString('hex')}`;
      assert.equal(r.value!.toString('hex'), expected);
      // Decoded from kcat's bytes, field by field.
      const parsed = parseWireFormat(r.value!);
      assert.equal(r.value![0], 0);
      assert.equal(parsed.schemaId, valueId);
      const got = reader.fromBuffer(Buffer.from(parsed.payload)) as Order;
      const want = order(i);
      assert.equal(got.id, want.id);
      assert.equal(got.customer, want.customer);
      assert.equal(got.quantity, want.quantity);
      assert.equal(got.amount, want.amount);
      assert.equal(got.placedAt.getTime(), want.placedAt.getTime());
      assert.deepEqual(
        got.items.map((it) => ({ ...it })),
        want.items,
      );
      assert.equal(got.note, want.note);
    }
    assert.equal(seen.size, N);
  });

  it('fails only the record that does not match its schema: records before and after are unaffected', async () => {
    const value = new AvroSerializer<Order>(schema, {
      registry: client(),
      topics: ['avro-bad-input'],
      logicalTypes: true,
    });
    const producer = await producerWith(value);
    const results = await Promise.allSettled(
      Array.from({ length: 11 }, (_, i) => {
        const v =
          i === 5
            ? {
                ...order(5),
                items: [
                  { sku: 'a', qty: 1 },
                  { sku: 'b', qty: 'two' },
                ],
              }
            : order(i);
        return producer.send({ topic: 'avro-bad-input', value: v as Order });
      }),
    );
    const bad = results[5]!;
    assert.equal(bad.status, 'rejected');
    const err = (bad as PromiseRejectedResult).reason;
    assert.ok(isKafkaClientError(err));
    assert.equal(err.code, 'SERIALIZATION_ERROR');
    assert.match(
      err.message,
      /topic "avro-bad-input".*field items\[1\]\.qty should be int, got the string "two"/,
    );
    assert.ok(results.every((r, i) => i === 5 || r.status === 'fulfilled'));

    const records = await readTopic(cluster.bootstrapServers, 'avro-bad-input', { headers: false });
    const reader = readerFor(JSON.stringify(schema));
    assert.deepEqual(
      records.map((r) => (reader.fromBuffer(Buffer.from(parseWireFormat(r.value!).payload)) as Order).id),
      [0, 1, 2, 3, 4, 6, 7, 8, 9, 10].map((i) => order(i).id),
    );
    assert.deepEqual(
      records.map((r) => r.offset),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it('keeps writing prepared topics when the registry goes down or answers garbage mid-run', async () => {
    const value = new AvroSerializer<Order>(schema, {
      registry: client(),
      topics: ['avro-registry-down'],
      logicalTypes: true,
    });
    const producer = await producerWith(value);
    const id = registry.subjects().get('avro-registry-down-value')![0]!;
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'avro-registry-down', value: order(i) });

    // A registry answering garbage: adding a topic fails clearly; sends go on.
    registry.failNext({ status: 200, body: '<html><body>502 Bad Gateway</body></html>' });
    await assert.rejects(
      value.prepareTopics(['avro-late-topic']),
      (e: unknown) =>
        isKafkaClientError(e) &&
        e.code === 'SERIALIZATION_ERROR' &&
        /not JSON/.test(e.message) &&
        isKafkaClientError(e.cause) &&
        e.cause.code === 'SCHEMA_REGISTRY_BAD_RESPONSE',
    );
    for (let i = 3; i < 6; i++) await producer.send({ topic: 'avro-registry-down', value: order(i) });

    // The registry goes away: the cached id keeps working.
    await registry.stop();
    try {
      for (let i = 6; i < 9; i++) await producer.send({ topic: 'avro-registry-down', value: order(i) });
      await assert.rejects(
        value.prepareTopics(['avro-late-topic']),
        (e: unknown) =>
          isKafkaClientError(e) &&
          isKafkaClientError(e.cause) &&
          e.cause.code === 'SCHEMA_REGISTRY_UNAVAILABLE',
      );
      // A topic never prepared fails with the fix in the message.
      await assert.rejects(
        producer.send({ topic: 'avro-late-topic', value: order(0) }),
        (e: unknown) =>
          isKafkaClientError(e) &&
          e.code === 'SERIALIZATION_ERROR' &&
          /list the topic in the serializer's topics option/.test(e.message),
      );
      for (let i = 9; i < 12; i++) await producer.send({ topic: 'avro-registry-down', value: order(i) });
    } finally {
      await registry.start();
    }
    // Back up: the late topic can be added to the running producer.
    await value.prepareTopics(['avro-late-topic']);
    await producer.send({ topic: 'avro-late-topic', value: order(99) });

    const records = await readTopic(cluster.bootstrapServers, 'avro-registry-down', { headers: false });
    assert.equal(records.length, 12);
    const reader = readerFor(JSON.stringify(schema));
    records.forEach((r, i) => {
      const parsed = parseWireFormat(r.value!);
      assert.equal(parsed.schemaId, id);
      assert.equal((reader.fromBuffer(Buffer.from(parsed.payload)) as Order).id, order(i).id);
    });
    const late = await readTopic(cluster.bootstrapServers, 'avro-late-topic', { headers: false });
    assert.equal(late.length, 1);
    assert.equal(parseWireFormat(late[0]!.value!).schemaId, id);
  });
});
