import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Transport, TransportOptions } from '@tributary/core';
import {
  assertQuietAfterClose,
  assertTransportContract,
  callTransport,
  LOOPBACK,
  listenForTransport,
  type TestListener,
  TransportRecorder,
} from '@tributary/core/testing';
import { createTcpTransport } from '../src/tcp-transport.js';
import { checkNoLeaksAroundEachTest } from './leak-check.js';

// What only the Node TCP transport promises, beyond the conformance suite every transport passes
// (conformance.test.ts): Node's own defaults and error codes, and its refusal of TLS options.

/** A regression here tends to hang (a callback that never comes): each test has a deadline instead. */
const DEADLINE = { timeout: 20_000 };

checkNoLeaksAroundEachTest();

function options(port: number, overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    host: LOOPBACK,
    port,
    connectTimeoutMs: 10_000,
    sendBufferBytes: -1,
    receiveBufferBytes: -1,
    ...overrides,
  };
}

function open(opts: TransportOptions): { transport: Transport; handler: TransportRecorder } {
  const handler = new TransportRecorder();
  const transport = callTransport(() => createTcpTransport(opts, handler));
  return { transport, handler };
}

const listeners: TestListener[] = [];
async function listen(...args: Parameters<typeof listenForTransport>): Promise<TestListener> {
  const l = await listenForTransport(...args);
  listeners.push(l);
  return l;
}
async function closeListeners(): Promise<void> {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
}
after(closeListeners);

describe('createTcpTransport (Node specifics)', () => {
  // Node's mock timers replace setTimeout for this test only, so "later than the timeout" needs no
  // sleep; the socket I/O stays real.
  it(
    'clears the connect timer on connect: a live connection outlasts connectTimeoutMs',
    DEADLINE,
    async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      const server = await listen({ onConnection: (peer) => peer.socket.pipe(peer.socket) });
      const { transport, handler } = open(options(server.port, { connectTimeoutMs: 1000 }));
      await handler.until(() => handler.connected);
      t.mock.timers.tick(60_000);
      callTransport(() => transport.write(Buffer.from('still here')));
      await handler.until(() => handler.bytes >= 10 || handler.closed);
      assert.deepEqual(handler.events, ['connect', 'data']);
      callTransport(() => transport.destroy());
      await handler.untilClosed();
      assert.equal(handler.closeError, undefined);
      assertTransportContract(handler);
      await closeListeners();
    },
  );

  it('uses Node’s 16 KiB write high water mark when sendBufferBytes is -1', DEADLINE, async () => {
    const server = await listen();
    // One 100 KiB write already passes Node's default mark; 16 KiB - 1 does not.
    const big = open(options(server.port));
    assert.equal(
      callTransport(() => big.transport.write(Buffer.alloc(100 * 1024, 1))),
      false,
    );
    const under = open(options(server.port));
    assert.equal(
      callTransport(() => under.transport.write(Buffer.alloc(16 * 1024 - 1, 1))),
      true,
    );
    await big.handler.until(() => big.handler.drains === 1);
    for (const { transport, handler } of [big, under]) {
      callTransport(() => transport.destroy());
      await handler.untilClosed();
      assertTransportContract(handler);
    }
    await closeListeners();
  });

  it(
    'hands each read to onData as Node reads it: one call per peer write, 64 KiB at most',
    DEADLINE,
    async () => {
      const server = await listen();
      const { transport, handler } = open(options(server.port));
      const peer = await server.accepted();
      await handler.until(() => handler.connected);

      // Small pieces, each sent only after the previous one arrived, so each is its own read.
      const pieces = ['a', 'bcd', 'efghijk', 'l', 'mnopqrstuvwxyz'];
      let expected = 0;
      for (const piece of pieces) {
        peer.socket.write(piece);
        expected += piece.length;
        await handler.until(() => handler.bytes >= expected);
      }
      assert.equal(handler.chunks.length, pieces.length);

      // One large write arrives as several reads (Node reads at most 64 KiB at a time).
      const large = Buffer.alloc(1024 * 1024, 3);
      const chunksBefore = handler.chunks.length;
      peer.socket.write(large);
      await handler.until(() => handler.bytes >= expected + large.length);
      const reads = handler.chunks.slice(chunksBefore);
      assert.ok(reads.length >= 16, `${reads.length} reads`);
      assert.ok(
        reads.every((c) => c.length <= 64 * 1024),
        'a read larger than 64 KiB',
      );

      callTransport(() => transport.destroy());
      await handler.untilClosed();
      assertTransportContract(handler);
      await closeListeners();
    },
  );

  it('reports a port Node rejects as onClose(ERR_SOCKET_BAD_PORT)', DEADLINE, async () => {
    const { transport, handler } = open(options(70_000));
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['close']);
    assert.equal((handler.closeError as NodeJS.ErrnoException | undefined)?.code, 'ERR_SOCKET_BAD_PORT');
    assertTransportContract(handler);
    await assertQuietAfterClose(transport, handler);
  });

  it('refuses TLS options instead of connecting in plaintext', () => {
    assert.throws(
      () => createTcpTransport({ ...options(9092), tls: {} }, new TransportRecorder()),
      TypeError,
    );
  });
});
