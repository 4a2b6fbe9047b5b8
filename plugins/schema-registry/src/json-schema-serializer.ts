import type { RecordHeader, Serializer } from '@tributary/core';
import { SerializationError } from '@tributary/core';
import type { SchemaInfo } from './schema-registry-client.js';
import { type SchemaRegistrySerdeOptions, SchemaResolver, type SchemaSource } from './schema-resolver.js';

/**
 * A validator for the value, called before it is encoded: an Ajv compiled
 * schema (`ajv.compile(schema)`) fits as is (false plus `errors`), and so
 * does any function that throws on invalid input.
 */
export interface JsonSchemaValidator {
  (data: unknown): unknown;
  errors?: ReadonlyArray<{ instancePath?: string; message?: string }> | null | undefined;
}

export interface JsonSchemaSerializerOptions extends SchemaRegistrySerdeOptions {
  /** Validates each value against the schema; without one, values are written unchecked. */
  validate?: JsonSchemaValidator | undefined;
}

/**
 * JSON values with a JSON Schema, in the Confluent wire format (magic byte,
 * schema id, UTF-8 JSON) when a registry or `useSchemaId` is given, else
 * bare UTF-8 JSON. The schema's `title` is its record name for
 * recordNameStrategy. A null value is a tombstone (no bytes).
 *
 * Schema ids are resolved in `prepare()` for the listed topics (see
 * {@link SchemaRegistrySerdeOptions.topics}); `serialize()` never does I/O.
 */
export class JsonSchemaSerializer implements Serializer<unknown> {
  readonly #resolver: SchemaResolver<null>;
  readonly #validate: JsonSchemaValidator | undefined;

  constructor(schema: object | string, options: JsonSchemaSerializerOptions = {}) {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new SerializationError(`JsonSchemaSerializer: the schema is not JSON: ${(err as Error).message}`);
    }
    const title = (parsed as { title?: unknown } | null)?.title;
    const source: SchemaSource<null> = {
      schemaType: 'JSON',
      recordName: typeof title === 'string' ? title : undefined,
      local: null,
      schemaInfo: async (): Promise<SchemaInfo> => ({ schema: text, schemaType: 'JSON' }),
      fromRegistry: () => null,
    };
    this.#resolver = new SchemaResolver(options, source, 'JsonSchemaSerializer');
    this.#validate = options.validate;
  }

  /** Resolves the schema ids of the configured topics. Awaited by createProducer. */
  prepare(): Promise<void> {
    return this.#resolver.prepare();
  }

  /** Resolves the schema ids of more topics, for a producer already running. */
  prepareTopics(topics: readonly string[]): Promise<void> {
    return this.#resolver.prepare(topics);
  }

  serialize(topic: string, data: unknown, _headers: RecordHeader[]): Uint8Array | null {
    if (data === null) return null;
    const resolved = this.#resolver.forTopic(topic);
    if (this.#validate !== undefined) this.#check(data);
    const text = JSON.stringify(data) as string | undefined;
    if (text === undefined) throw new SerializationError(`JSON has no representation for ${typeof data}`);
    const header = resolved.header;
    if (header === null) return Buffer.from(text, 'utf8');
    const length = Buffer.byteLength(text, 'utf8');
    const out = Buffer.allocUnsafe(header.length + length);
    out.set(header, 0);
    out.write(text, header.length, 'utf8');
    return out;
  }

  #check(data: unknown): void {
    const validate = this.#validate!;
    let ok: unknown;
    try {
      ok = validate(data);
    } catch (err) {
      throw new SerializationError(
        `the value does not match its JSON Schema: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    if (ok === false) {
      const first = validate.errors?.[0];
      const at = first?.instancePath ? `at ${first.instancePath}` : 'at the top level';
      throw new SerializationError(
        `the value does not match its JSON Schema ${at}: ${first?.message ?? 'invalid'}`,
      );
    }
  }
}
