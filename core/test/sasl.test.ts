import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AuthenticationError, ConfigError, isAuthenticationError } from '../src/errors.js';
import { authenticate } from '../src/network/sasl/authenticator.js';
import type { SaslContext } from '../src/network/sasl/mechanism.js';
import {
  defaultTokenRefreshPolicy,
  initialResponse,
  oauthBearerMechanism,
  tokenRefreshAt,
} from '../src/network/sasl/oauthbearer.js';
import { type SaslConfig, saslMechanismFor } from '../src/network/sasl/options.js';
import { plainMechanism } from '../src/network/sasl/plain.js';
import { scramMechanism } from '../src/network/sasl/scram.js';
import type { ApiDescriptor } from '../src/protocol/api.js';
import { BrokerApiVersions } from '../src/protocol/versions.js';

const ctx: SaslContext = { nodeId: 1, host: 'broker.test', port: 9092, reauthentication: false };

async function exchange(
  mechanism: ReturnType<typeof scramMechanism>,
  serverMessages: string[],
): Promise<{ sent: string[]; done: boolean }> {
  const session = await mechanism.start(ctx);
  const sent: string[] = [];
  let out = await session.evaluate(undefined);
  for (const message of serverMessages) {
    if (out === undefined) break;
    sent.push(out.toString('utf8'));
    out = await session.evaluate(Buffer.from(message, 'utf8'));
  }
  return { sent, done: out === undefined };
}

