import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  endOffsets,
  kcatMetadata,
  kcatProduce,
  librdkafkaFromEnv,
  type MockCluster,
  startCluster,
} from '@tributary/testkit';
import type { MetadataView } from '../../src/metadata.js';
import { finished, lines, runCli, sleep, spawnCli } from '../helpers.js';

const leg = librdkafkaFromEnv();
const UNKNOWN_TOPIC_OR_PARTITION = 3;

describe(`tributary metadata (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    await cluster.createTopic('orders', 6, 3);
    await cluster.createTopic('audit', 2, 1);
  });
  after(async () => {
    await cluster?.stop();
  });

  it('--json lists the brokers and partitions kcat reports', async () => {
    const r = await runCli(['metadata', '--bootstrap', cluster.bootstrapServers, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout) as MetadataView;
    const kcat = await kcatMetadata(cluster.bootstrapServers);
    assert.deepEqual(
      view.brokers.map((b) => `${b.id} ${b.host}:${b.port}`),
      kcat.brokers.map((b) => `${b.id} ${b.name}`).sort(),
    );
    for (const name of ['orders', 'audit']) {
      const ours = view.topics.find((t) => t.name === name);
      const theirs = kcat.topics.find((t) => t.topic === name);
      assert.ok(ours && theirs, name);
      assert.deepEqual(
        ours.partitions.map((p) => ({
          partition: p.partition,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
        })),
        theirs.partitions
          .map((p) => ({
            partition: p.partition,
            leader: p.leader,
            replicas: p.replicas.map((x) => x.id),
            isr: p.isrs.map((x) => x.id),
          }))
          .sort((a, b) => a.partition - b.partition),
      );
    }
    assert.equal(view.topics.find((t) => t.name === 'orders')?.partitions[0]?.replicas.length, 3);
  });

  it('prints a table, for one topic', async () => {
    const r = await runCli(['metadata', '--bootstrap', cluster.bootstrapServers, '--topic', 'audit']);
    assert.equal(r.code, 0, r.stderr);
    for (const b of cluster.brokers)
      assert.ok(r.stdout.includes(`broker ${b.id}  ${b.host}:${b.port}`), r.stdout);
    assert.match(r.stdout, /topic audit {2}2 partition\(s\)/);
    assert.match(r.stdout, /partition 1 {2}leader \d {2}replicas \[[\d,]+\] {2}isr \[[\d,]+\]/);
    assert.doesNotMatch(r.stdout, /topic orders/);
  });

  it('a topic that does not exist: exit 3 naming it', async () => {
    await cluster.setTopicError('ghost', UNKNOWN_TOPIC_OR_PARTITION);
    const r = await runCli(['metadata', '--bootstrap', cluster.bootstrapServers, '--topic', 'ghost']);
    assert.equal(r.code, 3);
    assert.deepEqual(lines(r.stderr), ['tributary: topic ghost: UNKNOWN_TOPIC_OR_PARTITION']);
  });
});

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe(`tributary cluster (librdkafka ${leg})`, () => {
  it('prints a bootstrap address kcat can use, and on SIGTERM exits 0 leaving no cluster process', async () => {
    const child = spawnCli(['cluster', '--brokers', '2', '--topics', 'x,y', '--partitions', '3']);
    const done = finished(child);
    try {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      const deadline = Date.now() + 60_000;
      let bootstrap: string | undefined;
      while (bootstrap === undefined) {
        bootstrap = out.split('\n').find((l) => /^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)*$/.test(l));
        if (Date.now() > deadline) throw new Error(`no bootstrap line; stdout: ${out}`);
        await sleep(50);
      }
      assert.equal(bootstrap.split(',').length, 2);
      const meta = await kcatMetadata(bootstrap);
      assert.equal(meta.brokers.length, 2);
      for (const t of ['x', 'y']) assert.equal(meta.topics.find((m) => m.topic === t)?.partitions.length, 3);
      await kcatProduce(bootstrap, 'x', [{ key: 'k', value: 'hello' }], { partition: 1 });
      assert.deepEqual(await endOffsets(bootstrap, 'x', 3), [0, 1, 0]);

      const launchers = childrenOf(child.pid as number);
      assert.equal(launchers.length, 1, 'one mock-cluster process');
      child.kill('SIGTERM');
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /mock cluster stopped/);
      for (const pid of launchers) assert.equal(alive(pid), false, `mock cluster ${pid} is gone`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
