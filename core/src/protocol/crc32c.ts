import { createRequire } from 'node:module';

/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of a
 * record batch v2, over the bytes from `attributes` to the end of the batch.
 *
 * Two implementations, picked once at module load:
 * - `@node-rs/crc32` (napi-rs, prebuilt per platform, SSE4.2 / ARMv8 CRC
 *   instructions): about 8.7 GB/s from 16 KiB up on this project's x86-64 machines.
 * - {@link crc32cPure}, slicing-by-16 in plain TypeScript: about 2.3-2.5 GB/s, and
 *   faster than the native call below `NATIVE_MIN_BYTES`, because an
 *   N-API call and the `subarray` view it needs cost about 100-200 ns. It is also
 *   the fallback wherever the native module does not load (another runtime,
 *   a platform without a prebuilt binary).
 * The numbers are in docs/dependencies.md; `benchmarks/src/micro/crc32c.ts`
 * measures them again.
 */

const CASTAGNOLI_REFLECTED = 0x82f63b78;

/**
 * Below this many bytes the pure implementation wins over the native call.
 * Measured with benchmarks/src/micro/crc32c.ts (Node 20, x86-64, 2 cores; a
 * view at offset 21, as record batches use it): pure vs native GB/s are
 * 2.3 vs 0.9 at 100 B, 2.4 vs 2.0 at 256 B, 2.4 vs 2.1 at 320 B, 2.3 vs 2.4 at
 * 384 B and 2.5 vs 3.2 at 512 B: the curves cross near 384 B.
 */
export const NATIVE_MIN_BYTES = 384;

/** 16 tables of 256 entries: T[k][b] is the CRC of byte b followed by k zero bytes. */
const TABLE = new Int32Array(16 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
  TABLE[i] = c;
}
for (let t = 1; t < 16; t++) {
  for (let i = 0; i < 256; i++) {
    const prev = TABLE[(t - 1) * 256 + i]!;
    TABLE[t * 256 + i] = (prev >>> 8) ^ TABLE[prev & 0xff]!;
  }
}

/**
 * CRC32C of bytes[start, end) by slicing-by-16, as an unsigned 32-bit number.
 * Always available; exported for tests and benchmarks.
 */
export function crc32cPure(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  checkRange(bytes, start, end);
  const t = TABLE;
  let crc = -1;
  let i = start;
  const end16 = end - ((end - start) & 15);
  for (; i < end16; i += 16) {
    const a = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    crc =
      t[3840 + (a & 0xff)]! ^
      t[3584 + ((a >>> 8) & 0xff)]! ^
      t[3328 + ((a >>> 16) & 0xff)]! ^
      t[3072 + (a >>> 24)]! ^
      t[2816 + bytes[i + 4]!]! ^
      t[2560 + bytes[i + 5]!]! ^
      t[2304 + bytes[i + 6]!]! ^
      t[2048 + bytes[i + 7]!]! ^
      t[1792 + bytes[i + 8]!]! ^
      t[1536 + bytes[i + 9]!]! ^
      t[1280 + bytes[i + 10]!]! ^
      t[1024 + bytes[i + 11]!]! ^
      t[768 + bytes[i + 12]!]! ^
      t[512 + bytes[i + 13]!]! ^
      t[256 + bytes[i + 14]!]! ^
      t[bytes[i + 15]!]!;
  }
  for (; i < end; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

/** The check value of CRC-32C ("123456789"), verified before a native module is trusted. */
const CHECK_INPUT = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
const CHECK_VALUE = 0xe3069283;

function loadNative(): NativeCrc32c | undefined {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc32c };
    const fn = mod.crc32c;
    if (typeof fn !== 'function' || fn(CHECK_INPUT) >>> 0 !== CHECK_VALUE) return undefined;
    return fn;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Which implementation {@link crc32c} uses for inputs of `NATIVE_MIN_BYTES` and more. */
export const crc32cImplementation: string =
  native === undefined
    ? 'pure-ts slicing-by-16'
    : `@node-rs/crc32 (native) from ${NATIVE_MIN_BYTES} B, pure-ts slicing-by-16 below`;

/** The native implementation alone, when it loaded: for tests and benchmarks. */
export const crc32cNative: ((bytes: Uint8Array, start?: number, end?: number) => number) | undefined =
  native === undefined
    ? undefined
    : (bytes, start = 0, end = bytes.length) => {
        checkRange(bytes, start, end);
        return native(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) >>> 0;
      };

/** CRC32C of bytes[start, end) (defaults: whole array), as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  if (native === undefined || end - start < NATIVE_MIN_BYTES) return crc32cPure(bytes, start, end);
  checkRange(bytes, start, end);
  return native(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) >>> 0;
}

function checkRange(bytes: Uint8Array, start: number, end: number): void {
  if (!(start >= 0 && start <= end && end <= bytes.length)) {
    throw new RangeError(`crc32c: range [${start}, ${end}) is outside the ${bytes.length}-byte input`);
  }
}
