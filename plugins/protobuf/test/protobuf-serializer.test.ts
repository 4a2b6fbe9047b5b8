import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { SerializationError } from '@tributary/core';
import {
  encodeHeader,
  parseWireFormat,
  recordNameStrategy,
  SchemaRegistryClient,
} from '@tributary/schema-registry';
import { type MockSchemaRegistry, startMockSchemaRegistry } from '@tributary/schema-registry/testing';
import { messageIndexes, ProtobufSerializer } from '../src/index.js';
import {
  AddressSchema,
  DiscountSchema,
  EventSchema,
  file_shop_common,
  file_shop_order,
  ItemSchema,
  MoneySchema,
  OrderSchema,
  orderInit,
  RuleSchema,
  ShipmentSchema,
} from './fixtures.js';

const hex = (b: Uint8Array | null) => Buffer.from(b!).toString('hex');

function invalidAt(message: RegExp) {
  return (err: unknown) =>
    err instanceof SerializationError && err.code === 'SERIALIZATION_ERROR' && message.test(err.message);
}

describe('message-index paths', () => {
  // Top-level, nested, doubly nested; Order's synthetic map entry is not counted.
  const vectors: [string, typeof OrderSchema, number[], string][] = [
    ['shop.Order', OrderSchema, [0], '00'],
    ['shop.Shipment', ShipmentSchema, [1], '0202'],
    ['shop.Event', EventSchema, [2], '0204'],
    ['shop.Order.Address', AddressSchema, [0, 0], '040000'],
    ['shop.Order.Item', ItemSchema, [0, 1], '040002'],
    ['shop.Order.Discount', DiscountSchema, [0, 2], '040004'],
    ['shop.Order.Discount.Rule', RuleSchema, [0, 2, 0], '06000400'],
    ['shop.Money', MoneySchema, [0], '00'],
  ];
  for (const [name, desc, path, bytes] of vectors) {
    it(`${name} is [${path.join(', ')}], written ${bytes}`, () => {
      assert.equal(desc.typeName, name);
      assert.deepEqual(messageIndexes(desc), path);
      const s = new ProtobufSerializer(desc, { useSchemaId: 0x2a });
      assert.deepEqual([...s.messageIndexes], path);
      const out = s.serialize('t', {}, [])!;
      // An empty message has an empty payload: the record is exactly the header.
      assert.equal(hex(out), `000000002a${bytes}`);
      const parsed = parseWireFormat(out, { messageIndexes: true });
      assert.deepEqual(parsed.messageIndexes, path);
      assert.equal(parsed.schemaId, 42);
    });
  }
});

