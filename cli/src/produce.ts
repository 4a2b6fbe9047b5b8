import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  createProducer,
  ErrorCode,
  errorCodeInfo,
  isKafkaClientError,
  type KafkaProducer,
  type ProducerConfigInput,
  producerConfigDefs,
  type RecordMetadata,
  VALUE_SERIALIZER,
  validateTopicName,
} from '@tributary/core';
import { container } from 'tsyringe';
import { openMetadataClient, requestMetadata } from './cluster-metadata.js';
import { ExitCode, messageOf, unavailableError, usageError } from './errors.js';
import { type LineSink, readLines } from './line-reader.js';
import { bootstrapFlag, choiceFlag, headersFlag, intFlag, parsingArgs } from './options.js';
import { type ProduceCounts, ProgressLine, summaryLine } from './progress.js';
import { InputFormat, RecordParser } from './record-parser.js';
import { avroCodec, protobufCodec, type ValueCodec } from './value-codec.js';

export const produceUsage = `Usage: tributary produce --bootstrap HOST:PORT[,HOST:PORT] --topic TOPIC [options] [FILE...]

Produces one record per input line, from the FILEs in order or from stdin
(also when FILE is -), and reports what was delivered.

Input:
  --format lines|jsonl      lines (default): each line is a value, as bytes.
                            jsonl: each line is {"key":..., "value":..., "headers":{...},
                            "partition":n, "timestamp":ms}; only "value" is required
  --key-delimiter STR       lines mode: the key is what comes before the first STR
                            (a line without it has no key)
  --headers k=v,k2=v2       headers on every record (repeatable; "k" alone is a null value)

Values with a schema (lines mode: each line is the value as JSON; jsonl: "value"):
  --avro-schema FILE.avsc   encode with this Avro schema (Avro's JSON encoding:
                            unions as {"type": value})
  --proto FILE              .proto source (imports resolved next to it, and the
                            google/protobuf well-known types), or a compiled
                            FileDescriptorSet (protoc --include_imports
                            --descriptor_set_out=FILE.binpb, or buf build -o FILE.binpb)
  --message NAME            with --proto: the fully qualified message name
  --registry URL            Schema Registry: register the schema under TOPIC-value
                            and write Confluent's wire format

Producer:
  --acks all|1|0            default all (acks 1 or 0 turn idempotence off)
  --compression TYPE        none (default), gzip, snappy, lz4, zstd
  --linger-ms N             default 5
  --batch-size N            bytes, default 16384
  --max-request-size N      bytes, default 1048576; longer lines fail
  --timeout-ms N            bound on reaching the brokers, on the topic's metadata
                            and on each record's delivery; default 30000
  --max-pending N           records read but not yet acknowledged, at most; the
                            input is not read further until some are (default 50000)
  --shutdown-timeout-ms N   on SIGINT/SIGTERM, how long to deliver what was read; default 10000

Output:
  --progress                progress line on stderr even when it is not a terminal
  -h, --help

On a terminal a progress line (records/s, MB/s, in flight, errors) is redrawn on
stderr; a one-line summary always ends the run on stderr.

SIGINT (Ctrl-C) or SIGTERM stops reading, delivers what was read within
--shutdown-timeout-ms, and reports delivered and failed; a second signal exits at once.

Exit codes: 0 every record delivered; 1 some failed (the summary has the count and
the first error); 2 bad flag or unreadable/invalid schema or input file; 3 brokers
unreachable, metadata timeout, unknown topic, or registry unavailable; 130 / 143
stopped by SIGINT / SIGTERM with input cut short or records not delivered.`;

const OPTIONS = {
  bootstrap: { type: 'string', multiple: true },
  topic: { type: 'string' },
  format: { type: 'string' },
  'key-delimiter': { type: 'string' },
  headers: { type: 'string', multiple: true },
  'avro-schema': { type: 'string' },
  proto: { type: 'string' },
  message: { type: 'string' },
  registry: { type: 'string' },
  acks: { type: 'string' },
  compression: { type: 'string' },
  'linger-ms': { type: 'string' },
  'batch-size': { type: 'string' },
  'max-request-size': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'max-pending': { type: 'string' },
  'shutdown-timeout-ms': { type: 'string' },
  progress: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_PENDING = 50_000;
/** How long an UNKNOWN_TOPIC_OR_PARTITION answer is retried (a topic being created) before it is final. */
const UNKNOWN_TOPIC_GRACE_MS = 5_000;

interface ProduceSettings {
  bootstrapServers: string[];
  topic: string;
  files: string[];
  parser: RecordParser;
  codec: ValueCodec | undefined;
  registryUrl: string | undefined;
  producerConfig: ProducerConfigInput;
  timeoutMs: number;
  shutdownTimeoutMs: number;
  maxPending: number;
  maxPendingBytes: number;
  maxLineBytes: number;
  progress: boolean;
}

/** `tributary produce`: returns the exit code. */
export async function produceCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parsingArgs('produce', () => parse(args));
  if (values.help) {
    console.log(produceUsage);
    return ExitCode.Ok;
  }
  const settings = await settingsFrom(values, positionals);
  await checkTopic(settings.bootstrapServers, settings.topic, settings.timeoutMs);
  const producer = await openProducer(settings);
  return new ProduceRun(settings, producer).run();
}

