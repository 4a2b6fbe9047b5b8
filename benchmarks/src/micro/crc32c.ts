/**
 * CRC32C micro-benchmark: GB/s of the native (@node-rs/crc32) and pure
 * (slicing-by-16) implementations and of the size-dispatching `crc32c`, on
 * 100 B, 1 KiB, 16 KiB and 1 MiB, plus a sweep that locates the size where the
 * native call starts to win (NATIVE_MIN_BYTES in core's crc32c.ts).
 *
 *   npx tsc -b core benchmarks && node benchmarks/dist/src/micro/crc32c.js
 *
 * Inputs are views at offset 21 of a larger buffer, as a record batch's CRC is.
 */
import type * as Crc32c from '../../../core/dist/src/protocol/crc32c.js';

// Types come from core's declarations; the module is loaded from core's
// compiled output beside this package (one level deeper once compiled).
const crc = (await import(
  new URL('../../../../core/dist/src/protocol/crc32c.js', import.meta.url).href
)) as typeof Crc32c;

type Fn = (bytes: Uint8Array, start?: number, end?: number) => number;

/** Deterministic bytes (xorshift32), so runs compare. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** GB/s of fn over [21, 21 + size) of a buffer, after a warm-up, for at least `ms` of timed calls. */
function gbPerSecond(fn: Fn, size: number, ms = 300): number {
  const buf = bytes(size + 21, size);
  const end = size + 21;
  let sink = 0;
  const warm = Math.max(1000, Math.min(200_000, Math.floor(50e6 / size)));
  for (let i = 0; i < warm; i++) sink ^= fn(buf, 21, end);
  const batch = Math.max(1, Math.floor(4e6 / size));
  let calls = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  do {
    for (let i = 0; i < batch; i++) sink ^= fn(buf, 21, end);
    calls += batch;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < BigInt(ms) * 1_000_000n);
  if (sink === 0.5) console.log(sink); // keep the results alive
  return (size * calls) / Number(elapsed);
}

const impls: [string, Fn][] = [['pure-ts slicing-by-16', crc.crc32cPure]];
if (crc.crc32cNative !== undefined) impls.push(['@node-rs/crc32 (native)', crc.crc32cNative]);
impls.push(['crc32c (dispatch)', crc.crc32c]);

console.log(`crc32c implementation: ${crc.crc32cImplementation}`);
console.log(`node ${process.version} ${process.platform}-${process.arch}\n`);
const sizes = [100, 1024, 16 * 1024, 1024 * 1024];
console.log(['GB/s'.padEnd(26), ...sizes.map((s) => `${s} B`.padStart(11))].join(''));
for (const [name, fn] of impls) {
  console.log([name.padEnd(26), ...sizes.map((s) => gbPerSecond(fn, s).toFixed(2).padStart(11))].join(''));
}

if (crc.crc32cNative !== undefined) {
  console.log(
    '\ncrossover sweep (GB/s, pure vs native; the dispatch switches at',
    crc.NATIVE_MIN_BYTES,
    'B)',
  );
  for (const size of [64, 128, 192, 256, 320, 384, 512, 768, 1024]) {
    const pure = gbPerSecond(crc.crc32cPure, size, 150);
    const native = gbPerSecond(crc.crc32cNative, size, 150);
    console.log(
      `${String(size).padStart(5)} B  pure ${pure.toFixed(2)}  native ${native.toFixed(2)}  ${native > pure ? 'native' : 'pure'}`,
    );
  }
}
