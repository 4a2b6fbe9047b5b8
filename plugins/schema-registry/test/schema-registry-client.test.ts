import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigError, isKafkaClientError } from '@tributary/core';
import { SchemaRegistryClient, type SchemaRegistryClientOptions, SchemaRegistryError } from '../src/index.js';
import { type MockSchemaRegistry, startMockSchemaRegistry } from '../src/testing/index.js';

const AVRO = {
  schema: JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }] }),
};
const AVRO_2 = {
  schema: JSON.stringify({
    type: 'record',
    name: 'Order',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'note', type: ['null', 'string'], default: null },
    ],
  }),
};
const PROTO = { schema: 'CgpvcmRlci5wcm90bw==', schemaType: 'PROTOBUF' as const };

/** Asserts a promise rejects with a SchemaRegistryError of this code, and returns it. */
async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<SchemaRegistryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isKafkaClientError(err), `not a KafkaClientError: ${String(err)}`);
    assert.ok(err instanceof SchemaRegistryError);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a rejection with ${code}`);
}

describe('SchemaRegistryClient against a local registry', () => {
  let registry: MockSchemaRegistry;
  const client = (options: Partial<SchemaRegistryClientOptions> = {}) =>
    new SchemaRegistryClient({ url: registry.url, retryBackoffMs: 1, retryBackoffMaxMs: 5, ...options });

  before(async () => {
    registry = await startMockSchemaRegistry();
  });
  after(async () => {
    await registry.stop();
  });
  beforeEach(() => {
    registry.requests.length = 0;
    registry.latencyMs = 0;
    registry.compatibility = undefined;
  });

  it('registers under POST /subjects/{subject}/versions and caches the id by subject and schema', async () => {
    const c = client();
    const id = await c.register('reg-a-value', AVRO);
    assert.equal(await c.register('reg-a-value', AVRO), id);
    assert.equal(registry.requests.length, 1);
    const [req] = registry.requests;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.path, '/subjects/reg-a-value/versions');
    assert.equal(req!.headers['content-type'], 'application/vnd.schemaregistry.v1+json');
    // schemaType is left out for AVRO, as the Confluent serializers do.
    assert.deepEqual(JSON.parse(req!.body), { schema: AVRO.schema });
    // The same schema under another subject: the registry gives the same id; a new request.
    assert.equal(await c.register('reg-b-value', AVRO), id);
    assert.equal(registry.requests.length, 2);
    // A new client asks again; the registry answers the existing id.
    assert.equal(await client().register('reg-a-value', AVRO), id);
    // getById after a register needs no request.
    registry.requests.length = 0;
    assert.deepEqual(await c.getById(id), { schema: AVRO.schema });
    assert.equal(registry.requests.length, 0);
  });

  it('sends schemaType and references for Protobuf, and URL-encodes subjects', async () => {
    const c = client();
    const dep = await c.register('shop/common.proto', PROTO);
    assert.ok(dep > 0);
    const refs = [{ name: 'shop/common.proto', subject: 'shop/common.proto', version: 1 }];
    const main = { schema: 'CgpvdGhlci5wcm90bw==', schemaType: 'PROTOBUF' as const, references: refs };
    await c.register('orders value/x', main);
    const last = registry.requests.at(-1)!;
    assert.equal(last.path, '/subjects/orders%20value%2Fx/versions');
    assert.deepEqual(JSON.parse(last.body), {
      schema: main.schema,
      schemaType: 'PROTOBUF',
      references: refs,
    });
    assert.equal(registry.requests[0]!.path, '/subjects/shop%2Fcommon.proto/versions');
  });

  it('shares one request between concurrent calls for the same schema', async () => {
    registry.latencyMs = 20;
    const c = client();
    const ids = await Promise.all([c.register('dedupe-value', AVRO), c.register('dedupe-value', AVRO)]);
    assert.equal(ids[0], ids[1]);
    assert.equal(registry.requests.length, 1);
  });

  it('looks a schema up under POST /subjects/{subject}: id and version', async () => {
    registry.register('lookup-value', AVRO);
    const v2 = registry.register('lookup-value', AVRO_2);
    const c = client();
    const found = await c.lookup('lookup-value', AVRO_2);
    assert.equal(found.id, v2.id);
    assert.equal(found.version, 2);
    assert.equal(found.subject, 'lookup-value');
    assert.equal(registry.requests.at(-1)!.path, '/subjects/lookup-value');
    await c.lookup('lookup-value', AVRO_2);
    assert.equal(registry.requests.length, 1, 'cached');
    // A lookup also fills the register cache.
    assert.equal(await c.register('lookup-value', AVRO_2), v2.id);
    assert.equal(registry.requests.length, 1);
  });

  it('tells a missing subject (40401) from a schema missing under it (40403)', async () => {
    const c = client();
    const e1 = await rejectsWith(c.lookup('nobody-value', AVRO), 'SUBJECT_NOT_FOUND', /40401/);
    assert.equal(e1.status, 404);
    assert.equal(e1.errorCode, 40401);
    assert.equal(e1.retriable, false);
    registry.register('other-value', AVRO);
    await rejectsWith(c.lookup('other-value', AVRO_2), 'SCHEMA_NOT_FOUND', /40403/);
    await rejectsWith(
      c.getLatest('nobody-value'),
      'SUBJECT_NOT_FOUND',
      /GET \/subjects\/nobody-value\/versions\/latest/,
    );
    await rejectsWith(c.getById(999_999), 'SCHEMA_NOT_FOUND', /GET \/schemas\/ids\/999999/);
    await rejectsWith(c.getVersion('other-value', 7), 'VERSION_NOT_FOUND');
    // 4xx are not retried: one request each.
    assert.equal(registry.requests.length, 5);
  });

  it('gets a schema by id under GET /schemas/ids/{id}, cached', async () => {
    const { id } = registry.register('byid-value', PROTO);
    const c = client();
    assert.deepEqual(await c.getById(id), PROTO);
    assert.deepEqual(await c.getById(id), PROTO);
    assert.equal(registry.requests.length, 1);
    assert.equal(registry.requests[0]!.path, `/schemas/ids/${id}`);
  });

  it('gets the latest version every time (it changes), and a given version', async () => {
    const c = client();
    const v1 = registry.register('latest-value', AVRO);
    let latest = await c.getLatest('latest-value');
    assert.deepEqual([latest.id, latest.version, latest.schema], [v1.id, 1, AVRO.schema]);
    const v2 = registry.register('latest-value', AVRO_2);
    latest = await c.getLatest('latest-value');
    assert.deepEqual([latest.id, latest.version], [v2.id, 2]);
    assert.equal(registry.requests.length, 2);
    assert.equal((await c.getVersion('latest-value', 1)).id, v1.id);
  });

  it('maps 409 to INCOMPATIBLE_SCHEMA, without retrying', async () => {
    registry.compatibility = () => false;
    registry.register('compat-value', AVRO);
    const err = await rejectsWith(client().register('compat-value', AVRO_2), 'INCOMPATIBLE_SCHEMA', /409/);
    assert.match(err.message, /incompatible with an earlier schema/);
    assert.equal(registry.requests.length, 1);
  });

  it('maps 422 to INVALID_SCHEMA', async () => {
    await rejectsWith(client().register('invalid-value', { schema: '{not json' }), 'INVALID_SCHEMA', /42201/);
  });

  it('retries 5xx and 429, then succeeds', async () => {
    registry.failNext({ status: 500 }, { status: 503 }, { status: 429 });
    const id = await client().register('retry-value', AVRO);
    assert.ok(id > 0);
    assert.equal(registry.requests.length, 4);
  });

  it('gives up after `retries`, naming the attempts', async () => {
    registry.failNext({ status: 503 }, { status: 503 }, { status: 503 });
    const err = await rejectsWith(
      client({ retries: 2 }).register('down-value', AVRO),
      'SCHEMA_REGISTRY_UNAVAILABLE',
      /503.*gave up after 3 attempts/,
    );
    assert.equal(err.retriable, true);
    assert.equal(registry.requests.length, 3);
  });

  it('times out a slow answer, retries, and succeeds when the registry answers in time', async () => {
    registry.failNext({ status: 200, body: { id: 1 }, delayMs: 300 });
    const c = client({ requestTimeoutMs: 100 });
    const id = await c.register('slow-value', AVRO);
    assert.ok(id > 0);
    assert.equal(registry.requests.length, 2);
    // Latency under the timeout is fine.
    registry.latencyMs = 30;
    assert.equal((await c.getLatest('slow-value')).id, id);
  });

  it('reports a registry that never answers in time as SCHEMA_REGISTRY_TIMEOUT', async () => {
    registry.latencyMs = 200;
    await rejectsWith(
      client({ requestTimeoutMs: 50, retries: 1 }).getLatest('any'),
      'SCHEMA_REGISTRY_TIMEOUT',
      /within 50 ms.*gave up after 2 attempts/,
    );
  });

  it('reports garbage JSON as SCHEMA_REGISTRY_BAD_RESPONSE, not retried', async () => {
    registry.failNext({ status: 200, body: '<html>proxy error</html>' });
    const err = await rejectsWith(
      client().register('garbage-value', AVRO),
      'SCHEMA_REGISTRY_BAD_RESPONSE',
      /not JSON/,
    );
    assert.match(err.message, /<html>proxy error<\/html>/);
    assert.equal(registry.requests.length, 1);
    registry.failNext({ status: 200, body: { hello: 'world' } });
    await rejectsWith(
      client().register('garbage-value', AVRO),
      'SCHEMA_REGISTRY_BAD_RESPONSE',
      /no integer "id"/,
    );
    registry.failNext({ status: 200, body: [1, 2] });
    await rejectsWith(client().getById(1), 'SCHEMA_REGISTRY_BAD_RESPONSE', /not a JSON object/);
    // A failure is not cached: the next call asks again and succeeds.
    const c = client();
    registry.failNext({ status: 200, body: 'nope' });
    await rejectsWith(c.register('garbage-value', AVRO), 'SCHEMA_REGISTRY_BAD_RESPONSE');
    assert.ok((await c.register('garbage-value', AVRO)) > 0);
  });

  it('keeps answering from its caches when the registry goes down, and fails clearly for the rest', async () => {
    const c = client({ retries: 1 });
    const id = await c.register('down-mid-run-value', AVRO);
    await registry.stop();
    try {
      assert.equal(await c.register('down-mid-run-value', AVRO), id);
      assert.deepEqual(await c.getById(id), AVRO);
      await rejectsWith(
        c.register('down-mid-run-value', AVRO_2),
        'SCHEMA_REGISTRY_UNAVAILABLE',
        /ECONNREFUSED.*2 attempts/,
      );
    } finally {
      await registry.start();
    }
    // Back up: the same client works again.
    assert.ok((await c.register('down-mid-run-value', AVRO_2)) > 0);
  });

  it('moves to the next URL on a retriable failure', async () => {
    const dead = await startMockSchemaRegistry();
    const deadUrl = dead.url;
    await dead.stop();
    const c = new SchemaRegistryClient({ url: [deadUrl, registry.url], retryBackoffMs: 1, retries: 1 });
    assert.ok((await c.register('failover-value', AVRO)) > 0);
  });
});

describe('SchemaRegistryClient authentication', () => {
  let registry: MockSchemaRegistry;
  before(async () => {
    registry = await startMockSchemaRegistry({
      basicAuth: { username: 'key', password: 's3cr:t' },
      bearerToken: 'tok-2',
    });
  });
  after(async () => {
    await registry.stop();
  });

  it('sends basic auth', async () => {
    const c = new SchemaRegistryClient({
      url: registry.url,
      basicAuth: { username: 'key', password: 's3cr:t' },
    });
    assert.ok((await c.register('auth-value', AVRO)) > 0);
    assert.equal(
      registry.requests.at(-1)!.headers.authorization,
      `Basic ${Buffer.from('key:s3cr:t').toString('base64')}`,
    );
  });

  it('takes credentials from the URL as basic auth (fetch refuses them in URLs)', async () => {
    const url = registry.url.replace('http://', 'http://key:s3cr%3At@');
    const c = new SchemaRegistryClient({ url });
    assert.deepEqual(c.urls, [registry.url]);
    assert.ok((await c.register('auth-value', AVRO)) > 0);
  });

  it('sends a bearer token, calling a token function before every request', async () => {
    let calls = 0;
    const c = new SchemaRegistryClient({
      url: registry.url,
      bearerToken: async () => `tok-${++calls + 1}`,
      retries: 0,
    });
    assert.ok((await c.getLatest('auth-value')).id > 0);
    assert.equal(registry.requests.at(-1)!.headers.authorization, 'Bearer tok-2');
    // The next token is stale for this registry: 401, not retried.
    await rejectsWith(
      c.getLatest('auth-value'),
      'SCHEMA_REGISTRY_UNAUTHORIZED',
      /401.*basicAuth or bearerToken/,
    );
    assert.equal(calls, 2);
  });

  it('reports wrong credentials as SCHEMA_REGISTRY_UNAUTHORIZED, without retrying', async () => {
    const before = registry.requests.length;
    const c = new SchemaRegistryClient({
      url: registry.url,
      basicAuth: { username: 'key', password: 'wrong' },
    });
    const err = await rejectsWith(c.register('auth-value', AVRO), 'SCHEMA_REGISTRY_UNAUTHORIZED', /40101/);
    assert.equal(err.status, 401);
    assert.equal(registry.requests.length, before + 1);
    await rejectsWith(
      new SchemaRegistryClient({ url: registry.url }).getById(1),
      'SCHEMA_REGISTRY_UNAUTHORIZED',
    );
  });

  it('maps 403 to SCHEMA_REGISTRY_FORBIDDEN', async () => {
    registry.failNext({
      status: 403,
      body: { error_code: 40301, message: 'User cannot access the resource.' },
    });
    const c = new SchemaRegistryClient({ url: registry.url, bearerToken: 'tok-2' });
    await rejectsWith(c.getById(1), 'SCHEMA_REGISTRY_FORBIDDEN', /cannot access/);
  });
});

describe('SchemaRegistryClient options', () => {
  it('refuses bad options with a ConfigError naming the key', () => {
    const bad: [SchemaRegistryClientOptions, string][] = [
      [{ url: [] }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://x' }, 'url'],
      [{ url: 'http://u:p@x', bearerToken: 't' }, 'bearerToken'],
      [{ url: 'http://x', retries: -1 }, 'retries'],
      [{ url: 'http://x', requestTimeoutMs: 0 }, 'requestTimeoutMs'],
      [{ url: 'http://x', retryBackoffMs: 100, retryBackoffMaxMs: 10 }, 'retryBackoffMaxMs'],
    ];
    for (const [options, key] of bad) {
      assert.throws(
        () => new SchemaRegistryClient(options),
        (err: unknown) => err instanceof ConfigError && err.key === key,
        key,
      );
    }
  });

  it('strips trailing slashes from URLs', () => {
    assert.deepEqual(new SchemaRegistryClient({ url: 'http://sr.local:8081/' }).urls, [
      'http://sr.local:8081',
    ]);
  });
});
