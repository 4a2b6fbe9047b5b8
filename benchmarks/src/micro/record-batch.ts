/**
 * Record encoding micro-benchmark: records per second appended into record
 * batch v2 buffers and sealed (header + CRC32C, and compression where set),
 * for 100-byte and 1 KiB values with 16-byte keys, in 16 KiB batches (Java's
 * batch.size default); plus Produce response decoding.
 *
 *   npx tsc -b benchmarks && node benchmarks/dist/src/micro/record-batch.js
 */
import {
  type CompressionName,
  CompressionType,
  ProduceApi,
  Reader,
  RecordBatchBuilder,
  Writer,
} from '@tributary/core';

const BATCH_SIZE = 16 * 1024;

function recordsPerSecond(
  valueSize: number,
  codec: CompressionName,
  ms = 400,
): { rps: number; mbps: number } {
  const key = Buffer.alloc(16, 0x6b);
  const value = Buffer.alloc(valueSize);
  for (let i = 0; i < valueSize; i++) value[i] = (i * 31 + (i >> 3)) & 0x7f; // compressible, not trivial
  const buffer = Buffer.allocUnsafe(BATCH_SIZE);
  const type = CompressionType[codec];
  let records = 0;
  let sink = 0;
  const run = (deadline: bigint) => {
    let ts = 1_700_000_000_000;
    while (process.hrtime.bigint() < deadline) {
      const b = new RecordBatchBuilder(buffer, type);
      while (b.tryAppend(ts++, key, value) !== -1) records++;
      sink ^= b.build().length;
    }
  };
  run(process.hrtime.bigint() + 100_000_000n); // warm-up
  records = 0;
  const start = process.hrtime.bigint();
  run(start + BigInt(ms) * 1_000_000n);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === 0.5) console.log(sink);
  const rps = records / seconds;
  return { rps, mbps: (rps * (valueSize + key.length)) / 1e6 };
}

function produceResponsesPerSecond(partitions: number, ms = 400): number {
  const w = new Writer();
  ProduceApi.encodeResponse(w, 9, {
    responses: [
      {
        name: 'bench-topic',
        partitionResponses: Array.from({ length: partitions }, (_, i) => ({
          index: i,
          errorCode: 0,
          baseOffset: 1_000_000 + i,
          logAppendTimeMs: -1,
          logStartOffset: 0,
          recordErrors: [],
          errorMessage: null,
        })),
      },
    ],
    throttleTimeMs: 0,
  });
  const bytes = w.finish();
  let n = 0;
  const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 100; i++) ProduceApi.decodeResponse(new Reader(bytes), 9);
    n += 100;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

console.log('record batch v2 encoding (16-byte keys, 16 KiB batches, sealed with CRC32C)');
console.log('value   codec    records/s      MB/s');
for (const size of [100, 1024]) {
  for (const codec of ['none', 'lz4', 'zstd', 'snappy', 'gzip'] as const) {
    const { rps, mbps } = recordsPerSecond(size, codec);
    console.log(
      `${String(size).padStart(5)}   ${codec.padEnd(6)} ${Math.round(rps).toLocaleString().padStart(11)} ${mbps.toFixed(0).padStart(9)}`,
    );
  }
}
console.log('\nProduce v9 response decoding');
for (const partitions of [1, 12]) {
  console.log(
    `${partitions} partition(s): ${Math.round(produceResponsesPerSecond(partitions)).toLocaleString()} responses/s`,
  );
}
