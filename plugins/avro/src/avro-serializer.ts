import type { RecordHeader, Serializer } from '@tributary/core';
import { ConfigError, SerializationError } from '@tributary/core';
import {
  type SchemaInfo,
  type SchemaRegistrySerdeOptions,
  SchemaResolver,
  type SchemaSource,
} from '@tributary/schema-registry';
import avsc, { type ForSchemaOptions, type Schema, type Type } from 'avsc';
import { findInvalid } from './invalid-value.js';
import { avroLogicalTypes, LogicalValueError } from './logical-types.js';

type LogicalTypes = ForSchemaOptions['logicalTypes'];

export interface AvroSerializerOptions extends SchemaRegistrySerdeOptions {
  /**
   * `true` turns on Tributary's `timestamp-millis`, `decimal` and `uuid`
   * (see logical-types.ts); an object adds or replaces implementations
   * (avsc LogicalType classes by name) on top of those. Default false: every
   * logical type is written as its underlying type. Ignored when the schema
   * is an avsc Type (it was built with its own).
   */
  logicalTypes?: boolean | Readonly<LogicalTypes> | undefined;
  /** Other avsc `Type.forSchema` options (namespace, wrapUnions, registry...). */
  typeOptions?: Partial<ForSchemaOptions> | undefined;
  /**
   * With useLatestVersion: refuse a latest version that cannot read what the
   * local schema writes (Confluent's `latest.compatibility.strict`). Default true.
   */
  latestCompatibilityStrict?: boolean | undefined;
}

/** What the serializer accepts as its schema: an Avro schema as JSON text, as an object, or an avsc Type. */
export type AvroSchemaInput = Schema | string | Type;

const SCRATCH_BYTES = 1024;
/** Past this, an encode buffer is not kept for the next record. */
const SCRATCH_MAX_BYTES = 1024 * 1024;

/**
 * Avro values, validated and encoded by avsc against one schema, optionally
 * in the Confluent wire format (magic byte, schema id, payload). Configure the
 * registry part with {@link SchemaRegistrySerdeOptions}: without it records
 * are bare Avro binary.
 *
 * A value that does not match the schema throws a SerializationError naming
 * the first bad field path (`address.zip`, `items[2].price`), what the schema
 * expected and what the value had; the producer fails that record only.
 * Validation costs nothing extra on valid values: avsc checks as it encodes,
 * and the path is looked for only after an encode failed. A null value is a
 * tombstone (no bytes), as in the Confluent serializers.
 *
 * Schema ids are resolved in `prepare()`, which createProducer awaits, for
 * the topics listed in `topics` (or once, with recordNameStrategy);
 * `serialize()` is synchronous and does no I/O.
 */
export class AvroSerializer<T = unknown> implements Serializer<T | null> {
  /** The local schema's avsc Type. */
  readonly type: Type;
  readonly #resolver: SchemaResolver<Type>;
  #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

  constructor(schema: AvroSchemaInput, options: AvroSerializerOptions = {}) {
    // A fresh options object per forSchema call: avsc fills `registry` in with the names it defines.
    const typeOptions = () => buildTypeOptions(options);
    let registered: string;
    if (avsc.Type.isType(schema)) {
      this.type = schema as Type;
      registered = JSON.stringify(this.type.schema({ exportAttrs: true }));
    } else {
      let parsed: Schema;
      if (typeof schema === 'string') {
        try {
          parsed = JSON.parse(schema) as Schema;
        } catch {
          parsed = schema as Schema; // a primitive type's name, e.g. "string"
        }
      } else {
        parsed = schema;
      }
      try {
        this.type = avsc.Type.forSchema(parsed, typeOptions());
      } catch (err) {
        throw new ConfigError('schema', `not a valid Avro schema: ${(err as Error).message}`);
      }
      // The schema as the user wrote it keeps every attribute (doc, defaults, a logical type avsc does not implement).
      registered =
        typeof schema === 'string' && schema.trimStart().startsWith('{') ? schema : JSON.stringify(parsed);
    }
    const local = this.type;
    const strict = options.latestCompatibilityStrict ?? true;
    const source: SchemaSource<Type> = {
      schemaType: 'AVRO',
      recordName: local.name,
      local,
      schemaInfo: async (): Promise<SchemaInfo> => ({ schema: registered }),
      fromRegistry: (info, label, how) => {
        if (info.references !== undefined && info.references.length > 0) {
          throw new Error(
            'Avro schemas with references are not supported: inline the referenced named types',
          );
        }
        const remote = avsc.Type.forSchema(JSON.parse(info.schema) as Schema, typeOptions());
        if (how === 'latest' && strict && !remote.equals(local)) {
          try {
            remote.createResolver(local);
          } catch (err) {
            throw new Error(
              `${label} cannot read records written with the local schema (${(err as Error).message}); ` +
                'set latestCompatibilityStrict: false to write with it anyway',
            );
          }
        }
        return remote;
      },
    };
    this.#resolver = new SchemaResolver(options, source, 'AvroSerializer');
  }

  /** Resolves the schema ids of the configured topics. Awaited by createProducer before the first send. */
  prepare(): Promise<void> {
    return this.#resolver.prepare();
  }

  /** Resolves the schema ids of more topics, for a producer already running. */
  prepareTopics(topics: readonly string[]): Promise<void> {
    return this.#resolver.prepare(topics);
  }

  serialize(topic: string, data: T | null, _headers: RecordHeader[]): Uint8Array | null {
    if (data === null) return null;
    const { header, encoder } = this.#resolver.forTopic(topic);
    const start = header === null ? 0 : header.length;
    let buf = this.#scratch;
    let end: number;
    try {
      end = encoder.encode(data, buf, start);
      if (end < 0) {
        // avsc returns minus the bytes missing; retry once in a buffer that fits.
        buf = Buffer.allocUnsafe(Math.max(buf.length * 2, buf.length - end));
        if (buf.length <= SCRATCH_MAX_BYTES) this.#scratch = buf;
        end = encoder.encode(data, buf, start);
      }
    } catch (err) {
      throw invalid(encoder, data, err);
    }
    const out = Buffer.allocUnsafe(end);
    if (header !== null) out.set(header, 0);
    buf.copy(out, start, start, end);
    return out;
  }
}

function buildTypeOptions(options: AvroSerializerOptions): Partial<ForSchemaOptions> {
  const lt = options.logicalTypes;
  const logicalTypes: LogicalTypes | undefined =
    lt === undefined || lt === false
      ? undefined
      : lt === true
        ? { ...avroLogicalTypes }
        : { ...avroLogicalTypes, ...lt };
  const out: Partial<ForSchemaOptions> = { ...options.typeOptions };
  if (options.typeOptions?.registry !== undefined) out.registry = { ...options.typeOptions.registry };
  if (logicalTypes !== undefined)
    out.logicalTypes = { ...options.typeOptions?.logicalTypes, ...logicalTypes };
  return out;
}

function invalid(type: Type, data: unknown, cause: unknown): SerializationError {
  const schemaName = type.name ?? type.typeName;
  const found = findInvalid(type, data);
  if (found === undefined) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new SerializationError(
      `the value could not be encoded with Avro schema ${schemaName}: ${detail}`,
      {
        cause,
      },
    );
  }
  const where = found.path === '' ? 'the value' : `field ${found.path}`;
  const reason = found.logical && cause instanceof LogicalValueError ? ` (${cause.message})` : '';
  return new SerializationError(
    `the value does not match Avro schema ${schemaName}: ${where} should be ${found.expected}, got ${found.got}${reason}`,
    { cause },
  );
}
