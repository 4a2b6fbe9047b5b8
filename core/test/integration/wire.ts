import { connect, type Socket } from 'node:net';
import { type ApiDescriptor, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/api.js';
import { ApiVersionsApi } from '../../src/protocol/apis/api-versions.js';
import { readResponseHeader, writeRequestHeader } from '../../src/protocol/header.js';
import { Reader } from '../../src/protocol/reader.js';
import { type BrokerApiVersions, interpretApiVersionsResponse } from '../../src/protocol/versions.js';
import { Writer } from '../../src/protocol/writer.js';

/**
 * A minimal, test-only connection that speaks through Tributary's protocol
 * layer (headers, codecs, version negotiation) before the network client
 * exists: size-prefixed frames, pipelined requests matched FIFO by
 * correlation id. The real NetworkClient replaces it in the network layer.
 */
export class WireConnection {
  readonly #socket: Socket;
  readonly #clientId = Buffer.from('tributary-test');
  readonly #pending: Array<{
    correlationId: number;
    resolve: (b: Buffer) => void;
    reject: (e: Error) => void;
  }> = [];
  #buffered: Buffer = Buffer.alloc(0);
  #correlationId = 0;
  #closed = false;
  readonly #writer = new Writer(1024);
  /**
   * Responses that left bytes unread after a complete decode, as
   * `Api vN: n byte(s)`. Clients ignore trailing bytes (Java and librdkafka
   * do); tests assert they appear only where a known broker quirk puts them.
   */
  readonly trailing: string[] = [];
  /** ApiVersions attempts, in order, as [version, outcome]. */
  readonly negotiation: Array<[number, string]> = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
      while (this.#buffered.length >= 4) {
        const len = this.#buffered.readInt32BE(0);
        if (this.#buffered.length < 4 + len) break;
        const frame = this.#buffered.subarray(4, 4 + len);
        this.#buffered = this.#buffered.subarray(4 + len);
        const p = this.#pending.shift();
        p?.resolve(frame);
      }
    });
    const fail = (err: Error) => {
      this.#closed = true;
      for (const p of this.#pending.splice(0)) p.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(host: string, port: number): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      socket.once('connect', () => resolve(new WireConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one request; resolves with the response frame after its correlation id was checked. */
  async #roundTrip(
    apiKey: number,
    version: number,
    headerVersion: number,
    body: Buffer,
  ): Promise<[Buffer, number]> {
    if (this.#closed) throw new Error('connection closed');
    const correlationId = ++this.#correlationId;
    const w = this.#writer.reset();
    const sizeAt = w.reserveInt32();
    writeRequestHeader(w, headerVersion, apiKey, version, correlationId, this.#clientId);
    w.raw(body);
    w.patchInt32(sizeAt, w.pos - 4);
    const frame = await new Promise<Buffer>((resolve, reject) => {
      this.#pending.push({ correlationId, resolve, reject });
      this.#socket.write(w.finish());
    });
    return [frame, correlationId];
  }

  async request<Req, Res>(api: ApiDescriptor<Req, Res>, version: number, request: Req): Promise<Res> {
    const body = new Writer(256);
    api.encodeRequest(body, version, request);
    const [frame, sent] = await this.#roundTrip(
      api.apiKey,
      version,
      requestHeaderVersion(api, version),
      body.finish(),
    );
    const r = new Reader(frame, 0, frame.length, api.name, version);
    const cid = readResponseHeader(r, responseHeaderVersion(api, version));
    if (cid !== sent) throw new Error(`correlation id ${cid}, expected ${sent}`);
    const res = api.decodeResponse(r, version);
    if (r.remaining !== 0) this.trailing.push(`${api.name} v${version}: ${r.remaining} byte(s)`);
    return res;
  }

  /** Sends a body encoded elsewhere (the hot-path Produce encoder) and decodes the response with `api`. */
  async requestWithBody<Res>(api: ApiDescriptor<unknown, Res>, version: number, body: Buffer): Promise<Res> {
    const [frame, sent] = await this.#roundTrip(
      api.apiKey,
      version,
      requestHeaderVersion(api, version),
      body,
    );
    const r = new Reader(frame, 0, frame.length, api.name, version);
    if (readResponseHeader(r, responseHeaderVersion(api, version)) !== sent)
      throw new Error('correlation id mismatch');
    const res = api.decodeResponse(r, version);
    if (r.remaining !== 0) this.trailing.push(`${api.name} v${version}: ${r.remaining} byte(s)`);
    return res;
  }

  /** ApiVersions from our highest version down, as the network client will do it. */
  async negotiate(): Promise<BrokerApiVersions> {
    let version = ApiVersionsApi.maxVersion;
    for (let attempt = 0; attempt < 5; attempt++) {
      const body = new Writer(64);
      ApiVersionsApi.encodeRequest(body, version, {
        clientSoftwareName: 'tributary',
        clientSoftwareVersion: '0.0.0',
      });
      const [frame, sent] = await this.#roundTrip(
        18,
        version,
        requestHeaderVersion(ApiVersionsApi, version),
        body.finish(),
      );
      const r = new Reader(frame);
      if (readResponseHeader(r, 0) !== sent) throw new Error('ApiVersions: correlation id mismatch');
      const outcome = interpretApiVersionsResponse(frame.subarray(r.pos), version);
      this.negotiation.push([version, outcome.kind === 'retry' ? `retry v${outcome.version}` : outcome.kind]);
      if (outcome.kind === 'ok') return outcome.versions;
      if (outcome.kind === 'error')
        throw new Error(`ApiVersions v${version} failed with error ${outcome.errorCode}`);
      version = outcome.version;
    }
    throw new Error('ApiVersions negotiation did not converge');
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }
}
