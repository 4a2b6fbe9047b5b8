import { type ChannelListener, KafkaChannel } from './kafka-channel.js';
import type { TransportFactory, TransportOptions } from './transport.js';

/** What the selector reports to the network client, per connection. */
export interface SelectorListener {
  onConnected(connectionId: number, nodeId: number): void;
  /** A complete response frame; valid only during the call. */
  onReceive(connectionId: number, nodeId: number, frame: Buffer): void;
  onDisconnected(connectionId: number, nodeId: number, error: Error | undefined): void;
}

/**
 * The transport-facing multiplexer (the `Selectable` seam): one KafkaChannel
 * per connection id, transport events turned into connected / receive /
 * disconnected reports. Event-driven: there is no poll loop; the transports'
 * callbacks drive everything.
 */
export interface Selectable {
  setListener(listener: SelectorListener): void;
  connect(connectionId: number, nodeId: number, options: TransportOptions): void;
  /**
   * Queues a frame (size prefix included), one buffer or chunks to write in
   * order (a Produce request comes as chunks around its record batches, which
   * are the batches themselves: read them, never modify them); false when the
   * connection does not exist or is closed.
   */
  send(connectionId: number, frame: Buffer | readonly Buffer[]): boolean;
  close(connectionId: number, error?: Error): void;
  closeAll(error?: Error): void;
  isConnected(connectionId: number): boolean;
  /** Bytes queued on the connection and not yet handed to the transport. */
  queuedBytes(connectionId: number): number;
  readonly size: number;
}

export class Selector implements Selectable, ChannelListener {
  readonly #channels = new Map<number, KafkaChannel>();
  readonly #factory: TransportFactory;
  readonly #maxFrameBytes: number;
  #listener: SelectorListener | undefined;

  constructor(factory: TransportFactory, maxFrameBytes: number) {
    this.#factory = factory;
    this.#maxFrameBytes = maxFrameBytes;
  }

  setListener(listener: SelectorListener): void {
    this.#listener = listener;
  }

  get size(): number {
    return this.#channels.size;
  }

  connect(connectionId: number, nodeId: number, options: TransportOptions): void {
    if (this.#channels.has(connectionId)) throw new Error(`connection ${connectionId} already exists`);
    const channel = new KafkaChannel(connectionId, nodeId, this, this.#factory, options, this.#maxFrameBytes);
    this.#channels.set(connectionId, channel);
  }

  send(connectionId: number, frame: Buffer | readonly Buffer[]): boolean {
    return this.#channels.get(connectionId)?.send(frame) ?? false;
  }

  close(connectionId: number, error?: Error): void {
    this.#channels.get(connectionId)?.close(error);
  }

  closeAll(error?: Error): void {
    for (const channel of this.#channels.values()) channel.close(error);
  }

  isConnected(connectionId: number): boolean {
    return this.#channels.get(connectionId)?.connected ?? false;
  }

  queuedBytes(connectionId: number): number {
    return this.#channels.get(connectionId)?.queuedBytes ?? 0;
  }

  onChannelConnected(channel: KafkaChannel): void {
    this.#listener?.onConnected(channel.connectionId, channel.nodeId);
  }

  onChannelFrame(channel: KafkaChannel, frame: Buffer): void {
    this.#listener?.onReceive(channel.connectionId, channel.nodeId, frame);
  }

  onChannelClosed(channel: KafkaChannel, error: Error | undefined): void {
    this.#channels.delete(channel.connectionId);
    this.#listener?.onDisconnected(channel.connectionId, channel.nodeId, error);
  }
}
