/**
 * The transport seam: what an adapter (Node TCP/TLS, Bun) implements. A
 * transport only moves bytes: connect, write with back-pressure, deliver
 * reads, close. Framing, correlation ids, versions and authentication live in
 * core, so every transport behaves the same.
 *
 * Contract, which the adapters' tests check:
 * - `createTransport` never throws for a connection failure: it reports it
 *   through `onClose(error)`.
 * - `onConnect` fires once, before any `onData`; a failed connect goes
 *   straight to `onClose(error)` with no `onConnect`.
 * - `onClose` fires exactly once, last, whatever ended the connection (peer
 *   close, error, connect timeout, `destroy()`); no callback after it.
 * - `write` queues the whole buffer (a partial OS write is the adapter's
 *   business) and returns false when the transport's buffer is past its high
 *   water mark; `onDrain` then fires once it has emptied.
 * - Callbacks are never invoked synchronously from `createTransport`,
 *   `write` or `destroy`.
 * - The chunk passed to `onData` is valid only during the call: the adapter
 *   may reuse its memory for the next read (the channel copies what it keeps).
 * - `createTransport` throws only for a programming error (e.g. TLS options
 *   given to a plaintext factory); a bad address is a connection failure.
 * - Writes before `onConnect` are queued; `write` after close returns false
 *   and no `onDrain` follows. Handlers do not throw (core catches its own).
 * - `write` keeps a reference to `data` (no copy) until the bytes reach the
 *   OS: the caller must not modify the buffer after the call.
 * - A TLS transport is "connected" once the handshake is done and the peer's
 *   certificate verified: `onConnect` waits for it, and `connectTimeoutMs`
 *   covers it. Its TLS failures reach `onClose` as an Error named
 *   `TlsError` (brand: `tlsFailure === true`) with `code` (the runtime's, e.g.
 *   `CERT_HAS_EXPIRED`), `reason` (`untrusted-certificate`,
 *   `hostname-mismatch`, `certificate-expired`, `client-certificate-rejected`,
 *   ...) and `retriable` (false when only a configuration or certificate
 *   change can help). A broker refusing our certificate under TLS 1.3 says so
 *   only after the handshake, so that one arrives after `onConnect`.
 *
 * The conformance suite in `@tributary/core/testing` (`transportConformance`)
 * checks this contract on real sockets; every adapter package runs it, under
 * its runtime. See docs/transports.md.
 */
export interface TransportHandler {
  onConnect(): void;
  onData(chunk: Buffer): void;
  onDrain(): void;
  onClose(error: Error | undefined): void;
}

export interface TransportOptions {
  host: string;
  port: number;
  /** Abort the connection attempt after this long (socket.connection.setup.timeout.ms). */
  connectTimeoutMs: number;
  /**
   * SO_SNDBUF hint in bytes (send.buffer.bytes); -1 leaves the OS default.
   * Node and Bun cannot set SO_SNDBUF on a TCP socket: their adapters use a
   * positive value as the high water mark of their user-space write queue.
   */
  sendBufferBytes: number;
  /** SO_RCVBUF hint in bytes (receive.buffer.bytes); -1 leaves the OS default. */
  receiveBufferBytes: number;
  /**
   * TLS settings, for transports that speak TLS; undefined means plaintext.
   * The adapters' TLS factories take the same shape as their own options
   * (`ca`, `cert`, `key`, `passphrase`, `servername`, `rejectUnauthorized`,
   * `endpointIdentificationAlgorithm`, `minVersion`, `maxVersion`, `ciphers`)
   * and merge it over them for that connection; plaintext factories throw a
   * TypeError when it is set.
   */
  tls?: Record<string, unknown> | undefined;
}

export interface Transport {
  /** Queues `data`; false means "past the high water mark, wait for onDrain". */
  write(data: Buffer): boolean;
  /**
   * Optional: queues every chunk, in order, as if each were passed to
   * `write`, but handed to the OS together (one gathering write, no copy)
   * where the runtime can. Same return value and references as `write`.
   * Without it, the channel merges small chunks into one `write`.
   */
  writev?(chunks: readonly Buffer[]): boolean;
  /** Closes the connection at once; `onClose` follows (with `error` if given). */
  destroy(error?: Error): void;
}

/** Creates one connection. Registered under the `TRANSPORT_FACTORY` token; users may wrap it (proxies, tests). */
export type TransportFactory = (options: TransportOptions, handler: TransportHandler) => Transport;

/** The longest delay setTimeout honours; a longer one would fire after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The error a transport closes with when `connectTimeoutMs` expires before it
 * is connected (`code` `ETIMEDOUT`); `duringTlsHandshake` says the TCP
 * connection was up and the TLS handshake was still running.
 */
export function connectTimeoutError(
  options: TransportOptions,
  duringTlsHandshake: boolean,
): Error & { code: string } {
  const during = duringTlsHandshake ? ' (during the TLS handshake)' : '';
  const error = new Error(
    `connect to ${options.host}:${options.port} timed out after ${options.connectTimeoutMs} ms${during}`,
  ) as Error & { code: string };
  error.code = 'ETIMEDOUT';
  return error;
}

/** For a plaintext factory: throws a TypeError when `options.tls` is set (a wiring mistake, see above). */
export function assertPlaintext(options: TransportOptions): void {
  if (options.tls !== undefined) {
    throw new TypeError(
      'createTcpTransport speaks plaintext only, but TransportOptions.tls is set: use a TLS transport',
    );
  }
}
