import { spawn } from 'node:child_process';
import { TestkitError } from './errors.js';

/**
 * kcat (Debian's package, on its own librdkafka) is the independent peer of
 * the test suite: what our producer wrote is read back by it, never by our
 * own decoder.
 */

/** One record as an independent consumer saw it. */
export interface ConsumedRecord {
  partition: number;
  offset: number;
  /** Milliseconds since the epoch, as stored in the batch (-1 when absent). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** In wire order; a header value may be null. */
  headers: Array<[name: string, value: Buffer | null]>;
}

export interface ReadTopicOptions {
  /** Give up (and kill kcat) after this long. Default 60 s. */
  timeoutMs?: number;
  /**
   * Also read the headers (a second pass, see {@link readTopic}). Default true;
   * turn it off to read large topics once.
   */
  headers?: boolean;
  /** Read only this partition. */
  partition?: number;
  /** read_committed (librdkafka's default: aborted and open transactions hidden) or read_uncommitted. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
}

export interface KcatRunOptions {
  input?: Buffer;
  timeoutMs?: number;
}

/** Runs kcat with `args`, resolving with its standard output. */
export function runKcat(args: readonly string[], options: KcatRunOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // kcat exited before reading all input; its exit status says why.
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new TestkitError(
          e.code === 'ENOENT'
            ? 'kcat is not installed: apt-get install -y kcat'
            : `kcat failed to start: ${e.message}`,
          { cause: e },
        ),
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (timedOut)
        reject(new TestkitError(`kcat ${args.join(' ')} timed out after ${timeoutMs} ms; stderr: ${stderr}`));
      else if (code !== 0)
        reject(new TestkitError(`kcat ${args.join(' ')} exited (code ${code}, signal ${signal}): ${stderr}`));
      else resolve(Buffer.concat(out));
    });
    child.stdin.end(options.input);
  });
}

// Lengths first, then the bytes: `%K`/`%S` are -1 for null, so keys and
// values are recovered exactly whatever bytes they hold.
const FORMAT = '%p %o %T %K %S\\n%k%s\\n';

function parseFormatted(out: Buffer, topic: string): ConsumedRecord[] {
  const records: ConsumedRecord[] = [];
  let pos = 0;
  const bad = (why: string) =>
    new TestkitError(`cannot parse kcat output for ${topic} at byte ${pos}: ${why}`);
  while (pos < out.length) {
    const eol = out.indexOf(0x0a, pos);
    if (eol < 0) throw bad('unterminated record line');
    const fields = out.toString('latin1', pos, eol).split(' ').map(Number);
    if (fields.length !== 5 || fields.some((n) => !Number.isInteger(n))) throw bad('malformed record line');
    const [partition, offset, timestamp, keyLen, valueLen] = fields as [
      number,
      number,
      number,
      number,
      number,
    ];
    pos = eol + 1;
    const take = (len: number): Buffer | null => {
      if (len < 0) return null;
      if (pos + len > out.length) throw bad('truncated record');
      const b = Buffer.from(out.subarray(pos, pos + len));
      pos += len;
      return b;
    };
    const key = take(keyLen);
    const value = take(valueLen);
    if (out[pos] !== 0x0a) throw bad('record not terminated');
    pos++;
    records.push({ partition, offset, timestamp, key, value, headers: [] });
  }
  return records;
}

interface JsonRecord {
  partition: number;
  offset: number;
  headers?: Array<string | null>;
  key: string | null;
  payload: string | null;
}

/**
 * Reads every record of `topic` from the beginning to the current end with
 * kcat, sorted by partition then offset, byte-exact.
 *
 * Keys and values come from kcat's `-f` format with length tokens. kcat has
 * no length token for headers, and its `%h` stops at a NUL byte, so headers
 * come from a second pass with `-J`: kcat's JSON writer escapes only ASCII
 * control characters, quote and backslash and copies every other byte as is,
 * so decoding that output as latin1 recovers each byte exactly (a UTF-8
 * decode would not). The second pass also re-reads keys and values; any
 * disagreement between the passes is an error.
 */
export async function readTopic(
  bootstrapServers: string,
  topic: string,
  options: ReadTopicOptions = {},
): Promise<ConsumedRecord[]> {
  // check.crcs: librdkafka skips CRC verification by default, and catching a
  // wrong CRC in what we wrote is half the point of reading it back.
  const base = [
    '-C',
    '-b',
    bootstrapServers,
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-X',
    'check.crcs=true',
  ];
  if (options.partition !== undefined) base.push('-p', String(options.partition));
  if (options.isolationLevel !== undefined) base.push('-X', `isolation.level=${options.isolationLevel}`);
  const run = { timeoutMs: options.timeoutMs ?? 60_000 };

  const records = parseFormatted(await runKcat([...base, '-f', FORMAT], run), topic);
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  if (options.headers === false) return records;

  const json = (await runKcat([...base, '-J'], run)).toString('latin1');
  const byPosition = new Map<string, JsonRecord>();
  for (const line of json.split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as JsonRecord;
    byPosition.set(`${r.partition}:${r.offset}`, r);
  }
  const bytes = (s: string | null | undefined) =>
    s === null || s === undefined ? null : Buffer.from(s, 'latin1');
  const same = (a: Buffer | null, b: Buffer | null) => (a === null ? b === null : b !== null && a.equals(b));
  for (const rec of records) {
    const j = byPosition.get(`${rec.partition}:${rec.offset}`);
    if (!j)
      throw new TestkitError(
        `kcat's two passes over ${topic} disagree: ${rec.partition}:${rec.offset} missing`,
      );
    if (!same(rec.key, bytes(j.key)) || !same(rec.value, bytes(j.payload))) {
      throw new TestkitError(`kcat's two passes over ${topic} disagree on ${rec.partition}:${rec.offset}`);
    }
    const h = j.headers ?? [];
    for (let i = 0; i + 1 < h.length; i += 2) {
      rec.headers.push([Buffer.from(h[i] ?? '', 'latin1').toString('utf8'), bytes(h[i + 1])]);
    }
  }
  if (byPosition.size !== records.length) {
    throw new TestkitError(
      `kcat's two passes over ${topic} disagree: ${byPosition.size} vs ${records.length} records`,
    );
  }
  return records;
}

