import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import type { TransportOptions } from '@tributary/core';
import { isTlsError, TlsFailure } from '@tributary/core';
import {
  assertQuietAfterClose,
  assertTransportContract,
  callTransport,
  createTestPki,
  TransportRecorder,
} from '@tributary/core/testing';
import type { BunConnect, BunConnectOptions, BunSocket, BunSocketHandler } from '../src/bun-api.js';
import { BunSocketTransport, createTcpTransport, tlsTransport } from '../src/bun-transport.js';

// The Bun adapter's logic under Node, against a scripted Bun.connect: partial writes taken exactly
// as a full kernel would, callbacks in any order Bun may call them (close synchronously from
// terminate(), a connect that completes after destroy()), TLS verdicts. Deterministic; the real
// sockets are exercised under Bun by test/bun/run.ts (the conformance suite and the producer).

/** A Bun socket whose "kernel" takes `capacity` more bytes, then nothing until the test frees room. */
class FakeSocket implements BunSocket<BunSocketTransport> {
  capacity = Number.POSITIVE_INFINITY;
  readonly written: Buffer[] = [];
  ended = false;
  terminated = false;
  unrefed = false;
  closed = false;
  readonly data: BunSocketTransport;
  readonly #handlers: BunSocketHandler<BunSocketTransport>;

  constructor(options: BunConnectOptions<BunSocketTransport>) {
    this.data = options.data;
    this.#handlers = options.socket;
  }

  write(data: Uint8Array, byteOffset = 0, byteLength = data.length - byteOffset): number {
    if (this.closed || this.ended) return -1;
    const taken = Math.min(byteLength, this.capacity);
    this.capacity -= taken;
    this.written.push(Buffer.from(data.subarray(byteOffset, byteOffset + taken)));
    return taken;
  }
  end(): void {
    this.ended = true;
  }
  terminate(): void {
    this.terminated = true;
    this.close(); // synchronously, as Bun does
  }
  unref(): void {
    this.unrefed = true;
  }
  setNoDelay(): boolean {
    return true;
  }
  setKeepAlive(): boolean {
    return true;
  }

  // What Bun would call.
  open(): void {
    this.#handlers.open?.(this);
  }
  handshake(error: Error | null): void {
    this.#handlers.handshake?.(this, error === null, error);
  }
  /** The kernel sent `bytes` more: room for them, then Bun's drain callback. */
  drain(bytes: number): void {
    this.capacity = bytes;
    this.#handlers.drain?.(this);
  }
  receive(data: string): void {
    this.#handlers.data?.(this, Buffer.from(data));
  }
  error(error: Error): void {
    this.#handlers.error?.(this, error);
  }
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#handlers.close?.(this, error);
  }
  sent(): Buffer {
    return Buffer.concat(this.written);
  }
}

/** A scripted Bun.connect: each call makes a FakeSocket the test drives. */
function fakeBun() {
  const sockets: FakeSocket[] = [];
  const calls: BunConnectOptions<BunSocketTransport>[] = [];
  const failures: Error[] = [];
  let throwNext: Error | undefined;
  const connect = ((options: BunConnectOptions<BunSocketTransport>) => {
    if (throwNext !== undefined) {
      const e = throwNext;
      throwNext = undefined;
      throw e;
    }
    calls.push(options);
    const socket = new FakeSocket(options);
    sockets.push(socket);
    return new Promise(() => {}); // Bun resolves it on open; the adapter does not use the socket from it
  }) as unknown as BunConnect;
  return {
    connect,
    sockets,
    calls,
    failures,
    throwOnce(error: Error) {
      throwNext = error;
    },
    connectError(socket: FakeSocket, error: Error) {
      calls[sockets.indexOf(socket)]?.socket.connectError?.(socket, error);
    },
  };
}

function options(overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    host: '127.0.0.1',
    port: 9092,
    connectTimeoutMs: 10_000,
    sendBufferBytes: -1,
    receiveBufferBytes: -1,
    ...overrides,
  };
}

function open(bun: ReturnType<typeof fakeBun>, opts = options()) {
  const handler = new TransportRecorder();
  const transport = callTransport(() => new BunSocketTransport(opts, handler, bun.connect));
  const socket = bun.sockets.at(-1);
  return { transport, handler, socket: socket as FakeSocket };
}

const microtasks = () => new Promise((resolve) => setImmediate(resolve));

const transports: { transport: BunSocketTransport; handler: TransportRecorder }[] = [];
afterEach(() => {
  for (const t of transports.splice(0)) if (!t.handler.closed) t.transport.destroy();
});