function parse(args: readonly string[]) {
  return parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true });
}

type Values = ReturnType<typeof parse>['values'];

async function settingsFrom(values: Values, files: string[]): Promise<ProduceSettings> {
  const bootstrapServers = bootstrapFlag(values.bootstrap);
  const topic = values.topic;
  if (topic === undefined) throw usageError('produce: --topic is required');
  try {
    validateTopicName(topic);
  } catch (err) {
    throw usageError(`--topic: ${messageOf(err)}`, err);
  }
  const format = choiceFlag('format', values.format, [InputFormat.Lines, InputFormat.JsonLines]) ?? 'lines';
  const delimiter = values['key-delimiter'];
  if (delimiter !== undefined && delimiter === '') throw usageError('--key-delimiter cannot be empty');
  if (delimiter !== undefined && format === InputFormat.JsonLines) {
    throw usageError('--key-delimiter applies to --format lines (JSON lines carry their own "key")');
  }
  const acks = choiceFlag('acks', values.acks, ['all', '-1', '1', '0'] as const);
  const compression = choiceFlag(
    'compression',
    values.compression,
    producerConfigDefs.compressionType.values,
  );
  const lingerMs = intFlag('linger-ms', values['linger-ms'], 0) ?? producerConfigDefs.lingerMs.default;
  const batchSize = intFlag('batch-size', values['batch-size'], 0, 2 ** 31 - 1);
  const maxRequestSize =
    intFlag('max-request-size', values['max-request-size'], 1, 2 ** 31 - 1) ??
    producerConfigDefs.maxRequestSize.default;
  const timeoutMs = intFlag('timeout-ms', values['timeout-ms'], 1, 2 ** 31 - 1) ?? DEFAULT_TIMEOUT_MS;
  const shutdownTimeoutMs =
    intFlag('shutdown-timeout-ms', values['shutdown-timeout-ms'], 0, 2 ** 31 - 1) ??
    DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const maxPending = intFlag('max-pending', values['max-pending'], 1) ?? DEFAULT_MAX_PENDING;
  const headers = headersFlag(values.headers);

  const avro = values['avro-schema'];
  const proto = values.proto;
  if (avro !== undefined && proto !== undefined) throw usageError('give --avro-schema or --proto, not both');
  if (values.message !== undefined && proto === undefined) throw usageError('--message goes with --proto');
  const registryUrl = values.registry;
  if (registryUrl !== undefined && avro === undefined && proto === undefined) {
    throw usageError('--registry needs --avro-schema or --proto');
  }
  const codecOptions = { topic, registryUrl };
  const codec =
    avro !== undefined
      ? await avroCodec(avro, codecOptions)
      : proto !== undefined
        ? await protobufCodec(proto, values.message, codecOptions)
        : undefined;

  for (const file of files) if (file !== '-') await checkReadable(file);

  const producerConfig: ProducerConfigInput = {
    bootstrapServers,
    clientId: 'tributary-cli',
    lingerMs,
    maxRequestSize,
    // --timeout-ms bounds each record from send() to its outcome.
    requestTimeoutMs: timeoutMs,
    deliveryTimeoutMs: timeoutMs + lingerMs,
    maxBlockMs: timeoutMs,
    socketConnectionSetupTimeoutMs: Math.min(10_000, timeoutMs),
    socketConnectionSetupTimeoutMaxMs: Math.min(30_000, timeoutMs),
  };
  if (acks !== undefined) producerConfig.acks = acks;
  if (compression !== undefined) producerConfig.compressionType = compression;
  if (batchSize !== undefined) producerConfig.batchSize = batchSize;

  return {
    bootstrapServers,
    topic,
    files,
    parser: new RecordParser({
      topic,
      format,
      keyDelimiter: delimiter === undefined ? undefined : Buffer.from(delimiter, 'utf8'),
      headers,
      codec,
    }),
    codec,
    registryUrl,
    producerConfig,
    timeoutMs,
    shutdownTimeoutMs,
    maxPending,
    // Read no further ahead than the producer's own buffer could hold.
    maxPendingBytes: producerConfigDefs.bufferMemory.default,
    maxLineBytes: maxRequestSize,
    progress: values.progress === true || process.stderr.isTTY === true,
  };
}

