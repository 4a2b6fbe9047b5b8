import { isKafkaClientError } from '../../errors.js';
import type { CompressionCodec } from './codec.js';
import { Lz4BlockError, lz4CompressBlock, lz4CompressBound, lz4DecompressBlock } from './lz4-block.js';
import { asBuffer, codecError, loadOptional } from './native.js';
import { xxh32 } from './xxh32.js';

/**
 * LZ4 as Kafka frames it for record batch v2: one LZ4 frame (format 1.6) as
 * Java's `Lz4BlockOutputStream` (formerly `KafkaLZ4BlockOutputStream`) writes it:
 *
 *   magic 0x184D2204 (LE)  04 22 4d 18
 *   FLG 0x60   version 01, blocks independent, no block checksums,
 *              no content size, no content checksum, no dictionary id
 *   BD  0x40   64 KiB maximum block size
 *   HC         second byte of xxh32(FLG BD), i.e. 0x82 (magic v2 uses the
 *              correct checksum; magic v0/v1 hashed the magic too, KAFKA-3160)
 *   blocks     int32 LE size, high bit set for a block stored uncompressed
 *              (Java stores a block raw when compressing does not shrink it)
 *   end mark   int32 0
 *
 * Java's reader insists on independent blocks of at least 64 KiB, so we write
 * exactly that; we read any valid frame: linked blocks, 64 KiB-4 MiB blocks,
 * block and content checksums (verified), content size (checked),
 * concatenated and skippable frames.
 */

export const LZ4_MAGIC = 0x184d2204;
export const LZ4_FLG = 0x60;
export const LZ4_BD = 0x40;
export const LZ4_BLOCK_SIZE = 64 * 1024;

const UNCOMPRESSED_BIT = 0x8000_0000;
const SKIPPABLE_MASK = 0xffff_fff0;
const SKIPPABLE_MAGIC = 0x184d_2a50;

const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_1 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;

const FRAME_HEADER = (() => {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, LZ4_FLG, LZ4_BD, 0]);
  header[6] = (xxh32(header, 4, 6) >>> 8) & 0xff;
  return header;
})();

/** A raw LZ4 block compressor, plus (native only) a whole-frame decoder. */
export interface Lz4BlockCodec {
  readonly implementation: string;
  /** Compresses `block` (at most 64 KiB) into one independent raw LZ4 block. */
  compressBlock(block: Uint8Array): Uint8Array;
  /**
   * Decodes one whole, already validated frame; undefined means "decode the
   * blocks in TypeScript".
   */
  decodeFrame?: (frame: Buffer) => Buffer;
}

interface NativeLz4 {
  compressSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}

/**
 * `lz4-napi` (napi-rs over the Rust `lz4_flex`), prebuilt per platform.
 * Its `compressSync` prefixes the block with its uncompressed size (4 bytes LE),
 * which we drop; its frame writer uses 4 MiB blocks, so we frame ourselves and
 * only use its frame reader, after validating the frame.
 */
export function loadNativeLz4(): Lz4BlockCodec | undefined {
  return loadOptional('lz4-napi', (mod) => {
    const m = mod as NativeLz4;
    const sample = Buffer.from('lz4 self-test lz4 self-test lz4 self-test');
    const frame = encodeFrame(sample, (b) => m.compressSync(asBuffer(b)).subarray(4));
    if (!m.decompressFrameSync(frame).equals(sample)) throw new Error('lz4-napi self-test failed');
    return {
      implementation: 'lz4-napi (napi-rs native)',
      compressBlock: (block) => m.compressSync(asBuffer(block)).subarray(4),
      decodeFrame: (frame) => m.decompressFrameSync(frame),
    };
  });
}

/** Our TypeScript block codec (lz4-block.ts): the fallback. */
export function pureLz4(): Lz4BlockCodec {
  const scratch = new Uint8Array(lz4CompressBound(LZ4_BLOCK_SIZE));
  return {
    implementation: 'pure-ts lz4 block codec (fallback)',
    compressBlock(block) {
      const target =
        block.length <= LZ4_BLOCK_SIZE ? scratch : new Uint8Array(lz4CompressBound(block.length));
      return target.slice(0, lz4CompressBlock(block, 0, block.length, target, 0));
    },
  };
}

