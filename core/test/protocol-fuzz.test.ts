import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../src/errors.js';
import { Reader } from '../src/protocol/reader.js';
import { decodeRecordBatches, RecordBatchBuilder } from '../src/protocol/record-batch.js';
import { Writer } from '../src/protocol/writer.js';
import { mulberry32 } from './prng.js';
import { apiDefs, descriptorOf, directions, Gen, versionRange } from './protocol-gen.js';

// Every decoder fed random, truncated, bit-flipped and length-forged input
// (fixed seeds, so a failure replays): the only error allowed out is our
// ProtocolError; no RangeError, no hang, no allocation sized by a forged length.

function mustOnlyThrowProtocolError(what: string, fn: () => unknown): 'ok' | 'rejected' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      assert.fail(`${what}: threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    }
    return 'rejected';
  }
}

function mutate(rand: () => number, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const int = (n: number) => Math.floor(rand() * n);
  switch (int(4)) {
    case 0: // truncate
      return out.subarray(0, int(out.length));
    case 1: // flip a few bytes
      for (let i = 0; i < 1 + int(3) && out.length; i++) out[int(out.length)] = int(256);
      return out;
    case 2: // forge a length: 0xff..., 0x7fffffff, or a long varint run
      if (out.length >= 4) {
        const at = int(out.length - 3);
        const forged = [
          [0x7f, 0xff, 0xff, 0xff],
          [0xff, 0xff, 0xff, 0xff],
          [0xff, 0xff, 0xff, 0x7f],
          [0x80, 0x80, 0x80, 0x80],
        ][int(4)] as number[];
        out.set(forged, at);
      }
      return out;
    default: // append garbage
      return Buffer.concat([out, Buffer.from([int(256), int(256)])]);
  }
}

describe('decoders under hostile input only throw ProtocolError', () => {
  for (const api of apiDefs) {
    const [lo, hi] = versionRange(api);
    it(`${api.name} v${lo}-v${hi}`, () => {
      const d = descriptorOf(api);
      const rand = mulberry32(0xf022 + lo * 7 + hi);
      const gen = new Gen(rand, api);
      const w = new Writer(64);
      let cases = 0;
      for (let v = lo; v <= hi; v++) {
        const flexible = api.flexible !== null && v >= api.flexible;
        for (const { kind, fields, encode, decode } of directions(api, d)) {
          // Pure noise.
          for (let i = 0; i < 50; i++) {
            const noise = Buffer.from(
              Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)),
            );
            mustOnlyThrowProtocolError(`${api.name} ${kind} v${v} noise ${i}`, () =>
              decode(new Reader(noise), v),
            );
            cases++;
          }
          // Valid messages, then damaged; every prefix of one of them.
          for (let i = 0; i < 30; i++) {
            const [input] = gen.message(fields, v, flexible, 0);
            encode(w.reset(), v, input);
            const valid = w.finish();
            if (i === 0) {
              for (let cut = 0; cut < valid.length; cut++) {
                const verdict = mustOnlyThrowProtocolError(`${api.name} ${kind} v${v} prefix ${cut}`, () =>
                  decode(new Reader(valid.subarray(0, cut)), v),
                );
                // Decoders read every field, so no strict prefix of a message is a message.
                if (verdict === 'ok') assert.fail(`${api.name} ${kind} v${v}: decoded a ${cut}-byte prefix`);
                cases++;
              }
            }
            for (let m = 0; m < 10; m++) {
              const bad = mutate(rand, valid);
              mustOnlyThrowProtocolError(`${api.name} ${kind} v${v} mutation ${i}/${m}`, () =>
                decode(new Reader(bad), v),
              );
              cases++;
            }
          }
        }
      }
      assert.ok(cases > 1000, `${cases} cases`);
    });
  }

  it('record batch decoder', () => {
    const rand = mulberry32(0xba7c);
    const builder = new RecordBatchBuilder(Buffer.alloc(4096));
    for (let i = 0; i < 5; i++) {
      builder.tryAppend(1_700_000_000_000 + i, Buffer.from(`k${i}`), Buffer.from(`value ${i}`), [
        { key: 'h', value: Buffer.from([i]) },
      ]);
    }
    const valid = Buffer.from(builder.build());
    assert.equal(decodeRecordBatches(valid)[0]?.records.length, 5);
    for (let cut = 0; cut < valid.length; cut++) {
      const verdict = mustOnlyThrowProtocolError(`prefix ${cut}`, () =>
        decodeRecordBatches(valid.subarray(0, cut)),
      );
      if (cut > 0) assert.equal(verdict, 'rejected', `a ${cut}-byte prefix decoded`);
    }
    for (let i = 0; i < 5000; i++) {
      const bad = mutate(rand, valid);
      mustOnlyThrowProtocolError(`mutation ${i}`, () => decodeRecordBatches(bad));
    }
  });
});
