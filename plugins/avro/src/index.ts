/**
 * @tributary/avro: Avro serializers (avsc) for Tributary, optionally in the
 * Confluent Schema Registry wire format. See docs/serialization.md.
 */
export { type AvroSchemaInput, AvroSerializer, type AvroSerializerOptions } from './avro-serializer.js';
export {
  avroLogicalTypes,
  DecimalType,
  LogicalValueError,
  TimestampMillisType,
  UuidType,
} from './logical-types.js';
