import 'reflect-metadata';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createProducer,
  isAuthenticationError,
  isTlsError,
  type KafkaProducer,
  TlsFailure,
  type TransportFactory,
} from '@tributary/core';
import { createTestPki, type TestPki } from '@tributary/core/testing';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { tlsTransport } from '../../src/tls-transport.js';
import {
  freePorts,
  type Stunnel,
  type StunnelService,
  startStunnel,
  type TlsRoute,
  throughTls,
} from './stunnel.js';

// The producer over the Node TLS transport, end to end: a real TLS terminator (stunnel) in front
// of each broker of the mock cluster, certificates made for this run by openssl, and every record
// read back by kcat over the brokers' plaintext ports. Each scenario is one stunnel service per
// broker; the transport factory maps the brokers' advertised (plaintext) ports to them.

const leg = librdkafkaFromEnv();

type Scenario = 'good' | 'wrongHost' | 'expired' | 'mtls';

describe(`producer over TLS through stunnel (librdkafka ${leg})`, { concurrency: true }, () => {
  let cluster: MockCluster;
  let pki: TestPki;
  let stunnel: Stunnel | undefined;
  /** Per scenario: broker port -> TLS port. */
  const routes = new Map<Scenario, Map<number, number>>();
  const producers: KafkaProducer<unknown, unknown>[] = [];
  let seq = 0;

  before(async () => {
    pki = createTestPki();
    cluster = await startCluster({ brokers: 3 });
    const file = (name: string) => join(pki.dir, name);
    const identities: Record<Scenario, { cert: string; key: string; clientCa?: string }> = {
      good: { cert: 'server.crt', key: 'server.key' },
      wrongHost: { cert: 'wrong-host.crt', key: 'wrong-host.key' },
      expired: { cert: 'expired.crt', key: 'expired.key' },
      mtls: { cert: 'server.crt', key: 'server.key', clientCa: 'ca.crt' },
    };
    const scenarios = Object.keys(identities) as Scenario[];
    const ports = await freePorts(scenarios.length * cluster.brokers.length);
    const services: StunnelService[] = [];
    for (const scenario of scenarios) {
      const route = new Map<number, number>();
      for (const broker of cluster.brokers) {
        const accept = ports.shift() as number;
        route.set(broker.port, accept);
        const id = identities[scenario];
        services.push({
          name: `${scenario}-${broker.id}`,
          accept,
          connect: broker.port,
          certFile: file(id.cert),
          keyFile: file(id.key),
          ...(id.clientCa === undefined ? {} : { clientCaFile: file(id.clientCa) }),
        });
      }
      routes.set(scenario, route);
    }
    stunnel = await startStunnel(pki.dir, services);
  });

  after(async () => {
    for (const p of producers) await p.close({ timeoutMs: 0 });
    const pid = stunnel?.pid;
    await stunnel?.stop();
    await cluster?.stop();
    pki?.dispose();
    // No orphan: the stunnel process is gone (signal 0 only asks whether it exists).
    if (pid !== undefined)
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'stunnel outlived the suite');
  });

  function route(scenario: Scenario, factory: TransportFactory): TlsRoute {
    return throughTls(factory, routes.get(scenario) as Map<number, number>);
  }

  async function producer(r: TlsRoute, maxBlockMs = 10_000): Promise<KafkaProducer<unknown, unknown>> {
    const p = await createProducer(
      { bootstrapServers: r.bootstrapServers, lingerMs: 5, maxBlockMs, reconnectBackoffMs: 20 },
      { transport: r.factory },
    );
    producers.push(p);
    return p;
  }

  /** Sends 200 keyed records through `r`, then reads them back with kcat over plaintext. */
  async function produceAndReadBack(r: TlsRoute): Promise<void> {
    const topic = `tls-${++seq}`;
    await cluster.createTopic(topic, 3, 3);
    // One leader per broker, so the records travel through every broker's TLS service.
    for (const [partition, broker] of cluster.brokers.entries()) {
      await cluster.setPartitionLeader(topic, partition, broker.id);
    }
    const p = await producer(r);
    const values = Array.from({ length: 200 }, (_, i) => `record ${i} over TLS`);
    const metas = await Promise.all(values.map((value, i) => p.send({ topic, key: `k${i % 17}`, value })));
    assert.equal(new Set(metas.map((m) => m.partition)).size, 3, 'all three partitions were written');
    await p.close();
    const back = await readTopic(cluster.bootstrapServers, topic, { headers: false });
    assert.deepEqual(back.map((r) => r.value?.toString()).sort(), [...values].sort());
    assert.deepEqual(r.unmapped, [], 'a connection bypassed TLS');
    assert.deepEqual(r.errors, [], 'a TLS connection failed');
    const tlsPorts = new Set(r.connects);
    assert.equal(tlsPorts.size, 3, `connected to ${tlsPorts.size} of the 3 brokers' TLS ports`);
  }

  /**
   * Expects send() to fail at once with an AuthenticationError whose cause is a
   * TlsError of `reason`/`code` (a certificate failure is not retried like a
   * lost connection), every failed connection to carry that TlsError, and no
   * reconnects afterwards while nothing is sent.
   */
  async function expectTlsFailure(r: TlsRoute, reason: TlsFailure, code: string): Promise<void> {
    const p = await producer(r, 20_000);
    const t0 = Date.now();
    await assert.rejects(p.send({ topic: 'never-created', value: 'x' }), (err: Error) => {
      assert.ok(isAuthenticationError(err), String(err));
      assert.equal(err.code, 'SSL_AUTHENTICATION_FAILED');
      assert.equal(err.mechanism, 'TLS');
      assert.equal(err.retriable, false);
      assert.ok(isTlsError(err.cause), String(err.cause));
      assert.equal(err.cause.reason, reason);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000, `send() took ${Date.now() - t0} ms to fail (maxBlockMs 20 s)`);
    const attempts = r.connects.length;
    assert.ok(attempts <= 2, `${attempts} connection attempts for one send`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(r.connects.length, attempts, 'reconnected after the failure with nothing to send');
    await p.close({ timeoutMs: 0 });
    assert.ok(r.errors.length >= 1, 'no connection failed');
    for (const error of r.errors) {
      assert.ok(isTlsError(error), `not a TlsError: ${error}`);
      assert.equal(error.reason, reason, error.message);
      assert.equal(error.code, code, error.message);
    }
    assert.deepEqual(r.unmapped, []);
  }

  it('trusted CA: the producer writes through TLS and kcat reads every record back', async () => {
    await produceAndReadBack(route('good', tlsTransport({ ca: pki.ca })));
  });

  it('unknown CA: untrusted-certificate, send() fails at once with an AuthenticationError', async () => {
    await expectTlsFailure(
      route('good', tlsTransport({ ca: pki.otherCa })),
      TlsFailure.UntrustedCertificate,
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  });

  it('securityProtocol SSL with sslCaLocation: the runtime TLS transport, configured from the config', async () => {
    // No transport option: createProducer picks the adapter's TLS transport for SSL and the
    // network client passes the config's TLS options per connection.
    const name = `tls-${++seq}`;
    await cluster.createTopic(name, 3, 3);
    const map = routes.get('good') as Map<number, number>;
    const { createTlsTransport } = await import('../../src/tls-transport.js');
    const r = throughTls(createTlsTransport, map);
    const p = await createProducer(
      {
        bootstrapServers: r.bootstrapServers,
        securityProtocol: 'SSL',
        sslCaLocation: join(pki.dir, 'ca.crt'),
        lingerMs: 5,
        maxBlockMs: 10_000,
      },
      { transport: r.factory },
    );
    producers.push(p);
    await p.send({ topic: name, value: 'configured' });
    await p.close();
    const back = await readTopic(cluster.bootstrapServers, name, { headers: false });
    assert.deepEqual(
      back.map((x) => x.value?.toString()),
      ['configured'],
    );
    assert.deepEqual(r.errors, []);
    // And with the wrong CA file, the same route fails verification.
    const bad = throughTls(createTlsTransport, map);
    const q = await createProducer(
      {
        bootstrapServers: bad.bootstrapServers,
        securityProtocol: 'SSL',
        ssl: { ca: pki.otherCa },
        maxBlockMs: 10_000,
      },
      { transport: bad.factory },
    );
    producers.push(q);
    await assert.rejects(q.send({ topic: name, value: 'x' }), (err: Error) => isAuthenticationError(err));
  });

  it('wrong host name: hostname-mismatch (ERR_TLS_CERT_ALTNAME_INVALID)', async () => {
    await expectTlsFailure(
      route('wrongHost', tlsTransport({ ca: pki.ca })),
      TlsFailure.HostnameMismatch,
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
  });

  it('expired certificate: certificate-expired (CERT_HAS_EXPIRED)', async () => {
    await expectTlsFailure(
      route('expired', tlsTransport({ ca: pki.ca })),
      TlsFailure.CertificateExpired,
      'CERT_HAS_EXPIRED',
    );
  });

  it('mTLS required, client certificate given (key under a passphrase): succeeds', async () => {
    const { cert, encryptedKey, passphrase } = pki.client;
    await produceAndReadBack(
      route('mtls', tlsTransport({ ca: pki.ca, cert, key: encryptedKey, passphrase })),
    );
  });

  it('mTLS required, no client certificate: client-certificate-rejected, send() fails at once', async () => {
    await expectTlsFailure(
      route('mtls', tlsTransport({ ca: pki.ca })),
      TlsFailure.ClientCertificateRejected,
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    );
  });
});
