import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ErrorCode,
  encodeProduceRequestBody,
  isKafkaClientError,
  Metadata,
  MetadataApi,
  NetworkClient,
  type NetworkClientOptions,
  type NetworkConfig,
  type NetworkConfigInput,
  networkConfigDefs,
  ProduceApi,
  RecordBatchBuilder,
  RequestTimeoutError,
  resolveConfig,
  Selector,
} from '@tributary/core';
import {
  kcatMetadata,
  librdkafkaFromEnv,
  type MockCluster,
  readTopic,
  startCluster,
} from '@tributary/testkit';
import { createTcpTransport } from '../../src/index.js';

// The network layer (selector, channels, network client, metadata) over the
// Node TCP transport, against librdkafka's mock cluster with its faults.

const leg = librdkafkaFromEnv();
const METADATA_KEY = 3;

function client(
  bootstrap: string | string[],
  overrides: Partial<NetworkConfig> = {},
  options: NetworkClientOptions = {},
) {
  const input: NetworkConfigInput = { bootstrapServers: bootstrap, ...overrides };
  const config = resolveConfig<NetworkConfig>(networkConfigDefs, input as Record<string, unknown>);
  return new NetworkClient(config, new Selector(createTcpTransport, config.maxResponseBytes), options);
}

function metadataFor(c: NetworkClient, topics: string[] = []) {
  return (nodeId: number) =>
    c.request(nodeId, MetadataApi, {
      topics: topics.map((name) => ({ name, topicId: undefined })),
      allowAutoTopicCreation: false,
    });
}

/** Metadata over a client, as the producer builds it (no auto-creation; the backoffs given). */
function metadata(c: NetworkClient, retryBackoffMs: number, retryBackoffMaxMs: number): Metadata {
  return new Metadata(c, {
    metadataMaxAgeMs: 300_000,
    retryBackoffMs,
    retryBackoffMaxMs,
    allowAutoTopicCreation: false,
  });
}

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

