import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigError, isKafkaClientError, SerializationError } from '@tributary/core';
import {
  JsonSchemaSerializer,
  type JsonSchemaValidator,
  parseWireFormat,
  recordNameStrategy,
  SchemaRegistryClient,
  topicRecordNameStrategy,
} from '../src/index.js';
import { type MockSchemaRegistry, startMockSchemaRegistry } from '../src/testing/index.js';

const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'shop.Order',
  type: 'object',
  properties: { id: { type: 'string' }, qty: { type: 'integer' } },
  required: ['id'],
};
const text = (b: Uint8Array | null) => Buffer.from(b!).toString('utf8');

/** A stand-in for an Ajv compiled schema: false plus `errors` on invalid input. */
const validate: JsonSchemaValidator = Object.assign(
  (data: unknown) => {
    const d = data as Record<string, unknown>;
    if (typeof d?.['id'] !== 'string') {
      validate.errors = [{ instancePath: '/id', message: 'must be string' }];
      return false;
    }
    if (d['qty'] !== undefined && !Number.isInteger(d['qty'])) {
      validate.errors = [{ instancePath: '/qty', message: 'must be integer' }];
      return false;
    }
    validate.errors = null;
    return true;
  },
  { errors: null },
);

function serializationError(message: RegExp) {
  return (err: unknown) => err instanceof SerializationError && message.test(err.message);
}

