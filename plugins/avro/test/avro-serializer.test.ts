import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigError, isKafkaClientError, SerializationError } from '@tributary/core';
import { parseWireFormat, recordNameStrategy, SchemaRegistryClient } from '@tributary/schema-registry';
import { type MockSchemaRegistry, startMockSchemaRegistry } from '@tributary/schema-registry/testing';
import avsc, { type Schema } from 'avsc';
import { AvroSerializer } from '../src/index.js';

const orderSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  doc: 'an order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'amount', type: 'double' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'street', type: 'string' },
          { name: 'zip', type: 'string' },
        ],
      },
    },
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
    { name: 'attrs', type: { type: 'map', values: 'long' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    {
      name: 'gift',
      type: ['null', { type: 'record', name: 'Gift', fields: [{ name: 'message', type: 'string' }] }],
      default: null,
    },
  ],
} as const;

const order = () => ({
  id: 'o-1',
  quantity: 2,
  amount: 19.5,
  tags: ['a', 'b'],
  address: { street: '1 Main St', zip: '12345' },
  items: [
    { sku: 's-1', qty: 1 },
    { sku: 's-2', qty: 3 },
  ],
  attrs: { weight: 12 },
  status: 'NEW',
  gift: null as null | { message: unknown },
});

const type = avsc.Type.forSchema(orderSchema as unknown as Schema);
const hex = (b: Uint8Array | null) => Buffer.from(b!).toString('hex');

function invalidAt(message: RegExp) {
  return (err: unknown) =>
    err instanceof SerializationError && err.code === 'SERIALIZATION_ERROR' && message.test(err.message);
}

describe('AvroSerializer', () => {
  it('encodes exactly what avsc encodes, bare without a registry', () => {
    const s = new AvroSerializer(orderSchema as unknown as Schema);
    const out = s.serialize('t', order(), [])!;
    assert.equal(hex(out), hex(type.toBuffer(order())));
    assert.deepEqual(
      { ...type.fromBuffer(Buffer.from(out)) },
      { ...type.fromBuffer(type.toBuffer(order())) },
    );
    assert.equal(s.serialize('t', null, []), null, 'null is a tombstone');
  });

  it('takes the schema as JSON text, as an object, or as an avsc Type', () => {
    const a = new AvroSerializer(JSON.stringify(orderSchema));
    const b = new AvroSerializer(type);
    assert.equal(hex(a.serialize('t', order(), [])), hex(b.serialize('t', order(), [])));
    assert.equal(hex(new AvroSerializer('string').serialize('t', 'hi', [])), '046869');
    assert.throws(() => new AvroSerializer({ type: 'record', name: 'X' } as unknown as Schema), ConfigError);
  });

  it('frames with the Confluent header: magic byte, schema id, Avro payload', () => {
    const s = new AvroSerializer(orderSchema as unknown as Schema, { useSchemaId: 0x0102 });
    const out = s.serialize('t', order(), [])!;
    assert.equal(hex(out.subarray(0, 5)), '0000000102');
    assert.equal(hex(out.subarray(5)), hex(type.toBuffer(order())));
    const parsed = parseWireFormat(out);
    assert.equal(parsed.schemaId, 258);
    assert.equal(type.fromBuffer(Buffer.from(parsed.payload)).id, 'o-1');
  });

  it('names the first bad field path when a value does not match', () => {
    const s = new AvroSerializer(orderSchema as unknown as Schema, { useSchemaId: 1 });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ quantity: '2' }, /Avro schema shop\.Order: field quantity should be int, got the string "2"/],
      [{ quantity: 2.5 }, /field quantity should be int, got the number 2\.5/],
      [{ id: undefined }, /field id should be string, got nothing \(missing\)/],
      [{ address: { street: 'x', zip: 12345 } }, /field address\.zip should be string, got the number 12345/],
      [{ items: [{ sku: 'a', qty: 1 }, { sku: 'b' }] }, /field items\[1\]\.qty should be int, got nothing/],
      [{ tags: ['a', 7] }, /field tags\[1\] should be string, got the number 7/],
      [{ attrs: { weight: 'heavy' } }, /field attrs\["weight"\] should be long, got the string "heavy"/],
      [{ status: 'LOST' }, /field status should be enum shop\.Status \(NEW, PAID\), got the string "LOST"/],
      [{ gift: { message: 5 } }, /field gift\.message should be string, got the number 5/],
      [{ gift: 'yes' }, /field gift should be one of null \| record shop\.Gift, got the string "yes"/],
      [{ tags: 'a' }, /field tags should be an array of string, got the string "a"/],
    ];
    for (const [patch, message] of cases) {
      assert.throws(
        () => s.serialize('t', { ...order(), ...patch }, []),
        invalidAt(message),
        String(message),
      );
    }
    assert.throws(
      () => s.serialize('t', 42, []),
      invalidAt(/the value should be record shop\.Order, got the number 42/),
    );
    // The serializer is unharmed: the next record encodes as before.
    assert.equal(hex(s.serialize('t', order(), [])!.subarray(5)), hex(type.toBuffer(order())));
  });

  it('encodes values larger than its scratch buffer', () => {
    const s = new AvroSerializer(orderSchema as unknown as Schema, { useSchemaId: 7 });
    const big = { ...order(), tags: Array.from({ length: 5000 }, (_, i) => `tag-${i}`) };
    const out = s.serialize('t', big, [])!;
    assert.equal(hex(out.subarray(5)), hex(type.toBuffer(big)));
    assert.equal(hex(s.serialize('t', order(), [])!.subarray(5)), hex(type.toBuffer(order())));
  });
});

