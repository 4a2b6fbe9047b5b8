import { ProtocolError } from '../errors.js';
import { type CompressionType, compressionCodec } from './compression/index.js';
import { crc32c } from './crc32c.js';
import { Reader } from './reader.js';
import { putInt64, putVarint, putVarlong, sizeOfVarint, sizeOfVarlong } from './writer.js';

/**
 * Record batch v2 (protocol guide, "Record Batch"; KIP-98), the only message
 * format Tributary writes. Layout of the 61-byte header:
 *
 *   0 baseOffset int64         27 baseTimestamp int64
 *   8 batchLength int32        35 maxTimestamp int64
 *  12 partitionLeaderEpoch     43 producerId int64
 *  16 magic int8 (= 2)         51 producerEpoch int16
 *  17 crc uint32 (CRC32C of    53 baseSequence int32
 *     bytes 21..end)           57 recordCount int32
 *  21 attributes int16         61 records...
 *  23 lastOffsetDelta int32
 *
 * Each record: length varint, attributes int8, timestampDelta varlong,
 * offsetDelta varint, key (varint length, -1 = null), value (likewise),
 * header count varint, then per header a key (varint length + UTF-8) and a
 * value (varint length, -1 = null).
 */
export const RECORD_BATCH_OVERHEAD = 61;
const MAGIC = 2;
/** A record's fixed worst case: length (5) + attributes (1) + timestamp delta (10) + offset delta (5). */
const MAX_RECORD_OVERHEAD = 21;
const NULL_VARINT_SIZE = 1; // zig-zag -1

const ATTR_COMPRESSION_MASK = 0x07;
const ATTR_TIMESTAMP_TYPE = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;

export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const;

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

function sizeOfHeaders(headers: readonly RecordHeader[] | undefined): number {
  if (headers === undefined) return 1;
  let size = sizeOfVarint(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as RecordHeader;
    const k = Buffer.byteLength(h.key, 'utf8');
    size += sizeOfVarint(k) + k;
    size += h.value === null ? NULL_VARINT_SIZE : sizeOfVarint(h.value.length) + h.value.length;
  }
  return size;
}

function sizeOfKeyValueHeaders(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[] | undefined,
): number {
  return (
    (key === null ? NULL_VARINT_SIZE : sizeOfVarint(key.length) + key.length) +
    (value === null ? NULL_VARINT_SIZE : sizeOfVarint(value.length) + value.length) +
    sizeOfHeaders(headers)
  );
}

/**
 * An upper bound of the bytes one record takes in a batch of its own, header
 * included, whatever its timestamp and offset deltas (the Java client's
 * `estimateSizeInBytesUpperBound`). The producer's size check compares this
 * with `maxRequestSize` and `bufferMemory`, and sizes a batch buffer for a
 * record larger than `batchSize`.
 */
export function estimateSizeInBytesUpperBound(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers?: readonly RecordHeader[],
): number {
  return RECORD_BATCH_OVERHEAD + MAX_RECORD_OVERHEAD + sizeOfKeyValueHeaders(key, value, headers);
}

export interface ProducerStamp {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  transactional: boolean;
}

const NO_PRODUCER: ProducerStamp = {
  producerId: -1,
  producerEpoch: -1,
  baseSequence: -1,
  transactional: false,
};

/**
 * Builds one record batch v2 in a caller-supplied buffer (from the buffer
 * pool): each append encodes the record in place, so nothing is allocated per
 * record. `build()` seals it: compresses the records (when a codec is set),
 * fills the header and computes the CRC. Producer id, epoch and sequence are
 * stamped at build time, which is when the sender drains the batch.
 */
export class RecordBatchBuilder {
  readonly buffer: Buffer;
  readonly compression: CompressionType;
  #pos = RECORD_BATCH_OVERHEAD;
  #count = 0;
  #baseTimestamp = 0;
  #maxTimestamp = -1;

  constructor(buffer: Buffer, compression: CompressionType = 0) {
    if (buffer.length < RECORD_BATCH_OVERHEAD) throw new RangeError('a batch buffer needs at least 61 bytes');
    this.buffer = buffer;
    this.compression = compression;
  }

  get recordCount(): number {
    return this.#count;
  }

  /** Bytes written so far, header included, before compression. */
  get sizeInBytes(): number {
    return this.#pos;
  }

