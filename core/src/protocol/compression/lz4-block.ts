/**
 * The raw LZ4 block format in plain TypeScript: the fallback under our LZ4
 * frame code when `lz4-napi` does not load.
 *
 * Why our own rather than `lz4js` (the usual pure-JS choice): lz4js's block
 * decoder has no bounds checks (a corrupt block silently yields short or
 * garbage output), its frame writer marks blocks as linked with 4 MiB blocks
 * (the Java client refuses linked blocks: "Dependent block stream is
 * unsupported"), and its frame reader takes block checksums from the wrong
 * place. Measured on the JSON payload of benchmarks/src/micro/compression.ts
 * in 64 KiB blocks, this code matches lz4js's block functions (compress about
 * 500 vs 476 MB/s, decompress about 900 vs 890 MB/s) while checking every
 * bound; docs/dependencies.md has the numbers.
 *
 * The compressor is LZ4's "fast" greedy parse at acceleration 1 with a
 * 65,536-entry hash table of 4-byte sequences (in JavaScript the bigger table
 * pays: fewer failed probes, +20% speed and a better ratio than LZ4's 4,096
 * entries on our JSON payload), backward match extension, and the format's
 * end-of-block rules (the last match starts at least 12 bytes before the end,
 * the last 5 bytes are literals), so any LZ4 decoder accepts its output.
 */

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_LOG = 16;
const SKIP_TRIGGER = 6;
/** Below this many bytes a byte loop beats `set`/`copyWithin` and the view they need. */
const SHORT_COPY = 32;

/** The largest block `n` input bytes can compress to (LZ4_COMPRESSBOUND). */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/**
 * Positions in the hash table are stored as `position - start + generation + 1`,
 * and `generation` grows past every value of a call when the call ends, so a
 * stale entry from an earlier block is recognisable without clearing the table.
 */
let table: Int32Array | undefined; // 256 KiB, allocated on first use: most processes use the native codec
let generation = 0;

function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function hash(seq: number): number {
  return Math.imul(seq, 2654435761) >>> (32 - HASH_LOG);
}

function writeLength(dst: Uint8Array, op: number, n: number): number {
  for (; n >= 255; n -= 255) dst[op++] = 255;
  dst[op++] = n;
  return op;
}

function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n < SHORT_COPY) {
    for (let k = 0; k < n; k++) dst[to + k] = src[from + k]!;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

/**
 * Compresses src[start, end) into dst from `at` (dst needs
 * {@link lz4CompressBound} bytes free) as one independent block; returns the
 * end position in dst.
 */
export function lz4CompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  at: number,
): number {
  const length = end - start;
  table ??= new Int32Array(1 << HASH_LOG);
  if (generation > 0x7fff_0000 - length) {
    table.fill(0);
    generation = 0;
  }
  const g = generation;
  generation += length + 1;

  let op = at;
  let anchor = start;
  if (length >= MF_LIMIT + 1) {
    const matchStartLimit = end - MF_LIMIT;
    const matchEndLimit = end - LAST_LITERALS;
    let ip = start;
    let searches = 1 << SKIP_TRIGGER;
    while (ip < matchStartLimit) {
      const seq = read32(src, ip);
      const h = hash(seq);
      const stored = table[h]!;
      table[h] = ip - start + g + 1;
      let ref = stored - g - 1 + start;
      if (stored <= g || ip - ref > MAX_OFFSET || read32(src, ref) !== seq) {
        ip += searches++ >> SKIP_TRIGGER;
        continue;
      }
      searches = 1 << SKIP_TRIGGER;
      while (ip > anchor && ref > start && src[ip - 1] === src[ref - 1]) {
        ip--;
        ref--;
      }
      let matchEnd = ip + MIN_MATCH;
      let r = ref + MIN_MATCH;
      while (matchEnd < matchEndLimit && src[matchEnd] === src[r]) {
        matchEnd++;
        r++;
      }

      const literals = ip - anchor;
      const matchLength = matchEnd - ip - MIN_MATCH;
      const tokenAt = op++;
      if (literals >= 15) op = writeLength(dst, op, literals - 15);
      copyBytes(src, anchor, dst, op, literals);
      op += literals;
      const offset = ip - ref;
      dst[op++] = offset & 0xff;
      dst[op++] = offset >>> 8;
      if (matchLength >= 15) op = writeLength(dst, op, matchLength - 15);
      dst[tokenAt] = (Math.min(literals, 15) << 4) | Math.min(matchLength, 15);

      // Index a position inside the match as the reference does: better ratio, same speed.
      if (matchEnd - 2 < matchStartLimit)
        table[hash(read32(src, matchEnd - 2))] = matchEnd - 2 - start + g + 1;
      ip = anchor = matchEnd;
    }
  }
  const literals = end - anchor;
  const tokenAt = op++;
  dst[tokenAt] = Math.min(literals, 15) << 4;
  if (literals >= 15) op = writeLength(dst, op, literals - 15);
  copyBytes(src, anchor, dst, op, literals);
  return op + literals;
}

/** Thrown by {@link lz4DecompressBlock}; the frame code turns it into a ProtocolError. */
export class Lz4BlockError extends Error {}

/**
 * Decodes the block src[start, end) into dst from `at`, writing no further
 * than `limit`; matches may reach back to `windowStart` (the block's own start
 * for independent blocks, earlier output for linked ones). Returns the end
 * position in dst. Every read and write is bounds-checked: corrupt input
 * throws {@link Lz4BlockError}, it never yields short or garbage output.
 */
export function lz4DecompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  at: number,
  limit: number,
  windowStart: number,
): number {
  let ip = start;
  let op = at;
  for (;;) {
    if (ip >= end) throw new Lz4BlockError(`block ends before its last sequence at input offset ${ip}`);
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4BlockError('truncated literal length');
        b = src[ip++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > end - ip) throw new Lz4BlockError(`${literals} literal(s) overrun the block`);
    if (literals > limit - op) throw new Lz4BlockError('literals overrun the maximum block size');
    copyBytes(src, ip, dst, op, literals);
    ip += literals;
    op += literals;
    if (ip === end) return op; // the last sequence has literals only

    if (end - ip < 2) throw new Lz4BlockError('truncated match offset');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op - windowStart) {
      throw new Lz4BlockError(`match offset ${offset} reaches before the start of the window`);
    }
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4BlockError('truncated match length');
        b = src[ip++]!;
        length += b;
      } while (b === 255);
    }
    length += MIN_MATCH;
    if (length > limit - op) throw new Lz4BlockError('match overruns the maximum block size');

    const from = op - offset;
    if (length < SHORT_COPY) {
      for (let k = 0; k < length; k++) dst[op + k] = dst[from + k]!;
      op += length;
    } else {
      // Overlapping copies repeat the last `offset` bytes; copying in growing
      // chunks from the same `from` keeps the pattern and uses memmove throughout.
      let remaining = length;
      while (remaining > 0) {
        const n = Math.min(op - from, remaining);
        dst.copyWithin(op, from, from + n);
        op += n;
        remaining -= n;
      }
    }
  }
}