describe('BunSocketTransport (scripted Bun.connect)', () => {
  it('queues what a partial write left, resumes on drain, and owes onDrain only after write() said false', async () => {
    const bun = fakeBun();
    const { transport, handler, socket } = open(bun, options({ sendBufferBytes: 4096 }));
    socket.open();
    assert.deepEqual(handler.events, ['connect']);
    const a = Buffer.alloc(25_000, 1);
    const b = Buffer.from('second write');
    const c = Buffer.alloc(3000, 3);
    socket.capacity = 10_000;
    // The kernel takes 10,000 of 25,000: 15,000 wait here, past the 4096 mark.
    assert.equal(
      callTransport(() => transport.write(a)),
      false,
    );
    assert.equal(
      callTransport(() => transport.write(b)),
      false,
    );
    assert.equal(socket.sent().length, 10_000, 'nothing written around the queue');
    socket.drain(8000); // part of the rest: no onDrain yet
    assert.equal(socket.sent().length, 18_000);
    assert.equal(handler.drains, 0);
    socket.drain(Number.POSITIVE_INFINITY);
    assert.equal(handler.drains, 1, 'onDrain once the queue is empty');
    assert.deepEqual(socket.sent(), Buffer.concat([a, b]));
    // Now the queue is empty and the kernel has room: a write goes straight through.
    assert.equal(
      callTransport(() => transport.write(c)),
      true,
    );
    assert.deepEqual(socket.sent(), Buffer.concat([a, b, c]));
    // A partial write below the mark: true, and no onDrain owed.
    socket.capacity = 100;
    assert.equal(
      callTransport(() => transport.write(Buffer.alloc(1000, 4))),
      true,
    );
    socket.drain(Number.POSITIVE_INFINITY);
    assert.equal(handler.drains, 1);
    assert.equal(socket.sent().length, 25_000 + b.length + 3000 + 1000);
    callTransport(() => transport.destroy());
    await handler.untilClosed();
    assertTransportContract(handler);
  });

  it('a kernel that takes nothing at all: every byte waits, in order, and goes out on drain', async () => {
    const bun = fakeBun();
    const { transport, handler, socket } = open(bun);
    socket.open();
    socket.capacity = 0;
    const pieces = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(40_000, 9), Buffer.from('z')];
    for (const p of pieces) callTransport(() => transport.write(p));
    assert.equal(socket.sent().length, 0);
    for (let room = 1; socket.sent().length < 40_002; room *= 3) socket.drain(room);
    assert.deepEqual(socket.sent(), Buffer.concat(pieces));
    assert.equal(handler.drains, 1);
    transports.push({ transport, handler });
  });

  it('sends writes made before the connection once it opens, after onConnect', () => {
    const bun = fakeBun();
    const { transport, handler, socket } = open(bun, options({ sendBufferBytes: 10 }));
    assert.equal(
      callTransport(() => transport.write(Buffer.from('early bytes'))),
      false,
    );
    assert.equal(socket.sent().length, 0);
    handler.dataHook = undefined;
    socket.open();
    assert.deepEqual(handler.events, ['connect', 'drain']);
    assert.equal(socket.sent().toString(), 'early bytes');
    transports.push({ transport, handler });
  });

  it('write() on a socket Bun says is closed (-1): false, and onClose(EPIPE) even if Bun closes without an error', async () => {
    // Bun reports a reset that arrived before it read anything as an orderly end: close(undefined).
    const bun = fakeBun();
    const { transport, handler, socket } = open(bun);
    socket.open();
    socket.ended = true;
    assert.equal(
      callTransport(() => transport.write(Buffer.from('x'))),
      false,
    );
    assert.ok(socket.terminated);
    socket.close();
    await handler.untilClosed();
    assert.equal((handler.closeError as { code?: string }).code, 'EPIPE');
    assert.match(
      handler.closeError?.message ?? '',
      /write to 127\.0\.0\.1:9092 failed: the connection is closed/,
    );
    assertTransportContract(handler);
    await assertQuietAfterClose(transport, handler);
  });

  it('destroy() before the connection exists: onClose at once (later), and a late socket is terminated', async () => {
    const bun = fakeBun();
    const { transport, handler, socket } = open(bun);
    callTransport(() => transport.destroy());
    assert.deepEqual(handler.events, [], 'onClose synchronously from destroy()');
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['close']);
    assert.equal(handler.closeError, undefined);
    socket.open(); // Bun's connect completes after all
    assert.ok(socket.terminated, 'the late connection is dropped');
    await assertQuietAfterClose(transport, handler);
  });

  it('destroy() ends an open connection with FIN and unref; destroy(error) with RST, that error reported', async () => {
    const bun = fakeBun();
    const graceful = open(bun);
    graceful.socket.open();
    callTransport(() => graceful.transport.destroy());
    assert.ok(graceful.socket.ended && graceful.socket.unrefed && !graceful.socket.terminated);
    await graceful.handler.untilClosed();
    graceful.socket.close(); // Bun's close, once the peer answered: ignored
    assert.equal(graceful.handler.closeError, undefined);
    assertTransportContract(graceful.handler);

    const failure = new Error('request timed out');
    const abort = open(bun);
    abort.socket.open();
    // terminate() calls Bun's close handler synchronously: onClose must still come later.
    callTransport(() => abort.transport.destroy(failure));
    assert.ok(abort.socket.terminated);
    await abort.handler.untilClosed();
    assert.equal(abort.handler.closeError, failure);
    assertTransportContract(abort.handler);
    await assertQuietAfterClose(abort.transport, abort.handler);
  });

  it('reports a port Bun rejects synchronously, and a connectError, through onClose', async () => {
    const bun = fakeBun();
    const bad = Object.assign(new RangeError('port must be in the range [0, 65535]'), {
      code: 'ERR_OUT_OF_RANGE',
    });
    bun.throwOnce(bad);
    const handler = new TransportRecorder();
    callTransport(() => new BunSocketTransport(options({ port: 70_000 }), handler, bun.connect));
    assert.deepEqual(handler.events, []);
    await handler.untilClosed();
    assert.equal(handler.closeError, bad);

    const refused = open(bun);
    const error = Object.assign(new Error('Failed to connect'), { code: 'ECONNREFUSED' });
    bun.connectError(refused.socket, error);
    await refused.handler.untilClosed();
    assert.deepEqual(refused.handler.events, ['close']);
    assert.equal(refused.handler.closeError, error);
  });

  it('times out a connect that never opens (ETIMEDOUT), and drops the connection if it opens later', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const bun = fakeBun();
    const { handler, socket } = open(bun, options({ connectTimeoutMs: 500 }));
    t.mock.timers.tick(499);
    await microtasks();
    assert.deepEqual(handler.events, []);
    t.mock.timers.tick(1);
    await handler.untilClosed();
    assert.equal((handler.closeError as { code?: string }).code, 'ETIMEDOUT');
    assert.equal(handler.closeError?.message, 'connect to 127.0.0.1:9092 timed out after 500 ms');
    socket.open();
    assert.ok(socket.terminated);
    assertTransportContract(handler);
  });

  it('passes reads on while open, and nothing after destroy()', async () => {
    const bun = fakeBun();
    const { transport, handler, socket } = open(bun);
    socket.open();
    socket.receive('abc');
    handler.dataHook = () => callTransport(() => transport.destroy());
    socket.receive('def');
    socket.receive('ghi');
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['connect', 'data', 'data', 'close']);
    assert.equal(handler.received().toString(), 'abcdef');
  });
});

