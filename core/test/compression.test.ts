import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isKafkaClientError, type ProtocolError } from '../src/errors.js';
import type { CompressionCodec, CompressionName } from '../src/protocol/compression/codec.js';
import { CompressionType, compressionCodec } from '../src/protocol/compression/index.js';
import { createLz4Codec, LZ4_BLOCK_SIZE, pureLz4 } from '../src/protocol/compression/lz4.js';
import {
  lz4CompressBlock,
  lz4CompressBound,
  lz4DecompressBlock,
} from '../src/protocol/compression/lz4-block.js';
import {
  createSnappyCodec,
  loadNativeSnappy,
  loadPureSnappy,
  type SnappyBlockCodec,
  XERIAL_BLOCK_SIZE,
} from '../src/protocol/compression/snappy.js';
import { xxh32 } from '../src/protocol/compression/xxh32.js';
import {
  createZstdCodec,
  loadNativeZstd,
  loadWasmZstd,
  loadZlibZstd,
} from '../src/protocol/compression/zstd.js';
import { zstdDecompressedBound } from '../src/protocol/compression/zstd-wasm.js';
import { mulberry32 } from './prng.js';

// ---------------------------------------------------------------- inputs

function randomBytes(n: number, seed: number): Buffer {
  const rnd = mulberry32(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** JSON-ish records, as producers batch them: compresses 3-6x. */
function compressibleBytes(n: number, seed: number): Buffer {
  const rnd = mulberry32(seed);
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < n; i++) {
    const line = `{"id":${i},"user":"user-${Math.floor(rnd() * 5000)}","kind":"${rnd() < 0.5 ? 'click' : 'view'}","amount":${Math.floor(rnd() * 100000) / 100}}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

const SIZES: [string, number][] = [
  ['empty', 0],
  ['1 byte', 1],
  ['100 B', 100],
  ['64 KiB + 1', 64 * 1024 + 1],
  ['1 MiB', 1024 * 1024],
];
const inputs: [string, Buffer][] = [];
for (const [label, size] of SIZES) {
  inputs.push([`${label} random`, randomBytes(size, size + 1)]);
  inputs.push([`${label} compressible`, compressibleBytes(size, size + 2)]);
}
const text = compressibleBytes(300 * 1024, 99);

// ---------------------------------------------------------------- implementations

/** Linux x64 with glibc is where every CI and developer machine runs; the prebuilt binaries must load there. */
function expectsNative(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return header?.glibcVersionRuntime !== undefined;
}

const wasmZstd = loadWasmZstd();
// Every zstd backend this runtime has: node:zlib's (Node 22.15+, Bun), the napi-rs addon, the WASM build.
const zstdBackends = [loadZlibZstd(), loadNativeZstd(), wasmZstd].filter((b) => b !== undefined);
const implementations: Record<Exclude<CompressionName, 'none'>, CompressionCodec[]> = {
  gzip: [compressionCodec(CompressionType.gzip)],
  snappy: [compressionCodec(CompressionType.snappy), createSnappyCodec(loadPureSnappy())],
  lz4: [compressionCodec(CompressionType.lz4), createLz4Codec(pureLz4())],
  zstd: zstdBackends.map((backend) => createZstdCodec(backend)),
};
const allCodecs = Object.values(implementations).flat();

function isCodecError(codec: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isKafkaClientError(err), `expected a ProtocolError, got ${String(err)}`);
    assert.equal(err.code, 'PROTOCOL_ERROR');
    assert.equal((err as ProtocolError).field, 'records');
    assert.match(err.message, new RegExp(`^${codec}: `));
    return true;
  };
}

// ---------------------------------------------------------------- CLIs

const DEBIAN_PACKAGE: Record<string, string> = { lz4: 'lz4', zstd: 'zstd', gzip: 'gzip' };

/** Runs a CLI with `input` on stdin and returns stdout; a missing CLI fails the test and names its package. */
function cli(command: string, args: string[], input: Uint8Array = new Uint8Array(0)): Buffer {
  const result = spawnSync(command, args, { input, maxBuffer: 64 << 20 });
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    assert.fail(
      missing
        ? `the ${command} CLI is not installed: these tests need the Debian package '${DEBIAN_PACKAGE[command]}'`
        : `${command} ${args.join(' ')}: ${result.error.message}`,
    );
  }
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed: ${result.stderr.toString()}`);
  return result.stdout;
}

const tmp = mkdtempSync(join(tmpdir(), 'tributary-compression-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes `data` to a file (CLIs record the content size only for files, not for stdin). */
function tmpFile(name: string, data: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, data);
  return path;
}

// ---------------------------------------------------------------- tests

describe('compressionCodec', () => {
  it('returns each codec with its Kafka id and name, cached', () => {
    for (const [name, type] of Object.entries(CompressionType)) {
      const codec = compressionCodec(type);
      assert.equal(codec.type, type);
      assert.equal(codec.name, name);
      assert.equal(compressionCodec(type), codec);
    }
  });

  it('throws a ProtocolError for ids Kafka does not define', () => {
    for (const id of [5, 6, 7, -1]) {
      assert.throws(
        () => compressionCodec(id as CompressionType),
        (err) => isKafkaClientError(err) && err.code === 'PROTOCOL_ERROR',
      );
    }
  });

  it('passes records through for none', () => {
    const none = compressionCodec(CompressionType.none);
    const data = Buffer.from('abc');
    assert.deepEqual(none.compress(data), data);
    assert.deepEqual(none.decompress(data), data);
  });

  it('selects the native libraries where their prebuilt binaries exist', () => {
    if (!expectsNative()) return;
    for (const name of ['snappy', 'lz4', 'zstd'] as const) {
      assert.match(implementations[name][0]!.implementation, /native/, `${name} fell back`);
    }
    assert.ok(wasmZstd !== undefined, 'the zstd WASM fallback did not load');
    assert.ok(loadNativeZstd() !== undefined, '@toondepauw/node-zstd did not load');
    assert.match(compressionCodec(CompressionType.zstd).implementation, /native/);
  });
});

for (const codec of allCodecs) {
  describe(`${codec.name} via ${codec.implementation}`, () => {
    for (const [label, data] of inputs) {
      it(`round-trips ${label}`, () => {
        const compressed = codec.compress(data);
        assert.ok(Buffer.isBuffer(compressed));
        const back = codec.decompress(compressed);
        assert.ok(Buffer.isBuffer(back));
        assert.ok(back.equals(data), `${label}: ${back.length} byte(s) back for ${data.length}`);
      });
    }

    it('compresses a view of a larger buffer, and decompresses from one', () => {
      const outer = Buffer.concat([Buffer.from('header bytes'), text, Buffer.from('trailer')]);
      const view = outer.subarray(12, 12 + text.length);
      const compressed = codec.compress(new Uint8Array(view.buffer, view.byteOffset, view.length));
      const boxed = Buffer.concat([Buffer.alloc(21), compressed, Buffer.alloc(3)]);
      assert.ok(codec.decompress(boxed.subarray(21, 21 + compressed.length)).equals(text));
    });

    it('interoperates with every other implementation of the codec', () => {
      for (const other of implementations[codec.name as Exclude<CompressionName, 'none'>]) {
        assert.ok(
          other.decompress(codec.compress(text)).equals(text),
          `${other.implementation} reading ours`,
        );
        assert.ok(
          codec.decompress(other.compress(text)).equals(text),
          `ours reading ${other.implementation}`,
        );
      }
    });

    it('throws a ProtocolError for garbage, truncated and empty input', () => {
      const compressed = codec.compress(text);
      assert.throws(() => codec.decompress(randomBytes(1000, 5)), isCodecError(codec.name));
      assert.throws(
        () => codec.decompress(compressed.subarray(0, compressed.length >> 1)),
        isCodecError(codec.name),
      );
      assert.throws(() => codec.decompress(new Uint8Array(0)), isCodecError(codec.name));
    });
  });
}

describe('gzip framing', () => {
  const gzip = implementations.gzip[0]!;

  it('writes a gzip stream the gzip CLI reads, and reads the CLI’s (multi-member too)', () => {
    const ours = gzip.compress(text);
    assert.deepEqual([...ours.subarray(0, 3)], [0x1f, 0x8b, 0x08]);
    assert.ok(cli('gzip', ['-d', '-c'], ours).equals(text));
    const theirs = cli('gzip', ['-c', '-9'], text);
    assert.ok(gzip.decompress(Buffer.concat([theirs, theirs])).equals(Buffer.concat([text, text])));
  });

  it('detects a corrupted stream by its CRC', () => {
    const ours = Buffer.from(gzip.compress(text));
    ours[ours.length - 6]! ^= 0xff; // inside the CRC32 trailer
    assert.throws(() => gzip.decompress(ours), isCodecError('gzip'));
  });
});

describe('snappy framing (xerial, as snappy-java writes it)', () => {
  const blockCodecs: SnappyBlockCodec[] = [loadPureSnappy()];
  const native = loadNativeSnappy();
  if (native !== undefined) blockCodecs.unshift(native);

  const MAGIC_AND_VERSIONS = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1];

  for (const block of blockCodecs) {
    describe(block.implementation, () => {
      const codec = createSnappyCodec(block);

      it('matches a hand-assembled golden stream for "hello"', () => {
        // Raw snappy of "hello": varint length 5, then one literal of 5 bytes (tag (5-1)<<2).
        const golden = Buffer.from([...MAGIC_AND_VERSIONS, 0, 0, 0, 7, 0x05, 0x10, ...Buffer.from('hello')]);
        assert.deepEqual(codec.compress(Buffer.from('hello')), golden);
        assert.deepEqual(codec.decompress(golden), Buffer.from('hello'));
      });

      it('lays the stream out byte by byte: header, then int32 BE length + raw block per 32 KiB', () => {
        for (const data of [Buffer.alloc(0), text.subarray(0, 100), text.subarray(0, 64 * 1024 + 1), text]) {
          const expected: Buffer[] = [Buffer.from(MAGIC_AND_VERSIONS)];
          for (let at = 0; at < data.length; at += XERIAL_BLOCK_SIZE) {
            const raw = block.compress(data.subarray(at, at + XERIAL_BLOCK_SIZE));
            const length = Buffer.alloc(4);
            length.writeUInt32BE(raw.length);
            expected.push(length, Buffer.from(raw));
          }
          const ours = codec.compress(data);
          assert.deepEqual(ours, Buffer.concat(expected), `${data.length} B`);
          // And each chunk decodes, with the raw codec, to its 32 KiB slice.
          let pos = 16;
          for (let at = 0; at < data.length; at += XERIAL_BLOCK_SIZE) {
            const length = ours.readUInt32BE(pos);
            const chunk = block.uncompress(ours.subarray(pos + 4, pos + 4 + length));
            assert.deepEqual(Buffer.from(chunk), data.subarray(at, at + XERIAL_BLOCK_SIZE));
            pos += 4 + length;
          }
          assert.equal(pos, ours.length);
        }
        assert.equal(codec.compress(text.subarray(0, 64 * 1024 + 1)).readUInt32BE(16) > 0, true);
      });

      it('reads plain raw snappy (as librdkafka may produce) and concatenated xerial streams', () => {
        const raw = block.compress(text);
        assert.ok(codec.decompress(raw).equals(text));
        const one = codec.compress(text.subarray(0, 50_000));
        const two = codec.compress(text.subarray(50_000));
        assert.ok(codec.decompress(Buffer.concat([one, two])).equals(text));
      });

      it('throws a ProtocolError for chunk lengths that overrun, forged block lengths and bad versions', () => {
        const ours = Buffer.from(codec.compress(text));
        const overrun = Buffer.from(ours);
        overrun.writeUInt32BE(ours.length, 16);
        assert.throws(() => codec.decompress(overrun), isCodecError('snappy'));
        const negative = Buffer.from(ours);
        negative.writeInt32BE(-5, 16);
        assert.throws(() => codec.decompress(negative), isCodecError('snappy'));
        // A 3-byte block claiming 4 GiB must be refused before anything allocates it.
        const forged = Buffer.from([...MAGIC_AND_VERSIONS, 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
        assert.throws(() => codec.decompress(forged), isCodecError('snappy'));
        const version = Buffer.from(ours);
        version.writeInt32BE(2, 12);
        assert.throws(() => codec.decompress(version), isCodecError('snappy'));
        // Snappy has no checksum (Kafka's batch CRC covers that): a flipped byte either
        // fails to decode, with a ProtocolError, or decodes to other bytes; never silently to the original.
        const flipped = Buffer.from(ours);
        flipped[40]! ^= 0xff;
        let back: Buffer | undefined;
        try {
          back = codec.decompress(flipped);
        } catch (err) {
          isCodecError('snappy')(err);
        }
        assert.ok(back === undefined || !back.equals(text));
      });
    });
  }
});

describe('lz4 framing (LZ4 frame, as Java’s Lz4BlockOutputStream writes it)', () => {
  const HEADER = [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82];

  it('has the header checksum xxh32 gives for FLG 0x60 BD 0x40', () => {
    assert.equal((xxh32(Buffer.from([0x60, 0x40])) >>> 8) & 0xff, 0x82);
    // xxh32 reference values (xxHash's own test vectors).
    assert.equal(xxh32(new Uint8Array(0)), 0x02cc5d05);
    assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxh32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  });

  for (const codec of implementations.lz4) {
    describe(codec.implementation, () => {
      it('writes magic, FLG 0x60 (independent blocks, no checksums), BD 0x40 (64 KiB), HC 0x82, end mark', () => {
        const empty = codec.compress(new Uint8Array(0));
        assert.deepEqual([...empty], [...HEADER, 0, 0, 0, 0]);
        const ours = codec.compress(text);
        assert.deepEqual([...ours.subarray(0, 7)], HEADER);
        assert.deepEqual([...ours.subarray(ours.length - 4)], [0, 0, 0, 0]);
      });

      it('cuts the input into 64 KiB blocks, storing incompressible ones raw with the high bit set', () => {
        const random = randomBytes(2 * LZ4_BLOCK_SIZE + 10, 77);
        const ours = codec.compress(random);
        const sizes: number[] = [];
        let pos = 7;
        for (;;) {
          const word = ours.readUInt32LE(pos);
          pos += 4;
          if (word === 0) break;
          assert.ok(word & 0x8000_0000, 'random data must be stored uncompressed');
          const size = word & 0x7fff_ffff;
          sizes.push(size);
          assert.ok(
            ours
              .subarray(pos, pos + size)
              .equals(random.subarray((sizes.length - 1) * LZ4_BLOCK_SIZE).subarray(0, size)),
          );
          pos += size;
        }
        assert.deepEqual(sizes, [LZ4_BLOCK_SIZE, LZ4_BLOCK_SIZE, 10]);
        assert.equal(pos, ours.length);

        const compressible = codec.compress(text.subarray(0, LZ4_BLOCK_SIZE + 1));
        const first = compressible.readUInt32LE(7);
        assert.equal(first & 0x8000_0000, 0);
        const second = compressible.readUInt32LE(7 + 4 + first);
        assert.equal(second, 0x8000_0001, 'a 1-byte block cannot shrink, so it is stored raw');
      });

      it('writes frames the lz4 CLI decodes', () => {
        for (const data of [text, randomBytes(200_000, 3), text.subarray(0, 100), Buffer.alloc(0)]) {
          assert.ok(cli('lz4', ['-d', '-c', '-q'], codec.compress(data)).equals(data), `${data.length} B`);
        }
      });

      it('reads every frame variant the lz4 CLI writes', () => {
        const file = tmpFile('lz4-input', text);
        const variants: [string, string[]][] = [
          ['default (4 MiB blocks, content checksum)', ['-c', '-q', file]],
          ['as Java writes (64 KiB, no checksums)', ['-c', '-q', '-B4', '--no-frame-crc', file]],
          ['linked blocks', ['-c', '-q', '-B4', '-BD', file]],
          ['block checksums', ['-c', '-q', '-B5', '-BX', file]],
          ['content size', ['-c', '-q', '-B6', '--content-size', file]],
          ['high compression', ['-c', '-q', '-9', '-B4', file]],
          ['from stdin', ['-c', '-q', '-B7']],
        ];
        for (const [label, args] of variants) {
          const frame = cli('lz4', args, args.includes(file) ? undefined : text);
          assert.ok(codec.decompress(frame).equals(text), label);
        }
        const linked = cli('lz4', ['-c', '-q', '-B4', '-BD', file]);
        assert.equal(linked[4]! & 0x20, 0, 'the CLI wrote linked blocks');
        const random = randomBytes(100_000, 8);
        assert.ok(
          codec.decompress(cli('lz4', ['-c', '-q', '-B4'], random)).equals(random),
          'uncompressed blocks',
        );
        const single = cli('lz4', ['-c', '-q', '-B4'], text);
        assert.ok(
          codec.decompress(Buffer.concat([single, single])).equals(Buffer.concat([text, text])),
          'concatenated',
        );
        const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        assert.ok(codec.decompress(Buffer.concat([skippable, single])).equals(text), 'skippable frame');
      });

      it('throws a ProtocolError for bad magic, header checksum, reserved bits, checksums and overruns', () => {
        const ours = Buffer.from(codec.compress(text));
        const badMagic = Buffer.from(ours);
        badMagic[0] = 0x05;
        assert.throws(() => codec.decompress(badMagic), isCodecError('lz4'));
        const badHc = Buffer.from(ours);
        badHc[6] = 0x83;
        assert.throws(() => codec.decompress(badHc), isCodecError('lz4'));
        const reserved = Buffer.from(ours);
        reserved[5] = 0x41;
        reserved[6] = (xxh32(reserved, 4, 6) >>> 8) & 0xff;
        assert.throws(() => codec.decompress(reserved), isCodecError('lz4'));
        const overrun = Buffer.from(ours);
        overrun.writeUInt32LE(0x1_0000, 7); // 64 KiB claimed, fewer present
        assert.throws(() => codec.decompress(overrun.subarray(0, 1000)), isCodecError('lz4'));
        const tooBig = Buffer.from(ours);
        tooBig.writeUInt32LE(LZ4_BLOCK_SIZE + 1, 7);
        assert.throws(() => codec.decompress(tooBig), isCodecError('lz4'));
        assert.throws(
          () => codec.decompress(ours.subarray(0, ours.length - 4)),
          isCodecError('lz4'),
          'no end mark',
        );
        assert.throws(
          () => codec.decompress(Buffer.concat([ours, Buffer.from([1, 2])])),
          isCodecError('lz4'),
        );

        const checksummed = Buffer.from(cli('lz4', ['-c', '-q', '-B4', '-BX'], text));
        checksummed[5000]! ^= 0x40;
        assert.throws(() => codec.decompress(checksummed), isCodecError('lz4'), 'block checksum');
        const contentSum = Buffer.from(cli('lz4', ['-c', '-q', '-B4'], text));
        contentSum[contentSum.length - 1]! ^= 0xff;
        assert.throws(() => codec.decompress(contentSum), isCodecError('lz4'), 'content checksum');
      });
    });
  }
});

describe('lz4 block codec (pure TypeScript)', () => {
  it('round-trips blocks at every length around the format’s end-of-block limits', () => {
    const dst = new Uint8Array(lz4CompressBound(LZ4_BLOCK_SIZE));
    const out = new Uint8Array(LZ4_BLOCK_SIZE);
    for (const source of [text, randomBytes(LZ4_BLOCK_SIZE, 9), Buffer.alloc(LZ4_BLOCK_SIZE, 0x61)]) {
      for (const length of [
        0,
        1,
        4,
        5,
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        31,
        32,
        33,
        270,
        271,
        4096,
        LZ4_BLOCK_SIZE,
      ]) {
        const n = lz4CompressBlock(source, 0, length, dst, 0);
        assert.ok(n <= lz4CompressBound(length));
        const m = lz4DecompressBlock(dst, 0, n, out, 0, out.length, 0);
        assert.equal(m, length);
        assert.ok(Buffer.from(out.subarray(0, m)).equals(source.subarray(0, length)), `${length} B`);
      }
    }
  });

  it('never writes past its output limit or reads before its window', () => {
    const dst = new Uint8Array(lz4CompressBound(5000));
    const n = lz4CompressBlock(text, 0, 5000, dst, 0);
    assert.throws(() => lz4DecompressBlock(dst, 0, n, new Uint8Array(4999), 0, 4999, 0));
    const out = new Uint8Array(6000);
    // A match offset pointing before the window start (here: anything before position 1000).
    assert.throws(() =>
      lz4DecompressBlock(Uint8Array.from([0x10, 0x41, 0x05, 0x00, 0x00]), 0, 5, out, 1000, 2000, 1000),
    );
  });
});

describe('zstd framing', () => {
  for (const codec of implementations.zstd) {
    describe(codec.implementation, () => {
      it('writes a standard zstd frame the zstd CLI decodes', () => {
        for (const data of [text, randomBytes(300_000, 4), text.subarray(0, 100), Buffer.alloc(0)]) {
          const ours = codec.compress(data);
          assert.deepEqual([...ours.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
          assert.ok(cli('zstd', ['-d', '-c', '-q'], ours).equals(data), `${data.length} B`);
        }
      });

      it('reads frames with and without a content size, checksummed, multi-frame and high-level', () => {
        const file = tmpFile('zstd-input', text);
        const variants: [string, string[], Uint8Array | undefined][] = [
          ['file (content size, checksum)', ['-c', '-q', file], undefined],
          ['stdin (no content size, as zstd-jni streams)', ['-c', '-q'], text],
          ['no checksum', ['-c', '-q', '--no-check'], text],
          ['level 19', ['-c', '-q', '-19'], text],
          ['long window', ['-c', '-q', '--long=24'], text],
        ];
        for (const [label, args, input] of variants) {
          assert.ok(codec.decompress(cli('zstd', args, input)).equals(text), label);
        }
        const one = cli('zstd', ['-c', '-q'], text.subarray(0, 1000));
        const two = cli('zstd', ['-c', '-q'], text.subarray(1000));
        assert.ok(codec.decompress(Buffer.concat([one, two])).equals(text), 'two frames');
        // Bigger than 1 MiB and streamed: the WASM decoder must size its output from the block headers.
        const big = compressibleBytes(3 << 20, 11);
        assert.ok(codec.decompress(cli('zstd', ['-c', '-q'], big)).equals(big), '3 MiB without content size');
        const rle = cli('zstd', ['-c', '-q'], Buffer.alloc(500_000, 7));
        assert.ok(codec.decompress(rle).equals(Buffer.alloc(500_000, 7)), 'RLE blocks');
      });

      it('throws a ProtocolError for a corrupted checksummed frame', () => {
        const frame = Buffer.from(cli('zstd', ['-c', '-q'], text));
        frame[frame.length - 2]! ^= 0xff; // inside the content checksum
        assert.throws(() => codec.decompress(frame), isCodecError('zstd'));
        const bad = Buffer.from(frame);
        bad[0] = 0;
        assert.throws(() => codec.decompress(bad), isCodecError('zstd'));
      });
    });
  }

  it('bounds the decoded size from frame and block headers', () => {
    const withSize = cli('zstd', ['-c', '-q', tmpFile('zstd-bound', text)]);
    assert.equal(zstdDecompressedBound(withSize), text.length);
    const streamed = cli('zstd', ['-c', '-q'], text);
    const bound = zstdDecompressedBound(streamed);
    assert.ok(bound >= text.length && bound <= text.length + 128 * 1024, `bound ${bound}`);
    assert.throws(() => zstdDecompressedBound(streamed.subarray(0, streamed.length - 10)));
  });
});
