export {
  type BrokerRequestError,
  type ClusterOptions,
  type MockBroker,
  MockCluster,
  startCluster,
  type TopicSpec,
} from './cluster.js';
export { TestkitError } from './errors.js';
export {
  type ConsumedRecord,
  endOffsets,
  type KcatMetadata,
  type KcatProduceOptions,
  type KcatRecord,
  kcatMetadata,
  kcatProduce,
  type ReadTopicOptions,
  readTopic,
  runKcat,
} from './kcat.js';
export { ensureLauncher, LIBRDKAFKA_ENV, LibrdkafkaVersion, librdkafkaFromEnv } from './launcher.js';
export { mulberry32 } from './prng.js';
export {
  type GatewayConnection,
  type SaslGateway,
  type SaslGatewayOptions,
  type SaslGatewayStats,
  type SaslServerKind,
  startSaslGateway,
} from './sasl-gateway.js';
