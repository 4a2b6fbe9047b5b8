import type { ConsumedRecord } from '@tributary/testkit';

/** A record's promise: not yet settled, resolved (acked) or rejected. */
export const Outcome = { Pending: 1, Acked: 2, Rejected: 3 } as const;

/** A transaction's end, as the producer's API reported it. */
export const TxnEnd = {
  Open: 0,
  /** commitTransaction() resolved. */
  Committed: 1,
  /** commitTransaction() rejected (or was skipped), then abortTransaction() resolved. */
  Aborted: 2,
  /** Neither resolved (the producer was replaced): the broker's outcome is unknown to the client. */
  Unknown: 3,
} as const;
export type TxnEnd = (typeof TxnEnd)[keyof typeof TxnEnd];

/** Grows a typed array by doubling. */
function grow<T extends Uint8Array | Int32Array | Int16Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  let n = a.length;
  while (n < need) n *= 2;
  const b = make(n);
  b.set(a);
  return b;
}

/**
 * Every record the soak sent, by id (its global counter, 0, 1, 2, ...): the
 * promise's outcome, the partition the ack named, the transaction it was
 * sent in, and the error class of a rejection. Flat typed arrays, so a
 * million records cost a few megabytes.
 */
export class Ledger {
  sent = 0;
  acked = 0;
  rejected = 0;
  outcome = new Uint8Array(1 << 16);
  ackPartition = new Int16Array(1 << 16).fill(-1);
  txnOf = new Int32Array(1 << 16).fill(-1);
  readonly txnEnds: TxnEnd[] = [];
  readonly errors = new Map<string, number>();
  /** The first example message per error class, for the report. */
  readonly errorExamples = new Map<string, string>();
  /** Transactions whose end (commit, abort) failed, by error class. */
  readonly txnErrors = new Map<string, number>();

  /** Registers a record about to be sent in `txn` (-1: none); returns its id. */
  next(txn: number): number {
    const id = this.sent++;
    if (id >= this.outcome.length) {
      const need = id + 1;
      this.outcome = grow(this.outcome, need, (n) => new Uint8Array(n));
      const oldLen = this.ackPartition.length;
      this.ackPartition = grow(this.ackPartition, need, (n) => new Int16Array(n));
      this.ackPartition.fill(-1, oldLen);
      this.txnOf = grow(this.txnOf, need, (n) => new Int32Array(n));
      this.txnOf.fill(-1, oldLen);
    }
    this.outcome[id] = Outcome.Pending;
    this.txnOf[id] = txn;
    return id;
  }

  ack(id: number, partition: number): void {
    if (this.outcome[id] !== Outcome.Pending) throw new Error(`record ${id} settled twice`);
    this.outcome[id] = Outcome.Acked;
    this.ackPartition[id] = partition;
    this.acked++;
  }

  reject(id: number, err: unknown): void {
    if (this.outcome[id] !== Outcome.Pending) throw new Error(`record ${id} settled twice`);
    this.outcome[id] = Outcome.Rejected;
    this.rejected++;
    const cls = errorClass(err);
    this.errors.set(cls, (this.errors.get(cls) ?? 0) + 1);
    if (!this.errorExamples.has(cls)) this.errorExamples.set(cls, (err as Error)?.message ?? String(err));
  }

  get unsettled(): number {
    return this.sent - this.acked - this.rejected;
  }

  openTxn(): number {
    this.txnEnds.push(TxnEnd.Open);
    return this.txnEnds.length - 1;
  }

  endTxn(txn: number, end: TxnEnd): void {
    this.txnEnds[txn] = end;
  }

  txnError(err: unknown): void {
    const cls = errorClass(err);
    this.txnErrors.set(cls, (this.txnErrors.get(cls) ?? 0) + 1);
  }
}

/** `Class/CODE` for a Tributary error, the class name otherwise. */
export function errorClass(err: unknown): string {
  if (typeof err !== 'object' || err === null) return typeof err;
  const e = err as { name?: string; code?: unknown };
  return typeof e.code === 'string' ? `${e.name ?? 'Error'}/${e.code}` : (e.name ?? 'Error');
}

