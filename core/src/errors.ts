import { errorCodeInfo, isInvalidMetadataError } from './protocol/error-codes.js';

/**
 * Tributary's error tree. Every error the library raises or rejects with is a
 * {@link KafkaClientError}; check kinds with {@link isKafkaClientError} and the
 * `code` field rather than `instanceof` alone, because two copies of this
 * package (a duplicated install) have distinct classes but the same brand.
 *
 * `retriable` is false unless the error's definition says otherwise: for
 * broker errors it comes from the error-code table, never from a default.
 */
const BRAND = Symbol.for('tributary.KafkaClientError');

export interface KafkaClientErrorOptions {
  cause?: unknown;
  retriable?: boolean;
}

export class KafkaClientError extends Error {
  /** A stable, machine-readable name of the failure, e.g. `NOT_LEADER_OR_FOLLOWER` or `PROTOCOL_ERROR`. */
  readonly code: string;
  /** Whether the same request may succeed if retried (after a metadata refresh, a backoff, a reconnect). */
  readonly retriable: boolean;
  readonly [BRAND] = true;

  constructor(code: string, message: string, options: KafkaClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** True for any Tributary error, from whichever copy of the package made it. */
export function isKafkaClientError(err: unknown): err is KafkaClientError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Bytes from the peer (or handed to a decoder) that do not follow the
 * protocol: truncated, a forged length, an impossible value. Names the API,
 * version, field and byte offset where decoding stopped.
 */
export class ProtocolError extends KafkaClientError {
  readonly api: string | undefined;
  readonly version: number | undefined;
  readonly field: string | undefined;
  readonly offset: number | undefined;

  constructor(
    message: string,
    where: { api?: string; version?: number; field?: string; offset?: number } = {},
    options: KafkaClientErrorOptions = {},
  ) {
    const at = [
      where.api === undefined ? '' : `${where.api}${where.version === undefined ? '' : ` v${where.version}`}`,
      where.field === undefined ? '' : `field ${where.field}`,
      where.offset === undefined ? '' : `offset ${where.offset}`,
    ]
      .filter(Boolean)
      .join(', ');
    super('PROTOCOL_ERROR', at ? `${message} (${at})` : message, options);
    this.api = where.api;
    this.version = where.version;
    this.field = where.field;
    this.offset = where.offset;
  }
}

/** No version of an API is supported by both this client and the broker, or the broker lacks the API. */
export class UnsupportedVersionError extends KafkaClientError {
  constructor(message: string, options: KafkaClientErrorOptions = {}) {
    super('UNSUPPORTED_VERSION', message, options);
  }
}

/**
 * An error code returned by a broker. Its `code` (the error's name), message
 * and `retriable` flag come from the protocol's error-code table; `detail`
 * adds what the broker or the request said.
 */
export class KafkaProtocolError extends KafkaClientError {
  readonly errorCode: number;

  constructor(errorCode: number, detail?: string, options: { cause?: unknown } = {}) {
    const info = errorCodeInfo(errorCode);
    super(info.name, detail ? `${info.message} (${detail})` : info.message, {
      ...options,
      retriable: info.retriable,
    });
    this.errorCode = errorCode;
  }
}

/** A broker error that means our metadata is stale (leader moved, unknown partition): refresh, then retry. */
export class InvalidMetadataError extends KafkaProtocolError {}

/** Another producer with the same transactional id has taken over (PRODUCER_FENCED): fatal for this producer. */
export class ProducerFencedError extends KafkaProtocolError {}

const PRODUCER_FENCED = 90;

/** The error class for a broker error code: the subclass where control flow differs, else KafkaProtocolError. */
export function kafkaProtocolError(errorCode: number, detail?: string): KafkaProtocolError {
  if (errorCode === PRODUCER_FENCED) return new ProducerFencedError(errorCode, detail);
  if (isInvalidMetadataError(errorCode)) return new InvalidMetadataError(errorCode, detail);
  return new KafkaProtocolError(errorCode, detail);
}

/** A connection failed, closed, or could not be established. Retriable: the client reconnects. */
export class NetworkError extends KafkaClientError {
  readonly nodeId: number | undefined;

  constructor(message: string, options: { cause?: unknown; nodeId?: number; retriable?: boolean } = {}) {
    super('NETWORK_ERROR', message, { cause: options.cause, retriable: options.retriable ?? true });
    this.nodeId = options.nodeId;
  }
}

/**
 * The broker (or, for TLS, the client checking the broker) refused to let
 * this connection through: SASL credentials rejected
 * (`SASL_AUTHENTICATION_FAILED`), a mechanism the broker has not enabled
 * (`UNSUPPORTED_SASL_MECHANISM`), an exchange out of order
 * (`ILLEGAL_SASL_STATE`), a SCRAM server signature that does not verify, a
 * token provider that failed, or a TLS certificate that does not verify
 * (`SSL_AUTHENTICATION_FAILED`, the TlsError as `cause`).
 *
 * Never retriable, as the Java client's `AuthenticationException`: every
 * request waiting on that broker fails with it at once, metadata waits fail
 * with it, and the client does not reconnect to that broker before
 * `reconnectBackoffMaxMs` (and only if something asks for it). Identified by
 * the brand `authenticationFailure === true` (see {@link isAuthenticationError}).
 */
export class AuthenticationError extends KafkaClientError {
  readonly nodeId: number | undefined;
  /** The SASL mechanism (`PLAIN`, `SCRAM-SHA-256`, ...), or `TLS` for a certificate failure. */
  readonly mechanism: string;
  /** What the broker said (SaslAuthenticate's error message), when it said something. */
  readonly brokerMessage: string | undefined;
  /** Brand: true on every AuthenticationError. */
  readonly authenticationFailure = true;

  constructor(
    code: string,
    message: string,
    options: {
      mechanism: string;
      nodeId?: number | undefined;
      brokerMessage?: string | null | undefined;
      cause?: unknown;
    },
  ) {
    super(code, message, { cause: options.cause, retriable: false });
    this.nodeId = options.nodeId;
    this.mechanism = options.mechanism;
    this.brokerMessage = options.brokerMessage ?? undefined;
  }
}

/** True for an AuthenticationError from whichever copy of the package made it. */
export function isAuthenticationError(err: unknown): err is AuthenticationError {
  return (
    isKafkaClientError(err) && (err as { authenticationFailure?: unknown }).authenticationFailure === true
  );
}

/** No response within `requestTimeoutMs`. The connection is closed; retriable. */
export class RequestTimeoutError extends KafkaClientError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('REQUEST_TIMED_OUT', message, { ...options, retriable: true });
  }
}

