/**
 * @tributary/schema-registry: a Confluent Schema Registry client, the
 * subject name strategies, the Confluent wire format, and the per-topic
 * schema-id resolution that @tributary/avro, @tributary/protobuf and the
 * JSON Schema serializer here share. See docs/serialization.md.
 */
export { SchemaRegistryError, WireFormatError } from './errors.js';
export {
  JsonSchemaSerializer,
  type JsonSchemaSerializerOptions,
  type JsonSchemaValidator,
} from './json-schema-serializer.js';
export {
  type RegisteredSchema,
  type SchemaInfo,
  type SchemaReference,
  SchemaRegistryClient,
  type SchemaRegistryClientOptions,
  SchemaType,
} from './schema-registry-client.js';
export {
  type ResolvedSchema,
  type SchemaRegistrySerdeOptions,
  SchemaResolver,
  type SchemaSource,
} from './schema-resolver.js';
export {
  isTopicIndependent,
  recordNameStrategy,
  type SubjectNameStrategy,
  topicNameStrategy,
  topicRecordNameStrategy,
} from './subject-name-strategy.js';
export {
  encodeHeader,
  encodeMessageIndexes,
  frame,
  HEADER_SIZE,
  MAGIC_BYTE,
  parseWireFormat,
  type WireFormat,
} from './wire-format.js';
