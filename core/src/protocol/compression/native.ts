import { createRequire } from 'node:module';
import { ProtocolError } from '../../errors.js';
import type { CompressionName } from './codec.js';

const requireFromHere = createRequire(import.meta.url);

/**
 * Loads an optional module (a native addon, a WASM package) and checks it with
 * `probe`, which returns the usable shape or throws. Any failure (absent
 * package, no binary for this platform or runtime, a binary that loads but
 * misbehaves) returns undefined, so the caller falls back to its portable
 * implementation. Synchronous: no top-level await anywhere in core.
 */
export function loadOptional<T>(specifier: string, probe: (mod: unknown) => T): T | undefined {
  try {
    return probe(requireFromHere(specifier));
  } catch {
    return undefined;
  }
}

/** Resolves a package's main file, for packages whose extra files are not in their `exports`. */
export function resolveOptional(specifier: string): string | undefined {
  try {
    return requireFromHere.resolve(specifier);
  } catch {
    return undefined;
  }
}

/** A zero-copy `Buffer` view of any `Uint8Array` (napi-rs `Buffer` parameters want a real Buffer). */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The error every codec throws for input it cannot decode; the library's error, if any, is the cause. */
export function codecError(codec: CompressionName, message: string, cause?: unknown): ProtocolError {
  const detail = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new ProtocolError(
    `${codec}: ${message}${detail}`,
    { field: 'records' },
    cause === undefined ? {} : { cause },
  );
}