export interface Verification {
  /** Records (read_uncommitted) whose value is not one the soak sent. */
  foreign: number;
  /** Distinct ids found at least once. */
  foundDistinct: number;
  /** Records read by kcat, duplicates included. */
  foundTotal: number;
  /** Records that had to be found exactly once (acked; in transactional mode, of a committed transaction). */
  required: number;
  /** Required records not found. */
  gaps: number;
  /**
   * Extra copies of required records that went out under more than one
   * producer stamp: a real broker would keep them too (violations in
   * transactional mode; in idempotent mode, when the stamps share an epoch).
   */
  duplicates: number;
  /** Of those, copies whose record was re-stamped within one producer epoch (always a violation). */
  restampedDuplicates: number;
  /** Extra copies of required records sent under one stamp only: the mock's dedupe flaw, dropped by a real broker. */
  mockDuplicates: number;
  /** Required records sent under two sequences of the same producer id and epoch (a client bug, found or not). */
  restamped: number;
  /** Extra copies of records that were not required (rejected, or of aborted transactions). */
  otherDuplicates: number;
  /** Adjacent pairs of required records, in one partition, whose offsets disagree with their send order. */
  orderViolations: number;
  /**
   * Idempotent mode: such pairs whose sequences (one producer id and epoch)
   * do follow the send order: the mock, which checks no sequences for a
   * non-transactional producer, took a later batch while an earlier one was
   * being retried; a real broker refuses it (OUT_OF_ORDER_SEQUENCE_NUMBER).
   */
  mockReorders: number;
  /** Required records found in another partition than their ack named. */
  wrongPartition: number;
  /** Records of a committed transaction whose promise was rejected. */
  rejectedInCommitted: number;
  /** Not required but found: rejected records (their write was unsure) or records of aborted transactions. */
  presentNotRequired: number;
  /** Transactions by end. */
  txns: { committed: number; aborted: number; unknown: number; open: number };
  /** Records by the end of their transaction. */
  recordsInTxns: { committed: number; aborted: number; unknown: number };
  /** A few examples of each violation, for the report. */
  examples: string[];
}

/** Whether stamp `a` (pid:epoch:seq) comes before `b` in the same producer id and epoch. */
function inSequence(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const i = a.lastIndexOf(':');
  const j = b.lastIndexOf(':');
  return a.slice(0, i) === b.slice(0, j) && Number(a.slice(i + 1)) < Number(b.slice(j + 1));
}

/** Parses `soak:<run>:<id>:...` values; -1 for anything else. */
export function parseId(value: Buffer | null, run: string): number {
  if (value === null) return -1;
  const prefix = `soak:${run}:`;
  if (value.length < prefix.length + 2 || value.toString('latin1', 0, prefix.length) !== prefix) return -1;
  const end = value.indexOf(0x3a, prefix.length);
  if (end < 0) return -1;
  const id = Number(value.toString('latin1', prefix.length, end));
  return Number.isInteger(id) && id >= 0 ? id : -1;
}

/**
 * Checks what kcat read (every partition, read_uncommitted, sorted by
 * partition and offset) against the ledger. `transactional` selects which
 * records are required: see the rules in report.ts.
 */
/** What the wire tap saw of a record's producer stamps. */
export interface StampView {
  stampOf(id: number): string | undefined;
  restamped: ReadonlyMap<number, readonly string[]>;
  restampedInEpoch(id: number): boolean;
}

