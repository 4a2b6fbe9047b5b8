import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKafkaClientError } from '@tributary/core';
import { encodeHeader, encodeMessageIndexes, frame, parseWireFormat } from '../src/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('Confluent wire format', () => {
  it('writes the magic byte and the schema id big-endian', () => {
    assert.equal(hex(encodeHeader(0)), '0000000000');
    assert.equal(hex(encodeHeader(1)), '0000000001');
    assert.equal(hex(encodeHeader(0x01020304)), '0001020304');
    assert.equal(hex(encodeHeader(100_000)), '00000186a0');
    assert.equal(hex(encodeHeader(0x7fffffff)), '007fffffff');
  });

  it('refuses ids that are not non-negative int32s', () => {
    for (const id of [-1, 1.5, 2 ** 31, Number.NaN]) assert.throws(() => encodeHeader(id), RangeError);
  });

  // The byte layouts of the issue: [0] -> 00, [1] -> 02 02, [0, 2] -> 04 00 04.
  const vectors: [number[], string][] = [
    [[0], '00'],
    [[1], '0202'],
    [[2], '0204'],
    [[0, 2], '040004'],
    [[0, 0], '040000'],
    [[1, 0], '040200'],
    [[0, 2, 0], '06000400'],
    [[3, 1, 4, 1], '0806020802'],
    [[63], '027e'],
    [[64], '028001'], // zig-zag 128 is the varint 80 01
    [[300], '02d804'],
  ];
  for (const [path, expected] of vectors) {
    it(`writes the message-index path [${path.join(', ')}] as ${expected}`, () => {
      assert.equal(hex(encodeMessageIndexes(path)), expected);
      assert.deepEqual(parseWireFormat(bytes(`0000000007${expected}ff`), { messageIndexes: true }), {
        schemaId: 7,
        messageIndexes: path,
        payload: bytes('ff'),
      });
    });
  }

  it('puts the index path between the header and the payload', () => {
    const header = encodeHeader(5, [0, 2]);
    assert.equal(hex(header), '0000000005040004');
    assert.equal(hex(frame(header, bytes('0a0378797a'))), '00000000050400040a0378797a');
    assert.equal(hex(encodeHeader(5, [0])), '000000000500');
  });

  it('reads back a count of zero as the path [0]', () => {
    const parsed = parseWireFormat(bytes('000000002a00 0801'), { messageIndexes: true });
    assert.equal(parsed.schemaId, 42);
    assert.deepEqual(parsed.messageIndexes, [0]);
    assert.equal(hex(parsed.payload), '0801');
  });

  it('splits Avro and JSON framing without an index path', () => {
    const parsed = parseWireFormat(bytes('00000000ff 02 61'));
    assert.equal(parsed.schemaId, 255);
    assert.equal(parsed.messageIndexes, undefined);
    assert.equal(hex(parsed.payload), '0261');
  });

  it('refuses input that is not the wire format, with a typed error', () => {
    const bad: [string, { messageIndexes?: boolean }, RegExp][] = [
      ['00000001', {}, /at least 5 bytes/],
      ['0100000001', {}, /magic byte 1/],
      ['0000000001', { messageIndexes: true }, /truncated varint/],
      ['000000000180', { messageIndexes: true }, /truncated varint/],
      ['000000000101', { messageIndexes: true }, /negative message-index count/],
      ['00000000010a00', { messageIndexes: true }, /exceeds the record/],
      ['000000000102ffffffffff', { messageIndexes: true }, /longer than 5 bytes/],
    ];
    for (const [input, options, message] of bad) {
      assert.throws(
        () => parseWireFormat(bytes(input), options),
        (err: unknown) =>
          isKafkaClientError(err) && err.code === 'INVALID_WIRE_FORMAT' && message.test(err.message),
        input,
      );
    }
  });

  it('refuses an empty or negative index path', () => {
    assert.throws(() => encodeMessageIndexes([]), RangeError);
    assert.throws(() => encodeMessageIndexes([0, -1]), RangeError);
  });
});
