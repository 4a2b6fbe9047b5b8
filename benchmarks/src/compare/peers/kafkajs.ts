/**
 * KafkaJS in the side-by-side benchmark: batched `send()` of BATCH records,
 * IN_FLIGHT sends outstanding, acks -1, the Java-compatible murmur2
 * partitioner, otherwise its defaults (no idempotence, no compression).
 * KafkaJS fetches the topic's metadata on the first send: one round trip
 * inside the measured time.
 */
import kafkajs from 'kafkajs';
import { keyBuffers, readWorkload, runClient, startMeasuring, valueBuffer } from '../workload.js';

const { Kafka, Partitioners, logLevel } = kafkajs;
const BATCH = 1000;
const IN_FLIGHT = 8;

runClient(async () => {
  const { bootstrapServers, topic, records } = readWorkload();
  const keys = keyBuffers();
  const value = valueBuffer();
  const kafka = new Kafka({
    clientId: 'bench-kafkajs',
    brokers: bootstrapServers.split(','),
    logLevel: logLevel.ERROR,
  });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();

  let next = 0;
  let acknowledged = 0;
  const worker = async () => {
    while (next < records) {
      const from = next;
      const n = Math.min(BATCH, records - from);
      next += n;
      const messages = new Array<{ key: Buffer; value: Buffer }>(n);
      for (let j = 0; j < n; j++) messages[j] = { key: keys[(from + j) % keys.length] as Buffer, value };
      await producer.send({ topic, acks: -1, messages });
      acknowledged += n;
    }
  };
  const done = startMeasuring();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  done(acknowledged, 0);
  await producer.disconnect();
});
