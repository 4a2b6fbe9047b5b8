import type { ApiDescriptor } from './api.js';
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  ApiVersionsApi,
  EndTxnApi,
  FindCoordinatorApi,
  InitProducerIdApi,
  MetadataApi,
  ProduceApi,
  SaslAuthenticateApi,
  SaslHandshakeApi,
  TxnOffsetCommitApi,
} from './apis/index.js';

/** The Kafka API keys a producer uses (protocol guide, "Api Keys"). */
export const ApiKey = {
  Produce: 0,
  Metadata: 3,
  FindCoordinator: 10,
  SaslHandshake: 17,
  ApiVersions: 18,
  InitProducerId: 22,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  TxnOffsetCommit: 28,
  SaslAuthenticate: 36,
} as const;
export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];

// biome-ignore lint/suspicious/noExplicitAny: the table holds descriptors of different message types.
type AnyApi = ApiDescriptor<any, any>;

export interface ClientApi {
  readonly api: AnyApi;
  /** The lowest version this client will use, whatever the broker advertises. */
  readonly minVersion: number;
  /** The highest version this client will use. */
  readonly maxVersion: number;
}

/**
 * What this client speaks, per API. Usually the codec's whole range, except:
 * - Produce from v3 (message format v2): Kafka 4.x advertises Produce min 0
 *   for old librdkafka builds but rejects v0-v2, so the advertised minimum is
 *   never trusted below v3.
 * - AddPartitionsToTxn up to v3: v4+ (batched, verify-only) is for brokers.
 */
const table: (ClientApi | undefined)[] = [];
function add(api: AnyApi, minVersion = api.minVersion, maxVersion = api.maxVersion): void {
  table[api.apiKey] = { api, minVersion, maxVersion };
}
add(ProduceApi, 3);
add(MetadataApi);
add(FindCoordinatorApi);
add(SaslHandshakeApi);
add(ApiVersionsApi);
add(InitProducerIdApi);
add(AddPartitionsToTxnApi, 0, 3);
add(AddOffsetsToTxnApi);
add(EndTxnApi);
add(TxnOffsetCommitApi);
add(SaslAuthenticateApi);

/** The client's range for an API key, or undefined for an API we do not speak. O(1). */
export function clientApi(apiKey: number): ClientApi | undefined {
  return table[apiKey];
}

export function apiName(apiKey: number): string {
  return table[apiKey]?.api.name ?? `ApiKey(${apiKey})`;
}
