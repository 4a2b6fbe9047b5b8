#!/usr/bin/env node
// Runs every example against the embedded test cluster, the way a new user
// would run them, and checks with kcat (an independent consumer) that each
// one's records are in its topic. `npm run examples` builds first; CI runs it.
//
// One mock cluster (testkit), one in-process Schema Registry (the test
// registry from @tributary/schema-registry/testing), and for the TLS example
// a throwaway PKI (openssl) and one stunnel process in front of the brokers.
// Each example is a child process (bun.js under Bun) with its environment
// set; its output is shown indented. Ends with "examples: N passed, N failed"
// and a non-zero exit on any failure. Nothing outlives the run: the cluster,
// the registry and stunnel are stopped in `finally`, on SIGINT/SIGTERM, and
// stunnel also dies with this process (setpriv --pdeathsig).
//
//   node examples/run.mjs [name-filter]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPki } from '@tributary/core/testing';
import { startMockSchemaRegistry } from '@tributary/schema-registry/testing';
import { endOffsets, readTopic, startCluster } from '@tributary/testkit';
import avro from 'avsc';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist', 'src');
const filter = process.argv[2];
const EXAMPLE_TIMEOUT_MS = Number(process.env.TRIBUTARY_EXAMPLE_TIMEOUT_MS ?? 120_000);

// --- checks on what kcat read back ------------------------------------------------------------

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function values(records) {
  return records.map((r) => r.value?.toString('utf8') ?? null);
}

function expectCount(records, n) {
  assert(records.length === n, `expected ${n} records, kcat read ${records.length}`);
}

/** Every value in `expected`, each exactly once. */
function expectValues(records, expected) {
  const got = values(records).sort();
  const want = [...expected].sort();
  assert(
    JSON.stringify(got) === JSON.stringify(want),
    `values differ: expected ${JSON.stringify(want)}, kcat read ${JSON.stringify(got)}`,
  );
}

/** Records with the same key share a partition. */
function expectKeysSticky(records) {
  const byKey = new Map();
  for (const r of records) {
    const key = r.key?.toString('utf8');
    const seen = byKey.get(key);
    assert(
      seen === undefined || seen === r.partition,
      `key ${key} is in partitions ${seen} and ${r.partition}`,
    );
    byKey.set(key, r.partition);
  }
}

/** The Confluent header: a zero byte and the id the registry holds for `subject`. */
async function expectRegistryFraming(records, registry, subject) {
  const res = await fetch(`${registry.url}/subjects/${subject}/versions/latest`);
  assert(res.ok, `the registry has no subject ${subject} (HTTP ${res.status})`);
  const latest = await res.json();
  for (const r of records) {
    assert(r.value !== null && r.value.length > 5 && r.value[0] === 0, 'a value without the magic byte');
    const id = r.value.readInt32BE(1);
    assert(id === latest.id, `schema id ${id} in a record, but ${subject} is id ${latest.id}`);
  }
  return latest;
}