describe('tlsTransport on Bun (scripted Bun.connect)', () => {
  const pki = createTestPki();
  after(() => pki.dispose());
  const saved = (globalThis as { Bun?: unknown }).Bun;
  after(() => {
    (globalThis as { Bun?: unknown }).Bun = saved;
  });
  const withBun = () => {
    const bun = fakeBun();
    (globalThis as { Bun?: unknown }).Bun = { connect: bun.connect };
    return bun;
  };
  const verifyError = (code: string, message: string) => Object.assign(new Error(message), { code });

  function openTls(
    bun: ReturnType<typeof fakeBun>,
    factory = tlsTransport({ ca: pki.ca }),
    host = '127.0.0.1',
  ) {
    const handler = new TransportRecorder();
    const transport = callTransport(() => factory(options({ host, port: 9093 }), handler));
    return { transport, handler, socket: bun.sockets.at(-1) as FakeSocket, call: bun.calls.at(-1) };
  }

  it('hands Bun its TLS options: verification its own, SNI for names only, versions as numbers', () => {
    const bun = withBun();
    const byIp = openTls(bun);
    assert.equal(byIp.call?.tls?.rejectUnauthorized, false);
    assert.equal(byIp.call?.tls?.serverName, undefined);
    assert.equal(byIp.call?.tls?.minVersion, 0x0303);
    assert.equal(byIp.call?.tls?.maxVersion, 0x0304);
    assert.equal(byIp.call?.tls?.ca, pki.ca);
    const byName = openTls(bun, tlsTransport({ ca: pki.ca, minVersion: 'TLSv1.3' }), 'broker.example');
    assert.equal(byName.call?.tls?.serverName, 'broker.example');
    assert.equal(byName.call?.tls?.minVersion, 0x0304);
    for (const o of [byIp, byName]) o.transport.destroy();
  });

  it('connects only once the handshake is verified', async () => {
    const bun = withBun();
    const { transport, handler, socket } = openTls(bun);
    callTransport(() => transport.write(Buffer.from('ApiVersions')));
    socket.open();
    assert.deepEqual(handler.events, [], 'onConnect before the handshake');
    assert.equal(socket.sent().length, 0, 'bytes sent before the handshake');
    socket.handshake(null);
    assert.deepEqual(handler.events, ['connect']);
    assert.equal(socket.sent().toString(), 'ApiVersions');
    callTransport(() => transport.destroy());
    await handler.untilClosed();
    assertTransportContract(handler);
  });

  const verdicts: [string, Parameters<typeof tlsTransport>[0], string, TlsFailure | 'ok'][] = [
    ['expired', {}, 'CERT_HAS_EXPIRED', TlsFailure.CertificateExpired],
    ['unknown CA', {}, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', TlsFailure.UntrustedCertificate],
    ['wrong host', {}, 'ERR_TLS_CERT_ALTNAME_INVALID', TlsFailure.HostnameMismatch],
    [
      "wrong host, endpointIdentificationAlgorithm ''",
      { endpointIdentificationAlgorithm: '' },
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ok',
    ],
    [
      "unknown CA, endpointIdentificationAlgorithm ''",
      { endpointIdentificationAlgorithm: '' },
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      TlsFailure.UntrustedCertificate,
    ],
    [
      'unknown CA, rejectUnauthorized false',
      { rejectUnauthorized: false },
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'ok',
    ],
    [
      'wrong host, rejectUnauthorized false',
      { rejectUnauthorized: false },
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ok',
    ],
    ['not TLS, rejectUnauthorized false', { rejectUnauthorized: false }, 'EPROTO', TlsFailure.NotTls],
  ];
  for (const [name, extra, code, expected] of verdicts) {
    it(`handshake verdict: ${name} -> ${expected}`, async () => {
      const bun = withBun();
      const { transport, handler, socket } = openTls(bun, tlsTransport({ ca: pki.ca, ...extra }));
      socket.open();
      const message =
        code === 'EPROTO' ? 'error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER' : code;
      socket.handshake(verifyError(code, message));
      if (expected === 'ok') {
        assert.deepEqual(handler.events, ['connect']);
        callTransport(() => transport.destroy());
        await handler.untilClosed();
        assert.equal(handler.closeError, undefined);
      } else {
        await handler.untilClosed();
        assert.deepEqual(handler.events, ['close']);
        assert.ok(socket.terminated);
        const error = handler.closeError;
        assert.ok(isTlsError(error), String(error));
        assert.equal(error.reason, expected);
        assert.equal(error.code, code);
        assert.equal(error.port, 9093);
      }
      assertTransportContract(handler);
    });
  }

  it('reports a broker refusing our (missing) certificate after the handshake as client-certificate-rejected', async () => {
    const bun = withBun();
    const { handler, socket } = openTls(bun);
    socket.open();
    socket.handshake(null);
    socket.error(
      verifyError('EPROTO', 'error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED'),
    );
    socket.close();
    await handler.untilClosed();
    assert.deepEqual(handler.events, ['connect', 'close']);
    const error = handler.closeError;
    assert.ok(isTlsError(error), String(error));
    assert.equal(error.reason, TlsFailure.ClientCertificateRejected);
    assert.match(error.message, /refused by the broker: it requires a client certificate/);
  });

  it('checks its options when made; the plaintext factory refuses TLS options', () => {
    withBun();
    assert.throws(
      () => tlsTransport({ passphrase: 'x', cert: pki.client.cert, key: pki.client.encryptedKey }),
      TypeError,
    );
    assert.throws(() => tlsTransport({ ca: 'nonsense' }), /holds no PEM certificate/);
    assert.throws(() => createTcpTransport({ ...options(), tls: {} }, new TransportRecorder()), TypeError);
  });

  it('says so when not running on Bun', () => {
    (globalThis as { Bun?: unknown }).Bun = undefined;
    assert.throws(() => createTcpTransport(options(), new TransportRecorder()), /needs the Bun runtime/);
  });
});

describe('shared TLS modules', () => {});