export function createLz4Codec(block: Lz4BlockCodec = loadNativeLz4() ?? pureLz4()): CompressionCodec {
  return {
    type: 3,
    name: 'lz4',
    implementation: block.implementation,
    compress: (data) => encodeFrame(data, block.compressBlock),
    decompress(data) {
      try {
        return decodeFrames(asBuffer(data), block.decodeFrame);
      } catch (cause) {
        if (isKafkaClientError(cause)) throw cause;
        throw codecError('lz4', 'corrupt frame', cause);
      }
    },
  };
}

function encodeFrame(data: Uint8Array, compressBlock: (block: Uint8Array) => Uint8Array): Buffer {
  const blocks: Uint8Array[] = [];
  const sizes: number[] = [];
  let total = FRAME_HEADER.length + 4;
  for (let at = 0; at < data.length; at += LZ4_BLOCK_SIZE) {
    const raw = data.subarray(at, Math.min(at + LZ4_BLOCK_SIZE, data.length));
    const compressed = compressBlock(raw);
    // Java's rule: keep the compressed form only if it is strictly smaller.
    if (compressed.length < raw.length) {
      blocks.push(compressed);
      sizes.push(compressed.length);
    } else {
      blocks.push(raw);
      sizes.push((raw.length | UNCOMPRESSED_BIT) >>> 0);
    }
    total += 4 + blocks[blocks.length - 1]!.length;
  }
  const out = Buffer.allocUnsafe(total);
  FRAME_HEADER.copy(out, 0);
  let pos = FRAME_HEADER.length;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    out.writeUInt32LE(sizes[i]!, pos);
    out.set(b, pos + 4);
    pos += 4 + b.length;
  }
  out.writeUInt32LE(0, pos);
  return out;
}

/** One frame's layout, found by walking its block headers before decoding anything. */
interface FrameLayout {
  flg: number;
  blockMaxSize: number;
  contentSize: number | undefined;
  /** Offset of the first block header. */
  blocksAt: number;
  /** Offset just past the frame (after the end mark and the content checksum, if any). */
  end: number;
  /** An upper bound of the decoded size. */
  bound: number;
}

function fail(message: string): never {
  throw codecError('lz4', message);
}

/** Validates the frame at `at` (header, header checksum, every block header) and returns its layout. */
function walkFrame(data: Buffer, at: number): FrameLayout {
  if (data.length - at < 7) fail(`truncated frame header at offset ${at}`);
  const flg = data[at + 4]!;
  const bd = data[at + 5]!;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_1)
    fail(`unsupported frame version in FLG 0x${flg.toString(16)}`);
  if (flg & FLG_RESERVED || bd & 0x8f)
    fail(`reserved bits set in FLG 0x${flg.toString(16)} / BD 0x${bd.toString(16)}`);
  const blockSizeId = (bd >>> 4) & 7;
  if (blockSizeId < 4) fail(`invalid block maximum size id ${blockSizeId}`);
  const blockMaxSize = 1 << (2 * blockSizeId + 8);
  let pos = at + 6;
  let contentSize: number | undefined;
  if (flg & FLG_CONTENT_SIZE) {
    if (data.length - pos < 8) fail('truncated content size');
    const size = data.readBigUInt64LE(pos);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) fail(`content size ${size} is too large`);
    contentSize = Number(size);
    pos += 8;
  }
  if (flg & FLG_DICT_ID) {
    // A dictionary id means the frame needs a dictionary we cannot have; Kafka never writes one.
    fail('frames that need a dictionary are not supported');
  }
  if (pos >= data.length) fail('truncated frame header');
  const hc = (xxh32(data, at + 4, pos) >>> 8) & 0xff;
  if (data[pos] !== hc) {
    fail(`frame header checksum 0x${data[pos]!.toString(16)} does not match 0x${hc.toString(16)}`);
  }
  pos++;
  const blocksAt = pos;
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  let bound = 0;
  for (;;) {
    if (data.length - pos < 4) fail(`truncated block header at offset ${pos}`);
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BIT;
    if (size > blockMaxSize)
      fail(`block of ${size} byte(s) exceeds the frame's ${blockMaxSize}-byte maximum`);
    const need = size + (blockChecksum ? 4 : 0);
    if (data.length - pos < need) fail(`block of ${size} byte(s) at offset ${pos - 4} overruns the frame`);
    // A compressed byte expands to at most 255 bytes (a 255-valued length byte).
    bound += word & UNCOMPRESSED_BIT ? size : Math.min(blockMaxSize, size * 255);
    pos += need;
  }
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (data.length - pos < 4) fail('truncated content checksum');
    pos += 4;
  }
  if (contentSize !== undefined) {
    if (contentSize > bound) fail(`content size ${contentSize} is more than the blocks can hold`);
    bound = contentSize;
  }
  return { flg, blockMaxSize, contentSize, blocksAt, end: pos, bound };
}

