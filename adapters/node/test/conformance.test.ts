import { after, describe, it } from 'node:test';
import { createTestPki, transportConformance } from '@tributary/core/testing';
import { createTcpTransport } from '../src/tcp-transport.js';
import { tlsTransport } from '../src/tls-transport.js';
import { checkNoLeaksAroundEachTest } from './leak-check.js';

// The transport conformance suite (core/src/testing/transport-conformance.ts), the same one the
// Bun adapter runs, against both Node transports on real sockets over 127.0.0.1.

checkNoLeaksAroundEachTest();
const pki = createTestPki();
after(() => pki.dispose());

transportConformance({
  name: 'Node TCP (createTcpTransport)',
  factory: createTcpTransport,
  test: { describe, it },
  backPressureBytes: 64 * 1024 * 1024,
});

transportConformance({
  name: 'Node TLS (tlsTransport)',
  factory: tlsTransport({ ca: pki.ca }),
  test: { describe, it },
  tls: pki.server,
});
