import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  librdkafkaFromEnv,
  type MockCluster,
  readTopic,
  type SaslGateway,
  type SaslGatewayOptions,
  startCluster,
  startSaslGateway,
} from '@tributary/testkit';
import { isAuthenticationError } from '../../src/errors.js';
import {
  createProducer,
  type KafkaProducer,
  type OAuthBearerToken,
  type ProducerConfigInput,
  type TransportFactory,
} from '../../src/index.js';
import { nodeTcpTransport } from './cluster-fixture.js';

// SASL end to end. librdkafka's mock cluster has no SASL, so each broker gets
// a SASL gateway from the testkit in front of it: the mechanisms' server side
// is real and independent of our code (GNU SASL's `gsasl --server` for PLAIN
// and SCRAM-SHA-256, Cyrus SASL's sample server over a sasldb for
// SCRAM-SHA-512); OAUTHBEARER's server side is the gateway's own strict RFC
// 7628 check (neither library implements it). The producer reaches the
// gateways through the transport factory (brokers advertise their own ports),
// and kcat reads what was produced straight from the brokers.

const leg = librdkafkaFromEnv();
const USERS = { alice: 'alice-secret', bob: 'bob-secret' };

describe(`SASL through the testkit gateway (librdkafka ${leg})`, { concurrency: true }, () => {
  let cluster: MockCluster;
  let tcp: TransportFactory;
  const gateways: SaslGateway[] = [];
  const producers: KafkaProducer<unknown, unknown>[] = [];
  let seq = 0;

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    tcp = await nodeTcpTransport();
  });

  after(async () => {
    for (const p of producers) await p.close({ timeoutMs: 0 });
    for (const g of gateways) await g.stop();
    await cluster?.stop();
  });

  async function gateway(options: Omit<SaslGatewayOptions, 'brokers'>): Promise<SaslGateway> {
    const g = await startSaslGateway({ brokers: cluster.brokers, users: USERS, ...options });
    gateways.push(g);
    return g;
  }

  async function producer(
    g: SaslGateway,
    config: Partial<ProducerConfigInput>,
  ): Promise<KafkaProducer<unknown, unknown>> {
    const p = await createProducer(
      { bootstrapServers: g.bootstrapServers, securityProtocol: 'SASL_PLAINTEXT', lingerMs: 5, ...config },
      { transport: g.route(tcp) },
    );
    producers.push(p);
    return p;
  }

  /** A topic with one partition led by each broker, so every gateway is used. */
  async function topic(): Promise<string> {
    const name = `sasl-${++seq}`;
    await cluster.createTopic(name, 3, 1);
    for (const [partition, broker] of cluster.brokers.entries()) {
      await cluster.setPartitionLeader(name, partition, broker.id);
    }
    return name;
  }

  async function produceAndReadBack(g: SaslGateway, config: Partial<ProducerConfigInput>): Promise<void> {
    const name = await topic();
    const p = await producer(g, config);
    const values = Array.from({ length: 150 }, (_, i) => `${config.saslMechanism} record ${i}`);
    const metas = await Promise.all(
      values.map((value, i) => p.send({ topic: name, key: `k${i % 11}`, value })),
    );
    assert.equal(new Set(metas.map((m) => m.partition)).size, 3, 'every partition (every gateway) written');
    await p.close();
    const back = await readTopic(cluster.bootstrapServers, name, { headers: false });
    assert.deepEqual(back.map((r) => r.value?.toString()).sort(), [...values].sort());
    const used = g.stats.connections.filter((c) => c.authentications > 0);
    assert.ok(used.length >= 3, `authenticated connections: ${used.length}`);
    for (const c of g.stats.connections) {
      assert.equal(c.rejectedBeforeAuth, false, 'a request went out before authentication');
      assert.equal(c.mechanism, config.saslMechanism);
    }
    assert.equal(g.stats.failures, 0, g.stats.failureMessages.join('; '));
  }

  it('PLAIN (GNU SASL server): produces, and kcat reads every record back', async () => {
    const g = await gateway({ mechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
    await produceAndReadBack(g, {
      saslMechanism: 'PLAIN',
      sasl: { username: 'alice', password: 'alice-secret' },
    });
  });

  it('SCRAM-SHA-256 (GNU SASL server, server signature verified): produces and reads back', async () => {
    const g = await gateway({ mechanisms: ['SCRAM-SHA-256'] });
    await produceAndReadBack(g, {
      saslMechanism: 'SCRAM-SHA-256',
      sasl: { username: 'bob', password: 'bob-secret' },
    });
  });

  it('SCRAM-SHA-512 (Cyrus SASL server over a sasldb): produces and reads back', async () => {
    const g = await gateway({ mechanisms: ['SCRAM-SHA-512'] });
    await produceAndReadBack(g, {
      saslMechanism: 'SCRAM-SHA-512',
      sasl: { username: 'alice', password: 'alice-secret' },
    });
  });

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`${mechanism}, wrong password: AuthenticationError at once, and no reconnect loop`, async () => {
      const g = await gateway({ mechanisms: [mechanism] });
      const p = await producer(g, {
        saslMechanism: mechanism,
        sasl: { username: 'alice', password: 'not-her-password' },
        maxBlockMs: 20_000,
      });
      const t0 = Date.now();
      await assert.rejects(p.send({ topic: 'never-created', value: 'x' }), (err: Error) => {
        assert.ok(isAuthenticationError(err), String(err));
        assert.equal(err.code, 'SASL_AUTHENTICATION_FAILED');
        assert.equal(err.mechanism, mechanism);
        assert.equal(err.retriable, false);
        assert.match(err.message, new RegExp(`${mechanism} authentication with node -\\d .* failed`));
        assert.ok(err.brokerMessage !== undefined && /Authentication failed/.test(err.brokerMessage));
        return true;
      });
      const elapsed = Date.now() - t0;
      assert.ok(elapsed < 5000, `took ${elapsed} ms (maxBlockMs is 20 s)`);
      // Quiet afterwards: nothing reconnects while nobody asks.
      const before = g.stats.connections.length;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal(g.stats.connections.length, before, 'reconnected after the failure with nothing to send');
      assert.ok(before <= 2, `${before} connection attempts for one send`);
      assert.ok(g.stats.failures >= 1 && g.stats.successes === 0);
    });
  }

  it('an unknown user fails the same way (the SASL server refuses it)', async () => {
    const g = await gateway({ mechanisms: ['PLAIN'] });
    const p = await producer(g, { saslMechanism: 'PLAIN', sasl: { username: 'mallory', password: 'x' } });
    await assert.rejects(p.send({ topic: 'never-created', value: 'x' }), (err: Error) =>
      isAuthenticationError(err),
    );
  });

  it('a mechanism the broker does not offer: UNSUPPORTED_SASL_MECHANISM naming what it offers', async () => {
    const g = await gateway({ mechanisms: ['SCRAM-SHA-512'] });
    const p = await producer(g, {
      saslMechanism: 'PLAIN',
      sasl: { username: 'alice', password: 'alice-secret' },
    });
    await assert.rejects(p.send({ topic: 'never-created', value: 'x' }), (err: Error) => {
      assert.ok(isAuthenticationError(err), String(err));
      assert.equal(err.code, 'UNSUPPORTED_SASL_MECHANISM');
      assert.equal(err.mechanism, 'PLAIN');
      assert.match(err.message, /offers: SCRAM-SHA-512/);
      return true;
    });
  });

  it('OAUTHBEARER: the token is validated, refreshed before expiry, and re-authentication uses the new one', async () => {
    const issued = new Map<string, number>(); // token -> expiry
    const g = await gateway({
      mechanisms: ['OAUTHBEARER'],
      sessionLifetimeMs: 900,
      oauthBearer: {
        validate: (token, extensions) => {
          const expiry = issued.get(token);
          return expiry !== undefined && Date.now() < expiry && extensions['traceId'] === 'abc';
        },
      },
    });
    let calls = 0;
    const provider = async (): Promise<OAuthBearerToken> => {
      const value = `tok-${++calls}.${Date.now()}`;
      issued.set(value, Date.now() + 1200);
      return { value, lifetimeMs: 1200, extensions: { traceId: 'abc' } };
    };
    const name = await topic();
    const p = await producer(g, {
      saslMechanism: 'OAUTHBEARER',
      sasl: { oauthBearerTokenProvider: provider },
    });
    const sent: string[] = [];
    const until = Date.now() + 3000;
    for (let i = 0; Date.now() < until; i++) {
      const value = `oauth ${i}`;
      sent.push(value);
      await p.send({ topic: name, key: `k${i % 5}`, value });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await p.close();
    const back = await readTopic(cluster.bootstrapServers, name, { headers: false });
    assert.deepEqual(back.map((r) => r.value?.toString()).sort(), [...sent].sort());
    assert.ok(calls >= 2, `the provider was called ${calls} time(s)`);
    assert.ok(new Set(g.stats.tokens).size >= 2, 'the gateway saw only one token');
    assert.ok(
      g.stats.connections.some((c) => c.authentications >= 2),
      'no connection re-authenticated',
    );
    assert.equal(g.stats.failures, 0, g.stats.failureMessages.join('; '));
    assert.ok(g.stats.connections.every((c) => !c.closedForExpiry));
  });

  it('OAUTHBEARER: a refused token (RFC 7628 error document, then ^A) is an AuthenticationError', async () => {
    const g = await gateway({ mechanisms: ['OAUTHBEARER'], oauthBearer: { validate: () => false } });
    const p = await producer(g, {
      saslMechanism: 'OAUTHBEARER',
      sasl: { oauthBearerTokenProvider: () => ({ value: 'expired-token', lifetimeMs: 60_000 }) },
    });
    await assert.rejects(p.send({ topic: 'never-created', value: 'x' }), (err: Error) => {
      assert.ok(isAuthenticationError(err), String(err));
      assert.equal(err.mechanism, 'OAUTHBEARER');
      assert.match(err.message, /invalid_token/);
      return true;
    });
    assert.deepEqual(
      g.stats.failureMessages,
      ['invalid_token'],
      'the client did not answer the error document with ^A',
    );
  });

  it('KIP-368: re-authenticates while producing continuously; every record once, in order', async () => {
    const g = await gateway({ mechanisms: ['SCRAM-SHA-256'], sessionLifetimeMs: 700 });
    const name = await topic();
    const p = await producer(g, {
      saslMechanism: 'SCRAM-SHA-256',
      sasl: { username: 'alice', password: 'alice-secret' },
      lingerMs: 2,
    });
    const sent: Array<{ key: string; value: string }> = [];
    const pending: Promise<unknown>[] = [];
    const until = Date.now() + 3500;
    for (let i = 0; Date.now() < until; i++) {
      const record = { key: `k${i % 7}`, value: `r${i}` };
      sent.push(record);
      pending.push(p.send({ topic: name, ...record }));
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(pending);
    await p.close();
    const back = await readTopic(cluster.bootstrapServers, name, { headers: false });
    assert.equal(back.length, sent.length, 'a record was lost or duplicated');
    // Per key (one partition each), kcat's order is the send order.
    const byKey = new Map<string, string[]>();
    for (const r of back) {
      const key = r.key?.toString() as string;
      byKey.set(key, [...(byKey.get(key) ?? []), r.value?.toString() as string]);
    }
    for (const [key, values] of byKey) {
      assert.deepEqual(
        values,
        sent.filter((s) => s.key === key).map((s) => s.value),
        `records of ${key} out of order or missing`,
      );
    }
    const reauthenticated = g.stats.connections.filter((c) => c.authentications >= 2);
    assert.ok(reauthenticated.length >= 1, 'no connection re-authenticated');
    for (const c of g.stats.connections) {
      assert.equal(c.closedForExpiry, false, 'a session expired before re-authentication');
      assert.equal(c.reauthWithInFlight, 0, 're-authenticated with responses outstanding');
    }
    assert.equal(g.stats.failures, 0, g.stats.failureMessages.join('; '));
  });

  it('GSSAPI (the Java default) and unknown mechanisms are ConfigErrors at creation', async () => {
    const g = await gateway({ mechanisms: ['PLAIN'] });
    await assert.rejects(producer(g, {}), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'CONFIG_ERROR');
      assert.match(err.message, /saslMechanism: GSSAPI/);
      return true;
    });
    await assert.rejects(producer(g, { saslMechanism: 'AWS_MSK_IAM' }), /unknown mechanism "AWS_MSK_IAM"/);
  });
});
