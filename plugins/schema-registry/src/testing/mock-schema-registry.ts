import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SchemaInfo, SchemaReference } from '../schema-registry-client.js';

/** A request the mock received, for assertions. */
export interface MockRequest {
  method: string;
  /** The path and query, e.g. `/subjects/orders-value/versions`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A forced answer for the next request (see {@link MockSchemaRegistry.failNext}). */
export interface ForcedResponse {
  status: number;
  /** An object is sent as JSON; a string as is (e.g. garbage). Default: the registry's error body for the status. */
  body?: string | object | undefined;
  /** Wait this long before answering (longer than the client's timeout to provoke one). */
  delayMs?: number | undefined;
}

export interface MockSchemaRegistryOptions {
  /** Default 0: any free port on 127.0.0.1. */
  port?: number | undefined;
  /** Demand these credentials (else 401, error_code 40101). */
  basicAuth?: { username: string; password: string } | undefined;
  bearerToken?: string | undefined;
  /** Delay before every answer. */
  latencyMs?: number | undefined;
  /**
   * Decides whether a new schema may join a subject that has versions
   * (else 409). Default: every schema is compatible.
   */
  compatibility?: ((subject: string, schema: SchemaInfo, earlier: SchemaInfo[]) => boolean) | undefined;
}

interface StoredSchema {
  id: number;
  info: SchemaInfo;
  key: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

function identity(info: SchemaInfo): string {
  return JSON.stringify([info.schemaType ?? 'AVRO', info.schema, info.references ?? []]);
}

/**
 * An in-process Confluent Schema Registry on 127.0.0.1 (node:http) for
 * tests: the endpoints Tributary's serializers use, answering as the real
 * registry's REST API documents them, including its error bodies
 * (`{ "error_code": 40401, "message": ... }`), plus fault injection: latency,
 * forced statuses and garbage bodies, and going down and coming back.
 *
 * - `POST /subjects/{subject}/versions`: register (the same schema gets the
 *   same id under every subject; re-registering answers the existing id)
 * - `POST /subjects/{subject}`: look up a schema under a subject
 * - `GET /schemas/ids/{id}`, `GET /subjects`, `GET /subjects/{subject}/versions`
 * - `GET /subjects/{subject}/versions/{version|latest}`
 *
 * Schemas are not parsed, except that an AVRO or JSON schema must be JSON
 * (else 422, error_code 42201).
 */
export class MockSchemaRegistry {
  /** Every request received, in order. */
  readonly requests: MockRequest[] = [];
  latencyMs: number;
  compatibility: MockSchemaRegistryOptions['compatibility'];
  readonly #options: MockSchemaRegistryOptions;
  readonly #schemas: StoredSchema[] = [];
  readonly #subjects = new Map<string, number[]>();
  readonly #forced: ForcedResponse[] = [];
  #server: Server | undefined;
  #port: number;

  constructor(options: MockSchemaRegistryOptions = {}) {
    this.#options = options;
    this.latencyMs = options.latencyMs ?? 0;
    this.compatibility = options.compatibility;
    this.#port = options.port ?? 0;
  }

  /** `http://127.0.0.1:<port>` (the port stays the same across stop() and start()). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Starts listening (again, on the same port, after stop()). */
  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#send(res, 500, { error_code: 500, message: String(err) });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Goes down: closes the listener and every open connection, so clients get ECONNREFUSED. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The next requests get these answers instead, in order, whatever they ask. */
  failNext(...responses: ForcedResponse[]): void {
    this.#forced.push(...responses);
  }

