import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { createServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Transport, TransportFactory, TransportOptions } from '@tributary/core';
import { isTlsError, type TlsError, TlsFailure } from '@tributary/core';
import {
  assertQuietAfterClose,
  assertTransportContract,
  callTransport,
  createTestPki,
  TransportRecorder,
} from '@tributary/core/testing';
import { createTlsTransport, tlsTransport } from '../src/tls-transport.js';
import { checkNoLeaksAroundEachTest } from './leak-check.js';

// The TLS transport's own promises, beyond the conformance suite (conformance.test.ts): what it
// verifies, what it sends (SNI, our certificate), and the errors it reports, against TLS servers
// on 127.0.0.1 with certificates made for this run.

const DEADLINE = { timeout: 20_000 };
checkNoLeaksAroundEachTest();
const pki = createTestPki();
after(() => pki.dispose());

interface TlsPeer {
  port: number;
  /** SNI names the server saw, per accepted connection (false: none sent). */
  servernames: (string | false)[];
  /** The client certificate's subject CN, per accepted connection. */
  clientNames: (string | undefined)[];
  close(): Promise<void>;
}

async function tlsServer(identity: { cert: string; key: string }, extra: TlsOptions = {}): Promise<TlsPeer> {
  const sockets = new Set<Socket>();
  const servernames: (string | false)[] = [];
  const clientNames: (string | undefined)[] = [];
  const server = createServer({ ...identity, ...extra }, (socket: TLSSocket) => {
    servernames.push(socket.servername ?? false);
    const cn = socket.getPeerCertificate()?.subject?.CN;
    clientNames.push(typeof cn === 'string' ? cn : undefined);
    socket.pipe(socket);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    servernames,
    clientNames,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function options(
  port: number,
  host = '127.0.0.1',
  overrides: Partial<TransportOptions> = {},
): TransportOptions {
  return { host, port, connectTimeoutMs: 10_000, sendBufferBytes: -1, receiveBufferBytes: -1, ...overrides };
}

function open(
  factory: TransportFactory,
  opts: TransportOptions,
): { transport: Transport; handler: TransportRecorder } {
  const handler = new TransportRecorder();
  const transport = callTransport(() => factory(opts, handler));
  return { transport, handler };
}

/** Connects, echoes a few bytes through the server, and closes: the connection really works. */
async function roundTrip(factory: TransportFactory, opts: TransportOptions): Promise<void> {
  const { transport, handler } = open(factory, opts);
  await handler.until(() => handler.connected || handler.closed);
  assert.ok(handler.connected, `did not connect: ${handler.closeError}`);
  callTransport(() => transport.write(Buffer.from('ping')));
  await handler.until(() => handler.bytes >= 4 || handler.closed);
  assert.equal(handler.received().toString(), 'ping');
  callTransport(() => transport.destroy());
  await handler.untilClosed();
  assert.equal(handler.closeError, undefined);
  assertTransportContract(handler);
}

/** Connects and expects the handshake to fail with a TlsError of `reason`, before any onConnect. */
async function expectFailure(
  factory: TransportFactory,
  opts: TransportOptions,
  reason: TlsFailure,
  code: string | RegExp,
): Promise<TlsError> {
  const { transport, handler } = open(factory, opts);
  await handler.untilClosed();
  assert.deepEqual(handler.events, ['close'], 'failed before onConnect');
  const error = handler.closeError;
  assert.ok(isTlsError(error), `not a TlsError: ${error}`);
  assert.equal(error.reason, reason, error.message);
  if (typeof code === 'string') assert.equal(error.code, code, error.message);
  else assert.match(error.code, code);
  assert.equal(error.retriable, false);
  assert.equal(error.host, opts.host);
  assert.equal(error.port, opts.port);
  assert.ok(error.cause instanceof Error, 'the runtime error is the cause');
  assertTransportContract(handler);
  await assertQuietAfterClose(transport, handler);
  return error;
}

describe('tlsTransport', () => {
  it(
    'sends SNI for a host name, none for an IP address, and an explicit servername as given',
    DEADLINE,
    async () => {
      const server = await tlsServer(pki.server);
      try {
        const factory = tlsTransport({ ca: pki.ca });
        await roundTrip(factory, options(server.port, 'localhost'));
        await roundTrip(factory, options(server.port, '127.0.0.1'));
        // The certificate is checked against servername when one is set: localhost is in it.
        await roundTrip(tlsTransport({ ca: pki.ca, servername: 'localhost' }), options(server.port));
        assert.deepEqual(server.servernames, ['localhost', false, 'localhost']);
      } finally {
        await server.close();
      }
    },
  );

  it('refuses a certificate from an unknown CA: untrusted-certificate', DEADLINE, async () => {
    const server = await tlsServer(pki.untrusted);
    try {
      const error = await expectFailure(
        tlsTransport({ ca: pki.ca }),
        options(server.port),
        TlsFailure.UntrustedCertificate,
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      );
      assert.match(
        error.message,
        /^TLS handshake with 127\.0\.0\.1:\d+ failed: the broker's certificate is not signed by a trusted CA/,
      );
      // The bundled Mozilla list does not know our test CA either.
      await expectFailure(
        createTlsTransport,
        options(server.port),
        TlsFailure.UntrustedCertificate,
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      );
    } finally {
      await server.close();
    }
  });

  it('refuses a certificate for another host name: hostname-mismatch', DEADLINE, async () => {
    const server = await tlsServer(pki.wrongHost);
    try {
      const error = await expectFailure(
        tlsTransport({ ca: pki.ca }),
        options(server.port),
        TlsFailure.HostnameMismatch,
        'ERR_TLS_CERT_ALTNAME_INVALID',
      );
      assert.match(error.message, /not valid for the host name "127\.0\.0\.1"/);
      // By name too: "localhost" is not wrong.example either.
      await expectFailure(
        tlsTransport({ ca: pki.ca }),
        options(server.port, 'localhost'),
        TlsFailure.HostnameMismatch,
        'ERR_TLS_CERT_ALTNAME_INVALID',
      );
    } finally {
      await server.close();
    }
  });

  it('refuses an expired certificate: certificate-expired', DEADLINE, async () => {
    const server = await tlsServer(pki.expired);
    try {
      const error = await expectFailure(
        tlsTransport({ ca: pki.ca }),
        options(server.port),
        TlsFailure.CertificateExpired,
        'CERT_HAS_EXPIRED',
      );
      assert.match(
        error.message,
        /the broker's certificate has expired \(CERT_HAS_EXPIRED: certificate has expired\)/,
      );
    } finally {
      await server.close();
    }
  });

  it(
    "endpointIdentificationAlgorithm '' skips the host name check only; rejectUnauthorized false skips both",
    DEADLINE,
    async () => {
      const wrongHost = await tlsServer(pki.wrongHost);
      const untrusted = await tlsServer(pki.untrusted);
      try {
        await roundTrip(
          tlsTransport({ ca: pki.ca, endpointIdentificationAlgorithm: '' }),
          options(wrongHost.port),
        );
        await expectFailure(
          tlsTransport({ ca: pki.ca, endpointIdentificationAlgorithm: '' }),
          options(untrusted.port),
          TlsFailure.UntrustedCertificate,
          'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        );
        await roundTrip(tlsTransport({ ca: pki.ca, rejectUnauthorized: false }), options(untrusted.port));
        await roundTrip(tlsTransport({ ca: pki.ca, rejectUnauthorized: false }), options(wrongHost.port));
      } finally {
        await wrongHost.close();
        await untrusted.close();
      }
    },
  );

  it(
    'presents a client certificate (key under a passphrase) to a broker that requires one',
    DEADLINE,
    async () => {
      const server = await tlsServer(pki.server, { requestCert: true, rejectUnauthorized: true, ca: pki.ca });
      try {
        const client = pki.client;
        await roundTrip(
          tlsTransport({
            ca: pki.ca,
            cert: client.cert,
            key: client.encryptedKey,
            passphrase: client.passphrase,
          }),
          options(server.port),
        );
        assert.deepEqual(server.clientNames, ['tributary-client']);
      } finally {
        await server.close();
      }
    },
  );

  it(
    'reports a broker refusing a missing client certificate: client-certificate-rejected',
    DEADLINE,
    async () => {
      const server = await tlsServer(pki.server, { requestCert: true, rejectUnauthorized: true, ca: pki.ca });
      try {
        // TLS 1.3: the client's handshake completes first; the refusal arrives as an alert afterwards.
        const { transport, handler } = open(tlsTransport({ ca: pki.ca }), options(server.port));
        await handler.untilClosed();
        const error = handler.closeError;
        assert.ok(isTlsError(error), `not a TlsError: ${error}`);
        assert.equal(error.reason, TlsFailure.ClientCertificateRejected, error.message);
        assert.equal(error.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
        assert.match(
          error.message,
          /^TLS connection to 127\.0\.0\.1:\d+ refused by the broker: it requires a client certificate/,
        );
        assertTransportContract(handler);
        await assertQuietAfterClose(transport, handler);
        // TLS 1.2: the refusal ends the handshake itself, before onConnect.
        await expectFailure(
          tlsTransport({ ca: pki.ca, maxVersion: 'TLSv1.2' }),
          options(server.port),
          TlsFailure.HandshakeRefused,
          // OpenSSL 3.0 (Node 20) says SSLV3, OpenSSL 3.5 (Node 24) SSL/TLS.
          /^ERR_SSL_SSL(V3|\/TLS)_ALERT_HANDSHAKE_FAILURE$/,
        );
      } finally {
        await server.close();
      }
    },
  );

  it('honours minVersion: a TLS 1.2-only broker is refused under minVersion TLSv1.3', DEADLINE, async () => {
    const server = await tlsServer(pki.server, { maxVersion: 'TLSv1.2' });
    try {
      await roundTrip(tlsTransport({ ca: pki.ca }), options(server.port));
      await expectFailure(
        tlsTransport({ ca: pki.ca, minVersion: 'TLSv1.3' }),
        options(server.port),
        TlsFailure.ProtocolVersion,
        /^ERR_SSL_(TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL)$/,
      );
    } finally {
      await server.close();
    }
  });

  it('takes per-connection TransportOptions.tls over its own options', DEADLINE, async () => {
    const server = await tlsServer(pki.server);
    try {
      const tls = { ca: pki.ca };
      await roundTrip(createTlsTransport, { ...options(server.port), tls });
      await roundTrip(tlsTransport({ ca: pki.otherCa }), { ...options(server.port), tls });
    } finally {
      await server.close();
    }
  });

  it('rejects bad options when the factory is made, not on every connect', () => {
    assert.throws(
      () => tlsTransport({ rejectUnauthorised: false } as never),
      /unknown TLS option "rejectUnauthorised"/,
    );
    assert.throws(
      () => tlsTransport({ minVersion: 'TLSv1' as never }),
      /minVersion must be 'TLSv1.2' or 'TLSv1.3'/,
    );
    assert.throws(() => tlsTransport({ endpointIdentificationAlgorithm: 'HTTPS' as never }), TypeError);
    assert.throws(() => tlsTransport({ cert: pki.client.cert }), /cert and key go together/);
    assert.throws(
      () => tlsTransport({ cert: pki.client.cert, key: pki.client.encryptedKey, passphrase: 'wrong' }),
      (err: Error) => err instanceof TypeError && /cannot load the TLS certificates or key/.test(err.message),
    );
    assert.throws(() => tlsTransport({ ca: 'not a certificate' }), TypeError);
    assert.throws(
      () => createTlsTransport({ ...options(9093), tls: { bogus: 1 } }, new TransportRecorder()),
      /unknown TLS option "bogus"/,
    );
  });
});
