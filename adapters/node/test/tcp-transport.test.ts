import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { Transport, TransportHandler, TransportOptions } from '@tributary/core';
import { createTcpTransport } from '../src/tcp-transport.js';

// Every server here listens on 127.0.0.1 only, and every client connects there.
const HOST = '127.0.0.1';

/** A regression here tends to hang (a callback that never comes): each test has a deadline instead. */
const DEADLINE = { timeout: 20_000 };

// --- Callbacks are never synchronous: the test marks the span of each call into the transport. ---

let callDepth = 0;
/** Runs `fn` (a call into the transport); any handler callback fired meanwhile is a violation. */
function call<T>(fn: () => T): T {
  callDepth++;
  try {
    return fn();
  } finally {
    callDepth--;
  }
}

/** A handler that records what happened and checks the contract on every callback. */
class Recorder implements TransportHandler {
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  readonly violations: string[] = [];
  bytes = 0;
  drains = 0;
  closeError: Error | undefined;
  #waiters: { test: () => boolean; resolve: () => void }[] = [];
  /** Called from onDrain after recording it (the back-pressure test writes from here). */
  drainHook: (() => void) | undefined;
  /** Called from onData after recording it. */
  dataHook: ((chunk: Buffer) => void) | undefined;

  get connected(): boolean {
    return this.events.includes('connect');
  }

  get closed(): boolean {
    return this.events.includes('close');
  }

  onConnect(): void {
    this.#record('connect');
    if (this.events.filter((e) => e === 'connect').length > 1) this.violations.push('onConnect twice');
    this.#wake();
  }

  onData(chunk: Buffer): void {
    this.#record('data');
    if (!this.connected) this.violations.push('onData before onConnect');
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.dataHook?.(chunk);
    this.#wake();
  }

  onDrain(): void {
    this.#record('drain');
    this.drains++;
    this.drainHook?.();
    this.#wake();
  }

  onClose(error: Error | undefined): void {
    this.#record('close');
    this.closeError = error;
    this.#wake();
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `test` holds, checked after every callback. */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  untilClosed(): Promise<void> {
    return this.until(() => this.closed);
  }

  #record(event: string): void {
    if (this.closed) this.violations.push(`on${event} after onClose`);
    if (callDepth > 0) this.violations.push(`on${event} called synchronously from a transport call`);
    this.events.push(event);
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }
}

function options(port: number, overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    host: HOST,
    port,
    connectTimeoutMs: 10_000,
    sendBufferBytes: -1,
    receiveBufferBytes: -1,
    ...overrides,
  };
}

function open(opts: TransportOptions): { transport: Transport; handler: Recorder } {
  const handler = new Recorder();
  const transport = call(() => createTcpTransport(opts, handler));
  return { transport, handler };
}

/** After onClose, the transport stays silent: write and destroy do nothing, and no callback follows. */
async function assertQuietAfterClose(transport: Transport, handler: Recorder): Promise<void> {
  const before = handler.events.length;
  assert.equal(
    call(() => transport.write(Buffer.from('late'))),
    false,
  );
  call(() => transport.destroy(new Error('late destroy')));
  call(() => transport.destroy());
  // A few turns of the event loop: long enough for any nextTick, immediate or I/O callback to run.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(handler.events.length, before, `events after close: ${handler.events.slice(before)}`);
}

function assertContract(handler: Recorder): void {
  assert.deepEqual(handler.violations, []);
  assert.equal(handler.events.filter((e) => e === 'close').length, 1, 'exactly one onClose');
  assert.equal(handler.events.at(-1), 'close', 'onClose is last');
}

// --- Local servers, torn down after each test. ---

interface TestServer {
  port: number;
  /** Server-side sockets, in accept order. */
  sockets: Socket[];
  /** Resolves with the next server-side socket not handed out before. */
  accepted(): Promise<Socket>;
}

const servers: Server[] = [];
const serverSockets: Socket[] = [];

