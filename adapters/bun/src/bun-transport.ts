import { createSecureContext } from 'node:tls';
import type { Transport, TransportFactory, TransportHandler, TransportOptions } from '@tributary/core';
import {
  assertPlaintext,
  checkTlsOptions,
  classifyTlsError,
  connectTimeoutError,
  MAX_TIMER_MS,
  perConnectionTls,
  sniName,
  TlsFailure,
  type TlsTransportOptions,
} from '@tributary/core';
import {
  type BunConnect,
  type BunSocket,
  type BunSocketHandler,
  type BunTlsOptions,
  bunConnect,
} from './bun-api.js';

export type { TlsMaterial, TlsTransportOptions } from '@tributary/core';

/** The queue's high water mark when `sendBufferBytes` is not positive: Node's, so both runtimes behave alike. */
const DEFAULT_HIGH_WATER_MARK = 16 * 1024;
const TLS_VERSION = { 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 } as const;

/** How a connection speaks TLS: Bun's options, and our verdict on the handshake. */
export interface BunTlsLayer {
  /** Handed to Bun.connect. `rejectUnauthorized` is false there: `verify` decides, so a host name check can be skipped alone. */
  readonly options: BunTlsOptions;
  /** The failure to close with, or undefined to accept the broker's certificate. */
  verify(authorizationError: Error | null, host: string, port: number): Error | undefined;
}

const noop = (): void => {};

/**
 * One connection over `Bun.connect`, plaintext or TLS: the implementation
 * behind this package's factories (their docs give the contract).
 *
 * Bun's `write()` is unbuffered: it hands the kernel what fits and returns
 * how much that was. Whatever it did not take waits here, in order, with
 * everything written after it, and goes out from Bun's `drain` callback;
 * `write()` returns false once this queue holds `sendBufferBytes` (default
 * 16 KiB) or more, and `onDrain` fires when it has emptied.
 *
 * Bun calls `close` synchronously from `terminate()` (and may from
 * `write()`); onClose is therefore always delivered from a microtask, so it
 * never runs inside a call into the transport.
 */
