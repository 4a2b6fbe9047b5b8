import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../src/errors.js';
import { type ChannelListener, KafkaChannel } from '../src/network/kafka-channel.js';
import type { Transport, TransportFactory, TransportHandler } from '../src/network/transport.js';
import { mulberry32 } from './prng.js';

// KafkaChannel's framing and write queue, driven by a test transport that
// delivers bytes in exactly the chunks a test chooses (no sockets involved).

class ScriptedTransport implements Transport {
  handler!: TransportHandler;
  writes: Buffer[] = [];
  writable = true;
  destroyedWith: Error | undefined | null = null;

  write(data: Buffer): boolean {
    this.writes.push(Buffer.from(data));
    return this.writable;
  }

  destroy(error?: Error): void {
    this.destroyedWith = error;
    queueMicrotask(() => this.handler.onClose(error));
  }
}

/** A transport with a gathering write: records each writev() call's chunks, uncopied. */
class GatheringTransport extends ScriptedTransport {
  gathered: Buffer[][] = [];

  writev(chunks: readonly Buffer[]): boolean {
    this.gathered.push([...chunks]);
    return this.writable;
  }
}

function open(maxFrameBytes = 1 << 20, transport = new ScriptedTransport()) {
  const frames: Buffer[] = [];
  let closed: { error: Error | undefined } | undefined;
  const listener: ChannelListener = {
    onChannelConnected: () => {},
    // Frames may be views of the read buffer: copy to keep them.
    onChannelFrame: (_c, frame) => frames.push(Buffer.from(frame)),
    onChannelClosed: (_c, error) => {
      closed = { error };
    },
  };
  const factory: TransportFactory = (_options, handler) => {
    transport.handler = handler;
    return transport;
  };
  const channel = new KafkaChannel(
    1,
    7,
    listener,
    factory,
    { host: 'h', port: 1, connectTimeoutMs: 1000, sendBufferBytes: -1, receiveBufferBytes: -1 },
    maxFrameBytes,
  );
  transport.handler.onConnect();
  return { channel, transport, frames, closed: () => closed };
}

function framed(payloads: Buffer[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((p) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(p.length);
      return [size, p];
    }),
  );
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('KafkaChannel framing', () => {
  const rand = mulberry32(99);
  const payloads = [4, 5, 17, 300, 4, 1000].map((n) =>
    Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256))),
  );
  const stream = framed(payloads);

  it('reassembles frames split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { transport, frames } = open();
      transport.handler.onData(stream.subarray(0, cut));
      transport.handler.onData(stream.subarray(cut));
      assert.deepEqual(frames, payloads, `split at ${cut}`);
    }
  });

  it('reassembles any chunking, down to one byte per read', () => {
    for (const size of [1, 2, 3, 5, 8, 64, 333]) {
      const { transport, frames } = open();
      for (let i = 0; i < stream.length; i += size) transport.handler.onData(stream.subarray(i, i + size));
      assert.deepEqual(frames, payloads, `chunks of ${size}`);
    }
  });

  it('delivers many frames from one read', () => {
    const { transport, frames } = open();
    transport.handler.onData(stream);
    assert.deepEqual(frames, payloads);
  });

  it('assembles a frame far larger than one read', () => {
    const big = Buffer.alloc(3 << 20, 0xab);
    big.writeUInt32BE(0xdeadbeef, big.length - 4);
    const { transport, frames } = open(4 << 20);
    const bytes = framed([big]);
    for (let i = 0; i < bytes.length; i += 65536) transport.handler.onData(bytes.subarray(i, i + 65536));
    assert.equal(frames.length, 1);
    assert.ok(frames[0]?.equals(big));
  });

  for (const [what, size] of [
    ['a negative size (2 GiB as int32)', 0x80000000 | 0],
    ['a size above the limit', 2 << 20],
    ['a size too small for a correlation id', 3],
  ] as const) {
    it(`closes with a ProtocolError on ${what}`, async () => {
      const { transport, frames, closed } = open(1 << 20);
      const head = Buffer.alloc(4);
      head.writeInt32BE(size);
      transport.handler.onData(Buffer.concat([framed([payloads[0] as Buffer]), head, Buffer.alloc(10)]));
      assert.equal(frames.length, 1, 'the good frame before it is still delivered');
      assert.ok(transport.destroyedWith instanceof ProtocolError);
      assert.match((transport.destroyedWith as Error).message, /invalid frame size/);
      await tick();
      assert.ok(closed()?.error instanceof ProtocolError);
    });
  }
});

