import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TestkitError } from './errors.js';
import { ensureLauncher, type LibrdkafkaVersion, librdkafkaFromEnv } from './launcher.js';

export interface TopicSpec {
  name: string;
  /** Default 1. */
  partitions?: number;
  /** Default 1; at most the broker count. */
  replicationFactor?: number;
}

export interface ClusterOptions {
  /** Number of brokers, ids 1..brokers. Default 3. */
  brokers?: number;
  /** Topics created before `startCluster` resolves. */
  topics?: TopicSpec[];
  /** Which librdkafka build runs the cluster. Default: `TRIBUTARY_LIBRDKAFKA`, else 2.12. */
  librdkafka?: LibrdkafkaVersion;
  /** How long one command (or the start-up) may take before the cluster is killed. Default 10 s. */
  commandTimeoutMs?: number;
}

export interface MockBroker {
  id: number;
  host: string;
  port: number;
}

/** An error code pushed onto one broker's stack, answered after an artificial delay. */
export interface BrokerRequestError {
  code: number;
  rttMs: number;
}

interface Pending {
  command: string;
  resolve: (data: string) => void;
  reject: (err: Error) => void;
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const TOKEN = /^[^\s]+$/;
const live = new Set<MockCluster>();
let exitHookInstalled = false;

/** Kills every cluster still running when the process exits, whatever the reason. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cluster of live) cluster.kill();
  });
}

function int(name: string, value: number, min: number, max: number): string {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TestkitError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return String(value);
}

function topicName(name: string): string {
  if (!TOPIC_NAME.test(name)) throw new TestkitError(`invalid topic name ${JSON.stringify(name)}`);
  return name;
}

/**
 * A running librdkafka mock cluster: real Kafka-protocol brokers on loopback,
 * plus the mock's fault injection. Obtain one with {@link startCluster}; always
 * `stop()` it (it is also killed when the process exits).
 */
export class MockCluster {
  readonly bootstrapServers: string;
  readonly brokers: readonly MockBroker[];
  /** The version string the launcher's librdkafka reports, e.g. `2.12.0`. */
  readonly librdkafkaVersion: string;

  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending: Pending[] = [];
  readonly #timeoutMs: number;
  readonly #stderr: string[] = [];
  #exited: Promise<void>;
  #exitReason: string | undefined;

