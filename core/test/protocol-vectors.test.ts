// Golden byte vectors for the generated API codecs, written BY HAND from the Kafka protocol guide
// (kafka.apache.org/protocol, Kafka 4.1): the BNF of each message in "The Messages" and the
// encodings of "Protocol Primitive Types". Nothing here is produced by our own encoder; each
// vector is a hex string with one comment per field, so a reviewer can check it against the guide.
//
// Bodies only: no size prefix, no request/response header.
//
// Primitive encodings used below (from "Protocol Primitive Types"):
//   INT8/16/32/64           big-endian two's complement
//   STRING                  INT16 length, then UTF-8 bytes
//   NULLABLE_STRING         as STRING; length -1 (ffff) for null
//   COMPACT_STRING          UNSIGNED_VARINT (length + 1), then UTF-8 bytes
//   COMPACT_NULLABLE_STRING as COMPACT_STRING; 0 for null
//   BYTES / NULLABLE_BYTES  INT32 length (-1 for null), then bytes
//   COMPACT_BYTES           UNSIGNED_VARINT (length + 1), then bytes; RECORDS (flexible) likewise, 0 for null
//   ARRAY                   INT32 count (-1 for null), then elements
//   COMPACT_ARRAY           UNSIGNED_VARINT (count + 1), 0 for null
//   UUID                    16 bytes
//   TAG_BUFFER              UNSIGNED_VARINT count, then per field: UNSIGNED_VARINT tag, UNSIGNED_VARINT size, bytes
//
// Every test is named after the guide's section it follows, e.g. `Protocol guide, "Produce Request (Version: 9)"`.
//
// ASCII used in the vectors: 'a' 61, 'bc' 6263, 'c' 63, 'g' 67, 'h' 68, 'i' 69, 'm' 6d, 'r' 72,
// 'tx' 7478, 'no' 6e6f, 'bad' 626164, 'oops' 6f6f7073, 'ok' 6f6b, 'trib' 74726962, '1.0' 312e30,
// 'PLAIN' 504c41494e, 'SCRAM-SHA-256' 534352414d 2d 534841 2d 323536,
// 'kraft.version' 6b726166742e76657273696f6e, 'group.version' 67726f75702e76657273696f6e.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../src/errors.js';
import type { ApiDescriptor, ResponseInit } from '../src/protocol/api.js';
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  ApiVersionsApi,
  EndTxnApi,
  FindCoordinatorApi,
  InitProducerIdApi,
  MetadataApi,
  ProduceApi,
  SaslAuthenticateApi,
  SaslHandshakeApi,
  TxnOffsetCommitApi,
} from '../src/protocol/apis/index.js';
import { Reader } from '../src/protocol/reader.js';
import { Writer } from '../src/protocol/writer.js';

/** Joins hex fragments (whitespace allowed) into bytes; rejects anything that is not whole hex bytes. */
function hex(...parts: string[]): Buffer {
  const s = parts.join('').replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/.test(s)) throw new Error(`malformed hex vector: ${s}`);
  return Buffer.from(s, 'hex');
}

/** The all-zero UUID: the default of a version-absent UUID field. */
const ZERO_ID = Buffer.alloc(16);
/** A topic id with 16 distinct bytes, so a misplaced or reversed UUID shows. */
const TOPIC_ID = hex('0102030405060708090a0b0c0d0e0f10');
/** INT32 -2147483648: the Kafka default of the authorized-operations bitfields. */
const OPS_UNSET = -2147483648;

interface Vector {
  readonly section: string;
  readonly bytes: Buffer;
  readonly decode: (r: Reader) => unknown;
}

/** Every vector registered so far, for the malformed-input tests at the end. */
const VECTORS: Vector[] = [];

function check<T>(
  section: string,
  bytes: Buffer,
  encode: (w: Writer, m: T) => void,
  decode: (r: Reader) => T,
  msg: T,
  decoded: T,
): void {
  VECTORS.push({ section, bytes, decode });
  const title = `Protocol guide, "${section}"`;
  it(`${title}: the encoder writes exactly the spec bytes`, () => {
    const w = new Writer(8); // small, so growth is exercised too
    encode(w, msg);
    assert.equal(w.finish().toString('hex'), bytes.toString('hex'));
  });
  it(`${title}: the decoder reads the spec bytes into the expected message, consuming all of them`, () => {
    const r = new Reader(bytes);
    assert.deepStrictEqual(decode(r), decoded);
    assert.equal(r.remaining, 0);
  });
  it(`${title}: the decoded message (with its version-absent defaults) encodes to the same bytes`, () => {
    const w = new Writer();
    encode(w, decoded);
    assert.equal(w.finish().toString('hex'), bytes.toString('hex'));
  });
}

function request<Req, Res>(
  api: ApiDescriptor<Req, Res>,
  version: number,
  msg: Req,
  bytes: Buffer,
  decoded: Req = msg,
): void {
  check(
    `${api.name} Request (Version: ${version})`,
    bytes,
    (w, m: Req) => api.encodeRequest(w, version, m),
    (r) => api.decodeRequest(r, version),
    msg,
    decoded,
  );
}

function response<Req, Res>(
  api: ApiDescriptor<Req, Res>,
  version: number,
  msg: ResponseInit<Res>,
  bytes: Buffer,
  decoded: ResponseInit<Res> = msg,
): void {
  check(
    `${api.name} Response (Version: ${version})`,
    bytes,
    (w, m: ResponseInit<Res>) => api.encodeResponse(w, version, m),
    (r) => api.decodeResponse(r, version) as ResponseInit<Res>,
    msg,
    decoded,
  );
}

function isProtocolError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ProtocolError' && err instanceof ProtocolError;
}

