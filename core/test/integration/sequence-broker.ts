import { connect, createServer, type Server, type Socket } from 'node:net';
import type { MockCluster } from '@tributary/testkit';
import type { TransportFactory } from '../../src/network/transport.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/api.js';
import {
  type PartitionProduceResponse,
  ProduceApi,
  type ProduceRequest,
  type ProduceResponse,
} from '../../src/protocol/apis/produce.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { readRequestHeader, readResponseHeader, writeResponseHeader } from '../../src/protocol/header.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { nodeTcpTransport } from './cluster-fixture.js';

export interface SequenceBrokerOptions {
  /** How a duplicate batch is answered. Default `'offset'`. */
  duplicates?: 'offset' | 'error';
  /** What an unknown producer with a non-zero sequence gets. Default `'unknown-producer-id'`. */
  unknownProducer?: 'unknown-producer-id' | 'out-of-order';
}

export interface SequenceBrokerStats {
  /** Batches forwarded and appended by the broker. */
  appended: number;
  /** Batches recognised as duplicates and answered without forwarding. */
  duplicates: number;
  outOfOrder: number;
  unknownProducer: number;
  invalidEpoch: number;
  /** Responses dropped after their batches were appended. */
  lost: number;
  /** Errors answered through {@link SequenceBroker.answerNext}. */
  injected: number;
  /** What the proxy could not reconcile with the broker's log (must stay empty). */
  anomalies: string[];
}

interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

interface ProducerPartition {
  epoch: number;
  /** The last (at most 5) appended batches, oldest first. */
  batches: BatchMeta[];
}

interface Uncertain {
  producerId: number;
  epoch: number;
  firstSeq: number;
  lastSeq: number;
  count: number;
}

export interface BatchInfo {
  producerId: number;
  epoch: number;
  firstSeq: number;
  lastSeq: number;
  count: number;
  /** How many times the broker had forgotten its producers when this batch was judged. */
  generation?: number;
}

const PRODUCE = 0;
const LIST_OFFSETS = 2;
const CACHED_BATCHES = 5;
const CLIENT_ID = Buffer.from('sequence-broker');

// Record batch v2 header offsets.
const LAST_OFFSET_DELTA_AT = 23;
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const BASE_SEQUENCE_AT = 53;

function batchInfo(records: Buffer | null): BatchInfo | undefined {
  if (records === null || records.length < 61) return undefined;
  const producerId = Number(records.readBigInt64BE(PRODUCER_ID_AT));
  if (producerId < 0) return undefined;
  const count = records.readInt32BE(LAST_OFFSET_DELTA_AT) + 1;
  const firstSeq = records.readInt32BE(BASE_SEQUENCE_AT);
  return {
    producerId,
    epoch: records.readInt16BE(PRODUCER_EPOCH_AT),
    firstSeq,
    lastSeq: (firstSeq + count - 1) % 2 ** 31,
    count,
  };
}