async function listen(onConnection: (socket: Socket) => void = () => {}): Promise<TestServer> {
  const sockets: Socket[] = [];
  let handedOut = 0;
  let waiter: (() => void) | undefined;
  const server = createServer((socket) => {
    serverSockets.push(socket);
    sockets.push(socket);
    socket.on('error', () => {}); // resets are part of several tests
    onConnection(socket);
    waiter?.();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    sockets,
    accepted: async () => {
      while (sockets.length <= handedOut) {
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
      return sockets[handedOut++] as Socket;
    },
  };
}

/** A port on 127.0.0.1 with no listener: bind one, note the port, close it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

// --- No handles left behind: compare the active resources before and after each test. ---

/**
 * File-system requests are left out: the test runner's own reporting can have one in flight at a
 * test's edges (a 'CloseReq' before the first test), and nothing here touches files.
 */
const FS_RESOURCES = new Set(['FSReqCallback', 'FSReqPromise', 'CloseReq', 'FileHandle', 'StatWatcher']);

function resources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => !FS_RESOURCES.has(r))
    .sort();
}

let resourcesBefore: string[] = [];

beforeEach(() => {
  resourcesBefore = resources();
});

afterEach(async () => {
  await Promise.all(
    serverSockets.splice(0).map((socket) => {
      if (socket.closed) return undefined;
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.destroy();
      return closed;
    }),
  );
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  // A server's 'close' event comes on nextTick, before libuv has run the handle's close callback:
  // give the loop a few turns to finish closing. A real leak stays, and fails below.
  for (let turn = 0; turn < 10 && !sameResources(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(resources(), resourcesBefore, 'active resources after the test differ from before it');
});

function sameResources(): boolean {
  const now = resources();
  return now.length === resourcesBefore.length && now.every((r, i) => r === resourcesBefore[i]);
}

describe('createTcpTransport', () => {
  it('connects, then moves data both ways', DEADLINE, async () => {
    const server = await listen((socket) => socket.pipe(socket)); // echo
    const { transport, handler } = open(options(server.port));
    await handler.until(() => handler.connected);
    assert.deepEqual(handler.events, ['connect']);

    const message = Buffer.from('hello, broker');
    assert.equal(
      call(() => transport.write(message)),
      true,
    );
    await handler.until(() => handler.bytes >= message.length);
    assert.deepEqual(handler.received(), message);

    // The echo shows the server got the bytes; now the server speaks on its own.
    const peer = await server.accepted();
    peer.unpipe(peer);
    peer.write(Buffer.from('from server'));
    await handler.until(() => handler.bytes >= message.length + 11);
    assert.equal(handler.received().subarray(message.length).toString(), 'from server');

    call(() => transport.destroy());
    await handler.untilClosed();
    assert.equal(handler.closeError, undefined);
    assertContract(handler);
    await assertQuietAfterClose(transport, handler);
  });

  // Node's mock timers replace setTimeout for this test only, so "later than the timeout" needs no
  // sleep; the socket I/O stays real.
  it(
    'clears the connect timer on connect: a live connection outlasts connectTimeoutMs',
    DEADLINE,
    async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      const server = await listen((socket) => socket.pipe(socket));
      const { transport, handler } = open(options(server.port, { connectTimeoutMs: 1000 }));
      await handler.until(() => handler.connected);
      t.mock.timers.tick(60_000);
      call(() => transport.write(Buffer.from('still here')));
      await handler.until(() => handler.bytes >= 10 || handler.closed);
      assert.deepEqual(handler.events, ['connect', 'data']);
      call(() => transport.destroy());
      await handler.untilClosed();
      assert.equal(handler.closeError, undefined);
      assertContract(handler);
    },
  );

  it('delivers nothing but onClose after destroy(), even with reads pending', DEADLINE, async () => {
    const flood = Buffer.alloc(4 * 1024 * 1024, 7);
    const server = await listen((socket) => socket.write(flood));
    const { transport, handler } = open(options(server.port));
    handler.dataHook = () => call(() => transport.destroy());
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['connect', 'data', 'close']);
    assert.ok(handler.bytes < flood.length);
    assert.equal(handler.closeError, undefined);
    assertContract(handler);
    await assertQuietAfterClose(transport, handler);
  });

  it('reports a refused connection as onClose(ECONNREFUSED), without onConnect', DEADLINE, async () => {
    const port = await unusedPort();
    const { transport, handler } = open(options(port));
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['close']);
    assert.equal((handler.closeError as NodeJS.ErrnoException | undefined)?.code, 'ECONNREFUSED');
    assertContract(handler);
    await assertQuietAfterClose(transport, handler);
  });

  it('closes once, without onConnect, when destroyed while connecting', DEADLINE, async () => {
    const server = await listen();
    const { transport, handler } = open(options(server.port));
    call(() => transport.destroy());
    call(() => transport.destroy()); // idempotent
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['close']);
    assert.equal(handler.closeError, undefined);
    await assertQuietAfterClose(transport, handler);

    // With an error, that error is what onClose gets.
    const failure = new Error('giving up');
    const second = open(options(server.port));
    call(() => second.transport.destroy(failure));
    await second.handler.untilClosed();
    assert.deepEqual(second.handler.events, ['close']);
    assert.equal(second.handler.closeError, failure);
    assertContract(second.handler);
  });

  it('reports an orderly close by the peer mid-stream once, after the data it sent', DEADLINE, async () => {
    const server = await listen((socket) => {
      socket.write(Buffer.from('partial response'));
      socket.end();
    });
    const { transport, handler } = open(options(server.port));
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['connect', 'data', 'close']);
    assert.equal(handler.received().toString(), 'partial response');
    assert.equal(handler.closeError, undefined);
    assertContract(handler);
    await assertQuietAfterClose(transport, handler);
  });

  it(
    'reports a reset by the peer as onClose(error), also while writing (ECONNRESET or EPIPE)',
    DEADLINE,
    async () => {
      const server = await listen();
      const { transport, handler } = open(options(server.port));
      const peer = await server.accepted();
      await handler.until(() => handler.connected);
      // Keep writing while the peer resets: the failure may surface on the read or the write side.
      handler.drainHook = () => {
        while (!handler.closed && call(() => transport.write(Buffer.alloc(64 * 1024))));
      };
      call(() => transport.write(Buffer.alloc(64 * 1024)));
      peer.resetAndDestroy();
      handler.drainHook();
      await handler.untilClosed();
      const code = (handler.closeError as NodeJS.ErrnoException | undefined)?.code;
      assert.ok(code === 'ECONNRESET' || code === 'EPIPE', `unexpected close error: ${handler.closeError}`);
      assertContract(handler);
      await assertQuietAfterClose(transport, handler);
    },
  );

  it(
    'moves 64 MiB in order under back-pressure: write() returns false, onDrain resumes',
    DEADLINE,
    async () => {
      const total = 64 * 1024 * 1024;
      const source = Buffer.alloc(total);
      for (let i = 0; i < total; i += 4) source.writeUInt32LE((i * 2654435761) >>> 0, i);

      // The server checks every byte against the source as it arrives, and starts out not reading.
      let received = 0;
      let mismatchAt = -1;
      let done: () => void = () => {};
      const allReceived = new Promise<void>((resolve) => {
        done = resolve;
      });
      const server = await listen((socket) => {
        socket.pause();
        socket.on('data', (chunk: Buffer) => {
          if (mismatchAt < 0 && !chunk.equals(source.subarray(received, received + chunk.length))) {
            mismatchAt = received;
          }
          received += chunk.length;
          if (received >= total) done();
        });
      });
      const { transport, handler } = open(options(server.port, { sendBufferBytes: 1024 * 1024 }));
      const peer = await server.accepted();
      await handler.until(() => handler.connected);

      // Chunks of uneven sizes, all smaller than the high water mark, so a false from write() means the
      // queue really built up behind a peer that is not reading.
      const sizes = [65_536, 1, 12_345, 100_000, 7, 262_144, 31_337];
      let offset = 0;
      let chunkIndex = 0;
      let falses = 0;
      let acceptedBeforeFirstFalse = -1;
      const pump = (): void => {
        while (offset < total) {
          const size = Math.min(sizes[chunkIndex++ % sizes.length] as number, total - offset);
          const ok = call(() => transport.write(source.subarray(offset, offset + size)));
          offset += size;
          if (!ok) {
            falses++;
            if (acceptedBeforeFirstFalse < 0) acceptedBeforeFirstFalse = offset;
            return; // wait for onDrain
          }
        }
      };
      handler.drainHook = pump;
      pump();
      // The peer is paused: the kernel buffers fill, then the transport's queue passes its mark.
      assert.ok(falses >= 1, 'write() never returned false although the peer was not reading');
      assert.ok(offset < total, 'the whole 64 MiB was taken without back-pressure');
      assert.ok(acceptedBeforeFirstFalse >= 1024 * 1024);
      const drainsBefore = handler.drains;
      peer.resume();
      await allReceived;
      assert.ok(handler.drains > drainsBefore, 'onDrain never fired');
      assert.equal(offset, total);
      assert.equal(received, total);
      assert.equal(mismatchAt, -1, `bytes differ from offset ${mismatchAt}`);

      call(() => transport.destroy());
      await handler.untilClosed();
      assert.equal(handler.closeError, undefined);
      assertContract(handler);
    },
  );

  it('uses sendBufferBytes as the write high water mark (Node cannot set SO_SNDBUF)', DEADLINE, async () => {
    const server = await listen();
    const chunk = Buffer.alloc(100 * 1024, 1);
    // Node's default mark is 16 KiB: one 100 KiB write already passes it.
    const small = open(options(server.port));
    assert.equal(
      call(() => small.transport.write(chunk)),
      false,
    );
    // With a 1 MiB mark the same write is well under it.
    const large = open(options(server.port, { sendBufferBytes: 1024 * 1024 }));
    assert.equal(
      call(() => large.transport.write(chunk)),
      true,
    );
    await small.handler.until(() => small.handler.drains === 1);
    for (const { transport, handler } of [small, large]) {
      call(() => transport.destroy());
      await handler.untilClosed();
      assertContract(handler);
    }
  });

  it('passes reads on however the bytes are split', DEADLINE, async () => {
    const server = await listen();
    const { transport, handler } = open(options(server.port));
    const peer = await server.accepted();
    await handler.until(() => handler.connected);

    // Small pieces, each sent only after the previous one arrived, so each is its own read.
    const pieces = ['a', 'bcd', 'efghijk', 'l', 'mnopqrstuvwxyz'];
    let expected = 0;
    for (const piece of pieces) {
      peer.write(piece);
      expected += piece.length;
      await handler.until(() => handler.bytes >= expected);
    }
    assert.equal(handler.received().toString(), pieces.join(''));
    assert.equal(handler.chunks.length, pieces.length);

    // One large write arrives as several reads (Node reads at most 64 KiB at a time), in order.
    const large = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = (i * 31) & 0xff;
    const chunksBefore = handler.chunks.length;
    peer.write(large);
    await handler.until(() => handler.bytes >= expected + large.length);
    assert.ok(handler.chunks.length - chunksBefore > 1);
    assert.deepEqual(handler.received().subarray(expected), large);

    call(() => transport.destroy());
    await handler.untilClosed();
    assertContract(handler);
  });

  it('reports a host or port Node rejects through onClose, not by throwing', DEADLINE, async () => {
    const { transport, handler } = open(options(70_000));
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['close']);
    assert.equal((handler.closeError as NodeJS.ErrnoException | undefined)?.code, 'ERR_SOCKET_BAD_PORT');
    assertContract(handler);
    await assertQuietAfterClose(transport, handler);
  });

  it('refuses TLS options instead of connecting in plaintext', () => {
    assert.throws(() => createTcpTransport({ ...options(9092), tls: {} }, new Recorder()), TypeError);
  });

  /*
   * A real hang on loopback. The server listens with backlog 1 in a worker thread whose event loop
   * is then blocked, so it never calls accept(). Linux completes the handshake for backlog + 1 = 2
   * connections (they sit in the accept queue), then drops further SYNs while the queue is full
   * (net.ipv4.tcp_abort_on_overflow = 0, the default); the client retransmits its SYN after 1 s, so
   * a connect stays pending for longer than the timeout.
   *
   * What it proves: the timer fires while the connect is genuinely pending, the socket is destroyed
   * with the promised message, onClose gets that error exactly once, onConnect never fires, and the
   * timer and socket leave no handle behind. What it does not prove: behaviour against a remote
   * host on a real network, or on kernels with other accept-queue rules (hence Linux only).
   */
  it('times out a connect that hangs (SYN dropped by a full accept queue)', {
    ...DEADLINE,
    skip: hangUnavailable(),
  }, async () => {
    const stalled = await stalledListener();
    try {
      const timeoutMs = 150;
      const started = performance.now();
      const { transport, handler } = open(options(stalled.port, { connectTimeoutMs: timeoutMs }));
      await handler.untilClosed();
      const elapsed = performance.now() - started;
      assert.deepEqual(handler.events, ['close'], 'the connect must not have completed');
      assert.equal(handler.closeError?.message, `connect to ${HOST}:${stalled.port} timed out after 150 ms`);
      assert.equal((handler.closeError as NodeJS.ErrnoException).code, 'ETIMEDOUT');
      assert.ok(elapsed >= timeoutMs - 2, `closed after ${elapsed} ms, before the timeout`);
      assertContract(handler);
      await assertQuietAfterClose(transport, handler);
    } finally {
      await stalled.close();
    }
  });

  /*
   * The race between the timer and the handshake: with a 1 ms timeout against a live server, either
   * may win (on loopback the connect usually completes in the same loop turn). This proves only that
   * the invariants hold whichever wins, and that the timer is cleared on connect (no Timeout is left
   * behind); which path ran is not asserted.
   */
  it('keeps the contract when the connect timeout races the handshake', DEADLINE, async () => {
    const server = await listen();
    for (let i = 0; i < 20; i++) {
      const { transport, handler } = open(options(server.port, { connectTimeoutMs: 1 }));
      await handler.until(() => handler.connected || handler.closed);
      if (handler.connected) {
        call(() => transport.destroy());
        await handler.untilClosed();
        assert.deepEqual(handler.events, ['connect', 'close']);
      } else {
        assert.equal((handler.closeError as NodeJS.ErrnoException).code, 'ETIMEDOUT');
        assert.deepEqual(handler.events, ['close']);
      }
      assertContract(handler);
    }
  });
});

