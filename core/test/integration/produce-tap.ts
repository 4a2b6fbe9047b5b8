import {
  decodeRecordBatches,
  EndTxnApi,
  type EndTxnRequest,
  ProduceApi,
  Reader,
  readRequestHeader,
  requestHeaderVersion,
  type TransportFactory,
} from '../../src/index.js';
import { nodeTcpTransport, tapWrites } from './cluster-fixture.js';

/** One record batch as a Produce request carried it. */
export interface TappedBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  transactional: boolean;
  /** The records' values, in order (null for a tombstone). */
  values: Array<Buffer | null>;
}

/**
 * A transport factory around the Node adapter's TCP transport that decodes
 * the Produce requests written through it and keeps their record batches. It
 * only reads the bytes. For tests: what went on the wire, beside what kcat
 * reads back from the broker.
 */
export async function produceTap(): Promise<{
  factory: TransportFactory;
  batches: TappedBatch[];
  /** The EndTxn requests (commit or abort), in order. */
  endTxns: EndTxnRequest[];
}> {
  const batches: TappedBatch[] = [];
  const endTxns: EndTxnRequest[] = [];
  const observe = (data: Buffer) => {
    // The channel writes whole frames, possibly several at once.
    for (let pos = 0; pos + 4 <= data.length; ) {
      const start = pos + 4;
      const end = start + data.readInt32BE(pos);
      pos = end;
      const apiKey = data.readInt16BE(start);
      const version = data.readInt16BE(start + 2);
      if (apiKey === EndTxnApi.apiKey) {
        const r = new Reader(data, start, end);
        readRequestHeader(r, requestHeaderVersion(EndTxnApi, version));
        endTxns.push(EndTxnApi.decodeRequest(r, version));
        continue;
      }
      if (apiKey !== ProduceApi.apiKey) continue;
      const r = new Reader(data, start, end);
      readRequestHeader(r, requestHeaderVersion(ProduceApi, version));
      for (const t of ProduceApi.decodeRequest(r, version).topicData)
        for (const p of t.partitionData)
          for (const b of decodeRecordBatches(p.records ?? Buffer.alloc(0))) {
            batches.push({
              producerId: b.producerId,
              producerEpoch: b.producerEpoch,
              baseSequence: b.baseSequence,
              transactional: b.transactional,
              values: b.records.map((rec) => rec.value),
            });
          }
    }
  };
  const factory = tapWrites(await nodeTcpTransport(), observe);
  return { factory, batches, endTxns };
}

/** Each record value's stamps on the wire, as `producerId:epoch:sequence`, in the order they were sent. */
export function stampsByValue(batches: readonly TappedBatch[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const b of batches) {
    b.values.forEach((v, i) => {
      const key = v?.toString() ?? '';
      const stamp = `${b.producerId}:${b.producerEpoch}:${b.baseSequence + i}`;
      const list = out.get(key);
      if (list === undefined) out.set(key, [stamp]);
      else if (!list.includes(stamp)) list.push(stamp);
    });
  }
  return out;
}
