import { assertPlaintext, type TransportFactory } from '@tributary/core';
import { NodeSocketTransport } from './socket-transport.js';

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
 * mistake, and connecting in plaintext instead would be worse than failing:
 * use `tlsTransport` (tls-transport.ts).
 */
export const createTcpTransport: TransportFactory = (options, handler) => {
  assertPlaintext(options);
  return new NodeSocketTransport(options, handler);
};
