import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  kcatMetadata,
  kcatProduce,
  librdkafkaFromEnv,
  type MockCluster,
  readTopic,
  startCluster,
  TestkitError,
} from '../../src/index.js';
import { apiVersionsV0, initProducerIdV0, RawConnection } from './raw-wire.js';

const API_VERSIONS = 18;
const INIT_PRODUCER_ID = 22;
const COORDINATOR_NOT_AVAILABLE = 15;
const CONCURRENT_TRANSACTIONS = 51;

/** Whether `pid` runs (a zombie waiting for an absent reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(`testkit mock cluster (librdkafka ${librdkafkaFromEnv()})`, () => {
  let cluster: MockCluster;

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      topics: [{ name: 'binary', partitions: 3, replicationFactor: 3 }],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('runs the requested librdkafka and lists the brokers kcat sees', async () => {
    const wanted = librdkafkaFromEnv();
    assert.ok(cluster.librdkafkaVersion.startsWith(wanted), `${cluster.librdkafkaVersion} is not ${wanted}`);
    assert.equal(cluster.brokers.length, 3);
    const md = await kcatMetadata(cluster.bootstrapServers, 'binary');
    const seen = md.brokers.map((b) => `${b.id}@${b.name}`).sort();
    const ours = cluster.brokers.map((b) => `${b.id}@${b.host}:${b.port}`).sort();
    assert.deepEqual(seen, ours);
    const topic = md.topics.find((t) => t.topic === 'binary');
    assert.equal(topic?.partitions.length, 3);
    for (const p of topic?.partitions ?? []) assert.equal(p.replicas.length, 3);
  });

  it('reads back, byte-exact, binary keys, values and headers that kcat produced', async () => {
    // Every byte value 0x00..0xfd across the records; 0xfe and 0xff stay free as kcat's delimiters.
    const everyByte = Buffer.from(Array.from({ length: 0xfe }, (_, i) => i));
    const records = [
      { key: Buffer.from([0x00, 0x80, 0xc3, 0x28, 0x0a]), value: everyByte },
      { key: Buffer.from([0xf0, 0x28, 0x8c, 0xbc]), value: Buffer.from([0x00]) },
      { key: null, value: Buffer.from('\n\r"\\{}', 'latin1') },
      { key: Buffer.alloc(0), value: Buffer.alloc(100_000, 0x5a) },
    ];
    const headers = { 'h,1': 'a,b=c', plain: 'value', utf8: 'ünïcødé ✓', empty: '' };
    await kcatProduce(cluster.bootstrapServers, 'binary', records, { partition: 2, headers });

    const got = await readTopic(cluster.bootstrapServers, 'binary');
    assert.equal(got.length, records.length);
    got.forEach((rec, i) => {
      const want = records[i]!;
      assert.equal(rec.partition, 2);
      assert.equal(rec.offset, i);
      assert.ok(
        rec.timestamp > Date.now() - 60_000 && rec.timestamp <= Date.now(),
        `timestamp ${rec.timestamp}`,
      );
      assert.deepEqual(rec.key, want.key, `key of record ${i}`);
      assert.ok(rec.value?.equals(want.value), `value of record ${i}`);
      assert.deepEqual(
        rec.headers,
        Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]),
      );
    });
  });

  it('reads one partition only when asked, and nothing from an empty one', async () => {
    assert.equal(
      (await readTopic(cluster.bootstrapServers, 'binary', { partition: 2, headers: false })).length,
      4,
    );
    assert.deepEqual(await readTopic(cluster.bootstrapServers, 'binary', { partition: 0 }), []);
  });

  it('moves a partition leader, as kcat sees it', async () => {
    await cluster.createTopic('moves', 2, 1);
    const before = await kcatMetadata(cluster.bootstrapServers, 'moves');
    const p0 = before.topics[0]?.partitions.find((p) => p.partition === 0);
    assert.ok(p0);
    const target = (p0.leader % 3) + 1;
    await cluster.setPartitionLeader('moves', 0, target);
    const afterMove = await kcatMetadata(cluster.bootstrapServers, 'moves');
    assert.equal(afterMove.topics[0]?.partitions.find((p) => p.partition === 0)?.leader, target);
  });

  it('takes a broker down (connections fail) and up again (they work)', async () => {
    const b = cluster.brokers[1]!;
    const before = await RawConnection.open(b.host, b.port);
    assert.equal((await apiVersionsV0(before)).errorCode, 0);

    await cluster.setBrokerDown(b.id);
    // The open connection is cut, and a new one is refused or gets no answer.
    await assert.rejects(apiVersionsV0(before), /closed/);
    await assert.rejects(async () => {
      const conn = await RawConnection.open(b.host, b.port);
      try {
        await apiVersionsV0(conn, 1000);
      } finally {
        await conn.close();
      }
    });

    await cluster.setBrokerUp(b.id);
    const again = await RawConnection.open(b.host, b.port);
    assert.equal((await apiVersionsV0(again)).errorCode, 0);
    await again.close();
  });

  it('delays responses by the broker RTT', async () => {
    const b = cluster.brokers[2]!;
    const conn = await RawConnection.open(b.host, b.port);
    await cluster.setBrokerRtt(b.id, 300);
    const t0 = performance.now();
    await apiVersionsV0(conn);
    const elapsed = performance.now() - t0;
    await cluster.setBrokerRtt(b.id, 0);
    await conn.close();
    assert.ok(elapsed >= 290, `round trip took ${elapsed.toFixed(0)} ms with a 300 ms RTT`);
  });

  it('answers injected error codes on the wire, in order, then recovers', async () => {
    const b = cluster.brokers[0]!;
    const conn = await RawConnection.open(b.host, b.port);
    await cluster.pushRequestErrors(INIT_PRODUCER_ID, [COORDINATOR_NOT_AVAILABLE, CONCURRENT_TRANSACTIONS]);
    assert.equal(await initProducerIdV0(conn), COORDINATOR_NOT_AVAILABLE);
    assert.equal(await initProducerIdV0(conn), CONCURRENT_TRANSACTIONS);
    assert.equal(await initProducerIdV0(conn), 0);
    await conn.close();
  });

  it('narrows the advertised version range of an API', async () => {
    const b = cluster.brokers[0]!;
    const conn = await RawConnection.open(b.host, b.port);
    const original = (await apiVersionsV0(conn)).apis.find((a) => a.apiKey === INIT_PRODUCER_ID);
    assert.ok(original && original.max >= 1);
    await cluster.setApiVersion(INIT_PRODUCER_ID, 0, 1);
    const narrowed = (await apiVersionsV0(conn)).apis.find((a) => a.apiKey === INIT_PRODUCER_ID);
    assert.deepEqual(narrowed, { apiKey: INIT_PRODUCER_ID, min: 0, max: 1 });
    await cluster.setApiVersion(INIT_PRODUCER_ID, original.min, original.max);
    await conn.close();
  });

  it('rejects bad commands with a TestkitError and keeps running', async () => {
    // Refused by the mock itself (it auto-creates unknown topics, but not partitions).
    await assert.rejects(cluster.setPartitionLeader('binary', 99, 1), (err: Error) => {
      assert.ok(err instanceof TestkitError);
      assert.match(err.message, /UNKNOWN_TOPIC_OR_PART/);
      return true;
    });
    await assert.rejects(cluster.createTopic('binary', 1, 1), /TOPIC_ALREADY_EXISTS/);
    // Refused before reaching the mock.
    await assert.rejects(cluster.setBrokerDown(99), /no broker 99/);
    await assert.rejects(cluster.createTopic('bad name', 1, 1), /invalid topic name/);
    await assert.rejects(cluster.createTopic('too-replicated', 1, 4), /replicationFactor/);
    await assert.rejects(cluster.pushRequestErrors(API_VERSIONS, []), /at least one/);
    await cluster.createTopic('still-alive', 1, 1);
    assert.equal(cluster.running, true);
  });
});

describe('testkit process lifecycle', () => {
  it('stop() reaps the launcher and is idempotent', async () => {
    const cluster = await startCluster({ brokers: 1 });
    const pid = cluster.pid;
    assert.ok(alive(pid));
    await cluster.stop();
    await cluster.stop();
    assert.equal(cluster.running, false);
    assert.equal(alive(pid), false);
    await assert.rejects(cluster.createTopic('late', 1, 1), /exited/);
  });

  it('a crashed cluster fails its commands with a clear error', async () => {
    const cluster = await startCluster({ brokers: 1 });
    process.kill(cluster.pid, 'SIGKILL');
    await waitUntil('the launcher to be reaped', () => !cluster.running);
    await assert.rejects(cluster.createTopic('x', 1, 1), (err: Error) => {
      assert.ok(err instanceof TestkitError);
      assert.match(err.message, /mock cluster exited \(code null, signal SIGKILL\)/);
      return true;
    });
  });

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`leaves no launcher behind when its parent dies by ${signal}`, async () => {
      const index = fileURLToPath(new URL('../../src/index.js', import.meta.url));
      const script = `import(${JSON.stringify(index)}).then(async (m) => {
        const c = await m.startCluster({ brokers: 1 });
        console.log(c.pid);
        setInterval(() => {}, 1000);
      });`;
      const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const launcherPid = await new Promise<number>((resolve, reject) => {
        parent.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
        parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
      });
      assert.ok(alive(launcherPid));
      parent.kill(signal);
      await waitUntil(`launcher ${launcherPid} to exit`, () => !alive(launcherPid));
    });
  }

  it('the tributary-cluster CLI serves a cluster until Ctrl-C, then leaves nothing behind', async () => {
    const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
    const child = spawn(process.execPath, [cli, '--brokers', '2', '--topic', 'cli-topic:4'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    child.stdout.setEncoding('utf8');
    const bootstrap = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const line = out.split('\n').find((l) => /^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/.test(l));
        if (line) resolve(line);
      });
      void exited.then((code) => reject(new Error(`CLI exited early (${code}): ${out}`)));
    });
    const md = await kcatMetadata(bootstrap, 'cli-topic');
    assert.equal(md.brokers.length, 2);
    assert.equal(md.topics[0]?.partitions.length, 4);

    const launchers = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    assert.equal(launchers.length, 1);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    await waitUntil('the CLI launcher to exit', () => !alive(launchers[0]!));
  });
});
