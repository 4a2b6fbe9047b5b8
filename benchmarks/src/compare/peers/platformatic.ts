/**
 * @platformatic/kafka in the side-by-side benchmark (it needs Node >= 22.22,
 * so the harness runs this file with Node 22): batched `send()` of BATCH
 * records, IN_FLIGHT sends outstanding, acks -1 (its default without
 * idempotence is 1), otherwise its defaults (no idempotence, 5 requests in
 * flight per connection, no compression).
 */
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { keyBuffers, readWorkload, runClient, startMeasuring, valueBuffer } from '../workload.js';

const BATCH = 1000;
const IN_FLIGHT = 8;

runClient(async () => {
  const { bootstrapServers, topic, records } = readWorkload();
  const keys = keyBuffers();
  const value = valueBuffer();
  const producer = new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: bootstrapServers.split(','),
    acks: ProduceAcks.ALL,
  });
  await producer.metadata({ topics: [topic] });

  let next = 0;
  let acknowledged = 0;
  const worker = async () => {
    while (next < records) {
      const from = next;
      const n = Math.min(BATCH, records - from);
      next += n;
      const messages = new Array<{ topic: string; key: Buffer; value: Buffer }>(n);
      for (let j = 0; j < n; j++)
        messages[j] = { topic, key: keys[(from + j) % keys.length] as Buffer, value };
      await producer.send({ messages });
      acknowledged += n;
    }
  };
  const done = startMeasuring();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  done(acknowledged, 0, { node: process.version });
  await producer.close();
});
