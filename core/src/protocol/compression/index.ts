import { ProtocolError } from '../../errors.js';
import { type CompressionCodec, CompressionType } from './codec.js';
import { createGzipCodec } from './gzip.js';
import { createLz4Codec } from './lz4.js';
import { createSnappyCodec } from './snappy.js';
import { createZstdCodec } from './zstd.js';

export { type CompressionCodec, type CompressionName, CompressionType } from './codec.js';

/** Kafka's "no compression": the records as they are (a view, not a copy). */
const none: CompressionCodec = {
  type: CompressionType.none,
  name: 'none',
  implementation: 'identity',
  compress: (data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  decompress: (data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength),
};

const factories: readonly (() => CompressionCodec)[] = [
  () => none,
  createGzipCodec,
  createSnappyCodec,
  createLz4Codec,
  createZstdCodec,
];
const codecs: (CompressionCodec | undefined)[] = [];

/**
 * The codec for a record batch's compression id (attributes & 7). Each codec
 * loads its library on first request (native where it loads, else its
 * fallback; see each codec's module) and is cached: call it per batch freely.
 * Throws a `ProtocolError` for an id Kafka does not define (5-7).
 */
export function compressionCodec(type: CompressionType): CompressionCodec {
  const cached = codecs[type];
  if (cached !== undefined) return cached;
  const factory = factories[type];
  if (factory === undefined) {
    throw new ProtocolError(`unknown compression type ${type}`, { field: 'attributes' });
  }
  const codec = factory();
  codecs[type] = codec;
  return codec;
}
