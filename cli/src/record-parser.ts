import type { HeaderValue, ProducerRecord } from '@tributary/core';
import type { ValueCodec } from './value-codec.js';

export const InputFormat = { Lines: 'lines', JsonLines: 'jsonl' } as const;
export type InputFormat = (typeof InputFormat)[keyof typeof InputFormat];

export interface RecordParserOptions {
  topic: string;
  format: InputFormat;
  /** `lines` mode: the key ends at the first occurrence of these bytes. */
  keyDelimiter: Buffer | undefined;
  /** Added to every record, before a JSON line's own headers. */
  headers: ReadonlyArray<readonly [string, Buffer | null]>;
  /** Turns JSON values into what the schema serializer takes; without one values are bytes. */
  codec: ValueCodec | undefined;
}

const JSON_FIELDS = new Set(['key', 'value', 'headers', 'partition', 'timestamp']);

/** A line that cannot become a record; the message says why (the caller adds where). */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/**
 * Turns input lines into producer records.
 *
 * `lines`: the line is the value (bytes as read), or with a key delimiter
 * the bytes before its first occurrence are the key and the rest the value
 * (no delimiter in the line: no key). With a schema the value is JSON text.
 *
 * `jsonl`: each non-blank line is an object with `value` and optionally
 * `key`, `headers` (an object, or [name, value] pairs; values strings or
 * null), `partition` and `timestamp` (ms since the epoch). A string key or
 * value is written as UTF-8, null as null, anything else as its JSON text;
 * with a schema, `value` is the datum in JSON.
 */
export class RecordParser {
  readonly #o: RecordParserOptions;
  readonly #headers: Array<[string, HeaderValue]> | undefined;

  constructor(options: RecordParserOptions) {
    this.#o = options;
    // One array shared by every record: the producer copies headers into the batch.
    this.#headers = options.headers.length === 0 ? undefined : options.headers.map(([k, v]) => [k, v]);
  }

  /** The record for `line`, or undefined for a line to skip (blank, in JSON-lines mode). */
  parse(line: Buffer): ProducerRecord<unknown, unknown> | undefined {
    return this.#o.format === InputFormat.JsonLines ? this.#json(line) : this.#line(line);
  }

  #line(line: Buffer): ProducerRecord<unknown, unknown> {
    const o = this.#o;
    let key: Buffer | null = null;
    let value: Buffer = line;
    if (o.keyDelimiter !== undefined) {
      const at = line.indexOf(o.keyDelimiter);
      if (at >= 0) {
        key = line.subarray(0, at);
        value = line.subarray(at + o.keyDelimiter.length);
      }
    }
    return {
      topic: o.topic,
      key,
      value: o.codec === undefined ? value : this.#decode(o.codec, value.toString('utf8')),
      headers: this.#headers,
    };
  }

  #decode(codec: ValueCodec, text: string): unknown {
    return fitting(codec, () => codec.fromText(text));
  }

  #json(line: Buffer): ProducerRecord<unknown, unknown> | undefined {
    const text = line.toString('utf8');
    if (text.trim() === '') return undefined;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new InputError(`not valid JSON: ${(err as Error).message}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new InputError(
        'expected a JSON object with "value" (and optionally key, headers, partition, timestamp)',
      );
    }
    const fields = obj as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      if (!JSON_FIELDS.has(name)) {
        throw new InputError(`unknown field "${name}" (expected key, value, headers, partition, timestamp)`);
      }
    }
    if (!('value' in fields)) throw new InputError('the object has no "value"');
    const o = this.#o;
    const record: ProducerRecord<unknown, unknown> = {
      topic: o.topic,
      key: plain(fields['key'] ?? null),
      value:
        o.codec === undefined
          ? plain(fields['value'])
          : fields['value'] === null
            ? null
            : this.#fromJson(o.codec, fields['value']),
      headers: this.#jsonHeaders(fields['headers']),
    };
    const partition = fields['partition'];
    if (partition !== undefined && partition !== null) {
      if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) {
        throw new InputError(`"partition" must be an integer >= 0, got ${JSON.stringify(partition)}`);
      }
      record.partition = partition;
    }
    const timestamp = fields['timestamp'];
    if (timestamp !== undefined && timestamp !== null) {
      if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0) {
        throw new InputError(
          `"timestamp" must be milliseconds since the epoch (an integer >= 0), got ${JSON.stringify(timestamp)}`,
        );
      }
      record.timestamp = timestamp;
    }
    return record;
  }

  #fromJson(codec: ValueCodec, value: unknown): unknown {
    return fitting(codec, () => codec.fromJson(value));
  }

  #jsonHeaders(raw: unknown): Array<[string, HeaderValue]> | undefined {
    if (raw === undefined || raw === null) return this.#headers;
    // An array is an object too.
    if (typeof raw !== 'object') {
      throw new InputError('"headers" must be an object or an array of [name, value] pairs');
    }
    const out: Array<[string, HeaderValue]> = this.#headers === undefined ? [] : [...this.#headers];
    const pairs: unknown[] = Array.isArray(raw) ? raw : Object.entries(raw as Record<string, unknown>);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
        throw new InputError(`"headers": expected [name, value] pairs, got ${JSON.stringify(pair)}`);
      }
      const v: unknown = pair[1];
      if (v !== null && typeof v !== 'string') {
        throw new InputError(`header "${pair[0]}" must be a string or null, got ${JSON.stringify(v)}`);
      }
      out.push([pair[0], v]);
    }
    return out;
  }
}

/** `convert()`'s value; an error it throws becomes an InputError saying the value does not fit the codec. */
function fitting(codec: ValueCodec, convert: () => unknown): unknown {
  try {
    return convert();
  } catch (err) {
    throw new InputError(`the value does not fit ${codec.description}: ${(err as Error).message}`);
  }
}

/** A JSON key or value without a schema: strings as UTF-8, null as null, anything else as its JSON text. */
function plain(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}
