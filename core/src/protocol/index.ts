export { type ApiDescriptor, isFlexible, requestHeaderVersion, responseHeaderVersion } from './api.js';
export { ApiKey, apiName, type ClientApi, clientApi } from './api-keys.js';
export * from './apis/index.js';
export * from './compression/index.js';
export { crc32c, crc32cImplementation } from './crc32c.js';
export { ErrorCode, type ErrorCodeInfo, errorCodeInfo, isInvalidMetadataError } from './error-codes.js';
export {
  type RequestHeader,
  readRequestHeader,
  readResponseHeader,
  writeRequestHeader,
  writeResponseHeader,
} from './header.js';
export {
  encodeProduceRequestBody,
  type ProducePartitionBatch,
  type ProduceTopicBatches,
} from './produce-request.js';
export { Reader } from './reader.js';
export {
  type DecodedBatch,
  type DecodedRecord,
  decodeRecordBatches,
  estimateSizeInBytesUpperBound,
  type ProducerStamp,
  RECORD_BATCH_OVERHEAD,
  RecordBatchBuilder,
  type RecordHeader,
  restampBatch,
  TimestampType,
} from './record-batch.js';
export {
  type ApiVersionsOutcome,
  BrokerApiVersions,
  chooseProduceVersion,
  interpretApiVersionsResponse,
  type ProduceVersionContext,
} from './versions.js';
export { sizeOfUvarint, sizeOfVarlong, Writer } from './writer.js';
