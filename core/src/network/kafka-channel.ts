import { ProtocolError } from '../errors.js';
import type { Transport, TransportFactory, TransportHandler, TransportOptions } from './transport.js';

/** What a channel reports to its owner (the selector). */
export interface ChannelListener {
  onChannelConnected(channel: KafkaChannel): void;
  /** One complete frame (the size prefix removed). Valid only during the call: it may view the read buffer. */
  onChannelFrame(channel: KafkaChannel, frame: Buffer): void;
  onChannelClosed(channel: KafkaChannel, error: Error | undefined): void;
}

/** Without `writev`, chunks queued in the same tick are merged into transport writes of up to this many bytes. */
const COALESCE_BYTES = 64 * 1024;

/** Writes queue[from, to) (`bytes` long) as one buffer: the chunk itself if alone, else a merged copy. */
function writeRun(
  transport: Transport,
  queue: readonly Buffer[],
  from: number,
  to: number,
  bytes: number,
): boolean {
  if (to - from === 1) return transport.write(queue[from] as Buffer);
  return transport.write(Buffer.concat(queue.slice(from, to), bytes));
}

/**
 * One connection to one broker: size-prefixed framing in both directions
 * over a byte-moving transport.
 *
 * Reading: a frame that arrives whole inside one read is handed on as a view
 * of that read (no copy); one that spans reads is assembled in a buffer
 * allocated once at its exact size. A size prefix that is negative or larger
 * than `maxFrameBytes` is a protocol error: the channel closes with a
 * ProtocolError.
 *
 * Writing: frames sent in the same tick are queued and flushed once, as one
 * gathering write where the transport has `writev` (else small ones merged
 * into a single write); while the transport reports back-pressure, frames
 * wait in the queue until it drains.
 */
export class KafkaChannel implements TransportHandler {
  readonly connectionId: number;
  readonly nodeId: number;
  readonly #listener: ChannelListener;
  readonly #maxFrameBytes: number;
  #transport: Transport | undefined;
  #state: 'connecting' | 'connected' | 'closed' = 'connecting';
  /** close() was called: onClose follows asynchronously; deliver nothing more. */
  #closing = false;

  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  #backpressured = false;
  readonly #flush = () => this.#doFlush();

  readonly #header = Buffer.alloc(4);
  #headerFill = 0;
  #frame: Buffer | null = null;
  #frameFill = 0;

  bytesSent = 0;
  bytesReceived = 0;

  constructor(
    connectionId: number,
    nodeId: number,
    listener: ChannelListener,
    factory: TransportFactory,
    options: TransportOptions,
    maxFrameBytes: number,
  ) {
    this.connectionId = connectionId;
    this.nodeId = nodeId;
    this.#listener = listener;
    this.#maxFrameBytes = maxFrameBytes;
    this.#transport = factory(options, this);
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Bytes queued and not yet handed to the transport. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queues a complete frame (size prefix included), as one buffer or as
   * chunks to write in order (large record batches are not copied into the
   * request). Returns false if the channel is closed.
   */
  send(frame: Buffer | readonly Buffer[]): boolean {
    if (this.#state === 'closed') return false;
    if (Array.isArray(frame)) {
      for (let i = 0; i < frame.length; i++) {
        const chunk = frame[i] as Buffer;
        this.#queue.push(chunk);
        this.#queuedBytes += chunk.length;
      }
    } else {
      this.#queue.push(frame as Buffer);
      this.#queuedBytes += (frame as Buffer).length;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
    return true;
  }

  close(error?: Error): void {
    if (this.#state === 'closed' || this.#closing) return;
    this.#closing = true;
    this.#transport?.destroy(error);
  }

  #doFlush(): void {
    this.#flushScheduled = false;
    if (this.#state !== 'connected' || this.#closing || this.#backpressured || this.#queue.length === 0)
      return;
    const transport = this.#transport as Transport;
    const queue = this.#queue;
    this.#queue = [];
    const total = this.#queuedBytes;
    this.#queuedBytes = 0;
    this.bytesSent += total;
    let writable = true;
    if (queue.length === 1) writable = transport.write(queue[0] as Buffer);
    else if (transport.writev !== undefined) writable = transport.writev(queue);
    else {
      // Without a gathering write: runs of chunks merged into one write of up
      // to COALESCE_BYTES; a larger chunk goes on its own, uncopied.
      let from = 0;
      let bytes = 0;
      for (let i = 0; i < queue.length; i++) {
        const n = (queue[i] as Buffer).length;
        if (i > from && bytes + n > COALESCE_BYTES) {
          writable = writeRun(transport, queue, from, i, bytes);
          from = i;
          bytes = 0;
        }
        bytes += n;
      }
      writable = writeRun(transport, queue, from, queue.length, bytes);
    }
    this.#backpressured = !writable;
  }

  // TransportHandler

  onConnect(): void {
    if (this.#state !== 'connecting' || this.#closing) return;
    this.#state = 'connected';
    this.#listener.onChannelConnected(this);
    this.#doFlush();
  }

  onDrain(): void {
    this.#backpressured = false;
    this.#doFlush();
  }

  onClose(error: Error | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#transport = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#frame = null;
    this.#listener.onChannelClosed(this, error);
  }

  onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    let pos = 0;
    const end = chunk.length;
    while (pos < end && !this.#closing && this.#state !== 'closed') {
      const partial = this.#frame;
      if (partial !== null) {
        const n = Math.min(partial.length - this.#frameFill, end - pos);
        chunk.copy(partial, this.#frameFill, pos, pos + n);
        this.#frameFill += n;
        pos += n;
        if (this.#frameFill === partial.length) {
          this.#frame = null;
          this.#listener.onChannelFrame(this, partial);
        }
        continue;
      }
      let size: number;
      if (this.#headerFill === 0 && end - pos >= 4) {
        size = chunk.readInt32BE(pos);
        pos += 4;
      } else {
        const n = Math.min(4 - this.#headerFill, end - pos);
        chunk.copy(this.#header, this.#headerFill, pos, pos + n);
        this.#headerFill += n;
        pos += n;
        if (this.#headerFill < 4) return;
        this.#headerFill = 0;
        size = this.#header.readInt32BE(0);
      }
      if (size < 4 || size > this.#maxFrameBytes) {
        this.close(
          new ProtocolError(
            `invalid frame size ${size} from node ${this.nodeId} (must be 4..${this.#maxFrameBytes})`,
            { field: 'size', offset: this.bytesReceived - end + pos - 4 },
          ),
        );
        return;
      }
      if (end - pos >= size) {
        const frame = chunk.subarray(pos, pos + size);
        pos += size;
        this.#listener.onChannelFrame(this, frame);
      } else {
        const frame = Buffer.allocUnsafe(size);
        const n = end - pos;
        chunk.copy(frame, 0, pos, end);
        pos = end;
        this.#frame = frame;
        this.#frameFill = n;
      }
    }
  }
}