describe(`network client against the mock cluster (librdkafka ${leg})`, () => {
  let cluster: MockCluster;
  const open: NetworkClient[] = [];
  const track = (c: NetworkClient) => {
    open.push(c);
    return c;
  };

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    cluster = await startCluster({
      brokers: 3,
      topics: [{ name: 'net', partitions: 6, replicationFactor: 3 }],
    });
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    for (const b of cluster.brokers) {
      await cluster.setBrokerUp(b.id);
      await cluster.setBrokerRtt(b.id, 0);
    }
  });
  after(async () => {
    await cluster?.stop();
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, [], 'no unhandled rejections');
  });

  it('negotiates versions per broker and reads the cluster as kcat does', async () => {
    const c = track(client(cluster.bootstrapServers));
    const md = metadata(c, 100, 1000);
    const topic = await md.waitOnMetadata('net', 10_000);
    assert.equal(topic.partitions.length, 6);
    const kcat = await kcatMetadata(cluster.bootstrapServers, 'net');
    assert.deepEqual(
      [...md.cluster.brokers.values()].map((b) => `${b.nodeId}@${b.host}:${b.port}`).sort(),
      kcat.brokers.map((b) => `${b.id}@${b.name}`).sort(),
    );
    assert.deepEqual(
      topic.partitions.map((p) => [p.partition, p.leader, [...p.replicas].sort()]),
      kcat.topics[0]!.partitions.map((p) => [p.partition, p.leader, p.replicas.map((r) => r.id).sort()]).sort(
        (a, b) => (a[0] as number) - (b[0] as number),
      ),
    );
    for (const b of cluster.brokers) {
      await c.awaitReady(b.id);
      const produce = c.brokerVersions(b.id)?.range(0);
      assert.equal(produce?.max, leg === '2.12' ? 10 : 7, `node ${b.id} Produce range`);
      assert.equal(c.brokerVersions(b.id)?.choose(METADATA_KEY), leg === '2.12' ? 12 : 2);
    }
    md.close();
  });

  it('fails in-flight requests retriably when a broker goes down, backs off, and recovers', async () => {
    const c = track(
      client(cluster.bootstrapServers, { reconnectBackoffMs: 100, reconnectBackoffMaxMs: 400 }),
    );
    const id = cluster.brokers[1]!.id;
    c.setBrokers(cluster.brokers.map((b) => ({ nodeId: b.id, host: b.host, port: b.port })));
    await c.awaitReady(id);
    const connects: number[] = [];
    const disconnects: number[] = [];
    c.on('connect', (e) => e.nodeId === id && connects.push(Date.now()));
    c.on('disconnect', (e) => e.nodeId === id && disconnects.push(Date.now()));

    await cluster.setBrokerRtt(id, 2000);
    // The expectation is attached before the fault, so the rejection is never unhandled.
    const inFlight = assert.rejects(metadataFor(c)(id), (err: Error) => {
      assert.ok(isKafkaClientError(err), String(err));
      assert.equal(err.retriable, true);
      assert.equal(err.code, 'NETWORK_ERROR');
      return true;
    });
    await new Promise((r) => setTimeout(r, 100));
    await cluster.setBrokerDown(id);
    await inFlight;
    await cluster.setBrokerRtt(id, 0);

    // Requested while the broker is down: it waits, through reconnect attempts with backoff.
    const queued = metadataFor(c)(id);
    await new Promise((r) => setTimeout(r, 1200));
    await cluster.setBrokerUp(id);
    const res = await queued;
    assert.equal(res.brokers.length, 3);
    assert.ok(disconnects.length >= 2, `${disconnects.length} disconnects`);
    // Attempts while down were spaced by the (growing) backoff, not a tight loop.
    assert.ok(disconnects.length < 15, `${disconnects.length} reconnect attempts in ~1.2 s`);
    assert.ok(connects.length >= 1, 'reconnected once the broker was up');
  });

  it('times out a request whose broker is slower than requestTimeoutMs, closes and re-establishes the connection', async () => {
    const c = track(client(cluster.bootstrapServers, { requestTimeoutMs: 300 }));
    const id = cluster.brokers[0]!.id;
    c.setBrokers(cluster.brokers.map((b) => ({ nodeId: b.id, host: b.host, port: b.port })));
    await c.awaitReady(id);
    const timeouts: string[] = [];
    let connects = 0;
    c.on('requestTimeout', (e) => timeouts.push(`${e.api}@${e.nodeId}`));
    c.on('connect', (e) => e.nodeId === id && connects++);
    await cluster.setBrokerRtt(id, 1000);
    const t0 = Date.now();
    await assert.rejects(metadataFor(c)(id), (err: Error) => {
      assert.ok(err instanceof RequestTimeoutError, String(err));
      assert.equal(err.retriable, true);
      return true;
    });
    assert.ok(Date.now() - t0 < 900, 'the timeout fired before the slow response');
    assert.deepEqual(timeouts, [`Metadata@${id}`]);
    await cluster.setBrokerRtt(id, 0);
    const res = await metadataFor(c)(id);
    assert.equal(res.brokers.length, 3);
    assert.equal(connects, 1, 'a new connection was made');
  });

  it('sees a moved leader after NOT_LEADER_OR_FOLLOWER and a metadata refresh', async () => {
    const c = track(client(cluster.bootstrapServers));
    const md = metadata(c, 50, 500);
    const before = await md.waitOnMetadata('net', 10_000);
    const p0 = before.partitions[0]!;
    const newLeader = (p0.leader % 3) + 1;
    await cluster.setPartitionLeader('net', 0, newLeader);

    // Produce to the old leader: it answers NOT_LEADER_OR_FOLLOWER.
    const builder = new RecordBatchBuilder(Buffer.alloc(1024));
    builder.tryAppend(Date.now(), null, Buffer.from('x'));
    const batch = builder.build();
    const res = await c.request(p0.leader, ProduceApi, undefined as never, {
      version: (v) => v.choose(0),
      encode: (w, version) =>
        encodeProduceRequestBody(w, version, null, -1, 5000, [
          {
            nameBytes: Buffer.from('net'),
            topicId: undefined,
            partitions: [{ partition: 0, records: batch }],
          },
        ]),
    });
    assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);

    const updated = new Promise((resolve) => md.once('update', resolve));
    md.requestUpdate();
    await updated;
    assert.equal(md.cluster.leaderFor('net', 0), newLeader);
    md.close();
  });

  it('refreshes metadata when a broker drops its connections', async () => {
    const c = track(client(cluster.bootstrapServers));
    const md = metadata(c, 50, 500);
    const leader = (await md.waitOnMetadata('net', 5000)).partitions[0]!.leader;
    await c.awaitReady(leader);
    const updates = md.updates;
    const refreshed = new Promise((resolve) => md.once('update', resolve));
    // A background refresh nobody awaits does not hold the process open (by
    // design); this test holds it open while it watches for the update.
    const hold = setInterval(() => {}, 1000);
    await cluster.setBrokerDown(leader);
    await refreshed;
    clearInterval(hold);
    assert.equal(md.updates, updates + 1);
    md.close();
  });

  it('rejects an invalid topic name at once and an unknown topic at its deadline', async () => {
    const c = track(client(cluster.bootstrapServers));
    const md = metadata(c, 50, 200);
    await assert.rejects(
      md.waitOnMetadata('bad topic!', 10_000),
      /INVALID_TOPIC_EXCEPTION|characters other than/,
    );
    // Metadata before v4 cannot ask the broker not to auto-create, so make the
    // topic answer UNKNOWN_TOPIC_OR_PARTITION on every leg.
    await cluster.setTopicError('does-not-exist', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const t0 = Date.now();
    await assert.rejects(md.waitOnMetadata('does-not-exist', 700), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'TIMEOUT');
      assert.match(
        err.message,
        /does-not-exist not present in metadata after 700 ms \(last error: UNKNOWN_TOPIC_OR_PARTITION\)/,
      );
      return true;
    });
    assert.ok(Date.now() - t0 >= 650);
    md.close();
  });

  it('tries every address of a host, and the bootstrap servers in turn', async () => {
    const b = cluster.brokers[0]!;
    // 127.0.0.2 is loopback with nothing listening: refused, then the next address works.
    const c = track(
      client(`broker.test:${b.port}`, {}, { resolveHost: async () => ['127.0.0.2', '127.0.0.1'] }),
    );
    await c.awaitReady(-1);
    const res = await metadataFor(c)(-1);
    assert.equal(res.brokers.length, 3);

    const dead = track(
      client([`127.0.0.1:1`, cluster.bootstrapServers.split(',')[1]!], { reconnectBackoffMs: 10 }),
    );
    const md = metadata(dead, 20, 100);
    assert.equal((await md.waitOnMetadata('net', 5000)).partitions.length, 6);
    md.close();
  });

  it('closes idle connections and reconnects on demand', async () => {
    const c = track(client(cluster.bootstrapServers, { connectionsMaxIdleMs: 300 }));
    const id = cluster.brokers[2]!.id;
    c.setBrokers(cluster.brokers.map((b) => ({ nodeId: b.id, host: b.host, port: b.port })));
    await metadataFor(c)(id);
    const closed = new Promise<number>((resolve) =>
      c.on('disconnect', (e) => e.nodeId === id && resolve(Date.now())),
    );
    const t0 = Date.now();
    const at = await closed;
    assert.ok(at - t0 >= 200 && at - t0 < 2000, `closed after ${at - t0} ms`);
    assert.equal((await metadataFor(c)(id)).brokers.length, 3);
  });

  it('sends acks=0 produce requests without waiting for a response', async () => {
    await cluster.createTopic('acks0', 1, 1);
    const c = track(client(cluster.bootstrapServers));
    const md = metadata(c, 50, 500);
    const leader = (await md.waitOnMetadata('acks0', 5000)).partitions[0]!.leader;
    const builder = new RecordBatchBuilder(Buffer.alloc(1024));
    builder.tryAppend(Date.now(), Buffer.from('k'), Buffer.from('fire and forget'));
    const batch = builder.build();
    const res = await c.request(leader, ProduceApi, undefined as never, {
      expectResponse: false,
      version: (v) => v.choose(0),
      encode: (w, version) =>
        encodeProduceRequestBody(w, version, null, 0, 5000, [
          {
            nameBytes: Buffer.from('acks0'),
            topicId: undefined,
            partitions: [{ partition: 0, records: batch }],
          },
        ]),
    });
    assert.equal(res, undefined);
    assert.equal(c.inFlightCount(leader), 0);
    const back = await readTopic(cluster.bootstrapServers, 'acks0');
    assert.equal(back[0]?.value?.toString(), 'fire and forget');
    md.close();
  });

  it('completes 1,000 pipelined requests in order on one connection, leaving nothing behind', async () => {
    const resourcesBefore = process
      .getActiveResourcesInfo()
      .filter((r) => r !== 'Timeout')
      .sort();
    const c = client(cluster.bootstrapServers, { maxInFlightRequestsPerConnection: 1000 });
    const id = cluster.brokers[0]!.id;
    c.setBrokers(cluster.brokers.map((b) => ({ nodeId: b.id, host: b.host, port: b.port })));
    await c.awaitReady(id);
    let maxInFlight = 0;
    const order: number[] = [];
    const all = Array.from({ length: 1000 }, (_, i) =>
      metadataFor(
        c,
        i % 2 ? ['net'] : [],
      )(id).then((r) => {
        order.push(i);
        return r;
      }),
    );
    maxInFlight = Math.max(maxInFlight, c.inFlightCount(id));
    await new Promise((r) => setImmediate(r));
    maxInFlight = Math.max(maxInFlight, c.inFlightCount(id));
    const results = await Promise.all(all);
    assert.deepEqual(
      order,
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.equal(results.filter((r, i) => r.topics.length === i % 2).length, 1000);
    assert.ok(maxInFlight > 100, `only ${maxInFlight} were in flight at once`);
    assert.equal(c.listenerCount('disconnect'), 0);
    await c.close();
    await new Promise((r) => setTimeout(r, 50));
    const resourcesAfter = process
      .getActiveResourcesInfo()
      .filter((r) => r !== 'Timeout')
      .sort();
    assert.deepEqual(resourcesAfter, resourcesBefore);
  });
});
