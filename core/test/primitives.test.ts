import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../src/errors.js';
import { Reader } from '../src/protocol/reader.js';
import { sizeOfUvarint, sizeOfVarint, sizeOfVarlong, Writer } from '../src/protocol/writer.js';

const hex = (w: Writer) => w.finish().toString('hex');

describe('primitive encodings', () => {
  it('writes varints as the protocol guide defines them (LEB128, zig-zag for signed)', () => {
    // Protocol guide, "Protocol Primitive Types": VARINT is zig-zag encoded, as in Protocol Buffers.
    const cases: Array<[number, string]> = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-2, '03'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
      [150, 'ac02'],
      [2147483647, 'feffffff0f'],
      [-2147483648, 'ffffffff0f'],
    ];
    for (const [v, bytes] of cases) {
      assert.equal(hex(new Writer(1).varint(v)), bytes, `varint ${v}`);
      assert.equal(new Reader(Buffer.from(bytes, 'hex')).varint(), v);
      assert.equal(sizeOfVarint(v), bytes.length / 2);
    }
    assert.equal(hex(new Writer(1).uvarint(300)), 'ac02');
    assert.equal(sizeOfUvarint(300), 2);
  });

  it('round-trips varlongs and int64 across the safe integer range', () => {
    const values = [
      0,
      1,
      -1,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 40 + 3,
      -(2 ** 40) - 3,
      2 ** 52 - 1,
      -(2 ** 52) + 1,
    ];
    for (const v of values) {
      const w = new Writer(2).varlong(v).int64(v);
      const r = new Reader(w.finish());
      assert.equal(r.varlong(), v, `varlong ${v}`);
      assert.equal(r.int64(), v, `int64 ${v}`);
      assert.equal(sizeOfVarlong(v) + 8, w.pos);
    }
    assert.equal(hex(new Writer().int64(-1)), 'ffffffffffffffff');
    assert.equal(hex(new Writer().int64(1_700_000_000_000)), '0000018bcfe56800');
  });

  it('refuses int64 values it cannot represent exactly', () => {
    assert.throws(
      () => new Reader(Buffer.from('7fffffffffffffff', 'hex')).int64('producer_id'),
      (err: Error) => {
        assert.ok(err instanceof ProtocolError);
        assert.equal(err.field, 'producer_id');
        return true;
      },
    );
  });

  it('encodes strings by UTF-8 byte length, classic and compact', () => {
    const w = new Writer(1).string('é✓').compactString('é✓').nullableString(null).compactNullableString(null);
    assert.equal(hex(w), `0005c3a9e29c93` + `06c3a9e29c93` + 'ffff' + '00');
    const r = new Reader(w.finish());
    assert.equal(r.string(), 'é✓');
    assert.equal(r.compactString(), 'é✓');
    assert.equal(r.nullableString(), null);
    assert.equal(r.compactNullableString(), null);
    assert.equal(r.remaining, 0);
  });

  it('rejects forged lengths before allocating', () => {
    const forged = [
      ['7fffffff', (r: Reader) => r.bytes('b')],
      ['ffffff7f', (r: Reader) => r.compactBytes('b')],
      ['7fff', (r: Reader) => r.string('s')],
      ['fffe', (r: Reader) => r.nullableString('s')],
      ['7fffffff', (r: Reader) => r.arrayLengthV(false, 'a')],
      ['8080808080808080808001', (r: Reader) => r.uvarint('v')],
    ] as const;
    for (const [bytes, read] of forged) {
      assert.throws(() => read(new Reader(Buffer.from(bytes, 'hex'))), ProtocolError, bytes);
    }
  });

  it('skips unknown tagged fields and rejects tags out of order', () => {
    // Two tagged fields (tags 1 and 5), each with a 2-byte payload.
    const r = new Reader(Buffer.from('02' + '0102aaaa' + '0502bbbb' + '42', 'hex'));
    r.taggedFields();
    assert.equal(r.int8(), 0x42);
    assert.throws(
      () => new Reader(Buffer.from('02' + '0501aa' + '0101bb', 'hex')).taggedFields(),
      /out of order/,
    );
  });

  it('grows the writer and keeps earlier bytes', () => {
    const w = new Writer(1);
    for (let i = 0; i < 1000; i++) w.int32(i);
    const r = new Reader(w.finish());
    for (let i = 0; i < 1000; i++) assert.equal(r.int32(), i);
  });
});
