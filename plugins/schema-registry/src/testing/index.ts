/** Test helpers: an in-process Schema Registry. Not for production use. */
export {
  type ForcedResponse,
  type MockRequest,
  MockSchemaRegistry,
  type MockSchemaRegistryOptions,
  startMockSchemaRegistry,
} from './mock-schema-registry.js';
