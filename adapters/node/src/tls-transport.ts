import { type ConnectionOptions, createSecureContext, type SecureContext } from 'node:tls';
import type { TransportFactory, TransportOptions } from '@tributary/core';
import { checkTlsOptions, perConnectionTls, sniName, type TlsTransportOptions } from '@tributary/core';
import { NodeSocketTransport } from './socket-transport.js';

export type { TlsMaterial, TlsTransportOptions } from '@tributary/core';

/** Options checked, and the secure context built once (certificates parsed, key decrypted). */
interface ResolvedTls {
  readonly context: SecureContext;
  readonly options: Readonly<TlsTransportOptions>;
}

/**
 * A TLS transport factory over `node:tls`: the TCP transport's behaviour (see
 * `createTcpTransport`) with TLS on top.
 *
 * - `options` are checked and the secure context (CAs, certificate, key) is
 *   built once, here: a typo'd key, PEM that does not parse or a wrong
 *   passphrase throws a TypeError now, not on every connect.
 * - "Connected" means the handshake is done and the broker's certificate and
 *   host name are verified: `onConnect` fires on 'secureConnect', and
 *   `connectTimeoutMs` bounds TCP connect and handshake together (its error
 *   says when it expired during the handshake).
 * - A TLS failure reaches `onClose(error)` as a `TlsError` (`code`: the
 *   runtime's, e.g. `CERT_HAS_EXPIRED`; `reason`: `untrusted-certificate`,
 *   `hostname-mismatch`, `certificate-expired`, `client-certificate-rejected`,
 *   ...; `retriable`: false unless the failure was transient; `cause`: Node's
 *   error), with a message that says what to check. Plain socket errors
 *   (ECONNREFUSED, a reset after the handshake) and the connect timeout are
 *   passed on unchanged, as by the TCP transport.
 * - With TLS 1.3 a broker that requires a client certificate refuses a
 *   missing or untrusted one only after the client's handshake completed: the
 *   connection opens (`onConnect`) and then closes with a
 *   `client-certificate-rejected` TlsError on the first read.
 * - `TransportOptions.tls`, when core sets it, is merged over `options` for
 *   that connection (its secure context built once per distinct object).
 * - `sendBufferBytes` > 0 is the TLS socket's high water mark, as for TCP.
 */
export function tlsTransport(options: TlsTransportOptions = {}): TransportFactory {
  const tlsFor = perConnectionTls(options, resolveTls);
  return (transportOptions, handler) => {
    const tls = tlsFor(transportOptions.tls);
    return new NodeSocketTransport(transportOptions, handler, {
      connect: connectOptions(tls, transportOptions),
    });
  };
}

let defaultFactory: TransportFactory | undefined;

/**
 * `tlsTransport()` with no options of its own: the bundled CA list, full
 * verification, and `TransportOptions.tls` (if core passes any) per
 * connection. Its secure context is built on first use.
 */
export const createTlsTransport: TransportFactory = (options, handler) => {
  defaultFactory ??= tlsTransport();
  return defaultFactory(options, handler);
};

function connectOptions(tls: ResolvedTls, transport: TransportOptions): ConnectionOptions {
  const { options } = tls;
  const servername = sniName(options, transport.host);
  const connect: ConnectionOptions = {
    secureContext: tls.context,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
  };
  if (servername !== undefined) connect.servername = servername;
  if (options.endpointIdentificationAlgorithm === '') connect.checkServerIdentity = () => undefined;
  return connect;
}

function resolveTls(options: TlsTransportOptions): ResolvedTls {
  const checked = checkTlsOptions(options);
  try {
    const context = createSecureContext({
      ...(checked.ca === undefined ? {} : { ca: checked.ca as string | Buffer | Array<string | Buffer> }),
      ...(checked.cert === undefined
        ? {}
        : { cert: checked.cert as string | Buffer | Array<string | Buffer> }),
      ...(checked.key === undefined ? {} : { key: checked.key as string | Buffer | Array<string | Buffer> }),
      ...(checked.passphrase === undefined ? {} : { passphrase: checked.passphrase }),
      ...(checked.ciphers === undefined ? {} : { ciphers: checked.ciphers }),
      minVersion: checked.minVersion ?? 'TLSv1.2',
      maxVersion: checked.maxVersion ?? 'TLSv1.3',
    });
    return { context, options: checked };
  } catch (err) {
    throw new TypeError(`cannot load the TLS certificates or key: ${(err as Error).message}`, { cause: err });
  }
}
