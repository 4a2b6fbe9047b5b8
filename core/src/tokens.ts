import type { InjectionToken } from 'tsyringe';
import type { Logger } from './network/logger.js';
import type { SaslMechanism } from './network/sasl/mechanism.js';
import type { Selectable } from './network/selector.js';
import type { TransportFactory } from './network/transport.js';
import type { Clock } from './producer/clock.js';
import type { MetricsReporter } from './producer/metrics-reporter.js';
import type { BufferPool, Interceptor, Partitioner, Serializer } from './producer/types.js';

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

/** Chooses partitions. Default: `DefaultPartitioner` (murmur2 for keys, sticky otherwise). */
export const PARTITIONER: InjectionToken<Partitioner> = Symbol('tributary.Partitioner');

/** Serializes keys. Default: bytes (Buffer/Uint8Array) or UTF-8 for strings. */
export const KEY_SERIALIZER: InjectionToken<Serializer> = Symbol('tributary.KeySerializer');

/** Serializes values. Default: bytes (Buffer/Uint8Array) or UTF-8 for strings. */
export const VALUE_SERIALIZER: InjectionToken<Serializer> = Symbol('tributary.ValueSerializer');

/** Interceptors, in registration order (register several under the same token). */
export const INTERCEPTOR: InjectionToken<Interceptor> = Symbol('tributary.Interceptor');

/** Memory for record batches. Default: `DefaultBufferPool` of bufferMemory bytes in batchSize buffers. */
export const BUFFER_POOL: InjectionToken<BufferPool> = Symbol('tributary.BufferPool');

/** Where the producer reads the time (timestamps, linger, deadlines). Default: the system clock. */
export const CLOCK: InjectionToken<Clock> = Symbol('tributary.Clock');

/** Metrics reporters (Java's metric.reporters), in registration order: e.g. `OpenTelemetryMetricsReporter`. */
export const METRICS_REPORTER: InjectionToken<MetricsReporter> = Symbol('tributary.MetricsReporter');

/** Custom SASL mechanisms (register several); `saslMechanism` picks one by name. See docs/security.md. */
export const SASL_MECHANISM: InjectionToken<SaslMechanism> = Symbol('tributary.SaslMechanism');
