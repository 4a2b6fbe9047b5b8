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
  type ProducerConfigInput,
  type TransportFactory,
} from '../../src/index.js';
import { nodeTcpTransport } from './cluster-fixture.js';

// One broker of three refuses us while the other two accept the same
// credentials. Each broker of the mock cluster gets a SASL gateway from the
// testkit (the mock has no SASL): brokers 1 and 2 behind a gateway that knows
// alice's password, broker 3 behind one that holds another password for her
// (or, in the re-authentication case, starts refusing her token). The
// producer bootstraps from brokers 1 and 2 only, so its metadata always comes
// from a broker that accepts it and names broker 3 as the leader of
// partition 2. Records for partition 2 must then fail with the
// AuthenticationError promptly, not after deliveryTimeoutMs, and without a
// reconnect loop; the other partitions' records are delivered, and kcat,
// reading the brokers directly, finds exactly those.

const leg = librdkafkaFromEnv();
const PASSWORD = 'alice-secret';
/** Far above every bound asserted below: a record that waits for it has not been failed promptly. */
const DELIVERY_TIMEOUT_MS = 30_000;

describe(`a broker that refuses authentication (librdkafka ${leg})`, { concurrency: true }, () => {
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

  const refusingBroker = () => cluster.brokers[2] as { id: number; port: number };

  /**
   * A gateway accepting alice in front of brokers 1 and 2, one configured by
   * `refusing` in front of broker 3, and a producer reaching each broker
   * through its gateway, bootstrapped from brokers 1 and 2.
   */
  async function setup(
    good: Omit<SaslGatewayOptions, 'brokers'>,
    refusing: Omit<SaslGatewayOptions, 'brokers'>,
    config: Partial<ProducerConfigInput>,
  ): Promise<{ p: KafkaProducer<unknown, unknown>; bad: SaslGateway; name: string }> {
    const ok = await startSaslGateway({ brokers: cluster.brokers.slice(0, 2), ...good });
    gateways.push(ok);
    const bad = await startSaslGateway({ brokers: [refusingBroker()], ...refusing });
    gateways.push(bad);
    const viaOk = ok.route(tcp);
    const viaBad = bad.route(tcp);
    const transport: TransportFactory = (o, handler) =>
      o.port === refusingBroker().port ? viaBad(o, handler) : viaOk(o, handler);
    const p = await createProducer(
      {
        bootstrapServers: ok.bootstrapServers,
        securityProtocol: 'SASL_PLAINTEXT',
        lingerMs: 5,
        requestTimeoutMs: 10_000,
        deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
        ...config,
      },
      { transport },
    );
    producers.push(p);
    // Partition i led by broker i + 1: partition 2 is the refusing broker's.
    const name = `auth-refused-${++seq}`;
    await cluster.createTopic(name, 3, 1);
    for (const [partition, broker] of cluster.brokers.entries()) {
      await cluster.setPartitionLeader(name, partition, broker.id);
    }
    const partitions = await p.partitionsFor(name);
    assert.equal(partitions.find((x) => x.partition === 2)?.leader, refusingBroker().id);
    return { p, bad, name };
  }

  /** Sends `count` records to each partition; returns their outcomes per partition, and when each settled. */
  async function sendToEach(p: KafkaProducer<unknown, unknown>, name: string, tag: string, count: number) {
    const t0 = Date.now();
    const sends = Array.from({ length: count * 3 }, (_, i) => {
      const partition = i % 3;
      const value = `${tag}-${partition}-${i}`;
      return p.send({ topic: name, partition, value }).then(
        () => ({ partition, value, error: undefined as unknown, at: Date.now() - t0 }),
        (error: unknown) => ({ partition, value, error, at: Date.now() - t0 }),
      );
    });
    return Promise.all(sends);
  }

  function assertRefusedPromptly(
    outcomes: Awaited<ReturnType<typeof sendToEach>>,
    boundMs: number,
    code: string,
  ): string[] {
    const delivered: string[] = [];
    for (const o of outcomes) {
      if (o.partition !== 2) {
        assert.equal(o.error, undefined, `${o.value} (a broker that accepts us) failed: ${String(o.error)}`);
        delivered.push(o.value);
        continue;
      }
      assert.ok(
        isAuthenticationError(o.error),
        `${o.value}: expected an AuthenticationError, got ${String(o.error)}`,
      );
      assert.equal(o.error.code, code);
      assert.equal(o.error.nodeId, refusingBroker().id);
      assert.ok(
        o.at < boundMs,
        `${o.value} failed after ${o.at} ms (deliveryTimeoutMs ${DELIVERY_TIMEOUT_MS})`,
      );
    }
    return delivered;
  }

  it('fails the refused leader’s records at once, delivers the rest, and does not reconnect in a loop', async () => {
    const { p, bad, name } = await setup(
      { mechanisms: ['SCRAM-SHA-256'], users: { alice: PASSWORD } },
      { mechanisms: ['SCRAM-SHA-256'], users: { alice: 'a-password-alice-does-not-have' } },
      {
        saslMechanism: 'SCRAM-SHA-256',
        sasl: { username: 'alice', password: PASSWORD },
        // A long hold after a refusal, so the second burst below lands inside it.
        reconnectBackoffMaxMs: 10_000,
      },
    );

    const first = await sendToEach(p, name, 'first', 20);
    const delivered = assertRefusedPromptly(first, 5000, 'SASL_AUTHENTICATION_FAILED');
    const attempts = bad.stats.connections.length;
    assert.ok(attempts >= 1 && attempts <= 2, `${attempts} connection attempts at the refusing broker`);
    assert.equal(bad.stats.successes, 0);

    // While the broker is held back after its refusal, new records for it
    // fail at drain time, without another connection attempt.
    const second = await sendToEach(p, name, 'second', 10);
    delivered.push(...assertRefusedPromptly(second, 2000, 'SASL_AUTHENTICATION_FAILED'));
    assert.equal(
      bad.stats.connections.length,
      attempts,
      'reconnected to the refusing broker within its backoff',
    );

    // Nothing to send to it: no reconnect at all.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(bad.stats.connections.length, attempts, 'reconnected with nothing to send');

    const m = p.metrics();
    assert.equal(m.recordsFailed, 30, 'the refused records are counted as failed');
    await p.flush();
    const back = await readTopic(cluster.bootstrapServers, name, { headers: false });
    assert.deepEqual(back.map((r) => r.value?.toString()).sort(), [...delivered].sort());
    assert.ok(
      back.every((r) => r.partition !== 2),
      'a record reached the refusing broker',
    );
  });

  it('after the hold, a new record tries the refusing broker once more, then fails again', async () => {
    const { p, bad, name } = await setup(
      { mechanisms: ['PLAIN'], users: { alice: PASSWORD } },
      { mechanisms: ['PLAIN'], users: { alice: 'not-this-one' } },
      {
        saslMechanism: 'PLAIN',
        sasl: { username: 'alice', password: PASSWORD },
        reconnectBackoffMs: 50,
        reconnectBackoffMaxMs: 300,
      },
    );
    // Records for the refusing broker for 3 s, one every 50 ms: one connection
    // attempt per hold (300 ms ± 20% jitter), never one per record or a
    // reconnectBackoffMs-paced loop.
    const outcomes: Promise<unknown>[] = [];
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < 3000; i++) {
      outcomes.push(
        p.send({ topic: name, partition: 2, value: `r${i}` }).then(
          () => assert.fail('a record for the refusing broker was delivered'),
          (err: unknown) => assert.ok(isAuthenticationError(err), String(err)),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(outcomes);
    const attempts = bad.stats.connections.length;
    assert.ok(outcomes.length >= 40, `${outcomes.length} records sent`);
    assert.ok(
      attempts >= 2,
      `${attempts} connection attempts: the broker was never tried again after the hold`,
    );
    assert.ok(attempts <= 3000 / 240 + 2, `${attempts} connection attempts in 3 s`);
    assert.equal(bad.stats.successes, 0);
    // The other brokers were never affected.
    await p.send({ topic: name, partition: 0, value: 'still-fine' });
    const back = await readTopic(cluster.bootstrapServers, name, { headers: false });
    assert.deepEqual(
      back.map((r) => r.value?.toString()),
      ['still-fine'],
    );
  });

  it('a broker that refuses a re-authentication (KIP-368) fails its queued records at once', async () => {
    let refuse = false;
    const session = { mechanisms: ['OAUTHBEARER'], sessionLifetimeMs: 600 } as const;
    const { p, bad, name } = await setup(
      { ...session, oauthBearer: { validate: () => true } },
      { ...session, oauthBearer: { validate: () => !refuse } },
      {
        saslMechanism: 'OAUTHBEARER',
        sasl: { oauthBearerTokenProvider: () => ({ value: `token.${Date.now()}`, lifetimeMs: 60_000 }) },
        // Records stay queued for a while, so the refusal finds some in the accumulator.
        lingerMs: 400,
        batchSize: 1 << 20,
      },
    );
    // Every broker works at first.
    const warm = await sendToEach(p, name, 'warm', 2);
    for (const o of warm) assert.equal(o.error, undefined, String(o.error));
    assert.ok(bad.stats.successes >= 1);

    refuse = true;
    const t0 = Date.now();
    const outcomes: Array<Promise<{ partition: number; value: string; error: unknown; at: number }>> = [];
    // Keep records flowing until the refusal has come and gone.
    while (Date.now() - t0 < 2000) {
      for (let partition = 0; partition < 3; partition++) {
        const value = `after-${partition}-${outcomes.length}`;
        outcomes.push(
          p.send({ topic: name, partition, value }).then(
            () => ({ partition, value, error: undefined as unknown, at: Date.now() - t0 }),
            (error: unknown) => ({ partition, value, error, at: Date.now() - t0 }),
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const settled = await Promise.all(outcomes);
    assert.ok(bad.stats.failures >= 1, 'the refusing gateway never refused');
    const delivered = warm.map((o) => o.value);
    for (const o of settled) {
      if (o.partition !== 2) {
        assert.equal(o.error, undefined, `${o.value}: ${String(o.error)}`);
        delivered.push(o.value);
        continue;
      }
      if (o.error === undefined) {
        delivered.push(o.value); // sent before the re-authentication came due
        continue;
      }
      assert.ok(isAuthenticationError(o.error), `${o.value}: ${String(o.error)}`);
      assert.equal(o.error.mechanism, 'OAUTHBEARER');
    }
    const refused = settled.filter((o) => o.error !== undefined);
    assert.ok(refused.length > 0, 'no record was refused');
    // Within the test's own span plus a margin, far below deliveryTimeoutMs.
    for (const o of refused) assert.ok(o.at < 5000, `${o.value} failed after ${o.at} ms`);
    const back = await readTopic(cluster.bootstrapServers, name, { headers: false });
    assert.deepEqual(back.map((r) => r.value?.toString()).sort(), [...delivered].sort());
  });
});