describe('JsonSchemaSerializer and the schema-id resolution it shares with Avro and Protobuf', () => {
  let registry: MockSchemaRegistry;
  let client: SchemaRegistryClient;
  before(async () => {
    registry = await startMockSchemaRegistry();
  });
  after(async () => {
    await registry.stop();
  });
  beforeEach(() => {
    client = new SchemaRegistryClient({ url: registry.url, retries: 1, retryBackoffMs: 1 });
    registry.requests.length = 0;
  });

  it('writes bare UTF-8 JSON without a registry, and null as a tombstone', () => {
    const s = new JsonSchemaSerializer(schema);
    assert.equal(text(s.serialize('t', { id: 'a', qty: 1 }, [])), '{"id":"a","qty":1}');
    assert.equal(s.serialize('t', null, []), null);
  });

  it('frames every record with useSchemaId and no registry', () => {
    const s = new JsonSchemaSerializer(schema, { useSchemaId: 9 });
    const out = s.serialize('any', { id: 'ü' }, [])!;
    assert.equal(Buffer.from(out).toString('hex'), `0000000009${Buffer.from('{"id":"ü"}').toString('hex')}`);
  });

  it('registers <topic>-value for the listed topics in prepare(), then frames synchronously', async () => {
    const s = new JsonSchemaSerializer(schema, { registry: client, topics: ['orders', 'returns'] });
    await s.prepare();
    const subjects = registry.subjects();
    const id = subjects.get('orders-value')![0]!;
    assert.deepEqual(subjects.get('returns-value'), [id]);
    assert.deepEqual(registry.schema(id), { schema: JSON.stringify(schema), schemaType: 'JSON' });
    const requests = registry.requests.length;
    const parsed = parseWireFormat(s.serialize('orders', { id: 'x' }, [])!);
    assert.equal(parsed.schemaId, id);
    assert.equal(Buffer.from(parsed.payload).toString(), '{"id":"x"}');
    assert.equal(registry.requests.length, requests, 'no I/O on the send path');
  });

  it('fails a record for a topic that was not prepared, saying how to fix it', async () => {
    const s = new JsonSchemaSerializer(schema, { registry: client, topics: ['orders'] });
    await s.prepare();
    assert.throws(
      () => s.serialize('unlisted', { id: 'x' }, []),
      serializationError(
        /no schema id for topic "unlisted" \(subject "unlisted-value"\).*topics option.*prepareTopics\(\["unlisted"\]\)/,
      ),
    );
    await s.prepareTopics(['unlisted']);
    assert.ok(s.serialize('unlisted', { id: 'x' }, []));
  });

  it('uses -key subjects with isKey', async () => {
    const s = new JsonSchemaSerializer(schema, { registry: client, topics: ['k'], isKey: true });
    await s.prepare();
    assert.ok(registry.subjects().has('k-key'));
  });

  it('RecordNameStrategy resolves once, for every topic, from the title', async () => {
    const s = new JsonSchemaSerializer(schema, { registry: client, subjectNameStrategy: recordNameStrategy });
    assert.throws(
      () => s.serialize('any-topic', { id: 'a' }, []),
      serializationError(/prepare\(\) did not run/),
    );
    await s.prepare();
    const id = registry.subjects().get('shop.Order')![0]!;
    assert.equal(parseWireFormat(s.serialize('any-topic', { id: 'a' }, [])!).schemaId, id);
    assert.equal(parseWireFormat(s.serialize('another', { id: 'b' }, [])!).schemaId, id);
  });

  it('TopicRecordNameStrategy uses <topic>-<title>', async () => {
    const s = new JsonSchemaSerializer(schema, {
      registry: client,
      topics: ['trn'],
      subjectNameStrategy: topicRecordNameStrategy,
    });
    await s.prepare();
    assert.ok(registry.subjects().has('trn-shop.Order'));
  });

  it('looks the schema up instead with autoRegisterSchemas: false, and says what to do when it is absent', async () => {
    const s = new JsonSchemaSerializer(schema, {
      registry: client,
      topics: ['lk'],
      autoRegisterSchemas: false,
    });
    await assert.rejects(
      s.prepare(),
      (err: unknown) =>
        err instanceof SerializationError &&
        /topic "lk", subject "lk-value" while looking the schema up/.test(err.message) &&
        /autoRegisterSchemas: true/.test(err.message) &&
        isKafkaClientError(err.cause) &&
        err.cause.code === 'SUBJECT_NOT_FOUND',
    );
    const { id } = registry.register('lk-value', { schema: JSON.stringify(schema), schemaType: 'JSON' });
    await s.prepare();
    assert.equal(parseWireFormat(s.serialize('lk', { id: 'x' }, [])!).schemaId, id);
    assert.equal(registry.requests.at(-1)!.path, '/subjects/lk-value');
  });

  it('writes with the latest version with useLatestVersion', async () => {
    registry.register('latest-value', { schema: '{"title":"v1"}', schemaType: 'JSON' });
    const v2 = registry.register('latest-value', { schema: '{"title":"v2"}', schemaType: 'JSON' });
    const s = new JsonSchemaSerializer(schema, {
      registry: client,
      topics: ['latest'],
      useLatestVersion: true,
    });
    await s.prepare();
    assert.equal(parseWireFormat(s.serialize('latest', { id: 'x' }, [])!).schemaId, v2.id);
  });

  it('refuses a latest version of another schema type', async () => {
    registry.register('avro-latest-value', { schema: '"string"' });
    const s = new JsonSchemaSerializer(schema, {
      registry: client,
      topics: ['avro-latest'],
      useLatestVersion: true,
    });
    await assert.rejects(s.prepare(), serializationError(/is a AVRO schema, not JSON/));
  });

  it('validates with an Ajv-style function, naming the path', () => {
    const s = new JsonSchemaSerializer(schema, { validate });
    assert.throws(
      () => s.serialize('t', { id: 'a', qty: 1.5 }, []),
      serializationError(/does not match its JSON Schema at \/qty: must be integer/),
    );
    assert.throws(() => s.serialize('t', { id: 1 }, []), serializationError(/at \/id: must be string/));
    assert.equal(text(s.serialize('t', { id: 'ok' }, [])), '{"id":"ok"}');
    const throwing = new JsonSchemaSerializer(schema, {
      validate: () => {
        throw new Error('boom');
      },
    });
    assert.throws(() => throwing.serialize('t', {}, []), serializationError(/JSON Schema: boom/));
  });

  it('turns a registry answering garbage into a SerializationError carrying the registry error', async () => {
    registry.failNext({ status: 200, body: 'Service Temporarily Unavailable<br>' });
    const s = new JsonSchemaSerializer(schema, { registry: client, topics: ['garbage'] });
    await assert.rejects(
      s.prepare(),
      (err: unknown) =>
        err instanceof SerializationError &&
        err.code === 'SERIALIZATION_ERROR' &&
        /topic "garbage", subject "garbage-value" while registering the schema: .*not JSON/.test(
          err.message,
        ) &&
        isKafkaClientError(err.cause) &&
        err.cause.code === 'SCHEMA_REGISTRY_BAD_RESPONSE',
    );
    // Not cached: a second prepare() asks again and succeeds.
    await s.prepare();
    assert.ok(s.serialize('garbage', { id: 'x' }, []));
  });

  it('keeps serializing prepared topics when the registry goes down', async () => {
    const s = new JsonSchemaSerializer(schema, { registry: client, topics: ['resilient'] });
    await s.prepare();
    await registry.stop();
    try {
      assert.ok(s.serialize('resilient', { id: 'still works' }, []));
      await assert.rejects(
        s.prepareTopics(['new-topic']),
        (err: unknown) =>
          err instanceof SerializationError &&
          /is the registry up\?/.test(err.message) &&
          isKafkaClientError(err.cause) &&
          err.cause.code === 'SCHEMA_REGISTRY_UNAVAILABLE',
      );
      assert.ok(s.serialize('resilient', { id: 'and after' }, []));
    } finally {
      await registry.start();
    }
  });

  it('refuses contradictory options with a ConfigError', () => {
    assert.throws(
      () =>
        new JsonSchemaSerializer(schema, {
          registry: client,
          useLatestVersion: true,
          autoRegisterSchemas: true,
        }),
      (err: unknown) => err instanceof ConfigError && err.key === 'autoRegisterSchemas',
    );
    assert.throws(
      () => new JsonSchemaSerializer(schema, { registry: client, useLatestVersion: true, useSchemaId: 1 }),
      (err: unknown) => err instanceof ConfigError && err.key === 'useLatestVersion',
    );
    assert.throws(
      () => new JsonSchemaSerializer(schema, { useLatestVersion: true }),
      (err: unknown) => err instanceof ConfigError && err.key === 'useLatestVersion',
    );
    assert.throws(
      () =>
        new JsonSchemaSerializer(
          { type: 'object' },
          { registry: client, subjectNameStrategy: recordNameStrategy },
        ),
      (err: unknown) => err instanceof ConfigError && err.key === 'subjectNameStrategy',
    );
  });

  it('with useSchemaId and a registry, checks the id exists and uses it for every topic', async () => {
    const { id } = registry.register('fixed-value', { schema: JSON.stringify(schema), schemaType: 'JSON' });
    const s = new JsonSchemaSerializer(schema, { registry: client, useSchemaId: id });
    await s.prepare();
    assert.equal(parseWireFormat(s.serialize('whatever', { id: 'x' }, [])!).schemaId, id);
    const missing = new JsonSchemaSerializer(schema, { registry: client, useSchemaId: 424242 });
    await assert.rejects(
      missing.prepare(),
      (err: unknown) =>
        err instanceof SerializationError &&
        /could not use schema id 424242/.test(err.message) &&
        isKafkaClientError(err.cause) &&
        err.cause.code === 'SCHEMA_NOT_FOUND',
    );
  });
});
