/**
 * Produce request encoding and response decoding, the two protocol steps of
 * every request on the hot path.
 *
 * Encoding: core's hand-tuned `encodeProduceRequestBody` (what the sender
 * calls) for one topic with 6 partitions, each carrying one sealed 16 KiB
 * record batch (16-byte keys, 100-byte values, no compression), into one
 * reused Writer, then `finishChunks()` as the network client does; at v3
 * (classic encoding), v9 (flexible) and v13 (topic ids). Batches of 1 KiB or
 * more are referenced, not copied (the request goes to the socket as chunks
 * around them), so the cost no longer grows with the batches' bytes: GB/s
 * is request bytes framed per second, not a copy rate. Each version's output
 * is decoded once with the general codec and checked.
 *
 * Decoding: a realistic success response (one topic, 6 partitions) encoded
 * with the generated codec at v9 and v11, then `ProduceApi.decodeResponse`
 * in the loop, as the network client does per response.
 *
 *   npx tsc -b benchmarks && node benchmarks/dist/src/micro/produce.js
 */
import {
  encodeProduceRequestBody,
  ProduceApi,
  type ProduceTopicBatches,
  Reader,
  RecordBatchBuilder,
  Writer,
} from '@tributary/core';
import { measure, millions, randomBytes } from './measure.js';

const PARTITIONS = 6;
const BATCH_SIZE = 16 * 1024;
const TOPIC = 'bench-topic';

/** One sealed record batch of 16-byte keys and 100-byte values, filled to BATCH_SIZE. */
function sealedBatch(seed: number): { bytes: Buffer; records: number } {
  const b = new RecordBatchBuilder(Buffer.allocUnsafe(BATCH_SIZE));
  const value = randomBytes(100, seed);
  let ts = 1_790_000_000_000;
  let records = 0;
  while (b.tryAppend(ts++, Buffer.from(`key-${String(records).padStart(12, '0')}`), value) !== -1) records++;
  return { bytes: Buffer.from(b.build()), records };
}

const batches = Array.from({ length: PARTITIONS }, (_, p) => sealedBatch(p + 1));
const topics: ProduceTopicBatches[] = [
  {
    nameBytes: Buffer.from(TOPIC),
    topicId: randomBytes(16, 42),
    partitions: batches.map((b, partition) => ({ partition, records: b.bytes })),
  },
];
const recordBytes = batches.reduce((s, b) => s + b.bytes.length, 0);

console.log(`node ${process.version} ${process.platform}-${process.arch}`);
console.log(
  `\nProduce request body: 1 topic x ${PARTITIONS} partitions x one ${batches[0]?.records}-record batch of ${batches[0]?.bytes.length} B (${recordBytes} B of batches)`,
);
console.log(
  `${'version'.padEnd(26)}${'requests/s (min–max)'.padEnd(30)}${'µs each'.padStart(9)}${'GB/s framed'.padStart(13)}`,
);
const w = new Writer(64 * 1024); // starts small: the first encode grows it once, as in the sender
for (const [version, label] of [
  [3, 'v3 (classic)'],
  [9, 'v9 (flexible)'],
  [13, 'v13 (topic ids)'],
] as const) {
  w.reset();
  encodeProduceRequestBody(w, version, null, -1, 30_000, topics);
  const size = w.length;
  // The bytes must be a Produce request the general decoder reads back: same partitions, same batches.
  const chunks = w.finishChunks();
  const bytes = Array.isArray(chunks) ? Buffer.concat(chunks) : chunks;
  const decoded = ProduceApi.decodeRequest(new Reader(bytes), version);
  const parts = decoded.topicData[0]?.partitionData ?? [];
  if (
    parts.length !== PARTITIONS ||
    parts.some((p, i) => !(p.records ?? Buffer.alloc(0)).equals(batches[i]?.bytes ?? Buffer.alloc(1)))
  ) {
    throw new Error(`v${version}: the encoded request does not decode to the batches given`);
  }
  const m = measure(() => {
    w.reset();
    encodeProduceRequestBody(w, version, null, -1, 30_000, topics);
    return w.finishChunks().length;
  }, 1);
  console.log(
    `${label.padEnd(26)}${millions(m).padEnd(30)}${(m.ns / 1000).toFixed(2).padStart(9)}${((m.opsPerSecond * size) / 1e9).toFixed(2).padStart(13)}`,
  );
}

console.log(`\nProduce response decoding: 1 topic x ${PARTITIONS} partitions, no errors`);
console.log(
  `${'version'.padEnd(26)}${'responses/s (min–max)'.padEnd(30)}${'ns each'.padStart(9)}${'ns/partition'.padStart(14)}`,
);
for (const version of [9, 11]) {
  const enc = new Writer();
  ProduceApi.encodeResponse(enc, version, {
    responses: [
      {
        name: TOPIC,
        topicId: Buffer.alloc(16),
        partitionResponses: Array.from({ length: PARTITIONS }, (_, index) => ({
          index,
          errorCode: 0,
          baseOffset: 12_345_678 + index * 1_000,
          logAppendTimeMs: -1,
          logStartOffset: 0,
          recordErrors: [],
          errorMessage: null,
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
        })),
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [],
  });
  const bytes = enc.finish();
  const back = ProduceApi.decodeResponse(new Reader(bytes), version);
  if (back.responses[0]?.partitionResponses[5]?.baseOffset !== 12_345_678 + 5_000) {
    throw new Error(`v${version}: the response does not decode to what was encoded`);
  }
  const m = measure(() => {
    let s = 0;
    for (let i = 0; i < 64; i++) s += ProduceApi.decodeResponse(new Reader(bytes), version).throttleTimeMs;
    return s;
  }, 64);
  console.log(
    `${`v${version} (${bytes.length} B)`.padEnd(26)}${millions(m).padEnd(30)}${m.ns.toFixed(0).padStart(9)}${(m.ns / PARTITIONS).toFixed(0).padStart(14)}`,
  );
}