describe('ProtobufSerializer', () => {
  it('encodes exactly what toBinary encodes, from a message or a plain init object', () => {
    const s = new ProtobufSerializer(OrderSchema);
    const message = create(OrderSchema, orderInit(7));
    const expected = hex(toBinary(OrderSchema, message));
    assert.equal(hex(s.serialize('t', message, [])), expected);
    assert.equal(hex(s.serialize('t', orderInit(7), [])), expected);
    assert.equal(s.serialize('t', null, []), null, 'null is a tombstone');
  });

  it('frames with the header and index path, then the payload, and decodes field by field', () => {
    const s = new ProtobufSerializer(RuleSchema, { useSchemaId: 1000 });
    const out = s.serialize('t', { percent: 15 }, [])!;
    assert.equal(hex(out), `00000003e8${'06000400'}080f`);
    const parsed = parseWireFormat(out, { messageIndexes: true });
    const rule = fromBinary(RuleSchema, parsed.payload) as unknown as { percent: number };
    assert.equal(rule.percent, 15);
  });

  it('encodes every field kind: nested, repeated, map, enum, oneof, imports, bytes, bool', () => {
    const s = new ProtobufSerializer(OrderSchema, { useSchemaId: 1 });
    const init = {
      ...orderInit(1),
      labels: { env: 'prod', team: 'a' },
      total: { currency: 'EUR', units: 12n },
      status: 1,
      placed: { seconds: 1_700_000_000n, nanos: 5 },
      payment: { case: 'voucher', value: 'V-1' },
      blob: new Uint8Array([0, 255]),
      gift: true,
    };
    const parsed = parseWireFormat(s.serialize('t', init, [])!, { messageIndexes: true });
    const back = fromBinary(OrderSchema, parsed.payload) as unknown as Record<string, unknown>;
    assert.deepEqual(back['labels'], { env: 'prod', team: 'a' });
    assert.equal((back['total'] as { units: bigint }).units, 12n);
    assert.deepEqual(back['payment'], { case: 'voucher', value: 'V-1' });
    assert.equal(back['createdAt'], 1_700_000_000_001n);
    assert.equal((back['address'] as { zip: string }).zip, '10001');
    assert.equal((back['items'] as { qty: number }[])[1]!.qty, 2);
    assert.equal(back['gift'], true);
  });

  it('names the field path of a wrong type, an unknown field or a wrong message', () => {
    const s = new ProtobufSerializer(OrderSchema, { useSchemaId: 1 });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ quantity: '3' }, /protobuf message shop\.Order: field quantity should be int32, got the string "3"/],
      [{ quantity: 2 ** 31 }, /field quantity should be int32, got the number 2147483648/],
      [{ customer: 42 }, /field customer should be string, got the number 42/],
      [{ gift: 'yes' }, /field gift should be bool, got the string "yes"/],
      [{ amount: '1.5' }, /field amount should be double/],
      [{ createdAt: 1.5 }, /field createdAt should be int64/],
      [{ createdAt: 'soon' }, /field createdAt should be int64/],
      [{ blob: 'AAE=' }, /field blob should be bytes, got the string "AAE="/],
      [{ tags: 'a' }, /field tags should be a list of string, got the string "a"/],
      [{ tags: ['a', 1] }, /field tags\[1\] should be string, got the number 1/],
      [
        {
          items: [
            { sku: 'a', qty: 1 },
            { sku: 'b', qty: -1 },
          ],
        },
        /field items\[1\]\.qty should be uint32, got the number -1/,
      ],
      [{ address: { zip: 12345 } }, /field address\.zip should be string, got the number 12345/],
      [
        { address: 'Main St' },
        /field address should be message shop\.Order\.Address, got the string "Main St"/,
      ],
      [{ labels: { env: 1 } }, /field labels\["env"\] should be string, got the number 1/],
      [{ status: 'PAID' }, /field status should be enum shop\.Status \(a number\), got the string "PAID"/],
      [{ total: { units: 1.5 } }, /field total\.units should be int64/],
      [{ placed: { seconds: 'x' } }, /field placed\.seconds should be int64/],
      [{ payment: { case: 'cash', value: 'x' } }, /field payment\.case should be a oneof/],
      [{ payment: { case: 'card', value: 5 } }, /field payment\.value should be string, got the number 5/],
      [{ quantiti: 3 }, /field quantiti is not a field of shop\.Order/],
      [{ address: { zipcode: '1' } }, /field address\.zipcode is not a field of shop\.Order\.Address/],
      [
        { address: create(ItemSchema, {}) },
        /field address should be message shop\.Order\.Address, got a message shop\.Order\.Item/,
      ],
    ];
    for (const [patch, message] of cases) {
      assert.throws(
        () => s.serialize('t', { ...orderInit(1), ...patch }, []),
        invalidAt(message),
        String(message),
      );
    }
    assert.throws(
      () => s.serialize('t', create(ShipmentSchema, {}) as never, []),
      invalidAt(/the value should be message shop\.Order, got a message shop\.Shipment/),
    );
    assert.throws(
      () => s.serialize('t', 'order' as never, []),
      invalidAt(/the value should be message shop\.Order/),
    );
    // Unharmed afterwards.
    assert.ok(s.serialize('t', orderInit(2), []));
  });

  it('with validate: false, still refuses a message of another type', () => {
    const s = new ProtobufSerializer(OrderSchema, { validate: false });
    assert.throws(
      () => s.serialize('t', create(ShipmentSchema, {}) as never, []),
      invalidAt(/expected a shop\.Order message, got a shop\.Shipment/),
    );
    // What toBinary itself refuses still becomes a SerializationError.
    assert.throws(
      () => s.serialize('t', { quantity: 'three' }, []),
      invalidAt(/could not encode protobuf message shop\.Order: .*int32/),
    );
  });
});

