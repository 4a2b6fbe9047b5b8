import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crc32c,
  crc32cImplementation,
  crc32cNative,
  crc32cPure,
  NATIVE_MIN_BYTES,
} from '../src/protocol/crc32c.js';
import { mulberry32 } from './prng.js';

type Crc = (bytes: Uint8Array, start?: number, end?: number) => number;

/** Bit-at-a-time CRC32C straight from the definition: the reference for the fast ones. */
function crc32cBitwise(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

const implementations: [string, Crc][] = [
  ['crc32c', crc32c],
  ['crc32cPure', crc32cPure],
];
if (crc32cNative !== undefined) implementations.push(['crc32cNative', crc32cNative]);

/** Linux x64 with glibc is where every CI and developer machine runs; the prebuilt binary must load there. */
function expectsNative(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return header?.glibcVersionRuntime !== undefined;
}

const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
// RFC 3720 (iSCSI) appendix B.4, plus the CRC catalogue's check value.
const vectors: [string, Uint8Array, number][] = [
  ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
  ['32 bytes of 0xFF', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['0x00..0x1F ascending', ascending, 0x46dd794e],
  ['0x1F..0x00 descending', ascending.slice().reverse(), 0x113fdb5c],
  ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
  ['empty', new Uint8Array(0), 0],
];

describe('crc32c', () => {
  it('selects the native implementation where its prebuilt binary exists', () => {
    if (expectsNative()) {
      assert.ok(
        crc32cNative !== undefined,
        `@node-rs/crc32 did not load; crc32c uses ${crc32cImplementation}`,
      );
      assert.match(crc32cImplementation, /@node-rs\/crc32 \(native\)/);
    } else {
      assert.match(crc32cImplementation, /pure-ts|native/);
    }
  });

  for (const [name, crc] of implementations) {
    describe(name, () => {
      for (const [label, bytes, expected] of vectors) {
        it(`matches the test vector for ${label}`, () => {
          assert.equal(crc(bytes), expected);
          assert.equal(crc(Buffer.from(bytes)), expected);
        });
      }

      it('covers only bytes[start, end) of a larger buffer', () => {
        const framed = new Uint8Array(100).fill(0xa5);
        framed.set(ascending, 40);
        assert.equal(crc(framed, 40, 72), 0x46dd794e);
        const large = new Uint8Array(NATIVE_MIN_BYTES * 3).fill(7);
        assert.equal(crc(large, 21, large.length - 5), crc32cBitwise(large, 21, large.length - 5));
      });

      it('rejects a range outside the input', () => {
        const bytes = new Uint8Array(10);
        assert.throws(() => crc(bytes, -1, 5), RangeError);
        assert.throws(() => crc(bytes, 6, 5), RangeError);
        assert.throws(() => crc(bytes, 0, 11), RangeError);
      });
    });
  }

  it('agrees with the bitwise definition and across implementations on random inputs', () => {
    const rnd = mulberry32(0xc3c3);
    const sizes = [0, 1, 7, 15, 16, 17, 31, 33, 63, 100, 255, NATIVE_MIN_BYTES - 1, NATIVE_MIN_BYTES, 4097];
    for (let round = 0; round < 400; round++) {
      const length = round < sizes.length ? sizes[round]! : Math.floor(rnd() * 5000);
      const padBefore = Math.floor(rnd() * 40);
      const padAfter = Math.floor(rnd() * 40);
      const buf = new Uint8Array(padBefore + length + padAfter);
      for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
      const expected = crc32cBitwise(buf, padBefore, padBefore + length);
      for (const [name, crc] of implementations) {
        assert.equal(
          crc(buf, padBefore, padBefore + length),
          expected,
          `${name}, ${length} B at offset ${padBefore}`,
        );
      }
      // A view whose own byteOffset is not 0, as record batches inside a bigger buffer are.
      const view = buf.subarray(padBefore, padBefore + length);
      for (const [name, crc] of implementations)
        assert.equal(crc(view), expected, `${name}, view of ${length} B`);
    }
  });

  it('agrees across implementations on 1 MiB', () => {
    const rnd = mulberry32(42);
    const big = Buffer.allocUnsafe(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = Math.floor(rnd() * 256);
    const expected = crc32cPure(big);
    assert.equal(crc32c(big), expected);
    assert.equal(crc32c(big, 21, big.length), crc32cPure(big, 21, big.length));
    if (crc32cNative !== undefined) assert.equal(crc32cNative(big), expected);
  });
});
