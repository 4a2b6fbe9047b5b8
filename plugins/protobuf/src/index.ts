/**
 * @tributary/protobuf: Protobuf serializers (@bufbuild/protobuf v2) for
 * Tributary, optionally in the Confluent Schema Registry wire format with the
 * message-index path. See docs/serialization.md.
 */
export { checkMessage, type InvalidField } from './check-value.js';
export { messageIndexes } from './message-indexes.js';
export { fileSchemaText, isBuiltinFile, protobufSchemaInfo } from './protobuf-schema.js';
export { ProtobufSerializer, type ProtobufSerializerOptions } from './protobuf-serializer.js';
