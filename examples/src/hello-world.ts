/**
 * Hello world: connect, send ten keyed records, print where each landed, close.
 *
 *   BOOTSTRAP=localhost:9092 TOPIC=hello-world node examples/dist/src/hello-world.js
 *
 * A record's promise resolves once the broker has acknowledged it (acks=all
 * by default) and rejects with a typed error otherwise; an error thrown here
 * ends the program with a non-zero exit code.
 */
import 'reflect-metadata'; // tsyringe needs it before any decorated class loads
import { createProducer } from '@tributary/core';

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9092';
const topic = process.env['TOPIC'] ?? 'hello-world';

const producer = await createProducer({ bootstrapServers, clientId: 'hello-world' });
try {
  const sends = [];
  for (let i = 0; i < 10; i++) {
    // Records with the same key always go to the same partition.
    sends.push(producer.send({ topic, key: `user-${i % 3}`, value: `hello #${i}` }));
  }
  for (const { partition, offset } of await Promise.all(sends)) {
    console.log(`delivered to ${topic}-${partition} at offset ${offset}`);
  }
  console.log(`hello-world: ${sends.length} records delivered`);
} finally {
  await producer.close();
}