// ---------------------------------------------------------------------------------------------
// ApiVersions (key 18): flexible from v3; SupportedFeatures, FinalizedFeaturesEpoch and
// FinalizedFeatures are tagged fields 0, 1, 2 of the response.
// ---------------------------------------------------------------------------------------------
describe('ApiVersions vectors', () => {
  // Protocol guide, "ApiVersions Request (Version: 0) =>" (an empty body)
  request(ApiVersionsApi, 0, {}, hex(''), { clientSoftwareName: '', clientSoftwareVersion: '' });

  // Protocol guide, "ApiVersions Request (Version: 3) => client_software_name client_software_version _tagged_fields"
  request(
    ApiVersionsApi,
    3,
    { clientSoftwareName: 'trib', clientSoftwareVersion: '1.0' },
    hex(
      '05 74726962', // client_software_name: COMPACT_STRING len 4+1, "trib"
      '04 312e30', // client_software_version: COMPACT_STRING len 3+1, "1.0"
      '00', // _tagged_fields: none
    ),
  );

  const v0Defaults = {
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };

  // Protocol guide, "ApiVersions Response (Version: 0) => error_code [api_keys]"
  response(
    ApiVersionsApi,
    0,
    {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 13 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
    },
    hex(
      '0000', // error_code: 0
      '00000002', // [api_keys]: ARRAY count 2
      '0000 0003 000d', //   api_key 0 (Produce), min_version 3, max_version 13
      '0012 0000 0004', //   api_key 18 (ApiVersions), min_version 0, max_version 4
    ),
    {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 13 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      ...v0Defaults,
    },
  );

  // Protocol guide, "ApiVersions Response (Version: 1) => error_code [api_keys] throttle_time_ms"
  response(
    ApiVersionsApi,
    1,
    { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 100 },
    hex(
      '0023', // error_code: 35 (UNSUPPORTED_VERSION)
      '00000001', // [api_keys]: ARRAY count 1
      '0012 0000 0004', //   api_key 18, min_version 0, max_version 4
      '00000064', // throttle_time_ms: 100
    ),
    {
      ...v0Defaults,
      errorCode: 35,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 100,
    },
  );

  // Protocol guide, "ApiVersions Response (Version: 3) => error_code [api_keys] throttle_time_ms _tagged_fields",
  // with tagged fields supported_features (tag 0), finalized_features_epoch (tag 1), finalized_features (tag 2)
  const v3Full = {
    errorCode: 0,
    apiKeys: [{ apiKey: 3, minVersion: 0, maxVersion: 13 }],
    throttleTimeMs: 5,
    supportedFeatures: [{ name: 'kraft.version', minVersion: 0, maxVersion: 1 }],
    finalizedFeaturesEpoch: 7,
    finalizedFeatures: [{ name: 'group.version', maxVersionLevel: 1, minVersionLevel: 0 }],
    zkMigrationReady: false,
  };
  response(
    ApiVersionsApi,
    3,
    {
      errorCode: 0,
      apiKeys: [{ apiKey: 3, minVersion: 0, maxVersion: 13 }],
      throttleTimeMs: 5,
      supportedFeatures: [{ name: 'kraft.version', minVersion: 0, maxVersion: 1 }],
      finalizedFeaturesEpoch: 7,
      finalizedFeatures: [{ name: 'group.version', maxVersionLevel: 1, minVersionLevel: 0 }],
    },
    hex(
      '0000', // error_code: 0
      '02', // [api_keys]: COMPACT_ARRAY count 1+1
      '0003 0000 000d 00', //   api_key 3, min_version 0, max_version 13, _tagged_fields: none
      '00000005', // throttle_time_ms: 5
      '03', // _tagged_fields: 3 fields
      '00 14', //   tag 0 (supported_features), size 20
      '02', //     COMPACT_ARRAY count 1+1
      '0e 6b726166742e76657273696f6e', //       name: COMPACT_STRING len 13+1, "kraft.version"
      '0000 0001', //       min_version 0, max_version 1
      '00', //       _tagged_fields: none
      '01 08', //   tag 1 (finalized_features_epoch), size 8
      '0000000000000007', //     INT64 7
      '02 14', //   tag 2 (finalized_features), size 20
      '02', //     COMPACT_ARRAY count 1+1
      '0e 67726f75702e76657273696f6e', //       name: COMPACT_STRING len 13+1, "group.version"
      '0001', //       max_version_level 1
      '0000', //       min_version_level 0
      '00', //       _tagged_fields: none
    ),
    v3Full,
  );

  // Protocol guide, "ApiVersions Response (Version: 4) => error_code [api_keys] throttle_time_ms _tagged_fields"
  // (same layout as v3), with only tag 1 present
  response(
    ApiVersionsApi,
    4,
    {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 13 },
        { apiKey: 3, minVersion: 0, maxVersion: 13 },
      ],
      throttleTimeMs: 0,
      finalizedFeaturesEpoch: 4294967297,
    },
    hex(
      '0000', // error_code: 0
      '03', // [api_keys]: COMPACT_ARRAY count 2+1
      '0000 0003 000d 00', //   api_key 0, min_version 3, max_version 13, _tagged_fields: none
      '0003 0000 000d 00', //   api_key 3, min_version 0, max_version 13, _tagged_fields: none
      '00000000', // throttle_time_ms: 0
      '01', // _tagged_fields: 1 field
      '01 08', //   tag 1 (finalized_features_epoch), size 8
      '0000000100000001', //     INT64 2^32 + 1
    ),
    {
      ...v0Defaults,
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 13 },
        { apiKey: 3, minVersion: 0, maxVersion: 13 },
      ],
      finalizedFeaturesEpoch: 4294967297,
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Metadata (key 3): flexible from v9; topic_id from v10; request topic name nullable from v10,
// response topic name nullable from v12; top-level error_code at the end of the v13 response.
// ---------------------------------------------------------------------------------------------
describe('Metadata vectors', () => {
  const reqDefaults = {
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  };

  // Protocol guide, "Metadata Request (Version: 0) => [topics]"
  request(
    MetadataApi,
    0,
    { topics: [{ name: 'a' }, { name: 'bc' }] },
    hex(
      '00000002', // [topics]: ARRAY count 2
      '0001 61', //   name: STRING "a"
      '0002 6263', //   name: STRING "bc"
    ),
    {
      topics: [
        { topicId: ZERO_ID, name: 'a' },
        { topicId: ZERO_ID, name: 'bc' },
      ],
      ...reqDefaults,
    },
  );

  // Protocol guide, "Metadata Request (Version: 1) => [topics]" with null topics (all topics)
  request(
    MetadataApi,
    1,
    { topics: null },
    hex(
      'ffffffff', // [topics]: ARRAY count -1 (null)
    ),
    { topics: null, ...reqDefaults },
  );

  // Protocol guide, "Metadata Request (Version: 4) => [topics] allow_auto_topic_creation"
  request(
    MetadataApi,
    4,
    { topics: [{ name: 'a' }], allowAutoTopicCreation: false },
    hex(
      '00000001', // [topics]: ARRAY count 1
      '0001 61', //   name: STRING "a"
      '00', // allow_auto_topic_creation: false
    ),
    { ...reqDefaults, topics: [{ topicId: ZERO_ID, name: 'a' }], allowAutoTopicCreation: false },
  );

  // Protocol guide, "Metadata Request (Version: 9) => [topics] allow_auto_topic_creation
  //   include_cluster_authorized_operations include_topic_authorized_operations _tagged_fields"
  request(
    MetadataApi,
    9,
    {
      topics: [{ name: 'a' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    },
    hex(
      '02', // [topics]: COMPACT_ARRAY count 1+1
      '02 61', //   name: COMPACT_STRING "a"
      '00', //   _tagged_fields: none
      '01', // allow_auto_topic_creation: true
      '00', // include_cluster_authorized_operations: false
      '01', // include_topic_authorized_operations: true
      '00', // _tagged_fields: none
    ),
    {
      topics: [{ topicId: ZERO_ID, name: 'a' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    },
  );

  // Protocol guide, "Metadata Request (Version: 10) => [topics] allow_auto_topic_creation
  //   include_cluster_authorized_operations include_topic_authorized_operations _tagged_fields",
  //   topics => topic_id name _tagged_fields (name COMPACT_NULLABLE_STRING)
  request(
    MetadataApi,
    10,
    {
      topics: [
        { topicId: TOPIC_ID, name: null },
        { topicId: ZERO_ID, name: 'bc' },
      ],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true,
      includeTopicAuthorizedOperations: false,
    },
    hex(
      '03', // [topics]: COMPACT_ARRAY count 2+1
      '0102030405060708090a0b0c0d0e0f10', //   topic_id: UUID
      '00', //   name: COMPACT_NULLABLE_STRING null
      '00', //   _tagged_fields: none
      '00000000000000000000000000000000', //   topic_id: UUID zero
      '03 6263', //   name: COMPACT_NULLABLE_STRING "bc"
      '00', //   _tagged_fields: none
      '00', // allow_auto_topic_creation: false
      '01', // include_cluster_authorized_operations: true
      '00', // include_topic_authorized_operations: false
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "Metadata Request (Version: 12) => [topics] allow_auto_topic_creation
  //   include_topic_authorized_operations _tagged_fields" (include_cluster_authorized_operations gone since v11)
  request(
    MetadataApi,
    12,
    {
      topics: [{ topicId: TOPIC_ID, name: null }],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: true,
    },
    hex(
      '02', // [topics]: COMPACT_ARRAY count 1+1
      '0102030405060708090a0b0c0d0e0f10', //   topic_id: UUID
      '00', //   name: COMPACT_NULLABLE_STRING null
      '00', //   _tagged_fields: none
      '01', // allow_auto_topic_creation: true
      '01', // include_topic_authorized_operations: true
      '00', // _tagged_fields: none
    ),
    {
      topics: [{ topicId: TOPIC_ID, name: null }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    },
  );

  // Protocol guide, "Metadata Response (Version: 0) => [brokers] [topics]",
  //   brokers => node_id host port; topics => error_code name [partitions];
  //   partitions => error_code partition_index leader_id [replica_nodes] [isr_nodes]
  response(
    MetadataApi,
    0,
    {
      brokers: [{ nodeId: 1, host: 'h', port: 9092 }],
      topics: [
        {
          errorCode: 0,
          name: 'a',
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1, 2], isrNodes: [1] }],
        },
      ],
    },
    hex(
      '00000001', // [brokers]: ARRAY count 1
      '00000001', //   node_id: 1
      '0001 68', //   host: STRING "h"
      '00002384', //   port: 9092
      '00000001', // [topics]: ARRAY count 1
      '0000', //   error_code: 0
      '0001 61', //   name: STRING "a"
      '00000001', //   [partitions]: ARRAY count 1
      '0000', //     error_code: 0
      '00000000', //     partition_index: 0
      '00000001', //     leader_id: 1
      '00000002 00000001 00000002', //     [replica_nodes]: ARRAY count 2: 1, 2
      '00000001 00000001', //     [isr_nodes]: ARRAY count 1: 1
    ),
    {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: null,
      controllerId: -1,
      topics: [
        {
          errorCode: 0,
          name: 'a',
          topicId: ZERO_ID,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: -1,
              replicaNodes: [1, 2],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: OPS_UNSET,
        },
      ],
      clusterAuthorizedOperations: OPS_UNSET,
      errorCode: 0,
    },
  );

  // Protocol guide, "Metadata Response (Version: 1) => [brokers] controller_id [topics]",
  //   brokers => node_id host port rack; topics => error_code name is_internal [partitions]
  response(
    MetadataApi,
    1,
    {
      brokers: [
        { nodeId: 2, host: 'h', port: 9093, rack: 'r' },
        { nodeId: 3, host: 'h', port: 9094, rack: null },
      ],
      controllerId: 2,
      topics: [
        {
          errorCode: 0,
          name: 'bc',
          isInternal: true,
          partitions: [{ errorCode: 0, partitionIndex: 1, leaderId: 2, replicaNodes: [2], isrNodes: [2] }],
        },
      ],
    },
    hex(
      '00000002', // [brokers]: ARRAY count 2
      '00000002 0001 68 00002385', //   node_id 2, host "h", port 9093
      '0001 72', //   rack: NULLABLE_STRING "r"
      '00000003 0001 68 00002386', //   node_id 3, host "h", port 9094
      'ffff', //   rack: NULLABLE_STRING null
      '00000002', // controller_id: 2
      '00000001', // [topics]: ARRAY count 1
      '0000', //   error_code: 0
      '0002 6263', //   name: STRING "bc"
      '01', //   is_internal: true
      '00000001', //   [partitions]: ARRAY count 1
      '0000 00000001 00000002', //     error_code 0, partition_index 1, leader_id 2
      '00000001 00000002', //     [replica_nodes]: 2
      '00000001 00000002', //     [isr_nodes]: 2
    ),
    {
      throttleTimeMs: 0,
      brokers: [
        { nodeId: 2, host: 'h', port: 9093, rack: 'r' },
        { nodeId: 3, host: 'h', port: 9094, rack: null },
      ],
      clusterId: null,
      controllerId: 2,
      topics: [
        {
          errorCode: 0,
          name: 'bc',
          topicId: ZERO_ID,
          isInternal: true,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 1,
              leaderId: 2,
              leaderEpoch: -1,
              replicaNodes: [2],
              isrNodes: [2],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: OPS_UNSET,
        },
      ],
      clusterAuthorizedOperations: OPS_UNSET,
      errorCode: 0,
    },
  );

  // Protocol guide, "Metadata Response (Version: 7) => throttle_time_ms [brokers] cluster_id controller_id [topics]",
  //   partitions => error_code partition_index leader_id leader_epoch [replica_nodes] [isr_nodes] [offline_replicas]
  const v7Topic = {
    errorCode: 0,
    name: 'a',
    isInternal: false,
    partitions: [
      {
        errorCode: 0,
        partitionIndex: 0,
        leaderId: 1,
        leaderEpoch: 5,
        replicaNodes: [1],
        isrNodes: [1],
        offlineReplicas: [2],
      },
    ],
  };
  response(
    MetadataApi,
    7,
    {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: 'c',
      controllerId: 1,
      topics: [v7Topic],
    },
    hex(
      '00000000', // throttle_time_ms: 0
      '00000001', // [brokers]: ARRAY count 1
      '00000001 0001 68 00002384', //   node_id 1, host "h", port 9092
      'ffff', //   rack: null
      '0001 63', // cluster_id: NULLABLE_STRING "c"
      '00000001', // controller_id: 1
      '00000001', // [topics]: ARRAY count 1
      '0000 0001 61 00', //   error_code 0, name "a", is_internal false
      '00000001', //   [partitions]: ARRAY count 1
      '0000', //     error_code: 0
      '00000000', //     partition_index: 0
      '00000001', //     leader_id: 1
      '00000005', //     leader_epoch: 5
      '00000001 00000001', //     [replica_nodes]: 1
      '00000001 00000001', //     [isr_nodes]: 1
      '00000001 00000002', //     [offline_replicas]: 2
    ),
    {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: 'c',
      controllerId: 1,
      topics: [{ ...v7Topic, topicId: ZERO_ID, topicAuthorizedOperations: OPS_UNSET }],
      clusterAuthorizedOperations: OPS_UNSET,
      errorCode: 0,
    },
  );

  // Protocol guide, "Metadata Response (Version: 9) => throttle_time_ms [brokers] cluster_id controller_id [topics]
  //   cluster_authorized_operations _tagged_fields", with _tagged_fields closing brokers, topics and partitions
  const v9 = {
    throttleTimeMs: 10,
    brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: 'r' }],
    clusterId: null,
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 'a',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: 0,
            replicaNodes: [1, 2],
            isrNodes: [1, 2],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: 248,
      },
    ],
    clusterAuthorizedOperations: OPS_UNSET,
  };
  response(
    MetadataApi,
    9,
    v9,
    hex(
      '0000000a', // throttle_time_ms: 10
      '02', // [brokers]: COMPACT_ARRAY count 1+1
      '00000001', //   node_id: 1
      '02 68', //   host: COMPACT_STRING "h"
      '00002384', //   port: 9092
      '02 72', //   rack: COMPACT_NULLABLE_STRING "r"
      '00', //   _tagged_fields: none
      '00', // cluster_id: COMPACT_NULLABLE_STRING null
      '00000001', // controller_id: 1
      '02', // [topics]: COMPACT_ARRAY count 1+1
      '0000', //   error_code: 0
      '02 61', //   name: COMPACT_STRING "a"
      '00', //   is_internal: false
      '02', //   [partitions]: COMPACT_ARRAY count 1+1
      '0000', //     error_code: 0
      '00000000', //     partition_index: 0
      '00000001', //     leader_id: 1
      '00000000', //     leader_epoch: 0
      '03 00000001 00000002', //     [replica_nodes]: COMPACT_ARRAY count 2+1: 1, 2
      '03 00000001 00000002', //     [isr_nodes]: COMPACT_ARRAY count 2+1: 1, 2
      '01', //     [offline_replicas]: COMPACT_ARRAY count 0+1
      '00', //     _tagged_fields: none
      '000000f8', //   topic_authorized_operations: 248
      '00', //   _tagged_fields: none
      '80000000', // cluster_authorized_operations: -2147483648
      '00', // _tagged_fields: none
    ),
    {
      ...v9,
      topics: v9.topics.map((t) => ({ ...t, topicId: ZERO_ID })),
      errorCode: 0,
    },
  );

  // Protocol guide, "Metadata Response (Version: 12) => throttle_time_ms [brokers] cluster_id controller_id [topics]
  //   _tagged_fields", topics => error_code name topic_id is_internal [partitions] topic_authorized_operations
  //   _tagged_fields (name COMPACT_NULLABLE_STRING)
  response(
    MetadataApi,
    12,
    {
      throttleTimeMs: 0,
      brokers: [],
      clusterId: 'c',
      controllerId: 1,
      topics: [
        {
          errorCode: 100,
          name: null,
          topicId: TOPIC_ID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: OPS_UNSET,
        },
      ],
    },
    hex(
      '00000000', // throttle_time_ms: 0
      '01', // [brokers]: COMPACT_ARRAY count 0+1
      '02 63', // cluster_id: COMPACT_NULLABLE_STRING "c"
      '00000001', // controller_id: 1
      '02', // [topics]: COMPACT_ARRAY count 1+1
      '0064', //   error_code: 100 (UNKNOWN_TOPIC_ID)
      '00', //   name: COMPACT_NULLABLE_STRING null
      '0102030405060708090a0b0c0d0e0f10', //   topic_id: UUID
      '00', //   is_internal: false
      '01', //   [partitions]: COMPACT_ARRAY count 0+1
      '80000000', //   topic_authorized_operations: -2147483648
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    {
      throttleTimeMs: 0,
      brokers: [],
      clusterId: 'c',
      controllerId: 1,
      topics: [
        {
          errorCode: 100,
          name: null,
          topicId: TOPIC_ID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: OPS_UNSET,
        },
      ],
      clusterAuthorizedOperations: OPS_UNSET,
      errorCode: 0,
    },
  );

  // Protocol guide, "Metadata Response (Version: 13) => throttle_time_ms [brokers] cluster_id controller_id [topics]
  //   error_code _tagged_fields" (KIP-1102: the top-level error_code comes after topics)
  response(
    MetadataApi,
    13,
    {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: null,
      controllerId: -1,
      topics: [],
      errorCode: 129,
    },
    hex(
      '00000000', // throttle_time_ms: 0
      '02', // [brokers]: COMPACT_ARRAY count 1+1
      '00000001 02 68 00002384', //   node_id 1, host "h", port 9092
      '00', //   rack: null
      '00', //   _tagged_fields: none
      '00', // cluster_id: null
      'ffffffff', // controller_id: -1
      '01', // [topics]: COMPACT_ARRAY count 0+1
      '0081', // error_code: 129 (REBOOTSTRAP_REQUIRED)
      '00', // _tagged_fields: none
    ),
    {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: null,
      controllerId: -1,
      topics: [],
      clusterAuthorizedOperations: OPS_UNSET,
      errorCode: 129,
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Produce (key 0): v3 is the floor; flexible from v9; v10 adds tagged current_leader (partition,
// tag 0) and node_endpoints (top level, tag 0); v13 replaces the topic name by topic_id.
// ---------------------------------------------------------------------------------------------
describe('Produce vectors', () => {
  const partitionDefaults = {
    logStartOffset: -1,
    recordErrors: [],
    errorMessage: null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };

  // Protocol guide, "Produce Request (Version: 3) => transactional_id acks timeout_ms [topic_data]",
  //   topic_data => name [partition_data]; partition_data => index records
  request(
    ProduceApi,
    3,
    {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'a', partitionData: [{ index: 0, records: hex('deadbeef') }] }],
    },
    hex(
      'ffff', // transactional_id: NULLABLE_STRING null
      'ffff', // acks: -1
      '00007530', // timeout_ms: 30000
      '00000001', // [topic_data]: ARRAY count 1
      '0001 61', //   name: STRING "a"
      '00000001', //   [partition_data]: ARRAY count 1
      '00000000', //     index: 0
      '00000004 deadbeef', //     records: NULLABLE_BYTES len 4 (stand-in for a record batch)
    ),
    {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'a', topicId: ZERO_ID, partitionData: [{ index: 0, records: hex('deadbeef') }] }],
    },
  );

  // Protocol guide, "Produce Request (Version: 9) => transactional_id acks timeout_ms [topic_data] _tagged_fields"
  request(
    ProduceApi,
    9,
    {
      transactionalId: 'tx',
      acks: 1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 'a',
          partitionData: [
            { index: 2, records: hex('cafe') },
            { index: 3, records: null },
          ],
        },
      ],
    },
    hex(
      '03 7478', // transactional_id: COMPACT_NULLABLE_STRING "tx"
      '0001', // acks: 1
      '000003e8', // timeout_ms: 1000
      '02', // [topic_data]: COMPACT_ARRAY count 1+1
      '02 61', //   name: COMPACT_STRING "a"
      '03', //   [partition_data]: COMPACT_ARRAY count 2+1
      '00000002', //     index: 2
      '03 cafe', //     records: COMPACT_RECORDS len 2+1
      '00', //     _tagged_fields: none
      '00000003', //     index: 3
      '00', //     records: null
      '00', //     _tagged_fields: none
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    {
      transactionalId: 'tx',
      acks: 1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 'a',
          topicId: ZERO_ID,
          partitionData: [
            { index: 2, records: hex('cafe') },
            { index: 3, records: null },
          ],
        },
      ],
    },
  );

  // Protocol guide, "Produce Request (Version: 13) => transactional_id acks timeout_ms [topic_data] _tagged_fields",
  //   topic_data => topic_id [partition_data] _tagged_fields
  request(
    ProduceApi,
    13,
    {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ topicId: TOPIC_ID, partitionData: [{ index: 0, records: hex('01020304') }] }],
    },
    hex(
      '00', // transactional_id: COMPACT_NULLABLE_STRING null
      'ffff', // acks: -1
      '00007530', // timeout_ms: 30000
      '02', // [topic_data]: COMPACT_ARRAY count 1+1
      '0102030405060708090a0b0c0d0e0f10', //   topic_id: UUID
      '02', //   [partition_data]: COMPACT_ARRAY count 1+1
      '00000000', //     index: 0
      '05 01020304', //     records: COMPACT_RECORDS len 4+1
      '00', //     _tagged_fields: none
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: '', topicId: TOPIC_ID, partitionData: [{ index: 0, records: hex('01020304') }] }],
    },
  );

  // Protocol guide, "Produce Response (Version: 3) => [responses] throttle_time_ms",
  //   responses => name [partition_responses];
  //   partition_responses => index error_code base_offset log_append_time_ms
  response(
    ProduceApi,
    3,
    {
      responses: [
        {
          name: 'a',
          partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 42, logAppendTimeMs: 1700000000000 }],
        },
      ],
      throttleTimeMs: 0,
    },
    hex(
      '00000001', // [responses]: ARRAY count 1
      '0001 61', //   name: STRING "a"
      '00000001', //   [partition_responses]: ARRAY count 1
      '00000000', //     index: 0
      '0000', //     error_code: 0
      '000000000000002a', //     base_offset: 42
      '0000018bcfe56800', //     log_append_time_ms: 1700000000000
      '00000000', // throttle_time_ms: 0
    ),
    {
      responses: [
        {
          name: 'a',
          topicId: ZERO_ID,
          partitionResponses: [
            { index: 0, errorCode: 0, baseOffset: 42, logAppendTimeMs: 1700000000000, ...partitionDefaults },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    },
  );

  // Protocol guide, "Produce Response (Version: 5) => [responses] throttle_time_ms",
  //   partition_responses => index error_code base_offset log_append_time_ms log_start_offset
  response(
    ProduceApi,
    5,
    {
      responses: [
        {
          name: 'bc',
          partitionResponses: [
            { index: 1, errorCode: 0, baseOffset: 4294967297, logAppendTimeMs: -1, logStartOffset: 7 },
          ],
        },
      ],
      throttleTimeMs: 20,
    },
    hex(
      '00000001', // [responses]: ARRAY count 1
      '0002 6263', //   name: STRING "bc"
      '00000001', //   [partition_responses]: ARRAY count 1
      '00000001', //     index: 1
      '0000', //     error_code: 0
      '0000000100000001', //     base_offset: 2^32 + 1
      'ffffffffffffffff', //     log_append_time_ms: -1
      '0000000000000007', //     log_start_offset: 7
      '00000014', // throttle_time_ms: 20
    ),
    {
      responses: [
        {
          name: 'bc',
          topicId: ZERO_ID,
          partitionResponses: [
            {
              ...partitionDefaults,
              index: 1,
              errorCode: 0,
              baseOffset: 4294967297,
              logAppendTimeMs: -1,
              logStartOffset: 7,
            },
          ],
        },
      ],
      throttleTimeMs: 20,
      nodeEndpoints: [],
    },
  );

  // Protocol guide, "Produce Response (Version: 8) => [responses] throttle_time_ms",
  //   partition_responses => index error_code base_offset log_append_time_ms log_start_offset [record_errors]
  //   error_message; record_errors => batch_index batch_index_error_message
  const v8Partition = {
    index: 0,
    errorCode: 87,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [
      { batchIndex: 2, batchIndexErrorMessage: 'bad' },
      { batchIndex: 5, batchIndexErrorMessage: null },
    ],
    errorMessage: 'oops',
  };
  response(
    ProduceApi,
    8,
    { responses: [{ name: 'a', partitionResponses: [v8Partition] }], throttleTimeMs: 0 },
    hex(
      '00000001', // [responses]: ARRAY count 1
      '0001 61', //   name: STRING "a"
      '00000001', //   [partition_responses]: ARRAY count 1
      '00000000', //     index: 0
      '0057', //     error_code: 87 (INVALID_RECORD)
      'ffffffffffffffff', //     base_offset: -1
      'ffffffffffffffff', //     log_append_time_ms: -1
      'ffffffffffffffff', //     log_start_offset: -1
      '00000002', //     [record_errors]: ARRAY count 2
      '00000002 0003 626164', //       batch_index 2, batch_index_error_message NULLABLE_STRING "bad"
      '00000005 ffff', //       batch_index 5, batch_index_error_message null
      '0004 6f6f7073', //     error_message: NULLABLE_STRING "oops"
      '00000000', // throttle_time_ms: 0
    ),
    {
      responses: [
        {
          name: 'a',
          topicId: ZERO_ID,
          partitionResponses: [{ ...v8Partition, currentLeader: { leaderId: -1, leaderEpoch: -1 } }],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    },
  );

  // Protocol guide, "Produce Response (Version: 10) => [responses] throttle_time_ms _tagged_fields", with the
  // tagged current_leader (tag 0 of partition_responses: leader_id leader_epoch _tagged_fields) and node_endpoints
  // (tag 0 of the response: node_id host port rack _tagged_fields)
  const v10 = {
    responses: [
      {
        name: 'a',
        partitionResponses: [
          {
            index: 0,
            errorCode: 6,
            baseOffset: -1,
            logAppendTimeMs: -1,
            logStartOffset: -1,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: 2, leaderEpoch: 9 },
          },
        ],
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
  };
  response(
    ProduceApi,
    10,
    v10,
    hex(
      '02', // [responses]: COMPACT_ARRAY count 1+1
      '02 61', //   name: COMPACT_STRING "a"
      '02', //   [partition_responses]: COMPACT_ARRAY count 1+1
      '00000000', //     index: 0
      '0006', //     error_code: 6 (NOT_LEADER_OR_FOLLOWER)
      'ffffffffffffffff', //     base_offset: -1
      'ffffffffffffffff', //     log_append_time_ms: -1
      'ffffffffffffffff', //     log_start_offset: -1
      '01', //     [record_errors]: COMPACT_ARRAY count 0+1
      '00', //     error_message: COMPACT_NULLABLE_STRING null
      '01', //     _tagged_fields: 1 field
      '00 09', //       tag 0 (current_leader), size 9
      '00000002', //         leader_id: 2
      '00000009', //         leader_epoch: 9
      '00', //         _tagged_fields: none
      '00', //   _tagged_fields: none
      '00000000', // throttle_time_ms: 0
      '01', // _tagged_fields: 1 field
      '00 0d', //   tag 0 (node_endpoints), size 13
      '02', //     COMPACT_ARRAY count 1+1
      '00000002', //       node_id: 2
      '02 68', //       host: COMPACT_STRING "h"
      '00002384', //       port: 9092
      '00', //       rack: COMPACT_NULLABLE_STRING null
      '00', //       _tagged_fields: none
    ),
    { ...v10, responses: v10.responses.map((t) => ({ ...t, topicId: ZERO_ID })) },
  );

  // Protocol guide, "Produce Response (Version: 13) => [responses] throttle_time_ms _tagged_fields",
  //   responses => topic_id [partition_responses] _tagged_fields
  response(
    ProduceApi,
    13,
    {
      responses: [
        {
          topicId: TOPIC_ID,
          partitionResponses: [
            {
              index: 0,
              errorCode: 0,
              baseOffset: 10,
              logAppendTimeMs: -1,
              logStartOffset: 0,
              recordErrors: [],
              errorMessage: null,
            },
          ],
        },
      ],
      throttleTimeMs: 0,
    },
    hex(
      '02', // [responses]: COMPACT_ARRAY count 1+1
      '0102030405060708090a0b0c0d0e0f10', //   topic_id: UUID
      '02', //   [partition_responses]: COMPACT_ARRAY count 1+1
      '00000000', //     index: 0
      '0000', //     error_code: 0
      '000000000000000a', //     base_offset: 10
      'ffffffffffffffff', //     log_append_time_ms: -1
      '0000000000000000', //     log_start_offset: 0
      '01', //     [record_errors]: COMPACT_ARRAY count 0+1
      '00', //     error_message: null
      '00', //     _tagged_fields: none
      '00', //   _tagged_fields: none
      '00000000', // throttle_time_ms: 0
      '00', // _tagged_fields: none
    ),
    {
      responses: [
        {
          name: '',
          topicId: TOPIC_ID,
          partitionResponses: [
            {
              ...partitionDefaults,
              index: 0,
              errorCode: 0,
              baseOffset: 10,
              logAppendTimeMs: -1,
              logStartOffset: 0,
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    },
  );
});

// ---------------------------------------------------------------------------------------------
// InitProducerId (key 22): flexible from v2; producer_id/producer_epoch in the request from v3.
// ---------------------------------------------------------------------------------------------
describe('InitProducerId vectors', () => {
  // Protocol guide, "InitProducerId Request (Version: 0) => transactional_id transaction_timeout_ms"
  request(
    InitProducerIdApi,
    0,
    { transactionalId: null, transactionTimeoutMs: 60000 },
    hex(
      'ffff', // transactional_id: NULLABLE_STRING null
      '0000ea60', // transaction_timeout_ms: 60000
    ),
    { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 },
  );

  // Protocol guide, "InitProducerId Request (Version: 3) => transactional_id transaction_timeout_ms producer_id
  //   producer_epoch _tagged_fields"
  request(
    InitProducerIdApi,
    3,
    { transactionalId: 'tx', transactionTimeoutMs: 60000, producerId: 1000, producerEpoch: 5 },
    hex(
      '03 7478', // transactional_id: COMPACT_NULLABLE_STRING "tx"
      '0000ea60', // transaction_timeout_ms: 60000
      '00000000000003e8', // producer_id: 1000
      '0005', // producer_epoch: 5
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "InitProducerId Request (Version: 4) => transactional_id transaction_timeout_ms producer_id
  //   producer_epoch _tagged_fields"
  request(
    InitProducerIdApi,
    4,
    { transactionalId: null, transactionTimeoutMs: 2147483647, producerId: -1, producerEpoch: -1 },
    hex(
      '00', // transactional_id: COMPACT_NULLABLE_STRING null
      '7fffffff', // transaction_timeout_ms: 2147483647
      'ffffffffffffffff', // producer_id: -1
      'ffff', // producer_epoch: -1
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "InitProducerId Request (Version: 5) => transactional_id transaction_timeout_ms producer_id
  //   producer_epoch _tagged_fields"
  request(
    InitProducerIdApi,
    5,
    { transactionalId: 'tx', transactionTimeoutMs: 60000, producerId: 4294967297, producerEpoch: 32767 },
    hex(
      '03 7478', // transactional_id: "tx"
      '0000ea60', // transaction_timeout_ms: 60000
      '0000000100000001', // producer_id: 2^32 + 1
      '7fff', // producer_epoch: 32767
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "InitProducerId Response (Version: 0) => throttle_time_ms error_code producer_id producer_epoch"
  response(
    InitProducerIdApi,
    0,
    { throttleTimeMs: 0, errorCode: 0, producerId: 1000, producerEpoch: 0 },
    hex(
      '00000000', // throttle_time_ms: 0
      '0000', // error_code: 0
      '00000000000003e8', // producer_id: 1000
      '0000', // producer_epoch: 0
    ),
  );

  // Protocol guide, "InitProducerId Response (Version: 3) => throttle_time_ms error_code producer_id producer_epoch
  //   _tagged_fields"
  response(
    InitProducerIdApi,
    3,
    { throttleTimeMs: 0, errorCode: 0, producerId: 1001, producerEpoch: 1 },
    hex(
      '00000000', // throttle_time_ms: 0
      '0000', // error_code: 0
      '00000000000003e9', // producer_id: 1001
      '0001', // producer_epoch: 1
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "InitProducerId Response (Version: 4) => throttle_time_ms error_code producer_id producer_epoch
  //   _tagged_fields"
  response(
    InitProducerIdApi,
    4,
    { throttleTimeMs: 5, errorCode: 47, producerId: -1, producerEpoch: -1 },
    hex(
      '00000005', // throttle_time_ms: 5
      '002f', // error_code: 47 (INVALID_PRODUCER_EPOCH)
      'ffffffffffffffff', // producer_id: -1
      'ffff', // producer_epoch: -1
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "InitProducerId Response (Version: 5) => throttle_time_ms error_code producer_id producer_epoch
  //   _tagged_fields"
  response(
    InitProducerIdApi,
    5,
    { throttleTimeMs: 0, errorCode: 0, producerId: 4294967297, producerEpoch: 3 },
    hex(
      '00000000', // throttle_time_ms: 0
      '0000', // error_code: 0
      '0000000100000001', // producer_id: 2^32 + 1
      '0003', // producer_epoch: 3
      '00', // _tagged_fields: none
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// FindCoordinator (key 10): key_type from v1; flexible from v3; batched coordinator_keys from v4.
// ---------------------------------------------------------------------------------------------
describe('FindCoordinator vectors', () => {
  const resDefaults = {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    nodeId: 0,
    host: '',
    port: 0,
    coordinators: [],
  };

  // Protocol guide, "FindCoordinator Request (Version: 0) => key"
  request(
    FindCoordinatorApi,
    0,
    { key: 'g' },
    hex(
      '0001 67', // key: STRING "g"
    ),
    { key: 'g', keyType: 0, coordinatorKeys: [] },
  );

  // Protocol guide, "FindCoordinator Request (Version: 1) => key key_type"
  request(
    FindCoordinatorApi,
    1,
    { key: 'tx', keyType: 1 },
    hex(
      '0002 7478', // key: STRING "tx"
      '01', // key_type: INT8 1 (transaction)
    ),
    { key: 'tx', keyType: 1, coordinatorKeys: [] },
  );

  // Protocol guide, "FindCoordinator Request (Version: 4) => key_type [coordinator_keys] _tagged_fields"
  request(
    FindCoordinatorApi,
    4,
    { keyType: 0, coordinatorKeys: ['g', 'tx'] },
    hex(
      '00', // key_type: INT8 0 (group)
      '03', // [coordinator_keys]: COMPACT_ARRAY count 2+1
      '02 67', //   COMPACT_STRING "g"
      '03 7478', //   COMPACT_STRING "tx"
      '00', // _tagged_fields: none
    ),
    { key: '', keyType: 0, coordinatorKeys: ['g', 'tx'] },
  );

  // Protocol guide, "FindCoordinator Response (Version: 0) => error_code node_id host port"
  response(
    FindCoordinatorApi,
    0,
    { errorCode: 0, nodeId: 1, host: 'h', port: 9092 },
    hex(
      '0000', // error_code: 0
      '00000001', // node_id: 1
      '0001 68', // host: STRING "h"
      '00002384', // port: 9092
    ),
    { ...resDefaults, errorCode: 0, nodeId: 1, host: 'h', port: 9092 },
  );

  // Protocol guide, "FindCoordinator Response (Version: 1) => throttle_time_ms error_code error_message node_id host port"
  response(
    FindCoordinatorApi,
    1,
    { throttleTimeMs: 0, errorCode: 15, errorMessage: 'no', nodeId: -1, host: '', port: -1 },
    hex(
      '00000000', // throttle_time_ms: 0
      '000f', // error_code: 15 (COORDINATOR_NOT_AVAILABLE)
      '0002 6e6f', // error_message: NULLABLE_STRING "no"
      'ffffffff', // node_id: -1
      '0000', // host: STRING ""
      'ffffffff', // port: -1
    ),
    { ...resDefaults, errorCode: 15, errorMessage: 'no', nodeId: -1, host: '', port: -1 },
  );

  // Protocol guide, "FindCoordinator Response (Version: 4) => throttle_time_ms [coordinators] _tagged_fields",
  //   coordinators => key node_id host port error_code error_message _tagged_fields
  const coordinators = [
    { key: 'g', nodeId: 1, host: 'h', port: 9092, errorCode: 0, errorMessage: null },
    { key: 'tx', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'no' },
  ];
  response(
    FindCoordinatorApi,
    4,
    { throttleTimeMs: 0, coordinators },
    hex(
      '00000000', // throttle_time_ms: 0
      '03', // [coordinators]: COMPACT_ARRAY count 2+1
      '02 67', //   key: COMPACT_STRING "g"
      '00000001', //   node_id: 1
      '02 68', //   host: COMPACT_STRING "h"
      '00002384', //   port: 9092
      '0000', //   error_code: 0
      '00', //   error_message: COMPACT_NULLABLE_STRING null
      '00', //   _tagged_fields: none
      '03 7478', //   key: COMPACT_STRING "tx"
      'ffffffff', //   node_id: -1
      '01', //   host: COMPACT_STRING ""
      'ffffffff', //   port: -1
      '000f', //   error_code: 15
      '03 6e6f', //   error_message: COMPACT_NULLABLE_STRING "no"
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    { ...resDefaults, coordinators },
  );
});

// ---------------------------------------------------------------------------------------------
// AddPartitionsToTxn (key 24): flexible from v3; v4 batches transactions (with verify_only).
// ---------------------------------------------------------------------------------------------
describe('AddPartitionsToTxn vectors', () => {
  // Protocol guide, "AddPartitionsToTxn Request (Version: 3) => v3_and_below_transactional_id
  //   v3_and_below_producer_id v3_and_below_producer_epoch [v3_and_below_topics] _tagged_fields",
  //   v3_and_below_topics => name [partitions] _tagged_fields
  request(
    AddPartitionsToTxnApi,
    3,
    {
      v3AndBelowTransactionalId: 'tx',
      v3AndBelowProducerId: 1000,
      v3AndBelowProducerEpoch: 2,
      v3AndBelowTopics: [{ name: 'a', partitions: [0, 1] }],
    },
    hex(
      '03 7478', // v3_and_below_transactional_id: COMPACT_STRING "tx"
      '00000000000003e8', // v3_and_below_producer_id: 1000
      '0002', // v3_and_below_producer_epoch: 2
      '02', // [v3_and_below_topics]: COMPACT_ARRAY count 1+1
      '02 61', //   name: COMPACT_STRING "a"
      '03 00000000 00000001', //   [partitions]: COMPACT_ARRAY count 2+1: 0, 1
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    {
      transactions: [],
      v3AndBelowTransactionalId: 'tx',
      v3AndBelowProducerId: 1000,
      v3AndBelowProducerEpoch: 2,
      v3AndBelowTopics: [{ name: 'a', partitions: [0, 1] }],
    },
  );

  // Protocol guide, "AddPartitionsToTxn Request (Version: 4) => [transactions] _tagged_fields",
  //   transactions => transactional_id producer_id producer_epoch verify_only [topics] _tagged_fields
  const transactions = [
    {
      transactionalId: 'tx',
      producerId: 1000,
      producerEpoch: 2,
      verifyOnly: true,
      topics: [{ name: 'a', partitions: [3] }],
    },
  ];
  request(
    AddPartitionsToTxnApi,
    4,
    { transactions },
    hex(
      '02', // [transactions]: COMPACT_ARRAY count 1+1
      '03 7478', //   transactional_id: COMPACT_STRING "tx"
      '00000000000003e8', //   producer_id: 1000
      '0002', //   producer_epoch: 2
      '01', //   verify_only: true
      '02', //   [topics]: COMPACT_ARRAY count 1+1
      '02 61', //     name: COMPACT_STRING "a"
      '02 00000003', //     [partitions]: COMPACT_ARRAY count 1+1: 3
      '00', //     _tagged_fields: none
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    {
      transactions,
      v3AndBelowTransactionalId: '',
      v3AndBelowProducerId: 0,
      v3AndBelowProducerEpoch: 0,
      v3AndBelowTopics: [],
    },
  );

  // Protocol guide, "AddPartitionsToTxn Response (Version: 3) => throttle_time_ms [results_by_topic_v3_and_below]
  //   _tagged_fields", results_by_topic_v3_and_below => name [results_by_partition] _tagged_fields,
  //   results_by_partition => partition_index partition_error_code _tagged_fields
  const byTopic = [
    {
      name: 'a',
      resultsByPartition: [
        { partitionIndex: 0, partitionErrorCode: 0 },
        { partitionIndex: 1, partitionErrorCode: 51 },
      ],
    },
  ];
  response(
    AddPartitionsToTxnApi,
    3,
    { throttleTimeMs: 0, resultsByTopicV3AndBelow: byTopic },
    hex(
      '00000000', // throttle_time_ms: 0
      '02', // [results_by_topic_v3_and_below]: COMPACT_ARRAY count 1+1
      '02 61', //   name: COMPACT_STRING "a"
      '03', //   [results_by_partition]: COMPACT_ARRAY count 2+1
      '00000000 0000 00', //     partition_index 0, partition_error_code 0, _tagged_fields: none
      '00000001 0033 00', //     partition_index 1, partition_error_code 51 (CONCURRENT_TRANSACTIONS), _tagged_fields
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [], resultsByTopicV3AndBelow: byTopic },
  );

  // Protocol guide, "AddPartitionsToTxn Response (Version: 4) => throttle_time_ms error_code [results_by_transaction]
  //   _tagged_fields", results_by_transaction => transactional_id [topic_results] _tagged_fields,
  //   topic_results => name [results_by_partition] _tagged_fields
  const byTxn = [
    {
      transactionalId: 'tx',
      topicResults: [{ name: 'a', resultsByPartition: [{ partitionIndex: 3, partitionErrorCode: 0 }] }],
    },
  ];
  response(
    AddPartitionsToTxnApi,
    4,
    { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: byTxn },
    hex(
      '00000000', // throttle_time_ms: 0
      '0000', // error_code: 0
      '02', // [results_by_transaction]: COMPACT_ARRAY count 1+1
      '03 7478', //   transactional_id: COMPACT_STRING "tx"
      '02', //   [topic_results]: COMPACT_ARRAY count 1+1
      '02 61', //     name: COMPACT_STRING "a"
      '02', //     [results_by_partition]: COMPACT_ARRAY count 1+1
      '00000003 0000 00', //       partition_index 3, partition_error_code 0, _tagged_fields: none
      '00', //     _tagged_fields: none
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
    { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: byTxn, resultsByTopicV3AndBelow: [] },
  );
});

// ---------------------------------------------------------------------------------------------
// AddOffsetsToTxn (key 25) and EndTxn (key 26): flexible from v3; EndTxn v5 returns the producer id/epoch.
// ---------------------------------------------------------------------------------------------
describe('AddOffsetsToTxn and EndTxn vectors', () => {
  const addOffsets = { transactionalId: 'tx', producerId: 1000, producerEpoch: 2, groupId: 'g' };

  // Protocol guide, "AddOffsetsToTxn Request (Version: 0) => transactional_id producer_id producer_epoch group_id"
  request(
    AddOffsetsToTxnApi,
    0,
    addOffsets,
    hex(
      '0002 7478', // transactional_id: STRING "tx"
      '00000000000003e8', // producer_id: 1000
      '0002', // producer_epoch: 2
      '0001 67', // group_id: STRING "g"
    ),
  );

  // Protocol guide, "AddOffsetsToTxn Request (Version: 3) => transactional_id producer_id producer_epoch group_id
  //   _tagged_fields"
  request(
    AddOffsetsToTxnApi,
    3,
    addOffsets,
    hex(
      '03 7478', // transactional_id: COMPACT_STRING "tx"
      '00000000000003e8', // producer_id: 1000
      '0002', // producer_epoch: 2
      '02 67', // group_id: COMPACT_STRING "g"
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "AddOffsetsToTxn Response (Version: 0) => throttle_time_ms error_code"
  response(
    AddOffsetsToTxnApi,
    0,
    { throttleTimeMs: 0, errorCode: 0 },
    hex(
      '00000000', // throttle_time_ms: 0
      '0000', // error_code: 0
    ),
  );

  // Protocol guide, "AddOffsetsToTxn Response (Version: 3) => throttle_time_ms error_code _tagged_fields"
  response(
    AddOffsetsToTxnApi,
    3,
    { throttleTimeMs: 3, errorCode: 51 },
    hex(
      '00000003', // throttle_time_ms: 3
      '0033', // error_code: 51 (CONCURRENT_TRANSACTIONS)
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "EndTxn Request (Version: 0) => transactional_id producer_id producer_epoch committed"
  request(
    EndTxnApi,
    0,
    { transactionalId: 'tx', producerId: 1000, producerEpoch: 2, committed: true },
    hex(
      '0002 7478', // transactional_id: STRING "tx"
      '00000000000003e8', // producer_id: 1000
      '0002', // producer_epoch: 2
      '01', // committed: true
    ),
  );

  // Protocol guide, "EndTxn Request (Version: 3) => transactional_id producer_id producer_epoch committed _tagged_fields"
  request(
    EndTxnApi,
    3,
    { transactionalId: 'tx', producerId: 1000, producerEpoch: 2, committed: false },
    hex(
      '03 7478', // transactional_id: COMPACT_STRING "tx"
      '00000000000003e8', // producer_id: 1000
      '0002', // producer_epoch: 2
      '00', // committed: false (abort)
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "EndTxn Request (Version: 5) => transactional_id producer_id producer_epoch committed _tagged_fields"
  request(
    EndTxnApi,
    5,
    { transactionalId: 'tx', producerId: 4294967297, producerEpoch: 2, committed: true },
    hex(
      '03 7478', // transactional_id: COMPACT_STRING "tx"
      '0000000100000001', // producer_id: 2^32 + 1
      '0002', // producer_epoch: 2
      '01', // committed: true
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "EndTxn Response (Version: 0) => throttle_time_ms error_code"
  response(
    EndTxnApi,
    0,
    { throttleTimeMs: 0, errorCode: 0 },
    hex(
      '00000000', // throttle_time_ms: 0
      '0000', // error_code: 0
    ),
    { throttleTimeMs: 0, errorCode: 0, producerId: -1, producerEpoch: -1 },
  );

  // Protocol guide, "EndTxn Response (Version: 3) => throttle_time_ms error_code _tagged_fields"
  response(
    EndTxnApi,
    3,
    { throttleTimeMs: 0, errorCode: 47 },
    hex(
      '00000000', // throttle_time_ms: 0
      '002f', // error_code: 47 (INVALID_PRODUCER_EPOCH)
      '00', // _tagged_fields: none
    ),
    { throttleTimeMs: 0, errorCode: 47, producerId: -1, producerEpoch: -1 },
  );

  // Protocol guide, "EndTxn Response (Version: 5) => throttle_time_ms error_code producer_id producer_epoch
  //   _tagged_fields"
  response(
    EndTxnApi,
    5,
    { throttleTimeMs: 0, errorCode: 0, producerId: 1000, producerEpoch: 3 },
    hex(
      '00000000', // throttle_time_ms: 0
      '0000', // error_code: 0
      '00000000000003e8', // producer_id: 1000
      '0003', // producer_epoch: 3 (bumped by the coordinator)
      '00', // _tagged_fields: none
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// TxnOffsetCommit (key 28): committed_leader_epoch from v2; flexible, generation_id, member_id and
// group_instance_id from v3.
// ---------------------------------------------------------------------------------------------
describe('TxnOffsetCommit vectors', () => {
  const v3Defaults = { generationId: -1, memberId: '', groupInstanceId: null };

  // Protocol guide, "TxnOffsetCommit Request (Version: 0) => transactional_id group_id producer_id producer_epoch
  //   [topics]", topics => name [partitions], partitions => partition_index committed_offset committed_metadata
  request(
    TxnOffsetCommitApi,
    0,
    {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 1000,
      producerEpoch: 2,
      topics: [
        {
          name: 'a',
          partitions: [
            { partitionIndex: 0, committedOffset: 100, committedMetadata: '' },
            { partitionIndex: 1, committedOffset: 200, committedMetadata: null },
          ],
        },
      ],
    },
    hex(
      '0002 7478', // transactional_id: STRING "tx"
      '0001 67', // group_id: STRING "g"
      '00000000000003e8', // producer_id: 1000
      '0002', // producer_epoch: 2
      '00000001', // [topics]: ARRAY count 1
      '0001 61', //   name: STRING "a"
      '00000002', //   [partitions]: ARRAY count 2
      '00000000', //     partition_index: 0
      '0000000000000064', //     committed_offset: 100
      '0000', //     committed_metadata: NULLABLE_STRING ""
      '00000001', //     partition_index: 1
      '00000000000000c8', //     committed_offset: 200
      'ffff', //     committed_metadata: NULLABLE_STRING null
    ),
    {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 1000,
      producerEpoch: 2,
      ...v3Defaults,
      topics: [
        {
          name: 'a',
          partitions: [
            { partitionIndex: 0, committedOffset: 100, committedLeaderEpoch: -1, committedMetadata: '' },
            { partitionIndex: 1, committedOffset: 200, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    },
  );

  // Protocol guide, "TxnOffsetCommit Request (Version: 2) => transactional_id group_id producer_id producer_epoch
  //   [topics]", partitions => partition_index committed_offset committed_leader_epoch committed_metadata
  const v2Topics = [
    {
      name: 'a',
      partitions: [
        { partitionIndex: 0, committedOffset: 100, committedLeaderEpoch: 4, committedMetadata: 'm' },
      ],
    },
  ];
  request(
    TxnOffsetCommitApi,
    2,
    { transactionalId: 'tx', groupId: 'g', producerId: 1000, producerEpoch: 2, topics: v2Topics },
    hex(
      '0002 7478', // transactional_id: STRING "tx"
      '0001 67', // group_id: STRING "g"
      '00000000000003e8', // producer_id: 1000
      '0002', // producer_epoch: 2
      '00000001', // [topics]: ARRAY count 1
      '0001 61', //   name: STRING "a"
      '00000001', //   [partitions]: ARRAY count 1
      '00000000', //     partition_index: 0
      '0000000000000064', //     committed_offset: 100
      '00000004', //     committed_leader_epoch: 4
      '0001 6d', //     committed_metadata: NULLABLE_STRING "m"
    ),
    {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 1000,
      producerEpoch: 2,
      ...v3Defaults,
      topics: v2Topics,
    },
  );

  // Protocol guide, "TxnOffsetCommit Request (Version: 3) => transactional_id group_id producer_id producer_epoch
  //   generation_id member_id group_instance_id [topics] _tagged_fields"
  request(
    TxnOffsetCommitApi,
    3,
    {
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 1000,
      producerEpoch: 2,
      generationId: 3,
      memberId: 'm',
      groupInstanceId: 'i',
      topics: [
        {
          name: 'a',
          partitions: [
            { partitionIndex: 0, committedOffset: 100, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    },
    hex(
      '03 7478', // transactional_id: COMPACT_STRING "tx"
      '02 67', // group_id: COMPACT_STRING "g"
      '00000000000003e8', // producer_id: 1000
      '0002', // producer_epoch: 2
      '00000003', // generation_id: 3
      '02 6d', // member_id: COMPACT_STRING "m"
      '02 69', // group_instance_id: COMPACT_NULLABLE_STRING "i"
      '02', // [topics]: COMPACT_ARRAY count 1+1
      '02 61', //   name: COMPACT_STRING "a"
      '02', //   [partitions]: COMPACT_ARRAY count 1+1
      '00000000', //     partition_index: 0
      '0000000000000064', //     committed_offset: 100
      'ffffffff', //     committed_leader_epoch: -1
      '00', //     committed_metadata: COMPACT_NULLABLE_STRING null
      '00', //     _tagged_fields: none
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "TxnOffsetCommit Response (Version: 0) => throttle_time_ms [topics]",
  //   topics => name [partitions], partitions => partition_index error_code
  response(
    TxnOffsetCommitApi,
    0,
    {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'a',
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 51 },
          ],
        },
      ],
    },
    hex(
      '00000000', // throttle_time_ms: 0
      '00000001', // [topics]: ARRAY count 1
      '0001 61', //   name: STRING "a"
      '00000002', //   [partitions]: ARRAY count 2
      '00000000 0000', //     partition_index 0, error_code 0
      '00000001 0033', //     partition_index 1, error_code 51
    ),
  );

  // Protocol guide, "TxnOffsetCommit Response (Version: 2) => throttle_time_ms [topics]"
  response(
    TxnOffsetCommitApi,
    2,
    { throttleTimeMs: 7, topics: [{ name: 'bc', partitions: [{ partitionIndex: 2, errorCode: 0 }] }] },
    hex(
      '00000007', // throttle_time_ms: 7
      '00000001', // [topics]: ARRAY count 1
      '0002 6263', //   name: STRING "bc"
      '00000001', //   [partitions]: ARRAY count 1
      '00000002 0000', //     partition_index 2, error_code 0
    ),
  );

  // Protocol guide, "TxnOffsetCommit Response (Version: 3) => throttle_time_ms [topics] _tagged_fields"
  response(
    TxnOffsetCommitApi,
    3,
    { throttleTimeMs: 0, topics: [{ name: 'a', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] },
    hex(
      '00000000', // throttle_time_ms: 0
      '02', // [topics]: COMPACT_ARRAY count 1+1
      '02 61', //   name: COMPACT_STRING "a"
      '02', //   [partitions]: COMPACT_ARRAY count 1+1
      '00000000 0000 00', //     partition_index 0, error_code 0, _tagged_fields: none
      '00', //   _tagged_fields: none
      '00', // _tagged_fields: none
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// SaslHandshake (key 17, never flexible) and SaslAuthenticate (key 36, flexible from v2).
// ---------------------------------------------------------------------------------------------
describe('SaslHandshake and SaslAuthenticate vectors', () => {
  // Protocol guide, "SaslHandshake Request (Version: 0) => mechanism"
  request(
    SaslHandshakeApi,
    0,
    { mechanism: 'PLAIN' },
    hex(
      '0005 504c41494e', // mechanism: STRING "PLAIN"
    ),
  );

  // Protocol guide, "SaslHandshake Request (Version: 1) => mechanism"
  request(
    SaslHandshakeApi,
    1,
    { mechanism: 'SCRAM-SHA-256' },
    hex(
      '000d 534352414d 2d 534841 2d 323536', // mechanism: STRING "SCRAM-SHA-256" (13 bytes)
    ),
  );

  // Protocol guide, "SaslHandshake Response (Version: 0) => error_code [mechanisms]"
  response(
    SaslHandshakeApi,
    0,
    { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] },
    hex(
      '0000', // error_code: 0
      '00000002', // [mechanisms]: ARRAY count 2
      '0005 504c41494e', //   STRING "PLAIN"
      '000d 534352414d 2d 534841 2d 323536', //   STRING "SCRAM-SHA-256"
    ),
  );

  // Protocol guide, "SaslHandshake Response (Version: 1) => error_code [mechanisms]"
  response(
    SaslHandshakeApi,
    1,
    { errorCode: 33, mechanisms: ['PLAIN'] },
    hex(
      '0021', // error_code: 33 (UNSUPPORTED_SASL_MECHANISM)
      '00000001', // [mechanisms]: ARRAY count 1
      '0005 504c41494e', //   STRING "PLAIN"
    ),
  );

  const plain = hex('00750070'); // PLAIN initial response "\0u\0p"

  // Protocol guide, "SaslAuthenticate Request (Version: 0) => auth_bytes"
  request(
    SaslAuthenticateApi,
    0,
    { authBytes: plain },
    hex(
      '00000004 00750070', // auth_bytes: BYTES len 4
    ),
  );

  // Protocol guide, "SaslAuthenticate Request (Version: 1) => auth_bytes"
  request(
    SaslAuthenticateApi,
    1,
    { authBytes: plain },
    hex(
      '00000004 00750070', // auth_bytes: BYTES len 4
    ),
  );

  // Protocol guide, "SaslAuthenticate Request (Version: 2) => auth_bytes _tagged_fields"
  request(
    SaslAuthenticateApi,
    2,
    { authBytes: plain },
    hex(
      '05 00750070', // auth_bytes: COMPACT_BYTES len 4+1
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "SaslAuthenticate Request (Version: 2) => auth_bytes _tagged_fields", with 200 auth bytes so
  // the COMPACT_BYTES length (201) takes a two-byte UNSIGNED_VARINT: 201 = 0b1_1001001 -> c9 01
  request(
    SaslAuthenticateApi,
    2,
    { authBytes: Buffer.alloc(200, 0x61) },
    hex(
      'c901', // auth_bytes: COMPACT_BYTES len 200+1 (varint c9 01)
      '61'.repeat(200), //   200 x 'a'
      '00', // _tagged_fields: none
    ),
  );

  // Protocol guide, "SaslAuthenticate Response (Version: 0) => error_code error_message auth_bytes"
  response(
    SaslAuthenticateApi,
    0,
    { errorCode: 0, errorMessage: null, authBytes: hex('') },
    hex(
      '0000', // error_code: 0
      'ffff', // error_message: NULLABLE_STRING null
      '00000000', // auth_bytes: BYTES len 0
    ),
    { errorCode: 0, errorMessage: null, authBytes: hex(''), sessionLifetimeMs: 0 },
  );

  // Protocol guide, "SaslAuthenticate Response (Version: 1) => error_code error_message auth_bytes session_lifetime_ms"
  response(
    SaslAuthenticateApi,
    1,
    { errorCode: 0, errorMessage: null, authBytes: hex('6f6b'), sessionLifetimeMs: 3600000 },
    hex(
      '0000', // error_code: 0
      'ffff', // error_message: null
      '00000002 6f6b', // auth_bytes: BYTES len 2, "ok"
      '000000000036ee80', // session_lifetime_ms: 3600000
    ),
  );

  // Protocol guide, "SaslAuthenticate Response (Version: 2) => error_code error_message auth_bytes
  //   session_lifetime_ms _tagged_fields"
  response(
    SaslAuthenticateApi,
    2,
    { errorCode: 58, errorMessage: 'bad', authBytes: hex(''), sessionLifetimeMs: 0 },
    hex(
      '003a', // error_code: 58 (SASL_AUTHENTICATION_FAILED)
      '04 626164', // error_message: COMPACT_NULLABLE_STRING "bad"
      '01', // auth_bytes: COMPACT_BYTES len 0+1
      '0000000000000000', // session_lifetime_ms: 0
      '00', // _tagged_fields: none
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Malformed input: truncation and forged lengths must end in a ProtocolError, never a RangeError,
// never an allocation sized by the forged length.
// ---------------------------------------------------------------------------------------------
describe('malformed input', () => {
  it('every vector above with its last byte dropped throws a ProtocolError', async (t) => {
    assert.ok(VECTORS.length > 50, `expected the vectors above to be registered, got ${VECTORS.length}`);
    for (const v of VECTORS) {
      if (v.bytes.length === 0) continue;
      await t.test(`${v.section} minus its last byte`, () => {
        const truncated = v.bytes.subarray(0, v.bytes.length - 1);
        assert.throws(() => v.decode(new Reader(truncated)), isProtocolError);
      });
    }
  });

  it('a truncated Produce v10 response throws a ProtocolError named "ProtocolError"', () => {
    // Protocol guide, "Produce Response (Version: 10)": the vector above without its last byte.
    const v = VECTORS.find((x) => x.section === 'Produce Response (Version: 10)');
    assert.ok(v);
    const truncated = v.bytes.subarray(0, v.bytes.length - 1);
    assert.throws(
      () => ProduceApi.decodeResponse(new Reader(truncated), 10),
      (err: unknown) => err instanceof Error && err.name === 'ProtocolError',
    );
  });

  it('a COMPACT_ARRAY with a forged count of 2^32 - 2 throws a ProtocolError (Metadata Response v9 brokers)', () => {
    const bytes = hex(
      '00000000', // throttle_time_ms: 0
      'ffffffff0f', // [brokers]: COMPACT_ARRAY, UNSIGNED_VARINT 2^32 - 1, i.e. count 2^32 - 2
      '00', // one byte left where billions of brokers are claimed
    );
    assert.throws(() => MetadataApi.decodeResponse(new Reader(bytes), 9), isProtocolError);
  });

  it('a COMPACT_ARRAY with a forged count of 2^31 - 2 throws a ProtocolError (Produce Request v9 topic_data)', () => {
    const bytes = hex(
      '00', // transactional_id: null
      'ffff', // acks: -1
      '00007530', // timeout_ms: 30000
      'ffffffff07', // [topic_data]: COMPACT_ARRAY, UNSIGNED_VARINT 2^31 - 1, i.e. count 2^31 - 2
      '02 61', // the start of one topic
    );
    assert.throws(() => ProduceApi.decodeRequest(new Reader(bytes), 9), isProtocolError);
  });

  it('a COMPACT_ARRAY with a forged count throws a ProtocolError (ApiVersions Response v3 api_keys)', () => {
    const bytes = hex(
      '0000', // error_code: 0
      '80808080 08', // [api_keys]: UNSIGNED_VARINT 2^31 (count 2^31 - 1)
      '0003 0000 000d 00', // one real entry
    );
    assert.throws(() => ApiVersionsApi.decodeResponse(new Reader(bytes), 3), isProtocolError);
  });

  it('a COMPACT_ARRAY of INT32 claiming more elements than the bytes left throws a ProtocolError', () => {
    // Protocol guide, "Metadata Response (Version: 9)": replica_nodes claims 3 INT32s but only 8 bytes follow.
    const bytes = hex(
      '00000000', // throttle_time_ms
      '01', // [brokers]: empty
      '00', // cluster_id: null
      '00000001', // controller_id
      '02', // [topics]: 1
      '0000 02 61 00', //   error_code, name "a", is_internal
      '02', //   [partitions]: 1
      '0000 00000000 00000001 00000000', //     error_code, partition_index, leader_id, leader_epoch
      '04', //     [replica_nodes]: COMPACT_ARRAY count 3+1 ...
      '00000001 00000002', //     ... but only two INT32s, and nothing after
    );
    assert.throws(() => MetadataApi.decodeResponse(new Reader(bytes), 9), isProtocolError);
  });

  it('an ARRAY with a forged INT32 count throws a ProtocolError (Metadata Response v0 brokers)', () => {
    const bytes = hex(
      '7fffffff', // [brokers]: ARRAY count 2^31 - 1
      '00000001 0001 68 00002384', // one broker
    );
    assert.throws(() => MetadataApi.decodeResponse(new Reader(bytes), 0), isProtocolError);
  });

  it('a COMPACT_STRING longer than the input throws a ProtocolError (ApiVersions Request v3)', () => {
    const bytes = hex(
      'ffffffff0f', // client_software_name: COMPACT_STRING length 2^32 - 2
      '74726962', // "trib"
    );
    assert.throws(() => ApiVersionsApi.decodeRequest(new Reader(bytes), 3), isProtocolError);
  });

  it('a tagged field whose size exceeds the input throws a ProtocolError (Produce Response v10)', () => {
    const bytes = hex(
      '01', // [responses]: empty
      '00000000', // throttle_time_ms
      '01', // _tagged_fields: 1 field
      '00 ffffff7f', //   tag 0 (node_endpoints), size 2^28 - 1
      '02 00000002 02 68 00002384 00 00', //   one endpoint, far short of the claimed size
    );
    assert.throws(() => ProduceApi.decodeResponse(new Reader(bytes), 10), isProtocolError);
  });

  it('a NULLABLE_BYTES length beyond the input throws a ProtocolError (Produce Request v3 records)', () => {
    const bytes = hex(
      'ffff', // transactional_id: null
      'ffff', // acks
      '00007530', // timeout_ms
      '00000001', // [topic_data]: 1
      '0001 61', //   name "a"
      '00000001', //   [partition_data]: 1
      '00000000', //     index 0
      '7fffffff', //     records: NULLABLE_BYTES length 2^31 - 1
      'deadbeef', //     ... but four bytes
    );
    assert.throws(() => ProduceApi.decodeRequest(new Reader(bytes), 3), isProtocolError);
  });
});
