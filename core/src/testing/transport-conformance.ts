/**
 * `@tributary/core/testing`: the transport conformance suite, written once and
 * run by every adapter package (Node TCP and TLS, Bun TCP and TLS) against
 * real sockets on 127.0.0.1. It checks the contract in `network/transport.ts`:
 * connect and refuse, exactly one `onClose` and nothing after it, no callback
 * from inside a call into the transport, large writes under back-pressure,
 * writes larger than the socket buffers (partial OS writes), a peer closing
 * mid-frame, resets and other errors reaching `onClose(error)`, destroy while
 * connecting, and the connect timeout.
 *
 * It needs only `describe` and `it` (node:test's, bun:test's, or a runner's
 * own), so the same tests run under Node and Bun. Each test owns its
 * listeners and transports and tears them down before it settles, so a
 * leak check around each test (node:test's `beforeEach`/`afterEach` with
 * `process.getActiveResourcesInfo()`) sees a clean slate.
 *
 * Also exported, for adapter-specific tests: the recording handler, the
 * listeners the suite uses, and `createTestPki` (a CA, server and client
 * certificates made with the `openssl` CLI, for TLS transports).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import type {
  Transport,
  TransportFactory,
  TransportHandler,
  TransportOptions,
} from '../network/transport.js';

/** Every listener here is on 127.0.0.1, and every transport connects there. */
export const LOOPBACK = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// The test API the suite runs on.
// ---------------------------------------------------------------------------------------------

type TestBody = () => Promise<void>;

/** The part of node:test (or bun:test, or a small runner) the suite needs. */
export interface ConformanceTestApi {
  describe(name: string, fn: () => void): unknown;
  it: ((name: string, fn: TestBody) => unknown) & { skip?: (name: string, fn: TestBody) => unknown };
}

/** A certificate and key a TLS listener presents; the transport under test must trust it for 127.0.0.1. */
export interface TlsServerIdentity {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface TransportConformanceOptions {
  /** Names the suite: "transport conformance: <name>". */
  name: string;
  factory: TransportFactory;
  test: ConformanceTestApi;
  /**
   * Set for a TLS transport: listeners then speak TLS with this identity, and
   * the TLS-only cases run (a peer that is not TLS, a handshake that hangs).
   */
  tls?: TlsServerIdentity;
  /** Bytes moved through a paused peer in the back-pressure case. Default 32 MiB. */
  backPressureBytes?: number;
  /** Per-test deadline: a regression here tends to hang, so each test fails instead. Default 20 s. */
  timeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Callbacks are never synchronous: calls into the transport are marked, and a handler
// callback that fires inside one is a violation.
// ---------------------------------------------------------------------------------------------

let callDepth = 0;

/** Runs `fn`, a call into a transport; a handler callback fired meanwhile is recorded as a violation. */
export function callTransport<T>(fn: () => T): T {
  callDepth++;
  try {
    return fn();
  } finally {
    callDepth--;
  }
}

/** A handler that records what happened and checks the contract on every callback. */
export class TransportRecorder implements TransportHandler {
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  readonly violations: string[] = [];
  bytes = 0;
  drains = 0;
  closeError: Error | undefined;
  /** Called from onDrain after recording it. */
  drainHook: (() => void) | undefined;
  /** Called from onData after recording it. */
  dataHook: ((chunk: Buffer) => void) | undefined;
  #waiters: { test: () => boolean; resolve: () => void }[] = [];

  get connected(): boolean {
    return this.events.includes('connect');
  }

  get closed(): boolean {
    return this.events.includes('close');
  }

  onConnect(): void {
    if (this.connected) this.violations.push('onConnect twice');
    this.#record('connect');
    this.#wake();
  }

