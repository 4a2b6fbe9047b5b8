/** @tributary/adapter-node: Node.js TCP and TLS transports for Tributary. Filled in by its own issue. */
export const PACKAGE = '@tributary/adapter-node';
