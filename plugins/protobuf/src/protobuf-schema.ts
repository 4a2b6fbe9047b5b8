import { type DescFile, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { SchemaInfo, SchemaReference, SchemaRegistryClient } from '@tributary/schema-registry';

/**
 * Files every Confluent Schema Registry knows without being told: imports of
 * these are not registered or referenced (as the Confluent serializers do).
 */
const BUILTIN_PREFIXES = ['google/protobuf/', 'google/type/', 'confluent/'];

export function isBuiltinFile(name: string): boolean {
  return BUILTIN_PREFIXES.some((p) => name.startsWith(p));
}

/** A .proto file as the registry takes it: its FileDescriptorProto, serialized and base64-encoded. */
export function fileSchemaText(file: DescFile): string {
  return Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)).toString('base64');
}

/**
 * The schema to register for a message's file: the serialized file
 * descriptor (the registry accepts it in place of .proto text, as the
 * Confluent JavaScript and Go serializers send it), with each non-builtin
 * import as a reference. An import is registered (or, without
 * autoRegister, looked up) under a subject named after its file, e.g.
 * `shop/common.proto` (Confluent's DefaultReferenceSubjectNameStrategy), and
 * referenced at the version the registry reports.
 */
export async function protobufSchemaInfo(
  file: DescFile,
  client: SchemaRegistryClient,
  autoRegister: boolean,
  normalize: boolean,
): Promise<SchemaInfo> {
  const references: SchemaReference[] = [];
  for (const dep of file.dependencies) {
    const name = dep.proto.name;
    if (isBuiltinFile(name)) continue;
    const info = await protobufSchemaInfo(dep, client, autoRegister, normalize);
    if (autoRegister) await client.register(name, info, { normalize });
    const found = await client.lookup(name, info, { normalize });
    references.push({ name, subject: name, version: found.version });
  }
  const info: SchemaInfo = { schema: fileSchemaText(file), schemaType: 'PROTOBUF' };
  if (references.length > 0) info.references = references;
  return info;
}