  /** @internal Use {@link startCluster}. */
  constructor(
    child: ChildProcessWithoutNullStreams,
    lines: AsyncIterator<string>,
    ready: string,
    stderr: string[],
    timeoutMs: number,
  ) {
    this.#child = child;
    this.#stderr = stderr;
    this.#timeoutMs = timeoutMs;
    const [, version = '', , bootstraps = ''] = ready.split(' ');
    this.librdkafkaVersion = version;
    this.bootstrapServers = bootstraps;
    // The mock numbers its brokers 1..N and lists them in that order.
    this.brokers = bootstraps.split(',').map((hp, i) => {
      const at = hp.lastIndexOf(':');
      return { id: i + 1, host: hp.slice(0, at), port: Number(hp.slice(at + 1)) };
    });
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this);
        this.#exitReason = `mock cluster exited (code ${code}, signal ${signal})`;
        this.#failAll();
        resolve();
      });
    });
    child.on('error', () => {
      // A failed kill or write; the exit handler reports what matters.
    });
    void this.#readReplies(lines);
    live.add(this);
    installExitHook();
    this.#idle();
  }

  /** Creates a topic with `partitions` partitions, each replicated on `replicationFactor` brokers. */
  async createTopic(name: string, partitions = 1, replicationFactor = 1): Promise<void> {
    await this.#command(
      'create-topic',
      topicName(name),
      int('partitions', partitions, 1, 100_000),
      int('replicationFactor', replicationFactor, 1, this.brokers.length),
    );
  }

  /** Disconnects the broker's clients and refuses new connections until {@link setBrokerUp}. */
  async setBrokerDown(brokerId: number): Promise<void> {
    await this.#command('broker-down', this.#broker(brokerId));
  }

  async setBrokerUp(brokerId: number): Promise<void> {
    await this.#command('broker-up', this.#broker(brokerId));
  }

  /** Delays every response of the broker by `ms` (0 removes the delay). */
  async setBrokerRtt(brokerId: number, ms: number): Promise<void> {
    await this.#command('broker-rtt', this.#broker(brokerId), int('ms', ms, 0, 3_600_000));
  }

  /**
   * The next `codes.length` requests of `apiKey`, on any broker, are answered
   * with these error codes, in order (0 lets one through).
   */
  async pushRequestErrors(apiKey: number, codes: readonly number[]): Promise<void> {
    if (codes.length === 0) throw new TestkitError('pushRequestErrors needs at least one error code');
    await this.#command(
      'push-errors',
      int('apiKey', apiKey, 0, 32767),
      ...codes.map((c) => int('code', c, -1, 32767)),
    );
  }

  /** Like {@link pushRequestErrors}, for one broker, each answer delayed by its `rttMs`. */
  async pushBrokerRequestErrors(
    brokerId: number,
    apiKey: number,
    errors: readonly BrokerRequestError[],
  ): Promise<void> {
    if (errors.length === 0) throw new TestkitError('pushBrokerRequestErrors needs at least one error');
    await this.#command(
      'broker-push-errors',
      this.#broker(brokerId),
      int('apiKey', apiKey, 0, 32767),
      ...errors.flatMap((e) => [int('code', e.code, -1, 32767), int('rttMs', e.rttMs, 0, 3_600_000)]),
    );
  }

  async clearRequestErrors(apiKey: number): Promise<void> {
    await this.#command('clear-errors', int('apiKey', apiKey, 0, 32767));
  }

  /** Makes Metadata (and AddPartitionsToTxn) report `code` for the topic; 0 clears it. */
  async setTopicError(topic: string, code: number): Promise<void> {
    await this.#command('topic-error', topicName(topic), int('code', code, -1, 32767));
  }

  /** Moves the partition's leadership to `brokerId` (a leader move, as after a broker failure). */
  async setPartitionLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    await this.#command(
      'partition-leader',
      topicName(topic),
      int('partition', partition, 0, 100_000),
      this.#broker(brokerId),
    );
  }

  /** Narrows (or widens) the version range every broker advertises for `apiKey`; -1/-1 disables the API. */
  async setApiVersion(apiKey: number, minVersion: number, maxVersion: number): Promise<void> {
    await this.#command(
      'api-version',
      int('apiKey', apiKey, 0, 32767),
      int('minVersion', minVersion, -1, 32767),
      int('maxVersion', maxVersion, -1, 32767),
    );
  }

  /** Pins the coordinator of a transactional id (`transaction`) or group (`group`) to a broker. */
  async setCoordinator(keyType: 'transaction' | 'group', key: string, brokerId: number): Promise<void> {
    if (!TOKEN.test(key))
      throw new TestkitError(`coordinator key must be non-empty without whitespace: ${JSON.stringify(key)}`);
    await this.#command('coordinator', keyType, key, int('brokerId', brokerId, -1, 2 ** 31 - 1));
  }

  /** The launcher's process id. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Whether the launcher process is still running. */
  get running(): boolean {
    return this.#exitReason === undefined;
  }

  /**
   * Shuts the cluster down and reaps the process: closes its stdin (the launcher
   * destroys the cluster and exits), and kills it if it has not gone within 5 s.
   * Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (this.#exitReason === undefined) {
      this.#child.ref();
      this.#child.stdin.end();
      const timer = setTimeout(() => this.kill(), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  /** @internal Synchronous last resort, used on process exit. */
  kill(): void {
    if (this.#exitReason === undefined) this.#child.kill('SIGKILL');
  }

  #broker(id: number): string {
    if (!this.brokers.some((b) => b.id === id)) {
      throw new TestkitError(`no broker ${id}; this cluster has ${this.brokers.map((b) => b.id).join(', ')}`);
    }
    return String(id);
  }

  #command(...words: string[]): Promise<string> {
    if (this.#exitReason !== undefined) {
      return Promise.reject(
        new TestkitError(`${this.#exitReason}; cannot run "${words.join(' ')}"${this.#stderrTail()}`),
      );
    }
    const command = words.join(' ');
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(
          new TestkitError(
            `mock cluster did not answer "${command}" within ${this.#timeoutMs} ms; killed it`,
          ),
        );
      }, this.#timeoutMs);
      this.#pending.push({
        command,
        resolve: (data) => {
          clearTimeout(timer);
          resolve(data);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.#busy();
      this.#child.stdin.write(`${command}\n`);
    });
  }

  async #readReplies(lines: AsyncIterator<string>): Promise<void> {
    for (;;) {
      const next = await lines.next();
      if (next.done) return;
      const line = next.value;
      const p = this.#pending.shift();
      if (!p) continue;
      if (line === 'ok' || line.startsWith('ok ')) p.resolve(line.slice(3));
      else p.reject(new TestkitError(`mock cluster rejected "${p.command}": ${line.replace(/^error /, '')}`));
      if (this.#pending.length === 0) this.#idle();
    }
  }

  #failAll(): void {
    for (const p of this.#pending.splice(0)) {
      p.reject(new TestkitError(`${this.#exitReason} while running "${p.command}"${this.#stderrTail()}`));
    }
  }

  #stderrTail(): string {
    const tail = this.#stderr.join('').slice(-2000).trim();
    return tail ? `; stderr: ${tail}` : '';
  }

  // While no command is outstanding the cluster must not keep the event loop
  // (and so a test file) alive on its own; while one is, it must.
  #idle(): void {
    this.#child.unref();
    (this.#child.stdout as unknown as { unref(): void }).unref();
    (this.#child.stderr as unknown as { unref(): void }).unref();
  }

  #busy(): void {
    this.#child.ref();
    (this.#child.stdout as unknown as { ref(): void }).ref();
  }
}

