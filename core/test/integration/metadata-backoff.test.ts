import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endOffsets, librdkafkaFromEnv } from '@tributary/testkit';
import { ErrorCode, MetadataApi, ProduceApi, type TransportFactory } from '../../src/index.js';
import { nodeTcpTransport, tapWrites, useCluster } from './cluster-fixture.js';

// Metadata refreshes are rate-limited by retryBackoffMs even after a
// successful update, as Java's refresh backoff does: a topic whose leader
// stays unavailable while Produce keeps answering NOT_LEADER_OR_FOLLOWER must
// not make the producer ask for metadata once a millisecond (it did: ~1,700
// requests in 2 s). Requests are counted on the wire, records by kcat.

const leg = librdkafkaFromEnv();

async function countingTransport(): Promise<{ factory: TransportFactory; metadataRequests: () => number }> {
  let count = 0;
  const factory = tapWrites(await nodeTcpTransport(), (data) => {
    // Whole frames, possibly several per write.
    for (let pos = 0; pos + 4 <= data.length; ) {
      const start = pos + 4;
      if (data.readInt16BE(start) === MetadataApi.apiKey) count++;
      pos = start + data.readInt32BE(pos);
    }
  });
  return { factory, metadataRequests: () => count };
}

describe(`metadata refresh backoff (librdkafka ${leg})`, () => {
  const fx = useCluster('mdbackoff');

  it('asks at most about once per retryBackoffMs while the leader stays unavailable', async () => {
    const t = await fx.topic(3);
    const tap = await countingTransport();
    const p = await fx.producer({ lingerMs: 5, retryBackoffMs: 100 }, { transport: tap.factory });
    await p.send({ topic: t, value: 'warm-up' });
    const before = tap.metadataRequests();
    await fx.cluster.setTopicError(t, ErrorCode.LEADER_NOT_AVAILABLE);
    await fx.cluster.pushRequestErrors(ProduceApi.apiKey, Array(30).fill(ErrorCode.NOT_LEADER_OR_FOLLOWER));
    const sends = Array.from({ length: 50 }, (_, i) => p.send({ topic: t, value: `v${i}` }));
    await new Promise((r) => setTimeout(r, 2_000));
    const asked = tap.metadataRequests() - before;
    // 2 s at one per 100 ms (jitter and the first immediate one allowed for).
    assert.ok(asked >= 5 && asked <= 30, `${asked} Metadata requests in 2 s`);
    await fx.cluster.setTopicError(t, ErrorCode.NONE);
    await fx.cluster.clearRequestErrors(ProduceApi.apiKey);
    await Promise.all(sends);
    assert.equal(
      (await endOffsets(fx.cluster.bootstrapServers, t, 3)).reduce((a, b) => a + b, 0),
      51,
    );
  });
});
