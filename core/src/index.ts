// tsyringe needs the Reflect metadata API before any decorated class loads.
import 'reflect-metadata';

/**
 * @tributary/core: the Kafka protocol, the network client, the producer
 * pipeline and the DI tokens every adapter and plugin registers under.
 * The modules arrive with their issues; see docs/architecture.md for the map.
 */
export const CORE_PACKAGE = '@tributary/core';