const examples = [
  {
    name: 'hello-world',
    partitions: 3,
    async check({ records }) {
      expectCount(records, 10);
      expectValues(
        records,
        Array.from({ length: 10 }, (_, i) => `hello #${i}`),
      );
      expectKeysSticky(records);
    },
  },
  {
    name: 'avro-registry',
    topic: 'orders-avro',
    partitions: 3,
    env: (ctx) => ({ REGISTRY_URL: ctx.registry.url }),
    async check({ records, topic, registry }) {
      expectCount(records, 5);
      const latest = await expectRegistryFraming(records, registry, `${topic}-value`);
      // Decoded by avsc with the schema the registry holds: the bytes are what the schema says.
      const type = avro.Type.forSchema(JSON.parse(latest.schema));
      const ids = records.map((r) => type.fromBuffer(r.value.subarray(5)).id).sort();
      assert(JSON.stringify(ids) === JSON.stringify(['o-1', 'o-2', 'o-3', 'o-4', 'o-5']), `orders ${ids}`);
    },
  },
  {
    name: 'protobuf',
    topic: 'page-views',
    partitions: 3,
    env: (ctx) => ({ REGISTRY_URL: ctx.registry.url }),
    async check({ records, topic, registry }) {
      expectCount(records, 4);
      const latest = await expectRegistryFraming(records, registry, `${topic}-value`);
      assert(latest.schemaType === 'PROTOBUF', `registered as ${latest.schemaType}`);
      for (const r of records) {
        // The message-index path [0] is the single byte 0, then the message: field 1 (user) first.
        assert(r.value[5] === 0, 'no message-index path [0] after the schema id');
        const user = r.key?.toString('utf8') ?? '';
        assert(r.value.includes(Buffer.from(user)), `value of ${user} does not hold the user`);
      }
    },
  },
  {
    name: 'custom-partitioner',
    topic: 'by-region',
    partitions: 3,
    async check({ records }) {
      expectCount(records, 7);
      const regions = ['eu', 'us', 'ap'];
      for (const r of records) {
        const key = r.key?.toString('utf8') ?? '';
        const want = regions.indexOf(key.slice(0, key.indexOf(':')));
        if (want >= 0) assert(r.partition === want, `${key} landed in partition ${r.partition}, not ${want}`);
      }
    },
  },
  {
    name: 'bun',
    topic: 'hello-bun',
    partitions: 3,
    runtime: 'bun',
    async check({ records }) {
      expectCount(records, 100);
      expectValues(
        records,
        Array.from({ length: 100 }, (_, i) => `hello from Bun #${i}`),
      );
      expectKeysSticky(records);
    },
  },
  {
    name: 'tls',
    topic: 'secure',
    partitions: 3,
    env: (ctx) => ctx.tls(),
    async check({ records }) {
      expectCount(records, 20);
      expectValues(
        records,
        Array.from({ length: 20 }, (_, i) => `secret #${i}`),
      );
    },
  },
  {
    name: 'transactions',
    topic: 'payments',
    partitions: 1,
    async check({ records, cluster, topic }) {
      const committed = Array.from({ length: 5 }, (_, i) => `committed payment ${i}`);
      const aborted = Array.from({ length: 3 }, (_, i) => `aborted payment ${i}`);
      // librdkafka's mock cannot hide aborted records from read_committed readers (and writes no
      // transaction markers), so both transactions' records show here: each once, the committed first.
      expectValues(records, [...committed, ...aborted]);
      assert(
        values(records).slice(0, 5).join() === committed.join(),
        'the committed records are not first, in order',
      );
      const [end] = await endOffsets(cluster.bootstrapServers, topic, 1);
      assert(
        end === records.length,
        `end offset ${end} but ${records.length} records: something was duplicated`,
      );
    },
  },
  {
    name: 'rxjs-pipeline',
    topic: 'clicks',
    partitions: 6,
    env: () => ({ COUNT: '100000' }),
    read: { headers: false },
    async check({ records }) {
      expectCount(records, 100_000);
      assert(new Set(values(records)).size === 100_000, 'duplicate values');
    },
  },
];

// --- stunnel in front of the brokers (the TLS example) ----------------------------------------

