import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import type { NetworkConfig } from '../config/network-config.js';
import {
  AuthenticationError,
  IllegalStateError,
  isAuthenticationError,
  isKafkaClientError,
  NetworkError,
  ProtocolError,
  RequestTimeoutError,
  UnsupportedVersionError,
} from '../errors.js';
import { type ApiDescriptor, requestHeaderVersion, responseHeaderVersion } from '../protocol/api.js';
import { ApiVersionsApi } from '../protocol/apis/api-versions.js';
import { readResponseHeader, writeRequestHeader } from '../protocol/header.js';
import { Reader } from '../protocol/reader.js';
import { type BrokerApiVersions, interpretApiVersionsResponse } from '../protocol/versions.js';
import { Writer } from '../protocol/writer.js';
import { type Logger, silentLogger } from './logger.js';
import { authenticate } from './sasl/authenticator.js';
import type { SaslMechanism } from './sasl/mechanism.js';
import { saslMechanismFor } from './sasl/options.js';
import type { Selectable, SelectorListener } from './selector.js';
import { tlsOptionsFromConfig } from './tls-config.js';
import { isTlsError } from './tls-errors.js';

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export const ConnectionState = {
  Disconnected: 'disconnected',
  Connecting: 'connecting',
  ApiVersions: 'api-versions',
  /** SaslHandshake / SaslAuthenticate in progress: on a new connection, or a KIP-368 re-authentication. */
  Authenticating: 'authenticating',
  Ready: 'ready',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export interface RequestOptions {
  /** A fixed version, or a choice from the broker's ranges; default: the highest both support. */
  version?: number | ((broker: BrokerApiVersions) => number);
  /** Writes the body instead of `api.encodeRequest` (the hot-path Produce encoder). */
  encode?: (w: Writer, version: number) => void;
  /** False for requests the broker does not answer (Produce with acks=0). Default true. */
  expectResponse?: boolean;
  /** Overrides requestTimeoutMs for this request. */
  timeoutMs?: number;
  /**
   * Fail at once if the node's connection fails before the request is sent,
   * rather than waiting for a reconnect: for requests that may go to any node
   * (metadata), whose caller then picks another.
   */
  failFast?: boolean;
}

export interface NetworkClientEvents {
  connect: [{ nodeId: number; host: string; port: number }];
  ready: [{ nodeId: number; versions: BrokerApiVersions }];
  /** `byClient`: we closed it (timeout, idle, protocol error, close()); otherwise the broker or the network did. */
  disconnect: [{ nodeId: number; error: Error | undefined; byClient: boolean }];
  requestTimeout: [{ nodeId: number; api: string; correlationId: number; timeoutMs: number }];
  /** A SASL exchange completed on a connection (`reauthentication`: KIP-368, on a live connection). */
  authenticated: [
    { nodeId: number; mechanism: string; sessionLifetimeMs: number; reauthentication: boolean },
  ];
  /**
   * A broker refused us (SASL, or a TLS certificate that does not verify):
   * everything waiting on the node failed with `error`, and the node is not
   * reconnected before `reconnectBackoffMaxMs`.
   */
  authenticationFailed: [{ nodeId: number; error: AuthenticationError }];
}

export interface NetworkClientOptions {
  logger?: Logger;
  /** Resolves a host name to addresses (default: node:dns lookup, all addresses). */
  resolveHost?: (host: string) => Promise<string[]>;
  /** Custom SASL mechanisms (the `SASL_MECHANISM` token); `saslMechanism` picks one by name. */
  saslMechanisms?: readonly SaslMechanism[];
}

const NO_DEADLINE = Number.POSITIVE_INFINITY;

interface InFlight {
  correlationId: number;
  apiName: string;
  version: number;
  responseHeaderVersion: number;
  deadline: number;
  timeoutMs: number;
  decode: (r: Reader) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Pending {
  api: ApiDescriptor<unknown, unknown> | undefined; // undefined: a readiness waiter
  request: unknown;
  options: RequestOptions;
  deadline: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

class NodeState {
  state: ConnectionState = ConnectionState.Disconnected;
  connectionId = -1;
  inFlight: InFlight[] = [];
  pending: Pending[] = [];
  versions: BrokerApiVersions | undefined;
  failures = 0;
  nextConnectAt = 0;
  lastActivity = 0;
  addresses: string[] = [];
  addressIndex = 0;
  /** Set when we close the connection on purpose, so in-flight requests fail with the reason. */
  closeReason: Error | undefined;
  lastError: Error | undefined;
  /** Still in the latest broker list (bootstrap nodes always are). */
  listed = true;
  /** The last connection was refused (authentication, certificate); cleared when one becomes ready. */
  authFailure: AuthenticationError | undefined;
  /** KIP-368: when to re-authenticate the current connection. */
  reauthAt = NO_DEADLINE;
  /** Re-authentication is due: no new requests go out; it starts once the in-flight ones are answered. */
  reauthDue = false;

  constructor(
    readonly nodeId: number,
    public host: string,
    public port: number,
  ) {}
}

/**
 * Requests to brokers over the selector: one connection per node, ApiVersions
 * negotiated on connect, correlation ids, a FIFO of in-flight requests per
 * node bounded by `maxInFlightRequestsPerConnection`, request timeouts
 * (closing the connection and failing what was in flight on it, retriably),
 * reconnect backoff (exponential with jitter), every DNS address tried in
 * turn, idle connections closed after `connectionsMaxIdleMs`.
 *
 * Requests wait (in order) for their node to be ready and for a free slot;
 * a request not sent within its timeout fails with a NetworkError carrying
 * the last connection error. One timer, re-armed to the nearest deadline,
 * serves every timeout, backoff, idle check and re-authentication.
 *
 * Security (`securityProtocol`): with SSL / SASL_SSL every connection gets
 * the TLS options from the config (`TransportOptions.tls`); with SASL_*, a
 * connection is ready only after SaslHandshake and SaslAuthenticate (see
 * `sasl/authenticator.ts`). When the broker reports a session lifetime
 * (KIP-368), the connection re-authenticates at 85-95% of it, at random as
 * the Java client does: new requests wait, the ones in flight are answered,
 * the exchange runs on the same connection, then the waiting requests go
 * out in their order.
 *
 * A refused authentication (AuthenticationError: SASL, or a TLS failure
 * that only a certificate or configuration change can fix) is not retried
 * like a lost connection: every request waiting on the node fails with it at
 * once, and the node is not reconnected before `reconnectBackoffMaxMs`, and
 * then only for a new request (the Java client's AuthenticationException).
 */
export class NetworkClient extends EventEmitter<NetworkClientEvents> implements SelectorListener {
  readonly config: NetworkConfig;
  readonly #selector: Selectable;
  readonly #log: Logger;
  readonly #resolveHost: (host: string) => Promise<string[]>;
  readonly #nodes = new Map<number, NodeState>();
  readonly #byConnection = new Map<number, NodeState>();
  readonly #writer = new Writer(64 * 1024);
  readonly #clientId: Buffer;
  #nextConnectionId = 0;
  #nextCorrelationId = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = NO_DEADLINE;
  readonly #onTimer = () => this.#handleTimer();
  #closed = false;
  #closedPromise: Promise<void> | undefined;
  readonly #sasl: SaslMechanism | undefined;
  readonly #tls: Readonly<Record<string, unknown>> | undefined;

  /** Throws a ConfigError for a SASL or TLS setting that cannot work (unknown mechanism, unreadable file). */
  constructor(config: NetworkConfig, selector: Selectable, options: NetworkClientOptions = {}) {
    super();
    this.config = config;
    this.#sasl = saslMechanismFor(config, options.saslMechanisms);
    this.#tls = tlsOptionsFromConfig(config) as Readonly<Record<string, unknown>> | undefined;
    this.#selector = selector;
    this.#log = options.logger ?? silentLogger;
    this.#resolveHost = options.resolveHost ?? defaultResolveHost;
    this.#clientId = Buffer.from(config.clientId, 'utf8');
    selector.setListener(this);
    config.bootstrapServers.forEach((hostPort, i) => {
      const { host, port } = parseHostPort(hostPort);
      // Bootstrap nodes get negative ids until Metadata names the real brokers.
      this.#nodes.set(-(i + 1), new NodeState(-(i + 1), host, port));
    });
  }

  /** Node ids known (bootstrap ones are negative). */
  get nodeIds(): number[] {
    return [...this.#nodes.keys()];
  }

  /** Replaces the broker list (from Metadata). Nodes that left are closed once idle; changed addresses reconnect. */
  setBrokers(brokers: readonly BrokerAddress[]): void {
    const seen = new Set<number>();
    for (const b of brokers) {
      seen.add(b.nodeId);
      const node = this.#nodes.get(b.nodeId);
      if (!node) {
        this.#nodes.set(b.nodeId, new NodeState(b.nodeId, b.host, b.port));
      } else if (node.host !== b.host || node.port !== b.port) {
        node.host = b.host;
        node.port = b.port;
        node.addresses = [];
        node.listed = true;
        if (node.state !== ConnectionState.Disconnected) this.#selector.close(node.connectionId);
      } else {
        node.listed = true;
      }
    }
    for (const node of this.#nodes.values()) {
      if (node.nodeId >= 0 && !seen.has(node.nodeId)) node.listed = false;
    }
    this.#rearm();
  }

  /** Adds (or updates) one broker without touching the others: a coordinator found by FindCoordinator. */
  ensureBroker(b: BrokerAddress): void {
    const node = this.#nodes.get(b.nodeId);
    if (!node) this.#nodes.set(b.nodeId, new NodeState(b.nodeId, b.host, b.port));
    else if (node.host !== b.host || node.port !== b.port) {
      node.host = b.host;
      node.port = b.port;
      node.addresses = [];
      if (node.state !== ConnectionState.Disconnected) this.#selector.close(node.connectionId);
    }
  }

  connectionState(nodeId: number): ConnectionState {
    return this.#nodes.get(nodeId)?.state ?? ConnectionState.Disconnected;
  }

  /** Ready, and below the in-flight limit. */
  isReady(nodeId: number): boolean {
    const node = this.#nodes.get(nodeId);
    return (
      node !== undefined &&
      node.state === ConnectionState.Ready &&
      !node.reauthDue &&
      node.inFlight.length < this.config.maxInFlightRequestsPerConnection
    );
  }

  inFlightCount(nodeId: number): number {
    return this.#nodes.get(nodeId)?.inFlight.length ?? 0;
  }

  /**
   * The most recent refusal (AuthenticationError) of a node that has not
   * connected since, or undefined: what metadata waits fail with when no
   * node can be asked.
   */
  authenticationFailure(): AuthenticationError | undefined {
    for (const node of this.#nodes.values()) {
      if (node.authFailure !== undefined && node.listed) return node.authFailure;
    }
    return undefined;
  }

  /**
   * The AuthenticationError the node refused us with, while it is held back
   * after that refusal (disconnected, its reconnect backoff not yet over);
   * undefined otherwise. The producer fails that node's batches meanwhile.
   */
  refusal(nodeId: number): AuthenticationError | undefined {
    const node = this.#nodes.get(nodeId);
    if (
      node?.authFailure === undefined ||
      node.state !== ConnectionState.Disconnected ||
      node.nextConnectAt <= Date.now()
    )
      return undefined;
    return node.authFailure;
  }

  /** The broker's API ranges, once its connection is ready. */
  brokerVersions(nodeId: number): BrokerApiVersions | undefined {
    return this.#nodes.get(nodeId)?.versions;
  }

  /**
   * The node best placed for a request that may go anywhere (metadata): a
   * ready listed broker with the fewest requests outstanding, else one
   * connecting, else one not in backoff; bootstrap nodes only when no
   * broker is known. Undefined when every node is backing off.
   */
  leastLoadedNode(): number | undefined {
    const now = Date.now();
    let best: NodeState | undefined;
    let bestScore = NO_DEADLINE;
    const brokersKnown = [...this.#nodes.values()].some((n) => n.nodeId >= 0 && n.listed);
    for (const node of this.#nodes.values()) {
      if (!node.listed || (brokersKnown && node.nodeId < 0)) continue;
      let score: number;
      if (node.state === ConnectionState.Ready) score = node.inFlight.length + node.pending.length;
      else if (node.state !== ConnectionState.Disconnected) score = 1000 + node.pending.length;
      else if (node.nextConnectAt <= now) score = 2000 + node.pending.length;
      else continue;
      if (score < bestScore) {
        best = node;
        bestScore = score;
      }
    }
    return best?.nodeId;
  }

  /** Resolves when the node's connection is ready (connecting if needed), or rejects after `timeoutMs`. */
  awaitReady(nodeId: number, timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    return this.#enqueue(nodeId, undefined, undefined, { timeoutMs }) as Promise<void>;
  }

  /**
   * Sends a request to a node once it is ready and has a free slot, and
   * resolves with the decoded response (undefined when no response is
   * expected). Fails with UnsupportedVersionError when no version is common,
   * NetworkError / RequestTimeoutError (retriable) when the connection fails
   * or the response does not come in time, ProtocolError for a malformed
   * response.
   */
  request<Req, Res>(
    nodeId: number,
    api: ApiDescriptor<Req, Res>,
    request: Req,
    options: RequestOptions = {},
  ): Promise<Res> {
    return this.#enqueue(nodeId, api as ApiDescriptor<unknown, unknown>, request, options) as Promise<Res>;
  }

  /** Closes every connection and fails every outstanding request. Resolves when all connections are closed. */
  close(): Promise<void> {
    if (this.#closedPromise) return this.#closedPromise;
    this.#closed = true;
    const err = new IllegalStateError('the network client was closed');
    for (const node of this.#nodes.values()) {
      for (const p of node.pending.splice(0)) p.reject(err);
      node.closeReason = err;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closedPromise = new Promise<void>((resolve) => {
      if (this.#selector.size === 0) resolve();
      else {
        const check = () => {
          if (this.#selector.size === 0) {
            this.off('disconnect', check);
            resolve();
          }
        };
        this.on('disconnect', check);
      }
    });
    this.#selector.closeAll();
    return this.#closedPromise;
  }

  // ---------------------------------------------------------------------------

  #enqueue(
    nodeId: number,
    api: ApiDescriptor<unknown, unknown> | undefined,
    request: unknown,
    options: RequestOptions,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(new IllegalStateError('the network client is closed'));
    const node = this.#nodes.get(nodeId);
    if (!node)
      return Promise.reject(new NetworkError(`unknown node ${nodeId}`, { nodeId, retriable: false }));
    return new Promise((resolve, reject) => {
      node.pending.push({
        api,
        request,
        options,
        deadline: Date.now() + (options.timeoutMs ?? this.config.requestTimeoutMs),
        resolve,
        reject,
      });
      this.#pump(node);
      this.#rearm();
    });
  }

  #pump(node: NodeState): void {
    if (node.state === ConnectionState.Disconnected) {
      if (node.pending.length > 0) this.#maybeConnect(node);
      return;
    }
    if (node.state !== ConnectionState.Ready || node.reauthDue) return;
    const max = this.config.maxInFlightRequestsPerConnection;
    while (
      node.pending.length > 0 &&
      node.inFlight.length < max &&
      node.state === ConnectionState.Ready &&
      !node.reauthDue
    ) {
      const p = node.pending.shift() as Pending;
      if (p.api === undefined) p.resolve(undefined);
      else this.#dispatch(node, p);
    }
    // Readiness waiters do not need a slot.
    if (node.pending.some((p) => p.api === undefined)) {
      node.pending = node.pending.filter((p) => {
        if (p.api !== undefined) return true;
        p.resolve(undefined);
        return false;
      });
    }
  }

  #dispatch(node: NodeState, p: Pending): void {
    const api = p.api as ApiDescriptor<unknown, unknown>;
    const versions = node.versions as BrokerApiVersions;
    let version: number;
    try {
      const choice = p.options.version;
      version = typeof choice === 'number' ? choice : choice ? choice(versions) : versions.choose(api.apiKey);
      if (typeof choice === 'number') {
        const range = versions.range(api.apiKey);
        if (!range || choice < range.min || choice > range.max) {
          throw new UnsupportedVersionError(`${api.name} v${choice} is not supported by node ${node.nodeId}`);
        }
      }
    } catch (err) {
      p.reject(err as Error);
      return;
    }
    const expectResponse = p.options.expectResponse ?? true;
    const timeoutMs = p.options.timeoutMs ?? this.config.requestTimeoutMs;
    let frame: Buffer | Buffer[];
    const correlationId = this.#nextCorrelation();
    try {
      frame = this.#frame(api, version, correlationId, (w) =>
        p.options.encode ? p.options.encode(w, version) : api.encodeRequest(w, version, p.request),
      );
    } catch (err) {
      p.reject(err as Error);
      return;
    }
    const now = Date.now();
    if (expectResponse) {
      node.inFlight.push({
        correlationId,
        apiName: api.name,
        version,
        responseHeaderVersion: responseHeaderVersion(api, version),
        deadline: now + timeoutMs,
        timeoutMs,
        decode: (r) => api.decodeResponse(r, version),
        resolve: p.resolve,
        reject: p.reject,
      });
    }
    node.lastActivity = now;
    this.#selector.send(node.connectionId, frame);
    if (this.#log.debugEnabled) {
      this.#log.debug('request sent', {
        nodeId: node.nodeId,
        api: api.name,
        version,
        correlationId,
        bytes: frameLength(frame),
      });
    }
    if (!expectResponse) p.resolve(undefined);
  }

  #frame(
    api: ApiDescriptor<unknown, unknown>,
    version: number,
    correlationId: number,
    body: (w: Writer) => void,
  ): Buffer | Buffer[] {
    const w = this.#writer.reset();
    const sizeAt = w.reserveInt32();
    writeRequestHeader(
      w,
      requestHeaderVersion(api, version),
      api.apiKey,
      version,
      correlationId,
      this.#clientId,
    );
    body(w);
    w.patchInt32(sizeAt, w.length - 4);
    return w.finishChunks();
  }

  #nextCorrelation(): number {
    this.#nextCorrelationId = (this.#nextCorrelationId + 1) | 0;
    if (this.#nextCorrelationId < 0) this.#nextCorrelationId = 0;
    return this.#nextCorrelationId;
  }

  #maybeConnect(node: NodeState): void {
    if (this.#closed || node.state !== ConnectionState.Disconnected) return;
    if (Date.now() < node.nextConnectAt) return; // the timer comes back for it
    node.state = ConnectionState.Connecting;
    const connectionId = ++this.#nextConnectionId;
    node.connectionId = connectionId;
    node.closeReason = undefined;
    this.#byConnection.set(connectionId, node);
    void this.#connect(node, connectionId);
  }

  async #connect(node: NodeState, connectionId: number): Promise<void> {
    if (node.addressIndex >= node.addresses.length) {
      node.addressIndex = 0;
      try {
        node.addresses =
          isIP(node.host) !== 0 || this.config.clientDnsLookup !== 'use_all_dns_ips'
            ? [node.host]
            : await this.#resolveHost(node.host);
        if (node.addresses.length === 0) throw new Error('no addresses');
      } catch (err) {
        node.addresses = [];
        if (node.connectionId === connectionId) {
          this.onDisconnected(
            connectionId,
            node.nodeId,
            new Error(`cannot resolve ${node.host}: ${(err as Error).message}`),
          );
        }
        return;
      }
    }
    if (node.connectionId !== connectionId || this.#closed) {
      this.#byConnection.delete(connectionId);
      if (node.connectionId === connectionId) node.state = ConnectionState.Disconnected;
      return;
    }
    const host = node.addresses[node.addressIndex] as string;
    const setup = Math.min(
      this.config.socketConnectionSetupTimeoutMs * 2 ** Math.min(node.failures, 20),
      this.config.socketConnectionSetupTimeoutMaxMs,
    );
    if (this.#log.debugEnabled) this.#log.debug('connecting', { nodeId: node.nodeId, host, port: node.port });
    try {
      this.#selector.connect(connectionId, node.nodeId, {
        host,
        port: node.port,
        connectTimeoutMs: jitter(setup),
        sendBufferBytes: this.config.sendBufferBytes,
        receiveBufferBytes: this.config.receiveBufferBytes,
        ...(this.#tls === undefined ? {} : { tls: this.#tls as Record<string, unknown> }),
      });
    } catch (err) {
      // The transport factory refused the options (e.g. TLS options given to a plaintext
      // factory): a wiring mistake no reconnect can fix.
      node.closeReason = new AuthenticationError(
        'TRANSPORT_REFUSED',
        `cannot open a connection to node ${node.nodeId} (${host}:${node.port}): ${(err as Error).message}`,
        { mechanism: this.#tls === undefined ? 'NONE' : 'TLS', nodeId: node.nodeId, cause: err },
      );
      this.onDisconnected(connectionId, node.nodeId, err as Error);
    }
  }

  /** Sends a request on a connection that is not ready yet (SASL), outside the pending queue. */
  #sendInternal<Req, Res>(
    node: NodeState,
    api: ApiDescriptor<Req, Res>,
    version: number,
    request: Req,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const descriptor = api as ApiDescriptor<unknown, unknown>;
      const correlationId = this.#nextCorrelation();
      const frame = this.#frame(descriptor, version, correlationId, (w) =>
        descriptor.encodeRequest(w, version, request),
      );
      const now = Date.now();
      const inFlight: InFlight = {
        correlationId,
        apiName: api.name,
        version,
        responseHeaderVersion: responseHeaderVersion(descriptor, version),
        deadline: now + this.config.requestTimeoutMs,
        timeoutMs: this.config.requestTimeoutMs,
        decode: (r) => api.decodeResponse(r, version),
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      node.lastActivity = now;
      this.#sendOutOfQueue(node, frame, inFlight);
    });
  }

  /** Puts `inFlight` in flight and sends its frame, outside the pending queue (ApiVersions, SASL). */
  #sendOutOfQueue(node: NodeState, frame: Buffer | Buffer[], inFlight: InFlight): void {
    node.inFlight.push(inFlight);
    this.#selector.send(node.connectionId, frame);
    this.#rearm();
  }

  /** Runs the SASL exchange on the node's connection; ready (again) when it completes. */
  async #authenticate(node: NodeState, reauthentication: boolean): Promise<void> {
    const mechanism = this.#sasl as SaslMechanism;
    const connectionId = node.connectionId;
    node.state = ConnectionState.Authenticating;
    node.reauthDue = false;
    node.reauthAt = NO_DEADLINE;
    const stillOurs = () =>
      !this.#closed && node.connectionId === connectionId && node.state === ConnectionState.Authenticating;
    try {
      const outcome = await authenticate(
        mechanism,
        node.versions as BrokerApiVersions,
        { nodeId: node.nodeId, host: node.host, port: node.port, reauthentication },
        (api, version, request) => this.#sendInternal(node, api, version, request),
      );
      if (!stillOurs()) return;
      const lifetime = outcome.sessionLifetimeMs;
      // KIP-368: re-authenticate at 85-95% of the session, at random, as the Java client does.
      node.reauthAt =
        lifetime > 0 ? Date.now() + Math.floor(lifetime * (0.85 + Math.random() * 0.1)) : NO_DEADLINE;
      if (this.#log.infoEnabled) {
        this.#log.info(reauthentication ? 're-authenticated' : 'authenticated', {
          nodeId: node.nodeId,
          mechanism: mechanism.name,
          sessionLifetimeMs: lifetime,
        });
      }
      this.emit('authenticated', {
        nodeId: node.nodeId,
        mechanism: mechanism.name,
        sessionLifetimeMs: lifetime,
        reauthentication,
      });
      this.#ready(node, !reauthentication);
    } catch (err) {
      // A dropped connection rejected the exchange: onDisconnected has dealt with the node.
      if (!stillOurs()) return;
      if (err instanceof ProtocolError) return; // #protocolFailure closed the connection
      if (isKafkaClientError(err) && err.retriable) {
        // A malformed response: #protocolFailure rejected the request with its retriable
        // NetworkError and is closing the connection; onDisconnected deals with the node. (A
        // request timeout rejects only from onDisconnected, so stillOurs() is false by then.)
        return;
      }
      const error = isAuthenticationError(err)
        ? err
        : new AuthenticationError(
            'SASL_AUTHENTICATION_FAILED',
            `${mechanism.name} authentication with node ${node.nodeId} failed: ${(err as Error).message}`,
            { mechanism: mechanism.name, nodeId: node.nodeId, cause: err },
          );
      node.closeReason = error;
      this.#selector.close(connectionId, error);
    }
  }

  #sendApiVersions(node: NodeState, version: number): void {
    const correlationId = this.#nextCorrelation();
    const frame = this.#frame(
      ApiVersionsApi as ApiDescriptor<unknown, unknown>,
      version,
      correlationId,
      (w) =>
        ApiVersionsApi.encodeRequest(w, version, {
          clientSoftwareName: 'tributary',
          clientSoftwareVersion: '0.0.0',
        }),
    );
    const now = Date.now();
    this.#sendOutOfQueue(node, frame, {
      correlationId,
      apiName: 'ApiVersions',
      version,
      responseHeaderVersion: 0,
      deadline: now + this.config.requestTimeoutMs,
      timeoutMs: this.config.requestTimeoutMs,
      decode: (r) => interpretApiVersionsResponse(r.buf.subarray(r.pos, r.end), version),
      resolve: (outcome) =>
        this.#onApiVersions(node, outcome as ReturnType<typeof interpretApiVersionsResponse>),
      reject: () => {
        // The connection is being closed; onDisconnected handles the node.
      },
    });
  }

  #onApiVersions(node: NodeState, outcome: ReturnType<typeof interpretApiVersionsResponse>): void {
    if (outcome.kind === 'retry') {
      this.#sendApiVersions(node, outcome.version);
      return;
    }
    if (outcome.kind === 'error') {
      const err = new NetworkError(
        `ApiVersions to node ${node.nodeId} failed with error code ${outcome.errorCode}`,
        {
          nodeId: node.nodeId,
        },
      );
      node.closeReason = err;
      this.#selector.close(node.connectionId, err);
      return;
    }
    node.versions = outcome.versions;
    if (this.#sasl !== undefined) {
      void this.#authenticate(node, false);
      return;
    }
    this.#ready(node, true);
  }

  #ready(node: NodeState, announce: boolean): void {
    node.state = ConnectionState.Ready;
    node.failures = 0;
    node.lastError = undefined;
    node.authFailure = undefined;
    node.lastActivity = Date.now();
    if (announce) {
      if (this.#log.infoEnabled)
        this.#log.info('connection ready', { nodeId: node.nodeId, host: node.host, port: node.port });
      this.emit('ready', { nodeId: node.nodeId, versions: node.versions as BrokerApiVersions });
    }
    this.#pump(node);
    this.#rearm();
  }

  /** Closes the node's connection after a protocol error; everything in flight fails with the returned error. */
  #protocolFailure(node: NodeState, err: ProtocolError): NetworkError {
    this.#log.warn('protocol error; closing the connection', { nodeId: node.nodeId, error: err.message });
    const reason = new NetworkError(
      `connection to node ${node.nodeId} closed after a protocol error: ${err.message}`,
      {
        nodeId: node.nodeId,
        cause: err,
      },
    );
    node.closeReason = reason;
    this.#selector.close(node.connectionId, err);
    return reason;
  }

  // SelectorListener

  onConnected(connectionId: number, nodeId: number): void {
    const node = this.#byConnection.get(connectionId);
    if (!node || node.connectionId !== connectionId) return;
    node.state = ConnectionState.ApiVersions;
    node.lastActivity = Date.now();
    this.emit('connect', { nodeId, host: node.addresses[node.addressIndex] ?? node.host, port: node.port });
    this.#sendApiVersions(node, ApiVersionsApi.maxVersion);
  }

  onReceive(connectionId: number, _nodeId: number, frame: Buffer): void {
    const node = this.#byConnection.get(connectionId);
    if (!node || node.connectionId !== connectionId) return;
    const head = node.inFlight[0];
    if (!head) {
      this.#protocolFailure(
        node,
        new ProtocolError(`response from node ${node.nodeId} with no request in flight`),
      );
      return;
    }
    const r = new Reader(frame, 0, frame.length, head.apiName, head.version);
    let correlationId: number;
    try {
      correlationId = readResponseHeader(r, head.responseHeaderVersion);
    } catch (err) {
      this.#protocolFailure(node, err as ProtocolError);
      return;
    }
    if (correlationId !== head.correlationId) {
      this.#protocolFailure(
        node,
        new ProtocolError(
          `response from node ${node.nodeId} has correlation id ${correlationId}, expected ${head.correlationId}`,
          { api: head.apiName, version: head.version, field: 'correlation_id', offset: 0 },
        ),
      );
      return;
    }
    node.inFlight.shift();
    node.lastActivity = Date.now();
    let response: unknown;
    try {
      response = head.decode(r);
    } catch (err) {
      if (!(err instanceof ProtocolError)) {
        head.reject(err as Error);
        return;
      }
      // A malformed response: whether the request took effect is unknown, so
      // it fails like the rest of the connection, retriably, the cause attached.
      head.reject(this.#protocolFailure(node, err));
      return;
    }
    head.resolve(response);
    if (node.reauthDue && node.inFlight.length === 0 && node.state === ConnectionState.Ready) {
      void this.#authenticate(node, true);
      return;
    }
    this.#pump(node);
    this.#rearm();
  }

  onDisconnected(connectionId: number, nodeId: number, error: Error | undefined): void {
    this.#byConnection.delete(connectionId);
    const node = this.#nodes.get(nodeId);
    if (!node || node.connectionId !== connectionId) {
      this.emit('disconnect', { nodeId, error, byClient: true });
      return;
    }
    const byClient = node.closeReason !== undefined;
    const reachedBroker = node.state !== ConnectionState.Connecting;
    node.state = ConnectionState.Disconnected;
    node.versions = undefined;
    node.reauthDue = false;
    node.reauthAt = NO_DEADLINE;
    const reason =
      node.closeReason ??
      (error !== undefined && isTlsError(error) && !error.retriable
        ? new AuthenticationError(
            'SSL_AUTHENTICATION_FAILED',
            `TLS with node ${nodeId} (${node.host}:${node.port}) failed: ${error.message}`,
            { mechanism: 'TLS', nodeId, cause: error },
          )
        : new NetworkError(
            error
              ? `connection to node ${nodeId} (${node.host}:${node.port}) failed: ${error.message}`
              : `connection to node ${nodeId} (${node.host}:${node.port}) was closed`,
            { nodeId, cause: error },
          ));
    node.closeReason = undefined;
    node.lastError = reason;
    for (const f of node.inFlight.splice(0)) f.reject(reason);
    if (isAuthenticationError(reason)) {
      this.#refused(node, reason);
      this.emit('disconnect', { nodeId, error: error ?? undefined, byClient });
      this.#rearm();
      return;
    }
    if (node.pending.some((p) => p.options.failFast)) {
      node.pending = node.pending.filter((p) => {
        if (!p.options.failFast) return true;
        p.reject(reason);
        return false;
      });
    }

    if (!reachedBroker && node.addressIndex + 1 < node.addresses.length && !this.#closed) {
      // use_all_dns_ips: the next address of the same host, at once.
      node.addressIndex++;
    } else {
      node.addressIndex = node.addresses.length; // resolve again next time
      node.failures++;
      const backoff = Math.min(
        this.config.reconnectBackoffMs * 2 ** Math.min(node.failures - 1, 30),
        this.config.reconnectBackoffMaxMs,
      );
      node.nextConnectAt = Date.now() + jitter(backoff);
    }
    if (this.#log.infoEnabled) this.#log.info('disconnected', { nodeId, error: error?.message });
    this.emit('disconnect', { nodeId, error: error ?? undefined, byClient });
    if (this.#closed) return;
    if (node.pending.length > 0) this.#maybeConnect(node);
    this.#rearm();
  }

  /**
   * The broker refused us: fail everything waiting on the node with the
   * error, and hold reconnects back for the longest backoff (the Java
   * client's AuthenticationException is not retried like a lost connection).
   */
  #refused(node: NodeState, error: AuthenticationError): void {
    node.authFailure = error;
    node.failures++;
    node.addressIndex = node.addresses.length;
    node.nextConnectAt = Date.now() + jitter(this.config.reconnectBackoffMaxMs);
    for (const p of node.pending.splice(0)) p.reject(error);
    this.#log.error('authentication failed; requests to this node fail until it is retried', {
      nodeId: node.nodeId,
      host: node.host,
      port: node.port,
      mechanism: error.mechanism,
      error: error.message,
      retryInMs: node.nextConnectAt - Date.now(),
    });
    this.emit('authenticationFailed', { nodeId: node.nodeId, error });
  }

  // The one timer --------------------------------------------------------------

  #rearm(): void {
    if (this.#closed) return;
    let next = NO_DEADLINE;
    let busy = false;
    const idleMs = this.config.connectionsMaxIdleMs;
    for (const node of this.#nodes.values()) {
      for (const f of node.inFlight) if (f.deadline < next) next = f.deadline;
      for (const p of node.pending) if (p.deadline < next) next = p.deadline;
      if (node.inFlight.length > 0 || node.pending.length > 0) busy = true;
      if (
        node.state === ConnectionState.Disconnected &&
        node.pending.length > 0 &&
        node.nextConnectAt < next
      ) {
        next = node.nextConnectAt;
      }
      if (node.state === ConnectionState.Ready && !node.reauthDue && node.reauthAt < next)
        next = node.reauthAt;
      if (node.state === ConnectionState.Ready && node.inFlight.length === 0 && node.pending.length === 0) {
        const idleAt = !node.listed
          ? node.lastActivity
          : idleMs >= 0
            ? node.lastActivity + idleMs
            : NO_DEADLINE;
        if (idleAt < next) next = idleAt;
      }
    }
    // A timer due no later than needed stays: if it fires early, the handler
    // finds nothing due and re-arms. Deadlines mostly move later (requests
    // are answered in order), so this saves a new timer per response.
    if (this.#timer !== undefined && this.#timerAt <= next) {
      if (busy) this.#timer.ref();
      else this.#timer.unref();
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = next;
    if (next === NO_DEADLINE) return;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, next - Date.now()));
    // Outstanding work keeps the process alive; an idle check alone does not.
    if (!busy) this.#timer.unref();
  }

  #handleTimer(): void {
    this.#timer = undefined;
    this.#timerAt = NO_DEADLINE;
    const now = Date.now();
    const idleMs = this.config.connectionsMaxIdleMs;
    for (const node of this.#nodes.values()) {
      const late = node.inFlight.find((f) => f.deadline <= now);
      if (late && node.closeReason === undefined) {
        this.emit('requestTimeout', {
          nodeId: node.nodeId,
          api: late.apiName,
          correlationId: late.correlationId,
          timeoutMs: late.timeoutMs,
        });
        const err = new RequestTimeoutError(
          `${late.apiName} request to node ${node.nodeId} timed out after ${late.timeoutMs} ms; closing the connection`,
        );
        node.closeReason = err;
        this.#selector.close(node.connectionId, err);
      }
      if (node.pending.some((p) => p.deadline <= now)) {
        node.pending = node.pending.filter((p) => {
          if (p.deadline > now) return true;
          if (node.authFailure !== undefined) {
            p.reject(node.authFailure);
            return false;
          }
          const why = node.lastError ? `: ${node.lastError.message}` : '';
          p.reject(
            new NetworkError(
              `node ${node.nodeId} (${node.host}:${node.port}) was not ready within ${p.options.timeoutMs ?? this.config.requestTimeoutMs} ms${why}`,
              { nodeId: node.nodeId, cause: node.lastError },
            ),
          );
          return false;
        });
      }
      if (node.state === ConnectionState.Disconnected && node.pending.length > 0) this.#maybeConnect(node);
      if (node.state === ConnectionState.Ready && !node.reauthDue && node.reauthAt <= now) {
        // KIP-368: hold new requests; re-authenticate once the in-flight ones are answered.
        node.reauthDue = true;
        if (node.inFlight.length === 0) void this.#authenticate(node, true);
        continue;
      }
      if (node.state === ConnectionState.Ready && node.inFlight.length === 0 && node.pending.length === 0) {
        const expired = !node.listed || (idleMs >= 0 && now - node.lastActivity >= idleMs);
        if (expired) {
          if (this.#log.debugEnabled) this.#log.debug('closing idle connection', { nodeId: node.nodeId });
          node.closeReason = new NetworkError(`idle connection to node ${node.nodeId} closed`, {
            nodeId: node.nodeId,
          });
          this.#selector.close(node.connectionId);
        }
      }
    }
    this.#rearm();
  }
}

/** ±20% jitter, as the Java client applies to backoffs and setup timeouts. */
function jitter(ms: number): number {
  return Math.max(0, Math.round(ms * (0.8 + Math.random() * 0.4)));
}

async function defaultResolveHost(host: string): Promise<string[]> {
  const all = await lookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

/** `host:port`, `[v6]:port`. */
export function parseHostPort(hostPort: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(hostPort) ?? /^([^:]+):(\d+)$/.exec(hostPort);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new NetworkError(`invalid broker address ${JSON.stringify(hostPort)}: expected host:port`, {
      retriable: false,
    });
  }
  return { host: m[1] as string, port };
}

/** A frame's bytes, whether one buffer or chunks written by reference. */
function frameLength(frame: Buffer | readonly Buffer[]): number {
  if (!Array.isArray(frame)) return (frame as Buffer).length;
  let n = 0;
  for (let i = 0; i < frame.length; i++) n += (frame[i] as Buffer).length;
  return n;
}
