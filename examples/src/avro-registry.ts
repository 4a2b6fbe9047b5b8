/**
 * Avro values with a Confluent Schema Registry.
 *
 *   BOOTSTRAP=localhost:9092 REGISTRY_URL=http://localhost:8081 TOPIC=orders-avro \
 *     node examples/dist/src/avro-registry.js
 *
 * The serializer registers the schema under the subject `<topic>-value` and
 * caches its id before `createProducer` returns (serialize() is synchronous
 * and never talks to the registry), so each record is the Confluent wire
 * format: a zero byte, the schema id, then the Avro binary.
 */
import 'reflect-metadata';
import { AvroSerializer } from '@tributary/avro';
import { createProducer, KEY_SERIALIZER, StringSerializer, VALUE_SERIALIZER } from '@tributary/core';
import { SchemaRegistryClient } from '@tributary/schema-registry';
import { container } from 'tsyringe';

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9092';
const registryUrl = process.env['REGISTRY_URL'] ?? 'http://localhost:8081';
const topic = process.env['TOPIC'] ?? 'orders-avro';

interface Order {
  id: string;
  customer: string;
  amount: number;
  items: string[];
}

// The schema as JSON text (an object or an avsc Type works too); it is registered as written.
const orderSchema = `{
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    { "name": "id", "type": "string" },
    { "name": "customer", "type": "string" },
    { "name": "amount", "type": "double" },
    { "name": "items", "type": { "type": "array", "items": "string" } }
  ]
}`;

const registry = new SchemaRegistryClient({ url: registryUrl });
const valueSerializer = new AvroSerializer<Order>(orderSchema, { registry, topics: [topic] });

// Seams are registered in a container of your own; the producer resolves from a child of it, once.
const c = container.createChildContainer();
c.register(KEY_SERIALIZER, { useValue: new StringSerializer() });
c.register(VALUE_SERIALIZER, { useValue: valueSerializer });

const producer = await createProducer<string, Order>({ bootstrapServers }, { container: c });
try {
  const orders: Order[] = [
    { id: 'o-1', customer: 'ada', amount: 12.5, items: ['tea'] },
    { id: 'o-2', customer: 'grace', amount: 40, items: ['coffee', 'mug'] },
    { id: 'o-3', customer: 'ada', amount: 3.2, items: [] },
    { id: 'o-4', customer: 'linus', amount: 99.99, items: ['keyboard'] },
    { id: 'o-5', customer: 'grace', amount: 7, items: ['biscuits'] },
  ];
  const results = await Promise.all(orders.map((o) => producer.send({ topic, key: o.customer, value: o })));
  for (const [i, r] of results.entries()) {
    console.log(
      `order ${orders[i]?.id} -> ${r.topic}-${r.partition}@${r.offset} (${r.serializedValueSize} bytes)`,
    );
  }

  // A value that does not match the schema fails alone, with the path of the first bad field.
  const bad = { id: 'o-6', customer: 'eve', amount: 'lots', items: [] } as unknown as Order;
  await producer.send({ topic, key: 'eve', value: bad }).then(
    () => {
      throw new Error('a value that does not match the schema was accepted');
    },
    (err: Error) => console.log(`rejected as expected: ${err.message}`),
  );
  console.log(`avro-registry: ${results.length} orders delivered`);
} finally {
  await producer.close();
}
