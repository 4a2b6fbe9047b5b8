import type { Selectable } from '../src/network/selector.js';

/** A selector that never connects: for unit tests of parts built on a NetworkClient that must not touch the network. */
export const idleSelector: Selectable = {
  setListener() {},
  connect() {},
  send: () => false,
  close() {},
  closeAll() {},
  isConnected: () => false,
  queuedBytes: () => 0,
  size: 0,
};