  onData(chunk: Buffer): void {
    this.#record('data');
    if (!this.connected) this.violations.push('onData before onConnect');
    // The chunk is valid only during the call: keep a copy.
    this.chunks.push(Buffer.from(chunk));
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
    if (error !== undefined && !(error instanceof Error)) this.violations.push('onClose with a non-Error');
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

/** No violations, exactly one onClose, and it came last. */
export function assertTransportContract(handler: TransportRecorder): void {
  assert.deepEqual(handler.violations, []);
  assert.equal(handler.events.filter((e) => e === 'close').length, 1, 'exactly one onClose');
  assert.equal(handler.events.at(-1), 'close', 'onClose is last');
}

/** After onClose the transport stays silent: write returns false, destroy does nothing, no callback follows. */
export async function assertQuietAfterClose(transport: Transport, handler: TransportRecorder): Promise<void> {
  const before = handler.events.length;
  assert.equal(
    callTransport(() => transport.write(Buffer.from('late'))),
    false,
    'write() after close returns false',
  );
  callTransport(() => transport.destroy(new Error('late destroy')));
  callTransport(() => transport.destroy());
  // A few turns of the event loop: long enough for any microtask, nextTick, immediate or I/O callback.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(handler.events.length, before, `events after close: ${handler.events.slice(before)}`);
}

function errorCode(error: Error | undefined): string | undefined {
  return (error as { code?: unknown } | undefined)?.code as string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Listeners: the peer side of each test.
// ---------------------------------------------------------------------------------------------

/** The server side of one accepted connection. */
export interface TestPeer {
  /** The stream the peer reads and writes (a TLS socket when the listener speaks TLS). */
  readonly socket: Socket;
  /** Aborts the TCP connection with a reset (RST), whatever the stream on top. */
  reset(): void;
}

export interface TestListener {
  readonly port: number;
  /** Resolves with the next accepted connection not handed out before (after the handshake, with TLS). */
  accepted(): Promise<TestPeer>;
  /** Destroys every connection and closes the listener; resolves once all are closed. */
  close(): Promise<void>;
}

const noop = (): void => {};

function closeSocket(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });
}

function listenOn(server: Server | TlsServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address !== 'object') reject(new Error('listener has no port'));
      else resolve(address.port);
    });
  });
}

function closeServer(server: Server | TlsServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A listener on 127.0.0.1. Plaintext: the accepted socket is the peer. With
 * `tls`: a TCP front that pipes each connection to an in-process TLS server,
 * so the peer is the TLS server's socket while `reset()` can still send a real
 * RST on the TCP connection the transport holds (a TLS socket cannot be reset
 * from Node: its handle is the TLS wrap, not the TCP handle).
 */
export async function listenForTransport(
  options: { tls?: TlsServerIdentity | undefined; onConnection?: (peer: TestPeer) => void } = {},
): Promise<TestListener> {
  const peers: TestPeer[] = [];
  const sockets = new Set<Socket>();
  let handedOut = 0;
  let wake: (() => void) | undefined;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', noop); // resets are part of several tests
    socket.once('close', () => sockets.delete(socket));
  };
  const accept = (peer: TestPeer): void => {
    peers.push(peer);
    options.onConnection?.(peer);
    wake?.();
  };
  const servers: (Server | TlsServer)[] = [];

  let port: number;
  if (options.tls === undefined) {
    const server = createServer((socket) => {
      track(socket);
      accept({ socket, reset: () => socket.resetAndDestroy() });
    });
    servers.push(server);
    port = await listenOn(server);
  } else {
    // The front's TCP connection for each backend port, to pair a TLS socket with it.
    const fronts = new Map<number, Socket>();
    const inner = createTlsServer({ key: options.tls.key, cert: options.tls.cert }, (socket: TLSSocket) => {
      track(socket);
      const front = fronts.get(socket.remotePort ?? -1);
      accept({
        socket,
        reset: () => {
          front?.resetAndDestroy();
          socket.destroy();
        },
      });
    });
    inner.on('tlsClientError', noop); // handshake failures are what several tests provoke
    // Its TCP connections too, so close() can end one still in its handshake.
    inner.on('connection', (socket: Socket) => track(socket));
    servers.push(inner);
    const innerPort = await listenOn(inner);
    const front = createServer((raw) => {
      track(raw);
      const backend = netConnect({ host: LOOPBACK, port: innerPort });
      track(backend);
      backend.once('connect', () => fronts.set(backend.localPort ?? -1, raw));
      raw.pipe(backend);
      backend.pipe(raw);
      // A transport that goes away takes the backend with it; a backend that ends (the TLS peer
      // closed) has already ended `raw` through the pipe, and a reset destroys both.
      raw.once('close', () => backend.destroy());
      backend.once('close', () => {
        if (!raw.destroyed) raw.end();
      });
    });
    servers.push(front);
    port = await listenOn(front);
  }

  return {
    port,
    accepted: async () => {
      while (peers.length <= handedOut) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      return peers[handedOut++] as TestPeer;
    },
    close: async () => {
      await Promise.all([...servers.map(closeServer), ...[...sockets].map(closeSocket)]);
      // Sockets accepted while closing (a pipe's backend connecting late) are closed too.
      await Promise.all([...sockets].map(closeSocket));
    },
  };
}

