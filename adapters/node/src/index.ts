/** @tributary/adapter-node: Node.js transports for Tributary. TCP today; TLS arrives with its own issue. */
export { createTcpTransport } from './tcp-transport.js';