export interface KcatProduceOptions {
  /** Produce every record to this partition (default: kcat's partitioner). */
  partition?: number;
  /** Headers added to every record. Names must not contain '='. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface KcatRecord {
  /** Omitted or null: no key. */
  key?: Buffer | string | null;
  value: Buffer | string;
}

function unusedByte(chunks: readonly Buffer[], not: number): number {
  const seen = new Uint8Array(256);
  for (const c of chunks) for (const b of c) seen[b] = 1;
  // Skip 0: kcat's delimiter parser works on C strings.
  for (let b = 1; b < 256; b++) if (!seen[b] && b !== not) return b;
  throw new TestkitError('kcatProduce: the records use every byte value, so kcat has no free delimiter');
}

/**
 * Produces `records` with kcat (acks=all, its own librdkafka), so tests have
 * records that were not written by Tributary. Keys and values may hold any
 * bytes except that at least two byte values must be unused overall (they
 * become kcat's message and key delimiters), and values must not be empty
 * (kcat skips empty messages).
 */
export async function kcatProduce(
  bootstrapServers: string,
  topic: string,
  records: readonly KcatRecord[],
  options: KcatProduceOptions = {},
): Promise<void> {
  const keys = records.map((r) => (r.key === undefined || r.key === null ? null : Buffer.from(r.key)));
  const values = records.map((r, i) => {
    const v = Buffer.from(r.value);
    // kcat skips an empty message instead of producing it; refuse rather than lose it.
    if (v.length === 0)
      throw new TestkitError(`kcatProduce: record ${i} has an empty value, which kcat cannot produce`);
    return v;
  });
  const all: Buffer[] = [...values];
  for (const k of keys) if (k) all.push(k);
  const msgDelim = unusedByte(all, -1);
  const keyDelim = unusedByte(all, msgDelim);
  const hex = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;
  const args = [
    '-P',
    '-b',
    bootstrapServers,
    '-t',
    topic,
    '-D',
    hex(msgDelim),
    '-K',
    hex(keyDelim),
    '-X',
    'acks=all',
  ];
  if (options.partition !== undefined) args.push('-p', String(options.partition));
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (name.includes('=')) throw new TestkitError(`kcat header names cannot contain '=': ${name}`);
    args.push('-H', `${name}=${value}`);
  }
  const parts: Buffer[] = [];
  records.forEach((_, i) => {
    const key = keys[i];
    if (key) parts.push(key, Buffer.of(keyDelim));
    parts.push(values[i] as Buffer, Buffer.of(msgDelim));
  });
  await runKcat(args, { input: Buffer.concat(parts), timeoutMs: options.timeoutMs ?? 60_000 });
}

export interface KcatMetadata {
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{
    topic: string;
    error?: string;
    partitions: Array<{
      partition: number;
      leader: number;
      replicas: Array<{ id: number }>;
      isrs: Array<{ id: number }>;
    }>;
  }>;
}

/** The cluster's metadata as kcat (`-L -J`) sees it; one topic or all. */
export async function kcatMetadata(
  bootstrapServers: string,
  topic?: string,
  timeoutMs = 30_000,
): Promise<KcatMetadata> {
  const args = ['-L', '-J', '-b', bootstrapServers];
  if (topic !== undefined) args.push('-t', topic);
  const out = await runKcat(args, { timeoutMs });
  return JSON.parse(out.toString('utf8')) as KcatMetadata;
}

/**
 * Each partition's end offset (the next offset to be written), from kcat's
 * offset query (-Q with -1, "end"): the count of records in a partition that
 * was written from offset 0, as benchmarks and demos verify it.
 */
export async function endOffsets(
  bootstrapServers: string,
  topic: string,
  partitions: number,
  timeoutMs = 30_000,
): Promise<number[]> {
  const args = ['-Q', '-b', bootstrapServers];
  for (let p = 0; p < partitions; p++) args.push('-t', `${topic}:${p}:-1`);
  const out = (await runKcat(args, { timeoutMs })).toString('utf8');
  const offsets: number[] = Array.from({ length: partitions }, () => Number.NaN);
  for (const line of out.split('\n')) {
    // "<topic> [<partition>] offset <n>"
    const m = /^(\S+) \[(\d+)\] offset (-?\d+)$/.exec(line.trim());
    if (m && m[1] === topic) offsets[Number(m[2])] = Number(m[3]);
  }
  if (offsets.some((o) => Number.isNaN(o)))
    throw new TestkitError(`kcat -Q did not report every partition of ${topic}: ${out}`);
  return offsets;
}
