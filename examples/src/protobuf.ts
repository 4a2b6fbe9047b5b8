/**
 * Protobuf values, in the Confluent wire format when a registry is given.
 *
 *   BOOTSTRAP=localhost:9092 REGISTRY_URL=http://localhost:8081 TOPIC=page-views \
 *     node examples/dist/src/protobuf.js
 *
 * Without REGISTRY_URL the records are bare Protobuf binary.
 *
 * The message type is this file, which protoc-gen-es would normally turn into
 * a generated `PageViewSchema`; here the descriptor is built at runtime, the
 * same way generated code hydrates it, so the example needs no protoc:
 *
 *   // shop/page_view.proto
 *   syntax = "proto3";
 *   package shop;
 *   message PageView { string user = 1; string url = 2; uint32 duration_ms = 3; repeated string tags = 4; }
 */
import 'reflect-metadata';
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { fileDesc, type GenMessage, messageDesc } from '@bufbuild/protobuf/codegenv2';
import {
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from '@bufbuild/protobuf/wkt';
import { createProducer, VALUE_SERIALIZER } from '@tributary/core';
import { ProtobufSerializer } from '@tributary/protobuf';
import { SchemaRegistryClient } from '@tributary/schema-registry';
import { container } from 'tsyringe';

const bootstrapServers = process.env['BOOTSTRAP'] ?? 'localhost:9092';
const registryUrl = process.env['REGISTRY_URL'];
const topic = process.env['TOPIC'] ?? 'page-views';

/** The message's shape, as protoc-gen-es would declare it. */
type PageView = {
  $typeName: 'shop.PageView';
  user: string;
  url: string;
  durationMs: number;
  tags: string[];
};

const fileProto = create(FileDescriptorProtoSchema, {
  name: 'shop/page_view.proto',
  package: 'shop',
  syntax: 'proto3',
  messageType: [
    {
      name: 'PageView',
      field: [
        { name: 'user', number: 1, type: Type.STRING, label: Label.OPTIONAL, jsonName: 'user' },
        { name: 'url', number: 2, type: Type.STRING, label: Label.OPTIONAL, jsonName: 'url' },
        { name: 'duration_ms', number: 3, type: Type.UINT32, label: Label.OPTIONAL, jsonName: 'durationMs' },
        { name: 'tags', number: 4, type: Type.STRING, label: Label.REPEATED, jsonName: 'tags' },
      ],
    },
  ],
});
const file = fileDesc(Buffer.from(toBinary(FileDescriptorProtoSchema, fileProto)).toString('base64'));
const PageViewSchema: GenMessage<PageView> = messageDesc(file, 0);

const registry = registryUrl === undefined ? undefined : new SchemaRegistryClient({ url: registryUrl });
const serializer = new ProtobufSerializer(PageViewSchema, { registry, topics: [topic] });

const c = container.createChildContainer();
c.register(VALUE_SERIALIZER, { useValue: serializer });
const producer = await createProducer<string, MessageInitShape<typeof PageViewSchema>>(
  { bootstrapServers, compressionType: 'lz4' },
  { container: c },
);
try {
  const views = [
    { user: 'ada', url: '/', durationMs: 1200, tags: ['home'] },
    { user: 'grace', url: '/pricing', durationMs: 5400, tags: ['sales', 'pricing'] },
    { user: 'ada', url: '/docs', durationMs: 30_000, tags: [] },
    // A message object works as well as a plain init object.
    create(PageViewSchema, { user: 'linus', url: '/blog', durationMs: 800 }),
  ];
  const results = await Promise.all(
    views.map((value) => producer.send({ topic, key: value.user ?? null, value })),
  );
  for (const r of results) console.log(`page view -> ${r.topic}-${r.partition}@${r.offset}`);

  // Field types are checked before encoding: a wrong one fails that record only, naming the field.
  const bad = { user: 'eve', url: '/', durationMs: -1 };
  await producer.send({ topic, value: bad }).then(
    () => {
      throw new Error('a value with a negative uint32 was accepted');
    },
    (err: Error) => console.log(`rejected as expected: ${err.message}`),
  );
  const format =
    registry === undefined ? 'bare Protobuf' : `Confluent wire format, path [${serializer.messageIndexes}]`;
  console.log(`protobuf: ${results.length} page views delivered (${format})`);
} finally {
  await producer.close();
}
