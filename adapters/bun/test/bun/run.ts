/**
 * The Bun adapter on the real Bun runtime: the transport conformance suite
 * (plaintext and TLS) and the producer end to end against the test cluster,
 * every record read back by kcat, over plaintext and over TLS through
 * stunnel. Run by `npm run test:bun` (scripts/run-bun.mjs launches Bun on the
 * compiled file). Bun's node:test support is partial, so this is a small
 * sequential runner of its own, closing with "bun: N passed, N failed,
 * N skipped" and a non-zero exit on any failure. Not named *.test.js: Node's
 * runner must not pick it up.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createProducer, type KafkaProducer, type TransportFactory } from '@tributary/core';
import { type ConformanceTestApi, createTestPki, transportConformance } from '@tributary/core/testing';
import { librdkafkaFromEnv, type MockCluster, readTopic, startCluster } from '@tributary/testkit';
import { createTcpTransport, isTlsError, TlsFailure, tlsTransport } from '../../src/index.js';

type Body = () => Promise<void>;
interface Case {
  name: string;
  body: Body;
  skip: boolean;
}

const cases: Case[] = [];
let prefix: string[] = [];
const api: ConformanceTestApi = {
  describe(name, fn) {
    const outer = prefix;
    prefix = [...outer, name];
    fn();
    prefix = outer;
  },
  it: Object.assign(
    (name: string, body: Body) => {
      cases.push({ name: [...prefix, name].join(' > '), body, skip: false });
    },
    {
      skip: (name: string, body: Body) => {
        cases.push({ name: [...prefix, name].join(' > '), body, skip: true });
      },
    },
  ),
};

if (typeof (globalThis as { Bun?: unknown }).Bun === 'undefined') {
  console.error('run this under Bun: npm run test:bun -w @tributary/adapter-bun');
  process.exit(2);
}

const leg = librdkafkaFromEnv();
const pki = createTestPki();

// --- The conformance suite, the same one the Node adapter runs. ---

transportConformance({ name: 'Bun TCP (createTcpTransport)', factory: createTcpTransport, test: api });
transportConformance({
  name: 'Bun TLS (tlsTransport)',
  factory: tlsTransport({ ca: pki.ca }),
  test: api,
  tls: pki.server,
});

// --- The producer end to end. ---

/** The stunnel harness of the Node adapter's integration tests (compiled there; typed here). */
interface StunnelModule {
  freePorts(count: number): Promise<number[]>;
  startStunnel(
    dir: string,
    services: { name: string; accept: number; connect: number; certFile: string; keyFile: string }[],
  ): Promise<{ stop(): Promise<void> }>;
  throughTls(
    inner: TransportFactory,
    map: Map<number, number>,
  ): {
    factory: TransportFactory;
    bootstrapServers: string;
    errors: Error[];
    unmapped: string[];
    connects: number[];
  };
}

let cluster: MockCluster | undefined;
let stunnel: { stop(): Promise<void> } | undefined;
const producers: KafkaProducer<unknown, unknown>[] = [];

async function produceAndReadBack(
  c: MockCluster,
  topic: string,
  bootstrapServers: string,
  transport: TransportFactory,
): Promise<void> {
  await c.createTopic(topic, 3, 3);
  for (const [partition, broker] of c.brokers.entries())
    await c.setPartitionLeader(topic, partition, broker.id);
  const p = await createProducer({ bootstrapServers, lingerMs: 5, compressionType: 'lz4' }, { transport });
  producers.push(p);
  // Large enough values that batches span many socket writes, so partial writes happen for real.
  const values = Array.from({ length: 3000 }, (_, i) => `${i}:${'x'.repeat(200 + (i % 997))}`);
  const metas = await Promise.all(values.map((value, i) => p.send({ topic, key: `k${i % 31}`, value })));
  assert.equal(new Set(metas.map((m) => m.partition)).size, 3);
  await p.close();
  const back = await readTopic(c.bootstrapServers, topic, { headers: false });
  assert.equal(back.length, values.length);
  assert.deepEqual(back.map((r) => r.value?.toString()).sort(), [...values].sort());
}

