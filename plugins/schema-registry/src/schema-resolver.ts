import { ConfigError, isKafkaClientError, SerializationError } from '@tributary/core';
import type {
  RegisteredSchema,
  SchemaInfo,
  SchemaRegistryClient,
  SchemaType,
} from './schema-registry-client.js';
import {
  isTopicIndependent,
  recordNameStrategy,
  type SubjectNameStrategy,
  topicNameStrategy,
} from './subject-name-strategy.js';
import { encodeHeader } from './wire-format.js';

/**
 * The Schema Registry options every Tributary serializer takes (Avro,
 * Protobuf, JSON Schema), named as Confluent's serializer settings are.
 *
 * Without `registry` and `useSchemaId` the serializer writes the bare
 * payload. With `useSchemaId` alone it frames every record with that id and
 * asks no registry. With `registry`, ids are resolved per subject in
 * `prepare()`, before the first send.
 */
export interface SchemaRegistrySerdeOptions {
  /** The registry client. Share one between serializers to share its caches. */
  registry?: SchemaRegistryClient | undefined;
  /**
   * The topics this serializer will write to. `serialize()` is synchronous,
   * so the schema id of each topic's subject is resolved in `prepare()` (which
   * `createProducer` awaits) and cached; a record for a topic not listed here
   * fails with a SerializationError. Add topics later with `prepareTopics()`.
   * Not needed with `recordNameStrategy`, whose subject is the same for every topic.
   */
  topics?: readonly string[] | undefined;
  /** True when registered under KEY_SERIALIZER: subjects end in `-key`. Default false. */
  isKey?: boolean | undefined;
  /** Default {@link topicNameStrategy}. */
  subjectNameStrategy?: SubjectNameStrategy | undefined;
  /**
   * Register the local schema under the subject (the registry returns the
   * existing id when it is already there). Default true, unless
   * `useLatestVersion` or `useSchemaId` is set; when false the schema is
   * looked up under the subject and must be registered already.
   */
  autoRegisterSchemas?: boolean | undefined;
  /** Write with the subject's latest version (its id, and for Avro its schema). Needs autoRegisterSchemas false. */
  useLatestVersion?: boolean | undefined;
  /** Write with this schema id. With a registry, its schema is fetched (and for Avro used); without one, only the id is written. */
  useSchemaId?: number | undefined;
  /** Ask the registry to normalize the schema when registering or looking it up. Default false. */
  normalizeSchemas?: boolean | undefined;
}

/** What a serializer tells the resolver about its schema. `E` is whatever encodes a value (an avsc Type, a DescMessage...). */
export interface SchemaSource<E> {
  /** `AVRO`, `PROTOBUF` or `JSON`: a schema from the registry of another type is refused. */
  readonly schemaType: SchemaType;
  /** The record's fully qualified name, for recordNameStrategy and topicRecordNameStrategy. */
  readonly recordName: string | undefined;
  /** The local encoder, used with the id of the local schema. */
  readonly local: E;
  /** Protobuf: the message-index path written after the schema id. */
  readonly messageIndexes?: readonly number[] | undefined;
  /**
   * The local schema as the registry stores it. Protobuf registers its
   * imports here first (to name them as references).
   */
  schemaInfo(client: SchemaRegistryClient, autoRegister: boolean, normalize: boolean): Promise<SchemaInfo>;
  /**
   * The encoder for a schema taken from the registry (useLatestVersion,
   * useSchemaId). Throw (any error) to refuse it; the message is passed on.
   */
  fromRegistry(schema: SchemaInfo, label: string, how: 'latest' | 'id'): E;
}

/** What `serialize()` needs for one topic: the bytes before the payload, and the encoder. */
export interface ResolvedSchema<E> {
  /** Magic byte, schema id (and index path); null when writing bare payloads. */
  readonly header: Uint8Array | null;
  readonly schemaId: number | undefined;
  readonly subject: string | undefined;
  /** The subject version, when the registry said (lookup, latest). */
  readonly version: number | undefined;
  readonly encoder: E;
}

/**
 * Resolves and caches, per topic, the schema id a serializer frames its
 * records with. All registry traffic happens in {@link prepare} (awaited by
 * `createProducer` through the serializer's own `prepare()`); {@link forTopic}
 * is a synchronous map lookup on the send path and never does I/O.
 */