/** A client-side wait (for metadata, for buffer memory, for a flush) passed its deadline. */
export class TimeoutError extends KafkaClientError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TIMEOUT', message, { ...options, retriable: true });
  }
}

/** A configuration value is invalid, unknown, or conflicts with another. Names the key. */
export class ConfigError extends KafkaClientError {
  readonly key: string;

  constructor(key: string, message: string) {
    super('CONFIG_ERROR', `${key}: ${message}`);
    this.key = key;
  }
}

/** An operation is not allowed in the current state (e.g. a closed client). */
export class IllegalStateError extends KafkaClientError {
  constructor(message: string) {
    super('ILLEGAL_STATE', message);
  }
}

/** `bufferMemory` stayed exhausted for `maxBlockMs`: the record was not accepted. */
export class BufferExhaustedError extends KafkaClientError {
  constructor(message: string) {
    super('BUFFER_EXHAUSTED', message, { retriable: true });
  }
}

/** A record larger than `maxRequestSize` or `bufferMemory` can never be sent. */
export class RecordTooLargeError extends KafkaClientError {
  constructor(message: string) {
    super('RECORD_TOO_LARGE', message);
  }
}

/** A serializer threw or returned something that is not bytes. Names the topic and the serializer. */
export class SerializationError extends KafkaClientError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SERIALIZATION_ERROR', message, options);
  }
}

/** A record was neither acknowledged nor definitively failed within `deliveryTimeoutMs`. */
export class DeliveryTimeoutError extends KafkaClientError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DELIVERY_TIMEOUT', message, { ...options, retriable: true });
  }
}