describe('ProtobufSerializer with a Schema Registry', () => {
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

  it('registers the file descriptor with its imports as references; well-known types are not', async () => {
    const s = new ProtobufSerializer(OrderSchema, { registry: client, topics: ['orders'] });
    await s.prepare();
    const subjects = registry.subjects();
    assert.deepEqual([...subjects.keys()].sort(), ['orders-value', 'shop/common.proto']);
    const common = registry.schema(subjects.get('shop/common.proto')![0]!)!;
    assert.equal(common.schemaType, 'PROTOBUF');
    assert.deepEqual(
      fromBinary(FileDescriptorProtoSchema, Buffer.from(common.schema, 'base64')),
      file_shop_common.proto,
    );
    const id = subjects.get('orders-value')![0]!;
    const main = registry.schema(id)!;
    assert.deepEqual(main.references, [
      { name: 'shop/common.proto', subject: 'shop/common.proto', version: 1 },
    ]);
    const file = fromBinary(FileDescriptorProtoSchema, Buffer.from(main.schema, 'base64'));
    assert.equal(file.name, 'shop/order.proto');
    assert.deepEqual(file.dependency, ['shop/common.proto', 'google/protobuf/timestamp.proto']);
    assert.deepEqual(file, file_shop_order.proto);
    const out = s.serialize('orders', orderInit(3), [])!;
    assert.equal(hex(out.subarray(0, 6)), hex(encodeHeader(id, [0])));
  });

  it('looks up the file and its imports with autoRegisterSchemas: false', async () => {
    const s = new ProtobufSerializer(DiscountSchema, {
      registry: client,
      topics: ['orders'],
      autoRegisterSchemas: false,
    });
    registry.requests.length = 0;
    await s.prepare();
    assert.deepEqual(
      registry.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /subjects/shop%2Fcommon.proto', 'POST /subjects/orders-value'],
    );
    const out = s.serialize('orders', { code: 'X', rule: { percent: 5 } }, [])!;
    const parsed = parseWireFormat(out, { messageIndexes: true });
    assert.deepEqual(parsed.messageIndexes, [0, 2]);
    assert.equal(parsed.schemaId, registry.subjects().get('orders-value')![0]);
  });

  it('names subjects after the full message name with RecordNameStrategy, nested ones too', async () => {
    const s = new ProtobufSerializer(RuleSchema, {
      registry: client,
      subjectNameStrategy: recordNameStrategy,
    });
    await s.prepare();
    assert.ok(registry.subjects().has('shop.Order.Discount.Rule'));
    const parsed = parseWireFormat(s.serialize('any', { percent: 1 }, [])!, { messageIndexes: true });
    assert.deepEqual(parsed.messageIndexes, [0, 2, 0]);
  });

  it('writes with the latest id under useLatestVersion, keeping the local index path', async () => {
    const { id } = registry.register('latest-value', {
      schema: 'c3ludGF4ID0gInByb3RvMyI7',
      schemaType: 'PROTOBUF',
    });
    const s = new ProtobufSerializer(ItemSchema, {
      registry: client,
      topics: ['latest'],
      useLatestVersion: true,
    });
    await s.prepare();
    assert.equal(hex(s.serialize('latest', {}, [])), hex(encodeHeader(id, [0, 1])));
  });

  it('fails a send for a topic it did not prepare', async () => {
    const s = new ProtobufSerializer(OrderSchema, { registry: client, topics: ['orders'] });
    await s.prepare();
    assert.throws(
      () => s.serialize('elsewhere', orderInit(1), []),
      invalidAt(/list the topic in the serializer's topics option/),
    );
  });
});
