import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestkitError } from './errors.js';

/**
 * A SASL front for the mock cluster, which has no SASL of its own: one
 * loopback listener per broker, speaking Kafka's SASL protocol to the client
 * and relaying the mechanism's messages to a real, independent SASL server
 * implementation, then piping to the broker.
 *
 * - ApiVersions is forwarded to the broker and its answer gets SaslHandshake
 *   (17, v0-1) and SaslAuthenticate (36, v0-2) added.
 * - SaslHandshake is answered here (UNSUPPORTED_SASL_MECHANISM for a
 *   mechanism not enabled, listing the enabled ones).
 * - SaslAuthenticate payloads go to a server process per exchange: GNU SASL
 *   (`gsasl --server`, Debian `gsasl`) for PLAIN and SCRAM-SHA-256, Cyrus
 *   SASL (`sasl-sample-server` with a sasldb made by `saslpasswd2`, Debian
 *   `sasl2-bin`) for SCRAM-SHA-512. Their verdict is the gateway's: a wrong
 *   proof fails in their code, and their server-final message is what the
 *   client must verify. OAUTHBEARER is checked here (neither implements its
 *   server side): the RFC 7628 client initial response is parsed strictly and
 *   the token handed to `oauthBearer.validate`; a refused token gets the RFC's
 *   error document, and the client's `^A` then SASL_AUTHENTICATION_FAILED.
 * - A failure is answered with SASL_AUTHENTICATION_FAILED and the
 *   connection closed 50 ms later, as a broker does.
 * - Any other request before authentication closes the connection.
 * - With `sessionLifetimeMs`, SaslAuthenticate v1+ reports it (KIP-368), and
 *   a request other than SaslHandshake / SaslAuthenticate arriving after the
 *   session expired closes the connection, as a broker does. A
 *   re-authentication is answered in order with the responses still to come
 *   from the broker; one that arrives while the broker still owes responses
 *   is counted in `reauthWithInFlight`.
 *
 * Testkit does not depend on core, so the few codecs needed are written here
 * by hand from the protocol guide.
 */

export type SaslServerKind = 'gsasl' | 'cyrus' | 'builtin';

export interface SaslGatewayOptions {
  /** The brokers to front (`MockCluster.brokers`). */
  brokers: ReadonlyArray<{ id: number; port: number }>;
  /** Enabled mechanisms, e.g. `['PLAIN', 'SCRAM-SHA-256']`. */
  mechanisms: readonly string[];
  /** User name -> password, for PLAIN and SCRAM. */
  users?: Readonly<Record<string, string>>;
  /** OAUTHBEARER: true to accept the token. */
  oauthBearer?: { validate(token: string, extensions: Readonly<Record<string, string>>): boolean };
  /** KIP-368 session lifetime reported by SaslAuthenticate v1+ (0: none). */
  sessionLifetimeMs?: number;
  /** Override which server implements a mechanism (defaults: see the module doc). */
  servers?: Readonly<Record<string, SaslServerKind>>;
}

export interface GatewayConnection {
  readonly id: number;
  readonly brokerId: number;
  /** Successful authentications on this connection (the first one, then re-authentications). */
  authentications: number;
  mechanism: string | undefined;
  /** Re-authentications that arrived while the broker still owed responses. */
  reauthWithInFlight: number;
  /** Closed because a request came after the session expired. */
  closedForExpiry: boolean;
  /** Closed because a request other than ApiVersions/SASL came before authentication. */
  rejectedBeforeAuth: boolean;
}

export interface SaslGatewayStats {
  connections: GatewayConnection[];
  successes: number;
  failures: number;
  /** What the SASL servers said when they refused. */
  failureMessages: string[];
  /** Every OAUTHBEARER token presented. */
  tokens: string[];
}

export interface SaslGateway {
  /** Broker port -> gateway port. */
  readonly ports: ReadonlyMap<number, number>;
  /** The gateway ports, as a bootstrap list. */
  readonly bootstrapServers: string;
  readonly stats: SaslGatewayStats;
  /**
   * Wraps a transport factory so connections to a broker's advertised port go
   * to its gateway (brokers advertise their own ports). Typed structurally:
   * pass core's TransportFactory and get one back.
   */
  route<O extends { port: number }, H, T>(
    inner: (options: O, handler: H) => T,
  ): (options: O, handler: H) => T;
  stop(): Promise<void>;
}

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const PRODUCE = 0;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;
const SASL_AUTHENTICATION_FAILED = 58;