describe('SCRAM', () => {
  // RFC 7677 section 3: the SCRAM-SHA-256 exchange for user "user", password "pencil",
  // client nonce "rOprNGfwEbeRWgbNEkqO". Our messages must match it byte for byte, and the
  // server's final message must verify.
  it('SCRAM-SHA-256 reproduces the RFC 7677 example exchange exactly', async () => {
    const m = scramMechanism('SCRAM-SHA-256', {
      username: 'user',
      password: 'pencil',
      nonce: () => 'rOprNGfwEbeRWgbNEkqO',
    });
    const { sent, done } = await exchange(m, [
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    ]);
    assert.deepEqual(sent, [
      'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    ]);
    assert.equal(done, true);
  });

  // RFC 5802 section 5: the SCRAM-SHA-1 example, user "user", password "pencil".
  it('SCRAM-SHA-1 reproduces the RFC 5802 example exchange exactly (the code is hash-generic)', async () => {
    const m = scramMechanism('SCRAM-SHA-1', {
      username: 'user',
      password: 'pencil',
      nonce: () => 'fyko+d2lbbFgONRv9qkxdawL',
    });
    const { sent, done } = await exchange(m, [
      'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
      'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
    ]);
    assert.deepEqual(sent, [
      'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    ]);
    assert.equal(done, true);
  });

  it('rejects a server signature that does not verify, naming the mechanism', async () => {
    const m = scramMechanism('SCRAM-SHA-256', {
      username: 'user',
      password: 'pencil',
      nonce: () => 'rOprNGfwEbeRWgbNEkqO',
    });
    // The RFC's server-first, then a signature one bit off from the right one.
    const right = Buffer.from('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', 'base64');
    right[0] = (right[0] as number) ^ 1;
    await assert.rejects(
      exchange(m, [
        'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
        `v=${right.toString('base64')}`,
      ]),
      (err: Error) => {
        assert.ok(isAuthenticationError(err), String(err));
        assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED');
        assert.equal(err.mechanism, 'SCRAM-SHA-256');
        assert.match(err.message, /signature does not verify/);
        return true;
      },
    );
  });

  it('rejects a server nonce that does not extend ours, too few iterations, and e= errors', async () => {
    const m = () => scramMechanism('SCRAM-SHA-256', { username: 'u', password: 'p', nonce: () => 'abc' });
    await assert.rejects(exchange(m(), ['r=xyz123,s=c2FsdA==,i=4096', 'v=']), /nonce does not extend/);
    await assert.rejects(exchange(m(), ['r=abc123,s=c2FsdA==,i=1024', 'v=']), /1024 iterations/);
    await assert.rejects(exchange(m(), ['e=unknown-user']), /refused the client-first message: unknown-user/);
  });

  it('escapes "=" and "," in the user name (RFC 5802 saslname) and sends the authzid', async () => {
    const m = scramMechanism('SCRAM-SHA-512', {
      username: 'a=b,c',
      password: 'p',
      authorizationId: 'a=b,c',
      nonce: () => 'N',
    });
    const first = await (await m.start(ctx)).evaluate(undefined);
    assert.equal(first?.toString(), 'n,a=a=3Db=2Cc,n=a=3Db=2Cc,r=N');
  });
});

describe('PLAIN', () => {
  it('sends authzid NUL user NUL password once, then is done', async () => {
    const session = await plainMechanism({ username: 'alice', password: 's3cret' }).start(ctx);
    assert.deepEqual(await session.evaluate(undefined), Buffer.from('\0alice\0s3cret'));
    assert.equal(await session.evaluate(Buffer.alloc(0)), undefined);
  });
});

describe('OAUTHBEARER', () => {
  it('builds the RFC 7628 client initial response with extensions', () => {
    assert.equal(
      initialResponse({
        value: 'eyJ.abc-_',
        lifetimeMs: 1000,
        extensions: { logicalCluster: 'lkc-1' },
      }).toString(),
      'n,,\x01auth=Bearer eyJ.abc-_\x01logicalCluster=lkc-1\x01\x01',
    );
  });

  it('caches the token until its refresh time, then fetches a new one', async () => {
    let t = 1_000_000;
    let calls = 0;
    const m = oauthBearerMechanism(
      () => ({ value: `tok${++calls}`, lifetimeMs: 10_000 }),
      { ...defaultTokenRefreshPolicy, windowJitter: 0 },
      () => t,
    );
    const first = async () => (await (await m.start(ctx)).evaluate(undefined))?.toString() ?? '';
    assert.ok((await first()).includes('Bearer tok1\x01'));
    t += 7_999; // before 80% of the lifetime: cached
    assert.ok((await first()).includes('Bearer tok1\x01'));
    t += 1; // at 80%: refreshed
    assert.ok((await first()).includes('Bearer tok2\x01'));
    assert.equal(calls, 2);
  });

  it('acknowledges an error document with ^A, and wraps a failing provider in an AuthenticationError', async () => {
    const ok = await oauthBearerMechanism(() => ({ value: 'x', lifetimeMs: 1000 })).start(ctx);
    await ok.evaluate(undefined);
    assert.deepEqual(await ok.evaluate(Buffer.from('{"status":"invalid_token"}')), Buffer.from([1]));
    const failing = await oauthBearerMechanism(() => {
      throw new Error('IdP down');
    }).start(ctx);
    await assert.rejects(
      async () => failing.evaluate(undefined),
      (err: Error) => {
        assert.ok(isAuthenticationError(err));
        assert.match(err.message, /token provider failed.*IdP down/);
        return true;
      },
    );
    const bad = await oauthBearerMechanism(() => ({ value: 'has space', lifetimeMs: 1000 })).start(ctx);
    await assert.rejects(async () => bad.evaluate(undefined), /b64token/);
  });

  it('refresh time: the factor, the buffer and the min period as the Java client applies them', () => {
    const p = { windowFactor: 0.8, windowJitter: 0, minPeriodMs: 60_000, bufferMs: 300_000 };
    // One hour: 80% is 48 min, earlier than expiry - 5 min.
    assert.equal(tokenRefreshAt(0, 3_600_000, p), 2_880_000);
    // Ten minutes: 80% = 8 min would leave less than the 5 min buffer: moved to 5 min.
    assert.equal(tokenRefreshAt(0, 600_000, p), 300_000);
    // Two seconds: min period + buffer exceed the lifetime, only the factor applies.
    assert.equal(tokenRefreshAt(0, 2000, p), 1600);
    // Jitter adds up to windowJitter of the lifetime.
    assert.equal(
      tokenRefreshAt(0, 2000, { ...p, windowJitter: 0.1 }, () => 1),
      1800,
    );
  });
});

describe('SASL config', () => {
  const base: SaslConfig = {
    securityProtocol: 'SASL_SSL',
    saslMechanism: 'GSSAPI',
    sasl: null,
    saslLoginRefreshWindowFactor: 0.8,
    saslLoginRefreshWindowJitter: 0.05,
    saslLoginRefreshMinPeriodSeconds: 60,
    saslLoginRefreshBufferSeconds: 300,
  };
  const configError = (key: string, pattern: RegExp) => (err: Error) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.key, key);
    assert.match(err.message, pattern);
    return true;
  };

  it('no mechanism without SASL; GSSAPI (the Java default) and unknown names are ConfigErrors', () => {
    assert.equal(saslMechanismFor({ ...base, securityProtocol: 'SSL' }), undefined);
    assert.throws(() => saslMechanismFor(base), configError('saslMechanism', /GSSAPI .* not built in/));
    assert.throws(
      () => saslMechanismFor({ ...base, saslMechanism: 'AWS_MSK_IAM' }),
      configError('saslMechanism', /unknown mechanism "AWS_MSK_IAM"/),
    );
  });

  it('needs credentials for PLAIN/SCRAM and a provider for OAUTHBEARER; rejects unknown sasl options', () => {
    assert.throws(
      () => saslMechanismFor({ ...base, saslMechanism: 'SCRAM-SHA-512', sasl: { username: 'u' } }),
      configError('sasl', /needs sasl.password/),
    );
    assert.throws(
      () => saslMechanismFor({ ...base, saslMechanism: 'OAUTHBEARER', sasl: {} }),
      configError('sasl', /oauthBearerTokenProvider/),
    );
    assert.throws(
      () =>
        saslMechanismFor({
          ...base,
          saslMechanism: 'PLAIN',
          sasl: { user: 'u' } as unknown as SaslConfig['sasl'],
        }),
      configError('sasl', /unknown option "user"/),
    );
    assert.equal(
      saslMechanismFor({ ...base, saslMechanism: 'PLAIN', sasl: { username: 'u', password: 'p' } })?.name,
      'PLAIN',
    );
  });

  it('a custom mechanism is selected by name (from config or the DI registrations)', () => {
    const custom = { name: 'AWS_MSK_IAM', start: () => ({ evaluate: () => undefined }) };
    assert.equal(saslMechanismFor({ ...base, saslMechanism: 'AWS_MSK_IAM' }, [custom]), custom);
    assert.equal(
      saslMechanismFor({ ...base, saslMechanism: 'AWS_MSK_IAM', sasl: { mechanisms: [custom] } }),
      custom,
    );
  });
});

describe('authenticate (the exchange over SaslHandshake / SaslAuthenticate)', () => {
  // A scripted broker: answers each request from a list, and records what it got.
  function scripted(responses: unknown[]) {
    const requests: Array<{ api: string; version: number; request: unknown }> = [];
    const send = async <Req, Res>(
      api: ApiDescriptor<Req, Res>,
      version: number,
      request: Req,
    ): Promise<Res> => {
      requests.push({ api: api.name, version, request });
      const next = responses.shift();
      if (next === undefined) throw new Error('no scripted response left');
      return next as Res;
    };
    return { send, requests };
  }
  const versions = new BrokerApiVersions({
    apiKeys: [
      { apiKey: 17, minVersion: 0, maxVersion: 1 },
      { apiKey: 36, minVersion: 0, maxVersion: 2 },
    ],
  });

  it('handshake v1, then authenticate at v2; returns the session lifetime', async () => {
    const { send, requests } = scripted([
      { errorCode: 0, mechanisms: ['PLAIN'] },
      { errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 5000 },
    ]);
    const outcome = await authenticate(plainMechanism({ username: 'u', password: 'p' }), versions, ctx, send);
    assert.deepEqual(outcome, { sessionLifetimeMs: 5000, roundTrips: 1 });
    assert.deepEqual(
      requests.map((r) => `${r.api} v${r.version}`),
      ['SaslHandshake v1', 'SaslAuthenticate v2'],
    );
  });

  it('an unsupported mechanism names what the broker offers; a failed authenticate carries the broker message', async () => {
    const m = plainMechanism({ username: 'u', password: 'p' });
    await assert.rejects(
      authenticate(m, versions, ctx, scripted([{ errorCode: 33, mechanisms: ['SCRAM-SHA-512'] }]).send),
      (err: AuthenticationError) => {
        assert.equal(err.code, 'UNSUPPORTED_SASL_MECHANISM');
        assert.equal(err.mechanism, 'PLAIN');
        assert.match(err.message, /offers: SCRAM-SHA-512/);
        return true;
      },
    );
    await assert.rejects(
      authenticate(
        m,
        versions,
        ctx,
        scripted([
          { errorCode: 0, mechanisms: ['PLAIN'] },
          {
            errorCode: 58,
            errorMessage: 'Invalid username or password',
            authBytes: Buffer.alloc(0),
            sessionLifetimeMs: 0,
          },
        ]).send,
      ),
      (err: AuthenticationError) => {
        assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED');
        assert.equal(err.brokerMessage, 'Invalid username or password');
        assert.equal(err.retriable, false);
        assert.match(err.message, /PLAIN authentication with node 1 \(broker.test:9092\) failed/);
        return true;
      },
    );
  });

  it('a broker without the SASL APIs is an ILLEGAL_SASL_STATE AuthenticationError', async () => {
    await assert.rejects(
      authenticate(
        plainMechanism({ username: 'u', password: 'p' }),
        new BrokerApiVersions({ apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }),
        ctx,
        scripted([]).send,
      ),
      (err: AuthenticationError) => err.code === 'ILLEGAL_SASL_STATE' && /SASL listener/.test(err.message),
    );
  });
});
