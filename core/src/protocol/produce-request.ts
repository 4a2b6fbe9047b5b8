import { sizeOfUvarint, type Writer } from './writer.js';

/**
 * Sealed batches at least this large are written by reference
 * (`Writer.reference`): the request goes out as chunks around them, so their
 * bytes are never copied into the request. Smaller ones are cheaper to copy
 * than to hand to the socket as chunks of their own.
 */
export const REFERENCE_MIN_BYTES = 1024;

export interface ProducePartitionBatch {
  partition: number;
  /** One sealed record batch v2 (or several, concatenated). */
  records: Buffer;
}

export interface ProduceTopicBatches {
  /** The topic name's UTF-8 bytes (Produce v3-v12). */
  nameBytes: Buffer;
  /** The topic id (Produce v13+). */
  topicId: Buffer | undefined;
  partitions: readonly ProducePartitionBatch[];
}

/**
 * The hot-path Produce request encoder: it writes already-sealed record
 * batches, with topic names encoded once by the caller (`nameBytes`) and the
 * transactional id likewise, sizing the writer once for the whole body. It
 * must produce exactly what the general codec (`ProduceApi.encodeRequest`)
 * produces; a test decodes its output with the general decoder for every
 * version. Large batches are referenced, not copied: read the result with
 * `Writer.finishChunks`, and leave the batches alone until it is written.
 */
export function encodeProduceRequestBody(
  w: Writer,
  version: number,
  transactionalId: Buffer | null,
  acks: number,
  timeoutMs: number,
  topics: readonly ProduceTopicBatches[],
): void {
  const flexible = version >= 9;
  const byId = version >= 13;

  // Exact size first (of what is copied), so the writer grows at most once.
  let size = flexible ? sizeOfUvarint(transactionalId === null ? 0 : transactionalId.length + 1) : 2;
  size += (transactionalId?.length ?? 0) + 2 + 4 + (flexible ? sizeOfUvarint(topics.length + 1) + 1 : 4);
  for (let t = 0; t < topics.length; t++) {
    const topic = topics[t] as ProduceTopicBatches;
    if (byId) size += 16;
    else size += topic.nameBytes.length + (flexible ? sizeOfUvarint(topic.nameBytes.length + 1) : 2);
    const parts = topic.partitions;
    size += flexible ? sizeOfUvarint(parts.length + 1) + 1 : 4;
    for (let p = 0; p < parts.length; p++) {
      const n = (parts[p] as ProducePartitionBatch).records.length;
      size += 4 + (n >= REFERENCE_MIN_BYTES ? 0 : n) + (flexible ? sizeOfUvarint(n + 1) + 1 : 4);
    }
  }
  w.ensure(size);

  if (transactionalId === null) {
    if (flexible) w.uvarint(0);
    else w.int16(-1);
  } else {
    if (flexible) w.uvarint(transactionalId.length + 1);
    else w.int16(transactionalId.length);
    w.raw(transactionalId);
  }
  w.int16(acks).int32(timeoutMs);
  if (flexible) w.uvarint(topics.length + 1);
  else w.int32(topics.length);
  for (let t = 0; t < topics.length; t++) {
    const topic = topics[t] as ProduceTopicBatches;
    if (byId) {
      if (topic.topicId === undefined || topic.topicId.length !== 16) {
        throw new RangeError('Produce v13+ addresses topics by id, and this topic has none');
      }
      w.raw(topic.topicId);
    } else {
      if (flexible) w.uvarint(topic.nameBytes.length + 1);
      else w.int16(topic.nameBytes.length);
      w.raw(topic.nameBytes);
    }
    const parts = topic.partitions;
    if (flexible) w.uvarint(parts.length + 1);
    else w.int32(parts.length);
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p] as ProducePartitionBatch;
      w.int32(part.partition);
      if (flexible) w.uvarint(part.records.length + 1);
      else w.int32(part.records.length);
      if (part.records.length >= REFERENCE_MIN_BYTES) w.reference(part.records);
      else w.raw(part.records);
      if (flexible) w.uvarint(0);
    }
    if (flexible) w.uvarint(0);
  }
  if (flexible) w.uvarint(0);
}
