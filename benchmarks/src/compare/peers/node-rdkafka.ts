/**
 * node-rdkafka (librdkafka 2.12) in the side-by-side benchmark, configured as
 * a user tuning for throughput would: queue.buffering.max.ms 5, batches of up
 * to 10,000 records / 1 MB, acks all, no compression, no idempotence (its
 * default). `produce()` in a loop; on QUEUE_FULL (100,000 records queued, the
 * default) it polls and waits 1 ms, as node-rdkafka's own examples do.
 *
 * mode `dr`: a per-record delivery report (dr_cb), counted in JS, polled
 * every 10 ms; done when every report is in.
 * mode `fire`: no delivery reports; done when `flush()` returns (only the
 * harness's end-offset check says whether everything arrived).
 */
import Kafka from 'node-rdkafka';
import { keyBuffers, readWorkload, runClient, startMeasuring, valueBuffer } from '../workload.js';

const QUEUE_FULL = Kafka.CODES.ERRORS.ERR__QUEUE_FULL;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

runClient(async () => {
  const { bootstrapServers, topic, records, mode } = readWorkload();
  const reports = mode === 'dr';
  const keys = keyBuffers();
  const value = valueBuffer();
  const producer = new Kafka.Producer(
    {
      'metadata.broker.list': bootstrapServers,
      'client.id': `bench-node-rdkafka-${mode}`,
      dr_cb: reports,
      'queue.buffering.max.ms': 5,
      'batch.num.messages': 10_000,
      'batch.size': 1_000_000,
      'compression.codec': 'none',
    },
    { 'request.required.acks': -1 },
  );
  await new Promise<void>((resolve, reject) =>
    producer.connect({ topic, timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
  );

  let acknowledged = 0;
  let failed = 0;
  let allReported: (() => void) | undefined;
  const reported = reports
    ? new Promise<void>((resolve) => {
        allReported = resolve;
      })
    : Promise.resolve();
  if (reports) {
    producer.on('delivery-report', (err) => {
      if (err) failed++;
      else acknowledged++;
      if (acknowledged + failed === records) allReported?.();
    });
    producer.setPollInterval(10);
  }

  const done = startMeasuring();
  for (let i = 0; i < records; ) {
    try {
      producer.produce(topic, null, value, keys[i % keys.length] as Buffer);
      i++;
    } catch (err) {
      if ((err as { code?: number }).code !== QUEUE_FULL) throw err;
      producer.poll();
      await sleep(1);
    }
  }
  await new Promise<void>((resolve, reject) =>
    producer.flush(60_000, (err) => (err ? reject(err) : resolve())),
  );
  await reported;
  // Without delivery reports nothing is counted per record: "handed over and flushed".
  done(reports ? acknowledged : records, failed, { librdkafka: Kafka.librdkafkaVersion });
  await new Promise<void>((resolve) => producer.disconnect(5_000, () => resolve()));
});