export class SchemaResolver<E> {
  readonly #source: SchemaSource<E>;
  readonly #serializer: string;
  readonly #registry: SchemaRegistryClient | undefined;
  readonly #topics: readonly string[];
  readonly #isKey: boolean;
  readonly #strategy: SubjectNameStrategy;
  readonly #autoRegister: boolean;
  readonly #useLatest: boolean;
  readonly #useSchemaId: number | undefined;
  readonly #normalize: boolean;
  /** One resolution serves every topic: a fixed id, or a subject that ignores the topic. */
  readonly #oneForEveryTopic: boolean;
  /** Every topic's resolution, by topic. */
  readonly #byTopic = new Map<string, ResolvedSchema<E>>();
  /** Every subject's resolution (in flight or done), by subject: topics sharing a subject share one. */
  readonly #bySubject = new Map<string, Promise<ResolvedSchema<E>>>();
  /** Set when every topic gets the same resolution: no registry, or a topic-independent subject. */
  #everyTopic: ResolvedSchema<E> | undefined;
  #lastTopic: string | undefined;
  #last: ResolvedSchema<E> | undefined;

  constructor(options: SchemaRegistrySerdeOptions, source: SchemaSource<E>, serializerName: string) {
    this.#source = source;
    this.#serializer = serializerName;
    this.#registry = options.registry;
    this.#topics = [...(options.topics ?? [])];
    this.#isKey = options.isKey ?? false;
    this.#strategy = options.subjectNameStrategy ?? topicNameStrategy;
    this.#useLatest = options.useLatestVersion ?? false;
    this.#useSchemaId = options.useSchemaId;
    this.#autoRegister = options.autoRegisterSchemas ?? !(this.#useLatest || this.#useSchemaId !== undefined);
    this.#normalize = options.normalizeSchemas ?? false;
    this.#oneForEveryTopic = this.#useSchemaId !== undefined || isTopicIndependent(this.#strategy);
    if (this.#useSchemaId !== undefined && (!Number.isInteger(this.#useSchemaId) || this.#useSchemaId < 0)) {
      throw new ConfigError('useSchemaId', `must be a non-negative integer, got ${this.#useSchemaId}`);
    }
    if (this.#autoRegister && (this.#useLatest || this.#useSchemaId !== undefined)) {
      throw new ConfigError(
        'autoRegisterSchemas',
        `cannot be true with ${this.#useLatest ? 'useLatestVersion' : 'useSchemaId'}: the serializer either registers its own schema or writes with an existing one`,
      );
    }
    if (this.#useLatest && this.#useSchemaId !== undefined) {
      throw new ConfigError('useLatestVersion', 'give useLatestVersion or useSchemaId, not both');
    }
    if (this.#registry === undefined) {
      for (const key of [
        'subjectNameStrategy',
        'useLatestVersion',
        'autoRegisterSchemas',
        'normalizeSchemas',
      ] as const) {
        if (options[key] !== undefined) throw new ConfigError(key, 'needs a registry (the registry option)');
      }
      const header =
        this.#useSchemaId === undefined ? null : encodeHeader(this.#useSchemaId, source.messageIndexes);
      this.#everyTopic = {
        header,
        schemaId: this.#useSchemaId,
        subject: undefined,
        version: undefined,
        encoder: source.local,
      };
    } else if (this.#strategy !== topicNameStrategy && source.recordName === undefined) {
      throw new ConfigError(
        'subjectNameStrategy',
        'recordNameStrategy and topicRecordNameStrategy need a named record (an Avro named type, a JSON Schema with a title)',
      );
    }
  }

  /** True when records carry the Confluent header. */
  get framed(): boolean {
    return this.#registry !== undefined || this.#useSchemaId !== undefined;
  }

  /** The topics given in the options. */
  get topics(): readonly string[] {
    return this.#topics;
  }

  /**
   * Resolves the schema id for the configured topics and any given here (in
   * parallel, one registry call per subject), and caches them. Rejects with a
   * SerializationError naming the topic and subject and carrying the
   * registry's error as `cause`; topics resolved before the failure stay
   * resolved. Calling it again resolves only what is new.
   */
  async prepare(extraTopics: readonly string[] = []): Promise<void> {
    if (this.#registry === undefined) return;
    const jobs: Promise<unknown>[] = [];
    if (this.#oneForEveryTopic) {
      const subject =
        this.#useSchemaId !== undefined
          ? ''
          : recordNameStrategy('', this.#isKey, this.#source.recordName ?? '');
      jobs.push(
        this.#resolveSubject(subject, undefined).then((r) => {
          this.#everyTopic = r;
        }),
      );
    } else {
      for (const topic of new Set([...this.#topics, ...extraTopics])) {
        if (this.#byTopic.has(topic)) continue;
        const subject = this.#strategy(topic, this.#isKey, this.#source.recordName ?? '');
        jobs.push(
          this.#resolveSubject(subject, topic).then((r) => {
            this.#byTopic.set(topic, r);
          }),
        );
      }
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * The resolution for a topic: a map lookup, no I/O. Throws a
   * SerializationError for a topic that `prepare()` did not resolve.
   */
  forTopic(topic: string): ResolvedSchema<E> {
    if (this.#everyTopic !== undefined) return this.#everyTopic;
    if (topic === this.#lastTopic) return this.#last!;
    const r = this.#byTopic.get(topic);
    if (r === undefined) {
      if (this.#oneForEveryTopic) {
        throw new SerializationError(
          `${this.#serializer} has not resolved its schema id: prepare() did not run or failed ` +
            '(createProducer awaits it; await serializer.prepare() when using the serializer on its own)',
        );
      }
      throw new SerializationError(
        `${this.#serializer} has no schema id for topic "${topic}" (subject "${this.#strategy(topic, this.#isKey, this.#source.recordName ?? '')}"): ` +
          'schema ids are resolved before the first send, because serialize() is synchronous; ' +
          `list the topic in the serializer's topics option, or await serializer.prepareTopics(["${topic}"]) before sending to it`,
      );
    }
    this.#lastTopic = topic;
    this.#last = r;
    return r;
  }

  #resolveSubject(subject: string, topic: string | undefined): Promise<ResolvedSchema<E>> {
    let pending = this.#bySubject.get(subject);
    if (pending === undefined) {
      pending = this.#resolve(subject, topic);
      this.#bySubject.set(subject, pending);
      pending.catch(() => {
        if (this.#bySubject.get(subject) === pending) this.#bySubject.delete(subject);
      });
    }
    return pending;
  }

  async #resolve(subject: string, topic: string | undefined): Promise<ResolvedSchema<E>> {
    const client = this.#registry!;
    const source = this.#source;
    const label = `subject "${subject}"`;
    const where =
      this.#useSchemaId !== undefined
        ? `${this.#serializer} could not use schema id ${this.#useSchemaId}`
        : `${this.#serializer} could not resolve the schema id for ${topic === undefined ? '' : `topic "${topic}", `}${label}`;
    let step = '';
    try {
      let schemaId: number;
      let version: number | undefined;
      let encoder = source.local;
      if (this.#useSchemaId !== undefined) {
        step = 'fetching its schema';
        const schema = await client.getById(this.#useSchemaId);
        encoder = this.#fromRegistry(schema, `schema id ${this.#useSchemaId}`, 'id');
        schemaId = this.#useSchemaId;
      } else if (this.#useLatest) {
        step = 'fetching its latest version';
        const latest: RegisteredSchema = await client.getLatest(subject);
        encoder = this.#fromRegistry(
          latest,
          `version ${latest.version} (id ${latest.id}) of ${label}`,
          'latest',
        );
        schemaId = latest.id;
        version = latest.version;
      } else if (this.#autoRegister) {
        step = 'registering the schema';
        const info = await source.schemaInfo(client, true, this.#normalize);
        schemaId = await client.register(subject, info, { normalize: this.#normalize });
      } else {
        step = 'looking the schema up (autoRegisterSchemas is false)';
        const info = await source.schemaInfo(client, false, this.#normalize);
        const found = await client.lookup(subject, info, { normalize: this.#normalize });
        schemaId = found.id;
        version = found.version;
      }
      const resolvedSubject = this.#useSchemaId === undefined ? subject : undefined;
      return {
        header: encodeHeader(schemaId, source.messageIndexes),
        schemaId,
        subject: resolvedSubject,
        version,
        encoder,
      };
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      const hint = this.#hint(isKafkaClientError(err) ? err.code : '', subject);
      throw new SerializationError(`${where}${step ? ` while ${step}` : ''}: ${detail}${hint}`, {
        cause: err,
      });
    }
  }

  #fromRegistry(schema: SchemaInfo, label: string, how: 'latest' | 'id'): E {
    const type = schema.schemaType ?? 'AVRO';
    if (type !== this.#source.schemaType) {
      throw new SerializationError(`${label} is a ${type} schema, not ${this.#source.schemaType}`);
    }
    try {
      return this.#source.fromRegistry(schema, label, how);
    } catch (err) {
      throw new SerializationError(
        `${label} cannot be used: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  #hint(code: string, subject: string): string {
    switch (code) {
      case 'SUBJECT_NOT_FOUND':
        return this.#autoRegister
          ? ''
          : ` (nothing is registered under "${subject}": register the schema there, or set autoRegisterSchemas: true)`;
      case 'SCHEMA_NOT_FOUND':
        return this.#useSchemaId === undefined
          ? ` (this schema is not registered under "${subject}": register it, or set autoRegisterSchemas: true)`
          : '';
      case 'SCHEMA_REGISTRY_UNAVAILABLE':
      case 'SCHEMA_REGISTRY_TIMEOUT':
        return ' (is the registry up? records for prepared topics are not affected)';
      default:
        return '';
    }
  }
}
