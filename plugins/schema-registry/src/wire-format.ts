import { Writer } from '@tributary/core';
import { WireFormatError } from './errors.js';

/**
 * The Confluent Schema Registry wire format, which every Confluent
 * serializer writes and every Confluent deserializer expects:
 *
 * ```
 * byte 0      magic byte 0x00
 * bytes 1-4   schema id, int32 big-endian
 * Protobuf:   the message-index path: zig-zag varints, count then each index;
 *             the common path [0] is the single byte 0x00
 * then        the payload (Avro binary, Protobuf binary, JSON text)
 * ```
 *
 * Examples of index paths: [0] -> `00`, [1] -> `02 02`, [0, 2] -> `04 00 04`.
 */
export const MAGIC_BYTE = 0;

/** Bytes before the payload for Avro and JSON Schema: magic byte and schema id. */
export const HEADER_SIZE = 5;

function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new RangeError(`a schema id is a non-negative int32, got ${schemaId}`);
  }
}

/** The header of a record: magic byte, schema id, then the Protobuf message-index path when given. */
export function encodeHeader(schemaId: number, messageIndexes?: readonly number[]): Uint8Array {
  checkSchemaId(schemaId);
  const indexes = messageIndexes === undefined ? undefined : encodeMessageIndexes(messageIndexes);
  const out = new Uint8Array(HEADER_SIZE + (indexes?.length ?? 0));
  out[0] = MAGIC_BYTE;
  new DataView(out.buffer).setInt32(1, schemaId, false);
  if (indexes !== undefined) out.set(indexes, HEADER_SIZE);
  return out;
}

/** The header followed by the payload, in one new buffer. */
export function frame(header: Uint8Array, payload: Uint8Array): Uint8Array {
  // Buffer.allocUnsafe takes small buffers from Node's pool: cheaper than a zeroed Uint8Array.
  const out = Buffer.allocUnsafe(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

/**
 * A Protobuf message-index path (the message's index in its file, then in
 * each enclosing message, outermost first) as zig-zag varints: the count,
 * then each index. [0], the first message of the file, is the single byte
 * 0x00 (a count of zero), as the Confluent serializers write it.
 */
export function encodeMessageIndexes(indexes: readonly number[]): Uint8Array {
  if (indexes.length === 0) throw new RangeError('a message-index path has at least one index');
  for (const i of indexes) {
    if (!Number.isInteger(i) || i < 0 || i > 0x7fffffff) {
      throw new RangeError(`message indexes are non-negative int32s, got ${i}`);
    }
  }
  if (indexes.length === 1 && indexes[0] === 0) return Uint8Array.of(0);
  // At most 5 bytes a varint. Every value is a non-negative int32 (the count too: no array is that long).
  const w = new Writer(5 * (indexes.length + 1)).varint(indexes.length);
  for (const i of indexes) w.varint(i);
  // A plain Uint8Array with its own memory, as before (`finish()` gives a Buffer).
  return new Uint8Array(w.view());
}

function readZigZagVarint(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= bytes.length) throw new WireFormatError('truncated varint in the message-index path');
    const b = bytes[pos++]!;
    result += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) {
      const value = result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      return [value, pos];
    }
    shift *= 128;
  }
  throw new WireFormatError('a varint in the message-index path is longer than 5 bytes');
}

/** What {@link parseWireFormat} found: the schema id, the index path (Protobuf only) and where the payload starts. */
export interface WireFormat {
  schemaId: number;
  /** Protobuf only: the message-index path, [0] when the record had the single 0x00. */
  messageIndexes?: number[];
  /** The payload: a view of the input, not a copy. */
  payload: Uint8Array;
}

/**
 * Splits a Confluent-framed record. Pass `messageIndexes: true` for
 * Protobuf, whose header carries the index path. Throws a WireFormatError on
 * a wrong magic byte or a truncated header.
 */
export function parseWireFormat(bytes: Uint8Array, options: { messageIndexes?: boolean } = {}): WireFormat {
  if (bytes.length < HEADER_SIZE) {
    throw new WireFormatError(`a framed record has at least ${HEADER_SIZE} bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== MAGIC_BYTE) {
    throw new WireFormatError(`unknown magic byte ${bytes[0]}: not the Confluent wire format`);
  }
  const schemaId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(1, false);
  if (!options.messageIndexes) return { schemaId, payload: bytes.subarray(HEADER_SIZE) };
  let [count, pos] = readZigZagVarint(bytes, HEADER_SIZE);
  if (count < 0) throw new WireFormatError(`negative message-index count ${count}`);
  if (count === 0) return { schemaId, messageIndexes: [0], payload: bytes.subarray(pos) };
  // Every index takes at least one byte, so a forged count cannot make us allocate much.
  if (count > bytes.length - pos)
    throw new WireFormatError(`message-index count ${count} exceeds the record`);
  const messageIndexes: number[] = [];
  for (let i = 0; i < count; i++) {
    let index: number;
    [index, pos] = readZigZagVarint(bytes, pos);
    if (index < 0) throw new WireFormatError(`negative message index ${index}`);
    messageIndexes.push(index);
  }
  return { schemaId, messageIndexes, payload: bytes.subarray(pos) };
}