export class BunSocketTransport implements Transport {
  /** One handler object for every connection (Bun's advice); the transport rides in `socket.data`. */
  static readonly #handlers: BunSocketHandler<BunSocketTransport> = {
    open: (socket) => socket.data.#onOpen(socket),
    handshake: (socket, success, authorizationError) =>
      socket.data.#onHandshake(
        socket,
        authorizationError ?? (success ? null : new Error('TLS handshake failed without a reason')),
      ),
    data: (socket, chunk) => socket.data.#onData(chunk),
    drain: (socket) => socket.data.#flush(),
    error: (socket, error) => socket.data.#onSocketError(error),
    close: (socket, error) => socket.data.#onSocketClose(error),
    connectError: (socket, error) => socket.data.#onSocketClose(error),
  };

  readonly #handler: TransportHandler;
  readonly #tls: BunTlsLayer | undefined;
  readonly #host: string;
  readonly #port: number;
  readonly #highWaterMark: number;
  #socket: BunSocket<BunSocketTransport> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Buffers not yet taken by the kernel, from `#head`; `#offset` bytes of the head are already written. */
  #queue: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #queuedBytes = 0;
  /** write() returned false: onDrain is owed once the queue empties. */
  #needDrain = false;
  /** onConnect has run (TCP connected, and with TLS, the handshake verified). */
  #ready = false;
  /** destroy() was called or the connection failed: only onClose may follow. */
  #destroyed = false;
  /** onClose is scheduled or has run: nothing else may follow. */
  #closed = false;
  /** The first error seen; handed to onClose. */
  #error: Error | undefined;

  constructor(options: TransportOptions, handler: TransportHandler, connect: BunConnect, tls?: BunTlsLayer) {
    this.#handler = handler;
    this.#tls = tls;
    this.#host = options.host;
    this.#port = options.port;
    this.#highWaterMark = options.sendBufferBytes > 0 ? options.sendBufferBytes : DEFAULT_HIGH_WATER_MARK;
    let pending: Promise<unknown>;
    try {
      pending = connect({
        hostname: options.host,
        port: options.port,
        data: this,
        socket: BunSocketTransport.#handlers,
        allowHalfOpen: false,
        ...(tls === undefined ? {} : { tls: tls.options }),
      });
    } catch (err) {
      // Bun validates the port synchronously (ERR_OUT_OF_RANGE). Broker metadata can carry a bad
      // one, so it is a failed connection, reported like any other, and later.
      this.#fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // connectError reports a failed connect; a rejection it did not cover still closes us.
    pending.then(noop, (err: unknown) =>
      this.#onSocketClose(err instanceof Error ? err : new Error(String(err))),
    );
    const timeoutMs = options.connectTimeoutMs;
    if (timeoutMs > 0) {
      this.#timer = setTimeout(this.#onConnectTimeout, Math.min(timeoutMs, MAX_TIMER_MS), options);
    }
  }

  write(data: Buffer): boolean {
    if (this.#destroyed) return false;
    const socket = this.#socket;
    if (this.#ready && this.#queuedBytes === 0 && socket !== undefined) {
      const taken = socket.write(data);
      if (taken === data.length) return true;
      if (taken < 0) {
        this.#writeFailed(socket);
        return false;
      }
      this.#queue.push(data);
      this.#offset = taken;
      this.#queuedBytes = data.length - taken;
    } else {
      this.#queue.push(data);
      this.#queuedBytes += data.length;
    }
    if (this.#queuedBytes < this.#highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  destroy(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (error !== undefined) this.#error ??= error;
    const socket = this.#socket;
    if (socket !== undefined) {
      if (error === undefined) {
        // An orderly close: FIN after what the kernel already holds (so an acks=0 request written
        // just before is not cut off by a reset). Bun closes it fully when the peer answers; we
        // report onClose now and ignore the rest, and the socket does not hold the process open.
        socket.end();
        socket.unref();
      } else {
        socket.terminate();
      }
    }
    // Not connected yet: the pending connect is abandoned; #onOpen terminates it if it completes.
    this.#finish();
  }

  /** Schedules onClose with the first error; idempotent. */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#destroyed = true;
    this.#clearTimer();
    this.#queue = [];
    this.#head = 0;
    this.#offset = 0;
    this.#queuedBytes = 0;
    const error = this.#error;
    queueMicrotask(() => this.#handler.onClose(error));
  }

  /**
   * Closes with `error` (unless an earlier one is held), terminating `socket`
   * if given. The error is set first: Bun calls `close` synchronously from
   * `terminate()`.
   */
  #fail(error: Error, socket?: BunSocket<BunSocketTransport>): void {
    this.#error ??= error;
    this.#destroyed = true;
    socket?.terminate();
    this.#finish();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #onOpen(socket: BunSocket<BunSocketTransport>): void {
    if (this.#destroyed) {
      // Destroyed or timed out while connecting: drop the connection that arrived late.
      socket.terminate();
      return;
    }
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 0);
    if (this.#tls === undefined) this.#onReady();
  }

  #onHandshake(socket: BunSocket<BunSocketTransport>, authorizationError: Error | null): void {
    if (this.#destroyed || this.#tls === undefined) return;
    const failure = this.#tls.verify(authorizationError, this.#host, this.#port);
    if (failure !== undefined) {
      this.#fail(failure, socket);
      return;
    }
    this.#onReady();
  }

  #onReady(): void {
    this.#clearTimer();
    this.#ready = true;
    this.#handler.onConnect();
    // Writes made before the connection existed go out now, behind nothing.
    if (!this.#destroyed) this.#flush();
  }

  #onData(chunk: Buffer): void {
    if (!this.#destroyed) this.#handler.onData(chunk);
  }

  /** Writes queued buffers until the kernel stops taking them; owes onDrain once the queue is empty. */
  #flush(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#destroyed || !this.#ready) return;
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const buffer = queue[this.#head] as Buffer;
      const remaining = buffer.length - this.#offset;
      if (remaining > 0) {
        const taken = socket.write(buffer, this.#offset, remaining);
        if (taken < 0) {
          this.#writeFailed(socket);
          return;
        }
        this.#offset += taken;
        this.#queuedBytes -= taken;
        if (taken < remaining) return; // the kernel is full: Bun calls drain when it is not
      }
      queue[this.#head++] = undefined as unknown as Buffer; // let the written buffer go
      this.#offset = 0;
    }
    this.#queue = [];
    this.#head = 0;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#handler.onDrain();
    }
  }

  /**
   * Bun's write() returned -1: the socket is closed or closing. When a reset
   * arrives before Bun has read it, Bun reports it as an orderly end and its
   * close carries no error; the bytes did not go out, so this is EPIPE, as
   * Node reports a write into a closed connection.
   */
  #writeFailed(socket: BunSocket<BunSocketTransport>): void {
    const error = new Error(
      `write to ${this.#host}:${this.#port} failed: the connection is closed`,
    ) as Error & {
      code: string;
    };
    error.code = 'EPIPE';
    this.#fail(error, socket);
  }

  #onSocketError(error: Error): void {
    this.#destroyed = true;
    this.#error ??= this.#classify(error);
  }

  #onSocketClose(error: Error | undefined): void {
    if (error !== undefined) this.#error ??= this.#classify(error);
    this.#finish();
  }

  #classify(error: Error): Error {
    return this.#tls === undefined ? error : classifyTlsError(error, this.#host, this.#port, this.#ready);
  }

  readonly #onConnectTimeout = (options: TransportOptions): void => {
    this.#timer = undefined;
    if (this.#destroyed || this.#ready) return;
    this.#fail(
      connectTimeoutError(options, this.#tls !== undefined && this.#socket !== undefined),
      this.#socket,
    );
  };
}

