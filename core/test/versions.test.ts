import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsupportedVersionError } from '../src/errors.js';
import { ApiVersionsApi } from '../src/protocol/apis/api-versions.js';
import {
  BrokerApiVersions,
  chooseProduceVersion,
  interpretApiVersionsResponse,
} from '../src/protocol/versions.js';
import { Writer } from '../src/protocol/writer.js';

const broker = (apiKeys: Array<[number, number, number]>, transactionVersion?: number) =>
  new BrokerApiVersions({
    apiKeys: apiKeys.map(([apiKey, minVersion, maxVersion]) => ({ apiKey, minVersion, maxVersion })),
    finalizedFeatures:
      transactionVersion === undefined
        ? []
        : [
            {
              name: 'transaction.version',
              maxVersionLevel: transactionVersion,
              minVersionLevel: transactionVersion,
            },
          ],
  });

describe('version choice', () => {
  it('picks the highest version both sides support', () => {
    const b = broker([
      [3, 0, 12],
      [18, 0, 3],
    ]);
    assert.equal(b.choose(3), 12);
    assert.equal(b.choose(18), 3);
    assert.equal(b.choose(3, 9), 9);
  });

  it('never uses Produce below v3, whatever the broker advertises', () => {
    // Kafka 4.x advertises Produce 0-13 but rejects v0-v2.
    assert.equal(broker([[0, 0, 13]]).choose(0, 12), 12);
    assert.throws(
      () => broker([[0, 0, 2]]).choose(0),
      (err: Error) => {
        assert.ok(err instanceof UnsupportedVersionError);
        assert.match(err.message, /no common version of Produce: client 3-13, broker 0-2/);
        return true;
      },
    );
  });

  it('fails the request, naming the API, when the broker lacks it', () => {
    assert.throws(() => broker([[0, 3, 9]]).choose(22), /broker does not support InitProducerId/);
    assert.throws(() => broker([[0, 3, 9]]).choose(1), /client does not implement ApiKey\(1\)/);
  });

  it('caps AddPartitionsToTxn at v3: v4+ is for brokers', () => {
    assert.equal(broker([[24, 0, 5]]).choose(24), 3);
  });

  it('applies the Produce v11/v12/v13 rules', () => {
    const kafka41 = broker([[0, 0, 13]], 2);
    const noTv2 = broker([[0, 0, 13]], 1);
    assert.equal(chooseProduceVersion(kafka41, { inTransaction: false, topicIdsKnown: true }), 13);
    assert.equal(chooseProduceVersion(kafka41, { inTransaction: false, topicIdsKnown: false }), 12);
    assert.equal(chooseProduceVersion(kafka41, { inTransaction: true, topicIdsKnown: false }), 12);
    assert.equal(chooseProduceVersion(noTv2, { inTransaction: true, topicIdsKnown: true }), 11);
    assert.equal(chooseProduceVersion(noTv2, { inTransaction: false, topicIdsKnown: false }), 12);
    assert.equal(chooseProduceVersion(broker([[0, 3, 7]]), { inTransaction: true, topicIdsKnown: true }), 7);
  });
});

describe('ApiVersions fallback', () => {
  const v0Error = (apiVersionsMax: number) => {
    const w = new Writer();
    ApiVersionsApi.encodeResponse(w, 0, {
      errorCode: 35,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 9 },
        { apiKey: 18, minVersion: 0, maxVersion: apiVersionsMax },
      ],
      throttleTimeMs: 0,
    });
    return w.finish();
  };

  it('retries at the highest version the broker lists in its v0-format answer', () => {
    assert.deepEqual(interpretApiVersionsResponse(v0Error(2), 4), { kind: 'retry', version: 2 });
  });

  it('retries at v0 when the body fits no layout, from the error code alone', () => {
    // As librdkafka's mock brokers answer: error 35, then bytes that are neither layout.
    assert.deepEqual(interpretApiVersionsResponse(Buffer.from('0023ffffff', 'hex'), 3), {
      kind: 'retry',
      version: 0,
    });
  });

  it('gives up at v0, and reports other errors as errors', () => {
    assert.deepEqual(interpretApiVersionsResponse(v0Error(0), 0), { kind: 'error', errorCode: 35 });
    assert.deepEqual(interpretApiVersionsResponse(Buffer.from('0021', 'hex'), 3), {
      kind: 'error',
      errorCode: 33,
    });
  });

  it('reads a successful answer into the broker table, with finalized features', () => {
    const w = new Writer();
    ApiVersionsApi.encodeResponse(w, 3, {
      errorCode: 0,
      apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 13 }],
      throttleTimeMs: 0,
      finalizedFeatures: [{ name: 'transaction.version', maxVersionLevel: 2, minVersionLevel: 2 }],
    });
    const outcome = interpretApiVersionsResponse(w.finish(), 3);
    assert.equal(outcome.kind, 'ok');
    if (outcome.kind !== 'ok') return;
    assert.deepEqual(outcome.versions.range(0), { min: 0, max: 13 });
    assert.equal(outcome.versions.featureLevel('transaction.version'), 2);
    assert.equal(outcome.versions.range(3), undefined);
  });
});