api.describe(`producer on Bun, end to end (librdkafka ${leg})`, () => {
  api.it('plaintext: sends 3,000 records, and kcat reads every one back', async () => {
    cluster ??= await startCluster({ brokers: 3 });
    await produceAndReadBack(cluster, 'bun-plain', cluster.bootstrapServers, createTcpTransport);
  });

  api.it('picks the Bun adapter by default on Bun, with no transport given', async () => {
    cluster ??= await startCluster({ brokers: 3 });
    const chosen: unknown[] = [];
    const logger = {
      debugEnabled: false,
      infoEnabled: true,
      debug() {},
      info(message: string, fields?: Record<string, unknown>) {
        if (message === 'transport adapter for this runtime') chosen.push(fields?.['adapter']);
      },
      warn() {},
      error() {},
    };
    await cluster.createTopic('bun-default', 2, 1);
    const p = await createProducer({ bootstrapServers: cluster.bootstrapServers, lingerMs: 5 }, { logger });
    producers.push(p);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => p.send({ topic: 'bun-default', value: `d${i}` })),
    );
    await p.close();
    assert.deepEqual(chosen, ['@tributary/adapter-bun']);
    const back = await readTopic(cluster.bootstrapServers, 'bun-default', { headers: false });
    assert.equal(back.length, 200);
  });

  api.it(
    'TLS through stunnel: trusted CA succeeds and kcat reads every record back; unknown CA fails',
    async () => {
      cluster ??= await startCluster({ brokers: 3 });
      const harness = (await import(
        new URL('../../../../node/dist/test/integration/stunnel.js', import.meta.url).href
      )) as StunnelModule;
      const ports = await harness.freePorts(cluster.brokers.length);
      const map = new Map<number, number>();
      const services = cluster.brokers.map((b, i) => {
        const accept = ports[i] as number;
        map.set(b.port, accept);
        return {
          name: `bun-${b.id}`,
          accept,
          connect: b.port,
          certFile: join(pki.dir, 'server.crt'),
          keyFile: join(pki.dir, 'server.key'),
        };
      });
      stunnel = await harness.startStunnel(pki.dir, services);
      const route = harness.throughTls(tlsTransport({ ca: pki.ca }), map);
      await produceAndReadBack(cluster, 'bun-tls', route.bootstrapServers, route.factory);
      assert.deepEqual(route.unmapped, []);
      assert.deepEqual(route.errors, []);
      assert.equal(new Set(route.connects).size, 3);

      const untrusted = harness.throughTls(tlsTransport({ ca: pki.otherCa }), map);
      const p = await createProducer(
        { bootstrapServers: untrusted.bootstrapServers, maxBlockMs: 1000 },
        { transport: untrusted.factory },
      );
      producers.push(p);
      await assert.rejects(p.send({ topic: 'bun-tls', value: 'x' }));
      assert.ok(untrusted.errors.length >= 1);
      for (const e of untrusted.errors) {
        assert.ok(isTlsError(e), String(e));
        assert.equal(e.reason, TlsFailure.UntrustedCertificate);
      }
    },
  );
});

// --- Run. ---

const started = performance.now();
let passed = 0;
let failed = 0;
let skipped = 0;
for (const c of cases) {
  if (c.skip) {
    skipped++;
    console.log(`﹣ ${c.name} # skipped`);
    continue;
  }
  const t0 = performance.now();
  try {
    await c.body();
    passed++;
    console.log(`✔ ${c.name} (${(performance.now() - t0).toFixed(0)} ms)`);
  } catch (err) {
    failed++;
    console.log(`✖ ${c.name} (${(performance.now() - t0).toFixed(0)} ms)`);
    console.log(`  ${String((err as Error)?.stack ?? err).replaceAll('\n', '\n  ')}`);
  }
}
for (const p of producers) await p.close({ timeoutMs: 0 }).catch(() => {});
await stunnel?.stop();
await cluster?.stop();
pki.dispose();
console.log(
  `\nBun ${(globalThis as { Bun?: { version?: string } }).Bun?.version}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
console.log(`bun: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