describe('AvroSerializer logical types', () => {
  const schema = {
    type: 'record',
    name: 'Payment',
    fields: [
      { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
      {
        name: 'fee',
        type: { type: 'fixed', name: 'Fee', size: 4, logicalType: 'decimal', precision: 6, scale: 3 },
      },
    ],
  };
  const uuid = '123e4567-e89b-12d3-a456-426614174000';
  const s = new AvroSerializer(schema as unknown as Schema, { logicalTypes: true });
  const plain = avsc.Type.forSchema(schema as unknown as Schema);

  it("writes a Date as timestamp-millis, a decimal as its unscaled two's complement, a uuid as its string", () => {
    const at = new Date(1_700_000_000_123);
    const out = Buffer.from(s.serialize('t', { id: uuid, at, amount: '-1.28', fee: '0.001' }, [])!);
    const raw = plain.fromBuffer(out) as { id: string; at: number; amount: Buffer; fee: Buffer };
    assert.equal(raw.id, uuid);
    assert.equal(raw.at, 1_700_000_000_123);
    assert.equal(raw.amount.toString('hex'), '80', '-128 in one byte');
    assert.equal(raw.fee.toString('hex'), '00000001', 'fixed(4), sign-extended');
    // And read back through the logical types:
    const back = s.type.fromBuffer(out) as { at: Date; amount: string; fee: string };
    assert.equal(back.at.getTime(), at.getTime());
    assert.equal(back.amount, '-1.28');
    assert.equal(back.fee, '0.001');
  });

  it('writes decimals exactly from strings, numbers and bigints', () => {
    const vectors: [unknown, string][] = [
      ['0', '00'],
      ['1.27', '7f'],
      ['1.28', '0080'],
      ['-0.01', 'ff'],
      ['-1.29', 'ff7f'],
      [1.5, '0096'],
      ['1e2', '2710'],
      ['12.300', '04ce'],
      [7n, '02bc'],
      ['+0.5', '32'],
    ];
    for (const [value, expected] of vectors) {
      const out = Buffer.from(s.serialize('t', { id: uuid, at: 0, amount: value, fee: '-1' }, [])!);
      const raw = plain.fromBuffer(out) as { amount: Buffer; fee: Buffer };
      assert.equal(raw.amount.toString('hex'), expected, String(value));
      assert.equal(raw.fee.toString('hex'), 'fffffc18');
    }
  });

  it('refuses what it cannot write exactly, naming the field and why', () => {
    const base = { id: uuid, at: 0, amount: '1', fee: '1' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { amount: '1.234' },
        /field amount should be decimal\(9,2\), got the string "1\.234" \(.*more fraction digits than the scale 2 \(no rounding\)\)/,
      ],
      [
        { amount: '12345678.9' },
        /field amount should be decimal\(9,2\).*10 digits, more than the precision 9/,
      ],
      [{ amount: 'abc' }, /field amount should be decimal\(9,2\).*not a decimal number/],
      [{ fee: '999.9999' }, /field fee should be decimal\(6,3\)/],
      [
        { id: 'not-a-uuid' },
        /field id should be uuid, got the string "not-a-uuid" \(uuid: expected a UUID string/,
      ],
      [{ at: 'yesterday' }, /field at should be timestamp-millis.*expected a Date or an integer number/],
      [{ at: new Date(Number.NaN) }, /field at should be timestamp-millis, got a Date \(invalid\)/],
    ];
    for (const [patch, message] of cases) {
      assert.throws(() => s.serialize('t', { ...base, ...patch }, []), invalidAt(message), String(message));
    }
  });

  it('registers the schema with its logical-type attributes', async () => {
    const registry = await startMockSchemaRegistry();
    try {
      const client = new SchemaRegistryClient({ url: registry.url });
      const fromType = new AvroSerializer(s.type, { registry: client, topics: ['lt'] });
      await fromType.prepare();
      const id = registry.subjects().get('lt-value')![0]!;
      const registered = JSON.parse(registry.schema(id)!.schema);
      assert.deepEqual(registered.fields[2].type, {
        type: 'bytes',
        logicalType: 'decimal',
        precision: 9,
        scale: 2,
      });
      assert.equal(registered.fields[1].type.logicalType, 'timestamp-millis');
    } finally {
      await registry.stop();
    }
  });

  it('leaves logical types to their underlying types unless enabled', () => {
    const off = new AvroSerializer(schema as unknown as Schema);
    const out = off.serialize(
      't',
      { id: 'anything', at: 5, amount: Buffer.from([1]), fee: Buffer.alloc(4) },
      [],
    );
    assert.ok(out);
  });
});

describe('AvroSerializer with a Schema Registry', () => {
  let registry: MockSchemaRegistry;
  let client: SchemaRegistryClient;
  before(async () => {
    registry = await startMockSchemaRegistry();
  });
  after(async () => {
    await registry.stop();
  });
  beforeEach(() => {
    client = new SchemaRegistryClient({ url: registry.url, retries: 0 });
  });

  it('registers the schema as written under <topic>-value in prepare(), and frames with its id', async () => {
    const s = new AvroSerializer(orderSchema as unknown as Schema, { registry: client, topics: ['orders'] });
    await s.prepare();
    const [id] = registry.subjects().get('orders-value')!;
    assert.deepEqual(registry.schema(id!), { schema: JSON.stringify(orderSchema) });
    const out = s.serialize('orders', order(), [])!;
    assert.equal(hex(out), `00${id!.toString(16).padStart(8, '0')}${hex(type.toBuffer(order()))}`);
  });

  it("uses RecordNameStrategy with the record's full name", async () => {
    const s = new AvroSerializer(orderSchema as unknown as Schema, {
      registry: client,
      subjectNameStrategy: recordNameStrategy,
    });
    await s.prepare();
    assert.ok(registry.subjects().has('shop.Order'));
    assert.ok(s.serialize('any-topic', order(), []));
  });

  it("writes with the latest version's schema with useLatestVersion", async () => {
    const latest = {
      ...orderSchema,
      fields: [...orderSchema.fields, { name: 'channel', type: 'string', default: 'web' }],
    };
    const { id } = registry.register('evolved-value', { schema: JSON.stringify(latest) });
    const s = new AvroSerializer(orderSchema as unknown as Schema, {
      registry: client,
      topics: ['evolved'],
      useLatestVersion: true,
    });
    await s.prepare();
    const parsed = parseWireFormat(s.serialize('evolved', order(), [])!);
    assert.equal(parsed.schemaId, id);
    const latestType = avsc.Type.forSchema(latest as unknown as Schema);
    assert.equal(latestType.fromBuffer(Buffer.from(parsed.payload)).channel, 'web');
  });

  it("refuses a latest version that cannot read the local schema's records (latestCompatibilityStrict)", async () => {
    const incompatible = {
      type: 'record',
      name: 'Order',
      namespace: 'shop',
      fields: [{ name: 'n', type: 'int' }],
    };
    registry.register('strict-value', { schema: JSON.stringify(incompatible) });
    const s = new AvroSerializer(orderSchema as unknown as Schema, {
      registry: client,
      topics: ['strict'],
      useLatestVersion: true,
    });
    await assert.rejects(
      s.prepare(),
      invalidAt(
        /version 1 \(id \d+\) of subject "strict-value" cannot read records written with the local schema/,
      ),
    );
    const loose = new AvroSerializer(orderSchema as unknown as Schema, {
      registry: client,
      topics: ['strict'],
      useLatestVersion: true,
      latestCompatibilityStrict: false,
    });
    await loose.prepare();
    assert.throws(() => loose.serialize('strict', order(), []), invalidAt(/field n should be int/));
  });

  it('with useSchemaId, fetches that schema and writes with it', async () => {
    const { id } = registry.register('by-id-value', { schema: JSON.stringify(orderSchema) });
    const s = new AvroSerializer('"string"', { registry: client, useSchemaId: id });
    await s.prepare();
    assert.equal(registry.requests.at(-1)!.path, `/schemas/ids/${id}`);
    assert.equal(hex(s.serialize('anything', order(), [])!.subarray(5)), hex(type.toBuffer(order())));
  });

  it('reports 409 from the registry as a SerializationError from prepare()', async () => {
    registry.register('incompatible-value', { schema: '"string"' });
    registry.compatibility = () => false;
    try {
      const s = new AvroSerializer(orderSchema as unknown as Schema, {
        registry: client,
        topics: ['incompatible'],
      });
      await assert.rejects(
        s.prepare(),
        (err: unknown) =>
          err instanceof SerializationError &&
          /subject "incompatible-value" while registering the schema: .*409/.test(err.message) &&
          isKafkaClientError(err.cause) &&
          err.cause.code === 'INCOMPATIBLE_SCHEMA',
      );
    } finally {
      registry.compatibility = undefined;
    }
  });
});
