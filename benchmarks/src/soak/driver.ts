import { appendFileSync } from 'node:fs';
import {
  createProducer,
  jsonLogger,
  type KafkaProducer,
  type Logger,
  type ProducerConfigInput,
  type TransportFactory,
} from '@tributary/core';
import { errorClass, type Ledger, TxnEnd } from './ledger.js';
import { SoakMode, type SoakOptions } from './options.js';
import type { WireTap } from './wire-tap.js';

/** What went wrong in the driver itself (beyond the records' own outcomes). */
export interface DriverTrouble {
  /** send() threw instead of returning a rejected promise. */
  syncThrows: number;
  /** A commit, abort, initTransactions or close that did not settle within its bound. */
  stalls: string[];
  /** Transactional: producers replaced after a transaction's end could not be reached. */
  replacements: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Stall extends Error {}

/** Resolves or rejects like `p`, or rejects with a Stall after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Stall(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Writes the soak's known sequence: record `id` has key `k<id mod 1000>`
 * (so keys, and records, spread over every partition) and value
 * `soak:<run>:<id>:<padding>`; `id` is one global counter, so within any
 * partition the send order is the order of ids. At most `window` promises
 * are outstanding. Transactional mode commits every `txnRecords` records or
 * `txnMs` ms, aborts a transaction whose commit failed, and replaces the
 * producer (same transactional id, fencing the old one) when even the abort
 * failed.
 */
export class SoakDriver {
  readonly trouble: DriverTrouble = { syncThrows: 0, stalls: [], replacements: 0 };
  readonly #o: SoakOptions;
  readonly #ledger: Ledger;
  readonly #bootstrap: string;
  readonly #topic: string;
  readonly #run: string;
  readonly #keys: string[];
  readonly #pad: string;
  #producer: KafkaProducer<string, Buffer> | undefined;
  #outstanding = 0;
  #started = 0;
  readonly #logger: Logger | undefined;
  readonly #tap: WireTap;
  #transport: TransportFactory | undefined;
  #resume: (() => void) | undefined;
  /** Transactional: a record of the open transaction was rejected (stop sending, end it). */
  #txnFailed = false;
  /** Bound on a commit or abort: a stuck batch expires by deliveryTimeoutMs, EndTxn retries up to maxBlockMs. */
  readonly #endBoundMs: number;

  constructor(o: SoakOptions, ledger: Ledger, bootstrap: string, topic: string, run: string, tap: WireTap) {
    this.#o = o;
    this.#tap = tap;
    this.#ledger = ledger;
    this.#bootstrap = bootstrap;
    this.#topic = topic;
    this.#run = run;
    this.#keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    this.#pad = 'x'.repeat(o.valueBytes);
    this.#endBoundMs = o.deliveryTimeoutMs * 2 + 30_000;
    const file = o.log;
    if (file !== undefined) this.#logger = jsonLogger('debug', (line) => appendFileSync(file, `${line}\n`));
  }

  get producer(): KafkaProducer<string, Buffer> | undefined {
    return this.#producer;
  }

  #config(): ProducerConfigInput {
    const o = this.#o;
    return {
      bootstrapServers: this.#bootstrap,
      acks: 'all',
      enableIdempotence: true,
      compressionType: o.compression,
      maxInFlightRequestsPerConnection: 5,
      lingerMs: o.lingerMs,
      requestTimeoutMs: o.requestTimeoutMs,
      deliveryTimeoutMs: o.deliveryTimeoutMs,
      maxBlockMs: o.deliveryTimeoutMs,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 500,
      reconnectBackoffMaxMs: 500,
      ...(o.mode === SoakMode.Transactional ? { transactionalId: `soak-${this.#run}` } : {}),
    };
  }

