import { ProtocolError } from '../errors.js';

const TWO_32 = 0x1_0000_0000;

/**
 * A bounds-checked big-endian reader over one response (or request) body.
 * Every read checks the remaining length first, so truncated input or a
 * forged length ends in a {@link ProtocolError} naming the API, version,
 * field and offset — never a bare RangeError, never an allocation sized by
 * an untrusted length that the input cannot back.
 *
 * The optional `field` argument of each read only feeds error messages; pass
 * string constants so the happy path allocates nothing.
 */
export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  api: string | undefined;
  version: number | undefined;

  constructor(buf: Uint8Array, start = 0, end = buf.length, api?: string, version?: number) {
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
    this.api = api;
    this.version = version;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, field?: string): ProtocolError {
    const where: { api?: string; version?: number; field?: string; offset: number } = { offset: this.pos };
    if (this.api !== undefined) where.api = this.api;
    if (this.version !== undefined) where.version = this.version;
    if (field !== undefined) where.field = field;
    return new ProtocolError(message, where);
  }

  #need(n: number, field: string | undefined): void {
    if (this.end - this.pos < n) {
      throw this.fail(`truncated: need ${n} byte(s), ${this.end - this.pos} left`, field);
    }
  }

  int8(field?: string): number {
    this.#need(1, field);
    return this.buf.readInt8(this.pos++);
  }

  int16(field?: string): number {
    this.#need(2, field);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(field?: string): number {
    this.#need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(field?: string): number {
    this.#need(4, field);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(field?: string): number {
    this.#need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A signed 64-bit integer as a JS number; beyond ±2^53 it cannot be exact, so that is an error. */
  int64(field?: string): number {
    this.#need(8, field);
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    if (hi > 0x1fffff || hi < -0x200000) throw this.fail('int64 outside the safe integer range', field);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  float64(field?: string): number {
    this.#need(8, field);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(field?: string): boolean {
    return this.int8(field) !== 0;
  }

  /** Unsigned LEB128 up to 2^53; a longer run of continuation bytes is malformed. */
  uvarint(field?: string): number {
    const b = this.buf;
    let p = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (p >= this.end) throw this.fail('truncated varint', field);
      const byte = b[p++] as number;
      if (shift < 28) result |= (byte & 0x7f) << shift;
      else result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 49) throw this.fail('varint longer than 8 bytes', field);
    }
    this.pos = p;
    return shift < 28 ? result >>> 0 : result;
  }

  /** Zig-zag varint (signed 32-bit). */
  varint(field?: string): number {
    const start = this.pos;
    const u = this.uvarint(field);
    if (u > 0xffffffff) {
      this.pos = start;
      throw this.fail('varint exceeds 32 bits', field);
    }
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag varlong as a JS number (exact within ±2^52). */
  varlong(field?: string): number {
    const u = this.uvarint(field);
    if (u <= 0xffffffff) return (u >>> 1) ^ -(u & 1);
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  uuid(field?: string): Buffer {
    return this.raw(16, field);
  }

  /** A copy of the next `n` bytes (safe to keep after the input buffer is reused). */
  raw(n: number, field?: string): Buffer {
    this.#need(n, field);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** A view of the next `n` bytes, valid only as long as the input buffer. */
  view(n: number, field?: string): Buffer {
    this.#need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number, field?: string): void {
    this.#need(n, field);
    this.pos += n;
  }

  #utf8(n: number, field: string | undefined): string {
    this.#need(n, field);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  string(field?: string): string {
    const n = this.int16(field);
    if (n < 0) throw this.fail(`negative string length ${n}`, field);
    return this.#utf8(n, field);
  }

  nullableString(field?: string): string | null {
    const n = this.int16(field);
    if (n === -1) return null;
    if (n < 0) throw this.fail(`invalid string length ${n}`, field);
    return this.#utf8(n, field);
  }

  compactString(field?: string): string {
    const n = this.uvarint(field) - 1;
    if (n < 0) throw this.fail('null where a non-null compact string is required', field);
    return this.#utf8(n, field);
  }

  compactNullableString(field?: string): string | null {
    const n = this.uvarint(field) - 1;
    return n < 0 ? null : this.#utf8(n, field);
  }

  stringV(flexible: boolean, field?: string): string {
    return flexible ? this.compactString(field) : this.string(field);
  }

  nullableStringV(flexible: boolean, field?: string): string | null {
    return flexible ? this.compactNullableString(field) : this.nullableString(field);
  }

  bytes(field?: string): Buffer {
    const n = this.int32(field);
    if (n < 0) throw this.fail(`negative bytes length ${n}`, field);
    return this.raw(n, field);
  }

  nullableBytes(field?: string): Buffer | null {
    const n = this.int32(field);
    if (n === -1) return null;
    if (n < 0) throw this.fail(`invalid bytes length ${n}`, field);
    return this.raw(n, field);
  }

  compactBytes(field?: string): Buffer {
    const n = this.uvarint(field) - 1;
    if (n < 0) throw this.fail('null where non-null compact bytes are required', field);
    return this.raw(n, field);
  }

  compactNullableBytes(field?: string): Buffer | null {
    const n = this.uvarint(field) - 1;
    return n < 0 ? null : this.raw(n, field);
  }

  bytesV(flexible: boolean, field?: string): Buffer {
    return flexible ? this.compactBytes(field) : this.bytes(field);
  }

  nullableBytesV(flexible: boolean, field?: string): Buffer | null {
    return flexible ? this.compactNullableBytes(field) : this.nullableBytes(field);
  }

  /**
   * An array length (-1 for null). A count larger than the bytes left could
   * hold (each element takes at least `minElementSize` bytes) is rejected
   * before anything is allocated for it.
   */
  arrayLengthV(flexible: boolean, field?: string, minElementSize = 1): number {
    const n = flexible ? this.uvarint(field) - 1 : this.int32(field);
    if (n < -1) throw this.fail(`invalid array length ${n}`, field);
    if (n > 0 && n * minElementSize > this.end - this.pos) {
      throw this.fail(`array of ${n} element(s) cannot fit in ${this.end - this.pos} byte(s)`, field);
    }
    return n;
  }

  /**
   * Reads a tagged-field section. `onTag` handles the tags it knows (reading
   * exactly `size` bytes) and returns false for others, which are skipped.
   */
  taggedFields(onTag?: (tag: number, size: number, r: Reader) => boolean, field = 'tagged fields'): void {
    const count = this.uvarint(field);
    if (count > this.end - this.pos) throw this.fail(`${count} tagged fields cannot fit`, field);
    let last = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint(field);
      if (tag <= last) throw this.fail(`tag ${tag} out of order after ${last}`, field);
      last = tag;
      const size = this.uvarint(field);
      this.#need(size, field);
      const end = this.pos + size;
      if (onTag?.(tag, size, this)) {
        if (this.pos !== end)
          throw this.fail(`tag ${tag} read ${this.pos - (end - size)} of ${size} byte(s)`, field);
      } else {
        this.pos = end;
      }
    }
  }
}
