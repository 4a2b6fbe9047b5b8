/** Kafka's codec ids, as in the record batch attributes' low 3 bits. */
export const CompressionType = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];
export type CompressionName = keyof typeof CompressionType;

/**
 * One compression codec of the record batch payload (the records after the
 * 61-byte batch header). Both directions are synchronous: `compress` runs when
 * a batch is sealed, `decompress` when a batch is read back.
 *
 * Contract: `decompress` throws a `ProtocolError` (code `PROTOCOL_ERROR`,
 * field `records`) for input that is not a valid stream of this codec, never
 * the underlying library's own error type (that one is kept as `cause`).
 * Output buffers are new allocations, except that the `none` codec returns a
 * view of its input.
 */
export interface CompressionCodec {
  readonly type: CompressionType;
  readonly name: CompressionName;
  /** Which library (and whether native or fallback) is in use, e.g. `snappy (napi-rs native)`. */
  readonly implementation: string;
  compress(data: Uint8Array): Buffer;
  decompress(data: Uint8Array): Buffer;
}
