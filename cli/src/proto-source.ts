import { createRequire } from 'node:module';
import { fromBinary } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import type * as Protobufjs from 'protobufjs';

/**
 * Compiles .proto source (and what it imports: files next to it, and the
 * google/protobuf well-known types) into a FileDescriptorSet, so `--proto`
 * takes a .proto file as well as a compiled descriptor set.
 *
 * @bufbuild/protobuf, which the protobuf plugin uses, reads descriptors but
 * has no .proto parser, and protoc/buf are not npm packages; protobufjs
 * parses .proto files and writes descriptors (docs/dependencies.md). Its
 * descriptors need two fixes before @bufbuild/protobuf accepts them: it
 * writes one file per package, without the `dependency` list between them
 * (computed here from the field types, dependencies first), and type names
 * without the leading dot of a fully-qualified name.
 *
 * Throws the parser's error (it names the file and line) for bad source.
 */
export async function compileProtoSource(file: string, source: string): Promise<FileDescriptorSet> {
  const require = createRequire(import.meta.url);
  const protobuf = require('protobufjs') as typeof Protobufjs;
  // Adds Root#toDescriptor and the descriptor message types.
  const descriptor = require('protobufjs/ext/descriptor') as {
    FileDescriptorSet: { encode(message: unknown): { finish(): Uint8Array } };
  };
  const root = new protobuf.Root();
  await root.load(file, { keepCase: true });
  root.resolveAll();
  // The fully-qualified type of every message-or-enum field, as protobufjs
  // resolved it (its descriptors write names relative to the scope).
  const fieldTypes = new Map<string, string>();
  const collect = (ns: Protobufjs.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        for (const f of nested.fieldsArray)
          if (f.resolvedType !== null)
            fieldTypes.set(`${nested.fullName}.${f.name}`, f.resolvedType.fullName);
      }
      if (nested instanceof protobuf.Namespace) collect(nested);
    }
  };
  collect(root);
  const syntax = /(^|\n)\s*syntax\s*=\s*["']proto3["']/.test(source) ? 'proto3' : 'proto2';
  const set = (root as unknown as { toDescriptor(syntax: string): unknown }).toDescriptor(syntax);
  const fds = fromBinary(FileDescriptorSetSchema, descriptor.FileDescriptorSet.encode(set).finish());
  return withDependencies(fds, fieldTypes);
}

function withDependencies(
  fds: FileDescriptorSet,
  fieldTypes: ReadonlyMap<string, string>,
): FileDescriptorSet {
  // Which file defines each message and enum, by full name.
  const owner = new Map<string, string>();
  const own = (file: FileDescriptorProto, prefix: string, messages: readonly DescriptorProto[]) => {
    for (const m of messages) {
      owner.set(prefix + m.name, file.name);
      for (const e of m.enumType) owner.set(`${prefix}${m.name}.${e.name}`, file.name);
      own(file, `${prefix}${m.name}.`, m.nestedType);
    }
  };
  for (const f of fds.file) {
    const prefix = f.package ? `${f.package}.` : '';
    own(f, prefix, f.messageType);
    for (const e of f.enumType) owner.set(prefix + e.name, f.name);
  }
  for (const f of fds.file) {
    const deps = new Set<string>();
    const fix = (scope: string, messages: readonly DescriptorProto[]) => {
      for (const m of messages) {
        const full = `${scope}.${m.name}`;
        for (const field of m.field) {
          if (field.typeName === '') continue;
          field.typeName = fieldTypes.get(`${full}.${field.name}`) ?? field.typeName.replace(/^(?!\.)/, '.');
          const definedIn = owner.get(field.typeName.slice(1));
          if (definedIn !== undefined && definedIn !== f.name) deps.add(definedIn);
        }
        fix(full, m.nestedType);
      }
    };
    fix(f.package ? `.${f.package}` : '', f.messageType);
    f.dependency = [...deps];
  }
  // Dependencies before the files that import them.
  const byName = new Map(fds.file.map((f) => [f.name, f]));
  const sorted: FileDescriptorProto[] = [];
  const seen = new Set<string>();
  const visit = (f: FileDescriptorProto) => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    for (const d of f.dependency) {
      const dep = byName.get(d);
      if (dep !== undefined) visit(dep);
    }
    sorted.push(f);
  };
  for (const f of fds.file) visit(f);
  fds.file = sorted;
  return fds;
}
