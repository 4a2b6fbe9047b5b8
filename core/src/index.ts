// tsyringe needs the Reflect metadata API before any decorated class loads.
import 'reflect-metadata';

/**
 * @tributary/core: the Kafka protocol, the network client, the producer
 * pipeline and the DI tokens every adapter and plugin registers under.
 * See docs/architecture.md for the map.
 */
export * from './errors.js';
export * from './protocol/index.js';
