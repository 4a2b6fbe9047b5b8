import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { resolveOptional } from './native.js';

/**
 * The zstd fallback: libzstd compiled to WebAssembly by `@bokuweb/zstd-wasm`,
 * instantiated synchronously.
 *
 * The package's own `init()` is asynchronous (it reads the .wasm with
 * fs/promises and awaits `WebAssembly.instantiate`). Its Emscripten glue also
 * honours the standard `Module.instantiateWasm` hook, so we compile and
 * instantiate the same .wasm with the synchronous `WebAssembly.Module` /
 * `WebAssembly.Instance` constructors (allowed off the browser main thread, in
 * Node and Bun, for any size) and hand the instance to the glue; its runtime
 * then initialises before `init` returns. No top-level await, no promise to
 * wait for: the first zstd call pays about 3 ms of compilation.
 *
 * It exports the one-shot `ZSTD_compress_usingDict` / `ZSTD_decompress_usingDict`
 * (no streaming API), which with an empty dictionary are `ZSTD_compressCCtx` /
 * `ZSTD_decompressDCtx`: we keep one context of each, as zstd advises for
 * repeated calls. One-shot decompression needs the output capacity up front,
 * and Kafka's Java producer writes frames without a content size (zstd-jni
 * streams), so {@link zstdDecompressedBound} walks the block headers for it.
 */

/** The slice of the WebAssembly JS API we use (TypeScript's ES2023 lib without DOM does not declare it). */
interface WasmInstance {
  readonly exports: object;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}

interface EmscriptenZstd {
  instantiateWasm?: (imports: object, receive: (instance: WasmInstance) => unknown) => object;
  init(): void;
  calledRun?: boolean;
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _ZSTD_isError(code: number): number;
  _ZSTD_compressBound(size: number): number;
  _ZSTD_createCCtx(): number;
  _ZSTD_createDCtx(): number;
  _ZSTD_compress_usingDict(
    cctx: number,
    dst: number,
    capacity: number,
    src: number,
    size: number,
    dict: number,
    dictSize: number,
    level: number,
  ): number;
  _ZSTD_decompress_usingDict(
    dctx: number,
    dst: number,
    capacity: number,
    src: number,
    size: number,
    dict: number,
    dictSize: number,
  ): number;
}

export interface ZstdWasm {
  compress(data: Uint8Array, level: number): Buffer;
  /** Decompresses into at most `capacity` bytes; throws if the frames need more or are corrupt. */
  decompress(data: Uint8Array, capacity: number): Buffer;
}

/** Loads and instantiates the WASM build synchronously; undefined if the package or WebAssembly is missing. */
export function loadZstdWasm(): ZstdWasm | undefined {
  const main = resolveOptional('@bokuweb/zstd-wasm');
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (main === undefined || wasm === undefined) return undefined;
  try {
    // The package's `exports` name only its entry point; its glue module and
    // .wasm sit beside it (dist/common/), reached relative to the entry.
    const { Module } = createRequire(main)('./module.js') as { Module: EmscriptenZstd };
    if (!Module.calledRun) {
      const bytes = readFileSync(join(dirname(main), 'zstd.wasm'));
      Module.instantiateWasm = (imports, receive) => {
        const instance = new wasm.Instance(new wasm.Module(bytes), imports);
        receive(instance);
        return instance.exports;
      };
      Module.init();
    }
    if (!Module.calledRun) return undefined;
    return wrap(Module);
  } catch {
    return undefined;
  }
}

