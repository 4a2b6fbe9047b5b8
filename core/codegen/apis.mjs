// Tributary's protocol definitions: the request and response layouts of every
// API the producer speaks, written from the Kafka protocol guide (Kafka 4.1)
// in our own compact form. `generate.mjs` turns them into
// core/src/protocol/apis/*.ts; CI checks the generated files are current.
//
// A field is f(name, type, versions?, options?, fields?):
//   type      int8 int16 uint16 int32 int64 float64 bool string bytes uuid records,
//             a trailing '?' for nullable in every version the field exists,
//             '[]Name' an array of the struct Name (its fields follow),
//             '[]int32' / '[]string' an array of a primitive, 'Name' one struct.
//   versions  '3+', '0-12', '8-10'; omitted means every version of the API.
//   options   { nullable: '10+' } nullable from a version on (arrays and strings),
//             { default: x } what an omitted field encodes as and a version
//             without the field decodes to (else 0, '', false, null, []),
//             { tag: n } a tagged field in flexible versions.
// A struct used in several places is declared once with s(name, fields) and
// referenced by its name.

const f = (name, type, versions, options, fields) => ({
  name,
  type,
  versions,
  options: options ?? {},
  fields,
});
const s = (name, fields) => ({ struct: name, fields });

export const apis = [
  {
    name: 'Produce',
    key: 0,
    // Kafka 4.x advertises a minimum of 0 (for old librdkafka) but rejects v0-v2;
    // message format v2 (Produce v3) is our floor.
    versions: '3-13',
    flexible: 9,
    request: [
      f('transactionalId', 'string?', '3+'),
      f('acks', 'int16'),
      f('timeoutMs', 'int32'),
      f('topicData', '[]TopicProduceData', undefined, {}, [
        f('name', 'string', '0-12'),
        f('topicId', 'uuid', '13+'),
        f('partitionData', '[]PartitionProduceData', undefined, {}, [
          f('index', 'int32'),
          f('records', 'records?'),
        ]),
      ]),
    ],
    response: [
      f('responses', '[]TopicProduceResponse', undefined, {}, [
        f('name', 'string', '0-12'),
        f('topicId', 'uuid', '13+'),
        f('partitionResponses', '[]PartitionProduceResponse', undefined, {}, [
          f('index', 'int32'),
          f('errorCode', 'int16'),
          f('baseOffset', 'int64'),
          f('logAppendTimeMs', 'int64', '2+', { default: -1 }),
          f('logStartOffset', 'int64', '5+', { default: -1 }),
          f('recordErrors', '[]BatchIndexAndErrorMessage', '8+', {}, [
            f('batchIndex', 'int32'),
            f('batchIndexErrorMessage', 'string?'),
          ]),
          f('errorMessage', 'string?', '8+'),
          f('currentLeader', 'LeaderIdAndEpoch', '10+', { tag: 0 }, [
            f('leaderId', 'int32', undefined, { default: -1 }),
            f('leaderEpoch', 'int32', undefined, { default: -1 }),
          ]),
        ]),
      ]),
      f('throttleTimeMs', 'int32', '1+'),
      f('nodeEndpoints', '[]NodeEndpoint', '10+', { tag: 0 }, [
        f('nodeId', 'int32'),
        f('host', 'string'),
        f('port', 'int32'),
        f('rack', 'string?'),
      ]),
    ],
  },
  {
    name: 'Metadata',
    key: 3,
    versions: '0-13',
    flexible: 9,
    request: [
      f('topics', '[]MetadataRequestTopic', undefined, { nullable: '1+' }, [
        f('topicId', 'uuid', '10+'),
        f('name', 'string', undefined, { nullable: '10+' }),
      ]),
      f('allowAutoTopicCreation', 'bool', '4+', { default: true }),
      f('includeClusterAuthorizedOperations', 'bool', '8-10'),
      f('includeTopicAuthorizedOperations', 'bool', '8+'),
    ],
    response: [
      f('throttleTimeMs', 'int32', '3+'),
      f('brokers', '[]MetadataResponseBroker', undefined, {}, [
        f('nodeId', 'int32'),
        f('host', 'string'),
        f('port', 'int32'),
        f('rack', 'string?', '1+'),
      ]),
      f('clusterId', 'string?', '2+'),
      f('controllerId', 'int32', '1+', { default: -1 }),
      f('topics', '[]MetadataResponseTopic', undefined, {}, [
        f('errorCode', 'int16'),
        f('name', 'string', undefined, { nullable: '12+' }),
        f('topicId', 'uuid', '10+'),
        f('isInternal', 'bool', '1+'),
        f('partitions', '[]MetadataResponsePartition', undefined, {}, [
          f('errorCode', 'int16'),
          f('partitionIndex', 'int32'),
          f('leaderId', 'int32'),
          f('leaderEpoch', 'int32', '7+', { default: -1 }),
          f('replicaNodes', '[]int32'),
          f('isrNodes', '[]int32'),
          f('offlineReplicas', '[]int32', '5+'),
        ]),
        f('topicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
      ]),
      f('clusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
      f('errorCode', 'int16', '13+'),
    ],
  },
  {
    name: 'ApiVersions',
    key: 18,
    versions: '0-4',
    flexible: 3,
    request: [f('clientSoftwareName', 'string', '3+'), f('clientSoftwareVersion', 'string', '3+')],
    response: [
      f('errorCode', 'int16'),
      f('apiKeys', '[]ApiVersion', undefined, {}, [
        f('apiKey', 'int16'),
        f('minVersion', 'int16'),
        f('maxVersion', 'int16'),
      ]),
      f('throttleTimeMs', 'int32', '1+'),
      f('supportedFeatures', '[]SupportedFeatureKey', '3+', { tag: 0 }, [
        f('name', 'string'),
        f('minVersion', 'int16'),
        f('maxVersion', 'int16'),
      ]),
      f('finalizedFeaturesEpoch', 'int64', '3+', { tag: 1, default: -1 }),
      f('finalizedFeatures', '[]FinalizedFeatureKey', '3+', { tag: 2 }, [
        f('name', 'string'),
        f('maxVersionLevel', 'int16'),
        f('minVersionLevel', 'int16'),
      ]),
      f('zkMigrationReady', 'bool', '3+', { tag: 3 }),
    ],
  },
  {
    name: 'InitProducerId',
    key: 22,
    versions: '0-5',
    flexible: 2,
    request: [
      f('transactionalId', 'string?'),
      f('transactionTimeoutMs', 'int32'),
      f('producerId', 'int64', '3+', { default: -1 }),
      f('producerEpoch', 'int16', '3+', { default: -1 }),
    ],
    response: [
      f('throttleTimeMs', 'int32'),
      f('errorCode', 'int16'),
      f('producerId', 'int64', undefined, { default: -1 }),
      f('producerEpoch', 'int16'),
    ],
  },
  {
    name: 'SaslHandshake',
    key: 17,
    versions: '0-1',
    flexible: null,
    request: [f('mechanism', 'string')],
    response: [f('errorCode', 'int16'), f('mechanisms', '[]string')],
  },
  {
    name: 'SaslAuthenticate',
    key: 36,
    versions: '0-2',
    flexible: 2,
    request: [f('authBytes', 'bytes')],
    response: [
      f('errorCode', 'int16'),
      f('errorMessage', 'string?'),
      f('authBytes', 'bytes'),
      f('sessionLifetimeMs', 'int64', '1+'),
    ],
  },
  {
    name: 'FindCoordinator',
    key: 10,
    versions: '0-6',
    flexible: 3,
    request: [f('key', 'string', '0-3'), f('keyType', 'int8', '1+'), f('coordinatorKeys', '[]string', '4+')],
    response: [
      f('throttleTimeMs', 'int32', '1+'),
      f('errorCode', 'int16', '0-3'),
      f('errorMessage', 'string?', '1-3'),
      f('nodeId', 'int32', '0-3'),
      f('host', 'string', '0-3'),
      f('port', 'int32', '0-3'),
      f('coordinators', '[]Coordinator', '4+', {}, [
        f('key', 'string'),
        f('nodeId', 'int32'),
        f('host', 'string'),
        f('port', 'int32'),
        f('errorCode', 'int16'),
        f('errorMessage', 'string?'),
      ]),
    ],
  },
  {
    name: 'AddPartitionsToTxn',
    key: 24,
    versions: '0-5',
    flexible: 3,
    structs: [
      s('AddPartitionsToTxnTopic', [f('name', 'string'), f('partitions', '[]int32')]),
      s('AddPartitionsToTxnTopicResult', [
        f('name', 'string'),
        f('resultsByPartition', '[]AddPartitionsToTxnPartitionResult', undefined, {}, [
          f('partitionIndex', 'int32'),
          f('partitionErrorCode', 'int16'),
        ]),
      ]),
    ],
    request: [
      f('transactions', '[]AddPartitionsToTxnTransaction', '4+', {}, [
        f('transactionalId', 'string'),
        f('producerId', 'int64'),
        f('producerEpoch', 'int16'),
        f('verifyOnly', 'bool'),
        f('topics', '[]AddPartitionsToTxnTopic'),
      ]),
      f('v3AndBelowTransactionalId', 'string', '0-3'),
      f('v3AndBelowProducerId', 'int64', '0-3'),
      f('v3AndBelowProducerEpoch', 'int16', '0-3'),
      f('v3AndBelowTopics', '[]AddPartitionsToTxnTopic', '0-3'),
    ],
    response: [
      f('throttleTimeMs', 'int32'),
      f('errorCode', 'int16', '4+'),
      f('resultsByTransaction', '[]AddPartitionsToTxnResult', '4+', {}, [
        f('transactionalId', 'string'),
        f('topicResults', '[]AddPartitionsToTxnTopicResult'),
      ]),
      f('resultsByTopicV3AndBelow', '[]AddPartitionsToTxnTopicResult', '0-3'),
    ],
  },
  {
    name: 'AddOffsetsToTxn',
    key: 25,
    versions: '0-4',
    flexible: 3,
    request: [
      f('transactionalId', 'string'),
      f('producerId', 'int64'),
      f('producerEpoch', 'int16'),
      f('groupId', 'string'),
    ],
    response: [f('throttleTimeMs', 'int32'), f('errorCode', 'int16')],
  },
  {
    name: 'EndTxn',
    key: 26,
    versions: '0-5',
    flexible: 3,
    request: [
      f('transactionalId', 'string'),
      f('producerId', 'int64'),
      f('producerEpoch', 'int16'),
      f('committed', 'bool'),
    ],
    response: [
      f('throttleTimeMs', 'int32'),
      f('errorCode', 'int16'),
      f('producerId', 'int64', '5+', { default: -1 }),
      f('producerEpoch', 'int16', '5+', { default: -1 }),
    ],
  },
  {
    name: 'TxnOffsetCommit',
    key: 28,
    versions: '0-5',
    flexible: 3,
    request: [
      f('transactionalId', 'string'),
      f('groupId', 'string'),
      f('producerId', 'int64'),
      f('producerEpoch', 'int16'),
      f('generationId', 'int32', '3+', { default: -1 }),
      f('memberId', 'string', '3+'),
      f('groupInstanceId', 'string?', '3+'),
      f('topics', '[]TxnOffsetCommitRequestTopic', undefined, {}, [
        f('name', 'string'),
        f('partitions', '[]TxnOffsetCommitRequestPartition', undefined, {}, [
          f('partitionIndex', 'int32'),
          f('committedOffset', 'int64'),
          f('committedLeaderEpoch', 'int32', '2+', { default: -1 }),
          f('committedMetadata', 'string?'),
        ]),
      ]),
    ],
    response: [
      f('throttleTimeMs', 'int32'),
      f('topics', '[]TxnOffsetCommitResponseTopic', undefined, {}, [
        f('name', 'string'),
        f('partitions', '[]TxnOffsetCommitResponsePartition', undefined, {}, [
          f('partitionIndex', 'int32'),
          f('errorCode', 'int16'),
        ]),
      ]),
    ],
  },
];
