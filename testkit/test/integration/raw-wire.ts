import { connect, type Socket } from 'node:net';

/**
 * A deliberately tiny Kafka client for testing the testkit before Tributary's
 * protocol layer exists: request header v0 (api key, version, correlation id,
 * client id) and response header v0 (correlation id), as in the protocol
 * guide's "Common Request and Response Structure". Test-only.
 */
export class RawConnection {
  readonly #socket: Socket;
  #buffered = Buffer.alloc(0);
  #waiter: ((frame: Buffer) => void) | undefined;
  #closed: Promise<void>;
  #correlationId = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      this.#deliver();
    });
    socket.on('error', () => {
      // 'close' follows; callers observe that.
    });
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one request and resolves with the response body (after the correlation id). */
  request(apiKey: number, apiVersion: number, body: Buffer, timeoutMs = 5000): Promise<Buffer> {
    const correlationId = ++this.#correlationId;
    const clientId = Buffer.from('tributary-testkit');
    const header = Buffer.alloc(10 + clientId.length);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(correlationId, 4);
    header.writeInt16BE(clientId.length, 8);
    clientId.copy(header, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + body.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
      void this.#closed.then(() => {
        clearTimeout(timer);
        reject(new Error('connection closed before the response'));
      });
      this.#waiter = (frame) => {
        clearTimeout(timer);
        const got = frame.readInt32BE(0);
        if (got !== correlationId) reject(new Error(`correlation id ${got}, expected ${correlationId}`));
        else resolve(frame.subarray(4));
      };
      this.#socket.write(Buffer.concat([size, header, body]));
    });
  }

  close(): Promise<void> {
    this.#socket.destroy();
    return this.#closed;
  }

  #deliver(): void {
    if (this.#buffered.length < 4) return;
    const len = this.#buffered.readInt32BE(0);
    if (this.#buffered.length < 4 + len) return;
    const frame = this.#buffered.subarray(4, 4 + len);
    this.#buffered = this.#buffered.subarray(4 + len);
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(frame);
  }
}

export interface ApiVersionRange {
  apiKey: number;
  min: number;
  max: number;
}

/** ApiVersions v0: empty request; response error_code int16, [api_key int16, min int16, max int16]. */
export async function apiVersionsV0(
  conn: RawConnection,
  timeoutMs?: number,
): Promise<{ errorCode: number; apis: ApiVersionRange[] }> {
  const body = await conn.request(18, 0, Buffer.alloc(0), timeoutMs);
  const errorCode = body.readInt16BE(0);
  const n = body.readInt32BE(2);
  const apis: ApiVersionRange[] = [];
  for (let i = 0, at = 6; i < n; i++, at += 6) {
    apis.push({ apiKey: body.readInt16BE(at), min: body.readInt16BE(at + 2), max: body.readInt16BE(at + 4) });
  }
  return { errorCode, apis };
}

/**
 * InitProducerId v0 (idempotent, no transactional id): request
 * transactional_id nullable string (-1), transaction_timeout_ms int32;
 * response throttle_time_ms int32, error_code int16, producer_id int64,
 * producer_epoch int16. Returns the error code.
 */
export async function initProducerIdV0(conn: RawConnection): Promise<number> {
  const req = Buffer.alloc(6);
  req.writeInt16BE(-1, 0);
  req.writeInt32BE(60_000, 2);
  const body = await conn.request(22, 0, req);
  return body.readInt16BE(4);
}
