import { gunzipSync, gzipSync } from 'node:zlib';
import type { CompressionCodec } from './codec.js';
import { codecError } from './native.js';

/**
 * gzip through node:zlib (zlib, native in every runtime we target). Level 6,
 * zlib's and Java's `Deflater.DEFAULT_COMPRESSION`, which Kafka's
 * `compression.gzip.level` defaults to. Decompression accepts concatenated
 * gzip members, as `GZIPInputStream` does.
 */
export function createGzipCodec(): CompressionCodec {
  return {
    type: 1,
    name: 'gzip',
    implementation: 'node:zlib',
    compress: (data) => gzipSync(data),
    decompress(data) {
      if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b) {
        throw codecError('gzip', `not a gzip stream (${data.length} byte(s), no 1f 8b magic)`);
      }
      try {
        return gunzipSync(data);
      } catch (cause) {
        throw codecError('gzip', 'corrupt stream', cause);
      }
    },
  };
}