/** A mutex as a promise chain: one holder at a time, in arrival order. */
export class Lane {
  #tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * A test-side Kafka proxy that enforces the broker's idempotence rules in
 * front of librdkafka's mock brokers, which check producer ids and sequences
 * only for transactional producers (rd_kafka_mock_validate_records returns
 * early without a TransactionalId). One listener per mock broker; the
 * producer reaches it through {@link SequenceBroker.transport}, which maps each
 * broker's advertised port to its listener.
 *
 * What it enforces, per (producer id, topic, partition), as a Kafka broker's
 * producer state does (KIP-98, KIP-360): the current epoch, and the first and
 * last sequence and base offset of the last 5 batches appended.
 * - a batch equal to one of those 5 is not forwarded: it is answered with
 *   success and the original base offset (brokers since 2.x), or with
 *   DUPLICATE_SEQUENCE_NUMBER (older brokers; option `duplicates: 'error'`);
 * - an epoch below the current one: INVALID_PRODUCER_EPOCH;
 * - a higher epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
 * - in the same epoch, anything but the next sequence: OUT_OF_ORDER_SEQUENCE_NUMBER;
 * - an unknown producer with a non-zero sequence: UNKNOWN_PRODUCER_ID
 *   (or OUT_OF_ORDER_SEQUENCE_NUMBER, option `unknownProducer`);
 * - otherwise the batch is forwarded, and recorded once the broker says it
 *   appended it.
 * A Produce request where only some partitions pass is rewritten with those
 * (same correlation id), and the broker's answer is merged with the proxy's.
 * Transactional requests pass through untouched (the mock checks those).
 *
 * Like a broker, it handles one request per connection at a time (in order,
 * so responses keep their order), and serialises appends per broker, so the
 * check and the append of a batch cannot interleave with another connection's.
 * It assumes it sees every write to the partitions it checks (fresh topics,
 * one producer); when a connection to a broker drops while a batch is being
 * appended, it asks the broker's log end offset (ListOffsets) before judging
 * that partition again, and counts what it cannot explain in `anomalies`.
 *
 * Faults it adds: {@link loseResponses} (append done, response dropped, then
 * the connection closed or stalled: the case that makes duplicates),
 * {@link isolateAfterNextAppend} (a network partition right after an append),
 * {@link answerNext} (an error for the next batches, not forwarded) and
 * {@link forgetProducers} (the broker lost its producer state).
 */
export class SequenceBroker {
  readonly stats: SequenceBrokerStats = {
    appended: 0,
    duplicates: 0,
    outOfOrder: 0,
    unknownProducer: 0,
    invalidEpoch: 0,
    lost: 0,
    injected: 0,
    anomalies: [],
  };
  readonly #options: Required<SequenceBrokerOptions>;
  readonly #servers: Server[] = [];
  readonly #links = new Set<Link>();
  /** Broker port -> proxy port. */
  readonly #routes = new Map<number, number>();
  /** Per broker id: appends are serialised, as a broker's log does. */
  readonly #lanes = new Map<number, Lane>();
  /** `${producerId}|${topic}|${partition}` -> state. */
  readonly #producers = new Map<string, ProducerPartition>();
  /** `${topic}|${partition}` -> the log end offset as far as the proxy knows. */
  readonly #logEnd = new Map<string, number>();
  /** `${topic}|${partition}` -> a batch whose append was cut off mid-request. */
  readonly #uncertain = new Map<string, Uncertain[]>();
  /** Losses still to apply, in order. */
  readonly #losses: Array<'close' | 'stall'> = [];
  #isolate: { brokerId: number; ms: number } | undefined;
  readonly #isolatedUntil = new Map<number, number>();
  #inject: number[] = [];
  #tcp: TransportFactory | undefined;

  private constructor(options: SequenceBrokerOptions) {
    this.#options = {
      duplicates: options.duplicates ?? 'offset',
      unknownProducer: options.unknownProducer ?? 'unknown-producer-id',
    };
  }

