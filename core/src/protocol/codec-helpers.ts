// Small helpers the generated API codecs share.
import { KafkaClientError } from '../errors.js';
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

/** The all-zero UUID Kafka uses for "no topic id". Never mutate it. */
export const ZERO_UUID: Buffer = Buffer.alloc(16);

export function nullNotAllowed(field: string, version: number): KafkaClientError {
  return new KafkaClientError('INVALID_REQUEST', `${field} cannot be null in version ${version}`);
}

export function notNull<T>(value: T | null, field: string): T {
  if (value === null)
    throw new KafkaClientError('INVALID_REQUEST', `${field} cannot be null in this version`);
  return value;
}

export function skipTaggedFields(r: Reader): void {
  r.taggedFields();
}

/** Where a tagged field of `size` bytes ends, after checking it fits. */
export function tagEnd(r: Reader, size: number): number {
  if (size > r.remaining)
    throw r.fail(`tagged field of ${size} byte(s) with ${r.remaining} left`, 'tagged fields');
  return r.pos + size;
}

// Tagged fields are length-prefixed with a varint, so each is encoded into a
// scratch writer first. Only responses (encoded by tests) carry them among the
// APIs we generate, so a small free list is plenty.
const free: Writer[] = [];

export function scratch(): Writer {
  return (free.pop() ?? new Writer(256)).reset();
}

export function release(w: Writer): void {
  if (free.length < 8) free.push(w);
}
