import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  FileDescriptorSetSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as T,
} from '@bufbuild/protobuf/wkt';
import { startMockSchemaRegistry } from '@tributary/schema-registry/testing';
import { endOffsets, librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import avsc from 'avsc';
import { lines, runCli, summaryOf } from '../helpers.js';

// `tributary produce` end to end: the built CLI as a child process against
// the mock cluster (both librdkafka legs); what it wrote is read back by kcat.

const leg = librdkafkaFromEnv();
const UNKNOWN_TOPIC_OR_PARTITION = 3;

describe(`tributary produce (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  let dir: string;
  let seq = 0;

  async function topic(partitions: number): Promise<string> {
    const name = `cli-${++seq}`;
    await cluster.createTopic(name, partitions, 1);
    return name;
  }

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    dir = await mkdtemp(join(tmpdir(), 'tributary-cli-it-'));
  });
  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('100,000 lines from stdin: every one in the topic, keys, values and headers byte-exact', async () => {
    const t = await topic(4);
    const N = 100_000;
    const expected = new Map<string, Buffer>();
    const parts: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      // Every 1000th value has bytes that are not UTF-8 text, a second delimiter, a trailing \r.
      const value =
        i % 1000 === 7
          ? Buffer.concat([Buffer.from(`v${i}:é\t`), Buffer.from([0xff, 0x00, 0x80]), Buffer.from('\r')])
          : Buffer.from(`value-${i}-${'x'.repeat(i % 50)}`);
      expected.set(`k${i}`, value);
      parts.push(Buffer.from(`k${i}:`), value, Buffer.from('\n'));
    }
    const r = await runCli(
      [
        'produce',
        '--bootstrap',
        cluster.bootstrapServers,
        '--topic',
        t,
        '--key-delimiter',
        ':',
        '--headers',
        'source=cli,empty=',
        '--headers',
        'nullish',
        '--compression',
        'lz4',
      ],
      Buffer.concat(parts),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(summaryOf(r.stderr), { records: N, delivered: N, failed: 0 });
    assert.equal(lines(r.stderr).length, 1, 'no progress line off a terminal, one summary');

    const ends = await endOffsets(cluster.bootstrapServers, t, 4);
    assert.equal(
      ends.reduce((a, b) => a + b, 0),
      N,
    );
    // One partition in full, headers included (about a quarter of the records).
    const sample = await readTopic(cluster.bootstrapServers, t, { partition: 1 });
    assert.equal(sample.length, ends[1]);
    assert.ok(sample.length > 10_000);
    for (const rec of sample) {
      const key = rec.key?.toString('latin1') ?? '';
      const value = expected.get(key);
      assert.ok(value, `unexpected key ${key}`);
      assert.ok(rec.value?.equals(value), `value of ${key}`);
      assert.deepEqual(rec.headers, [
        ['source', Buffer.from('cli')],
        ['empty', Buffer.alloc(0)],
        ['nullish', null],
      ]);
      expected.delete(key);
    }
    assert.ok(
      [...Array(1000).keys()].some((i) => !expected.has(`k${i * 1000 + 7}`)),
      'the sample holds some non-text values',
    );
  });

  it('JSON lines: keys, null values, headers, explicit partitions and timestamps, from files', async () => {
    const t = await topic(3);
    const objects = [
      {
        key: 'a',
        value: 'first',
        partition: 2,
        headers: { h1: 'x', h2: null },
        timestamp: 1_700_000_000_000,
      },
      { key: null, value: { nested: [1, 2] }, partition: 0 },
      {
        key: 'tomb',
        value: null,
        partition: 1,
        headers: [
          ['dup', '1'],
          ['dup', '2'],
        ],
      },
      { value: 'no key, partition chosen', timestamp: 1_700_000_000_123 },
    ];
    const f1 = join(dir, 'a.jsonl');
    const f2 = join(dir, 'b.jsonl');
    await writeFile(f1, `${JSON.stringify(objects[0])}\n\n${JSON.stringify(objects[1])}\n`);
    await writeFile(f2, `${JSON.stringify(objects[2])}\n${JSON.stringify(objects[3])}`);
    const r = await runCli([
      'produce',
      '--bootstrap',
      cluster.bootstrapServers,
      '--topic',
      t,
      '--format',
      'jsonl',
      '--headers',
      'run=7',
      '--compression',
      'gzip',
      f1,
      f2,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(summaryOf(r.stderr), { records: 4, delivered: 4, failed: 0 });
    const got = await readTopic(cluster.bootstrapServers, t);
    assert.equal(got.length, 4);
    const byValue = (v: string | null) =>
      got.find((x) => (v === null ? x.value === null : x.value?.toString('utf8') === v));
    const first = byValue('first');
    assert.equal(first?.partition, 2);
    assert.equal(first?.key?.toString(), 'a');
    assert.equal(first?.timestamp, 1_700_000_000_000);
    assert.deepEqual(first?.headers, [
      ['run', Buffer.from('7')],
      ['h1', Buffer.from('x')],
      ['h2', null],
    ]);
    const nested = byValue('{"nested":[1,2]}');
    assert.equal(nested?.partition, 0);
    assert.equal(nested?.key, null);
    const tomb = byValue(null);
    assert.equal(tomb?.partition, 1);
    assert.equal(tomb?.key?.toString(), 'tomb');
    assert.deepEqual(tomb?.headers, [
      ['run', Buffer.from('7')],
      ['dup', Buffer.from('1')],
      ['dup', Buffer.from('2')],
    ]);
    assert.equal(byValue('no key, partition chosen')?.timestamp, 1_700_000_000_123);
  });

  it('a bad line fails that record only: exit 1, the summary counts it and names the line', async () => {
    const t = await topic(1);
    const input = [
      '{"value":"ok 1"}',
      '{"value":"ok 2"',
      '{"value":"ok 3","partition":5}',
      '{"value":"ok 4"}',
    ];
    const r = await runCli(
      ['produce', '--bootstrap', cluster.bootstrapServers, '--topic', t, '--format', 'jsonl'],
      `${input.join('\n')}\n`,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(summaryOf(r.stderr), { records: 4, delivered: 2, failed: 2 });
    assert.match(r.stderr, /first error: stdin:2: not valid JSON/);
    const got = await readTopic(cluster.bootstrapServers, t);
    assert.deepEqual(
      got.map((x) => x.value?.toString()),
      ['ok 1', 'ok 4'],
    );
  });

  const orderSchema = {
    type: 'record',
    name: 'Order',
    namespace: 'shop',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'amount', type: 'double' },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'tags', type: { type: 'array', items: 'string' } },
    ],
  };
  const orders = [
    { id: 'o1', amount: 12.5, note: 'gift', tags: ['a', 'b'] },
    { id: 'o2', amount: 0, note: null, tags: [] },
  ];
  const avroJson = (o: (typeof orders)[number]) =>
    JSON.stringify({ ...o, note: o.note === null ? null : { string: o.note } });

  it('Avro: each line encoded with the schema file; kcat reads what avsc decodes', async () => {
    const t = await topic(1);
    const schemaFile = join(dir, 'order.avsc');
    await writeFile(schemaFile, JSON.stringify(orderSchema, null, 2));
    const r = await runCli(
      [
        'produce',
        '--bootstrap',
        cluster.bootstrapServers,
        '--topic',
        t,
        '--avro-schema',
        schemaFile,
        '--key-delimiter',
        '|',
      ],
      `${orders.map((o) => `${o.id}|${avroJson(o)}`).join('\n')}\n|{"id":"o3","amount":"lots","tags":[]}\n`,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(summaryOf(r.stderr), { records: 3, delivered: 2, failed: 1 });
    assert.match(r.stderr, /first error: stdin:3: the value does not fit Avro schema/);
    const type = avsc.Type.forSchema(orderSchema as avsc.Schema);
    const got = await readTopic(cluster.bootstrapServers, t);
    assert.equal(got.length, 2);
    for (const [i, rec] of got.entries()) {
      assert.equal(rec.key?.toString(), orders[i]?.id);
      assert.deepEqual({ ...(type.fromBuffer(rec.value as Buffer) as object) }, orders[i]);
    }
  });

  it('Avro with a Schema Registry: the schema registered under <topic>-value, values in its wire format', async () => {
    const registry = await startMockSchemaRegistry();
    try {
      const t = await topic(2);
      const schemaFile = join(dir, 'order-registry.avsc');
      await writeFile(schemaFile, JSON.stringify(orderSchema));
      const r = await runCli(
        [
          'produce',
          '--bootstrap',
          cluster.bootstrapServers,
          '--topic',
          t,
          '--format',
          'jsonl',
          '--avro-schema',
          schemaFile,
          '--registry',
          registry.url,
        ],
        `${orders.map((o) => `{"key":"${o.id}","value":${avroJson(o)}}`).join('\n')}\n`,
      );
      assert.equal(r.code, 0, r.stderr);
      const latest = (await (await fetch(`${registry.url}/subjects/${t}-value/versions/latest`)).json()) as {
        id: number;
        schema: string;
      };
      assert.deepEqual(JSON.parse(latest.schema), orderSchema);
      const type = avsc.Type.forSchema(orderSchema as avsc.Schema);
      const got = await readTopic(cluster.bootstrapServers, t);
      assert.equal(got.length, 2);
      for (const rec of got) {
        const value = rec.value as Buffer;
        assert.equal(value[0], 0, 'magic byte');
        assert.equal(value.readInt32BE(1), latest.id, 'schema id');
        const decoded = { ...(type.fromBuffer(value.subarray(5)) as object) } as { id: string };
        assert.deepEqual(
          decoded,
          orders.find((o) => o.id === rec.key?.toString()),
        );
      }
    } finally {
      await registry.stop();
    }
  });

  it('Protobuf from a compiled descriptor set: the bytes on the wire are the message encoding', async () => {
    const t = await topic(1);
    const set = create(FileDescriptorSetSchema, {
      file: [
        {
          name: 'demo/greeting.proto',
          package: 'demo',
          syntax: 'proto3',
          messageType: [
            {
              name: 'Greeting',
              field: [
                { name: 'text', number: 1, type: T.STRING, label: Label.OPTIONAL, jsonName: 'text' },
                { name: 'count', number: 2, type: T.INT32, label: Label.OPTIONAL, jsonName: 'count' },
              ],
            },
          ],
        },
      ],
    });
    const file = join(dir, 'greeting.binpb');
    await writeFile(file, toBinary(FileDescriptorSetSchema, set));
    const r = await runCli(
      [
        'produce',
        '--bootstrap',
        cluster.bootstrapServers,
        '--topic',
        t,
        '--proto',
        file,
        '--message',
        'demo.Greeting',
      ],
      '{"text":"héllo","count":300}\n{"text":"","count":0}\n{"txt":"typo"}\n',
    );
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(summaryOf(r.stderr), { records: 3, delivered: 2, failed: 1 });
    assert.match(r.stderr, /stdin:3: the value does not fit protobuf message demo\.Greeting/);
    const got = await readTopic(cluster.bootstrapServers, t);
    const text = Buffer.from('héllo');
    // field 1 (string): tag 0x0a, length, bytes; field 2 (varint): tag 0x10, 300 = 0xac 0x02. Defaults are omitted.
    assert.deepEqual(
      got.map((x) => x.value?.toString('hex')),
      [
        Buffer.concat([Buffer.from([0x0a, text.length]), text, Buffer.from([0x10, 0xac, 0x02])]).toString(
          'hex',
        ),
        '',
      ],
    );
  });

  it('Protobuf from .proto source with an import: the bytes on the wire are the message encoding', async () => {
    const t = await topic(1);
    // A message importing a sibling file and a well-known type, compiled by the CLI itself.
    await writeFile(
      join(dir, 'money.proto'),
      'syntax = "proto3";\npackage shop;\nmessage Money { int64 cents = 1; }\n',
    );
    const file = join(dir, 'order.proto');
    await writeFile(
      file,
      [
        'syntax = "proto3";',
        'package shop;',
        'import "money.proto";',
        'import "google/protobuf/timestamp.proto";',
        'message Order {',
        '  string id = 1;',
        '  Money total = 2;',
        '  google.protobuf.Timestamp at = 3;',
        '}',
        '',
      ].join('\n'),
    );
    const r = await runCli(
      [
        'produce',
        '--bootstrap',
        cluster.bootstrapServers,
        '--topic',
        t,
        '--proto',
        file,
        '--message',
        'shop.Order',
      ],
      '{"id":"o1","total":{"cents":"1250"},"at":"2026-11-22T00:00:00Z"}\n',
    );
    assert.equal(r.code, 0, r.stderr);
    const [got] = await readTopic(cluster.bootstrapServers, t);
    // Hand-encoded: field 1 "o1"; field 2 { field 1 varint 1250 = e2 09 }; field 3 { field 1 varint seconds }.
    const seconds = Date.UTC(2026, 10, 22) / 1000;
    const varint = (n: number) => {
      const out: number[] = [];
      while (n >= 0x80) {
        out.push((n % 0x80) | 0x80);
        n = Math.floor(n / 0x80);
      }
      out.push(n);
      return out;
    };
    const ts = [0x08, ...varint(seconds)];
    assert.equal(
      got?.value?.toString('hex'),
      Buffer.from([0x0a, 2, 0x6f, 0x31, 0x12, 3, 0x08, 0xe2, 0x09, 0x1a, ts.length, ...ts]).toString('hex'),
    );
  });

  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }

  it('unreachable brokers (refused, or silent): exit 3 within --timeout-ms, one line', async () => {
    const silent: Server = createServer(() => {
      // Accepts and never answers.
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const silentAddr = `127.0.0.1:${(silent.address() as { port: number }).port}`;
      for (const address of [`127.0.0.1:${await closedPort()}`, silentAddr]) {
        const timeoutMs = 2000;
        const r = await runCli(
          ['produce', '--bootstrap', address, '--topic', 'anything', '--timeout-ms', String(timeoutMs)],
          'a\nb\n',
        );
        assert.equal(r.code, 3, r.stderr);
        assert.equal(lines(r.stderr).length, 1, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(`cannot reach the brokers: no metadata from ${address} within 2000 ms`),
        );
        assert.ok(r.elapsedMs < timeoutMs + 3000, `exited after ${Math.round(r.elapsedMs)} ms`);
        assert.ok(r.elapsedMs >= timeoutMs - 100, 'kept trying until the timeout');
      }
    } finally {
      silent.close();
    }
  });

  it('a topic the brokers do not know: exit 3, one clear line, nothing produced', async () => {
    const t = `cli-missing-${++seq}`;
    await cluster.setTopicError(t, UNKNOWN_TOPIC_OR_PARTITION);
    try {
      const r = await runCli(
        ['produce', '--bootstrap', cluster.bootstrapServers, '--topic', t, '--timeout-ms', '3000'],
        'x\n',
      );
      assert.equal(r.code, 3, r.stderr);
      assert.deepEqual(lines(r.stderr), [
        `tributary: topic ${t} does not exist: the brokers answer UNKNOWN_TOPIC_OR_PARTITION and do not create it`,
      ]);
      assert.ok(r.elapsedMs < 3000 + 3000);
    } finally {
      await cluster.setTopicError(t, 0);
    }
  });
});
