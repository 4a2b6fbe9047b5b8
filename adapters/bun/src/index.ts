/** @tributary/adapter-bun: Bun socket transports for Tributary. Filled in by its own issue. */
export const PACKAGE = '@tributary/adapter-bun';
