/**
 * RxJS in and out: records flow in from an Observable through `produceFrom`,
 * and the producer's streams feed a live throughput line with the
 * per-partition lag of acknowledgements.
 *
 *   BOOTSTRAP=localhost:9092 TOPIC=clicks COUNT=100000 node examples/dist/src/rxjs-pipeline.js
 *
 * - `records$`: each record accepted into a batch (topic, partition, sizes)
 * - `responses$`: each produce response, per partition, with its latency
 * - `produceFrom(producer, { concurrency })`: sends what an Observable emits,
 *   at most `concurrency` outstanding, and emits each record's metadata
 *
 * The streams emit only while observed and complete when the producer closes.
 */
import 'reflect-metadata';
import { createProducer, type ProducerRecord, produceFrom } from '@tributary/core';
import { bufferTime, filter, lastValueFrom, map, range, reduce, tap } from 'rxjs';

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9092';
const topic = process.env['TOPIC'] ?? 'clicks';
const total = Number(process.env['COUNT'] ?? 100_000);
const windowMs = 250;

const producer = await createProducer<string, string>({
  bootstrapServers,
  lingerMs: 10,
  compressionType: 'lz4',
});
try {
  // Accepted (records$) minus acknowledged (produceFrom's output), per partition: the ack lag.
  const accepted: number[] = [];
  const acked: number[] = [];
  const lag = () => accepted.map((n, p) => `p${p}:${n - (acked[p] ?? 0)}`).join(' ');

  // Live throughput: records and bytes accepted per second, over quarter-second windows.
  const throughput = producer.records$
    .pipe(
      tap((r) => {
        accepted[r.partition] = (accepted[r.partition] ?? 0) + 1;
      }),
      bufferTime(windowMs),
      filter((window) => window.length > 0),
      map((window) => ({
        perSecond: (window.length * 1000) / windowMs,
        bytes: window.reduce((sum, r) => sum + Math.max(r.keySize, 0) + Math.max(r.valueSize, 0), 0),
      })),
    )
    .subscribe(({ perSecond, bytes }) => {
      const mbPerSecond = (bytes * 1000) / windowMs / 1e6;
      console.log(`  ${perSecond} records/s, ${mbPerSecond.toFixed(2)} MB/s, unacked by partition: ${lag()}`);
    });

  // The brokers' side: produce responses and their latency (a failed partition keeps its error code).
  let responses = 0;
  let slowestMs = 0;
  const answers = producer.responses$.subscribe((r) => {
    responses++;
    slowestMs = Math.max(slowestMs, r.latencyMs);
  });

  // The pipeline itself: an Observable of records into the producer, at most 1,000 sends outstanding.
  const delivered = await lastValueFrom(
    range(0, total).pipe(
      map((i): ProducerRecord<string, string> => ({ topic, key: `user-${i % 97}`, value: `click ${i}` })),
      produceFrom(producer, { concurrency: 1000 }),
      tap((m) => {
        acked[m.partition] = (acked[m.partition] ?? 0) + 1;
      }),
      reduce((n) => n + 1, 0),
    ),
  );
  throughput.unsubscribe();
  answers.unsubscribe();

  console.log(`acknowledged by partition: ${acked.map((n, p) => `p${p}:${n}`).join(' ')}`);
  console.log(`${responses} produce responses, the slowest in ${slowestMs} ms`);
  if (delivered !== total) throw new Error(`expected ${total} deliveries, got ${delivered}`);
  console.log(`rxjs-pipeline: ${delivered} records delivered`);
} finally {
  await producer.close();
}
