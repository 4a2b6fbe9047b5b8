import {
  create,
  type DescMessage,
  isMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import type { RecordHeader, Serializer } from '@tributary/core';
import { SerializationError } from '@tributary/core';
import {
  frame,
  type SchemaRegistrySerdeOptions,
  SchemaResolver,
  type SchemaSource,
} from '@tributary/schema-registry';
import { checkMessage } from './check-value.js';
import { messageIndexes } from './message-indexes.js';
import { protobufSchemaInfo } from './protobuf-schema.js';

export interface ProtobufSerializerOptions extends SchemaRegistrySerdeOptions {
  /**
   * Check every value's field types against the descriptor before encoding
   * (see check-value.ts). Default true. Turning it off saves the walk over
   * the value; @bufbuild/protobuf then coerces some wrong types silently.
   */
  validate?: boolean | undefined;
}

/**
 * Protobuf messages of one type, encoded by @bufbuild/protobuf (v2)
 * `toBinary`, optionally in the Confluent wire format: magic byte, schema
 * id, the message-index path of the type in its file, then the payload.
 *
 * Takes a message (`create(OrderSchema, ...)`) or a plain init object of the
 * same shape. A value whose field has the wrong type, or a field the message
 * does not have, throws a SerializationError naming the path
 * (`items[2].quantity should be int32, got the string "3"`). A null value is
 * a tombstone (no bytes).
 *
 * Schema ids are resolved in `prepare()`, which createProducer awaits, for
 * the topics listed in `topics` (or once, with recordNameStrategy):
 * `serialize()` is synchronous and does no I/O. With a registry the
 * message's file is registered as its serialized FileDescriptorProto, its
 * imports as references (see protobuf-schema.ts).
 */
export class ProtobufSerializer<Desc extends DescMessage = DescMessage>
  implements Serializer<MessageShape<Desc> | MessageInitShape<Desc> | null>
{
  readonly schema: Desc;
  /** The message's index path in its file (written after the schema id). */
  readonly messageIndexes: readonly number[];
  readonly #resolver: SchemaResolver<Desc>;
  readonly #validate: boolean;

  constructor(schema: Desc, options: ProtobufSerializerOptions = {}) {
    this.schema = schema;
    this.messageIndexes = Object.freeze(messageIndexes(schema));
    this.#validate = options.validate ?? true;
    const source: SchemaSource<Desc> = {
      schemaType: 'PROTOBUF',
      recordName: schema.typeName,
      local: schema,
      messageIndexes: this.messageIndexes,
      schemaInfo: (client, autoRegister, normalize) =>
        protobufSchemaInfo(schema.file, client, autoRegister, normalize),
      // The registry's copy is .proto text we do not compile: records keep the local descriptor, with the registry's id.
      fromRegistry: () => schema,
    };
    this.#resolver = new SchemaResolver(options, source, 'ProtobufSerializer');
  }

  /** Resolves the schema ids of the configured topics. Awaited by createProducer before the first send. */
  prepare(): Promise<void> {
    return this.#resolver.prepare();
  }

  /** Resolves the schema ids of more topics, for a producer already running. */
  prepareTopics(topics: readonly string[]): Promise<void> {
    return this.#resolver.prepare(topics);
  }

  serialize(
    topic: string,
    data: MessageShape<Desc> | MessageInitShape<Desc> | null,
    _headers: RecordHeader[],
  ): Uint8Array | null {
    if (data === null) return null;
    const { header } = this.#resolver.forTopic(topic);
    const schema = this.schema;
    if (this.#validate) {
      const problem = checkMessage(schema, data);
      if (problem !== undefined) {
        const where = problem.path === '' ? 'the value' : `field ${problem.path}`;
        throw new SerializationError(
          `the value does not match protobuf message ${schema.typeName}: ${where} ${problem.problem}`,
        );
      }
    } else if (typeof (data as { $typeName?: unknown }).$typeName === 'string' && !isMessage(data, schema)) {
      throw new SerializationError(
        `expected a ${schema.typeName} message, got a ${(data as { $typeName: string }).$typeName}`,
      );
    }
    let payload: Uint8Array;
    try {
      const message = isMessage(data, schema) ? data : create(schema, data as MessageInitShape<Desc>);
      payload = toBinary(schema, message);
    } catch (err) {
      throw new SerializationError(
        `could not encode protobuf message ${schema.typeName}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return header === null ? payload : frame(header, payload);
  }
}