/**
 * A plaintext TCP transport over `Bun.connect`, implementing the core's
 * `TransportFactory` contract (see `Transport` in `@tributary/core`); the
 * same behaviour as `@tributary/adapter-node`'s `createTcpTransport`:
 *
 * - `noDelay` and `keepAlive` on every socket; `connectTimeoutMs` arms one
 *   timer, cleared on connect, whose expiry closes with an Error (`code`
 *   `ETIMEDOUT`) naming host, port and timeout.
 * - `sendBufferBytes` > 0 is the high water mark of the adapter's own queue
 *   (default 16 KiB, Node's): Bun sets neither SO_SNDBUF nor SO_RCVBUF, and
 *   `receiveBufferBytes` has no effect.
 * - Errors (ECONNREFUSED, ECONNRESET, ENOTFOUND, a port Bun rejects, the
 *   connect timeout) reach `onClose(error)`; an orderly close by the peer is
 *   `onClose(undefined)`. The first error wins.
 * - `destroy()` without an error ends the connection with FIN (data already
 *   handed to the kernel still goes out); with an error, with RST. Either way
 *   onClose follows at once (from a microtask), not when the peer answers. A
 *   connect still pending is abandoned: Bun cannot cancel it, so the socket
 *   is closed when it completes.
 *
 * Throws a TypeError when `options.tls` is set (use `tlsTransport`), or when
 * not running on Bun.
 */
export const createTcpTransport: TransportFactory = (options, handler) => {
  assertPlaintext(options);
  return new BunSocketTransport(options, handler, bunConnect());
};

/**
 * A TLS transport factory over `Bun.connect`'s `tls` option, with the same
 * options and errors as `@tributary/adapter-node`'s `tlsTransport`:
 * certificate chain and host name verified by default; `onConnect` once the
 * handshake is verified (the connect timer covers it); failures reach
 * `onClose` as a `TlsError` whose `reason` says why (untrusted-certificate,
 * hostname-mismatch, certificate-expired, client-certificate-rejected, ...).
 *
 * Options are checked, and the certificates and key loaded once by
 * `node:tls`, when the factory is made: bad PEM or a wrong passphrase throws
 * a TypeError here. Bun is handed `rejectUnauthorized: false` and the
 * adapter judges the handshake itself, so `endpointIdentificationAlgorithm:
 * ''` can skip the host name check alone (Bun reports a chain failure ahead
 * of a host name mismatch, so that never lets an untrusted chain through).
 * `TransportOptions.tls`, when core sets it, is merged over `options` per
 * connection.
 */
