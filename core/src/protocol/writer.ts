/**
 * A growable big-endian writer for Kafka's primitive types. One instance is
 * reused across many messages (`reset()`); `finish()` copies the written bytes
 * out, so the writer's own buffer never escapes and can be overwritten at once.
 *
 * Methods ending in `V` pick the classic or the compact (flexible-version)
 * encoding from their `flexible` argument, so generated API code needs no
 * branches of its own for that difference.
 */
const EMPTY = Buffer.alloc(0);
const TWO_32 = 0x1_0000_0000;

export class Writer {
  buf: Buffer;
  pos = 0;
  // Buffers written by reference (see `reference`), each with the position in
  // `buf` it goes before, and their total length. Empty for most messages.
  #refs: Buffer[] = [];
  #refAt: number[] = [];
  #refBytes = 0;

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  reset(): this {
    this.pos = 0;
    if (this.#refs.length > 0) {
      this.#refs = [];
      this.#refAt = [];
      this.#refBytes = 0;
    }
    return this;
  }

  /** Bytes of the message so far: those in `buf` plus every referenced buffer's. */
  get length(): number {
    return this.pos + this.#refBytes;
  }

  /**
   * Appends `bytes` without copying them: `finishChunks` hands the buffer
   * itself on, between copies of what was written around it. For large
   * payloads that are already encoded (sealed record batches); the caller
   * must not modify `bytes` until the message has been written out.
   */
  reference(bytes: Buffer): this {
    this.#refs.push(bytes);
    this.#refAt.push(this.pos);
    this.#refBytes += bytes.length;
    return this;
  }

  /**
   * The message as one buffer (a copy, as `finish`) when nothing was written
   * by reference, else as chunks to write in order: one copy of the bytes
   * written here, sliced around the referenced buffers, which are not copied.
   */
  finishChunks(): Buffer | Buffer[] {
    const refs = this.#refs;
    if (refs.length === 0) return this.finish();
    const own = this.finish();
    const at = this.#refAt;
    const chunks: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < refs.length; i++) {
      const to = at[i] as number;
      if (to > from) chunks.push(own.subarray(from, to));
      chunks.push(refs[i] as Buffer);
      from = to;
    }
    if (own.length > from) chunks.push(own.subarray(from));
    return chunks;
  }

  /** Makes room for `n` more bytes, at least doubling so appends stay amortised O(1). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A copy of the bytes written since the last reset (referenced buffers not included: see `finishChunks`). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A view of the bytes written (valid only until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  /**
   * A signed 64-bit integer from a JS number (offsets, timestamps, producer
   * ids all fit in 53 bits); split into two 32-bit halves, no BigInt.
   */
  int64(v: number): this {
    this.ensure(8);
    putInt64(this.buf, this.pos, v);
    this.pos += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  uvarint(v: number): this {
    this.ensure(8);
    this.pos = putUvarint(this.buf, this.pos, v);
    return this;
  }

  /** Zig-zag varint of a signed 32-bit integer. */
  varint(v: number): this {
    this.ensure(5);
    this.pos = putVarint(this.buf, this.pos, v);
    return this;
  }

  /** Zig-zag varlong of a signed integer within ±2^52 (timestamp deltas, offsets). */
  varlong(v: number): this {
    this.ensure(8);
    this.pos = putVarlong(this.buf, this.pos, v);
    return this;
  }

  uuid(v: Uint8Array): this {
    if (v.length !== 16) throw new RangeError(`a UUID is 16 bytes, got ${v.length}`);
    return this.raw(v);
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** A string's UTF-8 bytes after a length written by `len` (which may grow the buffer). */
  #utf8(s: string, byteLength: number): void {
    this.ensure(byteLength);
    this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
  }

  string(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 0x7fff) throw new RangeError(`string of ${n} bytes exceeds the int16 length limit`);
    this.int16(n);
    this.#utf8(s, n);
    return this;
  }

  nullableString(s: string | null): this {
    return s === null ? this.int16(-1) : this.string(s);
  }

  compactString(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.uvarint(n + 1);
    this.#utf8(s, n);
    return this;
  }

  compactNullableString(s: string | null): this {
    return s === null ? this.uvarint(0) : this.compactString(s);
  }

  stringV(s: string, flexible: boolean): this {
    return flexible ? this.compactString(s) : this.string(s);
  }

  nullableStringV(s: string | null, flexible: boolean): this {
    return flexible ? this.compactNullableString(s) : this.nullableString(s);
  }

  bytes(b: Uint8Array): this {
    this.int32(b.length);
    return this.raw(b);
  }

  nullableBytes(b: Uint8Array | null): this {
    return b === null ? this.int32(-1) : this.bytes(b);
  }

  compactBytes(b: Uint8Array): this {
    this.uvarint(b.length + 1);
    return this.raw(b);
  }

  compactNullableBytes(b: Uint8Array | null): this {
    return b === null ? this.uvarint(0) : this.compactBytes(b);
  }

  bytesV(b: Uint8Array, flexible: boolean): this {
    return flexible ? this.compactBytes(b) : this.bytes(b);
  }

  nullableBytesV(b: Uint8Array | null, flexible: boolean): this {
    return flexible ? this.compactNullableBytes(b) : this.nullableBytes(b);
  }

  /** An array's length prefix; -1 writes a null array. */
  arrayLengthV(n: number, flexible: boolean): this {
    if (flexible) return this.uvarint(n + 1);
    return this.int32(n);
  }

  /** A tagged-field section with no fields. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** Reserves an int32 to be filled by {@link patchInt32}; returns its position. */
  reserveInt32(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }
}

export { EMPTY as EMPTY_BYTES };

// Unchecked writers at a position, shared by Writer and the record batch
// builder (which sizes its records exactly, then writes without checks).
// Each returns the position after what it wrote.

/** Unsigned LEB128 of a non-negative integer below 2^53. */
export function putUvarint(b: Buffer, p: number, v: number): number {
  if (v < 0x80000000) {
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
  } else {
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
  }
  b[p++] = v;
  return p;
}

/** Zig-zag varint of a signed 32-bit integer. */
export function putVarint(b: Buffer, p: number, v: number): number {
  return putUvarint(b, p, ((v << 1) ^ (v >> 31)) >>> 0);
}

/** Zig-zag varlong of a signed integer within ±2^52. */
export function putVarlong(b: Buffer, p: number, v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return putVarint(b, p, v);
  return putUvarint(b, p, v >= 0 ? v * 2 : -v * 2 - 1);
}

/** A signed 64-bit integer from a JS number, as two 32-bit halves (no BigInt). */
export function putInt64(b: Buffer, p: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  b.writeInt32BE(hi, p);
  b.writeUInt32BE(v - hi * TWO_32, p + 4);
}

/** Bytes needed for `v` as an unsigned varint. */
export function sizeOfUvarint(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Bytes needed for `v` as a zig-zag varint (signed 32-bit). */
export function sizeOfVarint(v: number): number {
  return sizeOfUvarint(((v << 1) ^ (v >> 31)) >>> 0);
}

/** Bytes needed for `v` as a zig-zag varint/varlong. */
export function sizeOfVarlong(v: number): number {
  return sizeOfUvarint(v >= 0 ? v * 2 : -v * 2 - 1);
}