function decodeFrames(data: Buffer, decodeFrame: ((frame: Buffer) => Buffer) | undefined): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let at = 0;
  do {
    if (data.length - at < 4) fail(`truncated magic at offset ${at}`);
    const magic = data.readUInt32LE(at);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (data.length - at < 8) fail('truncated skippable frame');
      const size = data.readUInt32LE(at + 4);
      if (size > data.length - at - 8) fail('skippable frame overruns the input');
      at += 8 + size;
      continue;
    }
    if (magic !== LZ4_MAGIC) fail(`bad magic 0x${magic.toString(16)} at offset ${at}`);
    const layout = walkFrame(data, at);
    const part =
      decodeFrame === undefined ? decodeBlocks(data, layout) : decodeFrame(data.subarray(at, layout.end));
    if (layout.contentSize !== undefined && part.length !== layout.contentSize) {
      fail(`frame declares ${layout.contentSize} byte(s), decoded ${part.length}`);
    }
    parts.push(part);
    total += part.length;
    at = layout.end;
  } while (at < data.length);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** Decodes the blocks of a walked frame in TypeScript, verifying any checksums. */
function decodeBlocks(data: Buffer, layout: FrameLayout): Buffer {
  const { flg, blockMaxSize } = layout;
  const independent = (flg & FLG_BLOCK_INDEPENDENCE) !== 0;
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  const out = Buffer.allocUnsafe(layout.bound);
  let op = 0;
  let pos = layout.blocksAt;
  for (;;) {
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BIT;
    if (blockChecksum && xxh32(data, pos, pos + size) !== data.readUInt32LE(pos + size)) {
      fail(`block checksum mismatch at offset ${pos - 4}`);
    }
    if (word & UNCOMPRESSED_BIT) {
      if (size > out.length - op) fail('block overruns the declared content size');
      data.copy(out, op, pos, pos + size);
      op += size;
    } else {
      try {
        // Linked blocks may refer to up to 64 KiB of earlier output in this frame.
        op = lz4DecompressBlock(
          data,
          pos,
          pos + size,
          out,
          op,
          Math.min(out.length, op + blockMaxSize),
          independent ? op : 0,
        );
      } catch (cause) {
        if (cause instanceof Lz4BlockError) fail(`corrupt block at offset ${pos - 4}: ${cause.message}`);
        throw cause;
      }
    }
    pos += size + (blockChecksum ? 4 : 0);
  }
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (xxh32(out, 0, op) !== data.readUInt32LE(pos)) fail('content checksum mismatch');
  }
  // Compressed blocks were budgeted at up to 255x; do not keep a mostly empty buffer alive.
  return out.length - op > 8192 ? Buffer.from(out.subarray(0, op)) : out.subarray(0, op);
}