  get baseTimestamp(): number {
    return this.#baseTimestamp;
  }

  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }

  /**
   * Appends a record if it fits in the buffer and returns its offset delta,
   * or -1 (nothing written) when it does not.
   */
  tryAppend(
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers?: readonly RecordHeader[],
  ): number {
    const offsetDelta = this.#count;
    if (offsetDelta === 0) this.#baseTimestamp = timestamp;
    const timestampDelta = timestamp - this.#baseTimestamp;
    const bodySize =
      1 +
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(offsetDelta) +
      sizeOfKeyValueHeaders(key, value, headers);
    const total = sizeOfVarint(bodySize) + bodySize;
    if (this.#pos + total > this.buffer.length) return -1;

    const b = this.buffer;
    let p = this.#pos;
    p = putVarint(b, p, bodySize);
    b[p++] = 0; // record attributes: unused
    p = putVarlong(b, p, timestampDelta);
    p = putVarint(b, p, offsetDelta);
    p = putBytes(b, p, key);
    p = putBytes(b, p, value);
    if (headers === undefined) b[p++] = 0;
    else {
      p = putVarint(b, p, headers.length);
      for (let i = 0; i < headers.length; i++) {
        const h = headers[i] as RecordHeader;
        const n = Buffer.byteLength(h.key, 'utf8');
        p = putVarint(b, p, n);
        p += b.write(h.key, p, n, 'utf8');
        p = putBytes(b, p, h.value);
      }
    }
    this.#pos = p;
    this.#count++;
    if (timestamp > this.#maxTimestamp) this.#maxTimestamp = timestamp;
    return offsetDelta;
  }

  /**
   * Seals the batch and returns its bytes: a view of the builder's buffer for
   * uncompressed batches, a new buffer for compressed ones. The builder must
   * not be appended to afterwards.
   */
  build(stamp: ProducerStamp = NO_PRODUCER): Buffer {
    if (this.#count === 0) throw new RangeError('cannot build an empty record batch');
    let batch: Buffer;
    if (this.compression === 0) {
      batch = this.buffer.subarray(0, this.#pos);
    } else {
      const records = this.buffer.subarray(RECORD_BATCH_OVERHEAD, this.#pos);
      const compressed = compressionCodec(this.compression).compress(records);
      batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length);
      batch.set(compressed, RECORD_BATCH_OVERHEAD);
    }
    batch.writeInt32BE(0, 0); // baseOffset: assigned by the broker
    batch.writeInt32BE(0, 4);
    batch.writeInt32BE(batch.length - 12, 8);
    batch.writeInt32BE(-1, 12); // partitionLeaderEpoch: set by the broker
    batch.writeInt8(MAGIC, 16);
    let attributes = this.compression & ATTR_COMPRESSION_MASK;
    if (stamp.transactional) attributes |= ATTR_TRANSACTIONAL;
    batch.writeInt16BE(attributes, 21);
    batch.writeInt32BE(this.#count - 1, 23);
    putInt64(batch, 27, this.#baseTimestamp);
    putInt64(batch, 35, this.#maxTimestamp);
    putInt64(batch, 43, stamp.producerId);
    batch.writeInt16BE(stamp.producerEpoch, 51);
    batch.writeInt32BE(stamp.baseSequence, 53);
    batch.writeInt32BE(this.#count, 57);
    batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
    return batch;
  }
}

/**
 * Rewrites the producer id, epoch and base sequence of a sealed batch and
 * recomputes its CRC (the payload, compressed or not, is untouched): for a
 * batch re-sequenced after a producer-epoch bump.
 */
export function restampBatch(batch: Buffer, stamp: ProducerStamp): void {
  putInt64(batch, 43, stamp.producerId);
  batch.writeInt16BE(stamp.producerEpoch, 51);
  batch.writeInt32BE(stamp.baseSequence, 53);
  let attributes = batch.readInt16BE(21) & ~ATTR_TRANSACTIONAL;
  if (stamp.transactional) attributes |= ATTR_TRANSACTIONAL;
  batch.writeInt16BE(attributes, 21);
  batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
}

function putBytes(b: Buffer, p: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    b[p] = 1; // zig-zag(-1)
    return p + 1;
  }
  p = putVarint(b, p, bytes.length);
  b.set(bytes, p);
  return p + bytes.length;
}

// ---------------------------------------------------------------------------
// Decoding (tests, tools, and splitting a batch the broker rejected as too large)

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

export interface DecodedBatch {
  baseOffset: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: CompressionType;
  timestampType: number;
  transactional: boolean;
  control: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  records: DecodedRecord[];
}

/**
 * Decodes every record batch v2 in `bytes` (a Produce request's or Fetch
 * response's records field), verifying each CRC and decompressing. Malformed
 * input throws {@link ProtocolError}.
 */
export function decodeRecordBatches(bytes: Uint8Array): DecodedBatch[] {
  const r = new Reader(bytes, 0, bytes.length, 'RecordBatch');
  const batches: DecodedBatch[] = [];
  while (r.remaining > 0) batches.push(decodeOne(r));
  return batches;
}

function decodeOne(r: Reader): DecodedBatch {
  const baseOffset = r.int64('baseOffset');
  const batchLength = r.int32('batchLength');
  if (batchLength < RECORD_BATCH_OVERHEAD - 12 || batchLength > r.remaining) {
    throw r.fail(`batch length ${batchLength} with ${r.remaining} byte(s) left`, 'batchLength');
  }
  const end = r.pos + batchLength;
  const partitionLeaderEpoch = r.int32('partitionLeaderEpoch');
  const magic = r.int8('magic');
  if (magic !== MAGIC) throw r.fail(`magic ${magic}, only record batch v2 is supported`, 'magic');
  const crc = r.uint32('crc');
  const actual = crc32c(r.buf, r.pos, end);
  if (actual !== crc) {
    throw r.fail(`CRC mismatch: header says ${crc.toString(16)}, bytes give ${actual.toString(16)}`, 'crc');
  }
  const attributes = r.int16('attributes');
  const lastOffsetDelta = r.int32('lastOffsetDelta');
  const baseTimestamp = r.int64('baseTimestamp');
  const maxTimestamp = r.int64('maxTimestamp');
  const producerId = r.int64('producerId');
  const producerEpoch = r.int16('producerEpoch');
  const baseSequence = r.int32('baseSequence');
  const count = r.int32('recordCount');
  const compression = (attributes & ATTR_COMPRESSION_MASK) as CompressionType;
  if (count < 0) throw r.fail(`negative record count ${count}`, 'recordCount');

  let rr: Reader;
  if (compression === 0) {
    rr = new Reader(r.buf, r.pos, end, 'RecordBatch');
  } else {
    let plain: Buffer;
    try {
      plain = compressionCodec(compression).decompress(r.buf.subarray(r.pos, end));
    } catch (cause) {
      if (cause instanceof ProtocolError) throw cause;
      throw new ProtocolError(
        `cannot decompress records: ${(cause as Error).message}`,
        { api: 'RecordBatch', field: 'records', offset: r.pos },
        { cause },
      );
    }
    rr = new Reader(plain, 0, plain.length, 'RecordBatch');
  }
  // Each record takes at least 7 bytes, so a forged count fails before allocating.
  if (count * 7 > rr.remaining)
    throw r.fail(`${count} records cannot fit in ${rr.remaining} byte(s)`, 'recordCount');
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = rr.varint('record length');
    if (length < 0 || length > rr.remaining) throw rr.fail(`record length ${length}`, 'record length');
    const recordEnd = rr.pos + length;
    rr.int8('record attributes');
    const timestampDelta = rr.varlong('timestampDelta');
    const offsetDelta = rr.varint('offsetDelta');
    const key = varBytes(rr, 'key');
    const value = varBytes(rr, 'value');
    const headerCount = rr.varint('header count');
    if (headerCount < 0 || headerCount * 2 > rr.remaining)
      throw rr.fail(`header count ${headerCount}`, 'headers');
    const headers: Array<{ key: string; value: Buffer | null }> = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = rr.varint('header key');
      if (keyLength < 0) throw rr.fail('null header key', 'header key');
      const hk = rr.raw(keyLength, 'header key').toString('utf8');
      headers.push({ key: hk, value: varBytes(rr, 'header value') });
    }
    if (rr.pos !== recordEnd)
      throw rr.fail(`record ${i} length ${length} does not match its fields`, 'record length');
    records.push({
      offset: baseOffset + offsetDelta,
      timestamp: baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  if (rr.remaining !== 0) throw rr.fail(`${rr.remaining} byte(s) after the last record`, 'records');
  r.pos = end;
  return {
    baseOffset,
    partitionLeaderEpoch,
    magic,
    crc,
    attributes,
    compression,
    timestampType: attributes & ATTR_TIMESTAMP_TYPE ? 1 : 0,
    transactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    control: (attributes & ATTR_CONTROL) !== 0,
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    baseSequence,
    records,
  };
}

function varBytes(r: Reader, field: string): Buffer | null {
  const n = r.varint(field);
  if (n === -1) return null;
  if (n < 0) throw r.fail(`invalid length ${n}`, field);
  return r.raw(n, field);
}