  /** Registers directly (no HTTP): the id and version, as POST /subjects/{subject}/versions would. */
  register(subject: string, info: SchemaInfo): { id: number; version: number } {
    const key = identity(info);
    let stored = this.#schemas.find((s) => s.key === key);
    if (stored === undefined) {
      stored = { id: this.#schemas.length + 1, info: normalizeInfo(info), key };
      this.#schemas.push(stored);
    }
    const versions = this.#subjects.get(subject) ?? [];
    const at = versions.indexOf(stored.id);
    if (at >= 0) return { id: stored.id, version: at + 1 };
    versions.push(stored.id);
    this.#subjects.set(subject, versions);
    return { id: stored.id, version: versions.length };
  }

  /** The subjects, and each one's schema ids by version. */
  subjects(): Map<string, readonly number[]> {
    return new Map(this.#subjects);
  }

  /** The schema with this id. */
  schema(id: number): SchemaInfo | undefined {
    return this.#schemas[id - 1]?.info;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });

    const forced = this.#forced.shift();
    const delay = forced?.delayMs ?? this.latencyMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (res.destroyed) return;
    if (forced !== undefined) {
      const forcedBody = forced.body ?? { error_code: forced.status, message: `forced ${forced.status}` };
      this.#send(res, forced.status, forcedBody);
      return;
    }
    if (!this.#authorized(req.headers.authorization)) {
      this.#send(res, 401, { error_code: 40101, message: 'Unauthorized' });
      return;
    }
    const [route, query = ''] = path.split('?', 2) as [string, string?];
    const parts = route.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method;
    void query;

    if (method === 'GET' && parts.length === 1 && parts[0] === 'subjects') {
      this.#send(res, 200, [...this.#subjects.keys()]);
      return;
    }
    if (method === 'GET' && parts.length === 3 && parts[0] === 'schemas' && parts[1] === 'ids') {
      const id = Number(parts[2]);
      const stored = Number.isInteger(id) ? this.#schemas[id - 1] : undefined;
      if (stored === undefined) {
        this.#send(res, 404, { error_code: 40403, message: `Schema ${parts[2]} not found` });
        return;
      }
      this.#send(res, 200, wireInfo(stored.info));
      return;
    }
    if (parts[0] === 'subjects' && parts.length >= 2) {
      const subject = parts[1]!;
      if (method === 'POST' && parts.length === 3 && parts[2] === 'versions') {
        this.#registerRoute(res, subject, body);
        return;
      }
      if (method === 'POST' && parts.length === 2) {
        this.#lookupRoute(res, subject, body);
        return;
      }
      if (method === 'GET' && parts[2] === 'versions') {
        const versions = this.#subjects.get(subject);
        if (versions === undefined) {
          this.#send(res, 404, { error_code: 40401, message: `Subject '${subject}' not found.` });
          return;
        }
        if (parts.length === 3) {
          this.#send(
            res,
            200,
            versions.map((_, i) => i + 1),
          );
          return;
        }
        const which = parts[3]!;
        const version = which === 'latest' || which === '-1' ? versions.length : Number(which);
        const id = Number.isInteger(version) ? versions[version - 1] : undefined;
        if (parts.length !== 4 || id === undefined) {
          this.#send(res, 404, { error_code: 40402, message: `Version ${which} not found.` });
          return;
        }
        this.#send(res, 200, { subject, version, id, ...wireInfo(this.#schemas[id - 1]!.info) });
        return;
      }
    }
    this.#send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
  }

  #registerRoute(res: ServerResponse, subject: string, body: string): void {
    const info = this.#parseSchemaBody(res, body);
    if (info === undefined) return;
    const versions = this.#subjects.get(subject) ?? [];
    const existing = this.#schemas.find((s) => s.key === identity(info));
    if (existing === undefined || !versions.includes(existing.id)) {
      const earlier = versions.map((id) => this.#schemas[id - 1]!.info);
      if (
        earlier.length > 0 &&
        this.compatibility !== undefined &&
        !this.compatibility(subject, info, earlier)
      ) {
        this.#send(res, 409, {
          error_code: 409,
          message: `Schema being registered is incompatible with an earlier schema for subject "${subject}"`,
        });
        return;
      }
    }
    this.#send(res, 200, { id: this.register(subject, info).id });
  }

  #lookupRoute(res: ServerResponse, subject: string, body: string): void {
    const info = this.#parseSchemaBody(res, body);
    if (info === undefined) return;
    const versions = this.#subjects.get(subject);
    if (versions === undefined) {
      this.#send(res, 404, { error_code: 40401, message: `Subject '${subject}' not found.` });
      return;
    }
    const stored = this.#schemas.find((s) => s.key === identity(info));
    const at = stored === undefined ? -1 : versions.indexOf(stored.id);
    if (stored === undefined || at < 0) {
      this.#send(res, 404, { error_code: 40403, message: 'Schema not found' });
      return;
    }
    this.#send(res, 200, { subject, id: stored.id, version: at + 1, ...wireInfo(stored.info) });
  }

  /** The schema in a request body, or undefined after answering 422. */
  #parseSchemaBody(res: ServerResponse, body: string): SchemaInfo | undefined {
    let json: { schema?: unknown; schemaType?: unknown; references?: unknown };
    try {
      json = JSON.parse(body) as typeof json;
    } catch {
      this.#send(res, 422, { error_code: 422, message: 'Unrecognized field or malformed JSON' });
      return undefined;
    }
    const type = json.schemaType ?? 'AVRO';
    if (typeof json.schema !== 'string' || (type !== 'AVRO' && type !== 'PROTOBUF' && type !== 'JSON')) {
      this.#send(res, 422, { error_code: 42201, message: 'Invalid schema' });
      return undefined;
    }
    if (type !== 'PROTOBUF') {
      try {
        JSON.parse(json.schema);
      } catch (err) {
        this.#send(res, 422, { error_code: 42201, message: `Invalid schema: ${(err as Error).message}` });
        return undefined;
      }
    }
    const info: SchemaInfo = { schema: json.schema, schemaType: type };
    if (Array.isArray(json.references) && json.references.length > 0) {
      info.references = json.references as SchemaReference[];
    }
    return normalizeInfo(info);
  }

  #authorized(header: string | undefined): boolean {
    const { basicAuth, bearerToken } = this.#options;
    if (basicAuth !== undefined) {
      const expected = `Basic ${Buffer.from(`${basicAuth.username}:${basicAuth.password}`).toString('base64')}`;
      if (header === expected) return true;
    }
    if (bearerToken !== undefined && header === `Bearer ${bearerToken}`) return true;
    return basicAuth === undefined && bearerToken === undefined;
  }

  #send(res: ServerResponse, status: number, body: string | object): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function normalizeInfo(info: SchemaInfo): SchemaInfo {
  const out: SchemaInfo = { schema: info.schema };
  if (info.schemaType !== undefined && info.schemaType !== 'AVRO') out.schemaType = info.schemaType;
  if (info.references !== undefined && info.references.length > 0) out.references = info.references;
  return out;
}

/** As the registry answers: schemaType omitted for AVRO, references only when there are some. */
function wireInfo(info: SchemaInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { schema: info.schema };
  if (info.schemaType !== undefined) out['schemaType'] = info.schemaType;
  if (info.references !== undefined) out['references'] = info.references;
  return out;
}

/** Creates and starts a mock registry. Stop it with `stop()`. */
export async function startMockSchemaRegistry(
  options: MockSchemaRegistryOptions = {},
): Promise<MockSchemaRegistry> {
  const registry = new MockSchemaRegistry(options);
  await registry.start();
  return registry;
}
