/**
 * The slice of Bun's socket API this adapter uses (`Bun.connect`), declared
 * here so the package compiles with tsc under Node without `@types/bun`.
 * Shapes follow bun-types 1.4; only what the adapter calls is listed.
 */

/** A connected (or connecting) Bun socket; `data` is what `Bun.connect({ data })` attached. */
export interface BunSocket<Data> {
  /**
   * Writes what the kernel takes now, unbuffered: returns the bytes taken,
   * which may be fewer than asked (back-pressure; `drain` follows), or -1 when
   * the socket is closed or shutting down.
   */
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  /** Sends FIN after what was written; closes fully once the peer does too (allowHalfOpen false). */
  end(): void;
  /** Closes at once with SO_LINGER 0 (RST). Calls the `close` handler synchronously. */
  terminate(): void;
  /** Lets the process exit while this socket is open. */
  unref(): void;
  setNoDelay(noDelay?: boolean): boolean;
  setKeepAlive(enable?: boolean, initialDelay?: number): boolean;
  data: Data;
}

export interface BunSocketHandler<Data> {
  /** TCP connected (with a `handshake` handler, before the TLS handshake). */
  open?(socket: BunSocket<Data>): void;
  /** TLS handshake done; `authorizationError` is the certificate verification failure, if any. */
  handshake?(socket: BunSocket<Data>, success: boolean, authorizationError: Error | null): void;
  data?(socket: BunSocket<Data>, data: Buffer): void;
  /** The socket is writable again after a partial write. */
  drain?(socket: BunSocket<Data>): void;
  /** The peer sent FIN. */
  end?(socket: BunSocket<Data>): void;
  /** A TLS session failed (an alert, a record that does not decrypt); `close` follows. */
  error?(socket: BunSocket<Data>, error: Error): void;
  close?(socket: BunSocket<Data>, error?: Error): void;
  /** The connection could not be made (refused, DNS); no `close` follows. */
  connectError?(socket: BunSocket<Data>, error: Error): void;
}

/** Bun.connect's `tls` option, the fields used here (versions are numbers: 0x0303 TLS 1.2, 0x0304 TLS 1.3). */
export interface BunTlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer | Array<string | Buffer>;
  key?: string | Buffer | Array<string | Buffer>;
  passphrase?: string;
  serverName?: string;
  rejectUnauthorized?: boolean;
  minVersion?: number;
  maxVersion?: number;
  ciphers?: string;
}

export interface BunConnectOptions<Data> {
  hostname: string;
  port: number;
  data: Data;
  socket: BunSocketHandler<Data>;
  tls?: BunTlsOptions;
  allowHalfOpen?: boolean;
}

/** `Bun.connect`: may throw synchronously for options it rejects (a port out of range). */
export type BunConnect = <Data>(options: BunConnectOptions<Data>) => Promise<BunSocket<Data>>;

/** `Bun.connect`, or a TypeError when not running on Bun. */
export function bunConnect(): BunConnect {
  const bun = (globalThis as { Bun?: { connect?: BunConnect } }).Bun;
  if (typeof bun?.connect !== 'function') {
    throw new TypeError(
      '@tributary/adapter-bun needs the Bun runtime (globalThis.Bun.connect is missing); on Node use @tributary/adapter-node',
    );
  }
  return bun.connect.bind(bun) as BunConnect;
}
