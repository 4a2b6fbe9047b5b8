import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Request header (protocol guide, "Request Header v0-v2"): api key, api
 * version and correlation id; v1 adds the client id (a classic nullable
 * string even in flexible versions); v2 adds a tagged-field section.
 * The client id is encoded once by the caller and reused as bytes.
 */
export function writeRequestHeader(
  w: Writer,
  headerVersion: number,
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: Buffer | null,
): void {
  w.int16(apiKey).int16(apiVersion).int32(correlationId);
  if (headerVersion >= 1) {
    if (clientId === null) w.int16(-1);
    else w.int16(clientId.length).raw(clientId);
  }
  if (headerVersion >= 2) w.emptyTaggedFields();
}

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads a request header (used by tests and scripted peers). */
export function readRequestHeader(r: Reader, headerVersion: number): RequestHeader {
  const apiKey = r.int16('request_api_key');
  const apiVersion = r.int16('request_api_version');
  const correlationId = r.int32('correlation_id');
  const clientId = headerVersion >= 1 ? r.nullableString('client_id') : null;
  if (headerVersion >= 2) r.taggedFields();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Response header v0: the correlation id; v1 adds a tagged-field section. Returns the correlation id. */
export function readResponseHeader(r: Reader, headerVersion: number): number {
  const correlationId = r.int32('correlation_id');
  if (headerVersion >= 1) r.taggedFields();
  return correlationId;
}

export function writeResponseHeader(w: Writer, headerVersion: number, correlationId: number): void {
  w.int32(correlationId);
  if (headerVersion >= 1) w.emptyTaggedFields();
}