  /** The runtime's TCP transport (the one createProducer would pick), wrapped by the wire tap. */
  async #transportFactory(): Promise<TransportFactory> {
    if (this.#transport === undefined) {
      const specifier = '@tributary/adapter-node';
      const mod = (await import(specifier)) as { createTcpTransport: TransportFactory };
      this.#transport = this.#tap.wrap(mod.createTcpTransport);
    }
    return this.#transport;
  }

  async #create(): Promise<KafkaProducer<string, Buffer>> {
    const transport = await this.#transportFactory();
    return createProducer<string, Buffer>(
      this.#config(),
      this.#logger ? { logger: this.#logger, transport } : { transport },
    );
  }

  async #newProducer(): Promise<KafkaProducer<string, Buffer>> {
    if (this.#o.mode !== SoakMode.Transactional) return this.#create();
    // Under faults InitProducerId may fail (it retries up to maxBlockMs): try
    // again with a fresh producer until the end bound.
    const deadline = Date.now() + this.#endBoundMs;
    for (;;) {
      const p = await this.#create();
      try {
        await within(p.initTransactions(), this.#endBoundMs, 'initTransactions()');
        return p;
      } catch (err) {
        await p.close({ timeoutMs: 0 });
        if (err instanceof Stall || Date.now() > deadline) {
          this.trouble.stalls.push(`initTransactions(): ${(err as Error).message}`);
          throw err;
        }
        await sleep(200);
      }
    }
  }

  /** Sends one record; never awaits (the window is the caller's). */
  #send(p: KafkaProducer<string, Buffer>, txn: number): void {
    const ledger = this.#ledger;
    const id = ledger.next(txn);
    const value = Buffer.from(`soak:${this.#run}:${id}:${this.#pad}`, 'latin1');
    this.#outstanding++;
    let promise: Promise<{ partition: number }>;
    try {
      promise = p.send({ topic: this.#topic, key: this.#keys[id % 1000] as string, value });
    } catch (err) {
      this.trouble.syncThrows++;
      promise = Promise.reject(err);
    }
    promise.then(
      (m) => {
        ledger.ack(id, m.partition);
        this.#settled();
      },
      (err: unknown) => {
        ledger.reject(id, err);
        if (txn >= 0) this.#txnFailed = true;
        this.#settled();
      },
    );
  }

  #settled(): void {
    this.#outstanding--;
    if (this.#resume !== undefined && this.#outstanding <= this.#o.window / 2) {
      const r = this.#resume;
      this.#resume = undefined;
      r();
    }
  }

  /** Waits for room in the window, and for the pace (`rate`) to allow the next records. */
  async #room(): Promise<void> {
    if (this.#outstanding >= this.#o.window) await new Promise<void>((r) => (this.#resume = r));
    const rate = this.#o.rate;
    if (!Number.isFinite(rate)) return;
    for (;;) {
      const due = ((performance.now() - this.#started) / 1000) * rate;
      if (this.#ledger.sent < due) return;
      await sleep(Math.max(1, Math.min(50, ((this.#ledger.sent - due + 1) / rate) * 1000)));
    }
  }

  /** How many records the pace allows now (all, without a rate). */
  #allowance(): number {
    const rate = this.#o.rate;
    if (!Number.isFinite(rate)) return 256;
    const due = ((performance.now() - this.#started) / 1000) * rate;
    return Math.max(0, Math.min(256, Math.ceil(due - this.#ledger.sent)));
  }

  /** Produces until `stop()` says so. */
  async run(stop: () => boolean): Promise<void> {
    this.#producer = await this.#newProducer();
    this.#started = performance.now();
    if (this.#o.mode === SoakMode.Idempotent) {
      while (!stop()) {
        await this.#room();
        // Yield now and then, so timers (faults, progress) run during a long burst.
        const allowed = this.#allowance();
        for (let i = 0; i < allowed && !stop() && this.#outstanding < this.#o.window; i++)
          this.#send(this.#producer, -1);
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    while (!stop()) await this.#transaction(stop);
  }

  async #transaction(stop: () => boolean): Promise<void> {
    const ledger = this.#ledger;
    let p = this.#producer as KafkaProducer<string, Buffer>;
    const txn = ledger.openTxn();
    this.#txnFailed = false;
    try {
      p.beginTransaction();
    } catch (err) {
      ledger.txnError(err);
      ledger.endTxn(txn, TxnEnd.Aborted); // nothing was sent in it
      await this.#replace();
      return;
    }
    const started = performance.now();
    let count = 0;
    while (
      !stop() &&
      !this.#txnFailed &&
      count < this.#o.txnRecords &&
      performance.now() - started < this.#o.txnMs
    ) {
      await this.#room();
      const allowed = this.#allowance();
      for (
        let i = 0;
        i < allowed && !stop() && count < this.#o.txnRecords && this.#outstanding < this.#o.window;
        i++
      ) {
        this.#send(p, txn);
        count++;
      }
      await new Promise((r) => setImmediate(r));
    }
    try {
      await within(p.commitTransaction(), this.#endBoundMs, 'commitTransaction()');
      ledger.endTxn(txn, TxnEnd.Committed);
      return;
    } catch (err) {
      if (err instanceof Stall) this.trouble.stalls.push(err.message);
      ledger.txnError(err);
    }
    try {
      p = this.#producer as KafkaProducer<string, Buffer>;
      await within(p.abortTransaction(), this.#endBoundMs, 'abortTransaction()');
      ledger.endTxn(txn, TxnEnd.Aborted);
    } catch (err) {
      if (err instanceof Stall) this.trouble.stalls.push(err.message);
      ledger.txnError(err);
      ledger.endTxn(txn, TxnEnd.Unknown);
      await this.#replace();
    }
  }

  /** A new producer with the same transactional id (fencing the old one), after the old is closed. */
  async #replace(): Promise<void> {
    this.trouble.replacements++;
    const old = this.#producer;
    this.#producer = undefined;
    if (old !== undefined)
      await within(old.close({ timeoutMs: 0 }), 30_000, 'close() of a replaced producer').catch((err) => {
        this.trouble.stalls.push((err as Error).message);
      });
    for (let attempt = 0; ; attempt++) {
      try {
        this.#producer = await this.#newProducer();
        return;
      } catch (err) {
        if (attempt >= 5) throw new Error(`could not replace the producer: ${errorClass(err)}`);
        await sleep(1000);
      }
    }
  }

  /** Waits until every promise settled, or `ms` passed. Returns the number still pending. */
  async settle(ms: number): Promise<number> {
    const until = Date.now() + ms;
    while (this.#ledger.unsettled > 0 && Date.now() < until) await sleep(50);
    return this.#ledger.unsettled;
  }

  async close(): Promise<void> {
    const p = this.#producer;
    if (p === undefined) return;
    await within(p.close({ timeoutMs: 10_000 }), 60_000, 'close()').catch((err) => {
      this.trouble.stalls.push((err as Error).message);
    });
  }
}
