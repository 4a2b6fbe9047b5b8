import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  endOffsets,
  kcatMetadata,
  librdkafkaFromEnv,
  type MockCluster,
  readTopic,
  startCluster,
} from '@tributary/testkit';
import { finished, sleep, spawnCli, summaryOf } from '../helpers.js';

// SIGINT and SIGTERM in `tributary produce`: input stops, what was read is
// delivered within --shutdown-timeout-ms or reported as not delivered, and
// the summary agrees with what kcat finds in the topic. Nothing is lost
// silently: delivered + failed = records read.

const leg = librdkafkaFromEnv();
const PRODUCE = 0;
const NOT_ENOUGH_REPLICAS = 19;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe(`tributary produce under signals (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('SIGINT while stdin is still open: stops reading, delivers what was read, exits 130', async () => {
    const topic = 'sigint';
    await cluster.createTopic(topic, 1, 1);
    const child = spawnCli(['produce', '--bootstrap', cluster.bootstrapServers, '--topic', topic]);
    const done = finished(child);
    let written = 0;
    const writer = setInterval(() => {
      if (child.stdin.writable) child.stdin.write(`line-${written++}\n`);
    }, 15);
    try {
      await waitFor('records in the topic', async () => {
        const [end = 0] = await endOffsets(cluster.bootstrapServers, topic, 1);
        return end >= 10;
      });
      child.kill('SIGINT');
      const r = await done;
      clearInterval(writer);
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /SIGINT: stopped reading, input cut short/);
      const s = summaryOf(r.stderr);
      assert.equal(s.failed, 0, r.stderr);
      assert.equal(s.delivered, s.records);
      assert.ok(s.records <= written);
      const got = await readTopic(cluster.bootstrapServers, topic, { headers: false });
      assert.equal(got.length, s.delivered, 'kcat finds exactly the delivered records');
      // In order, with no gap: the first `delivered` lines.
      assert.deepEqual(
        got.map((x) => x.value?.toString()),
        Array.from({ length: s.delivered }, (_, i) => `line-${i}`),
      );
    } finally {
      clearInterval(writer);
      child.kill('SIGKILL');
    }
  });

  it('--progress redraws a progress line about four times a second, then the summary', async () => {
    const topic = 'progress';
    await cluster.createTopic(topic, 1, 1);
    const child = spawnCli([
      'produce',
      '--bootstrap',
      cluster.bootstrapServers,
      '--topic',
      topic,
      '--progress',
    ]);
    const done = finished(child);
    for (let i = 0; i < 12; i++) {
      child.stdin.write(`p-${i}\n`);
      await sleep(100);
    }
    child.stdin.end();
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const draws = r.stderr.split('\r\x1b[2K').filter((d) => /in flight/.test(d));
    assert.ok(draws.length >= 3, `progress drawn ${draws.length} times: ${JSON.stringify(r.stderr)}`);
    assert.match(
      draws[draws.length - 1] as string,
      /^\d+ records\/s {2}\d+\.\d\d MB\/s {2}in flight \d+ {2}delivered \d+ {2}errors 0$/,
    );
    assert.deepEqual(summaryOf(r.stderr), { records: 12, delivered: 12, failed: 0 });
  });

  it('SIGTERM with the leader stalled: delivered + not delivered = read, and kcat agrees, exit 143', async () => {
    const topic = 'sigterm';
    await cluster.createTopic(topic, 1, 1);
    const meta = await kcatMetadata(cluster.bootstrapServers, topic);
    const leader = meta.topics[0]?.partitions[0]?.leader as number;
    const child = spawnCli([
      'produce',
      '--bootstrap',
      cluster.bootstrapServers,
      '--topic',
      topic,
      '--shutdown-timeout-ms',
      '1000',
    ]);
    const done = finished(child);
    try {
      child.stdin.write(Array.from({ length: 20 }, (_, i) => `early-${i}\n`).join(''));
      await waitFor('the first records', async () => {
        const [end = 0] = await endOffsets(cluster.bootstrapServers, topic, 1);
        return end === 20;
      });
      // From now on the leader answers every Produce after 4 s with a retriable
      // error: those records cannot be written before the shutdown timeout.
      await cluster.pushBrokerRequestErrors(
        leader,
        PRODUCE,
        Array.from({ length: 20 }, () => ({ code: NOT_ENOUGH_REPLICAS, rttMs: 4000 })),
      );
      child.stdin.write(Array.from({ length: 15 }, (_, i) => `late-${i}\n`).join(''));
      await sleep(500);
      const signalledAt = performance.now();
      child.kill('SIGTERM');
      const r = await done;
      assert.equal(r.code, 143, r.stderr);
      assert.ok(performance.now() - signalledAt < 1000 + 3000, 'exited within the shutdown timeout');
      const s = summaryOf(r.stderr);
      assert.equal(s.records, 35, r.stderr);
      assert.equal(s.delivered + s.failed, s.records, 'every record read is accounted for');
      assert.equal(s.delivered, 20, r.stderr);
      // Never sent, or sent and unanswered (then it may have been written): close() says which.
      assert.match(
        r.stderr,
        /first error: the producer was closed before (the record was sent|the broker acknowledged the record; it was sent, so it may have been written)/,
      );
      // Wait out the stalled answers: they are errors, so nothing more is appended.
      await sleep(4500);
      const [end] = await endOffsets(cluster.bootstrapServers, topic, 1);
      assert.equal(end, s.delivered, 'kcat finds exactly the delivered records');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
