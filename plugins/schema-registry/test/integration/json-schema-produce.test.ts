import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createProducer, isKafkaClientError, type KafkaProducer, VALUE_SERIALIZER } from '@tributary/core';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { container } from 'tsyringe';
import { JsonSchemaSerializer, parseWireFormat, SchemaRegistryClient } from '../../src/index.js';
import { type MockSchemaRegistry, startMockSchemaRegistry } from '../../src/testing/index.js';

// JSON Schema records through the producer, read back by kcat: the Confluent
// header, then the UTF-8 JSON. Both librdkafka legs.

const leg = librdkafkaFromEnv();
const schema = {
  title: 'shop.Order',
  type: 'object',
  properties: { id: { type: 'integer' } },
  required: ['id'],
};

describe(`JSON Schema through the producer, read back by kcat (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  let registry: MockSchemaRegistry;
  let producer: KafkaProducer<unknown, unknown> | undefined;

  before(async () => {
    cluster = await startCluster({ brokers: 1, topics: [{ name: 'json-orders', partitions: 1 }] });
    registry = await startMockSchemaRegistry();
  });
  after(async () => {
    await producer?.close({ timeoutMs: 0 });
    await registry?.stop();
    await cluster?.stop();
  });

  it('frames JSON values with the schema id; an invalid value fails alone', async () => {
    const validate = Object.assign((d: unknown) => Number.isInteger((d as { id?: unknown }).id), {
      errors: [{ instancePath: '/id', message: 'must be integer' }],
    });
    const value = new JsonSchemaSerializer(schema, {
      registry: new SchemaRegistryClient({ url: registry.url }),
      topics: ['json-orders'],
      validate,
    });
    const c = container.createChildContainer();
    c.register(VALUE_SERIALIZER, { useValue: value });
    producer = await createProducer({ bootstrapServers: cluster.bootstrapServers }, { container: c });
    const id = registry.subjects().get('json-orders-value')![0]!;
    const results = await Promise.allSettled(
      [1, 2, 'three', 4].map((n) => producer!.send({ topic: 'json-orders', value: { id: n, name: 'ü' } })),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    const err = (results[2] as PromiseRejectedResult).reason;
    assert.ok(
      isKafkaClientError(err) &&
        err.code === 'SERIALIZATION_ERROR' &&
        /at \/id: must be integer/.test(err.message),
    );
    const records = await readTopic(cluster.bootstrapServers, 'json-orders', { headers: false });
    assert.deepEqual(
      records.map((r) => {
        const parsed = parseWireFormat(r.value!);
        assert.equal(parsed.schemaId, id);
        return JSON.parse(Buffer.from(parsed.payload).toString('utf8'));
      }),
      [1, 2, 4].map((n) => ({ id: n, name: 'ü' })),
    );
  });
});