async function checkReadable(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
    if ((await stat(file)).isDirectory()) throw new Error('it is a directory');
  } catch (err) {
    throw usageError(`cannot read input file ${file}: ${messageOf(err)}`, err);
  }
}

/**
 * Waits (up to `timeoutMs`) until the brokers describe the topic with its
 * partitions. Unreachable brokers and a topic that does not exist end the
 * command with exit code 3 and one line saying which.
 */
async function checkTopic(bootstrapServers: string[], topic: string, timeoutMs: number): Promise<void> {
  const start = Date.now();
  const deadline = start + timeoutMs;
  // One connection for every poll (opened, as each poll's was, with what is left of the wait).
  const client = openMetadataClient(bootstrapServers, Math.max(1, deadline - Date.now()));
  try {
    for (;;) {
      const metadata = await requestMetadata(client, {
        bootstrapServers,
        topics: [topic],
        timeoutMs: Math.max(1, deadline - Date.now()),
        reportedTimeoutMs: timeoutMs,
        allowAutoTopicCreation: true,
      });
      const t = metadata.topics.find((x) => x.name === topic);
      const code = t === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : t.errorCode;
      if (code === ErrorCode.NONE && t !== undefined && t.partitions.length > 0) return;
      const name = errorCodeInfo(code).name;
      if (code === ErrorCode.INVALID_TOPIC_EXCEPTION || code === ErrorCode.TOPIC_AUTHORIZATION_FAILED) {
        throw unavailableError(`topic ${topic}: the brokers answer ${name}`);
      }
      const unknown = code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      const limit = unknown ? Math.min(deadline, start + UNKNOWN_TOPIC_GRACE_MS) : deadline;
      if (Date.now() + 200 >= limit) {
        throw unavailableError(
          unknown
            ? `topic ${topic} does not exist: the brokers answer ${name} and do not create it`
            : `topic ${topic} is not available after ${timeoutMs} ms (the brokers answer ${name})`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await client.close();
  }
}

async function openProducer(s: ProduceSettings): Promise<KafkaProducer<unknown, unknown>> {
  const c = container.createChildContainer();
  if (s.codec !== undefined) c.register(VALUE_SERIALIZER, { useValue: s.codec.serializer });
  try {
    return await createProducer<unknown, unknown>(s.producerConfig, { container: c });
  } catch (err) {
    if (isKafkaClientError(err) && err.code === 'CONFIG_ERROR') throw usageError(messageOf(err), err);
    if (s.registryUrl !== undefined) {
      throw unavailableError(`schema registry ${s.registryUrl}: ${messageOf(err)}`, err);
    }
    throw err;
  }
}

/**
 * One unsettled record's place in the window. Slots are reused, so each
 * record costs no closure: the two handlers are made once per slot.
 */
class Slot {
  bytes = 0;
  readonly ok: (m: RecordMetadata) => void;
  readonly fail: (err: unknown) => void;

  constructor(run: ProduceRun) {
    this.ok = (m) => run.delivered(this, m);
    this.fail = (err) => run.failed(this, err);
  }
}

/**
 * Reads the input into the producer with a bounded window, handles
 * signals, and reports. Every record read ends delivered or failed (its
 * promise settles, `close()` guarantees it), so `read = delivered + failed`
 * when the run ends.
 */
class ProduceRun implements LineSink {
  readonly counts: ProduceCounts = { read: 0, delivered: 0, failed: 0, deliveredBytes: 0, inFlight: 0 };
  stopping = false;
  readonly #s: ProduceSettings;
  readonly #producer: KafkaProducer<unknown, unknown>;
  readonly #parser: RecordParser;
  readonly #free: Slot[] = [];
  #pendingBytes = 0;
  #firstError: string | undefined;
  #signal: NodeJS.Signals | undefined;
  #input: Readable | undefined;
  #wake: (() => void) | undefined;
  #idle: (() => void) | undefined;
  #signalled!: () => void;
  readonly #signalledPromise = new Promise<void>((r) => (this.#signalled = r));
  #progress: ProgressLine | undefined;

  constructor(settings: ProduceSettings, producer: KafkaProducer<unknown, unknown>) {
    this.#s = settings;
    this.#producer = producer;
    this.#parser = settings.parser;
  }

  async run(): Promise<number> {
    const s = this.#s;
    const startedAt = performance.now();
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
    if (s.progress) this.#progress = new ProgressLine(process.stderr, this.counts);
    let outcome: 'eof' | 'stopped' = 'eof';
    try {
      const sources = s.files.length === 0 ? ['-'] : s.files;
      for (const source of sources) {
        const stream = source === '-' ? process.stdin : createReadStream(source);
        this.#input = stream;
        const name = source === '-' ? 'stdin' : source;
        try {
          outcome = await readLines(stream, name, this, s.maxLineBytes);
        } catch (err) {
          this.#note(`${name}: reading failed: ${messageOf(err)}`);
          outcome = 'stopped';
        }
        if (stream !== process.stdin) stream.destroy();
        if (outcome === 'stopped') break;
      }
      if (this.#signal === undefined) await Promise.race([this.#producer.flush(), this.#signalledPromise]);
    } finally {
      await this.#close();
      this.#progress?.stop();
      process.off('SIGINT', this.#onSignal);
      process.off('SIGTERM', this.#onSignal);
    }
    const signal = this.#signal;
    const c = this.counts;
    const incomplete = c.failed > 0 || c.inFlight > 0;
    const cutShort = outcome === 'stopped';
    const prefix =
      signal === undefined
        ? cutShort
          ? 'input cut short; '
          : ''
        : `${signal}: ${cutShort ? 'stopped reading, input cut short' : 'the input had been read in full'}; `;
    console.error(summaryLine(c, performance.now() - startedAt, this.#firstError, prefix));
    if (signal !== undefined && (cutShort || incomplete)) return exitCodeFor(signal);
    return incomplete || cutShort ? ExitCode.RecordsFailed : ExitCode.Ok;
  }

  /** Flushes (bounded by the shutdown timeout after a signal) and waits for every record to settle. */
  async #close(): Promise<void> {
    const grace = this.#s.shutdownTimeoutMs;
    const closing =
      this.#signal === undefined ? this.#producer.close() : this.#producer.close({ timeoutMs: grace });
    // close() settles every record; the cap only guards against a bug there leaving the CLI hanging.
    const cap = (this.#signal === undefined ? this.#s.timeoutMs : grace) + 5_000;
    await withCap(closing, cap);
    if (this.counts.inFlight > 0) await withCap(new Promise<void>((r) => (this.#idle = r)), cap);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#signal !== undefined) {
      this.#progress?.stop();
      console.error(
        `tributary: second signal (${signal}): exiting now; ${this.counts.delivered} of ${this.counts.read} records delivered, ${this.counts.inFlight} not settled`,
      );
      process.exit(exitCodeFor(signal));
    }
    this.#signal = signal;
    this.stopping = true;
    this.#progress?.stop();
    this.#progress = undefined;
    console.error(
      `tributary: ${signal}: stopped reading; delivering ${this.counts.inFlight} records read ` +
        `(up to ${this.#s.shutdownTimeoutMs} ms; signal again to exit now)`,
    );
    this.#input?.destroy();
    this.#wakeReader();
    this.#signalled();
  };

  // -- LineSink ----------------------------------------------------------------------------

  mustWait(): boolean {
    return this.counts.inFlight >= this.#s.maxPending || this.#pendingBytes >= this.#s.maxPendingBytes;
  }

  room(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  line(line: Buffer, source: string, lineNumber: number): void {
    let record: ReturnType<RecordParser['parse']>;
    try {
      record = this.#parser.parse(line);
    } catch (err) {
      this.counts.read++;
      this.counts.failed++;
      this.#note(`${source}:${lineNumber}: ${messageOf(err)}`);
      return;
    }
    if (record === undefined) return;
    const slot = this.#free.pop() ?? new Slot(this);
    slot.bytes = line.length;
    this.counts.read++;
    this.counts.inFlight++;
    this.#pendingBytes += slot.bytes;
    this.#producer.send(record).then(slot.ok, slot.fail);
  }

  tooLong(source: string, lineNumber: number, limit: number): void {
    this.counts.read++;
    this.counts.failed++;
    this.#note(`${source}:${lineNumber}: the line is longer than ${limit} bytes (--max-request-size)`);
  }

  // -- settlement ----------------------------------------------------------------------------

  delivered(slot: Slot, m: RecordMetadata): void {
    this.counts.delivered++;
    this.counts.deliveredBytes += Math.max(0, m.serializedKeySize) + Math.max(0, m.serializedValueSize);
    this.#release(slot);
  }

  failed(slot: Slot, err: unknown): void {
    this.counts.failed++;
    this.#note(messageOf(err));
    this.#release(slot);
  }

  #release(slot: Slot): void {
    const c = this.counts;
    c.inFlight--;
    this.#pendingBytes -= slot.bytes;
    this.#free.push(slot);
    // Resume reading at three quarters, not at the first free slot: fewer wake-ups.
    if (
      this.#wake !== undefined &&
      c.inFlight <= (this.#s.maxPending * 3) / 4 &&
      this.#pendingBytes <= (this.#s.maxPendingBytes * 3) / 4
    ) {
      this.#wakeReader();
    }
    if (c.inFlight === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #note(message: string): void {
    this.#firstError ??= message;
  }
}

function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? ExitCode.Sigint : ExitCode.Sigterm;
}

async function withCap(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
