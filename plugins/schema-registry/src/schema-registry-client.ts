import { ConfigError } from '@tributary/core';
import { SchemaRegistryError } from './errors.js';

/** The schema formats the Confluent Schema Registry knows. AVRO is the default when a request names none. */
export const SchemaType = { AVRO: 'AVRO', PROTOBUF: 'PROTOBUF', JSON: 'JSON' } as const;
export type SchemaType = (typeof SchemaType)[keyof typeof SchemaType];

/** A schema's import of another registered schema (a Protobuf import, an Avro named type from another subject). */
export interface SchemaReference {
  /** The name the schema imports it by (for Protobuf, the imported file's name). */
  name: string;
  subject: string;
  version: number;
}

/** A schema as the registry stores it. */
export interface SchemaInfo {
  schema: string;
  /** Absent means AVRO. */
  schemaType?: SchemaType | undefined;
  references?: readonly SchemaReference[] | undefined;
}

/** A schema registered under a subject. */
export interface RegisteredSchema extends SchemaInfo {
  id: number;
  subject: string;
  version: number;
}

export interface SchemaRegistryClientOptions {
  /** The registry's base URL, or several: a retriable failure moves to the next. Credentials in the URL become basic auth. */
  url: string | readonly string[];
  /** HTTP basic auth (Confluent's `basic.auth.user.info`, e.g. an API key and secret). */
  basicAuth?: { username: string; password: string } | undefined;
  /** A bearer token, or a function returning one, called before every request (so it may refresh the token). */
  bearerToken?: string | (() => string | Promise<string>) | undefined;
  /** Extra headers on every request (e.g. Confluent Cloud's `target-sr-cluster`). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** One attempt's limit, connection to the end of the body. Default 10000. */
  requestTimeoutMs?: number | undefined;
  /** Attempts after the first for retriable failures (network, timeout, 5xx, 429). Default 3. */
  retries?: number | undefined;
  /** First backoff between attempts, doubling up to `retryBackoffMaxMs`, jittered ±20%. Default 100. */
  retryBackoffMs?: number | undefined;
  /** Default 2000. */
  retryBackoffMaxMs?: number | undefined;
  /** The fetch implementation. Default: the global fetch (Node 18+, Bun, browsers). */
  fetch?: typeof globalThis.fetch | undefined;
}

interface ResolvedOptions {
  urls: string[];
  authorization: (() => Promise<string>) | undefined;
  headers: Record<string, string>;
  requestTimeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  fetch: typeof globalThis.fetch;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const ACCEPT =
  'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5';

function nonNegativeInt(key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0)
    throw new ConfigError(key, `must be a non-negative integer, got ${value}`);
  return value;
}

