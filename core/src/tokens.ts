import type { InjectionToken } from 'tsyringe';
import type { Logger } from './network/logger.js';
import type { Selectable } from './network/selector.js';
import type { TransportFactory } from './network/transport.js';

/**
 * Every DI token of core, in one place. A user swaps a seam by registering
 * their own implementation under its token in the producer's child
 * container; nothing is resolved after construction. (The producer's tokens
 * for Partitioner, Serializer, Interceptor and BufferPool join these with
 * the producer.)
 */

/** Opens one connection to a broker: the transport adapter for the runtime, or a user's wrapper (proxies, port-forwards, tests). */
export const TRANSPORT_FACTORY: InjectionToken<TransportFactory> = Symbol('tributary.TransportFactory');

/** The transport-facing connection multiplexer. Default: `Selector`. */
export const SELECTABLE: InjectionToken<Selectable> = Symbol('tributary.Selectable');

/** Where the client logs. Default: silent. */
export const LOGGER: InjectionToken<Logger> = Symbol('tributary.Logger');
