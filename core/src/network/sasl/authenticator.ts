import { AuthenticationError, isAuthenticationError, UnsupportedVersionError } from '../../errors.js';
import type { ApiDescriptor } from '../../protocol/api.js';
import { SaslAuthenticateApi, type SaslAuthenticateResponse } from '../../protocol/apis/sasl-authenticate.js';
import { SaslHandshakeApi, type SaslHandshakeResponse } from '../../protocol/apis/sasl-handshake.js';
import { errorCodeInfo } from '../../protocol/error-codes.js';
import type { BrokerApiVersions } from '../../protocol/versions.js';
import type { SaslContext, SaslMechanism } from './mechanism.js';

/** Sends one request on the connection being authenticated and resolves with its response. */
export type SaslSend = <Req, Res>(
  api: ApiDescriptor<Req, Res>,
  version: number,
  request: Req,
) => Promise<Res>;

/** The outcome of a completed exchange. */
export interface SaslOutcome {
  /** KIP-368: the broker's session lifetime (0: none; the connection stays authenticated). */
  sessionLifetimeMs: number;
  /** SaslAuthenticate round trips. */
  roundTrips: number;
}

/** A mechanism that never ends is a bug or a hostile peer: bound the round trips. */
const MAX_ROUND_TRIPS = 16;

/**
 * Runs one SASL exchange over a connection whose ApiVersions is done:
 * SaslHandshake v1 (v0 would switch to unframed tokens, which only GSSAPI
 * brokers of Kafka 0.10 need), then SaslAuthenticate at the highest common
 * version (v1+ carries the session lifetime), as many round trips as the
 * mechanism needs.
 *
 * Every failure that is about the credentials or the mechanism is an
 * AuthenticationError naming the mechanism, the broker and what the broker
 * said. A connection that drops mid-exchange rejects with the network
 * client's error instead (the caller tells them apart).
 */
export async function authenticate(
  mechanism: SaslMechanism,
  versions: BrokerApiVersions,
  context: SaslContext,
  send: SaslSend,
): Promise<SaslOutcome> {
  const where = `node ${context.nodeId} (${context.host}:${context.port})`;
  const fail = (code: string, why: string, brokerMessage?: string | null, cause?: unknown) =>
    new AuthenticationError(code, `${mechanism.name} authentication with ${where} failed: ${why}`, {
      mechanism: mechanism.name,
      nodeId: context.nodeId,
      brokerMessage: brokerMessage ?? undefined,
      cause,
    });
  /** What the mechanism threw, as an AuthenticationError (kept when it already is one). */
  const mechanismFailure = (err: unknown) =>
    isAuthenticationError(err)
      ? err
      : fail('SASL_AUTHENTICATION_FAILED', (err as Error).message, undefined, err);

  let handshakeVersion: number;
  let authenticateVersion: number;
  try {
    handshakeVersion = versions.choose(SaslHandshakeApi.apiKey);
    authenticateVersion = versions.choose(SaslAuthenticateApi.apiKey);
  } catch (err) {
    if (!(err instanceof UnsupportedVersionError)) throw err;
    throw fail(
      'ILLEGAL_SASL_STATE',
      `the broker does not offer SaslHandshake v1 and SaslAuthenticate (${err.message}); is this a SASL listener?`,
      undefined,
      err,
    );
  }
  if (handshakeVersion < 1) {
    throw fail(
      'ILLEGAL_SASL_STATE',
      'the broker speaks only SaslHandshake v0 (Kafka before 1.0), not supported',
    );
  }

  const handshake: SaslHandshakeResponse = await send(SaslHandshakeApi, handshakeVersion, {
    mechanism: mechanism.name,
  });
  if (handshake.errorCode !== 0) {
    const name = errorCodeInfo(handshake.errorCode).name;
    const enabled = handshake.mechanisms.length > 0 ? handshake.mechanisms.join(', ') : 'none listed';
    throw fail(name, `the broker refused the mechanism (${name}); it offers: ${enabled}`);
  }

  let session: Awaited<ReturnType<SaslMechanism['start']>>;
  let out: Buffer | undefined;
  try {
    session = await mechanism.start(context);
    out = await session.evaluate(undefined);
  } catch (err) {
    throw mechanismFailure(err);
  }
  if (out === undefined)
    throw fail('SASL_AUTHENTICATION_FAILED', 'the mechanism produced no initial response');

  let roundTrips = 0;
  for (;;) {
    if (++roundTrips > MAX_ROUND_TRIPS) {
      throw fail('ILLEGAL_SASL_STATE', `no outcome after ${MAX_ROUND_TRIPS} round trips`);
    }
    const res: SaslAuthenticateResponse = await send(SaslAuthenticateApi, authenticateVersion, {
      authBytes: out,
    });
    if (res.errorCode !== 0) {
      const name = errorCodeInfo(res.errorCode).name;
      throw fail(name, res.errorMessage ? `${name}: ${res.errorMessage}` : name, res.errorMessage);
    }
    try {
      out = await session.evaluate(res.authBytes);
    } catch (err) {
      throw mechanismFailure(err);
    }
    if (out === undefined) return { sessionLifetimeMs: Math.max(0, res.sessionLifetimeMs), roundTrips };
  }
}
