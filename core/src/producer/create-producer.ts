import { type DependencyContainer, type InjectionToken, container as rootContainer } from 'tsyringe';
import { type ProducerConfigInput, resolveProducerConfig } from '../config/producer-config.js';
import { type Logger, silentLogger } from '../network/logger.js';
import { Metadata } from '../network/metadata.js';
import { NetworkClient } from '../network/network-client.js';
import { Selector } from '../network/selector.js';
import type { TransportFactory } from '../network/transport.js';
import { CompressionType } from '../protocol/compression/index.js';
import {
  BUFFER_POOL,
  CLOCK,
  INTERCEPTOR,
  KEY_SERIALIZER,
  LOGGER,
  METRICS_REPORTER,
  PARTITIONER,
  SASL_MECHANISM,
  SELECTABLE,
  TRANSPORT_FACTORY,
  VALUE_SERIALIZER,
} from '../tokens.js';
import { DefaultBufferPool } from './buffer-pool.js';
import { systemClock } from './clock.js';
import { IdempotenceManager } from './idempotence.js';
import { ProducerInterceptors } from './interceptors.js';
import { KafkaProducer } from './kafka-producer.js';
import { ProducerSensors } from './metrics.js';
import { DefaultPartitioner } from './partitioner.js';
import { RecordAccumulator } from './record-accumulator.js';
import { Sender } from './sender.js';
import { DefaultSerializer } from './serializers.js';
import { ProducerStreams } from './streams.js';
import { TransactionManager } from './transactions.js';
import type { Interceptor, Serializer } from './types.js';

export interface CreateProducerOptions {
  /** A container with your registrations (any token); the producer resolves from a child of it. */
  container?: DependencyContainer;
  /** The transport to use (same as registering TRANSPORT_FACTORY). Default: the adapter for this runtime. */
  transport?: TransportFactory;
  /** Same as registering LOGGER. Default: silent. */
  logger?: Logger;
}

/**
 * The composition root. Creates a child container per producer, resolves
 * every seam once (a registered implementation wins over the default), awaits
 * the serializers' `prepare()`, and wires the parts. Nothing is resolved
 * after this returns.
 */
