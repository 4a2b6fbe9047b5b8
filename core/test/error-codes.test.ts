import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, errorCodeInfo, isInvalidMetadataError } from '../src/protocol/error-codes.js';

// Rows checked by hand against Kafka 4.1's Errors (the source the protocol guide's table is generated
// from): [code, name, retriable, message].
const SPOT_CHECKS: readonly (readonly [number, string, boolean, string])[] = [
  [
    -1,
    'UNKNOWN_SERVER_ERROR',
    false,
    'The server experienced an unexpected error when processing the request.',
  ],
  [0, 'NONE', false, ''],
  [
    2,
    'CORRUPT_MESSAGE',
    true,
    'This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.',
  ],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true, 'This server does not host this topic-partition.'],
  [
    6,
    'NOT_LEADER_OR_FOLLOWER',
    true,
    'For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.',
  ],
  [7, 'REQUEST_TIMED_OUT', true, 'The request timed out.'],
  [
    10,
    'MESSAGE_TOO_LARGE',
    false,
    'The request included a message larger than the max message size the server will accept.',
  ],
  [15, 'COORDINATOR_NOT_AVAILABLE', true, 'The coordinator is not available.'],
  [16, 'NOT_COORDINATOR', true, 'This is not the correct coordinator.'],
  // Reworded since 3.9 ("The configured groupId is invalid.").
  [24, 'INVALID_GROUP_ID', false, 'The group id is invalid.'],
  [35, 'UNSUPPORTED_VERSION', false, 'The version of API is not supported.'],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false, 'The broker received an out of order sequence number.'],
  [47, 'INVALID_PRODUCER_EPOCH', false, 'Producer attempted to produce with an old epoch.'],
  [
    51,
    'CONCURRENT_TRANSACTIONS',
    true,
    'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.',
  ],
  [67, 'INVALID_PRINCIPAL_TYPE', false, 'Supplied principalType is not supported.'],
  [
    90,
    'PRODUCER_FENCED',
    false,
    'There is a newer producer with the same transactionalId which fences the current one.',
  ],
  [
    120,
    'TRANSACTION_ABORTABLE',
    false,
    'The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.',
  ],
  [
    129,
    'REBOOTSTRAP_REQUIRED',
    false,
    'Client metadata is stale. The client should rebootstrap to obtain new metadata.',
  ],
  [133, 'SHARE_SESSION_LIMIT_REACHED', true, 'The limit of share sessions has been reached.'],
];

// Kafka 4.1 defines every code from -1 to 133.
const MIN_CODE = -1;
const MAX_CODE = 133;

// The codes whose Java exception extends InvalidMetadataException in Kafka 4.1.
const INVALID_METADATA = [3, 5, 6, 9, 13, 56, 72, 74, 80, 83, 84, 100, 103];

const entries = Object.entries(ErrorCode);

describe('error codes', () => {
  it('match the spec for the spot-checked codes', () => {
    for (const [code, name, retriable, message] of SPOT_CHECKS) {
      assert.deepEqual({ ...errorCodeInfo(code) }, { code, name, retriable, message }, `code ${code}`);
      assert.equal((ErrorCode as Record<string, number>)[name], code, name);
    }
    assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  });

  it('define every code from -1 to the highest, with no gaps', () => {
    assert.equal(entries.length, MAX_CODE - MIN_CODE + 1);
    const codes = entries.map(([, code]) => code).sort((a, b) => a - b);
    assert.equal(codes[0], MIN_CODE);
    assert.equal(codes.at(-1), MAX_CODE);
    for (let code = MIN_CODE; code <= MAX_CODE; code++) {
      assert.ok(!errorCodeInfo(code).name.startsWith('UNKNOWN_ERROR_CODE_'), `code ${code} is defined`);
    }
  });

  it('have unique names and codes, each agreeing with ErrorCode', () => {
    assert.equal(new Set(entries.map(([, code]) => code)).size, entries.length);
    const names = new Set<string>();
    for (let code = MIN_CODE; code <= MAX_CODE; code++) {
      const info = errorCodeInfo(code);
      assert.equal(info.code, code);
      assert.ok(!names.has(info.name), `duplicate name ${info.name}`);
      names.add(info.name);
      assert.equal((ErrorCode as Record<string, number>)[info.name], code, info.name);
      assert.equal(typeof info.retriable, 'boolean');
      assert.equal(typeof info.message, 'string');
      assert.ok(Object.isFrozen(info));
    }
    for (const [name, code] of entries) assert.equal(errorCodeInfo(code).name, name);
  });

  it('return one shared entry per defined code', () => {
    assert.equal(errorCodeInfo(6), errorCodeInfo(ErrorCode.NOT_LEADER_OR_FOLLOWER));
  });

  it('synthesize a non-retriable entry for unknown codes instead of failing', () => {
    for (const code of [9999, MAX_CODE + 1, -2, -32768, 32767, 1.5, Number.NaN]) {
      const info = errorCodeInfo(code);
      assert.equal(info.code, code);
      assert.equal(info.name, `UNKNOWN_ERROR_CODE_${code}`);
      assert.equal(info.retriable, false);
      assert.match(info.message, /not known to this client/);
      assert.equal(isInvalidMetadataError(code), false);
    }
  });

  it('flag exactly the invalid-metadata codes, all of them retriable', () => {
    const flagged: number[] = [];
    for (let code = MIN_CODE; code <= MAX_CODE; code++) {
      if (isInvalidMetadataError(code)) flagged.push(code);
    }
    assert.deepEqual(flagged, INVALID_METADATA);
    for (const code of flagged) assert.equal(errorCodeInfo(code).retriable, true, `code ${code}`);
    assert.equal(isInvalidMetadataError(ErrorCode.NOT_COORDINATOR), false);
    assert.equal(isInvalidMetadataError(ErrorCode.NOT_ENOUGH_REPLICAS), false);
  });
});
