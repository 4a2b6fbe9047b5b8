import type { NetworkConfig } from '../../config/network-config.js';
import { ConfigError } from '../../errors.js';
import type { SaslMechanism } from './mechanism.js';
import {
  type OAuthBearerTokenProvider,
  oauthBearerMechanism,
  type TokenRefreshPolicy,
} from './oauthbearer.js';
import { plainMechanism } from './plain.js';
import { type ScramHash, type ScramMechanismName, scramMechanism } from './scram.js';

/**
 * The `sasl` config option: credentials as structured values in place of
 * the Java client's `sasl.jaas.config` line.
 */
export interface SaslOptions {
  /** PLAIN and SCRAM: the user. */
  username?: string;
  /** PLAIN and SCRAM: the password. */
  password?: string;
  /** PLAIN and SCRAM: act as this identity (brokers accept only the username itself unless configured otherwise). */
  authorizationId?: string;
  /** OAUTHBEARER: fetches a token; called again when the cached one is due for refresh. */
  oauthBearerTokenProvider?: OAuthBearerTokenProvider;
  /** Custom mechanisms (e.g. AWS_MSK_IAM); `saslMechanism` picks one by name. */
  mechanisms?: readonly SaslMechanism[];
}

/** What `saslMechanism` needs from the config. */
export type SaslConfig = Pick<
  NetworkConfig,
  | 'securityProtocol'
  | 'saslMechanism'
  | 'sasl'
  | 'saslLoginRefreshWindowFactor'
  | 'saslLoginRefreshWindowJitter'
  | 'saslLoginRefreshMinPeriodSeconds'
  | 'saslLoginRefreshBufferSeconds'
>;

const BUILT_IN = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
const SASL_OPTIONS = new Set([
  'username',
  'password',
  'authorizationId',
  'oauthBearerTokenProvider',
  'mechanisms',
]);

/**
 * The mechanism a client authenticates with, from its config and the custom
 * mechanisms registered under the `SASL_MECHANISM` token; undefined when
 * `securityProtocol` is not SASL_*. A custom mechanism wins over a built-in
 * one of the same name. Throws a ConfigError naming the key for an unknown
 * or unsupported mechanism (GSSAPI, the Java default) and for missing or
 * malformed credentials.
 */
export function saslMechanismFor(
  config: SaslConfig,
  registered: readonly SaslMechanism[] = [],
): SaslMechanism | undefined {
  if (!config.securityProtocol.startsWith('SASL_')) return undefined;
  const options = config.sasl ?? {};
  for (const key of Object.keys(options)) {
    if (!SASL_OPTIONS.has(key)) {
      throw new ConfigError(
        'sasl',
        `unknown option ${JSON.stringify(key)}; known: ${[...SASL_OPTIONS].join(', ')}`,
      );
    }
  }
  const custom = [...(options.mechanisms ?? []), ...registered];
  for (const m of custom) {
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || typeof m.start !== 'function') {
      throw new ConfigError('sasl', 'mechanisms must be SaslMechanism objects { name, start(context) }');
    }
  }
  const name = config.saslMechanism;
  const own = custom.find((m) => m.name === name);
  if (own !== undefined) return own;
  if (name === 'GSSAPI') {
    throw new ConfigError(
      'saslMechanism',
      `GSSAPI (Kerberos, the Java default) is not built in; set saslMechanism to one of ${BUILT_IN.join(', ')}, or register a custom mechanism named GSSAPI`,
    );
  }
  const credentials = () => {
    if (typeof options.username !== 'string' || options.username.length === 0)
      throw new ConfigError('sasl', `${name} needs sasl.username`);
    if (typeof options.password !== 'string') throw new ConfigError('sasl', `${name} needs sasl.password`);
    return {
      username: options.username,
      password: options.password,
      ...(options.authorizationId === undefined ? {} : { authorizationId: options.authorizationId }),
    };
  };
  if (name === 'PLAIN') return plainMechanism(credentials());
  if (name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512') {
    return scramMechanism(name as ScramMechanismName & keyof typeof ScramHash, credentials());
  }
  if (name === 'OAUTHBEARER') {
    if (typeof options.oauthBearerTokenProvider !== 'function') {
      throw new ConfigError(
        'sasl',
        'OAUTHBEARER needs sasl.oauthBearerTokenProvider, an async function returning { value, lifetimeMs | expiresAtMs }',
      );
    }
    const policy: TokenRefreshPolicy = {
      windowFactor: config.saslLoginRefreshWindowFactor,
      windowJitter: config.saslLoginRefreshWindowJitter,
      minPeriodMs: config.saslLoginRefreshMinPeriodSeconds * 1000,
      bufferMs: config.saslLoginRefreshBufferSeconds * 1000,
    };
    return oauthBearerMechanism(options.oauthBearerTokenProvider, policy);
  }
  const names = [...BUILT_IN, ...custom.map((m) => m.name)];
  throw new ConfigError(
    'saslMechanism',
    `unknown mechanism ${JSON.stringify(name)}; known: ${names.join(', ')} (register a custom one under SASL_MECHANISM or in sasl.mechanisms)`,
  );
}
