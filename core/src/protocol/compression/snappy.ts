import { isKafkaClientError } from '../../errors.js';
import type { CompressionCodec } from './codec.js';
import { asBuffer, codecError, loadOptional } from './native.js';

/**
 * Snappy as Kafka frames it: the xerial stream of snappy-java's
 * `SnappyOutputStream`, which the Java client writes and librdkafka, Java and
 * every other client read:
 *
 *   magic   82 53 4e 41 50 50 59 00   ("\x82SNAPPY\0")
 *   int32 BE version              1
 *   int32 BE min-compatible version 1
 *   repeated: int32 BE compressed length, one raw snappy block
 *
 * The input is cut into 32 KiB blocks (snappy-java's default block size), each
 * compressed on its own. `decompress` also takes plain raw snappy, which
 * librdkafka produces, telling the two apart by the 8-byte magic exactly as
 * librdkafka and snappy-java do (a raw stream would need an uncompressed length
 * of 10,626 bytes and then a tag that is the letter 'N', and still fail on the
 * rest, to look like the magic).
 */

/** Raw (unframed) snappy: one block in, one block out. */
export interface SnappyBlockCodec {
  readonly implementation: string;
  compress(block: Uint8Array): Uint8Array;
  /** Throws for a corrupt block; the caller wraps the error. */
  uncompress(block: Uint8Array): Uint8Array;
}

export const XERIAL_MAGIC: readonly number[] = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
export const XERIAL_HEADER_LENGTH = 16;
/** snappy-java's `SnappyOutputStream.DEFAULT_BLOCK_SIZE`. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

const XERIAL_HEADER = Buffer.from([...XERIAL_MAGIC, 0, 0, 0, 1, 0, 0, 0, 1]);

interface NativeSnappy {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer;
}

/** `snappy` (napi-rs, Rust `snap`), prebuilt per platform; undefined where it does not load. */
export function loadNativeSnappy(): SnappyBlockCodec | undefined {
  return loadOptional('snappy', (mod) => {
    const m = mod as NativeSnappy;
    const probe = m.uncompressSync(m.compressSync(XERIAL_HEADER), { asBuffer: true });
    if (!XERIAL_HEADER.equals(probe)) throw new Error('snappy native self-test failed');
    return {
      implementation: 'snappy (napi-rs native)',
      compress: (block) => m.compressSync(asBuffer(block)),
      uncompress: (block) => m.uncompressSync(asBuffer(block), { asBuffer: true }),
    };
  });
}

interface SnappyJs {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array): Uint8Array;
}

/** `snappyjs`, plain JavaScript: the fallback. */
export function loadPureSnappy(): SnappyBlockCodec {
  const m = loadOptional('snappyjs', (mod) => mod as SnappyJs);
  if (m === undefined) throw new Error('snappy: neither the native module nor snappyjs could be loaded');
  return {
    implementation: 'snappyjs (pure JS fallback)',
    compress: (block) => m.compress(asBuffer(block)),
    uncompress(block) {
      // snappyjs neither bounds its output nor checks it was filled: check the
      // produced length against the block's own header, as the native decoder does.
      const declared = rawUncompressedLength(block);
      const out = m.uncompress(asBuffer(block));
      if (declared !== out.length)
        throw new Error(`block declares ${declared} byte(s), decoded ${out.length}`);
      return out;
    },
  };
}

/** The uncompressed length a raw snappy block declares (its leading varint), or -1 if malformed. */
export function rawUncompressedLength(block: Uint8Array): number {
  let result = 0;
  for (let i = 0, shift = 0; i < block.length && shift <= 28; i++, shift += 7) {
    const b = block[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result <= 0xffffffff ? result : -1;
  }
  return -1;
}

export function isXerialFramed(data: Uint8Array, at = 0): boolean {
  if (data.length - at < XERIAL_MAGIC.length) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[at + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

export function createSnappyCodec(
  block: SnappyBlockCodec = loadNativeSnappy() ?? loadPureSnappy(),
): CompressionCodec {
  return {
    type: 2,
    name: 'snappy',
    implementation: block.implementation,
    compress: (data) => compressXerial(block, data),
    decompress(data) {
      try {
        return isXerialFramed(data) ? decompressXerial(block, data) : decompressRaw(block, data);
      } catch (cause) {
        if (isKafkaClientError(cause)) throw cause;
        throw codecError('snappy', 'corrupt block', cause);
      }
    },
  };
}

function compressXerial(block: SnappyBlockCodec, data: Uint8Array): Buffer {
  const chunks: Uint8Array[] = [];
  let total = XERIAL_HEADER_LENGTH;
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_SIZE) {
    const compressed = block.compress(data.subarray(at, Math.min(at + XERIAL_BLOCK_SIZE, data.length)));
    chunks.push(compressed);
    total += 4 + compressed.length;
  }
  const out = Buffer.allocUnsafe(total);
  XERIAL_HEADER.copy(out, 0);
  let pos = XERIAL_HEADER_LENGTH;
  for (const c of chunks) {
    out.writeUInt32BE(c.length, pos);
    out.set(c, pos + 4);
    pos += 4 + c.length;
  }
  return out;
}

/**
 * The most a raw snappy block of `n` bytes can expand to: the densest element
 * is a 3-byte copy of 64 bytes. Checked before decoding, because decoders
 * allocate the declared length up front and a forged varint could ask for 4 GiB.
 */
function maxUncompressedLength(n: number): number {
  return Math.ceil((n * 64) / 3) + 64;
}

function uncompressBlock(block: SnappyBlockCodec, raw: Uint8Array, at: number): Uint8Array {
  const declared = rawUncompressedLength(raw);
  if (declared < 0) throw codecError('snappy', `malformed block length at offset ${at}`);
  if (declared > maxUncompressedLength(raw.length)) {
    throw codecError(
      'snappy',
      `a ${raw.length}-byte block at offset ${at} cannot expand to the ${declared} byte(s) it declares`,
    );
  }
  return block.uncompress(raw);
}

function decompressXerial(block: SnappyBlockCodec, data: Uint8Array): Buffer {
  const view = asBuffer(data);
  const chunks: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  while (pos < view.length) {
    // snappy-java's SnappyInputStream accepts concatenated streams: a header may start any chunk.
    if (isXerialFramed(view, pos)) {
      if (view.length - pos < XERIAL_HEADER_LENGTH) {
        throw codecError('snappy', `truncated xerial header at offset ${pos}`);
      }
      const compatible = view.readInt32BE(pos + 12);
      if (compatible !== 1)
        throw codecError('snappy', `unsupported xerial min-compatible version ${compatible}`);
      pos += XERIAL_HEADER_LENGTH;
      continue;
    }
    if (view.length - pos < 4) throw codecError('snappy', `truncated chunk length at offset ${pos}`);
    const length = view.readInt32BE(pos);
    pos += 4;
    if (length < 0 || length > view.length - pos) {
      throw codecError(
        'snappy',
        `chunk of ${length} byte(s) at offset ${pos - 4} overruns the ${view.length}-byte stream`,
      );
    }
    const plain = uncompressBlock(block, view.subarray(pos, pos + length), pos);
    chunks.push(plain);
    total += plain.length;
    pos += length;
  }
  return Buffer.concat(chunks, total);
}

function decompressRaw(block: SnappyBlockCodec, data: Uint8Array): Buffer {
  if (rawUncompressedLength(data) < 0)
    throw codecError('snappy', 'neither xerial-framed nor a raw snappy block');
  return asBuffer(uncompressBlock(block, data, 0));
}
