/**
 * The hello-world producer on Bun, over Bun's own sockets (`Bun.connect`).
 *
 *   BOOTSTRAP=localhost:9092 TOPIC=hello-bun bun examples/dist/src/bun.js
 *
 * @tributary/adapter-bun exports the same factories as @tributary/adapter-node,
 * so moving between runtimes is changing one import. The transport is passed
 * explicitly here; registering it under TRANSPORT_FACTORY does the same.
 */
import 'reflect-metadata';
import { createTcpTransport } from '@tributary/adapter-bun';
import { createProducer } from '@tributary/core';

const runtime = (globalThis as { Bun?: { version: string } }).Bun;
if (runtime === undefined) {
  console.error('run this under Bun: bun examples/dist/src/bun.js');
  process.exit(2);
}

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9092';
const topic = process.env['TOPIC'] ?? 'hello-bun';

const producer = await createProducer<string, string>(
  { bootstrapServers, clientId: 'hello-bun', lingerMs: 5 },
  { transport: createTcpTransport },
);
try {
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      producer.send({ topic, key: `k${i % 10}`, value: `hello from Bun #${i}` }),
    ),
  );
  const partitions = new Set(results.map((r) => r.partition));
  console.log(`bun ${runtime.version}: ${results.length} records delivered to ${partitions.size} partitions`);
} finally {
  await producer.close();
}
