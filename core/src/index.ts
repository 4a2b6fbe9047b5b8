// tsyringe needs the Reflect metadata API before any decorated class loads.
import 'reflect-metadata';

export { type ConfigDef, type ConfigDefs, resolveConfig } from './config/config.js';
export { type NetworkConfig, type NetworkConfigInput, networkConfigDefs } from './config/network-config.js';
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
export { type Selectable, Selector, type SelectorListener } from './network/selector.js';
export type { Transport, TransportFactory, TransportHandler, TransportOptions } from './network/transport.js';
export * from './protocol/index.js';
export { LOGGER, SELECTABLE, TRANSPORT_FACTORY } from './tokens.js';
