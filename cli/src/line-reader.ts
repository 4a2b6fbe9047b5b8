import type { Readable } from 'node:stream';

/** What {@link readLines} hands each line to. */
export interface LineSink {
  /** Set once the reader must stop (a signal): lines not yet handed over are not read. */
  readonly stopping: boolean;
  /** True while the sink cannot take another line (its window of unsettled records is full). */
  mustWait(): boolean;
  /** Resolves when the sink has room again, or when it is stopping. */
  room(): Promise<void>;
  /** One line, without its `\n`: often a view of the stream's chunk (chunks are never reused, so it may be kept). */
  line(line: Buffer, source: string, lineNumber: number): void;
  /** A line longer than the limit was dropped (its bytes were never held in full). */
  tooLong(source: string, lineNumber: number, limit: number): void;
}

const NEWLINE = 0x0a;

/**
 * Splits a stream into lines and hands them to `sink`, one at a time,
 * waiting whenever the sink is full. The stream is pulled with async
 * iteration, so while the sink waits no more is read: memory stays at one
 * chunk, the partial line carried over, and what the sink holds. A line is
 * bytes up to `\n` (a `\r` before it is kept: the input is bytes, not text);
 * the last line needs no `\n`. A line longer than `maxLineBytes` is dropped
 * and reported, without buffering the rest of it.
 *
 * Resolves with `eof` at the end of the stream, `stopped` when the sink
 * began stopping first. A read error rejects (unless stopping, when
 * destroying the stream is the expected way to end).
 */
export async function readLines(
  stream: Readable,
  source: string,
  sink: LineSink,
  maxLineBytes: number,
): Promise<'eof' | 'stopped'> {
  let carry: Buffer | null = null;
  let dropping = false;
  let lineNumber = 0;
  try {
    for await (const data of stream) {
      const chunk = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
      let start = 0;
      for (;;) {
        if (sink.stopping) return 'stopped';
        const nl = chunk.indexOf(NEWLINE, start);
        if (nl < 0) break;
        lineNumber++;
        if (dropping) {
          dropping = false;
          start = nl + 1;
          continue;
        }
        let line: Buffer;
        if (carry === null) line = chunk.subarray(start, nl);
        else {
          line = Buffer.concat([carry, chunk.subarray(start, nl)]);
          carry = null;
        }
        start = nl + 1;
        if (line.length > maxLineBytes) {
          sink.tooLong(source, lineNumber, maxLineBytes);
          continue;
        }
        if (sink.mustWait()) {
          await sink.room();
          if (sink.stopping) return 'stopped';
        }
        sink.line(line, source, lineNumber);
      }
      if (start < chunk.length && !dropping) {
        const rest = chunk.subarray(start);
        carry = carry === null ? rest : Buffer.concat([carry, rest]);
        if (carry.length > maxLineBytes) {
          carry = null;
          dropping = true;
          sink.tooLong(source, lineNumber + 1, maxLineBytes);
        }
      }
    }
  } catch (err) {
    if (sink.stopping) return 'stopped';
    throw err;
  }
  if (sink.stopping) return 'stopped';
  if (carry !== null && carry.length > 0) {
    lineNumber++;
    if (sink.mustWait()) {
      await sink.room();
      if (sink.stopping) return 'stopped';
    }
    sink.line(carry, source, lineNumber);
  }
  return 'eof';
}
