import type { SaslOptions } from '../network/sasl/options.js';
import type { TlsTransportOptions } from '../network/tls-options.js';
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
  securityProtocol: {
    javaName: 'security.protocol',
    type: 'enum',
    values: ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
    default: 'PLAINTEXT',
    doc: "How to talk to brokers: SSL and SASL_SSL use TLS (the runtime adapter's TLS transport, with the ssl* options); SASL_PLAINTEXT and SASL_SSL authenticate each connection with saslMechanism before it is used. See docs/security.md.",
  },
  saslMechanism: {
    javaName: 'sasl.mechanism',
    type: 'string',
    default: 'GSSAPI',
    doc: 'The SASL mechanism when securityProtocol is SASL_*: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, or the name of a custom mechanism (sasl.mechanisms or the SASL_MECHANISM token). GSSAPI (Kerberos), the Java default, is not built in: a ConfigError says so.',
  },
  sasl: {
    javaName: 'sasl.jaas.config',
    type: 'object',
    default: null,
    doc: 'SASL credentials, in place of a JAAS line: { username, password, authorizationId? } for PLAIN and SCRAM, { oauthBearerTokenProvider } for OAUTHBEARER, { mechanisms: [custom] } for your own.',
  },
  saslLoginRefreshWindowFactor: {
    javaName: 'sasl.login.refresh.window.factor',
    type: 'double',
    default: 0.8,
    min: 0.5,
    max: 1,
    doc: 'OAUTHBEARER: refresh the token after this fraction of its lifetime.',
  },
  saslLoginRefreshWindowJitter: {
    javaName: 'sasl.login.refresh.window.jitter',
    type: 'double',
    default: 0.05,
    min: 0,
    max: 0.25,
    doc: 'OAUTHBEARER: up to this fraction of the lifetime added at random to the refresh time.',
  },
  saslLoginRefreshMinPeriodSeconds: {
    javaName: 'sasl.login.refresh.min.period.seconds',
    type: 'int',
    default: 60,
    min: 0,
    max: 900,
    doc: 'OAUTHBEARER: do not refresh sooner than this after fetching a token (ignored, with the buffer, for tokens too short-lived for both).',
  },
  saslLoginRefreshBufferSeconds: {
    javaName: 'sasl.login.refresh.buffer.seconds',
    type: 'int',
    default: 300,
    min: 0,
    max: 3600,
    doc: 'OAUTHBEARER: refresh at least this long before the token expires (ignored, with the min period, for tokens too short-lived for both).',
  },
  ssl: {
    javaName: 'ssl.*',
    type: 'object',
    default: null,
    doc: "TLS options for SSL and SASL_SSL, as the adapters' tlsTransport takes them: { ca, cert, key, passphrase, servername, rejectUnauthorized, endpointIdentificationAlgorithm, minVersion, maxVersion, ciphers }. The ssl*Location keys below fill ca/cert/key from files.",
  },
  sslCaLocation: {
    javaName: 'ssl.truststore.location',
    type: 'string',
    default: null,
    doc: "A PEM file of CA certificates to trust instead of the bundled list, read when the client is created (librdkafka's ssl.ca.location; Java's truststore as PEM).",
  },
  sslCertificateLocation: {
    javaName: 'ssl.keystore.location',
    type: 'string',
    default: null,
    doc: "A PEM file with our certificate chain, for brokers that require client certificates (mTLS; librdkafka's ssl.certificate.location).",
  },
  sslKeyLocation: {
    javaName: 'ssl.key.location',
    type: 'string',
    default: null,
    doc: 'A PEM file with the private key for sslCertificateLocation.',
  },
  sslKeyPassword: {
    javaName: 'ssl.key.password',
    type: 'string',
    default: null,
    doc: 'Decrypts an encrypted private key.',
  },
  sslEndpointIdentificationAlgorithm: {
    javaName: 'ssl.endpoint.identification.algorithm',
    type: 'enum',
    values: ['https', ''],
    default: 'https',
    doc: "https: the broker's certificate must be for the host connected to; empty: only the chain is verified.",
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
  securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  saslMechanism: string;
  sasl: SaslOptions | null;
  saslLoginRefreshWindowFactor: number;
  saslLoginRefreshWindowJitter: number;
  saslLoginRefreshMinPeriodSeconds: number;
  saslLoginRefreshBufferSeconds: number;
  ssl: TlsTransportOptions | null;
  sslCaLocation: string | null;
  sslCertificateLocation: string | null;
  sslKeyLocation: string | null;
  sslKeyPassword: string | null;
  sslEndpointIdentificationAlgorithm: 'https' | '';
}

export type NetworkConfigInput = Omit<Partial<NetworkConfig>, 'bootstrapServers'> & {
  bootstrapServers: readonly string[] | string;
};

export type { TransportFactory };