function resolveOptions(options: SchemaRegistryClientOptions): ResolvedOptions {
  const list = typeof options.url === 'string' ? [options.url] : [...options.url];
  if (list.length === 0) throw new ConfigError('url', 'at least one Schema Registry URL is required');
  let basic = options.basicAuth;
  const urls = list.map((raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError('url', `not a URL: ${JSON.stringify(raw)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('url', `must be http or https, got ${url.protocol}`);
    }
    // fetch refuses URLs with credentials; take them as basic auth instead.
    if (url.username !== '' && basic === undefined) {
      basic = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    }
    url.username = '';
    url.password = '';
    return url.href.replace(/\/+$/, '');
  });
  if (basic !== undefined && options.bearerToken !== undefined) {
    throw new ConfigError(
      'bearerToken',
      'give either basicAuth (or credentials in the URL) or bearerToken, not both',
    );
  }
  let authorization: ResolvedOptions['authorization'];
  if (basic !== undefined) {
    const value = `Basic ${Buffer.from(`${basic.username}:${basic.password}`, 'utf8').toString('base64')}`;
    authorization = async () => value;
  } else if (options.bearerToken !== undefined) {
    const token = options.bearerToken;
    authorization =
      typeof token === 'string' ? async () => `Bearer ${token}` : async () => `Bearer ${await token()}`;
  }
  const retryBackoffMs = nonNegativeInt('retryBackoffMs', options.retryBackoffMs, 100);
  const retryBackoffMaxMs = nonNegativeInt('retryBackoffMaxMs', options.retryBackoffMaxMs, 2000);
  if (retryBackoffMaxMs < retryBackoffMs) {
    throw new ConfigError('retryBackoffMaxMs', `must be at least retryBackoffMs (${retryBackoffMs})`);
  }
  const requestTimeoutMs = nonNegativeInt('requestTimeoutMs', options.requestTimeoutMs, 10_000);
  if (requestTimeoutMs === 0) throw new ConfigError('requestTimeoutMs', 'must be positive');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new ConfigError('fetch', 'no global fetch: pass one');
  return {
    urls,
    authorization,
    headers: { ...options.headers },
    requestTimeoutMs,
    retries: nonNegativeInt('retries', options.retries, 3),
    retryBackoffMs,
    retryBackoffMaxMs,
    fetch: fetchImpl,
  };
}

/** The `{ error_code, message }` body the registry sends with an error status, when it is one. */
function registryErrorBody(text: string): { errorCode: number | undefined; message: string | undefined } {
  try {
    const body = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    return {
      errorCode: typeof body.error_code === 'number' ? body.error_code : undefined,
      message: typeof body.message === 'string' ? body.message : undefined,
    };
  } catch {
    return { errorCode: undefined, message: text.trim() === '' ? undefined : excerpt(text) };
  }
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}...` : flat;
}

/** The error for a non-2xx answer, by status and the registry's error_code. */
function statusError(status: number, statusText: string, text: string, where: string): SchemaRegistryError {
  const { errorCode, message } = registryErrorBody(text);
  const said = `${status}${statusText ? ` ${statusText}` : ''}${message ? `: ${message}` : ''}${
    errorCode === undefined ? '' : ` (error_code ${errorCode})`
  }`;
  const make = (code: string, hint: string, retriable = false) =>
    new SchemaRegistryError(code, `${where} failed with ${said}${hint ? `; ${hint}` : ''}`, {
      status,
      errorCode,
      retriable,
    });
  if (status >= 500 || status === 429) return make('SCHEMA_REGISTRY_UNAVAILABLE', '', true);
  if (status === 401) return make('SCHEMA_REGISTRY_UNAUTHORIZED', 'check basicAuth or bearerToken');
  if (status === 403)
    return make('SCHEMA_REGISTRY_FORBIDDEN', 'the credentials lack the permission for this');
  if (status === 409) {
    return make(
      'INCOMPATIBLE_SCHEMA',
      "the schema breaks the subject's compatibility rules with its earlier versions",
    );
  }
  if (errorCode === 40401) return make('SUBJECT_NOT_FOUND', 'the subject has no registered schema');
  if (errorCode === 40402) return make('VERSION_NOT_FOUND', '');
  if (errorCode === 40403) return make('SCHEMA_NOT_FOUND', '');
  if (errorCode === 42201 || errorCode === 44201)
    return make('INVALID_SCHEMA', 'the registry could not parse the schema');
  return make('SCHEMA_REGISTRY_BAD_REQUEST', '');
}

function badResponse(where: string, detail: string, cause?: unknown): SchemaRegistryError {
  return new SchemaRegistryError('SCHEMA_REGISTRY_BAD_RESPONSE', `${where}: ${detail}`, { cause });
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function parseSchemaInfo(json: Record<string, unknown>, where: string): SchemaInfo {
  if (typeof json['schema'] !== 'string') throw badResponse(where, 'the response has no "schema" string');
  const info: SchemaInfo = { schema: json['schema'] };
  const type = json['schemaType'];
  if (type !== undefined && type !== null) {
    if (type !== 'AVRO' && type !== 'PROTOBUF' && type !== 'JSON') {
      throw badResponse(where, `unknown schemaType ${JSON.stringify(type)}`);
    }
    info.schemaType = type;
  }
  const refs = json['references'];
  if (Array.isArray(refs) && refs.length > 0) {
    info.references = refs.map((r: unknown) => {
      const ref = r as Record<string, unknown>;
      if (typeof ref?.['name'] !== 'string' || typeof ref['subject'] !== 'string' || !isInt(ref['version'])) {
        throw badResponse(where, `a malformed reference ${JSON.stringify(r)}`);
      }
      return { name: ref['name'], subject: ref['subject'], version: ref['version'] };
    });
  }
  return info;
}

function parseRegistered(json: Record<string, unknown>, where: string, subject: string): RegisteredSchema {
  const info = parseSchemaInfo(json, where);
  if (!isInt(json['id'])) throw badResponse(where, 'the response has no integer "id"');
  if (!isInt(json['version'])) throw badResponse(where, 'the response has no integer "version"');
  return {
    ...info,
    id: json['id'],
    subject: typeof json['subject'] === 'string' ? json['subject'] : subject,
    version: json['version'],
  };
}

/** The request body for a schema: schemaType left out for AVRO, as the Confluent serializers do (old registries reject it). */
function schemaBody(schema: SchemaInfo): string {
  return JSON.stringify(withoutEmpty(schema));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A Confluent Schema Registry client over `fetch`, for the endpoints a
 * serializer needs:
 *
 * | method       | endpoint                                 | cached                                  |
 * | ------------ | ---------------------------------------- | --------------------------------------- |
 * | `register`   | `POST /subjects/{subject}/versions`      | by subject and schema                   |
 * | `lookup`     | `POST /subjects/{subject}`               | by subject and schema                   |
 * | `getById`    | `GET /schemas/ids/{id}`                  | by id (ids are immutable)               |
 * | `getLatest`  | `GET /subjects/{subject}/versions/latest`| no: "latest" changes                    |
 * | `getVersion` | `GET /subjects/{subject}/versions/{n}`   | by subject and version                  |
 *
 * Concurrent calls for the same thing share one request; a failed call is
 * not cached, so the next one asks again. Once an answer is cached the
 * registry may go away: cached calls keep answering.
 *
 * Retriable failures (connection refused or reset, timeouts, HTTP 5xx and
 * 429) are retried `retries` times with a doubling, jittered backoff, moving
 * to the next URL when several are given; everything else fails at once with
 * a {@link SchemaRegistryError} whose `code` says why.
 */
export class SchemaRegistryClient {
  readonly #o: ResolvedOptions;
  readonly #bySchema = new Map<string, Promise<number>>();
  readonly #lookups = new Map<string, Promise<RegisteredSchema>>();
  readonly #byId = new Map<number, Promise<SchemaInfo>>();
  readonly #versions = new Map<string, Promise<RegisteredSchema>>();
  #nextUrl = 0;

  constructor(options: SchemaRegistryClientOptions) {
    this.#o = Object.freeze(resolveOptions(options));
  }

  /** The registry's base URLs, credentials removed. */
  get urls(): readonly string[] {
    return this.#o.urls;
  }

  /**
   * Registers a schema under a subject, or finds it there if it already is
   * (the registry answers with the existing id): the schema's id.
   * `normalize` asks the registry to normalize the schema first.
   */
  register(subject: string, schema: SchemaInfo, options: { normalize?: boolean } = {}): Promise<number> {
    const key = cacheKey(subject, schema, options.normalize);
    return this.#cached(this.#bySchema, key, async () => {
      const path = `/subjects/${encodeURIComponent(subject)}/versions${options.normalize ? '?normalize=true' : ''}`;
      const json = await this.#request('POST', path, schemaBody(schema));
      if (!isInt(json['id'])) throw badResponse(`POST ${path}`, 'the response has no integer "id"');
      const id = json['id'];
      if (!this.#byId.has(id)) this.#byId.set(id, Promise.resolve(withoutEmpty(schema)));
      return id;
    });
  }

  /** Finds a schema under a subject without registering it: its id and version. SUBJECT_NOT_FOUND / SCHEMA_NOT_FOUND when absent. */
  lookup(
    subject: string,
    schema: SchemaInfo,
    options: { normalize?: boolean } = {},
  ): Promise<RegisteredSchema> {
    const key = cacheKey(subject, schema, options.normalize);
    return this.#cached(this.#lookups, key, async () => {
      const path = `/subjects/${encodeURIComponent(subject)}${options.normalize ? '?normalize=true' : ''}`;
      const found = parseRegistered(
        await this.#request('POST', path, schemaBody(schema)),
        `POST ${path}`,
        subject,
      );
      if (!this.#byId.has(found.id)) this.#byId.set(found.id, Promise.resolve(withoutEmpty(found)));
      this.#bySchema.set(key, Promise.resolve(found.id));
      return found;
    });
  }

  /** The schema with this id. SCHEMA_NOT_FOUND when there is none. */
  getById(id: number): Promise<SchemaInfo> {
    if (!Number.isInteger(id) || id < 0)
      return Promise.reject(new RangeError(`a schema id is a non-negative integer, got ${id}`));
    return this.#cached(this.#byId, id, async () => {
      const path = `/schemas/ids/${id}`;
      return parseSchemaInfo(await this.#request('GET', path), `GET ${path}`);
    });
  }

  /** The subject's latest version, asked of the registry every time. */
  async getLatest(subject: string): Promise<RegisteredSchema> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions/latest`;
    const latest = parseRegistered(await this.#request('GET', path), `GET ${path}`, subject);
    if (!this.#byId.has(latest.id)) this.#byId.set(latest.id, Promise.resolve(withoutEmpty(latest)));
    return latest;
  }

  /** One version of a subject. */
  getVersion(subject: string, version: number): Promise<RegisteredSchema> {
    return this.#cached(this.#versions, JSON.stringify([subject, version]), async () => {
      const path = `/subjects/${encodeURIComponent(subject)}/versions/${version}`;
      return parseRegistered(await this.#request('GET', path), `GET ${path}`, subject);
    });
  }

  /** Forgets every cached answer. */
  clearCaches(): void {
    this.#bySchema.clear();
    this.#lookups.clear();
    this.#byId.clear();
    this.#versions.clear();
  }

  #cached<K, V>(map: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    const pending = load();
    map.set(key, pending);
    // A failure is not remembered: the next call asks again.
    pending.catch(() => {
      if (map.get(key) === pending) map.delete(key);
    });
    return pending;
  }

  /** One call, with retries: the parsed JSON object of a 2xx answer, or a SchemaRegistryError. */
  async #request(method: 'GET' | 'POST', path: string, body?: string): Promise<Record<string, unknown>> {
    const o = this.#o;
    let last: SchemaRegistryError | undefined;
    for (let attempt = 0; attempt <= o.retries; attempt++) {
      if (attempt > 0) {
        const base = Math.min(o.retryBackoffMs * 2 ** (attempt - 1), o.retryBackoffMaxMs);
        await sleep(Math.round(base * (0.8 + Math.random() * 0.4)));
      }
      const url = o.urls[this.#nextUrl % o.urls.length]!;
      const where = `Schema Registry ${url}: ${method} ${path}`;
      try {
        return await this.#attempt(url, method, path, body, where);
      } catch (err) {
        if (!(err instanceof SchemaRegistryError) || !err.retriable) throw err;
        last = err;
        // Another URL, if there is one, for the next attempt.
        this.#nextUrl = (this.#nextUrl + 1) % o.urls.length;
      }
    }
    const attempts = o.retries + 1;
    throw new SchemaRegistryError(
      last!.code,
      `${last!.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`,
      { status: last!.status, errorCode: last!.errorCode, cause: last!.cause ?? last, retriable: true },
    );
  }

  async #attempt(
    url: string,
    method: string,
    path: string,
    body: string | undefined,
    where: string,
  ): Promise<Record<string, unknown>> {
    const o = this.#o;
    const headers: Record<string, string> = { Accept: ACCEPT, ...o.headers };
    if (body !== undefined) headers['Content-Type'] = CONTENT_TYPE;
    if (o.authorization !== undefined) headers['Authorization'] = await o.authorization();
    let status: number;
    let statusText: string;
    let text: string;
    try {
      const init: RequestInit = { method, headers, signal: AbortSignal.timeout(o.requestTimeoutMs) };
      if (body !== undefined) init.body = body;
      const response = await o.fetch(`${url}${path}`, init);
      status = response.status;
      statusText = response.statusText;
      text = await response.text();
    } catch (err) {
      const name = (err as { name?: unknown })?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new SchemaRegistryError(
          'SCHEMA_REGISTRY_TIMEOUT',
          `${where} got no complete response within ${o.requestTimeoutMs} ms (requestTimeoutMs)`,
          { cause: err, retriable: true },
        );
      }
      const reason = (err as { cause?: { code?: unknown; message?: unknown } })?.cause;
      const detail =
        typeof reason?.code === 'string'
          ? reason.code
          : typeof reason?.message === 'string'
            ? reason.message
            : err instanceof Error
              ? err.message
              : String(err);
      throw new SchemaRegistryError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `${where} could not reach the registry (${detail})`,
        { cause: err, retriable: true },
      );
    }
    if (status < 200 || status > 299) throw statusError(status, statusText, text, where);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw badResponse(where, `the ${status} response is not JSON: ${JSON.stringify(excerpt(text))}`, err);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw badResponse(where, `the response is not a JSON object: ${JSON.stringify(excerpt(text))}`);
    }
    return json as Record<string, unknown>;
  }
}

function withoutEmpty(schema: SchemaInfo): SchemaInfo {
  const out: SchemaInfo = { schema: schema.schema };
  if (schema.schemaType !== undefined && schema.schemaType !== 'AVRO') out.schemaType = schema.schemaType;
  if (schema.references !== undefined && schema.references.length > 0) out.references = schema.references;
  return out;
}

function cacheKey(subject: string, schema: SchemaInfo, normalize: boolean | undefined): string {
  return JSON.stringify([
    subject,
    schema.schemaType ?? 'AVRO',
    schema.schema,
    schema.references ?? [],
    normalize === true,
  ]);
}
