/**
 * Tributary in the side-by-side benchmark: `lingerMs: 5` and larger batches
 * than the default, defaults otherwise (acks all, idempotence on, 5 requests
 * in flight per connection), as a user tuning for throughput would set it
 * (node-rdkafka and kcat run with librdkafka's 1 MB batches, KafkaJS and
 * @platformatic/kafka send 1,000 records per request). Modes:
 * - `send` (the default mode): `send()` with a promise per record, at most
 *   WINDOW sends outstanding (as benchmarks/src/demo.ts and a real program
 *   would bound them), 64 KiB batches;
 * - `defaults`: the same with the default 16 KiB batches (Java's
 *   batch.size), to show what the tuning is worth;
 * - `batch`: the bulk path, `sendBatch()` of CHUNK records at a time with one
 *   promise per chunk, at most BULK_WINDOW records outstanding, 128 KiB
 *   batches.
 */
import 'reflect-metadata';
import { createProducer } from '@tributary/core';
import { keyBuffers, readWorkload, runClient, startMeasuring, valueBuffer } from '../workload.js';

/**
 * Records outstanding at once: 8,000, the same as the KafkaJS and
 * @platformatic/kafka peers (8 sends of 1,000 records in flight). Larger
 * windows cost more than they gain: every outstanding record's promise is
 * live young-generation memory that each scavenge copies (100,000 outstanding
 * measured ~25% more CPU per record than 8,000 here).
 */
const WINDOW = 8_000;
const CHUNK = 1_000;
const BULK_WINDOW = 32_000;
/**
 * 64 KiB for send(): WINDOW's 8,000 records fill about 2.5 such batches per
 * partition; 128 KiB batches would mostly leave on lingerMs, half full (we
 * measured 0.7-1.1 M records/s with them, against 1.2-1.3 M).
 */
const SEND_BATCH_SIZE = 65_536;
const BULK_BATCH_SIZE = 131_072;

runClient(async () => {
  const { bootstrapServers, topic, records, mode } = readWorkload();
  const keys = keyBuffers();
  const value = valueBuffer();
  // Each batch costs a fixed amount (its buffer, sealing, its share of a
  // request and a response, settling): with 16 KiB batches (130 records here)
  // that is about a third of the CPU per record.
  const producer = await createProducer<Buffer, Buffer>({
    bootstrapServers,
    lingerMs: 5,
    ...(mode === 'defaults' ? {} : { batchSize: mode === 'batch' ? BULK_BATCH_SIZE : SEND_BATCH_SIZE }),
  });
  await producer.partitionsFor(topic); // warm metadata, as every client here does before the clock starts

  let acknowledged = 0;
  let failed = 0;
  let firstError: unknown;
  let outstanding = 0;
  let resume: (() => void) | undefined;
  let drained: (() => void) | undefined;
  const onAck = () => {
    acknowledged++;
    settled();
  };
  const onError = (err: unknown) => {
    failed++;
    firstError ??= err;
    settled();
  };
  const settled = () => {
    outstanding--;
    if (outstanding === 0 && drained !== undefined) drained();
    if (resume !== undefined && outstanding <= WINDOW / 2) {
      const r = resume;
      resume = undefined;
      r();
    }
  };

  const done = startMeasuring();
  if (mode === 'batch') {
    // Chunks are built ahead of the clock's tick would be unfair to the others: build them as we go.
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const chunkDone = (n: number) => {
      acknowledged += n;
      inFlight -= n;
      if (wake !== undefined && inFlight <= BULK_WINDOW / 2) {
        const w = wake;
        wake = undefined;
        w();
      }
    };
    const pending: Promise<void>[] = [];
    for (let start = 0; start < records; start += CHUNK) {
      if (inFlight >= BULK_WINDOW) await new Promise<void>((r) => (wake = r));
      const n = Math.min(CHUNK, records - start);
      const chunk = new Array<{ topic: string; key: Buffer; value: Buffer }>(n);
      for (let j = 0; j < n; j++) chunk[j] = { topic, key: keys[(start + j) % keys.length] as Buffer, value };
      inFlight += n;
      pending.push(
        producer.sendBatch(chunk).then(
          (r) => chunkDone(r.records),
          (err: unknown) => {
            failed += n;
            firstError ??= err;
            chunkDone(0);
          },
        ),
      );
    }
    await Promise.all(pending);
    done(acknowledged, failed, { mode: 'sendBatch', chunk: String(CHUNK) });
    await producer.close();
    if (firstError !== undefined) throw firstError;
    return;
  }
  for (let i = 0; i < records; i++) {
    if (outstanding >= WINDOW) await new Promise<void>((r) => (resume = r));
    outstanding++;
    producer.send({ topic, key: keys[i % keys.length] as Buffer, value }).then(onAck, onError);
  }
  await producer.flush();
  // flush() resolves when the batches are done; the records' own callbacks may still be queued.
  if (outstanding > 0) await new Promise<void>((r) => (drained = r));
  done(acknowledged, failed);
  await producer.close();
  if (firstError !== undefined) throw firstError;
});
