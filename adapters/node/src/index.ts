/** @tributary/adapter-node: Node.js transports for Tributary: plaintext TCP and TLS. */

export { isTlsError, TlsError, TlsFailure } from '@tributary/core';
export { createTcpTransport } from './tcp-transport.js';
export {
  createTlsTransport,
  type TlsMaterial,
  type TlsTransportOptions,
  tlsTransport,
} from './tls-transport.js';
