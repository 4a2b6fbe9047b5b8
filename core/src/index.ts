// tsyringe needs the Reflect metadata API before any decorated class loads.
import 'reflect-metadata';

export { type ConfigDef, type ConfigDefs, resolveConfig } from './config/config.js';
export { type NetworkConfig, type NetworkConfigInput, networkConfigDefs } from './config/network-config.js';
export {
  acksValue,
  type ProducerConfig,
  type ProducerConfigInput,
  producerConfigDefs,
  resolveProducerConfig,
} from './config/producer-config.js';
/**
 * @tributary/core: the Kafka protocol, the network client, the producer
 * pipeline and the DI tokens every adapter and plugin registers under.
 * See docs/architecture.md for the map.
 */
export * from './errors.js';
export { type ChannelListener, KafkaChannel } from './network/kafka-channel.js';
export { jsonLogger, type Logger, LogLevel, type LogLevelName, silentLogger } from './network/logger.js';
export {
  type BrokerMetadata,
  ClusterView,
  Metadata,
  type MetadataConfig,
  type PartitionMetadata,
  type TopicMetadata,
  validateTopicName,
} from './network/metadata.js';
export {
  type BrokerAddress,
  ConnectionState,
  NetworkClient,
  type NetworkClientEvents,
  type NetworkClientOptions,
  parseHostPort,
  type RequestOptions,
} from './network/network-client.js';
export {
  authenticate as saslAuthenticate,
  defaultTokenRefreshPolicy,
  type OAuthBearerToken,
  type OAuthBearerTokenProvider,
  oauthBearerInitialResponse,
  oauthBearerMechanism,
  plainMechanism,
  type SaslConfig,
  type SaslContext,
  type SaslMechanism,
  type SaslOptions,
  type SaslOutcome,
  type SaslSend,
  type SaslSession,
  ScramHash,
  type ScramMechanismName,
  type ScramOptions,
  saslMechanismFor,
  scramMechanism,
  type TokenRefreshPolicy,
  tokenRefreshAt,
} from './network/sasl/index.js';
export { type Selectable, Selector, type SelectorListener } from './network/selector.js';
export { type TlsConfig, tlsOptionsFromConfig } from './network/tls-config.js';
export { classifyTlsError, isTlsError, TlsError, TlsFailure } from './network/tls-errors.js';
export {
  checkTlsOptions,
  perConnectionTls,
  sniName,
  type TlsMaterial,
  type TlsTransportOptions,
} from './network/tls-options.js';
export {
  assertPlaintext,
  connectTimeoutError,
  MAX_TIMER_MS,
  type Transport,
  type TransportFactory,
  type TransportHandler,
  type TransportOptions,
} from './network/transport.js';
export { DefaultBufferPool } from './producer/buffer-pool.js';
export { type Clock, systemClock } from './producer/clock.js';
export { type CreateProducerOptions, createProducer } from './producer/create-producer.js';
export { ProducerInterceptors } from './producer/interceptors.js';
export { KafkaProducer, type ProducerMetrics, type SendCallback } from './producer/kafka-producer.js';
export {
  type MetricDescriptor,
  type MetricKind,
  PRODUCER_METRICS,
  type ProducerMetricName,
  type ProducerMetricValues,
  WindowedStat,
} from './producer/metrics.js';
export {
  type MetricsReporter,
  type MetricsSource,
  OpenTelemetryMetricsReporter,
  type OTelBatchObservableResult,
  type OTelMeterLike,
  type OTelObservable,
  openTelemetryName,
} from './producer/metrics-reporter.js';
export {
  BuiltInPartitioner,
  DefaultPartitioner,
  murmur2,
  partitionForKey,
  toPositive,
} from './producer/partitioner.js';
export {
  BatchSendError,
  type RecordFailure,
  type SendBatchOptions,
  type SendBatchResult,
} from './producer/record-group.js';
export {
  BytesSerializer,
  DefaultSerializer,
  JsonSerializer,
  StringSerializer,
} from './producer/serializers.js';
export {
  type BatchDrained,
  type ProduceResponseEvent,
  produceBatches,
  produceFrom,
  type RecordAccepted,
  type Sends,
  type SendsBatches,
} from './producer/streams.js';
export {
  type ConsumerGroupMetadata,
  type OffsetToCommit,
  TransactionState,
} from './producer/transactions.js';
export type {
  BufferPool,
  HeaderValue,
  Interceptor,
  Partitioner,
  ProducerRecord,
  RecordHeaders,
  RecordMetadata,
  Serializer,
} from './producer/types.js';
export * from './protocol/index.js';
export {
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
} from './tokens.js';
