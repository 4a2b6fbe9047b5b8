import { Socket, type TcpNetConnectOpts } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { Transport, TransportHandler, TransportOptions } from '@tributary/core';
import { classifyTlsError, connectTimeoutError, MAX_TIMER_MS } from '@tributary/core';

/**
 * Connect options plus the stream options the Socket constructor passes on to
 * `stream.Duplex` (Node's typings leave those out of `SocketConstructorOpts`).
 */
type SocketOptions = TcpNetConnectOpts & { writableHighWaterMark?: number };

/** How a TLS connection is layered on the TCP socket; its errors reach onClose through `classifyTlsError`. */
export interface TlsLayer {
  /** `tls.connect` options (secureContext, servername, checks); `socket`, `host` and `highWaterMark` are set here. */
  connect: ConnectionOptions;
}

/**
 * One connection over `node:net`, optionally with `node:tls` on top: the
 * implementation behind `createTcpTransport` and `tlsTransport` (their docs
 * give the contract). With TLS, "connected" means the handshake is done
 * (certificate and host name verified): the connect timer runs until then,
 * and writes made before it wait in the TLS socket.
 */
export class NodeSocketTransport implements Transport {
  readonly #handler: TransportHandler;
  /** The stream carrying the bytes: the TCP socket, or the TLS socket over it. */
  readonly #socket: Socket;
  readonly #tls: TlsLayer | undefined;
  readonly #host: string;
  readonly #port: number;
  #timer: NodeJS.Timeout | undefined;
  /** The first error seen; handed to onClose. */
  #error: Error | undefined;
  /** The TCP connection is up (the TLS handshake may still be running). */
  #tcpConnected = false;
  /** onConnect has run (TCP connected, and with TLS, the handshake done). */
  #ready = false;
  /** destroy() was called or the socket failed: only onClose may follow. */
  #destroyed = false;
  /** onClose has run: nothing may follow. */
  #closed = false;

  constructor(options: TransportOptions, handler: TransportHandler, tls?: TlsLayer) {
    this.#handler = handler;
    this.#tls = tls;
    this.#host = options.host;
    this.#port = options.port;
    const opts = socketOptions(options);
    // new Socket + connect is what net.connect does; split, so a throw from connect still has a
    // socket to destroy (Node creates the TCP handle before it validates the port).
    const raw = new Socket(opts);
    raw.on('connect', this.#onTcpConnect);
    // With TLS the TLS socket re-emits the TCP socket's errors; this listener only guarantees
    // that none is unhandled (first error wins, and it is the same object).
    raw.on('error', this.#onSocketError);
    let socket: Socket = raw;
    let connectError: unknown;
    try {
      raw.connect(opts);
    } catch (err) {
      connectError = err;
    }
    if (connectError === undefined && tls !== undefined) {
      try {
        socket = tlsConnect({
          ...tls.connect,
          socket: raw,
          host: options.host,
          port: options.port,
          ...(opts.writableHighWaterMark === undefined ? {} : { highWaterMark: opts.writableHighWaterMark }),
        });
      } catch (err) {
        // Invalid TLS options are a programming error: give the TCP socket back and say so.
        raw.destroy();
        throw err;
      }
    }
    this.#socket = socket;
    socket.on(tls === undefined ? 'connect' : 'secureConnect', this.#onReady);
    socket.on('data', this.#onSocketData);
    socket.on('drain', this.#onSocketDrain);
    if (socket !== raw) socket.on('error', this.#onSocketError);
    // 'close' is the socket's last event and always follows 'error', so onClose hangs off it alone.
    socket.on('close', this.#onSocketClose);
    if (connectError !== undefined) {
      // Node validates host and port synchronously (ERR_SOCKET_BAD_PORT, ERR_INVALID_ARG_TYPE). Both
      // can come from broker metadata, so they are a failed connection, reported like any other:
      // destroy emits 'error' and 'close' later, never from here.
      this.#destroyed = true;
      raw.destroy(connectError instanceof Error ? connectError : new Error(String(connectError)));
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

  writev(chunks: readonly Buffer[]): boolean {
    if (this.#destroyed || this.#closed) return false;
    // Corked, the writes collect in the stream and leave on uncork as one
    // writev(2) of the chunks themselves (net.Socket's _writev): no copy.
    const socket = this.#socket;
    socket.cork();
    let writable = true;
    for (let i = 0; i < chunks.length; i++) writable = socket.write(chunks[i] as Buffer);
    socket.uncork();
    return writable;
  }

  destroy(error?: Error): void {
    if (this.#destroyed || this.#closed) return;
    this.#destroyed = true;
    this.#clearTimer();
    // With an error the socket emits 'error' then 'close'; without, just 'close'. Both come later,
    // from Node's nextTick or libuv's close callback, so onClose is never synchronous from here.
    if (error !== undefined) this.#error ??= error;
    this.#socket.destroy(error);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  readonly #onTcpConnect = (): void => {
    this.#tcpConnected = true;
  };

  readonly #onReady = (): void => {
    this.#clearTimer();
    this.#ready = true;
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
    if (this.#error !== undefined) return;
    this.#error =
      this.#tls === undefined ? error : classifyTlsError(error, this.#host, this.#port, this.#ready);
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
    const error = connectTimeoutError(options, this.#tls !== undefined && this.#tcpConnected);
    this.#destroyed = true;
    this.#error ??= error;
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