function which(binary) {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One stunnel, foreground, a TLS port per broker; resolves once every port accepts. */
async function startStunnel(dir, routes) {
  if (!which('stunnel')) throw new Error('stunnel not found: install the Debian package stunnel4');
  const config = ['foreground = yes', 'pid =', `output = ${join(dir, 'stunnel.log')}`];
  for (const [i, { tlsPort, brokerPort }] of routes.entries()) {
    config.push(`[broker-${i}]`, `accept = 127.0.0.1:${tlsPort}`, `connect = 127.0.0.1:${brokerPort}`);
    config.push(`cert = ${join(dir, 'server.crt')}`, `key = ${join(dir, 'server.key')}`);
  }
  const file = join(dir, 'stunnel.conf');
  writeFileSync(file, `${config.join('\n')}\n`);
  const [command, args] = which('setpriv')
    ? ['setpriv', ['--pdeathsig', 'KILL', 'stunnel', file]]
    : ['stunnel', [file]];
  const child = spawn(command, args, { stdio: 'ignore' });
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  exit.then(() => {
    exited = true;
  });
  child.once('error', () => {});
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 10_000;
  for (const { tlsPort } of routes) {
    while (!(await accepts(tlsPort))) {
      if (exited || Date.now() > deadline) {
        await stop();
        throw new Error(`stunnel did not start; see ${join(dir, 'stunnel.log')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { child, stop };
}

// --- running one example -----------------------------------------------------------------------

function bunBinary() {
  const require = createRequire(import.meta.url);
  const platform = `@oven/bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}`;
  for (const name of [platform, `${platform}-baseline`]) {
    try {
      const bin = join(dirname(require.resolve(`${name}/package.json`)), 'bin', 'bun');
      if (existsSync(bin)) return bin;
    } catch {}
  }
  return 'bun';
}

const children = new Set();

function runExample(example, env) {
  const script = join(dist, `${example.name}.js`);
  if (!existsSync(script))
    return Promise.reject(new Error(`${script} is missing: build first (npx tsc -b examples)`));
  const command = example.runtime === 'bun' ? bunBinary() : process.execPath;
  return new Promise((resolve, reject) => {
    const child = spawn(command, [script], {
      cwd: join(here, '..'),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const show = (chunk) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') console.log(`    ${line}`);
    };
    child.stdout.on('data', show);
    child.stderr.on('data', show);
    const timer = setTimeout(() => {
      console.log(`    (killed after ${EXAMPLE_TIMEOUT_MS} ms)`);
      child.kill('SIGKILL');
    }, EXAMPLE_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`cannot start ${command}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`exited with ${code ?? signal}`));
    });
  });
}

// --- main ----------------------------------------------------------------------------------------

const selected = examples.filter((e) => filter === undefined || e.name.includes(filter));
let cluster;
let registry;
let pki;
let stunnel;

async function cleanup() {
  for (const child of children) child.kill('SIGKILL');
  await stunnel?.stop();
  await registry?.stop();
  await cluster?.stop();
  pki?.dispose();
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.log(`\nexamples: ${signal}, stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

let passed = 0;
let failed = 0;
try {
  cluster = await startCluster({
    brokers: 3,
    topics: selected.map((e) => ({ name: e.topic ?? e.name, partitions: e.partitions })),
  });
  registry = await startMockSchemaRegistry();
  console.log(
    `cluster ${cluster.bootstrapServers} (librdkafka ${cluster.librdkafkaVersion}), registry ${registry.url}`,
  );

  const ctx = {
    registry,
    /** Certificates and stunnel on first use; the environment for the TLS example. */
    tls: async () => {
      if (stunnel === undefined) {
        pki = createTestPki();
        const routes = [];
        for (const broker of cluster.brokers)
          routes.push({ brokerPort: broker.port, tlsPort: await freePort() });
        stunnel = await startStunnel(pki.dir, routes);
        ctx.tlsEnv = {
          BOOTSTRAP: routes.map((r) => `127.0.0.1:${r.tlsPort}`).join(','),
          TLS_CA_FILE: join(pki.dir, 'ca.crt'),
          TLS_PORT_MAP: routes.map((r) => `${r.brokerPort}=${r.tlsPort}`).join(','),
        };
      }
      return ctx.tlsEnv;
    },
  };

  for (const example of selected) {
    const topic = example.topic ?? example.name;
    const started = Date.now();
    console.log(`\n${example.name} (topic ${topic})`);
    try {
      const env = { BOOTSTRAP: cluster.bootstrapServers, TOPIC: topic, ...(await example.env?.(ctx)) };
      await runExample(example, env);
      const records = await readTopic(cluster.bootstrapServers, topic, example.read ?? {});
      await example.check({ records, topic, registry, cluster });
      passed++;
      console.log(`  ok: ${records.length} records read back by kcat (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      console.log(`  FAILED: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
} catch (err) {
  failed = Math.max(1, selected.length - passed);
  console.error(
    `examples: could not set up: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
} finally {
  await cleanup();
}

console.log(`\nexamples: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
