export { authenticate, type SaslOutcome, type SaslSend } from './authenticator.js';
export type { SaslContext, SaslMechanism, SaslSession } from './mechanism.js';
export {
  defaultTokenRefreshPolicy,
  initialResponse as oauthBearerInitialResponse,
  type OAuthBearerToken,
  type OAuthBearerTokenProvider,
  oauthBearerMechanism,
  type TokenRefreshPolicy,
  tokenRefreshAt,
} from './oauthbearer.js';
export { type SaslConfig, type SaslOptions, saslMechanismFor } from './options.js';
export { plainMechanism } from './plain.js';
export { ScramHash, type ScramMechanismName, type ScramOptions, scramMechanism } from './scram.js';
