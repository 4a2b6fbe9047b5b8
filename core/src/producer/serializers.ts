import { SerializationError } from '../errors.js';
import type { RecordHeader } from '../protocol/record-batch.js';
import type { Serializer } from './types.js';

/**
 * Built-in serializers. They throw a TypeError on input they do not accept;
 * the producer turns that (through {@link serializeOrThrow}) into a
 * SerializationError that fails only that record. Null is always null: for
 * a value that is a tombstone, for a key "no key".
 */

function describe(data: unknown): string {
  if (data === null) return 'null';
  if (Array.isArray(data)) return 'an array';
  const type = typeof data;
  if (type === 'object') {
    const name = (data as object).constructor?.name;
    if (!name || name === 'Object') return 'an object';
    return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`;
  }
  return type === 'undefined' ? 'undefined' : `a ${type}`;
}

/** Bytes as they are: a Uint8Array (or Buffer) is passed through, not copied. */
export class BytesSerializer implements Serializer<Uint8Array | null> {
  serialize(_topic: string, data: Uint8Array | null, _headers: RecordHeader[]): Uint8Array | null {
    if (data === null || data instanceof Uint8Array) return data;
    throw new TypeError(`BytesSerializer expects a Uint8Array, a Buffer or null, got ${describe(data)}`);
  }
}

/** A string, encoded UTF-8. */
export class StringSerializer implements Serializer<string | null> {
  serialize(_topic: string, data: string | null, _headers: RecordHeader[]): Uint8Array | null {
    if (data === null) return null;
    if (typeof data === 'string') return Buffer.from(data, 'utf8');
    throw new TypeError(`StringSerializer expects a string or null, got ${describe(data)}`);
  }
}

/**
 * `JSON.stringify`, encoded UTF-8. Null is a tombstone (no bytes), not the
 * text "null". Undefined, and values JSON cannot represent at top level
 * (functions, symbols), throw; so do BigInts and cycles, from JSON.stringify.
 */
export class JsonSerializer implements Serializer<unknown> {
  serialize(_topic: string, data: unknown, _headers: RecordHeader[]): Uint8Array | null {
    if (data === null) return null;
    const text = JSON.stringify(data) as string | undefined;
    if (text === undefined) {
      throw new TypeError(
        `JsonSerializer cannot serialize ${describe(data)}: JSON has no representation for it`,
      );
    }
    return Buffer.from(text, 'utf8');
  }
}

/**
 * The default key and value serializer: bytes as they are, a string as
 * UTF-8, null as null. Anything else throws: configure a serializer (such as
 * JsonSerializer) for other types rather than guess an encoding.
 */
export class DefaultSerializer implements Serializer<Uint8Array | string | null> {
  serialize(_topic: string, data: Uint8Array | string | null, _headers: RecordHeader[]): Uint8Array | null {
    if (data === null || data instanceof Uint8Array) return data;
    if (typeof data === 'string') return Buffer.from(data, 'utf8');
    throw new TypeError(
      `the default serializer accepts a Uint8Array, a Buffer, a string or null, got ${describe(data)}: ` +
        'configure a keySerializer or valueSerializer (for example JsonSerializer) for this type',
    );
  }
}

/**
 * Serializes a key or value for the producer: any throw from the serializer,
 * or a result that is neither a Uint8Array nor null, becomes a
 * SerializationError naming the topic, the key or value and the serializer,
 * with the original as `cause`. An absent key (undefined) is passed to the
 * serializer as null, as in the Java client, so serializers see one "no key".
 */
export function serializeOrThrow(
  serializer: Serializer,
  serializerName: string,
  topic: string,
  data: unknown,
  headers: RecordHeader[],
  what: 'key' | 'value',
): Uint8Array | null {
  let result: unknown;
  try {
    result = serializer.serialize(topic, data === undefined && what === 'key' ? null : data, headers);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new SerializationError(
      `failed to serialize the ${what} of a record for topic "${topic}" with ${serializerName}: ${detail}`,
      { cause: err },
    );
  }
  if (result === null || result instanceof Uint8Array) return result;
  const cause = new TypeError(
    `${serializerName}.serialize returned ${describe(result)}, not a Uint8Array or null`,
  );
  throw new SerializationError(
    `failed to serialize the ${what} of a record for topic "${topic}" with ${serializerName}: ${cause.message}`,
    { cause },
  );
}
