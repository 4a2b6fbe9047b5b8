import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../src/errors.js';
import { type ChannelListener, KafkaChannel } from '../src/network/kafka-channel.js';
import type { Transport, TransportFactory, TransportHandler } from '../src/network/transport.js';
import { CompressionType } from '../src/protocol/compression/index.js';
import { Reader } from '../src/protocol/reader.js';
import { decodeRecordBatches, RecordBatchBuilder, type RecordHeader } from '../src/protocol/record-batch.js';
import { Writer } from '../src/protocol/writer.js';
import { mulberry32 } from './prng.js';
import { apiDefs, descriptorOf, Gen, versionRange } from './protocol-gen.js';

// Property-based fuzzing with fast-check: the response decoders the client
// runs on broker bytes (Produce, Metadata, ApiVersions, InitProducerId), the
// frame reader (KafkaChannel), varints and record batches, under random
// bytes, truncations of valid encodings and forged length fields. The only
// error allowed out of a decoder is ProtocolError; the channel closes with
// one and never throws from onData. (The seeded mutation fuzz over every
// API is protocol-fuzz.test.ts; this file adds shrinking counterexamples.)
//
// Runs are reproducible: the seed is fixed (TRIBUTARY_FUZZ_SEED overrides
// it) and fast-check prints the seed and path of a failure. The in-suite run
// is small; TRIBUTARY_FUZZ_RUNS=<n> runs each property n times, e.g.
//   TRIBUTARY_FUZZ_RUNS=20000 node --test core/dist/test/fuzz-properties.test.js

const RUNS = Number(process.env['TRIBUTARY_FUZZ_RUNS'] ?? 200);
const SEED = Number(process.env['TRIBUTARY_FUZZ_SEED'] ?? 0x7b1b);
const params = { numRuns: RUNS, seed: SEED };
// Long on-demand runs get a proportionally longer per-test budget.
const timeout = Math.max(60_000, RUNS * 200);

