import type { SaslMechanism, SaslSession } from './mechanism.js';

/**
 * SASL/PLAIN (RFC 4616): one message, `authzid NUL authcid NUL password`,
 * in the clear; use it over TLS (SASL_SSL). The broker's empty answer ends it.
 */
export function plainMechanism(credentials: {
  username: string;
  password: string;
  authorizationId?: string;
}): SaslMechanism {
  const message = Buffer.from(
    `${credentials.authorizationId ?? ''}\0${credentials.username}\0${credentials.password}`,
    'utf8',
  );
  return {
    name: 'PLAIN',
    start(): SaslSession {
      let sent = false;
      return {
        evaluate(): Buffer | undefined {
          if (sent) return undefined;
          sent = true;
          return message;
        },
      };
    },
  };
}