/** A port on 127.0.0.1 with no listener: bind one, note the port, close it. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  const port = await listenOn(server);
  await closeServer(server);
  return port;
}

/**
 * Why a connect that hangs cannot be made here, or false when it can. The
 * hang: a Node process listens with backlog 1 and then blocks its event loop
 * (a synchronous read of its stdin), so nothing calls accept(); Linux
 * completes the handshake for backlog + 1 = 2 connections (they sit in the
 * accept queue), then drops further SYNs (net.ipv4.tcp_abort_on_overflow = 0,
 * the default), and the client retransmits its SYN after 1 s: a connect stays
 * pending for longer than the timeout. The listener is a Node child process
 * even under Bun, whose own listeners do not honour a backlog of 1.
 */
export function connectHangUnavailable(): string | false {
  if (process.platform !== 'linux') return 'relies on Linux dropping SYNs when the accept queue is full';
  try {
    const abort = readFileSync('/proc/sys/net/ipv4/tcp_abort_on_overflow', 'utf8').trim();
    if (abort !== '0') return 'net.ipv4.tcp_abort_on_overflow is set: a full accept queue answers with RST';
  } catch {
    return 'cannot read net.ipv4.tcp_abort_on_overflow';
  }
  if (nodeBinary() === undefined) return 'needs a node binary for the stalled listener';
  return false;
}

/** Node itself, or under another runtime the `node` on PATH (undefined when there is none). */
function nodeBinary(): string | undefined {
  if ((process.versions as { bun?: string }).bun === undefined) return process.execPath;
  const found = spawnSync('node', ['--version'], { stdio: 'ignore' });
  return found.status === 0 ? 'node' : undefined;
}

const STALLED_LISTENER = `
const server = require('node:net').createServer();
server.listen({ host: '${LOOPBACK}', port: 0, backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    // Block the event loop, so nothing calls accept(), until stdin closes (the parent is done or gone).
    try { require('node:fs').readSync(0, Buffer.alloc(1)); } catch {}
    process.exit(0);
  });
});
`;

/**
 * A listener on 127.0.0.1 whose accept queue is full (see `connectHangUnavailable`).
 * `close()` closes the child's stdin, so it exits, and destroys the fillers.
 */