/** Runs `fn`; anything thrown other than a ProtocolError fails the property. */
function onlyProtocolError(fn: () => unknown): 'ok' | 'rejected' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof ProtocolError) return 'rejected';
    throw new Error(`escaped ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err });
  }
}

const FUZZED = ['Produce', 'Metadata', 'ApiVersions', 'InitProducerId'];

/** Forged values for a length field of 1, 2 or 4 bytes (and their off-by-one neighbours). */
const forgedInt32 = fc.constantFrom(-1, -2, 0x7fffffff, -0x80000000, 0x10000, 0xffff, 1 << 24);
const forgedVarint = fc.constantFrom(
  [0xff, 0xff, 0xff, 0xff, 0x0f], // uint32 max
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // longer than any legal varint
  [0x01], // compact length 0: a null / empty marker
  [0xfe, 0xff, 0xff, 0xff, 0x07], // 2^31 - 1
);

for (const name of FUZZED) {
  const api = apiDefs.find((a) => a.name === name);
  if (api === undefined) throw new Error(`no definition for ${name}`);
  const d = descriptorOf(api);
  const [lo, hi] = versionRange(api);
  const version = fc.integer({ min: lo, max: hi });
  // A valid response for a version, from the definitions (protocol-gen), driven by a seed fast-check picks.
  const valid = (seed: number, v: number): Buffer => {
    const flexible = api.flexible !== null && v >= api.flexible;
    const [input] = new Gen(mulberry32(seed), api).message(api.response, v, flexible, 0);
    const w = new Writer(64);
    d.encodeResponse(w, v, input as never);
    return Buffer.from(w.finish());
  };
  const decode = (bytes: Uint8Array, v: number) => d.decodeResponse(new Reader(bytes, 0, bytes.length), v);

  describe(`${name} response decoder (v${lo}-v${hi}) under fast-check`, () => {
    it('random bytes: only ProtocolError', { timeout }, () => {
      fc.assert(
        fc.property(version, fc.uint8Array({ maxLength: 512 }), (v, bytes) => {
          onlyProtocolError(() => decode(bytes, v));
        }),
        params,
      );
    });

    it('valid encodings round-trip (decode, encode again: the same bytes)', { timeout }, () => {
      fc.assert(
        fc.property(version, fc.integer(), (v, seed) => {
          const bytes = valid(seed, v);
          const decoded = decode(bytes, v);
          const w = new Writer(64);
          d.encodeResponse(w, v, decoded as never);
          assert.ok(Buffer.from(w.finish()).equals(bytes), 're-encoding the decoded response differs');
        }),
        params,
      );
    });

    it('every strict prefix of a valid encoding is rejected with ProtocolError', { timeout }, () => {
      fc.assert(
        fc.property(version, fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (v, seed, at) => {
          const bytes = valid(seed, v);
          const cut = Math.min(bytes.length - 1, Math.floor(at * bytes.length));
          assert.equal(
            onlyProtocolError(() => decode(bytes.subarray(0, cut), v)),
            'rejected',
          );
        }),
        params,
      );
    });

    it('forged int32 / int16 / varint lengths anywhere: only ProtocolError', { timeout }, () => {
      fc.assert(
        fc.property(
          version,
          fc.integer(),
          fc.nat(),
          fc.oneof(
            forgedInt32.map((x) => ({ kind: 'int32' as const, x })),
            forgedInt32.map((x) => ({ kind: 'int16' as const, x })),
            forgedVarint.map((x) => ({ kind: 'varint' as const, x })),
          ),
          (v, seed, where, forged) => {
            const bytes = valid(seed, v);
            if (bytes.length === 0) return;
            const at = where % bytes.length;
            let out: Buffer;
            if (forged.kind === 'varint') {
              out = Buffer.concat([bytes.subarray(0, at), Buffer.from(forged.x), bytes.subarray(at)]);
            } else {
              out = Buffer.from(bytes);
              const width = forged.kind === 'int32' ? 4 : 2;
              if (at + width > out.length) return;
              if (width === 4) out.writeInt32BE(forged.x | 0, at);
              else out.writeInt16BE(((forged.x << 16) >> 16) | 0, at);
            }
            onlyProtocolError(() => decode(out, v));
          },
        ),
        params,
      );
    });

    it('a length one off its true value: only ProtocolError', { timeout }, () => {
      fc.assert(
        fc.property(version, fc.integer(), fc.nat(), fc.constantFrom(-1, 1), (v, seed, where, delta) => {
          const bytes = valid(seed, v);
          if (bytes.length < 4) return;
          // Nudge one int32 and one byte (a varint's low byte) by one.
          const out = Buffer.from(bytes);
          const at = where % (out.length - 3);
          out.writeInt32BE((out.readInt32BE(at) + delta) | 0, at);
          onlyProtocolError(() => decode(out, v));
          const out2 = Buffer.from(bytes);
          const at2 = where % out2.length;
          out2[at2] = ((out2[at2] as number) + delta) & 0xff;
          onlyProtocolError(() => decode(out2, v));
        }),
        params,
      );
    });
  });
}

describe('varints under fast-check', () => {
  const roundTrip = (write: (w: Writer) => void, read: (r: Reader) => number) => {
    const w = new Writer(16);
    write(w);
    const bytes = w.finish();
    const r = new Reader(bytes);
    const got = read(r);
    assert.equal(r.remaining, 0, 'the reader consumed exactly what the writer wrote');
    return got;
  };

  it('varint (zig-zag int32) round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (x) => {
        assert.equal(
          roundTrip(
            (w) => w.varint(x),
            (r) => r.varint(),
          ),
          x,
        );
      }),
      params,
    );
  });

  it('uvarint round-trips below 2^53', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (x) => {
        assert.equal(
          roundTrip(
            (w) => w.uvarint(x),
            (r) => r.uvarint(),
          ),
          x,
        );
      }),
      params,
    );
  });

  it('varlong round-trips within +-2^52', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (x) => {
        assert.equal(
          roundTrip(
            (w) => w.varlong(x),
            (r) => r.varlong(),
          ),
          x,
        );
      }),
      params,
    );
  });

  it('random bytes read as varints: a number or ProtocolError, never past the end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        for (const read of [
          (r: Reader) => r.varint(),
          (r: Reader) => r.uvarint(),
          (r: Reader) => r.varlong(),
        ]) {
          const r = new Reader(bytes);
          if (onlyProtocolError(() => read(r)) === 'ok') assert.ok(r.pos <= bytes.length);
        }
      }),
      params,
    );
  });
});

describe('record batches under fast-check', () => {
  const bytesOrNull = fc.option(
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    { nil: null },
  );
  const record = fc.record({
    timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
    key: bytesOrNull,
    value: bytesOrNull,
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: bytesOrNull }), { maxLength: 4 }),
  });
  const codec = fc.constantFrom(
    CompressionType.none,
    CompressionType.gzip,
    CompressionType.lz4,
    CompressionType.zstd,
    CompressionType.snappy,
  );

  it('round-trip: every record back byte-exact, with any codec', { timeout }, () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), codec, (records, compression) => {
        const builder = new RecordBatchBuilder(Buffer.alloc(64 * 1024), compression);
        for (const r of records) {
          const headers: RecordHeader[] = r.headers;
          assert.ok(builder.tryAppend(r.timestamp, r.key, r.value, headers) >= 0, 'the record fits');
        }
        const [batch, ...rest] = decodeRecordBatches(Buffer.from(builder.build()));
        assert.equal(rest.length, 0);
        assert.equal(batch?.records.length, records.length);
        batch?.records.forEach((got, i) => {
          const want = records[i] as (typeof records)[number];
          assert.equal(got.offset, i);
          assert.equal(got.timestamp, want.timestamp);
          assert.deepEqual(got.key, want.key);
          assert.deepEqual(got.value, want.value);
          // fast-check's records have no prototype; compare as plain objects.
          assert.deepEqual(
            got.headers,
            want.headers.map((h) => ({ key: h.key, value: h.value })),
          );
        });
      }),
      params,
    );
  });

  it('truncated or length-forged batches: only ProtocolError', { timeout }, () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        forgedInt32,
        (records, where, forged) => {
          const builder = new RecordBatchBuilder(Buffer.alloc(16 * 1024));
          for (const r of records) builder.tryAppend(r.timestamp, r.key, r.value, r.headers);
          const valid = Buffer.from(builder.build());
          const cut = where % valid.length;
          if (cut > 0)
            assert.equal(
              onlyProtocolError(() => decodeRecordBatches(valid.subarray(0, cut))),
              'rejected',
            );
          // The batch length (offset 8) and any other int32 position, forged.
          for (const at of [8, where % (valid.length - 3)]) {
            const out = Buffer.from(valid);
            out.writeInt32BE(forged | 0, at);
            onlyProtocolError(() => decodeRecordBatches(out));
          }
        },
      ),
      params,
    );
  });
});

// -- the frame reader ------------------------------------------------------------------

class ScriptedTransport implements Transport {
  handler!: TransportHandler;
  destroyedWith: Error | undefined | null = null;
  write(): boolean {
    return true;
  }
  destroy(error?: Error): void {
    this.destroyedWith = error;
  }
}

const MAX_FRAME = 4096;

function channel() {
  const transport = new ScriptedTransport();
  const frames: Buffer[] = [];
  const listener: ChannelListener = {
    onChannelConnected: () => {},
    onChannelFrame: (_c, frame) => frames.push(Buffer.from(frame)),
    onChannelClosed: () => {},
  };
  const factory: TransportFactory = (_o, handler) => {
    transport.handler = handler;
    return transport;
  };
  new KafkaChannel(
    1,
    7,
    listener,
    factory,
    { host: 'h', port: 1, connectTimeoutMs: 1000, sendBufferBytes: -1, receiveBufferBytes: -1 },
    MAX_FRAME,
  );
  transport.handler.onConnect();
  return { transport, frames };
}

function framed(payloads: readonly Uint8Array[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((p) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(p.length);
      return [size, Buffer.from(p)];
    }),
  );
}

/** Feeds `bytes` cut at the given points (any order, any count). */
function feed(t: ScriptedTransport, bytes: Buffer, cuts: readonly number[]): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p < from) continue;
    t.handler.onData(bytes.subarray(from, p));
    from = p;
  }
}

describe('KafkaChannel frame reader under fast-check', () => {
  const payload = fc.uint8Array({ minLength: 4, maxLength: 600 });

  it('any chunking reassembles the frames exactly', { timeout }, () => {
    fc.assert(
      fc.property(
        fc.array(payload, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (payloads, cuts) => {
          const { transport, frames } = channel();
          feed(transport, framed(payloads), cuts);
          assert.deepEqual(
            frames,
            payloads.map((p) => Buffer.from(p)),
          );
          assert.equal(transport.destroyedWith, null);
        },
      ),
      params,
    );
  });

  it('a forged size closes the channel with a ProtocolError after the good frames', { timeout }, () => {
    const forged = fc.constantFrom(-1, -0x80000000, 0, 1, 3, MAX_FRAME + 1, 0x7fffffff);
    fc.assert(
      fc.property(
        fc.array(payload, { maxLength: 4 }),
        forged,
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (good, size, tail, cuts) => {
          const { transport, frames } = channel();
          const head = Buffer.alloc(4);
          head.writeInt32BE(size | 0);
          feed(transport, Buffer.concat([framed(good), head, Buffer.from(tail)]), cuts);
          assert.deepEqual(
            frames,
            good.map((p) => Buffer.from(p)),
          );
          assert.ok(transport.destroyedWith instanceof ProtocolError, 'closed with a ProtocolError');
          assert.match((transport.destroyedWith as Error).message, /invalid frame size/);
        },
      ),
      params,
    );
  });

  it('a size of exactly the limit is a frame; one more is not', () => {
    const { transport, frames } = channel();
    const full = Buffer.alloc(MAX_FRAME, 0x5a);
    feed(transport, framed([full]), [1, 7, 4000]);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]?.equals(full));
    const over = channel();
    feed(over.transport, framed([Buffer.alloc(MAX_FRAME + 1)]), []);
    assert.equal(over.frames.length, 0);
    assert.ok(over.transport.destroyedWith instanceof ProtocolError);
  });

  it('random bytes: frames or a ProtocolError close, never a throw', { timeout }, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, cuts) => {
          const { transport } = channel();
          feed(transport, Buffer.from(bytes), cuts);
          const e = transport.destroyedWith;
          assert.ok(e === null || e instanceof ProtocolError, `closed with ${(e as Error)?.name}`);
        },
      ),
      params,
    );
  });
});
