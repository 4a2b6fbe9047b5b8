import { readFileSync } from 'node:fs';
import type { NetworkConfig } from '../config/network-config.js';
import { ConfigError } from '../errors.js';
import { checkTlsOptions, type TlsTransportOptions } from './tls-options.js';

/** The config keys that shape TLS. */
export type TlsConfig = Pick<
  NetworkConfig,
  | 'securityProtocol'
  | 'ssl'
  | 'sslCaLocation'
  | 'sslCertificateLocation'
  | 'sslKeyLocation'
  | 'sslKeyPassword'
  | 'sslEndpointIdentificationAlgorithm'
>;

/**
 * The TLS options a client passes per connection (`TransportOptions.tls`)
 * when `securityProtocol` is SSL or SASL_SSL, else undefined: `ssl` with the
 * `ssl*Location` files read into `ca`, `cert` and `key` (once, here), and
 * `sslKeyPassword` / `sslEndpointIdentificationAlgorithm` where `ssl` does
 * not say otherwise. Checked as the adapters check their own options; a
 * problem is a ConfigError naming the key.
 */
export function tlsOptionsFromConfig(config: TlsConfig): Readonly<TlsTransportOptions> | undefined {
  const tlsOn = config.securityProtocol === 'SSL' || config.securityProtocol === 'SASL_SSL';
  if (!tlsOn) {
    for (const key of ['ssl', 'sslCaLocation', 'sslCertificateLocation', 'sslKeyLocation'] as const) {
      if (config[key] !== null) {
        throw new ConfigError(
          key,
          `is set but securityProtocol is ${config.securityProtocol}: use SSL or SASL_SSL for TLS`,
        );
      }
    }
    return undefined;
  }
  const options: TlsTransportOptions = { ...(config.ssl ?? {}) };
  const read = (key: 'sslCaLocation' | 'sslCertificateLocation' | 'sslKeyLocation'): string | undefined => {
    const path = config[key];
    if (path === null) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(key, `cannot read ${JSON.stringify(path)}: ${(err as Error).message}`);
    }
  };
  const ca = read('sslCaLocation');
  const cert = read('sslCertificateLocation');
  const key = read('sslKeyLocation');
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (config.sslKeyPassword !== null && options.passphrase === undefined)
    options.passphrase = config.sslKeyPassword;
  if (options.endpointIdentificationAlgorithm === undefined) {
    options.endpointIdentificationAlgorithm = config.sslEndpointIdentificationAlgorithm;
  }
  try {
    return checkTlsOptions(options);
  } catch (err) {
    throw new ConfigError('ssl', (err as Error).message);
  }
}
