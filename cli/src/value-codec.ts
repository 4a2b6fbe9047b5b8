import { readFile } from 'node:fs/promises';
import {
  createFileRegistry,
  type DescMessage,
  fromBinary,
  fromJson,
  fromJsonString,
  type JsonValue,
} from '@bufbuild/protobuf';
import { type FileDescriptorSet, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { AvroSerializer } from '@tributary/avro';
import type { Serializer } from '@tributary/core';
import { ProtobufSerializer } from '@tributary/protobuf';
import { SchemaRegistryClient } from '@tributary/schema-registry';
import { messageOf, usageError } from './errors.js';
import { compileProtoSource } from './proto-source.js';

/**
 * How values given as JSON become what a schema serializer encodes. The
 * conversion runs in the CLI, before `send()`, so a line that does not fit
 * the schema fails that record with a message naming its line.
 */
export interface ValueCodec {
  /** What the value serializer is registered as. */
  readonly serializer: Serializer;
  /** For messages: "Avro schema orders.avsc" / "protobuf message shop.Order from shop.binpb". */
  readonly description: string;
  /** A value given as JSON text (a line in `lines` mode). */
  fromText(text: string): unknown;
  /** A value already parsed from JSON (the `value` of a JSON-lines object). */
  fromJson(value: unknown): unknown;
}

export interface CodecOptions {
  /** The topic written to (its subject is `<topic>-value` in the registry). */
  topic: string;
  /** The Schema Registry URL: values are framed in its wire format with the registered id. */
  registryUrl: string | undefined;
}

function registryClient(url: string | undefined): SchemaRegistryClient | undefined {
  if (url === undefined) return undefined;
  try {
    return new SchemaRegistryClient({ url });
  } catch (err) {
    throw usageError(`--registry: ${messageOf(err)}`, err);
  }
}

async function readSchemaFile(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw usageError(`${flag} ${file}: cannot read the file (${messageOf(err)})`, err);
  }
}

/**
 * An Avro schema file (.avsc, JSON). Values are Avro's JSON encoding of a
 * datum (what Confluent's kafka-avro-console-producer reads): a union value
 * is wrapped as `{"string": "x"}` unless it is null, bytes and fixed are
 * strings of code points 0-255. avsc parses it (`Type.fromString`).
 */
export async function avroCodec(file: string, options: CodecOptions): Promise<ValueCodec> {
  const text = (await readSchemaFile('--avro-schema', file)).toString('utf8');
  const trimmed = text.trim();
  if (trimmed === '') throw usageError(`--avro-schema ${file}: the file is empty`);
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    try {
      JSON.parse(trimmed);
    } catch (err) {
      throw usageError(`--avro-schema ${file}: not valid JSON (${messageOf(err)})`, err);
    }
  }
  const registry = registryClient(options.registryUrl);
  let serializer: AvroSerializer;
  try {
    serializer = new AvroSerializer(trimmed, { registry, topics: [options.topic] });
  } catch (err) {
    throw usageError(`--avro-schema ${file}: ${messageOf(err)}`, err);
  }
  const type = serializer.type;
  return {
    serializer,
    description: `Avro schema ${file}`,
    fromText: (json) => type.fromString(json),
    fromJson: (value) => type.fromString(JSON.stringify(value)),
  };
}

/**
 * A protobuf message type from .proto source (compiled with protobufjs, see
 * proto-source.ts; imports are resolved next to the file) or from a compiled
 * descriptor set: the FileDescriptorSet that
 * `protoc --include_imports --descriptor_set_out=F` or `buf build -o F`
 * writes. Values are
 * protobuf's canonical JSON mapping (lowerCamelCase or original field names,
 * enums by name, 64-bit integers as strings or numbers).
 */
export async function protobufCodec(
  file: string,
  messageName: string | undefined,
  options: CodecOptions,
): Promise<ValueCodec> {
  if (messageName === undefined || messageName === '') {
    throw usageError(`--proto ${file} needs --message <fully.qualified.Name>`);
  }
  const bytes = await readSchemaFile('--proto', file);
  let source: FileDescriptorSet | undefined;
  if (looksLikeProtoSource(bytes)) {
    try {
      source = await compileProtoSource(file, bytes.toString('utf8'));
    } catch (err) {
      throw usageError(`--proto ${file}: ${messageOf(err)}`, err);
    }
  }
  let schema: DescMessage | undefined;
  let available: string[] = [];
  try {
    const registry = createFileRegistry(source ?? fromBinary(FileDescriptorSetSchema, bytes));
    schema = registry.getMessage(messageName.replace(/^\./, ''));
    if (schema === undefined) {
      available = [];
      for (const t of registry) if (t.kind === 'message') available.push(t.typeName);
    }
  } catch (err) {
    throw usageError(`--proto ${file}: not a valid FileDescriptorSet (${messageOf(err)})`, err);
  }
  if (schema === undefined) {
    const list =
      available.length === 0 ? 'it defines no messages' : `it has ${available.slice(0, 20).join(', ')}`;
    throw usageError(`--proto ${file}: no message ${messageName} (${list})`);
  }
  const desc = schema;
  let serializer: ProtobufSerializer;
  try {
    serializer = new ProtobufSerializer(desc, {
      registry: registryClient(options.registryUrl),
      topics: [options.topic],
    });
  } catch (err) {
    throw usageError(`--proto ${file}: ${messageOf(err)}`, err);
  }
  return {
    serializer,
    description: `protobuf message ${desc.typeName} from ${file}`,
    fromText: (json) => fromJsonString(desc, json),
    fromJson: (value) => fromJson(desc, value as JsonValue),
  };
}

/** Text that reads like a .proto file (a descriptor set is binary, starting with field 1's tag 0x0a). */
function looksLikeProtoSource(bytes: Buffer): boolean {
  if (bytes.length === 0 || bytes[0] === 0x0a) return false;
  const head = bytes.subarray(0, 4096).toString('latin1');
  return /(^|\n)\s*(syntax|edition|package|message|import|option)\b/.test(head);
}