const DEFAULT_SERVERS: Record<string, SaslServerKind> = {
  PLAIN: 'gsasl',
  'SCRAM-SHA-1': 'gsasl',
  'SCRAM-SHA-256': 'gsasl',
  'SCRAM-SHA-512': 'cyrus',
  OAUTHBEARER: 'builtin',
};

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function which(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

/** Starts one gateway listener per broker on 127.0.0.1. */
export async function startSaslGateway(options: SaslGatewayOptions): Promise<SaslGateway> {
  const servers = { ...DEFAULT_SERVERS, ...options.servers };
  const kinds = new Set(options.mechanisms.map((m) => servers[m]));
  if (kinds.has(undefined)) throw new TestkitError(`no SASL server for ${options.mechanisms.join(', ')}`);
  if (kinds.has('gsasl') && !which('gsasl'))
    throw new TestkitError('gsasl not found: install the Debian package gsasl');
  let cyrusDir: string | undefined;
  if (kinds.has('cyrus')) {
    if (!which('sasl-sample-server') || !which('saslpasswd2'))
      throw new TestkitError('sasl-sample-server not found: install the Debian package sasl2-bin');
    cyrusDir = makeCyrusConfig(options);
  }
  const stats: SaslGatewayStats = {
    connections: [],
    successes: 0,
    failures: 0,
    failureMessages: [],
    tokens: [],
  };
  const listeners: Server[] = [];
  const sockets = new Set<Socket>();
  const ports = new Map<number, number>();
  let nextId = 0;
  for (const broker of options.brokers) {
    const server = createServer((client) => {
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      const info: GatewayConnection = {
        id: ++nextId,
        brokerId: broker.id,
        authentications: 0,
        mechanism: undefined,
        reauthWithInFlight: 0,
        closedForExpiry: false,
        rejectedBeforeAuth: false,
      };
      stats.connections.push(info);
      new GatewayConnectionHandler(client, broker.port, info, options, servers, stats, sockets, cyrusDir);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, resolve);
    });
    listeners.push(server);
    ports.set(broker.port, (server.address() as { port: number }).port);
  }
  const gatewayPorts = new Set(ports.values());
  return {
    ports,
    bootstrapServers: [...ports.values()].map((p) => `127.0.0.1:${p}`).join(','),
    stats,
    route(inner) {
      return (o, handler) => {
        let port = ports.get(o.port);
        if (port === undefined && gatewayPorts.has(o.port)) port = o.port;
        // Unmapped: nothing listens on port 1, so nothing bypasses the gateway.
        return inner({ ...o, port: port ?? 1 }, handler);
      };
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(listeners.map((l) => new Promise((resolve) => l.close(resolve))));
      for (const child of children) child.kill('SIGKILL');
      if (cyrusDir !== undefined) rmSync(cyrusDir, { recursive: true, force: true });
    },
  };
}

/** A sasldb with the users, and the Cyrus config naming it. */
function makeCyrusConfig(options: SaslGatewayOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-cyrus-'));
  const db = join(dir, 'sasldb2');
  for (const [user, password] of Object.entries(options.users ?? {})) {
    const r = spawnSync('saslpasswd2', ['-p', '-c', '-f', db, '-a', 'sample', '-u', 'cyrus', user], {
      input: password,
    });
    if (r.status !== 0) throw new TestkitError(`saslpasswd2 failed: ${r.stderr?.toString()}`);
  }
  writeFileSync(
    // The sample server's application name is "sample": it reads sample.conf.
    join(dir, 'sample.conf'),
    [
      `sasldb_path: ${db}`,
      'pwcheck_method: auxprop',
      'auxprop_plugin: sasldb',
      `mech_list: ${options.mechanisms.join(' ')}`,
      'scram_iteration_counter: 4096',
      '',
    ].join('\n'),
  );
  return dir;
}

// --- Mechanism servers -------------------------------------------------------

