import { Socket, type TcpNetConnectOpts } from 'node:net';
import type { Transport, TransportFactory, TransportHandler, TransportOptions } from '@tributary/core';

/** The longest delay setTimeout honours; a longer one would fire after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Connect options plus the stream options the Socket constructor passes on to
 * `stream.Duplex` (Node's typings leave those out of `SocketConstructorOpts`).
 */
type SocketOptions = TcpNetConnectOpts & { writableHighWaterMark?: number };

/**
 * A plaintext TCP transport over `node:net`, implementing the core's
 * `TransportFactory` contract (see `Transport` in `@tributary/core`).
 *
 * - Sockets open with `noDelay` (Kafka requests are whole frames; Nagle only
 *   delays them) and `keepAlive` at the OS's default interval.
 * - `connectTimeoutMs` arms one timer, cleared on connect; on expiry the
 *   socket is destroyed with an Error (`code` `ETIMEDOUT`) naming host, port
 *   and the timeout. A value that is not a positive number disables it; values
 *   past setTimeout's range (about 24.8 days) are clamped to it.
 * - `sendBufferBytes` > 0 becomes the socket's writable high water mark: the
 *   bytes Node queues in user space before `write()` returns false. Node
 *   cannot set SO_SNDBUF or SO_RCVBUF on a TCP socket, so the kernel buffers
 *   keep the OS defaults (Linux autotunes them), and `receiveBufferBytes` has
 *   no effect: reads flow straight to `onData`, so a readable high water mark
 *   would bound nothing.
 * - Errors (ECONNREFUSED, ECONNRESET, EPIPE, ENOTFOUND, a host or port Node
 *   rejects, the connect timeout) reach `onClose(error)`; the socket's
 *   'error' event always has a listener, so none is ever unhandled. The first
 *   error wins: a later `destroy(error)` does not replace it. An orderly close
 *   by the peer is `onClose(undefined)`.
 * - After `destroy()` only `onClose` follows: no further `onConnect`,
 *   `onData` or `onDrain`. `write()` after `destroy()` or close drops the
 *   bytes and returns false.
 * - Handlers are bound once per connection; `write()` allocates nothing of
 *   its own.
 *
 * Throws (a TypeError) only when `options.tls` is set: that is a wiring
 * mistake, and connecting in plaintext instead would be worse than failing.
 */
export const createTcpTransport: TransportFactory = (options, handler) => {
  if (options.tls !== undefined) {
    throw new TypeError(
      'createTcpTransport speaks plaintext only, but TransportOptions.tls is set: use a TLS transport',
    );
  }
  return new TcpTransport(options, handler);
};

class TcpTransport implements Transport {
  readonly #handler: TransportHandler;
  readonly #socket: Socket;
  #timer: NodeJS.Timeout | undefined;
  /** The first error seen; handed to onClose. */
  #error: Error | undefined;
  /** destroy() was called or the socket failed: only onClose may follow. */
  #destroyed = false;
  /** onClose has run: nothing may follow. */
  #closed = false;

  constructor(options: TransportOptions, handler: TransportHandler) {
    this.#handler = handler;
    const opts = socketOptions(options);
    // new Socket + connect is what net.connect does; split, so a throw from connect still has a
    // socket to destroy (Node creates the TCP handle before it validates the port).
    const socket = new Socket(opts);
    this.#socket = socket;
    socket.on('connect', this.#onSocketConnect);
    socket.on('data', this.#onSocketData);
    socket.on('drain', this.#onSocketDrain);
    socket.on('error', this.#onSocketError);
    // 'close' is the socket's last event and always follows 'error', so onClose hangs off it alone.
    socket.on('close', this.#onSocketClose);
    try {
      socket.connect(opts);
    } catch (err) {
      // Node validates host and port synchronously (ERR_SOCKET_BAD_PORT, ERR_INVALID_ARG_TYPE). Both
      // can come from broker metadata, so they are a failed connection, reported like any other:
      // destroy emits 'error' and 'close' later, never from here.
      this.#destroyed = true;
      socket.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const timeoutMs = options.connectTimeoutMs;
    if (timeoutMs > 0) {
      this.#timer = setTimeout(this.#onConnectTimeout, Math.min(timeoutMs, MAX_TIMER_MS), options);
    }
  }

  write(data: Buffer): boolean {
    if (this.#destroyed || this.#closed) return false;
    return this.#socket.write(data);
  }

  destroy(error?: Error): void {
    if (this.#destroyed || this.#closed) return;
    this.#destroyed = true;
    this.#clearTimer();
    // With an error the socket emits 'error' then 'close'; without, just 'close'. Both come later,
    // from Node's nextTick or libuv's close callback, so onClose is never synchronous from here.
    this.#socket.destroy(error);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  readonly #onSocketConnect = (): void => {
    this.#clearTimer();
    if (!this.#destroyed) this.#handler.onConnect();
  };

  readonly #onSocketData = (chunk: Buffer): void => {
    if (!this.#destroyed) this.#handler.onData(chunk);
  };

  readonly #onSocketDrain = (): void => {
    if (!this.#destroyed) this.#handler.onDrain();
  };

  readonly #onSocketError = (error: Error): void => {
    this.#destroyed = true;
    this.#error ??= error;
  };

  readonly #onSocketClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#destroyed = true;
    this.#clearTimer();
    this.#handler.onClose(this.#error);
  };

  readonly #onConnectTimeout = (options: TransportOptions): void => {
    this.#timer = undefined;
    if (this.#destroyed) return;
    const error = new Error(
      `connect to ${options.host}:${options.port} timed out after ${options.connectTimeoutMs} ms`,
    ) as Error & { code: string };
    error.code = 'ETIMEDOUT';
    this.#destroyed = true;
    this.#socket.destroy(error);
  };
}

function socketOptions(options: TransportOptions): SocketOptions {
  const socket: SocketOptions = {
    host: options.host,
    port: options.port,
    noDelay: true,
    keepAlive: true,
  };
  if (options.sendBufferBytes > 0) socket.writableHighWaterMark = options.sendBufferBytes;
  return socket;
}
