import { KafkaClientError } from '@tributary/core';

/**
 * What went wrong talking to the Schema Registry, as a stable `code`:
 *
 * | code                              | when                                                                 | retried by the client? |
 * | --------------------------------- | -------------------------------------------------------------------- | ---------------------- |
 * | `SCHEMA_REGISTRY_UNAVAILABLE`     | connection refused or reset, DNS failure, HTTP 5xx or 429            | yes, then thrown       |
 * | `SCHEMA_REGISTRY_TIMEOUT`         | no complete response within `requestTimeoutMs`                       | yes, then thrown       |
 * | `SCHEMA_REGISTRY_UNAUTHORIZED`    | HTTP 401: missing or wrong credentials                               | no                     |
 * | `SCHEMA_REGISTRY_FORBIDDEN`       | HTTP 403: the credentials lack the permission                        | no                     |
 * | `SUBJECT_NOT_FOUND`               | 404, error_code 40401                                                | no                     |
 * | `VERSION_NOT_FOUND`               | 404, error_code 40402                                                | no                     |
 * | `SCHEMA_NOT_FOUND`                | 404, error_code 40403 (an id, or a schema not under the subject)     | no                     |
 * | `INCOMPATIBLE_SCHEMA`             | HTTP 409: the subject's compatibility rules refuse the schema        | no                     |
 * | `INVALID_SCHEMA`                  | 422, error_code 42201 (or 44201 on newer registries)                 | no                     |
 * | `SCHEMA_REGISTRY_BAD_REQUEST`     | any other 4xx                                                        | no                     |
 * | `SCHEMA_REGISTRY_BAD_RESPONSE`    | a 2xx whose body is not JSON or lacks the fields the API promises    | no                     |
 *
 * `retriable` is true only for the first two. Every message names the
 * registry, the method and path, the HTTP status and the registry's own
 * `error_code` and message when it sent one.
 */
export class SchemaRegistryError extends KafkaClientError {
  /** The HTTP status, when the registry answered. */
  readonly status: number | undefined;
  /** The registry's `error_code` (e.g. 40401), when its body had one. */
  readonly errorCode: number | undefined;

  constructor(
    code: string,
    message: string,
    options: {
      status?: number | undefined;
      errorCode?: number | undefined;
      cause?: unknown;
      retriable?: boolean;
    } = {},
  ) {
    super(code, message, { cause: options.cause, retriable: options.retriable ?? false });
    this.status = options.status;
    this.errorCode = options.errorCode;
  }
}

/** Bytes that do not follow the Confluent wire format (wrong magic byte, truncated header or index path). */
export class WireFormatError extends KafkaClientError {
  constructor(message: string) {
    super('INVALID_WIRE_FORMAT', message);
  }
}