function wrap(m: EmscriptenZstd): ZstdWasm {
  const cctx = m._ZSTD_createCCtx();
  const dctx = m._ZSTD_createDCtx();
  if (cctx === 0 || dctx === 0) throw new Error('zstd-wasm: cannot create contexts');
  return {
    compress(data, level) {
      const capacity = m._ZSTD_compressBound(data.length);
      const src = m._malloc(Math.max(1, data.length));
      const dst = m._malloc(capacity);
      try {
        if (src === 0 || dst === 0) throw new Error('zstd-wasm: out of memory');
        m.HEAPU8.set(data, src);
        const n = m._ZSTD_compress_usingDict(cctx, dst, capacity, src, data.length, 0, 0, level);
        if (m._ZSTD_isError(n)) throw new Error(`zstd-wasm: compression failed (zstd error code ${-n})`);
        return Buffer.from(m.HEAPU8.subarray(dst, dst + n));
      } finally {
        m._free(src);
        m._free(dst);
      }
    },
    decompress(data, capacity) {
      const src = m._malloc(Math.max(1, data.length));
      const dst = m._malloc(Math.max(1, capacity));
      try {
        if (src === 0 || dst === 0) throw new Error(`zstd-wasm: cannot allocate ${capacity} byte(s)`);
        m.HEAPU8.set(data, src);
        const n = m._ZSTD_decompress_usingDict(dctx, dst, capacity, src, data.length, 0, 0);
        if (m._ZSTD_isError(n)) throw new Error(`corrupt or truncated frame (zstd error code ${-n})`);
        return Buffer.from(m.HEAPU8.subarray(dst, dst + n));
      } finally {
        m._free(src);
        m._free(dst);
      }
    },
  };
}

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xffff_fff0;
const SKIPPABLE_MAGIC = 0x184d_2a50;
const MAX_BLOCK_SIZE = 128 * 1024;

/**
 * An upper bound of what the zstd frames in `data` decode to, from their
 * headers: the frame content size where the header has one, otherwise the
 * sum over blocks of the raw/RLE block size or, for a compressed block, the
 * format's block maximum (min(window size, 128 KiB)). Throws `Error` with a
 * description for input that is not a sequence of well-formed frame and
 * block headers.
 */
export function zstdDecompressedBound(data: Uint8Array): number {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let bound = 0;
  let pos = 0;
  if (view.length === 0) throw new Error('empty input');
  while (pos < view.length) {
    if (view.length - pos < 4) throw new Error(`truncated magic at offset ${pos}`);
    const magic = view.readUInt32LE(pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (view.length - pos < 8) throw new Error('truncated skippable frame');
      pos += 8 + view.readUInt32LE(pos + 4);
      if (pos > view.length) throw new Error('skippable frame overruns the input');
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new Error(`bad magic 0x${magic.toString(16)} at offset ${pos}`);
    pos += 4;
    if (pos >= view.length) throw new Error('truncated frame header');
    const fhd = view[pos++]!;
    if (fhd & 0x08) throw new Error('reserved bit set in the frame header descriptor');
    const fcsFlag = fhd >>> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    const hasChecksum = (fhd & 0x04) !== 0;
    const dictIdSize = [0, 1, 2, 4][fhd & 3]!;
    const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
    const headerRest = (singleSegment ? 0 : 1) + dictIdSize + fcsSize;
    if (view.length - pos < headerRest) throw new Error('truncated frame header');
    let windowSize = 0;
    if (!singleSegment) {
      const wd = view[pos++]!;
      const base = 2 ** (10 + (wd >>> 3));
      windowSize = base + (base / 8) * (wd & 7);
    }
    pos += dictIdSize;
    let contentSize: number | undefined;
    if (fcsSize === 1) contentSize = view[pos]!;
    else if (fcsSize === 2) contentSize = view.readUInt16LE(pos) + 256;
    else if (fcsSize === 4) contentSize = view.readUInt32LE(pos);
    else if (fcsSize === 8) contentSize = view.readUInt32LE(pos) + view.readUInt32LE(pos + 4) * 2 ** 32;
    pos += fcsSize;
    if (singleSegment) windowSize = contentSize!;
    const blockMax = Math.min(windowSize, MAX_BLOCK_SIZE);
    let frameBound = 0;
    for (;;) {
      if (view.length - pos < 3) throw new Error(`truncated block header at offset ${pos}`);
      const header = view[pos]! | (view[pos + 1]! << 8) | (view[pos + 2]! << 16);
      pos += 3;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new Error(`reserved block type at offset ${pos - 3}`);
      if (type === 0)
        frameBound += size; // raw
      else if (type === 1)
        frameBound += size; // RLE: one byte repeated `size` times
      else frameBound += blockMax; // compressed
      pos += type === 1 ? 1 : size;
      if (pos > view.length) throw new Error(`block at offset ${pos} overruns the input`);
      if (header & 1) break;
    }
    if (hasChecksum) pos += 4;
    if (pos > view.length) throw new Error('truncated content checksum');
    bound += contentSize ?? frameBound;
  }
  return bound;
}