describe('KafkaChannel writes', () => {
  it('coalesces frames sent in the same tick into one write', async () => {
    const { channel, transport } = open();
    const frames = [
      framed([Buffer.from('one')]),
      framed([Buffer.from('two')]),
      framed([Buffer.from('three')]),
    ];
    for (const f of frames) channel.send(f);
    assert.equal(transport.writes.length, 0, 'nothing is written synchronously');
    await tick();
    assert.equal(transport.writes.length, 1);
    assert.ok(transport.writes[0]?.equals(Buffer.concat(frames)));
  });

  it('holds frames while the transport pushes back, and resumes on drain', async () => {
    const { channel, transport } = open();
    transport.writable = false;
    channel.send(framed([Buffer.from('a')]));
    await tick();
    assert.equal(transport.writes.length, 1);
    channel.send(framed([Buffer.from('b')]));
    channel.send(framed([Buffer.from('c')]));
    await tick();
    assert.equal(transport.writes.length, 1, 'back-pressure holds later frames');
    assert.equal(channel.queuedBytes, 10);
    transport.writable = true;
    transport.handler.onDrain();
    assert.equal(transport.writes.length, 2);
    assert.ok(
      transport.writes[1]?.equals(Buffer.concat([framed([Buffer.from('b')]), framed([Buffer.from('c')])])),
    );
    assert.equal(channel.queuedBytes, 0);
  });

  it('hands chunked frames and whole ones to writev in order, the chunks themselves', async () => {
    const transport = new GatheringTransport();
    const { channel } = open(1 << 20, transport);
    const batch = Buffer.alloc(100_000, 7); // a record batch written by reference
    const request = [Buffer.from([0, 1, 134, 168, 1, 2]), batch, Buffer.from([3])];
    const whole = framed([Buffer.from('small')]);
    channel.send(request);
    channel.send(whole);
    await tick();
    assert.equal(transport.writes.length, 0);
    assert.equal(transport.gathered.length, 1);
    const [chunks] = transport.gathered as [Buffer[]];
    assert.deepEqual(
      chunks.map((c) => c.length),
      [6, 100_000, 1, whole.length],
    );
    assert.equal(chunks[1], batch, 'the batch was copied');
    assert.equal(channel.bytesSent, 100_007 + whole.length);
  });

  it('without writev, merges chunks into writes of up to 64 KiB, a larger chunk going alone', async () => {
    const { channel, transport } = open();
    const big = Buffer.alloc(70_000, 9); // past the 64 KiB merge limit
    const mid = Buffer.alloc(40_000, 5);
    const pieces = [Buffer.from('head'), big, Buffer.from('glue'), mid, mid, Buffer.from('tail')];
    channel.send(pieces.slice(0, 3));
    channel.send(pieces.slice(3));
    await tick();
    assert.deepEqual(
      transport.writes.map((w) => w.length),
      [4, 70_000, 40_004, 40_004],
    );
    assert.ok(Buffer.concat(transport.writes).equals(Buffer.concat(pieces)), 'bytes or order differ');
  });

  it('refuses sends after close and reports the close once', async () => {
    const { channel, closed } = open();
    channel.close();
    channel.close();
    await tick();
    assert.deepEqual(closed(), { error: undefined });
    assert.equal(channel.send(framed([Buffer.from('late')])), false);
  });
});
