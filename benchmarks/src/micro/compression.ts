/**
 * Compression micro-benchmark: compress and decompress MB/s (of uncompressed
 * bytes) and ratio for every codec and every implementation core can select
 * (native, and the fallback it uses where the native module does not load),
 * on a realistic JSON payload: newline-separated e-commerce events, as a
 * producer batches them, at 1 KiB, 16 KiB (Java's default batch.size) and 1 MiB.
 *
 *   npx tsc -b core benchmarks && node benchmarks/dist/src/micro/compression.js
 */
import { mulberry32 } from '@tributary/testkit';
import type { CompressionCodec } from '../../../core/dist/src/protocol/compression/codec.js';
import type * as Index from '../../../core/dist/src/protocol/compression/index.js';
import type * as Lz4 from '../../../core/dist/src/protocol/compression/lz4.js';
import type * as Snappy from '../../../core/dist/src/protocol/compression/snappy.js';
import type * as Zstd from '../../../core/dist/src/protocol/compression/zstd.js';

// Types come from core's declarations; the modules load from core's compiled
// output beside this package (one level deeper once compiled).
async function core<T>(path: string): Promise<T> {
  return (await import(
    new URL(`../../../../core/dist/src/protocol/compression/${path}`, import.meta.url).href
  )) as T;
}
const { compressionCodec } = await core<typeof Index>('index.js');
const { createSnappyCodec, loadPureSnappy } = await core<typeof Snappy>('snappy.js');
const { createLz4Codec, pureLz4 } = await core<typeof Lz4>('lz4.js');
const { createZstdCodec, loadNativeZstd, loadWasmZstd, loadZlibZstd } = await core<typeof Zstd>('zstd.js');

/** The same payload every run. */
const prng = mulberry32;

/** Newline-separated JSON events (~330 B each) until `size` bytes. */
export function jsonPayload(size: number, seed = 7): Buffer {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const types = ['page_view', 'click', 'add_to_cart', 'checkout', 'purchase', 'search'] as const;
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const event = JSON.stringify({
      eventId: `${Math.floor(rnd() * 2 ** 48).toString(16)}-${i}`,
      type: pick(types),
      userId: Math.floor(rnd() * 1_000_000),
      sessionId: Math.floor(rnd() * 2 ** 40).toString(36),
      ts: new Date(1_700_000_000_000 + i * 250 + Math.floor(rnd() * 250)).toISOString(),
      page: `https://shop.example.com/products/${Math.floor(rnd() * 20_000)}?ref=${pick(types)}`,
      price: Math.round(rnd() * 100_000) / 100,
      currency: pick(['EUR', 'USD', 'GBP']),
      device: {
        os: pick(['iOS', 'Android', 'Windows', 'macOS']),
        version: `${Math.floor(rnd() * 17)}.${Math.floor(rnd() * 10)}`,
      },
    });
    parts.push(event);
    length += event.length + 1;
  }
  return Buffer.from(parts.join('\n')).subarray(0, size);
}

/** MB/s (1e6 bytes of uncompressed data per second) of fn(arg), after a warm-up, for at least `ms`. */
function mbPerSecond(fn: (data: Uint8Array) => Buffer, arg: Uint8Array, size: number, ms = 400): number {
  for (let i = 0; i < 5 || i * size < 4e6; i++) fn(arg);
  let calls = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  do {
    fn(arg);
    calls++;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < BigInt(ms) * 1_000_000n);
  return ((size * calls) / Number(elapsed)) * 1000;
}

// Every implementation this runtime can load: the default first, then the fallbacks.
const codecs: CompressionCodec[] = [
  compressionCodec(1),
  compressionCodec(2),
  createSnappyCodec(loadPureSnappy()),
  compressionCodec(3),
  createLz4Codec(pureLz4()),
  ...[loadZlibZstd(), loadNativeZstd(), loadWasmZstd()].flatMap((b) =>
    b === undefined ? [] : [createZstdCodec(b)],
  ),
];
// Where a native module did not load, the default is the fallback: list it once.
const seen = new Set<string>();

console.log(`node ${process.version} ${process.platform}-${process.arch}`);
for (const size of [1024, 16 * 1024, 1024 * 1024]) {
  const data = jsonPayload(size);
  console.log(`\n${size} B of JSON events`);
  console.log(
    `${'codec'.padEnd(52)}${'ratio'.padStart(7)}${'compress MB/s'.padStart(16)}${'decompress MB/s'.padStart(18)}`,
  );
  seen.clear();
  for (const codec of codecs) {
    if (seen.has(codec.implementation)) continue;
    seen.add(codec.implementation);
    const compressed = codec.compress(data);
    if (!codec.decompress(compressed).equals(data))
      throw new Error(`${codec.implementation}: round trip failed`);
    const c = mbPerSecond((d) => codec.compress(d), data, size);
    const d = mbPerSecond((z) => codec.decompress(z), compressed, size);
    console.log(
      `${`${codec.name}: ${codec.implementation}`.padEnd(52)}${(size / compressed.length).toFixed(2).padStart(7)}${c.toFixed(0).padStart(16)}${d.toFixed(0).padStart(18)}`,
    );
  }
}
