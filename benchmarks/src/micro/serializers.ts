/**
 * Serializer throughput: records/s and ns per record for the same order
 * record (8 fields: strings, a double, an int, a 64-bit timestamp, a string
 * list, a nested address, two nested items) as JSON, JSON Schema, Avro and
 * Protobuf, bare and in the Confluent wire format (schema id fixed with
 * useSchemaId, so no registry is involved: prepare() is not on the send path).
 *
 *   npx tsc -b core plugins/schema-registry plugins/avro plugins/protobuf benchmarks
 *   node benchmarks/dist/src/micro/serializers.js
 *
 * The plugin packages are loaded from their compiled output beside this one
 * (as crc32c.ts loads core's internals), so the benchmarks package needs no
 * dependency on them; the types below are the few members used.
 */
import { JsonSerializer } from '@tributary/core';

interface SerializerLike {
  serialize(topic: string, data: unknown, headers: []): Uint8Array | null;
}
type Ctor = new (
  schema: unknown,
  options?: Record<string, unknown>,
) => SerializerLike & {
  type?: { toBuffer(v: unknown): Uint8Array };
};

const load = async (path: string) =>
  (await import(new URL(`../../../../${path}`, import.meta.url).href)) as Record<string, unknown>;
const avro = await load('plugins/avro/dist/src/index.js');
const protobuf = await load('plugins/protobuf/dist/src/index.js');
const registry = await load('plugins/schema-registry/dist/src/index.js');
const fixtures = await load('plugins/protobuf/dist/test/fixtures.js');

const AvroSerializer = avro['AvroSerializer'] as Ctor;
const ProtobufSerializer = protobuf['ProtobufSerializer'] as Ctor;
const JsonSchemaSerializer = registry['JsonSchemaSerializer'] as Ctor;
const orderInit = fixtures['orderInit'] as (i: number) => Record<string, unknown>;
const orderMessage = fixtures['orderMessage'] as (i: number) => unknown;
const OrderSchema = fixtures['OrderSchema'];

const avroSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'quantity', type: 'int' },
    { name: 'createdAt', type: 'long' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    {
      name: 'address',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'street', type: 'string' },
          { name: 'city', type: 'string' },
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
            { name: 'price', type: 'double' },
          ],
        },
      },
    },
  ],
};

const POOL = 1024;
/** The same orders, as each format takes them: createdAt a bigint for Protobuf, a number elsewhere. */
const plain = Array.from({ length: POOL }, (_, i) => {
  const o = orderInit(i);
  return { ...o, createdAt: Number(o['createdAt']) };
});
const inits = Array.from({ length: POOL }, (_, i) => orderInit(i));
const messages = Array.from({ length: POOL }, (_, i) => orderMessage(i));

interface Result {
  name: string;
  perSecond: number;
  bytes: number;
}

/** Records/s of fn over the pool, after a warm-up, for at least `ms` of timed calls. */
function measure(name: string, fn: (v: unknown) => Uint8Array | null, values: unknown[], ms = 1000): Result {
  let bytes = 0;
  for (let i = 0; i < 50_000; i++) bytes = fn(values[i % POOL])!.length;
  let calls = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  do {
    for (let i = 0; i < 10_000; i++) fn(values[(calls + i) % POOL]);
    calls += 10_000;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < BigInt(ms) * 1_000_000n);
  return { name, perSecond: (calls * 1e9) / Number(elapsed), bytes };
}

const json = new JsonSerializer();
const jsonSchema = new JsonSchemaSerializer({ title: 'shop.Order', type: 'object' }, { useSchemaId: 1 });
const avroBare = new AvroSerializer(avroSchema);
const avroFramed = new AvroSerializer(avroSchema, { useSchemaId: 1 });
const pbBare = new ProtobufSerializer(OrderSchema);
const pbFramed = new ProtobufSerializer(OrderSchema, { useSchemaId: 1 });
const pbUnchecked = new ProtobufSerializer(OrderSchema, { useSchemaId: 1, validate: false });
const avroType = avroBare.type!;

const cases: [string, (v: unknown) => Uint8Array | null, unknown[]][] = [
  ['JSON (core JsonSerializer)', (v) => json.serialize('t', v, []), plain],
  ['JSON Schema, framed, no validator', (v) => jsonSchema.serialize('t', v, []), plain],
  ['avsc Type.toBuffer (baseline)', (v) => avroType.toBuffer(v), plain],
  ['Avro, bare', (v) => avroBare.serialize('t', v, []), plain],
  ['Avro, framed', (v) => avroFramed.serialize('t', v, []), plain],
  ['Protobuf, bare, init object', (v) => pbBare.serialize('t', v, []), inits],
  ['Protobuf, framed, init object', (v) => pbFramed.serialize('t', v, []), inits],
  ['Protobuf, framed, message', (v) => pbFramed.serialize('t', v, []), messages],
  ['Protobuf, framed, init, validate off', (v) => pbUnchecked.serialize('t', v, []), inits],
  ['Protobuf, framed, message, validate off', (v) => pbUnchecked.serialize('t', v, []), messages],
];

// Three interleaved rounds, best of each: this is a shared 2-core machine, and
// the first cases would otherwise pay for the others' warm-up.
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const best = new Map<string, Result>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn, values] of cases) {
    const r = measure(name, fn, values, 700);
    const prev = best.get(name);
    if (prev === undefined || r.perSecond > prev.perSecond) best.set(name, r);
  }
}
const results = cases.map(([name]) => best.get(name)!);

console.log(`node ${process.version} ${process.platform}-${process.arch}\n`);
console.log(
  `${'serializer'.padEnd(42)}${'records/s'.padStart(12)}${'ns/record'.padStart(11)}${'bytes'.padStart(7)}`,
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(42)}${Math.round(r.perSecond).toLocaleString('en-US').padStart(12)}${(1e9 / r.perSecond).toFixed(0).padStart(11)}${String(r.bytes).padStart(7)}`,
  );
}
