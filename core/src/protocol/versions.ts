import { ProtocolError, UnsupportedVersionError } from '../errors.js';
import { apiName, clientApi } from './api-keys.js';
import { ApiVersionsApi, type ApiVersionsResponse } from './apis/api-versions.js';
import { Reader } from './reader.js';

const UNSUPPORTED_VERSION = 35;
const API_VERSIONS_KEY = 18;
const PRODUCE_KEY = 0;

/**
 * What one broker speaks, from its ApiVersions response: version ranges in a
 * table indexed by api key, and its finalized features (e.g.
 * `transaction.version`).
 */
export class BrokerApiVersions {
  readonly #min: Int16Array;
  readonly #max: Int16Array;
  readonly #features: ReadonlyMap<string, number>;

  constructor(
    response: Pick<ApiVersionsResponse, 'apiKeys'> & Partial<Pick<ApiVersionsResponse, 'finalizedFeatures'>>,
  ) {
    let top = 0;
    for (const k of response.apiKeys) top = Math.max(top, k.apiKey);
    this.#min = new Int16Array(top + 1).fill(-1);
    this.#max = new Int16Array(top + 1).fill(-1);
    for (const k of response.apiKeys) {
      if (k.apiKey < 0) continue;
      this.#min[k.apiKey] = k.minVersion;
      this.#max[k.apiKey] = k.maxVersion;
    }
    const features = new Map<string, number>();
    for (const f of response.finalizedFeatures ?? []) features.set(f.name, f.maxVersionLevel);
    this.#features = features;
  }

  /** The broker's [min, max] for an API, or undefined when it lacks the API. */
  range(apiKey: number): { min: number; max: number } | undefined {
    const max = this.#max[apiKey];
    if (max === undefined || max < 0) return undefined;
    return { min: this.#min[apiKey] as number, max };
  }

  /** A finalized feature's level (e.g. `transaction.version`), 0 when the broker does not finalize it. */
  featureLevel(name: string): number {
    return this.#features.get(name) ?? 0;
  }

  /**
   * The highest version both this client and the broker support, capped at
   * `cap`. Throws {@link UnsupportedVersionError} (failing that request, not
   * the connection) when the ranges do not overlap or the broker lacks the API.
   */
  choose(apiKey: number, cap = Number.POSITIVE_INFINITY): number {
    const ours = clientApi(apiKey);
    if (ours === undefined)
      throw new UnsupportedVersionError(`this client does not implement ${apiName(apiKey)}`);
    const theirs = this.range(apiKey);
    if (theirs === undefined)
      throw new UnsupportedVersionError(`the broker does not support ${apiName(apiKey)}`);
    const high = Math.min(ours.maxVersion, theirs.max, cap);
    const low = Math.max(ours.minVersion, theirs.min);
    if (high < low) {
      throw new UnsupportedVersionError(
        `no common version of ${apiName(apiKey)}: client ${ours.minVersion}-${ours.maxVersion}, broker ${theirs.min}-${theirs.max}` +
          (cap < Number.POSITIVE_INFINITY ? `, capped at ${cap}` : ''),
      );
    }
    return high;
  }
}

export interface ProduceVersionContext {
  /** The request carries a transactional id (records inside a transaction). */
  inTransaction: boolean;
  /** Topic ids are known for every topic in the request (Produce v13 addresses topics by id). */
  topicIdsKnown: boolean;
}

/**
 * The Produce version for a request. v13 needs topic ids; v12 changes
 * transactional semantics (the broker adds partitions to the transaction
 * itself, KIP-890), so inside a transaction it is used only when the broker
 * has finalized `transaction.version` >= 2, else the cap is v11.
 */
export function chooseProduceVersion(broker: BrokerApiVersions, ctx: ProduceVersionContext): number {
  let cap = 13;
  if (!ctx.topicIdsKnown) cap = 12;
  if (ctx.inTransaction && broker.featureLevel('transaction.version') < 2) cap = 11;
  return broker.choose(PRODUCE_KEY, cap);
}

export type ApiVersionsOutcome =
  | { kind: 'ok'; response: ApiVersionsResponse; versions: BrokerApiVersions }
  | { kind: 'retry'; version: number }
  | { kind: 'error'; errorCode: number };

/**
 * Interprets an ApiVersions response body sent in answer to a request of
 * `version`. The error code comes first in every version, so it is read
 * before anything else: on UNSUPPORTED_VERSION the broker is meant to answer
 * in the v0 layout with its own ranges, and the retry uses the highest
 * ApiVersions version it lists; a body that fits no layout (librdkafka's mock
 * brokers send one) still yields a retry, at v0, from the error code alone.
 */
export function interpretApiVersionsResponse(body: Buffer, version: number): ApiVersionsOutcome {
  const probe = new Reader(body, 0, body.length, 'ApiVersions', version);
  const errorCode = probe.int16('error_code');
  if (errorCode === UNSUPPORTED_VERSION) {
    if (version === 0) return { kind: 'error', errorCode };
    let retry = 0;
    try {
      const v0 = ApiVersionsApi.decodeResponse(new Reader(body, 0, body.length, 'ApiVersions', 0), 0);
      const own = v0.apiKeys.find((k) => k.apiKey === API_VERSIONS_KEY);
      if (own && own.maxVersion < version && own.maxVersion >= 0) retry = own.maxVersion;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
    return { kind: 'retry', version: Math.min(retry, version - 1) };
  }
  if (errorCode !== 0) return { kind: 'error', errorCode };
  const r = new Reader(body, 0, body.length, 'ApiVersions', version);
  const response = ApiVersionsApi.decodeResponse(r, version);
  return { kind: 'ok', response, versions: new BrokerApiVersions(response) };
}
