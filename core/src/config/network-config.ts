import type { TransportFactory } from '../network/transport.js';
import type { ConfigDefs } from './config.js';

/** The network client's keys: Kafka's names in camelCase, the Java client's defaults. */
export const networkConfigDefs = {
  bootstrapServers: {
    javaName: 'bootstrap.servers',
    type: 'list',
    min: 1,
    doc: 'host:port pairs used to find the cluster, tried in turn; the full broker list comes from Metadata.',
  },
  clientId: {
    javaName: 'client.id',
    type: 'string',
    default: 'tributary',
    doc: "Sent with every request, for the brokers' logs and quotas.",
  },
  requestTimeoutMs: {
    javaName: 'request.timeout.ms',
    type: 'int',
    default: 30_000,
    min: 0,
    doc: 'How long to wait for a response. On expiry the connection is closed and every request in flight on it fails with a retriable RequestTimeoutError.',
  },
  connectionsMaxIdleMs: {
    javaName: 'connections.max.idle.ms',
    type: 'long',
    default: 540_000,
    min: -1,
    doc: 'Close connections idle for this long (-1: never).',
  },
  reconnectBackoffMs: {
    javaName: 'reconnect.backoff.ms',
    type: 'long',
    default: 50,
    min: 0,
    doc: 'Base wait before reconnecting to a broker; doubles per consecutive failure, with ±20% jitter.',
  },
  reconnectBackoffMaxMs: {
    javaName: 'reconnect.backoff.max.ms',
    type: 'long',
    default: 1000,
    min: 0,
    doc: 'The most the reconnect backoff grows to.',
  },
  socketConnectionSetupTimeoutMs: {
    javaName: 'socket.connection.setup.timeout.ms',
    type: 'long',
    default: 10_000,
    min: 0,
    doc: 'How long a connection attempt may take; doubles per consecutive failure up to the max.',
  },
  socketConnectionSetupTimeoutMaxMs: {
    javaName: 'socket.connection.setup.timeout.max.ms',
    type: 'long',
    default: 30_000,
    min: 0,
    doc: 'The most the connection setup timeout grows to.',
  },
  maxInFlightRequestsPerConnection: {
    javaName: 'max.in.flight.requests.per.connection',
    type: 'int',
    default: 5,
    min: 1,
    doc: 'Requests sent on one connection without a response yet.',
  },
  metadataMaxAgeMs: {
    javaName: 'metadata.max.age.ms',
    type: 'long',
    default: 300_000,
    min: 0,
    doc: 'Refresh metadata at least this often, even without a reason to.',
  },
  retryBackoffMs: {
    javaName: 'retry.backoff.ms',
    type: 'long',
    default: 100,
    min: 0,
    doc: 'Base wait before retrying a failed request (metadata included); doubles per attempt, with jitter.',
  },
  retryBackoffMaxMs: {
    javaName: 'retry.backoff.max.ms',
    type: 'long',
    default: 1000,
    min: 0,
    doc: 'The most the retry backoff grows to.',
  },
  sendBufferBytes: {
    javaName: 'send.buffer.bytes',
    type: 'int',
    default: 131_072,
    min: -1,
    doc: 'Socket send buffer hint (-1: the OS default); see the transport adapter for what a runtime can honour.',
  },
  receiveBufferBytes: {
    javaName: 'receive.buffer.bytes',
    type: 'int',
    default: 32_768,
    min: -1,
    doc: 'Socket receive buffer hint (-1: the OS default).',
  },
  clientDnsLookup: {
    javaName: 'client.dns.lookup',
    type: 'enum',
    values: ['use_all_dns_ips', 'resolve_canonical_bootstrap_servers_only'],
    default: 'use_all_dns_ips',
    doc: 'use_all_dns_ips: try every address a host name resolves to, in turn, before giving up on it.',
  },
  maxResponseBytes: {
    javaName: '(none)',
    type: 'int',
    default: 256 * 1024 * 1024,
    min: 1024,
    doc: 'Largest response frame accepted; a larger (or negative) size prefix is a protocol error and closes the connection.',
  },
} as const satisfies ConfigDefs;

export interface NetworkConfig {
  bootstrapServers: readonly string[];
  clientId: string;
  requestTimeoutMs: number;
  connectionsMaxIdleMs: number;
  reconnectBackoffMs: number;
  reconnectBackoffMaxMs: number;
  socketConnectionSetupTimeoutMs: number;
  socketConnectionSetupTimeoutMaxMs: number;
  maxInFlightRequestsPerConnection: number;
  metadataMaxAgeMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  sendBufferBytes: number;
  receiveBufferBytes: number;
  clientDnsLookup: 'use_all_dns_ips' | 'resolve_canonical_bootstrap_servers_only';
  maxResponseBytes: number;
}

export type NetworkConfigInput = Omit<Partial<NetworkConfig>, 'bootstrapServers'> & {
  bootstrapServers: readonly string[] | string;
};

export type { TransportFactory };