type StepResult =
  | { kind: 'continue'; data: Buffer }
  | { kind: 'success'; data: Buffer; user: string }
  | { kind: 'failure'; message: string; data?: Buffer };

interface MechanismServer {
  step(client: Buffer): Promise<StepResult>;
  close(): void;
}

const STEP_TIMEOUT_MS = 10_000;

/** Collects a child's output and lets a step wait until a condition on it holds (or the child exits). */
class ChildIo {
  out = '';
  err = '';
  exitCode: number | null | undefined;
  #waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    children.add(child);
    child.stdout?.on('data', (d: Buffer) => {
      this.out += d.toString();
      this.#fire();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.err += d.toString();
      this.#fire();
    });
    child.once('exit', (code) => {
      children.delete(child);
      this.exitCode = code;
      this.#fire();
    });
    child.stdin?.on('error', () => {});
  }

  #fire(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async until(done: () => boolean): Promise<void> {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (!done() && this.exitCode === undefined) {
      if (Date.now() > deadline) throw new TestkitError(`SASL server timed out; stderr: ${this.err}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  kill(): void {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
  }
}

/** The user name a PLAIN or SCRAM client-first message is for. */
function userOf(mechanism: string, first: Buffer): string {
  const text = first.toString('utf8');
  if (mechanism === 'PLAIN') return text.split('\0')[1] ?? '';
  const m = /(?:^|,)n=([^,]*)/.exec(text.replace(/^[^,]*,[^,]*,/, ''));
  return (m?.[1] ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * GNU SASL's CLI server. Each step prints one base64 line on stdout, then
 * prompts on stderr; gsasl 2.2 prompts once more after success and only then
 * reports "authentication finished", so the last step of a mechanism (known:
 * PLAIN has one client message, SCRAM two) is confirmed with an empty line.
 */
class GsaslServer implements MechanismServer {
  #io: ChildIo | undefined;
  #steps = 0;
  #user = '';
  readonly #lastStep: number;

  constructor(
    readonly mechanism: string,
    readonly users: Readonly<Record<string, string>>,
  ) {
    this.#lastStep = mechanism === 'PLAIN' ? 1 : 2;
  }

  async step(client: Buffer): Promise<StepResult> {
    if (this.#io === undefined) {
      this.#user = userOf(this.mechanism, client);
      // An unknown user gets a password nobody has: the server refuses it in its own code.
      const password = this.users[this.#user] ?? `no-such-user-${Math.random()}`;
      const args = ['--server', '--mechanism', this.mechanism, '-a', this.#user, '-p', password];
      if (this.mechanism.startsWith('SCRAM')) args.push('--iteration-count=4096');
      this.#io = new ChildIo(spawn('gsasl', args, { stdio: ['pipe', 'pipe', 'pipe'] }));
      await this.#io.until(() => this.#prompts() >= 1 && this.#lines().length >= 2);
    }
    const io = this.#io;
    this.#steps++;
    io.write(client.toString('base64'));
    await io.until(() => this.#prompts() >= this.#steps + 1 && this.#lines().length >= this.#steps + 2);
    if (io.exitCode !== undefined) return { kind: 'failure', message: this.#why() };
    const data = Buffer.from(this.#lines()[this.#steps + 1] ?? '', 'base64');
    if (this.#steps < this.#lastStep) return { kind: 'continue', data };
    io.write('');
    await io.until(() => io.err.includes('authentication finished'));
    if (!io.err.includes('authentication finished')) return { kind: 'failure', message: this.#why() };
    return { kind: 'success', data, user: this.#user };
  }

  #lines(): string[] {
    const all = (this.#io as ChildIo).out.split('\n');
    all.pop(); // the part after the last newline
    return all;
  }

  #prompts(): number {
    return (this.#io as ChildIo).err.split('Enter base64 authentication data').length - 1;
  }

  #why(): string {
    const m = /gsasl: (.*)/.exec((this.#io as ChildIo).err);
    return `gsasl: ${m?.[1] ?? `exited with ${this.#io?.exitCode}`}`;
  }

  close(): void {
    this.#io?.kill();
  }
}

/**
 * Cyrus SASL's sample server (server-send-last, `-l`): the first client
 * message carries the mechanism name and the initial response separated by
 * NUL; challenges come as `S: <base64>` followed by "Waiting for client
 * reply"; success is "Negotiation complete" (the server's last message after
 * "might need additional send"); failure exits non-zero.
 */
class CyrusServer implements MechanismServer {
  #io: ChildIo | undefined;
  #seen = 0;
  #user = '';

  constructor(
    readonly mechanism: string,
    readonly confDir: string,
  ) {}

  async step(client: Buffer): Promise<StepResult> {
    let payload = client;
    if (this.#io === undefined) {
      this.#user = userOf(this.mechanism, client);
      // stdbuf: the sample server writes through stdio, fully buffered on a pipe.
      const child = spawn(
        'stdbuf',
        ['-o0', 'sasl-sample-server', '-m', this.mechanism, '-s', 'tributary', '-u', 'cyrus', '-l'],
        { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SASL_CONF_PATH: this.confDir } },
      );
      this.#io = new ChildIo(child);
      await this.#io.until(() => (this.#io as ChildIo).out.includes('Waiting for client mechanism'));
      this.#seen = this.#io.out.length;
      payload = Buffer.concat([Buffer.from(`${this.mechanism}\0`), client]);
    }
    const io = this.#io;
    io.write(`C: ${payload.toString('base64')}`);
    const fresh = () => io.out.slice(this.#seen);
    await io.until(
      () =>
        /Waiting for client reply/.test(fresh()) ||
        (/Negotiation complete/.test(fresh()) &&
          /Username:|Waiting for/.test(fresh().split('Negotiation complete')[1] ?? '')),
    );
    const text = fresh();
    this.#seen = io.out.length;
    if (/Negotiation complete/.test(text)) {
      const extra = /might need additional send:\s*\nS: ([^\n]*)/.exec(text);
      return { kind: 'success', data: Buffer.from(extra?.[1] ?? '', 'base64'), user: this.#user };
    }
    const challenge = /S: ([^\n]*)\n[\s\S]*Waiting for client reply/.exec(text);
    if (challenge !== null && io.exitCode === undefined) {
      return { kind: 'continue', data: Buffer.from(challenge[1] as string, 'base64') };
    }
    const why = /sasl-sample-server: (SASL .*)/.exec(io.err);
    return {
      kind: 'failure',
      message: `cyrus: ${why?.[1] ?? `exited with ${io.exitCode}: ${io.err.trim()}`}`,
    };
  }

  close(): void {
    this.#io?.kill();
  }
}

// RFC 7628 client initial response: GS2 header, ^A, key=value^A pairs, ^A (control characters spelled out).
const SOH = '\\x01';
const INITIAL_RESPONSE = new RegExp(
  `^n,(a=[^,]*)?,${SOH}((?:[A-Za-z]+=[\\x21-\\x7e \\t\\r\\n]*${SOH})+)${SOH}$`,
);

/** RFC 7628 server side, strict about the client initial response's format. */
class OAuthBearerServer implements MechanismServer {
  #refused = false;

  constructor(
    readonly validate: ((token: string, extensions: Readonly<Record<string, string>>) => boolean) | undefined,
    readonly stats: SaslGatewayStats,
  ) {}

  async step(client: Buffer): Promise<StepResult> {
    if (this.#refused) {
      // After the error document the client must send exactly ^A.
      return client.length === 1 && client[0] === 1
        ? { kind: 'failure', message: 'invalid_token' }
        : { kind: 'failure', message: 'expected ^A after the error document' };
    }
    const text = client.toString('utf8');
    const m = INITIAL_RESPONSE.exec(text);
    if (m === null)
      return { kind: 'failure', message: `malformed OAUTHBEARER initial response ${JSON.stringify(text)}` };
    const pairs = new Map<string, string>();
    for (const kv of (m[2] as string).split('\x01')) {
      if (kv === '') continue;
      const eq = kv.indexOf('=');
      pairs.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    const auth = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(pairs.get('auth') ?? '');
    if (auth === null) return { kind: 'failure', message: 'no "auth=Bearer <token>" pair' };
    const token = auth[1] as string;
    pairs.delete('auth');
    this.stats.tokens.push(token);
    if (this.validate?.(token, Object.fromEntries(pairs)) === true) {
      return { kind: 'success', data: Buffer.alloc(0), user: token };
    }
    this.#refused = true;
    return { kind: 'continue', data: Buffer.from('{"status":"invalid_token"}') };
  }

  close(): void {}
}

// --- One client connection --------------------------------------------------

interface Slot {
  data?: Buffer;
  /** Filled by the broker's next response (else by the gateway itself). */
  upstream: boolean;
  /** Rewrite the broker's ApiVersions response of this version. */
  apiVersions?: number;
}

class GatewayConnectionHandler {
  readonly #upstream: Socket;
  #fromClient: Buffer = Buffer.alloc(0);
  #fromBroker: Buffer = Buffer.alloc(0);
  readonly #slots: Slot[] = [];
  #authenticated = false;
  #expiresAt = Number.POSITIVE_INFINITY;
  #mechanism: string | undefined;
  #server: MechanismServer | undefined;
  /** SASL requests are handled one at a time, in order. */
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    readonly client: Socket,
    brokerPort: number,
    readonly info: GatewayConnection,
    readonly options: SaslGatewayOptions,
    readonly servers: Readonly<Record<string, SaslServerKind>>,
    readonly stats: SaslGatewayStats,
    sockets: Set<Socket>,
    readonly cyrusDir: string | undefined,
  ) {
    this.#upstream = connect({ host: '127.0.0.1', port: brokerPort });
    sockets.add(this.#upstream);
    this.#upstream.once('close', () => {
      sockets.delete(this.#upstream);
      this.#close();
    });
    this.#upstream.on('error', () => this.#close());
    this.#upstream.on('data', (chunk: Buffer) => this.#onBroker(chunk));
    client.on('error', () => this.#close());
    client.once('close', () => this.#close());
    client.on('data', (chunk: Buffer) => this.#onClient(chunk));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server?.close();
    this.client.destroy();
    this.#upstream.destroy();
  }

  #onClient(chunk: Buffer): void {
    this.#fromClient = this.#fromClient.length === 0 ? chunk : Buffer.concat([this.#fromClient, chunk]);
    while (!this.#closed && this.#fromClient.length >= 4) {
      const size = this.#fromClient.readInt32BE(0);
      if (this.#fromClient.length < 4 + size) return;
      const frame = this.#fromClient.subarray(0, 4 + size);
      this.#fromClient = this.#fromClient.subarray(4 + size);
      this.#onRequest(frame);
    }
  }

  #onRequest(frame: Buffer): void {
    const apiKey = frame.readInt16BE(4);
    const version = frame.readInt16BE(6);
    const correlationId = frame.readInt32BE(8);
    if (apiKey === SASL_HANDSHAKE || apiKey === SASL_AUTHENTICATE) {
      if (this.#slots.some((s) => s.upstream)) this.info.reauthWithInFlight++;
      const slot: Slot = { upstream: false };
      this.#slots.push(slot);
      this.#chain = this.#chain.then(async () => {
        const response = await this.#sasl(apiKey, version, correlationId, frame).catch((err: Error) => {
          this.stats.failureMessages.push(`gateway: ${err.message}`);
          return undefined;
        });
        if (response === undefined) {
          this.#close();
          return;
        }
        slot.data = response;
        this.#flush();
      });
      return;
    }
    if (apiKey !== API_VERSIONS) {
      if (!this.#authenticated) {
        this.info.rejectedBeforeAuth = true;
        this.#close();
        return;
      }
      if (Date.now() >= this.#expiresAt) {
        this.info.closedForExpiry = true;
        this.#close();
        return;
      }
    }
    if (expectsResponse(frame, apiKey, version)) {
      this.#slots.push(
        apiKey === API_VERSIONS ? { upstream: true, apiVersions: version } : { upstream: true },
      );
    }
    this.#upstream.write(frame);
  }

  #onBroker(chunk: Buffer): void {
    this.#fromBroker = this.#fromBroker.length === 0 ? chunk : Buffer.concat([this.#fromBroker, chunk]);
    while (this.#fromBroker.length >= 4) {
      const size = this.#fromBroker.readInt32BE(0);
      if (this.#fromBroker.length < 4 + size) return;
      const frame = this.#fromBroker.subarray(0, 4 + size);
      this.#fromBroker = this.#fromBroker.subarray(4 + size);
      const slot = this.#slots.find((s) => s.upstream && s.data === undefined);
      if (slot === undefined) {
        this.#close();
        return;
      }
      slot.data = slot.apiVersions === undefined ? frame : addSaslApis(frame, slot.apiVersions);
      this.#flush();
    }
  }

  #flush(): void {
    while (this.#slots.length > 0 && this.#slots[0]?.data !== undefined) {
      const slot = this.#slots.shift() as Slot;
      if (!this.#closed) this.client.write(slot.data as Buffer);
    }
  }

  async #sasl(
    apiKey: number,
    version: number,
    correlationId: number,
    frame: Buffer,
  ): Promise<Buffer | undefined> {
    // Request header v1 (v2 for SaslAuthenticate v2): api key, version, correlation id, client id[, tags].
    let pos = 12;
    const clientIdLength = frame.readInt16BE(pos);
    pos += 2 + Math.max(0, clientIdLength);
    const flexible = apiKey === SASL_AUTHENTICATE && version >= 2;
    if (flexible) pos = skipTags(frame, pos);
    if (apiKey === SASL_HANDSHAKE) {
      const length = frame.readInt16BE(pos);
      const mechanism = frame.toString('utf8', pos + 2, pos + 2 + length);
      const enabled = this.options.mechanisms.includes(mechanism);
      const w = new Out().int32(correlationId).int16(enabled ? 0 : UNSUPPORTED_SASL_MECHANISM);
      w.int32(this.options.mechanisms.length);
      for (const m of this.options.mechanisms) w.string(m);
      if (!enabled) {
        this.stats.failures++;
        this.stats.failureMessages.push(`unsupported mechanism ${mechanism}`);
        setTimeout(() => this.#close(), 50);
      } else {
        this.#mechanism = mechanism;
        this.#server?.close();
        this.#server = undefined;
      }
      return w.frame();
    }
    // SaslAuthenticate
    let authBytes: Buffer;
    if (flexible) {
      const [n, at] = readUvarint(frame, pos);
      authBytes = frame.subarray(at, at + n - 1);
    } else {
      const n = frame.readInt32BE(pos);
      authBytes = frame.subarray(pos + 4, pos + 4 + n);
    }
    const reply = (errorCode: number, message: string | null, data: Buffer, lifetime: number): Buffer => {
      const w = new Out().int32(correlationId);
      if (flexible) w.uvarint(0);
      w.int16(errorCode);
      if (flexible) {
        if (message === null) w.uvarint(0);
        else w.compactString(message);
        w.uvarint(data.length + 1).raw(data);
      } else {
        w.nullableString(message).int32(data.length).raw(data);
      }
      if (version >= 1) w.int64(lifetime);
      if (flexible) w.uvarint(0);
      return w.frame();
    };
    const mechanism = this.#mechanism;
    if (mechanism === undefined) {
      setTimeout(() => this.#close(), 50);
      return reply(ILLEGAL_SASL_STATE, 'SaslAuthenticate before SaslHandshake', Buffer.alloc(0), 0);
    }
    this.#server ??= this.#serverFor(mechanism);
    const result = await this.#server.step(Buffer.from(authBytes));
    if (result.kind === 'continue') return reply(0, null, result.data, 0);
    this.#server.close();
    this.#server = undefined;
    this.#mechanism = undefined;
    if (result.kind === 'failure') {
      this.stats.failures++;
      this.stats.failureMessages.push(result.message);
      setTimeout(() => this.#close(), 50);
      return reply(
        SASL_AUTHENTICATION_FAILED,
        `Authentication failed: ${result.message}`,
        Buffer.alloc(0),
        0,
      );
    }
    this.stats.successes++;
    this.#authenticated = true;
    this.info.authentications++;
    this.info.mechanism = mechanism;
    const lifetime = this.options.sessionLifetimeMs ?? 0;
    this.#expiresAt = lifetime > 0 ? Date.now() + lifetime : Number.POSITIVE_INFINITY;
    return reply(0, null, result.data, lifetime);
  }

  #serverFor(mechanism: string): MechanismServer {
    const kind = this.servers[mechanism];
    if (kind === 'gsasl') return new GsaslServer(mechanism, this.options.users ?? {});
    if (kind === 'cyrus') return new CyrusServer(mechanism, this.cyrusDir as string);
    return new OAuthBearerServer(
      this.options.oauthBearer?.validate.bind(this.options.oauthBearer),
      this.stats,
    );
  }
}

/** False only for Produce with acks=0 (the broker sends no response). */
function expectsResponse(frame: Buffer, apiKey: number, version: number): boolean {
  if (apiKey !== PRODUCE) return true;
  let pos = 12;
  const clientIdLength = frame.readInt16BE(pos);
  pos += 2 + Math.max(0, clientIdLength);
  const flexible = version >= 9;
  if (flexible) pos = skipTags(frame, pos);
  if (version >= 3) {
    if (flexible) {
      const [n, at] = readUvarint(frame, pos);
      pos = at + Math.max(0, n - 1);
    } else {
      const n = frame.readInt16BE(pos);
      pos += 2 + Math.max(0, n);
    }
  }
  return frame.readInt16BE(pos) !== 0;
}

/** The broker's ApiVersions response with SaslHandshake 0-1 and SaslAuthenticate 0-2 set. */
function addSaslApis(frame: Buffer, version: number): Buffer {
  // Response header v0 (always, for ApiVersions): size, correlation id.
  const errorCode = frame.readInt16BE(8);
  if (errorCode !== 0) return frame;
  const flexible = version >= 3;
  let pos = 10;
  let count: number;
  if (flexible) {
    const [n, at] = readUvarint(frame, pos);
    count = n - 1;
    pos = at;
  } else {
    count = frame.readInt32BE(pos);
    pos += 4;
  }
  const keys: Array<[number, number, number]> = [];
  for (let i = 0; i < count; i++) {
    keys.push([frame.readInt16BE(pos), frame.readInt16BE(pos + 2), frame.readInt16BE(pos + 4)]);
    pos += 6;
    if (flexible) pos = skipTags(frame, pos);
  }
  const rest = frame.subarray(pos);
  const kept = keys.filter(([k]) => k !== SASL_HANDSHAKE && k !== SASL_AUTHENTICATE);
  kept.push([SASL_HANDSHAKE, 0, 1], [SASL_AUTHENTICATE, 0, 2]);
  kept.sort((a, b) => a[0] - b[0]);
  const w = new Out().int32(frame.readInt32BE(4)).int16(0);
  if (flexible) w.uvarint(kept.length + 1);
  else w.int32(kept.length);
  for (const [k, min, max] of kept) {
    w.int16(k).int16(min).int16(max);
    if (flexible) w.uvarint(0);
  }
  w.raw(rest);
  return w.frame();
}

function readUvarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++] as number;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

function skipTags(buf: Buffer, pos: number): number {
  let [n, at] = readUvarint(buf, pos);
  for (; n > 0; n--) {
    const [, afterTag] = readUvarint(buf, at);
    const [size, afterSize] = readUvarint(buf, afterTag);
    at = afterSize + size;
  }
  return at;
}

/** A tiny big-endian writer for the gateway's responses; `frame()` prefixes the size. */
class Out {
  readonly #parts: Buffer[] = [];

  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.#parts.push(b);
    return this;
  }

  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.#parts.push(b);
    return this;
  }

  int64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    this.#parts.push(b);
    return this;
  }

  uvarint(v: number): this {
    const bytes: number[] = [];
    let n = v;
    while (n >= 0x80) {
      bytes.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    bytes.push(n);
    this.#parts.push(Buffer.from(bytes));
    return this;
  }

  string(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.int16(b.length).raw(b);
  }

  nullableString(s: string | null): this {
    return s === null ? this.int16(-1) : this.string(s);
  }

  compactString(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.uvarint(b.length + 1).raw(b);
  }

  raw(b: Buffer): this {
    this.#parts.push(b);
    return this;
  }

  frame(): Buffer {
    const body = Buffer.concat(this.#parts);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    return Buffer.concat([size, body]);
  }
}