  /** Starts one listener per broker of `cluster`, on loopback. */
  static async start(cluster: MockCluster, options: SequenceBrokerOptions = {}): Promise<SequenceBroker> {
    const proxy = new SequenceBroker(options);
    proxy.#tcp = await nodeTcpTransport();
    for (const broker of cluster.brokers) {
      proxy.#lanes.set(broker.id, new Lane());
      const server = createServer({ noDelay: true }, (socket) => proxy.#accept(socket, broker));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no listening port');
      proxy.#routes.set(broker.port, address.port);
      proxy.#servers.push(server);
    }
    return proxy;
  }

  /** A transport factory (for TRANSPORT_FACTORY) that reaches every broker through the proxy. */
  get transport(): TransportFactory {
    const tcp = this.#tcp as TransportFactory;
    return (options, handler) =>
      tcp({ ...options, host: '127.0.0.1', port: this.#routes.get(options.port) ?? options.port }, handler);
  }

  /**
   * The next `count` Produce responses that report an append (after any
   * losses still queued) are dropped
   * after the proxy recorded the append; then the client's connection is
   * closed (`close`), or left open with nothing more answered on it
   * (`stall`: the client's request timeout has to notice).
   */
  loseResponses(count: number, mode: 'close' | 'stall' = 'close'): void {
    for (let i = 0; i < count; i++) this.#losses.push(mode);
  }

  /**
   * After the next batch this broker appends, its response is dropped and
   * the broker is unreachable through the proxy for `ms` (connections
   * closed, new ones refused), as in a network partition.
   */
  isolateAfterNextAppend(brokerId: number, ms: number): void {
    this.#isolate = { brokerId, ms };
  }

  /** The next `codes.length` idempotent batches are answered with these codes, not forwarded. */
  answerNext(codes: readonly number[]): void {
    this.#inject.push(...codes);
  }

  /** Forgets every producer's state, as a broker that lost it (retention, a new leader without it). */
  forgetProducers(): void {
    this.#producers.clear();
    this.#generation++;
  }

  // A batch judged before a forget and appended after it must not bring the
  // forgotten producer back (a broker that lost its state would have refused it).
  #generation = 0;

  /** The epoch the proxy holds for a producer on a partition (undefined: unknown). */
  epochOf(producerId: number, topic: string, partition: number): number | undefined {
    return this.#producers.get(`${producerId}|${topic}|${partition}`)?.epoch;
  }

  async close(): Promise<void> {
    for (const link of this.#links) link.destroy();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  #accept(socket: Socket, broker: { id: number; host: string; port: number }): void {
    if ((this.#isolatedUntil.get(broker.id) ?? 0) > Date.now()) {
      socket.destroy();
      return;
    }
    const link = new Link(this, socket, broker);
    this.#links.add(link);
    socket.once('close', () => this.#links.delete(link));
  }

  // -- called by Link -------------------------------------------------------------------

  /** @internal */
  lane(brokerId: number): Lane {
    return this.#lanes.get(brokerId) as Lane;
  }

  /** @internal Decides one idempotent batch: undefined forwards it, else the local answer. */
  judge(topic: string, partition: number, b: BatchInfo): PartitionProduceResponse | undefined {
    b.generation = this.#generation;
    const code = this.#inject.shift();
    if (code !== undefined) {
      this.stats.injected++;
      return answer(partition, code, -1);
    }
    const state = this.#producers.get(`${b.producerId}|${topic}|${partition}`);
    if (state === undefined) {
      if (b.firstSeq === 0) return undefined;
      this.stats.unknownProducer++;
      return answer(
        partition,
        this.#options.unknownProducer === 'out-of-order'
          ? ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
          : ErrorCode.UNKNOWN_PRODUCER_ID,
        -1,
      );
    }
    if (b.epoch < state.epoch) {
      this.stats.invalidEpoch++;
      return answer(partition, ErrorCode.INVALID_PRODUCER_EPOCH, -1);
    }
    if (b.epoch > state.epoch) {
      if (b.firstSeq === 0) return undefined;
      this.stats.outOfOrder++;
      return answer(partition, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1);
    }
    for (const cached of state.batches) {
      if (cached.firstSeq === b.firstSeq && cached.lastSeq === b.lastSeq) {
        this.stats.duplicates++;
        return this.#options.duplicates === 'offset'
          ? answer(partition, ErrorCode.NONE, cached.baseOffset)
          : answer(partition, ErrorCode.DUPLICATE_SEQUENCE_NUMBER, -1);
      }
    }
    const last = state.batches[state.batches.length - 1];
    const expected = last === undefined ? 0 : (last.lastSeq + 1) % 2 ** 31;
    if (b.firstSeq !== expected) {
      this.stats.outOfOrder++;
      return answer(partition, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1);
    }
    return undefined;
  }

  /** @internal The broker appended the batch at `baseOffset`. */
  appended(topic: string, partition: number, b: BatchInfo, baseOffset: number): void {
    this.stats.appended++;
    this.#logEnd.set(`${topic}|${partition}`, baseOffset + b.count);
    if (b.generation !== undefined && b.generation < this.#generation) return;
    const key = `${b.producerId}|${topic}|${partition}`;
    let state = this.#producers.get(key);
    if (state === undefined || state.epoch !== b.epoch) {
      state = { epoch: b.epoch, batches: [] };
      this.#producers.set(key, state);
    }
    state.batches.push({ firstSeq: b.firstSeq, lastSeq: b.lastSeq, baseOffset });
    if (state.batches.length > CACHED_BATCHES) state.batches.shift();
  }

  /** @internal A batch was forwarded but the connection dropped before its answer. */
  uncertain(topic: string, partition: number, b: BatchInfo): void {
    const key = `${topic}|${partition}`;
    const list = this.#uncertain.get(key) ?? [];
    list.push({ ...b });
    this.#uncertain.set(key, list);
  }

  /** @internal Whether a partition needs its log end offset checked before the next judgment. */
  needsCheck(topic: string, partition: number): boolean {
    return this.#uncertain.has(`${topic}|${partition}`);
  }

  /** @internal Reconciles cut-off appends with the broker's log end offset. */
  reconcile(topic: string, partition: number, logEndOffset: number): void {
    const key = `${topic}|${partition}`;
    const list = this.#uncertain.get(key) ?? [];
    this.#uncertain.delete(key);
    let known = this.#logEnd.get(key) ?? 0;
    for (const u of list) {
      if (logEndOffset >= known + u.count) {
        this.appended(topic, partition, u, known);
        known += u.count;
      }
    }
    if (known !== logEndOffset)
      this.stats.anomalies.push(`${key}: log end ${logEndOffset}, the proxy accounts for ${known}`);
  }

  /** @internal Whether to drop this response (an append was in it). */
  takeLoss(brokerId: number): 'close' | 'stall' | undefined {
    if (this.#isolate !== undefined && this.#isolate.brokerId === brokerId) {
      const { ms } = this.#isolate;
      this.#isolate = undefined;
      this.#isolatedUntil.set(brokerId, Date.now() + ms);
      for (const link of this.#links) if (link.brokerId === brokerId) link.destroy();
      this.stats.lost++;
      return 'close';
    }
    const mode = this.#losses.shift();
    if (mode !== undefined) this.stats.lost++;
    return mode;
  }
}

function answer(partition: number, errorCode: number, baseOffset: number): PartitionProduceResponse {
  return {
    index: partition,
    errorCode,
    baseOffset,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage: null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

/** One client connection and its upstream connection to the broker. */
class Link {
  readonly brokerId: number;
  readonly #proxy: SequenceBroker;
  readonly #client: Socket;
  readonly #upstream: Socket;
  #fromClient: Buffer = Buffer.alloc(0);
  #fromBroker: Buffer = Buffer.alloc(0);
  readonly #requests: Buffer[] = [];
  #waiting: { resolve: (frame: Buffer) => void; reject: (err: Error) => void } | undefined;
  #busy = false;
  #stalled = false;
  #closed = false;
  #upstreamClosed = false;
  #correlation = -1;

  constructor(proxy: SequenceBroker, client: Socket, broker: { id: number; host: string; port: number }) {
    this.brokerId = broker.id;
    this.#proxy = proxy;
    this.#client = client;
    this.#upstream = connect({ host: broker.host, port: broker.port, noDelay: true });
    client.on('data', (chunk: Buffer) => {
      this.#fromClient = this.#fromClient.length ? Buffer.concat([this.#fromClient, chunk]) : chunk;
      for (;;) {
        const frame = takeFrame(this.#fromClient);
        if (frame === undefined) break;
        this.#fromClient = this.#fromClient.subarray(4 + frame.length);
        this.#requests.push(frame);
      }
      void this.#pump();
    });
    this.#upstream.on('data', (chunk: Buffer) => {
      this.#fromBroker = this.#fromBroker.length ? Buffer.concat([this.#fromBroker, chunk]) : chunk;
      for (;;) {
        const frame = takeFrame(this.#fromBroker);
        if (frame === undefined) break;
        this.#fromBroker = this.#fromBroker.subarray(4 + frame.length);
        const w = this.#waiting;
        this.#waiting = undefined;
        w?.resolve(frame);
      }
    });
    const upstreamGone = () => {
      this.#upstreamClosed = true;
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.reject(new Error('broker connection closed'));
      this.#client.destroy();
    };
    this.#upstream.on('error', upstreamGone);
    this.#upstream.on('close', upstreamGone);
    const clientGone = () => {
      this.#closed = true;
      this.#requests.length = 0;
      // A request being processed still completes upstream (the broker may be
      // appending it), so the proxy learns its outcome; then the link goes.
      if (!this.#busy) this.#upstream.destroy();
    };
    client.on('error', clientGone);
    client.on('close', clientGone);
  }

  destroy(): void {
    this.#client.destroy();
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (;;) {
        const frame = this.#requests.shift();
        if (frame === undefined || this.#upstreamClosed) break;
        const apiKey = frame.readInt16BE(0);
        let response: Buffer | undefined;
        if (apiKey === PRODUCE)
          response = await this.#proxy.lane(this.brokerId).run(() => this.#produce(frame));
        else response = await this.#roundTrip(frame);
        if (response !== undefined && !this.#stalled && !this.#closed) this.#reply(response);
      }
    } catch {
      this.#client.destroy();
    } finally {
      this.#busy = false;
      if (this.#closed) this.#upstream.destroy();
    }
  }

  #reply(frame: Buffer): void {
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(frame.length, 0);
    this.#client.write(Buffer.concat([size, frame]));
  }

  /** Forwards one request frame; resolves with the broker's response frame. */
  #roundTrip(frame: Buffer, expectResponse = true): Promise<Buffer | undefined> {
    if (this.#upstreamClosed) return Promise.reject(new Error('broker connection closed'));
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(frame.length, 0);
    if (!expectResponse) {
      this.#upstream.write(Buffer.concat([size, frame]));
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#upstream.write(Buffer.concat([size, frame]));
    });
  }

  /** Asks the broker for a partition's log end offset (ListOffsets v1, latest). */
  async #logEndOffset(topic: string, partition: number): Promise<number> {
    const w = new Writer(128);
    w.int16(LIST_OFFSETS)
      .int16(1)
      .int32(this.#correlation--)
      .int16(CLIENT_ID.length)
      .raw(CLIENT_ID);
    w.int32(-1).int32(1).string(topic).int32(1).int32(partition).int64(-1);
    const frame = (await this.#roundTrip(w.finish())) as Buffer;
    const r = new Reader(frame, 0, frame.length, 'ListOffsets', 1);
    r.int32('correlation_id');
    r.int32('topics');
    r.string('name');
    r.int32('partitions');
    r.int32('partition');
    const code = r.int16('error_code');
    r.int64('timestamp');
    const offset = r.int64('offset');
    if (code !== ErrorCode.NONE) throw new Error(`ListOffsets ${topic}-${partition}: error ${code}`);
    return offset;
  }

  async #produce(frame: Buffer): Promise<Buffer | undefined> {
    const version = frame.readInt16BE(2);
    const r = new Reader(frame, 0, frame.length, 'Produce', version);
    const header = readRequestHeader(r, requestHeaderVersion(ProduceApi, version));
    const request = ProduceApi.decodeRequest(r, version);
    const expectResponse = request.acks !== 0;
    if (request.transactionalId !== null || !expectResponse) return this.#roundTrip(frame, expectResponse);

    // Judge each partition's batch; keep the ones to forward.
    const local = new Map<string, PartitionProduceResponse[]>();
    const forwarded: Array<{ topic: string; partition: number; batch: BatchInfo }> = [];
    const forward: ProduceRequest = { ...request, topicData: [] };
    for (const t of request.topicData) {
      const name = t.name ?? '';
      const keep = [];
      for (const p of t.partitionData) {
        const batch = batchInfo(p.records);
        if (batch === undefined) {
          keep.push(p);
          continue;
        }
        if (this.#proxy.needsCheck(name, p.index))
          this.#proxy.reconcile(name, p.index, await this.#logEndOffset(name, p.index));
        const verdict = this.#proxy.judge(name, p.index, batch);
        if (verdict === undefined) {
          keep.push(p);
          forwarded.push({ topic: name, partition: p.index, batch });
        } else {
          const list = local.get(name) ?? [];
          list.push(verdict);
          local.set(name, list);
        }
      }
      if (keep.length > 0) forward.topicData.push({ ...t, partitionData: keep });
    }

    let response: ProduceResponse = { responses: [], throttleTimeMs: 0, nodeEndpoints: [] };
    let original: Buffer | undefined;
    if (forward.topicData.length > 0) {
      let out = frame;
      if (local.size > 0) {
        const w = new Writer(frame.length);
        // Same header (and correlation id), fewer partitions.
        w.raw(frame.subarray(0, headerLength(frame, version)));
        ProduceApi.encodeRequest(w, version, forward);
        out = w.finish();
      }
      let answered: Buffer;
      try {
        answered = (await this.#roundTrip(out)) as Buffer;
      } catch (err) {
        for (const f of forwarded) this.#proxy.uncertain(f.topic, f.partition, f.batch);
        throw err;
      }
      const rr = new Reader(answered, 0, answered.length, 'Produce', version);
      readResponseHeader(rr, responseHeaderVersion(ProduceApi, version));
      response = ProduceApi.decodeResponse(rr, version);
      original = answered;
      let appendedAny = false;
      for (const f of forwarded) {
        const p = response.responses
          .find((t) => t.name === f.topic)
          ?.partitionResponses.find((x) => x.index === f.partition);
        if (p !== undefined && p.errorCode === ErrorCode.NONE) {
          this.#proxy.appended(f.topic, f.partition, f.batch, p.baseOffset);
          appendedAny = true;
        }
      }
      if (appendedAny) {
        const loss = this.#proxy.takeLoss(this.brokerId);
        if (loss === 'close') {
          this.#client.destroy();
          return undefined;
        }
        if (loss === 'stall') {
          this.#stalled = true;
          return undefined;
        }
      }
    }
    if (local.size === 0 && original !== undefined) return original;

    // Merge the proxy's answers into the broker's, in the request's topic order.
    const merged: ProduceResponse = { ...response, responses: [] };
    for (const t of request.topicData) {
      const name = t.name ?? '';
      const fromBroker = response.responses.find((x) => x.name === name);
      const mine = local.get(name) ?? [];
      if (fromBroker === undefined && mine.length === 0) continue;
      merged.responses.push({
        name,
        topicId: fromBroker?.topicId ?? Buffer.alloc(16),
        partitionResponses: [...(fromBroker?.partitionResponses ?? []), ...mine],
      });
    }
    const w = new Writer(256);
    writeResponseHeader(w, responseHeaderVersion(ProduceApi, version), header.correlationId);
    ProduceApi.encodeResponse(w, version, merged);
    return w.finish();
  }
}

/** The request header's length in a request frame (without the size prefix). */
function headerLength(frame: Buffer, version: number): number {
  const r = new Reader(frame, 0, frame.length);
  readRequestHeader(r, requestHeaderVersion(ProduceApi, version));
  return r.pos;
}

/** The first complete frame (without its size prefix) in `buf`, if there is one. */
function takeFrame(buf: Buffer): Buffer | undefined {
  if (buf.length < 4) return undefined;
  const len = buf.readInt32BE(0);
  if (buf.length < 4 + len) return undefined;
  return buf.subarray(4, 4 + len);
}
