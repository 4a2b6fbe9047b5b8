import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * One Kafka API: its key, the version range our codecs implement, and the
 * codecs for both directions (requests are decoded, and responses encoded,
 * only by tests and tools; the client encodes requests and decodes responses).
 */
export interface ApiDescriptor<Req, Res> {
  readonly name: string;
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The first flexible (compact, tagged-field) version, or -1 if none is. */
  readonly flexibleVersion: number;
  encodeRequest(w: Writer, version: number, request: Req): void;
  decodeRequest(r: Reader, version: number): Req;
  encodeResponse(w: Writer, version: number, response: ResponseInit<Res>): void;
  decodeResponse(r: Reader, version: number): Res;
}

/**
 * What a response encoder accepts: any field may be omitted and encodes as
 * its default. Responses are encoded only by tests and scripted peers; the
 * decoded type (`Res`) always has every field.
 */
export type ResponseInit<T> = T extends Buffer
  ? T
  : T extends readonly (infer E)[]
    ? ResponseInit<E>[]
    : T extends object
      ? { [K in keyof T]?: ResponseInit<T[K]> }
      : T;

export function isFlexible(api: ApiDescriptor<unknown, unknown>, version: number): boolean {
  return api.flexibleVersion >= 0 && version >= api.flexibleVersion;
}

/** Request header v2 (tagged fields) for flexible versions, else v1 (client id). */
export function requestHeaderVersion(api: ApiDescriptor<unknown, unknown>, version: number): number {
  return isFlexible(api, version) ? 2 : 1;
}

/**
 * Response header v1 for flexible versions, else v0; ApiVersions always
 * answers with v0, because a client must be able to read the response before
 * it knows which versions the broker speaks.
 */
export function responseHeaderVersion(api: ApiDescriptor<unknown, unknown>, version: number): number {
  return api.apiKey !== 18 && isFlexible(api, version) ? 1 : 0;
}