export async function createProducer<K = unknown, V = unknown>(
  input: ProducerConfigInput,
  options: CreateProducerOptions = {},
): Promise<KafkaProducer<K, V>> {
  const config = resolveProducerConfig(input);
  const c = (options.container ?? rootContainer).createChildContainer();
  const pick = <T>(token: InjectionToken<T>, fallback: () => T): T =>
    c.isRegistered(token, true) ? c.resolve(token) : fallback();
  const pickAll = <T>(token: InjectionToken<T>): T[] =>
    c.isRegistered(token, true) ? c.resolveAll(token) : [];

  const logger = options.logger ?? pick(LOGGER, () => silentLogger);
  const clock = pick(CLOCK, () => systemClock);
  const transport =
    options.transport ??
    (c.isRegistered(TRANSPORT_FACTORY, true)
      ? c.resolve(TRANSPORT_FACTORY)
      : await runtimeTransport(
          config.securityProtocol === 'SSL' || config.securityProtocol === 'SASL_SSL',
          logger,
        ));
  const selector = pick(SELECTABLE, () => new Selector(transport, config.maxResponseBytes));
  const pool = pick(BUFFER_POOL, () => new DefaultBufferPool(config.bufferMemory, config.batchSize));
  const partitioner = pick(PARTITIONER, () => new DefaultPartitioner(config.partitionerIgnoreKeys));
  const keySerializer = pick(KEY_SERIALIZER, () => new DefaultSerializer()) as Serializer<K>;
  const valueSerializer = pick(VALUE_SERIALIZER, () => new DefaultSerializer()) as Serializer<V>;
  const interceptors = pickAll(INTERCEPTOR) as Interceptor<K, V>[];
  const reporters = pickAll(METRICS_REPORTER);
  await keySerializer.prepare?.();
  if ((valueSerializer as Serializer) !== (keySerializer as Serializer)) await valueSerializer.prepare?.();

  const saslMechanisms = pickAll(SASL_MECHANISM);
  const client = new NetworkClient(config, selector, { logger, saslMechanisms });
  const metadata = new Metadata(
    client,
    {
      metadataMaxAgeMs: config.metadataMaxAgeMs,
      retryBackoffMs: config.retryBackoffMs,
      retryBackoffMaxMs: config.retryBackoffMaxMs,
      allowAutoTopicCreation: config.allowAutoCreateTopics,
    },
    logger,
  );
  const accumulator = new RecordAccumulator(
    {
      batchSize: Math.max(config.batchSize, 128),
      lingerMs: config.lingerMs,
      deliveryTimeoutMs: config.deliveryTimeoutMs,
      retryBackoffMs: config.retryBackoffMs,
      retryBackoffMaxMs: config.retryBackoffMaxMs,
      compression: CompressionType[config.compressionType],
      adaptivePartitioning: config.partitionerAdaptivePartitioningEnable,
      partitionAvailabilityTimeoutMs: config.partitionerAvailabilityTimeoutMs,
    },
    pool,
    clock,
  );
  const streams = new ProducerStreams();
  const counters = new ProducerSensors(config.metricsSampleWindowMs, config.metricsNumSamples, clock.now());
  accumulator.sensors = counters;
  let wake = () => {};
  const idempotence = config.enableIdempotence
    ? new IdempotenceManager(client, logger, () => wake(), config.retryBackoffMs, config.retryBackoffMaxMs)
    : undefined;
  const sender = new Sender(
    config,
    accumulator,
    client,
    metadata,
    streams,
    logger,
    counters,
    idempotence,
    clock,
  );
  wake = () => sender.wakeup();
  let transactions: TransactionManager | undefined;
  if (config.transactionalId !== null && idempotence !== undefined) {
    idempotence.transactional = true;
    transactions = new TransactionManager({
      transactionalId: config.transactionalId,
      transactionTimeoutMs: config.transactionTimeoutMs,
      maxBlockMs: config.maxBlockMs,
      retryBackoffMs: config.retryBackoffMs,
      retryBackoffMaxMs: config.retryBackoffMaxMs,
      client,
      idempotence,
      logger,
      wakeup: wake,
      // Fenced: every record still pending rejects with the fencing error.
      onFatal: (err) => accumulator.abortAll(err),
    });
    sender.transactions = transactions;
  }
  const producer = new KafkaProducer<K, V>({
    config,
    client,
    metadata,
    accumulator,
    sender,
    pool,
    partitioner,
    keySerializer,
    valueSerializer,
    interceptors: new ProducerInterceptors<K, V>(interceptors, logger),
    streams,
    logger,
    counters,
    reporters,
    idempotence,
    transactions,
    clock,
  });
  producer.initReporters();
  return producer;
}

/**
 * The transport adapter for the runtime: @tributary/adapter-bun on Bun (when
 * installed; else the Node adapter, since Bun implements node:net), and
 * @tributary/adapter-node everywhere else. Imported lazily so core has no
 * hard dependency on any adapter.
 */
async function runtimeTransport(tls: boolean, logger: Logger): Promise<TransportFactory> {
  type Adapter = { createTcpTransport: TransportFactory; createTlsTransport: TransportFactory };
  const onBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';
  const specifiers = onBun
    ? ['@tributary/adapter-bun', '@tributary/adapter-node']
    : ['@tributary/adapter-node'];
  let cause: unknown;
  for (const specifier of specifiers) {
    try {
      const mod = (await import(specifier)) as Adapter;
      if (logger.infoEnabled) logger.info('transport adapter for this runtime', { adapter: specifier, tls });
      // securityProtocol SSL / SASL_SSL: the TLS factory, given the config's TLS options per connection.
      return tls ? mod.createTlsTransport : mod.createTcpTransport;
    } catch (err) {
      cause ??= err;
    }
  }
  throw new Error(
    `no transport: install ${specifiers[0]} or pass options.transport / register TRANSPORT_FACTORY`,
    { cause },
  );
}
