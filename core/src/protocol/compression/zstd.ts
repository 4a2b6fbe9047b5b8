import * as zlib from 'node:zlib';
import { isKafkaClientError } from '../../errors.js';
import type { CompressionCodec } from './codec.js';
import { asBuffer, codecError, loadOptional } from './native.js';
import { loadZstdWasm, zstdDecompressedBound } from './zstd-wasm.js';

/**
 * zstd: one standard zstd frame per batch (Kafka 2.1+, magic v2 only), at
 * level 3, the default of Java's `compression.zstd.level` and of libzstd.
 * Decompression accepts any sequence of zstd and skippable frames, with or
 * without a content size (Java's zstd-jni streams and writes none).
 *
 * In order of preference, the first that loads:
 * - `node:zlib`'s zstd, where the runtime has it (Node 22.15+ / 23.8+, where it
 *   is still marked experimental, and Bun): libzstd inside the runtime, and the
 *   fastest of the three under Bun (docs/dependencies.md). Node 20 has none.
 * - `@toondepauw/node-zstd` (napi-rs over the Rust `zstd` crate, libzstd
 *   1.5), prebuilt per platform, no install script;
 * - `@bokuweb/zstd-wasm`, libzstd in WebAssembly, instantiated synchronously
 *   on first use (zstd-wasm.ts).
 */

export const ZSTD_LEVEL = 3;

/** The largest output the WASM fallback allocates for one batch (its heap is 32-bit). */
export const ZSTD_WASM_MAX_OUTPUT = 1 << 30;

/** A zstd implementation; decompress errors are wrapped by the codec. */
export interface ZstdBackend {
  readonly implementation: string;
  compress(data: Uint8Array): Buffer;
  decompress(data: Uint8Array): Buffer;
}

interface ZlibZstd {
  zstdCompressSync(data: Uint8Array, options: { params?: Record<number, number> }): Buffer;
  zstdDecompressSync(data: Uint8Array): Buffer;
  constants: { ZSTD_c_compressionLevel?: number };
}

const SELF_TEST = Buffer.from('zstd self-test zstd self-test zstd self-test');

/** The runtime's own zstd in `node:zlib`, undefined where the runtime has none (Node 20). */
export function loadZlibZstd(): ZstdBackend | undefined {
  const z = zlib as unknown as Partial<ZlibZstd>;
  const { zstdCompressSync, zstdDecompressSync } = z;
  if (typeof zstdCompressSync !== 'function' || typeof zstdDecompressSync !== 'function') return undefined;
  const levelParam = z.constants?.ZSTD_c_compressionLevel;
  const options = levelParam === undefined ? {} : { params: { [levelParam]: ZSTD_LEVEL } };
  try {
    if (!zstdDecompressSync(zstdCompressSync(SELF_TEST, options)).equals(SELF_TEST)) return undefined;
  } catch {
    return undefined;
  }
  return {
    implementation: 'node:zlib zstd (native, built into the runtime)',
    compress: (data) => zstdCompressSync(data, options),
    decompress(data) {
      // Bun's zstdDecompressSync returns what it decoded of a truncated frame
      // without an error; walking the frame and block headers first catches that.
      const bound = zstdDecompressedBound(data);
      const out = zstdDecompressSync(data);
      if (out.length > bound)
        throw new Error(`decoded ${out.length} byte(s), more than the frames' ${bound}`);
      return out;
    },
  };
}

interface NativeZstd {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer };
  Decoder: new () => { decodeSync(data: Buffer): Buffer };
}

/** `@toondepauw/node-zstd`, undefined where it does not load. */
export function loadNativeZstd(): ZstdBackend | undefined {
  return loadOptional('@toondepauw/node-zstd', (mod) => {
    const m = mod as NativeZstd;
    const encoder = new m.Encoder(ZSTD_LEVEL);
    const decoder = new m.Decoder();
    if (!decoder.decodeSync(encoder.encodeSync(SELF_TEST)).equals(SELF_TEST)) {
      throw new Error('node-zstd self-test failed');
    }
    return {
      implementation: '@toondepauw/node-zstd (napi-rs native)',
      compress: (data) => encoder.encodeSync(asBuffer(data)),
      decompress: (data) => decoder.decodeSync(asBuffer(data)),
    };
  });
}

/** libzstd in WebAssembly (zstd-wasm.ts), undefined where WebAssembly or the package is missing. */
export function loadWasmZstd(): ZstdBackend | undefined {
  const wasm = loadZstdWasm();
  if (wasm === undefined) return undefined;
  return {
    implementation: '@bokuweb/zstd-wasm (WebAssembly fallback)',
    compress: (data) => wasm.compress(data, ZSTD_LEVEL),
    decompress(data) {
      let bound: number;
      try {
        bound = zstdDecompressedBound(data);
      } catch (cause) {
        throw codecError('zstd', 'corrupt frame', cause);
      }
      if (bound > ZSTD_WASM_MAX_OUTPUT) {
        throw codecError('zstd', `frames may decode to ${bound} byte(s), more than the WASM decoder allows`);
      }
      return wasm.decompress(data, bound);
    },
  };
}

function loadAny(): ZstdBackend {
  const backend = loadZlibZstd() ?? loadNativeZstd() ?? loadWasmZstd();
  if (backend === undefined)
    throw new Error('zstd: neither the native module nor the WASM build could be loaded');
  return backend;
}

export function createZstdCodec(backend: ZstdBackend = loadAny()): CompressionCodec {
  return {
    type: 4,
    name: 'zstd',
    implementation: backend.implementation,
    compress: (data) => backend.compress(data),
    decompress(data) {
      if (data.length === 0) throw codecError('zstd', 'empty input is not a zstd frame');
      try {
        return backend.decompress(data);
      } catch (cause) {
        if (isKafkaClientError(cause)) throw cause;
        throw codecError('zstd', 'corrupt frame', cause);
      }
    },
  };
}
