import { AuthenticationError } from '../../errors.js';
import type { SaslContext, SaslMechanism, SaslSession } from './mechanism.js';

/** What an OAUTHBEARER token provider returns. Give `lifetimeMs` or `expiresAtMs`. */
export interface OAuthBearerToken {
  /** The bearer token (e.g. a JWT), sent as `auth=Bearer <value>`. */
  value: string;
  /** How long the token is valid from now. */
  lifetimeMs?: number;
  /** When the token expires (epoch ms). */
  expiresAtMs?: number;
  /** SASL extensions (RFC 7628 key=value pairs; KIP-342), e.g. `{ logicalCluster: 'lkc-1' }`. */
  extensions?: Readonly<Record<string, string>>;
}

/** Fetches a token (called on first use and again once the cached one is due for refresh). */
export type OAuthBearerTokenProvider = (context: SaslContext) => Promise<OAuthBearerToken> | OAuthBearerToken;

/** When a token is refreshed: the Java client's `sasl.login.refresh.*` rules. */
export interface TokenRefreshPolicy {
  /** Refresh after this fraction of the token's lifetime (sasl.login.refresh.window.factor, 0.8). */
  windowFactor: number;
  /** Plus up to this fraction at random (sasl.login.refresh.window.jitter, 0.05). */
  windowJitter: number;
  /** Not sooner than this after the token was fetched (sasl.login.refresh.min.period.seconds, 60 s). */
  minPeriodMs: number;
  /** Keep at least this much of the lifetime left when refreshing (sasl.login.refresh.buffer.seconds, 300 s). */
  bufferMs: number;
}

export const defaultTokenRefreshPolicy: Readonly<TokenRefreshPolicy> = Object.freeze({
  windowFactor: 0.8,
  windowJitter: 0.05,
  minPeriodMs: 60_000,
  bufferMs: 300_000,
});

const KEY = /^[A-Za-z]+$/;
// RFC 7628 value: printable ASCII, space, tab, CR, LF (no ^A).
const VALUE = /^[\x21-\x7e \t\r\n]*$/;
// RFC 6750 b64token.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The refresh time for a token fetched at `fetchedAt` expiring at `expiresAt`:
 * `windowFactor` (+ jitter) of its lifetime, moved earlier to keep `bufferMs`
 * left and later to wait `minPeriodMs`, unless those two together exceed the
 * lifetime (a short-lived token), when only the factor applies.
 */
export function tokenRefreshAt(
  fetchedAt: number,
  expiresAt: number,
  policy: TokenRefreshPolicy,
  random: () => number = Math.random,
): number {
  const lifetime = Math.max(0, expiresAt - fetchedAt);
  let at = fetchedAt + lifetime * (policy.windowFactor + random() * policy.windowJitter);
  if (policy.minPeriodMs + policy.bufferMs <= lifetime) {
    at = Math.min(at, expiresAt - policy.bufferMs);
    at = Math.max(at, fetchedAt + policy.minPeriodMs);
  }
  return Math.round(at);
}

/**
 * SASL/OAUTHBEARER (RFC 7628, KIP-255): the client's initial response is
 * `n,,^Aauth=Bearer <token>^A[key=value^A]...^A`. The token comes from the
 * user's provider and is cached until its refresh time (see
 * {@link tokenRefreshAt}); one fetch serves every connection, and a
 * re-authentication (KIP-368) after the refresh time gets the new token.
 *
 * On a refused token the broker answers with an error document (RFC 7628
 * §3.2.2) and expects `^A`; the broker's following error ends the exchange.
 * A provider that throws, or returns a token that is not an RFC 6750
 * b64token or extensions that RFC 7628 does not allow, fails authentication
 * with an AuthenticationError carrying the cause.
 */
export function oauthBearerMechanism(
  provider: OAuthBearerTokenProvider,
  policy: TokenRefreshPolicy = defaultTokenRefreshPolicy,
  now: () => number = Date.now,
): SaslMechanism {
  let cached: { token: OAuthBearerToken; refreshAt: number } | undefined;
  let fetching: Promise<OAuthBearerToken> | undefined;

  const fetchToken = async (context: SaslContext): Promise<OAuthBearerToken> => {
    const fetchedAt = now();
    const token = await provider(context);
    checkToken(token);
    const expiresAt = token.expiresAtMs ?? fetchedAt + (token.lifetimeMs as number);
    cached = { token, refreshAt: tokenRefreshAt(fetchedAt, expiresAt, policy) };
    return token;
  };

  const current = (context: SaslContext): Promise<OAuthBearerToken> => {
    if (cached !== undefined && now() < cached.refreshAt) return Promise.resolve(cached.token);
    fetching ??= fetchToken(context).finally(() => {
      fetching = undefined;
    });
    return fetching;
  };

  return {
    name: 'OAUTHBEARER',
    start(context: SaslContext): SaslSession {
      let step = 0;
      return {
        async evaluate(challenge: Buffer | undefined): Promise<Buffer | undefined> {
          if (step++ === 0) {
            let token: OAuthBearerToken;
            try {
              token = await current(context);
            } catch (cause) {
              throw new AuthenticationError(
                'SASL_AUTHENTICATION_FAILED',
                `OAUTHBEARER: the token provider failed for node ${context.nodeId}: ${(cause as Error).message}`,
                { mechanism: 'OAUTHBEARER', nodeId: context.nodeId, cause },
              );
            }
            return initialResponse(token);
          }
          // An empty answer is success; anything else is the server's error document, acknowledged with ^A.
          if (challenge === undefined || challenge.length === 0) return undefined;
          return Buffer.from([1]);
        },
      };
    },
  };
}

/** RFC 7628 §3.1 client initial response (no authzid). */
export function initialResponse(token: OAuthBearerToken): Buffer {
  let extensions = '';
  for (const [key, value] of Object.entries(token.extensions ?? {})) extensions += `${key}=${value}\x01`;
  return Buffer.from(`n,,\x01auth=Bearer ${token.value}\x01${extensions}\x01`, 'utf8');
}

function checkToken(token: OAuthBearerToken): void {
  const bad = (why: string) => new TypeError(`OAUTHBEARER token provider: ${why}`);
  if (typeof token !== 'object' || token === null)
    throw bad('must return an object { value, lifetimeMs | expiresAtMs }');
  if (typeof token.value !== 'string' || !TOKEN.test(token.value))
    throw bad('value must be a non-empty RFC 6750 b64token');
  const hasLifetime =
    typeof token.lifetimeMs === 'number' && Number.isFinite(token.lifetimeMs) && token.lifetimeMs > 0;
  const hasExpiry = typeof token.expiresAtMs === 'number' && Number.isFinite(token.expiresAtMs);
  if (!hasLifetime && !hasExpiry) throw bad('give lifetimeMs (> 0) or expiresAtMs');
  for (const [key, value] of Object.entries(token.extensions ?? {})) {
    if (!KEY.test(key) || key === 'auth')
      throw bad(`extension key ${JSON.stringify(key)} must be letters only, not "auth"`);
    if (typeof value !== 'string' || !VALUE.test(value))
      throw bad(`extension ${key} has characters RFC 7628 does not allow`);
  }
}
