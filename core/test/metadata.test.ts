import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import { networkConfigDefs } from '../src/config/network-config.js';
import { ConfigError, KafkaProtocolError } from '../src/errors.js';
import { Metadata, validateTopicName } from '../src/network/metadata.js';
import { NetworkClient } from '../src/network/network-client.js';
import type { MetadataResponse } from '../src/protocol/apis/metadata.js';
import { idleSelector as idle } from './fixtures.js';

// Metadata's merge rules, exercised on responses directly (no broker needed:
// update() is what a Metadata response goes through).

function metadata() {
  const config = resolveConfig<never>(networkConfigDefs, { bootstrapServers: ['127.0.0.1:9092'] });
  const client = new NetworkClient(config, idle);
  return new Metadata(client, {
    metadataMaxAgeMs: 300_000,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    allowAutoTopicCreation: true,
  });
}

const ID_A = Buffer.alloc(16, 1);
const ID_B = Buffer.alloc(16, 2);

function response(
  partitions: Array<[leader: number, epoch: number]>,
  topicId = ID_A,
  errorCode = 0,
): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: [1, 2, 3].map((nodeId) => ({ nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null })),
    clusterId: 'c',
    controllerId: 1,
    topics: [
      {
        errorCode,
        name: 't',
        topicId,
        isInternal: false,
        partitions: partitions.map(([leaderId, leaderEpoch], partitionIndex) => ({
          errorCode: 0,
          partitionIndex,
          leaderId,
          leaderEpoch,
          replicaNodes: [1, 2, 3],
          isrNodes: [1, 2, 3],
          offlineReplicas: [],
        })),
        topicAuthorizedOperations: 0,
      },
    ],
    clusterAuthorizedOperations: 0,
    errorCode: 0,
  };
}

describe('metadata merge', () => {
  it('takes newer leaders and ignores a partition whose leader epoch went backwards', () => {
    const md = metadata();
    md.update(
      response([
        [1, 5],
        [2, 5],
      ]),
    );
    md.update(
      response([
        [3, 6],
        [1, 4],
      ]),
    ); // partition 1's answer comes from a broker behind the times
    assert.equal(md.cluster.leaderFor('t', 0), 3);
    assert.equal(md.cluster.leaderFor('t', 1), 2);
    assert.equal(md.cluster.topic('t')?.partitions[1]?.leaderEpoch, 5);
  });

  it('accepts any epoch for a recreated topic (a new topic id)', () => {
    const md = metadata();
    md.update(response([[1, 9]]));
    md.update(response([[2, 0]], ID_B));
    assert.equal(md.cluster.leaderFor('t', 0), 2);
  });

  it('drops a topic that now reports an error, and remembers the error', () => {
    const md = metadata();
    md.update(response([[1, 1]]));
    md.update(response([], ID_A, 3));
    assert.equal(md.cluster.topic('t'), undefined);
    assert.equal(md.cluster.topicErrors.get('t'), 3);
    assert.equal(md.cluster.brokers.size, 3);
  });

  it('resolves a waiter straight from the cache', async () => {
    const md = metadata();
    md.update(
      response([
        [1, 1],
        [2, 1],
        [3, 1],
      ]),
    );
    assert.equal((await md.waitOnMetadata('t', 10)).partitions.length, 3);
    md.close();
  });
});

describe('topic names', () => {
  for (const bad of ['', '.', '..', 'a b', 'ü', 'x'.repeat(250), 'a/b']) {
    it(`rejects ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 5)}…(${bad.length})` : bad)}`, () => {
      assert.throws(
        () => validateTopicName(bad),
        (err: Error) => {
          assert.ok(err instanceof KafkaProtocolError);
          assert.equal(err.code, 'INVALID_TOPIC_EXCEPTION');
          assert.equal(err.retriable, false);
          return true;
        },
      );
    });
  }
  it('accepts the legal alphabet up to 249 characters', () => {
    validateTopicName('Orders_v2.eu-west-1');
    validateTopicName('x'.repeat(249));
  });
});

describe('config resolution', () => {
  it('fills Java defaults and freezes the result', () => {
    const c = resolveConfig<Record<string, unknown>>(networkConfigDefs, { bootstrapServers: 'a:1, b:2' });
    assert.deepEqual(c['bootstrapServers'], ['a:1', 'b:2']);
    assert.equal(c['requestTimeoutMs'], 30_000);
    assert.equal(c['reconnectBackoffMs'], 50);
    assert.equal(c['maxInFlightRequestsPerConnection'], 5);
    assert.ok(Object.isFrozen(c));
  });

  it('names the key in every error', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /^bootstrapServers: is required/],
      [{ bootstrapServers: ['a:1'], requestTimeoutMs: -1 }, /^requestTimeoutMs: must be at least 0/],
      [{ bootstrapServers: ['a:1'], requestTimeoutMs: 1.5 }, /^requestTimeoutMs: must be an integer/],
      [{ bootstrapServers: ['a:1'], clientDnsLookup: 'default' }, /^clientDnsLookup: must be one of/],
      [{ bootstrapServers: ['a:1'], 'request.timeout.ms': 5 }, /did you mean requestTimeoutMs/],
      [{ bootstrapServers: ['a:1'], lingerMillis: 5 }, /^lingerMillis: unknown key/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => resolveConfig(networkConfigDefs, input),
        (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });
});
