import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidMetadataError,
  isKafkaClientError,
  KafkaClientError,
  KafkaProtocolError,
  kafkaProtocolError,
  ProducerFencedError,
  ProtocolError,
} from '../src/errors.js';
import { ErrorCode } from '../src/protocol/error-codes.js';

describe('error tree', () => {
  it('takes code, message and retriable from the error-code table', () => {
    const e = kafkaProtocolError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'topic t partition 3');
    assert.ok(e instanceof InvalidMetadataError);
    assert.equal(e.code, 'NOT_LEADER_OR_FOLLOWER');
    assert.equal(e.errorCode, 6);
    assert.equal(e.retriable, true);
    assert.match(e.message, /not the current leader.*\(topic t partition 3\)$/);

    const tooLarge = kafkaProtocolError(ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(tooLarge.constructor, KafkaProtocolError);
    assert.equal(tooLarge.retriable, false);

    const fenced = kafkaProtocolError(ErrorCode.PRODUCER_FENCED);
    assert.ok(fenced instanceof ProducerFencedError);
    assert.equal(fenced.retriable, false);
  });

  it('defaults retriable to false and names the class', () => {
    const e = new KafkaClientError('SOMETHING', 'went wrong');
    assert.equal(e.retriable, false);
    assert.equal(e.name, 'KafkaClientError');
    assert.equal(new ProtocolError('x').name, 'ProtocolError');
  });

  it('recognises errors by brand, across copies of the package', () => {
    assert.ok(
      isKafkaClientError(
        new ProtocolError('bad', { api: 'Metadata', version: 9, field: 'topics', offset: 12 }),
      ),
    );
    assert.ok(!isKafkaClientError(new Error('plain')));
    // A structurally identical error from another copy of the package carries the same global brand.
    const foreign = Object.assign(new Error('elsewhere'), {
      [Symbol.for('tributary.KafkaClientError')]: true,
    });
    assert.ok(isKafkaClientError(foreign));
  });

  it('says where decoding stopped', () => {
    const e = new ProtocolError('truncated', { api: 'Metadata', version: 9, field: 'topics', offset: 12 });
    assert.equal(e.message, 'truncated (Metadata v9, field topics, offset 12)');
    assert.equal(e.code, 'PROTOCOL_ERROR');
  });
});
