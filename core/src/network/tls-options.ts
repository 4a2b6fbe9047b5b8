import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

// Runtime-neutral TLS settings: the option bag, its checks and the SNI default. @tributary/adapter-node
// and @tributary/adapter-bun both import them from @tributary/core.

/** PEM text: one string or buffer, or several. */
export type TlsMaterial = string | Buffer | ReadonlyArray<string | Buffer>;

/**
 * TLS settings, named as in `node:tls`; the Kafka setting each stands for is
 * in its comment. Every field is optional: `{}` trusts the runtime's bundled
 * Mozilla CA list and verifies the broker's certificate and host name.
 */
export interface TlsTransportOptions {
  /** Trusted CA certificates, PEM (ssl.truststore.* / ssl.ca.location); replaces the bundled list. */
  ca?: TlsMaterial;
  /** Our certificate chain, PEM, for mTLS (ssl.keystore.* / ssl.certificate.location). */
  cert?: TlsMaterial;
  /** The private key for `cert`, PEM, possibly encrypted (ssl.key.location). */
  key?: TlsMaterial;
  /** Decrypts an encrypted `key` (ssl.key.password). */
  passphrase?: string;
  /** SNI name. Default: the broker's host, except when that is an IP address (SNI cannot carry one). */
  servername?: string;
  /** Verify the broker's certificate chain against `ca`. Default true; false accepts any certificate (and host). */
  rejectUnauthorized?: boolean;
  /**
   * ssl.endpoint.identification.algorithm: `'https'` (the default) checks the
   * certificate is for the host connected to (or `servername`, when set),
   * `''` skips that check while still verifying the chain.
   */
  endpointIdentificationAlgorithm?: 'https' | '';
  /** Oldest TLS version accepted (ssl.enabled.protocols). Default 'TLSv1.2', as the Java client. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Newest TLS version offered. Default 'TLSv1.3'. */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2 (ssl.cipher.suites). Default: Node's. */
  ciphers?: string;
}

const KEYS = new Set<string>([
  'ca',
  'cert',
  'key',
  'passphrase',
  'servername',
  'rejectUnauthorized',
  'endpointIdentificationAlgorithm',
  'minVersion',
  'maxVersion',
  'ciphers',
]);
const VERSIONS = new Set(['TLSv1.2', 'TLSv1.3']);

/**
 * Checks `options` (unknown keys, values, PEM that does not parse) and returns
 * a frozen copy. Throws a TypeError naming the problem: these are wiring
 * mistakes, caught when a factory is made rather than on every connect.
 */
export function checkTlsOptions(options: TlsTransportOptions): Readonly<TlsTransportOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('TLS options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) {
      throw new TypeError(`unknown TLS option ${JSON.stringify(key)}; known: ${[...KEYS].join(', ')}`);
    }
  }
  for (const key of ['minVersion', 'maxVersion'] as const) {
    const v = options[key];
    if (v !== undefined && !VERSIONS.has(v)) {
      throw new TypeError(`TLS option ${key} must be 'TLSv1.2' or 'TLSv1.3', not ${JSON.stringify(v)}`);
    }
  }
  const eia = options.endpointIdentificationAlgorithm;
  if (eia !== undefined && eia !== 'https' && eia !== '') {
    throw new TypeError(`endpointIdentificationAlgorithm must be 'https' or '', not ${JSON.stringify(eia)}`);
  }
  if (options.rejectUnauthorized !== undefined && typeof options.rejectUnauthorized !== 'boolean') {
    throw new TypeError('TLS option rejectUnauthorized must be a boolean');
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError('TLS options cert and key go together: give both, or neither');
  }
  // Node skips PEM text it cannot parse in `ca` without a word (trusting nothing): check it here.
  if (options.ca !== undefined) checkCertificates('ca', options.ca);
  if (options.cert !== undefined) checkCertificates('cert', options.cert);
  return Object.freeze({ ...options });
}

/** The SNI name for `host`: `servername` if set, else the host unless it is an IP address (SNI cannot carry one). */
export function sniName(options: Readonly<TlsTransportOptions>, host: string): string | undefined {
  return options.servername ?? (isIP(host) === 0 ? host : undefined);
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every entry of `material` holds at least one certificate, and each parses. */
function checkCertificates(name: string, material: TlsMaterial): void {
  const entries = typeof material === 'string' || Buffer.isBuffer(material) ? [material] : material;
  for (const entry of entries) {
    const pems = entry.toString().match(PEM_CERTIFICATE) ?? [];
    if (pems.length === 0) throw new TypeError(`TLS option ${name} holds no PEM certificate`);
    for (const pem of pems) {
      try {
        new X509Certificate(pem);
      } catch (err) {
        throw new TypeError(
          `TLS option ${name} holds a certificate that does not parse: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
  }
}

/**
 * Per-connection TLS settings for a transport factory: the factory's own
 * options, resolved once, or those merged with a connection's
 * `TransportOptions.tls`, resolved once per distinct object. `resolve` is the
 * adapter's (its runtime's certificate loading and context building).
 */
export function perConnectionTls<R>(
  options: TlsTransportOptions,
  resolve: (options: TlsTransportOptions) => R,
): (perConnection: Record<string, unknown> | undefined) => R {
  const base = resolve(options);
  const merged = new WeakMap<object, R>();
  return (perConnection) => {
    if (perConnection === undefined) return base;
    let resolved = merged.get(perConnection);
    if (resolved === undefined) {
      resolved = resolve({ ...options, ...(perConnection as TlsTransportOptions) });
      merged.set(perConnection, resolved);
    }
    return resolved;
  };
}