export function tlsTransport(options: TlsTransportOptions = {}): TransportFactory {
  const tlsFor = perConnectionTls(options, resolveTls);
  return (transportOptions, handler) => {
    const tls = tlsFor(transportOptions.tls);
    return new BunSocketTransport(
      transportOptions,
      handler,
      bunConnect(),
      tlsLayer(tls, transportOptions.host),
    );
  };
}

let defaultFactory: TransportFactory | undefined;

/** `tlsTransport()` with no options of its own (the bundled CA list, full verification). */
export const createTlsTransport: TransportFactory = (options, handler) => {
  defaultFactory ??= tlsTransport();
  return defaultFactory(options, handler);
};

interface ResolvedTls {
  readonly options: Readonly<TlsTransportOptions>;
  readonly bun: BunTlsOptions;
}

function resolveTls(options: TlsTransportOptions): ResolvedTls {
  const checked = checkTlsOptions(options);
  const material = (m: TlsTransportOptions['ca']) => m as string | Buffer | Array<string | Buffer>;
  const bun: BunTlsOptions = {
    rejectUnauthorized: false,
    minVersion: TLS_VERSION[checked.minVersion ?? 'TLSv1.2'],
    maxVersion: TLS_VERSION[checked.maxVersion ?? 'TLSv1.3'],
  };
  if (checked.ca !== undefined) bun.ca = material(checked.ca);
  if (checked.cert !== undefined) bun.cert = material(checked.cert);
  if (checked.key !== undefined) bun.key = material(checked.key);
  if (checked.passphrase !== undefined) bun.passphrase = checked.passphrase;
  if (checked.ciphers !== undefined) bun.ciphers = checked.ciphers;
  try {
    // Loads the material once (Bun parses it again per connection): bad PEM or a wrong passphrase fails here.
    createSecureContext({
      ...(bun.ca === undefined ? {} : { ca: bun.ca }),
      ...(bun.cert === undefined ? {} : { cert: bun.cert }),
      ...(bun.key === undefined ? {} : { key: bun.key }),
      ...(bun.passphrase === undefined ? {} : { passphrase: bun.passphrase }),
    });
  } catch (err) {
    throw new TypeError(`cannot load the TLS certificates or key: ${(err as Error).message}`, { cause: err });
  }
  return { options: checked, bun };
}

/** Certificate verification results the options may waive; anything else (a protocol failure) always fails. */
const CHAIN_FAILURES = new Set<string>([
  TlsFailure.UntrustedCertificate,
  TlsFailure.CertificateExpired,
  TlsFailure.CertificateNotYetValid,
  TlsFailure.CertificateRevoked,
]);

function tlsLayer(tls: ResolvedTls, host: string): BunTlsLayer {
  const servername = sniName(tls.options, host);
  const rejectUnauthorized = tls.options.rejectUnauthorized ?? true;
  const checkHost = tls.options.endpointIdentificationAlgorithm !== '';
  return {
    options: servername === undefined ? tls.bun : { ...tls.bun, serverName: servername },
    verify: (authorizationError, h, port) => {
      if (authorizationError === null || authorizationError === undefined) return undefined;
      const failure = classifyTlsError(authorizationError, h, port, false);
      const reason = (failure as { reason?: string }).reason;
      if (reason === TlsFailure.HostnameMismatch)
        return rejectUnauthorized && checkHost ? failure : undefined;
      if (reason !== undefined && CHAIN_FAILURES.has(reason)) return rejectUnauthorized ? failure : undefined;
      return failure;
    },
  };
}