function hangUnavailable(): string | false {
  if (process.platform !== 'linux') return 'relies on Linux dropping SYNs when the accept queue is full';
  try {
    const abort = readFileSync('/proc/sys/net/ipv4/tcp_abort_on_overflow', 'utf8').trim();
    if (abort !== '0') return 'net.ipv4.tcp_abort_on_overflow is set: a full accept queue answers with RST';
  } catch {
    return 'cannot read net.ipv4.tcp_abort_on_overflow';
  }
  return false;
}

/**
 * A listener on 127.0.0.1 whose accept queue is full: a worker thread listens with backlog 1 and
 * blocks on Atomics.wait, and two client sockets fill the queue. `close()` wakes the worker, which
 * closes its server and exits, and destroys the fillers.
 */
async function stalledListener(): Promise<{ port: number; close(): Promise<void> }> {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createServer } = require('node:net');
    const server = createServer();
    server.listen({ host: '${HOST}', port: 0, backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      // Block this thread's event loop: nothing calls accept() until the test wakes it.
      Atomics.wait(workerData, 0, 0);
      server.close();
      process.exit(0);
    });
    `,
    { eval: true, workerData: wake },
  );
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const filler = netConnect({ host: HOST, port });
    filler.on('error', () => {});
    fillers.push(filler);
    await new Promise((resolve) => filler.once('connect', resolve));
  }
  return {
    port,
    close: async () => {
      const closed = fillers.map((f) => new Promise((resolve) => f.once('close', resolve)));
      for (const f of fillers) f.destroy();
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
      await Promise.all([exited, ...closed]);
    },
  };
}
