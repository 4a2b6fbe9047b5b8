import { createTcpTransport } from '@tributary/adapter-node';
import {
  ErrorCode,
  errorCodeInfo,
  MetadataApi,
  type MetadataResponse,
  NetworkClient,
  type NetworkConfig,
  networkConfigDefs,
  resolveConfig,
  Selector,
} from '@tributary/core';
import { messageOf, unavailableError } from './errors.js';

export interface FetchMetadataOptions {
  bootstrapServers: readonly string[];
  /** The topics to describe; null for every topic. */
  topics: readonly string[] | null;
  /** The whole wait: connecting, retrying other brokers, the answer. */
  timeoutMs: number;
  /** Ask the broker to create missing topics (what a producer does). */
  allowAutoTopicCreation: boolean;
  /** The timeout the user set, for the error message (default `timeoutMs`, which may be what is left of it). */
  reportedTimeoutMs?: number;
}

/**
 * One Metadata request answered by any of the brokers, within `timeoutMs`.
 *
 * Core's producer keeps its metadata to itself (it exports `partitionsFor`,
 * which has no broker list and cannot list topics), so this uses the parts
 * core exports for that purpose: a NetworkClient over the Node transport and
 * the Metadata API descriptor. A broker that refuses the connection or does
 * not answer is retried, with the network client's backoff, until the
 * deadline; then the error is an exit-code-3 CliError naming the brokers and
 * the last failure.
 */
export async function fetchMetadata(options: FetchMetadataOptions): Promise<MetadataResponse> {
  const client = openMetadataClient(options.bootstrapServers, options.timeoutMs);
  try {
    return await requestMetadata(client, options);
  } finally {
    await client.close();
  }
}

/**
 * A network client for {@link requestMetadata}, its timeouts fitted to a
 * wait of `timeoutMs`. The caller closes it.
 */
export function openMetadataClient(bootstrapServers: readonly string[], timeoutMs: number): NetworkClient {
  const config = resolveConfig<NetworkConfig>(networkConfigDefs, {
    bootstrapServers: [...bootstrapServers],
    clientId: 'tributary-cli',
    requestTimeoutMs: timeoutMs,
    socketConnectionSetupTimeoutMs: Math.min(10_000, timeoutMs),
    socketConnectionSetupTimeoutMaxMs: Math.min(30_000, timeoutMs),
  });
  const client = new NetworkClient(config, new Selector(createTcpTransport, config.maxResponseBytes));
  // Connection failures also surface through the requests; this keeps the emitter quiet.
  client.on('disconnect', () => {});
  return client;
}

/**
 * {@link fetchMetadata} on a client from {@link openMetadataClient}, which
 * stays open: for callers that ask more than once. `options.bootstrapServers`
 * only names the brokers in the error.
 */
export async function requestMetadata(
  client: NetworkClient,
  options: FetchMetadataOptions,
): Promise<MetadataResponse> {
  const timeoutMs = options.timeoutMs;
  const deadline = Date.now() + timeoutMs;
  const request = {
    topics: options.topics === null ? null : options.topics.map((name) => ({ name, topicId: undefined })),
    allowAutoTopicCreation: options.allowAutoTopicCreation,
    includeTopicAuthorizedOperations: false,
  };
  let lastError: unknown;
  let timer: NodeJS.Timeout | undefined;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const node = client.leastLoadedNode();
    if (node === undefined) {
      // Every broker is backing off after a failed connection.
      await sleep(Math.min(100, remaining));
      continue;
    }
    try {
      const response = await Promise.race([
        client.request(node, MetadataApi, request, { failFast: true, timeoutMs: remaining }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), remaining);
        }),
      ]);
      if (response.errorCode !== ErrorCode.NONE) {
        lastError = new Error(`Metadata answered ${errorCodeInfo(response.errorCode).name}`);
        await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
        continue;
      }
      return response;
    } catch (err) {
      lastError = err;
    } finally {
      clearTimeout(timer);
    }
  }
  const why = lastError === undefined ? '' : ` (last error: ${messageOf(lastError)})`;
  throw unavailableError(
    `cannot reach the brokers: no metadata from ${options.bootstrapServers.join(',')} within ${options.reportedTimeoutMs ?? timeoutMs} ms${why}`,
    lastError,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
