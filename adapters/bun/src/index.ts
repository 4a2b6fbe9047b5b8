/**
 * @tributary/adapter-bun: Bun socket transports for Tributary (`Bun.connect`),
 * plaintext and TLS, with the same factories, options and errors as
 * @tributary/adapter-node, so swapping runtimes is swapping the import.
 */

export { isTlsError, TlsError, TlsFailure } from '@tributary/core';
export {
  createTcpTransport,
  createTlsTransport,
  type TlsMaterial,
  type TlsTransportOptions,
  tlsTransport,
} from './bun-transport.js';