export async function stalledListener(): Promise<{ port: number; close(): Promise<void> }> {
  const child = spawn(nodeBinary() ?? 'node', ['-e', STALLED_LISTENER], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number.parseInt(out, 10));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`stalled listener exited (${code}) before listening`)));
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const filler = netConnect({ host: LOOPBACK, port });
    filler.on('error', noop);
    fillers.push(filler);
    await new Promise((resolve) => filler.once('connect', resolve));
  }
  return {
    port,
    close: async () => {
      const closed = fillers.map(closeSocket);
      child.stdin?.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await Promise.all([exited, ...closed]);
      clearTimeout(killer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Test certificates.
// ---------------------------------------------------------------------------------------------

/** PEM text of a test PKI; every certificate is an EC P-256 key signed by `ca` unless said otherwise. */
export interface TestPki {
  /** The directory holding the files (`ca.crt`, `server.crt`, ...); `dispose()` removes it. */
  dir: string;
  ca: string;
  /** A second CA that signed nothing the others trust: the "unknown CA". */
  otherCa: string;
  /** For 127.0.0.1 and localhost (subjectAltName IP and DNS), valid for two days. */
  server: { cert: string; key: string };
  /** Signed by `ca`, for the name wrong.example only. */
  wrongHost: { cert: string; key: string };
  /** Signed by `ca` for 127.0.0.1 and localhost, but its notAfter is a day before its notBefore. */
  expired: { cert: string; key: string };
  /** Signed by `otherCa`, for 127.0.0.1 and localhost. */
  untrusted: { cert: string; key: string };
  /** A client certificate (extendedKeyUsage clientAuth); `encryptedKey` is `key` under `passphrase`. */
  client: { cert: string; key: string; encryptedKey: string; passphrase: string };
  dispose(): void;
}

/**
 * Makes a throwaway PKI with the `openssl` CLI (Debian package `openssl`) in a
 * new temporary directory: no fixed keys in the repository, nothing outlives
 * `dispose()`. About 0.2 s.
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-pki-'));
  const openssl = (...args: string[]): void => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      const missing = (err as { code?: string }).code === 'ENOENT';
      throw new Error(
        missing
          ? 'createTestPki needs the openssl CLI (Debian package openssl)'
          : `openssl ${args.join(' ')} failed: ${stderr}`,
        { cause: err },
      );
    }
  };
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = (name: string, cn: string): void =>
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const makeLeaf = (name: string, ca: string, cn: string, ext: string, days: string): void => {
    openssl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    // -days -1 makes notAfter a day before the signing time: expired from the start.
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      days,
      '-extfile',
      `${name}.ext`,
    );
  };
  try {
    mkdirSync(dir, { recursive: true });
    makeCa('ca', 'Tributary Test CA');
    makeCa('other-ca', 'Tributary Unknown CA');
    const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
    makeLeaf('server', 'ca', 'localhost', serverExt, '2');
    makeLeaf('wrong-host', 'ca', 'wrong.example', 'subjectAltName=DNS:wrong.example\n', '2');
    makeLeaf('expired', 'ca', 'localhost', serverExt, '-1');
    makeLeaf('untrusted', 'other-ca', 'localhost', serverExt, '2');
    makeLeaf('client', 'ca', 'tributary-client', 'extendedKeyUsage=clientAuth\n', '2');
    const passphrase = 'tributary-test-passphrase';
    openssl(
      'pkey',
      '-in',
      'client.key',
      '-aes256',
      '-passout',
      `pass:${passphrase}`,
      '-out',
      'client-enc.key',
    );
    const pair = (name: string) => ({ cert: read(`${name}.crt`), key: read(`${name}.key`) });
    return {
      dir,
      ca: read('ca.crt'),
      otherCa: read('other-ca.crt'),
      server: pair('server'),
      wrongHost: pair('wrong-host'),
      expired: pair('expired'),
      untrusted: pair('untrusted'),
      client: { ...pair('client'), encryptedKey: read('client-enc.key'), passphrase },
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The suite.
// ---------------------------------------------------------------------------------------------

/** What a test gets: open transports and listeners that are torn down when it ends. */
interface Scope {
  options(port: number, overrides?: Partial<TransportOptions>): TransportOptions;
  open(options: TransportOptions): { transport: Transport; handler: TransportRecorder };
  /** A listener speaking the suite's protocol (TLS when the suite has `tls`). */
  listen(onConnection?: (peer: TestPeer) => void): Promise<TestListener>;
  /** A listener that always speaks plaintext TCP. */
  listenPlain(onConnection?: (peer: TestPeer) => void): Promise<TestListener>;
}

/** A deterministic, non-repeating byte pattern (so a reordered or duplicated chunk shows). */
function pattern(total: number): Buffer {
  const source = Buffer.alloc(total);
  for (let i = 0; i + 4 <= total; i += 4) source.writeUInt32LE((i * 2654435761) >>> 0, i);
  return source;
}

/** A peer that checks each byte it reads against `source`; `paused` starts it not reading. */
/** Every byte the peer expected arrived, in order; then `destroy()` closes the transport cleanly, by the contract. */
async function assertAllArrivedThenClose(
  peer: ReturnType<typeof verifyingPeer>,
  expectedBytes: number,
  transport: Transport,
  handler: TransportRecorder,
): Promise<void> {
  assert.equal(peer.received, expectedBytes);
  assert.equal(peer.mismatchAt, -1, `bytes differ from offset ${peer.mismatchAt}`);
  callTransport(() => transport.destroy());
  await handler.untilClosed();
  assert.equal(handler.closeError, undefined);
  assertTransportContract(handler);
}

/**
 * A transport connected to a peer that does not read until `resumePeer()`,
 * with `mark` as its high water mark if given; the peer checks every byte against
 * `source` (`peer.all` resolves once all of it arrived).
 */
async function openToPausedPeer(s: Scope, source: Buffer, mark?: number) {
  const peer = verifyingPeer(source, true);
  let peerSocket: Socket | undefined;
  const server = await s.listen((p) => {
    peerSocket = p.socket;
    peer.onConnection(p);
  });
  const { transport, handler } = s.open(
    s.options(server.port, mark === undefined ? {} : { sendBufferBytes: mark }),
  );
  await server.accepted();
  await handler.until(() => handler.connected);
  return { peer, transport, handler, resumePeer: () => peerSocket?.resume() };
}

function verifyingPeer(source: Buffer, paused: boolean) {
  let received = 0;
  let mismatchAt = -1;
  let done: () => void = noop;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  return {
    all,
    get received() {
      return received;
    },
    get mismatchAt() {
      return mismatchAt;
    },
    onConnection(peer: TestPeer): void {
      if (paused) peer.socket.pause();
      peer.socket.on('data', (chunk: Buffer) => {
        if (mismatchAt < 0 && !chunk.equals(source.subarray(received, received + chunk.length))) {
          mismatchAt = received;
        }
        received += chunk.length;
        if (received >= source.length) done();
      });
    },
  };
}

/**
 * Registers the conformance tests for one transport factory. Call it at the
 * top level of a test file (inside a `describe` is fine too).
 */
export function transportConformance(options: TransportConformanceOptions): void {
  const { factory, test } = options;
  const tls = options.tls;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const backPressureBytes = options.backPressureBytes ?? 32 * 1024 * 1024;

  /** Registers a test whose resources are released however it ends, with a deadline. */
  const it = (name: string, body: (scope: Scope) => Promise<void>, skip: string | false = false): void => {
    if (skip !== false) {
      const skipped = async (): Promise<void> => {};
      if (test.it.skip) test.it.skip(`${name} (${skip})`, skipped);
      return;
    }
    test.it(name, async () => {
      const listeners: TestListener[] = [];
      const opened: { transport: Transport; handler: TransportRecorder }[] = [];
      const scope: Scope = {
        options: (port, overrides = {}) => ({
          host: LOOPBACK,
          port,
          connectTimeoutMs: 10_000,
          sendBufferBytes: -1,
          receiveBufferBytes: -1,
          ...overrides,
        }),
        open: (opts) => {
          const handler = new TransportRecorder();
          const transport = callTransport(() => factory(opts, handler));
          opened.push({ transport, handler });
          return { transport, handler };
        },
        listen: async (onConnection) => {
          const l = await listenForTransport({ tls, ...(onConnection ? { onConnection } : {}) });
          listeners.push(l);
          return l;
        },
        listenPlain: async (onConnection) => {
          const l = await listenForTransport(onConnection ? { onConnection } : {});
          listeners.push(l);
          return l;
        },
      };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const state = opened.map((o, i) => `#${i}: ${o.handler.events.join(',') || '(none)'}`).join('; ');
          reject(new Error(`${name}: not done within ${timeoutMs} ms; transport events ${state}`));
        }, timeoutMs);
      });
      try {
        await Promise.race([body(scope), deadline]);
      } finally {
        clearTimeout(timer);
        for (const o of opened) {
          if (!o.handler.closed) callTransport(() => o.transport.destroy());
        }
        // Teardown has its own deadline: a transport that never calls onClose, or a listener that
        // cannot close, fails the test instead of hanging the run.
        let teardownTimer: ReturnType<typeof setTimeout> | undefined;
        const teardownDeadline = new Promise<never>((_, reject) => {
          teardownTimer = setTimeout(() => {
            const open = opened.filter((o) => !o.handler.closed).length;
            reject(
              new Error(`${name}: teardown not done within 5000 ms (${open} transport(s) without onClose)`),
            );
          }, 5000);
        });
        try {
          await Promise.race([
            (async () => {
              await Promise.all(opened.map((o) => o.handler.untilClosed()));
              await Promise.all(listeners.map((l) => l.close()));
            })(),
            teardownDeadline,
          ]);
        } finally {
          clearTimeout(teardownTimer);
        }
      }
    });
  };

  test.describe(`transport conformance: ${options.name}`, () => {
    it('connects, moves data both ways, and closes once on destroy()', async (s) => {
      const server = await s.listen((peer) => peer.socket.pipe(peer.socket)); // echo
      const { transport, handler } = s.open(s.options(server.port));
      await handler.until(() => handler.connected);
      assert.deepEqual(handler.events, ['connect']);

      const message = Buffer.from('hello, broker');
      assert.equal(
        callTransport(() => transport.write(message)),
        true,
      );
      await handler.until(() => handler.bytes >= message.length);
      assert.deepEqual(handler.received(), message);

      // The echo shows the peer got the bytes; now it speaks on its own.
      const peer = await server.accepted();
      peer.socket.unpipe(peer.socket);
      peer.socket.write(Buffer.from('from server'));
      await handler.until(() => handler.bytes >= message.length + 11);
      assert.equal(handler.received().subarray(message.length).toString(), 'from server');

      callTransport(() => transport.destroy());
      callTransport(() => transport.destroy()); // idempotent
      await handler.untilClosed();
      assert.equal(handler.closeError, undefined);
      assertTransportContract(handler);
      await assertQuietAfterClose(transport, handler);
    });

    it('queues writes made before onConnect and sends them, in order, once connected', async (s) => {
      const source = pattern(256 * 1024);
      const peer = verifyingPeer(source, false);
      const server = await s.listen((p) => peer.onConnection(p));
      const { transport, handler } = s.open(s.options(server.port, { sendBufferBytes: 1024 * 1024 }));
      // Uneven pieces, all written before the connection exists.
      for (let offset = 0, i = 0; offset < source.length; i++) {
        const size = Math.min([1, 1000, 4096, 77_777][i % 4] as number, source.length - offset);
        callTransport(() => transport.write(source.subarray(offset, offset + size)));
        offset += size;
      }
      assert.ok(!handler.connected, 'connected synchronously');
      await peer.all;
      assert.equal(peer.received, source.length);
      assert.equal(peer.mismatchAt, -1, `bytes differ from offset ${peer.mismatchAt}`);
      callTransport(() => transport.destroy());
      await handler.untilClosed();
      assertTransportContract(handler);
    });

    it('reports a refused connection as onClose(error) with code ECONNREFUSED, without onConnect', async (s) => {
      const { transport, handler } = s.open(s.options(await unusedPort()));
      await handler.untilClosed();
      assert.deepEqual(handler.events, ['close']);
      assert.equal(errorCode(handler.closeError), 'ECONNREFUSED', String(handler.closeError));
      assertTransportContract(handler);
      await assertQuietAfterClose(transport, handler);
    });

    it('reports an address the runtime rejects (port 70000) through onClose, not by throwing', async (s) => {
      const { transport, handler } = s.open(s.options(70_000));
      await handler.untilClosed();
      assert.deepEqual(handler.events, ['close']);
      assert.ok(handler.closeError instanceof Error, 'onClose gets the error');
      assertTransportContract(handler);
      await assertQuietAfterClose(transport, handler);
    });

    it('closes once, without onConnect, when destroyed while connecting', async (s) => {
      const server = await s.listen();
      const first = s.open(s.options(server.port));
      callTransport(() => first.transport.write(Buffer.from('never sent')));
      callTransport(() => first.transport.destroy());
      callTransport(() => first.transport.destroy()); // idempotent
      await first.handler.untilClosed();
      assert.deepEqual(first.handler.events, ['close']);
      assert.equal(first.handler.closeError, undefined);
      assertTransportContract(first.handler);
      await assertQuietAfterClose(first.transport, first.handler);

      // With an error, that very error is what onClose gets, and a later one does not replace it.
      const failure = new Error('giving up');
      const second = s.open(s.options(server.port));
      callTransport(() => second.transport.destroy(failure));
      callTransport(() => second.transport.destroy(new Error('second thoughts')));
      await second.handler.untilClosed();
      assert.deepEqual(second.handler.events, ['close']);
      assert.equal(second.handler.closeError, failure);
      assertTransportContract(second.handler);

      // Destroyed a moment later, while the handshake may be under way.
      const third = s.open(s.options(server.port));
      await new Promise((resolve) => setImmediate(resolve));
      if (!third.handler.closed) callTransport(() => third.transport.destroy());
      await third.handler.untilClosed();
      assertTransportContract(third.handler);
    });

    it('delivers nothing but onClose after destroy() from inside onData, even with reads pending', async (s) => {
      const flood = Buffer.alloc(4 * 1024 * 1024, 7);
      const server = await s.listen((peer) => peer.socket.write(flood));
      const { transport, handler } = s.open(s.options(server.port));
      handler.dataHook = () => callTransport(() => transport.destroy());
      await handler.untilClosed();
      assert.deepEqual(handler.events, ['connect', 'data', 'close']);
      assert.ok(handler.bytes < flood.length);
      assert.equal(handler.closeError, undefined);
      assertTransportContract(handler);
      await assertQuietAfterClose(transport, handler);
    });

    it(`moves ${backPressureBytes >> 20} MiB in order under back-pressure: write() returns false, onDrain resumes`, async (s) => {
      const source = pattern(backPressureBytes);
      const mark = 1024 * 1024;
      const { peer, transport, handler, resumePeer } = await openToPausedPeer(s, source, mark);

      // Chunks of uneven sizes, all below the high water mark, so a false from write() means the queue
      // really built up behind a peer that is not reading.
      const sizes = [65_536, 1, 12_345, 100_000, 7, 262_144, 31_337];
      let offset = 0;
      let chunkIndex = 0;
      let falses = 0;
      let acceptedBeforeFirstFalse = -1;
      const pump = (): void => {
        while (offset < source.length) {
          const size = Math.min(sizes[chunkIndex++ % sizes.length] as number, source.length - offset);
          const ok = callTransport(() => transport.write(source.subarray(offset, offset + size)));
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
      assert.ok(falses >= 1, 'write() never returned false although the peer was not reading');
      assert.ok(offset < source.length, `all ${source.length} bytes were taken without back-pressure`);
      assert.ok(acceptedBeforeFirstFalse >= mark, `false after only ${acceptedBeforeFirstFalse} bytes`);
      const drainsBefore = handler.drains;
      resumePeer();
      await peer.all;
      assert.ok(handler.drains > drainsBefore, 'onDrain never fired');
      assert.equal(offset, source.length);
      await assertAllArrivedThenClose(peer, source.length, transport, handler);
    });

    it("writev (optional): its chunks go out whole and in order among plain writes, with write()'s back-pressure", async (s) => {
      const source = pattern(8 * 1024 * 1024);
      const { peer, transport, handler, resumePeer } = await openToPausedPeer(s, source, 512 * 1024);
      const writev = transport.writev?.bind(transport);
      if (writev === undefined) return; // the channel merges chunks into write() for such transports

      // As a Produce request goes out: small chunks (headers) around large ones
      // (record batches), some calls with one chunk, every fourth a plain write().
      const sizes = [45, 16_384, 9, 16_384, 3, 1, 131_072, 70, 5000];
      let offset = 0;
      let call = 0;
      let falses = 0;
      const pump = (): void => {
        while (offset < source.length) {
          let ok: boolean;
          if (call % 4 === 3) {
            const size = Math.min(20_000, source.length - offset);
            ok = callTransport(() => transport.write(source.subarray(offset, offset + size)));
            offset += size;
          } else {
            const chunks: Buffer[] = [];
            for (let k = 0; k < 1 + (call % 5) && offset < source.length; k++) {
              const size = Math.min(sizes[(call + k) % sizes.length] as number, source.length - offset);
              chunks.push(source.subarray(offset, offset + size));
              offset += size;
            }
            ok = callTransport(() => writev(chunks));
          }
          call++;
          if (!ok) {
            falses++;
            return; // wait for onDrain
          }
        }
      };
      handler.drainHook = pump;
      pump();
      assert.ok(falses >= 1, 'writev() never returned false although the peer was not reading');
      resumePeer();
      await peer.all;
      assert.equal(offset, source.length);
      await assertAllArrivedThenClose(peer, source.length, transport, handler);
    });

    it('takes a write far larger than the socket buffers whole: partial OS writes are its business', async (s) => {
      // One 24 MiB write into a paused peer cannot fit the kernel's buffers: the OS takes part of it
      // (Bun's write() says how much), and the rest must follow, in order, ahead of later writes.
      const big = pattern(24 * 1024 * 1024);
      const tail = [Buffer.from('after the big one'), Buffer.alloc(0), big.subarray(7, 70_007)];
      const expected = Buffer.concat([big, ...tail]);
      const { peer, transport, handler, resumePeer } = await openToPausedPeer(s, expected);
      assert.equal(
        callTransport(() => transport.write(big)),
        false,
        'a 24 MiB write is past any high water mark',
      );
      for (const piece of tail) callTransport(() => transport.write(piece));
      // Let the event loop run while the peer is paused: the transport must not lose or reorder anything.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.ok(peer.received < expected.length, 'everything arrived although the peer was paused');
      resumePeer();
      await peer.all;
      await handler.until(() => handler.drains >= 1);
      assert.equal(peer.received, expected.length);
      assert.equal(peer.mismatchAt, -1, `bytes differ from offset ${peer.mismatchAt}`);
      callTransport(() => transport.destroy());
      await handler.untilClosed();
      assertTransportContract(handler);
    });

    it('bounds its queue by sendBufferBytes: past the mark write() returns false and onDrain follows', async (s) => {
      const server = await s.listen();
      const chunk = Buffer.alloc(100 * 1024, 1);
      // Queued before the connection exists, so nothing has reached the kernel yet.
      const small = s.open(s.options(server.port, { sendBufferBytes: 64 * 1024 }));
      assert.equal(
        callTransport(() => small.transport.write(chunk)),
        false,
      );
      const large = s.open(s.options(server.port, { sendBufferBytes: 1024 * 1024 }));
      assert.equal(
        callTransport(() => large.transport.write(chunk)),
        true,
      );
      await small.handler.until(() => small.handler.drains === 1);
      assert.deepEqual(small.handler.events, ['connect', 'drain']);
      for (const { transport, handler } of [small, large]) {
        callTransport(() => transport.destroy());
        await handler.untilClosed();
        assertTransportContract(handler);
      }
    });

    it('passes reads on in order, however the peer splits them', async (s) => {
      const server = await s.listen();
      const { transport, handler } = s.open(s.options(server.port));
      const peer = await server.accepted();
      await handler.until(() => handler.connected);
      const pieces = ['a', 'bcd', 'efghijk', 'l', 'mnopqrstuvwxyz'];
      let expected = 0;
      for (const piece of pieces) {
        peer.socket.write(piece);
        expected += piece.length;
        await handler.until(() => handler.bytes >= expected);
      }
      assert.equal(handler.received().toString(), pieces.join(''));
      const large = pattern(1024 * 1024 + 3);
      peer.socket.write(large);
      await handler.until(() => handler.bytes >= expected + large.length);
      assert.deepEqual(handler.received().subarray(expected), large);
      callTransport(() => transport.destroy());
      await handler.untilClosed();
      assertTransportContract(handler);
    });

    it('reports a peer that closes mid-frame: the bytes it sent, then onClose(undefined), once', async (s) => {
      // Half a Kafka frame: a size prefix promising 100 bytes, then 10.
      const partial = Buffer.concat([Buffer.from([0, 0, 0, 100]), Buffer.from('0123456789')]);
      const server = await s.listen((peer) => peer.socket.end(partial));
      const { transport, handler } = s.open(s.options(server.port));
      await handler.untilClosed();
      assert.equal(handler.events[0], 'connect');
      assert.ok(
        handler.events.slice(1, -1).every((e) => e === 'data'),
        handler.events.join(','),
      );
      assert.deepEqual(handler.received(), partial);
      assert.equal(handler.closeError, undefined);
      assertTransportContract(handler);
      await assertQuietAfterClose(transport, handler);
    });

    it('reports a reset by the peer, also while writing, as onClose(error) (ECONNRESET or EPIPE)', async (s) => {
      const server = await s.listen();
      const { transport, handler } = s.open(s.options(server.port));
      const peer = await server.accepted();
      await handler.until(() => handler.connected);
      // Keep writing while the peer resets: the failure may surface on the read or the write side.
      handler.drainHook = () => {
        while (!handler.closed && callTransport(() => transport.write(Buffer.alloc(64 * 1024))));
      };
      callTransport(() => transport.write(Buffer.alloc(64 * 1024)));
      peer.reset();
      handler.drainHook();
      await handler.untilClosed();
      const code = errorCode(handler.closeError);
      assert.ok(code === 'ECONNRESET' || code === 'EPIPE', `unexpected close error: ${handler.closeError}`);
      assertTransportContract(handler);
      await assertQuietAfterClose(transport, handler);
    });

    it('keeps the contract when a 1 ms connect timeout races the handshake', async (s) => {
      const server = await s.listen();
      for (let i = 0; i < 20; i++) {
        const { transport, handler } = s.open(s.options(server.port, { connectTimeoutMs: 1 }));
        await handler.until(() => handler.connected || handler.closed);
        if (handler.connected) {
          callTransport(() => transport.destroy());
          await handler.untilClosed();
          assert.deepEqual(handler.events, ['connect', 'close']);
        } else {
          assert.equal(errorCode(handler.closeError), 'ETIMEDOUT', String(handler.closeError));
          assert.deepEqual(handler.events, ['close']);
        }
        assertTransportContract(handler);
      }
    });

    it(
      'times out a TCP connect that hangs (SYN dropped by a full accept queue): onClose(ETIMEDOUT)',
      async (s) => {
        const stalled = await stalledListener();
        try {
          const timeoutMs = 150;
          const started = performance.now();
          const { transport, handler } = s.open(s.options(stalled.port, { connectTimeoutMs: timeoutMs }));
          await handler.untilClosed();
          const elapsed = performance.now() - started;
          assert.deepEqual(handler.events, ['close'], 'the connect must not have completed');
          assert.equal(errorCode(handler.closeError), 'ETIMEDOUT', String(handler.closeError));
          assert.match(
            handler.closeError?.message ?? '',
            new RegExp(`connect to ${LOOPBACK}:${stalled.port} timed out after 150 ms`),
          );
          assert.ok(elapsed >= timeoutMs - 2, `closed after ${elapsed} ms, before the timeout`);
          assertTransportContract(handler);
          await assertQuietAfterClose(transport, handler);
        } finally {
          await stalled.close();
        }
      },
      connectHangUnavailable(),
    );

    if (tls !== undefined) {
      it('TLS: fails the handshake with a peer that does not speak TLS: onClose(error), no onConnect', async (s) => {
        const server = await s.listenPlain((peer) => {
          peer.socket.on('data', () => peer.socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
        });
        const { transport, handler } = s.open(s.options(server.port));
        await handler.untilClosed();
        assert.deepEqual(handler.events, ['close']);
        assert.ok(handler.closeError instanceof Error, 'onClose gets the error');
        assertTransportContract(handler);
        await assertQuietAfterClose(transport, handler);
      });

      it('TLS: onConnect waits for the handshake: a peer that never answers it times out', async (s) => {
        const server = await s.listenPlain(); // accepts TCP, never says a word
        const started = performance.now();
        const { transport, handler } = s.open(s.options(server.port, { connectTimeoutMs: 300 }));
        await server.accepted();
        await handler.untilClosed();
        assert.ok(performance.now() - started >= 298, 'closed before the timeout');
        assert.deepEqual(handler.events, ['close'], 'onConnect before the handshake completed');
        assert.equal(errorCode(handler.closeError), 'ETIMEDOUT', String(handler.closeError));
        assertTransportContract(handler);
        await assertQuietAfterClose(transport, handler);
      });
    }
  });
}