/**
 * Starts a librdkafka mock cluster on loopback (building the launcher on first
 * use) and creates `options.topics`. Rejects with a {@link TestkitError} when
 * the launcher cannot be built or started, or reports another librdkafka than
 * the one asked for.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<MockCluster> {
  const brokers = options.brokers ?? 3;
  int('brokers', brokers, 1, 64);
  const version = options.librdkafka ?? librdkafkaFromEnv();
  const timeoutMs = options.commandTimeoutMs ?? 10_000;
  const binary = await ensureLauncher(version);

  const child = spawn(binary, [String(brokers)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 64) stderr.splice(0, stderr.length - 64);
  });
  child.stdin.on('error', () => {
    // EPIPE after the launcher died; the exit handler reports it.
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();

  const ready = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(
        new TestkitError(
          `mock cluster (librdkafka ${version}) did not start: ${why}; stderr: ${stderr.join('').trim()}`,
        ),
      );
    };
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err.message);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited (code ${code}, signal ${signal})`);
    });
    lines.next().then(
      (first) => {
        clearTimeout(timer);
        if (first.done || !first.value.startsWith('ready '))
          fail(`unexpected first line ${JSON.stringify(first.value)}`);
        else resolve(first.value);
      },
      (err: Error) => fail(err.message),
    );
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');

  const cluster = new MockCluster(child, lines, ready, stderr, timeoutMs);
  const actual = cluster.librdkafkaVersion;
  if (actual !== version && !actual.startsWith(`${version}.`)) {
    await cluster.stop();
    throw new TestkitError(
      `asked for librdkafka ${version} but the launcher runs ${cluster.librdkafkaVersion}`,
    );
  }
  try {
    for (const t of options.topics ?? [])
      await cluster.createTopic(t.name, t.partitions, t.replicationFactor);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