export function verify(
  ledger: Ledger,
  records: readonly ConsumedRecord[],
  run: string,
  transactional: boolean,
  stamps: StampView,
): Verification {
  const n = ledger.sent;
  const found = new Uint16Array(n);
  const firstOffset = new Int32Array(n);
  const v: Verification = {
    foreign: 0,
    foundDistinct: 0,
    foundTotal: records.length,
    required: 0,
    gaps: 0,
    duplicates: 0,
    restampedDuplicates: 0,
    mockDuplicates: 0,
    restamped: 0,
    otherDuplicates: 0,
    orderViolations: 0,
    mockReorders: 0,
    wrongPartition: 0,
    rejectedInCommitted: 0,
    presentNotRequired: 0,
    txns: { committed: 0, aborted: 0, unknown: 0, open: 0 },
    recordsInTxns: { committed: 0, aborted: 0, unknown: 0 },
    examples: [],
  };
  const example = (s: string) => {
    if (v.examples.length < 20) v.examples.push(s);
  };
  const required = (id: number): boolean => {
    if (ledger.outcome[id] !== Outcome.Acked) return false;
    if (!transactional) return true;
    const t = ledger.txnOf[id] as number;
    return t >= 0 && ledger.txnEnds[t] === TxnEnd.Committed;
  };

  let lastPartition = -1;
  let lastRequired = -1;
  let lastOffset = -1;
  for (const r of records) {
    const id = parseId(r.value, run);
    if (id < 0 || id >= n) {
      v.foreign++;
      example(`foreign record at ${r.partition}:${r.offset}`);
      continue;
    }
    const copies = (found[id] as number) + 1;
    found[id] = copies;
    if (copies === 1) firstOffset[id] = r.offset;
    else if (required(id) && stamps.restamped.has(id))
      example(
        `record ${id} in partition ${r.partition} at offsets ${firstOffset[id]} and ${r.offset}, sent as ${stamps.restamped.get(id)?.join(' and ')}`,
      );
    if (r.partition !== lastPartition) {
      lastPartition = r.partition;
      lastRequired = -1;
      lastOffset = -1;
    }
    if (!required(id)) continue;
    if (copies > 1) continue; // order is judged on first occurrences
    if (ledger.ackPartition[id] !== r.partition) {
      v.wrongPartition++;
      example(`record ${id} acked in partition ${ledger.ackPartition[id]}, found in ${r.partition}`);
    }
    if (id < lastRequired && !transactional && inSequence(stamps.stampOf(id), stamps.stampOf(lastRequired))) {
      v.mockReorders++;
    } else if (id < lastRequired) {
      v.orderViolations++;
      example(
        `partition ${r.partition}: record ${id} at offset ${r.offset} after record ${lastRequired} at offset ${lastOffset}`,
      );
    }
    lastRequired = id;
    lastOffset = r.offset;
  }

  for (const end of ledger.txnEnds) {
    if (end === TxnEnd.Committed) v.txns.committed++;
    else if (end === TxnEnd.Aborted) v.txns.aborted++;
    else if (end === TxnEnd.Unknown) v.txns.unknown++;
    else v.txns.open++;
  }
  for (let id = 0; id < n; id++) {
    const copies = found[id] as number;
    if (copies > 0) v.foundDistinct++;
    if (transactional) {
      const t = ledger.txnOf[id] as number;
      const end = t >= 0 ? ledger.txnEnds[t] : TxnEnd.Unknown;
      if (end === TxnEnd.Committed) {
        v.recordsInTxns.committed++;
        if (ledger.outcome[id] === Outcome.Rejected) {
          v.rejectedInCommitted++;
          example(`record ${id} was rejected, yet its transaction ${t} committed`);
        }
      } else if (end === TxnEnd.Aborted) v.recordsInTxns.aborted++;
      else v.recordsInTxns.unknown++;
    }
    if (required(id)) {
      v.required++;
      const inEpoch = stamps.restampedInEpoch(id);
      if (inEpoch) {
        v.restamped++;
        example(
          `record ${id} was sent as ${stamps.restamped.get(id)?.join(' and ')} (producer:epoch:sequence)`,
        );
      }
      if (copies === 0) {
        v.gaps++;
        example(`record ${id} (acked, partition ${ledger.ackPartition[id]}) is not in the topic`);
      } else if (copies > 1) {
        if (!stamps.restamped.has(id)) v.mockDuplicates += copies - 1;
        else {
          v.duplicates += copies - 1;
          if (inEpoch) v.restampedDuplicates += copies - 1;
        }
      }
    } else if (copies > 0) {
      v.presentNotRequired++;
      if (copies > 1) v.otherDuplicates += copies - 1;
    }
  }
  return v;
}
