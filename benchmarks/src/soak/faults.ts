import { type MockCluster, mulberry32 } from '@tributary/testkit';

/** The broker errors the soak pushes, by code (the protocol's error table). */
export const INJECTED_ERRORS: ReadonlyArray<readonly [code: number, name: string]> = [
  [6, 'NOT_LEADER_OR_FOLLOWER'],
  [7, 'REQUEST_TIMED_OUT'],
  [19, 'NOT_ENOUGH_REPLICAS'],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION'],
  [5, 'LEADER_NOT_AVAILABLE'],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS'],
];

/** Errors a Metadata response can carry for a topic (the mock's topic error). */
const METADATA_ERRORS: ReadonlyArray<readonly [number, string]> = [
  [3, 'UNKNOWN_TOPIC_OR_PARTITION'],
  [5, 'LEADER_NOT_AVAILABLE'],
  [6, 'NOT_LEADER_OR_FOLLOWER'],
];

export const FaultKind = {
  BrokerDown: 'broker down/up',
  RttSpike: 'RTT spike above requestTimeoutMs',
  ProduceErrors: 'Produce errors (any broker)',
  DelayedProduceError: 'Produce error delayed past requestTimeoutMs (one broker)',
  MetadataError: 'Metadata topic error',
  LeaderMove: 'leader move',
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

export interface FaultEvent {
  atMs: number;
  kind: FaultKind;
  detail: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Injects one fault every `everyMs` (jittered +-40%) through the testkit's
 * fault API, each drawn from a PRNG seeded with `seed`. The schedule (kinds,
 * targets, durations, gaps) depends on the seed alone, never on what the
 * producer did, so a seed replays the same faults; the interleaving with the
 * producer's traffic is the scheduler's. At most one broker is down at a time,
 * and every fault is undone after its duration; `stop()` undoes what is active.
 */
export class FaultInjector {
  readonly counts = new Map<FaultKind, number>();
  /** Broker error codes injected, by name (Produce pushes and Metadata topic errors). */
  readonly codes = new Map<string, number>();
  readonly log: FaultEvent[] = [];
  readonly #cluster: MockCluster;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #everyMs: number;
  readonly #requestTimeoutMs: number;
  readonly #rand: () => number;
  readonly #started = performance.now();
  #running = true;
  #loop: Promise<void> | undefined;
  /** Undo actions of faults still active, keyed by a name so overlapping faults do not clash. */
  readonly #active = new Map<string, Promise<void>>();
  #downUntilFault = -1;
  #fault = 0;
  /** The first harness error (a command the mock refused): reported, and it ends the run. */
  error: Error | undefined;

  constructor(
    cluster: MockCluster,
    topic: string,
    partitions: number,
    seed: number,
    everyMs: number,
    requestTimeoutMs: number,
  ) {
    this.#cluster = cluster;
    this.#topic = topic;
    this.#partitions = partitions;
    this.#everyMs = everyMs;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#rand = mulberry32(seed ^ 0x5eed_fa17);
  }

  start(): void {
    this.#loop = this.#run();
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.allSettled([...this.#active.values()]);
    // Whatever state the faults left, heal everything for the read-back.
    const c = this.#cluster;
    for (const b of c.brokers) {
      await c.setBrokerUp(b.id);
      await c.setBrokerRtt(b.id, 0);
    }
    await c.setTopicError(this.#topic, 0);
    await c.clearRequestErrors(0);
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  #between(lo: number, hi: number): number {
    return lo + this.#int(hi - lo + 1);
  }

  #broker(): number {
    const ids = this.#cluster.brokers.map((b) => b.id);
    return ids[this.#int(ids.length)] as number;
  }

  #record(kind: FaultKind, detail: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.log.push({ atMs: Math.round(performance.now() - this.#started), kind, detail });
  }

  #code(name: string): void {
    this.codes.set(name, (this.codes.get(name) ?? 0) + 1);
  }

  async #run(): Promise<void> {
    while (this.#running && this.error === undefined) {
      const gap = this.#everyMs * (0.6 + 0.8 * this.#rand());
      // Sleep in slices so stop() is prompt.
      const until = performance.now() + gap;
      while (this.#running && performance.now() < until)
        await sleep(Math.min(200, until - performance.now()));
      if (!this.#running) return;
      try {
        await this.#inject();
      } catch (err) {
        this.error = err as Error;
      }
    }
  }

  /** Runs `undo` after `ms`, tracked so stop() waits for it. */
  #later(key: string, ms: number, undo: () => Promise<void>): void {
    const p = sleep(ms)
      .then(undo)
      .catch((err: Error) => {
        this.error ??= err;
      })
      .finally(() => {
        if (this.#active.get(key) === p) this.#active.delete(key);
      });
    this.#active.set(key, p);
  }

  async #inject(): Promise<void> {
    const c = this.#cluster;
    this.#fault++;
    // Draw every random number of a fault up front, whatever branch runs, so
    // the schedule's sequence does not depend on anything but the seed.
    const pick = this.#int(6);
    const broker = this.#broker();
    const duration = this.#between(400, 2500);
    const count = this.#between(1, 6);
    const codes = Array.from(
      { length: count },
      () => INJECTED_ERRORS[this.#int(INJECTED_ERRORS.length)] as readonly [number, string],
    );
    const metaError = METADATA_ERRORS[this.#int(METADATA_ERRORS.length)] as readonly [number, string];
    const rtt = this.#requestTimeoutMs + this.#between(200, 1500);
    const moves = Array.from({ length: count }, () => [this.#int(this.#partitions), this.#broker()] as const);
    let kind: FaultKind = (
      [
        FaultKind.BrokerDown,
        FaultKind.RttSpike,
        FaultKind.ProduceErrors,
        FaultKind.DelayedProduceError,
        FaultKind.MetadataError,
        FaultKind.LeaderMove,
      ] as const
    )[pick] as FaultKind;
    // One broker down at a time: the schedule knows when its own outage ends.
    if (kind === FaultKind.BrokerDown && this.#downUntilFault >= this.#fault) kind = FaultKind.LeaderMove;
    switch (kind) {
      case FaultKind.BrokerDown: {
        this.#downUntilFault = this.#fault + 1 + Math.ceil(duration / this.#everyMs);
        await c.setBrokerDown(broker);
        this.#record(kind, `broker ${broker} down for ${duration} ms`);
        this.#later(`down-${broker}`, duration, () => c.setBrokerUp(broker));
        break;
      }
      case FaultKind.RttSpike: {
        await c.setBrokerRtt(broker, rtt);
        this.#record(kind, `broker ${broker} answers ${rtt} ms late for ${duration} ms`);
        this.#later(`rtt-${broker}`, duration, () => c.setBrokerRtt(broker, 0));
        break;
      }
      case FaultKind.ProduceErrors: {
        await c.pushRequestErrors(
          0,
          codes.map(([code]) => code),
        );
        for (const [, name] of codes) this.#code(name);
        this.#record(kind, `next ${codes.length} Produce requests: ${codes.map(([, n]) => n).join(', ')}`);
        break;
      }
      case FaultKind.DelayedProduceError: {
        const [code, name] = codes[0] as readonly [number, string];
        await c.pushBrokerRequestErrors(broker, 0, [{ code, rttMs: rtt }]);
        this.#code(name);
        this.#record(kind, `broker ${broker}: next Produce answered ${name} after ${rtt} ms`);
        break;
      }
      case FaultKind.MetadataError: {
        const [code, name] = metaError;
        await c.setTopicError(this.#topic, code);
        this.#code(name);
        this.#record(kind, `Metadata reports ${name} for the topic for ${duration} ms`);
        this.#later('topic-error', duration, () => c.setTopicError(this.#topic, 0));
        break;
      }
      case FaultKind.LeaderMove: {
        for (const [partition, to] of moves) await c.setPartitionLeader(this.#topic, partition, to);
        this.#record(kind, moves.map(([p, b]) => `partition ${p} -> broker ${b}`).join(', '));
        break;
      }
    }
  }
}
