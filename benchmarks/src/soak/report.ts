import type { DriverTrouble } from './driver.js';
import type { FaultEvent } from './faults.js';
import type { Verification } from './ledger.js';
import { SoakMode, type SoakOptions } from './options.js';

export interface SoakResult {
  mode: SoakMode;
  seed: number;
  librdkafka: string;
  startedAt: string;
  elapsedSeconds: number;
  sendSeconds: number;
  recordsPerSecond: number;
  options: Record<string, unknown>;
  sent: number;
  acked: number;
  rejected: number;
  rejectedByError: Record<string, number>;
  errorExamples: Record<string, string>;
  txnEndErrors: Record<string, number>;
  unsettledBeforeClose: number;
  unsettledAfterClose: number;
  verification: Verification;
  faults: { total: number; byKind: Record<string, number>; injectedErrorCodes: Record<string, number> };
  faultLog: FaultEvent[];
  trouble: DriverTrouble;
  /** Produce requests the wire tap read, and frames it could not parse. */
  tapRequests: number;
  tapParseErrors: number;
  /** Errors that reached the process: unhandled rejections, uncaught exceptions, harness failures. */
  crashes: string[];
  violations: string[];
  passed: boolean;
}

/** The rules the run is judged by; the JSON carries the same list of violations. */
export function judge(r: Omit<SoakResult, 'violations' | 'passed'>): string[] {
  const v = r.verification;
  const out: string[] = [];
  const must = (ok: boolean, what: string) => {
    if (!ok) out.push(what);
  };
  must(v.gaps === 0, `${v.gaps} required record(s) missing from the topic`);
  must(v.orderViolations === 0, `${v.orderViolations} per-partition order violation(s)`);
  must(v.wrongPartition === 0, `${v.wrongPartition} record(s) found outside the partition their ack named`);
  must(v.foreign === 0, `${v.foreign} record(s) in the topic that the soak did not send`);
  must(
    v.restamped === 0,
    `${v.restamped} record(s) re-sent under another sequence in the same producer epoch`,
  );
  must(r.tapParseErrors === 0, `the wire tap could not parse ${r.tapParseErrors} Produce frame(s)`);
  if (r.mode === SoakMode.Transactional) {
    must(
      v.duplicates === 0,
      `${v.duplicates} duplicate(s) of committed records that a real broker would keep`,
    );
    must(
      v.rejectedInCommitted === 0,
      `${v.rejectedInCommitted} rejected record(s) in committed transactions`,
    );
    must(v.txns.committed > 0, 'no transaction committed');
  } else must(r.acked > 0, 'no record acknowledged');
  must(r.unsettledBeforeClose === 0, `${r.unsettledBeforeClose} promise(s) unsettled before close()`);
  must(r.unsettledAfterClose === 0, `${r.unsettledAfterClose} promise(s) unsettled after close()`);
  must(r.trouble.syncThrows === 0, `send() threw synchronously ${r.trouble.syncThrows} time(s)`);
  for (const s of r.trouble.stalls) out.push(`stalled: ${s}`);
  for (const c of r.crashes) out.push(`crash: ${c}`);
  return out;
}

const RULES_TRANSACTIONAL = `The producer is transactional (a transactionalId, so also idempotent; acks=all,
5 requests in flight, compression on); it commits every \`txnRecords\` records or \`txnMs\` ms. The mock
broker checks a transactional producer's id, epoch and sequence numbers and drops most duplicates, as a
real broker does, with one flaw: when a retried batch is recognised as a duplicate, the mock still
pushes its end onto its window of recent sequences, which rewinds the sequence it expects, so the retry
of the *next* batch (already in the log) is appended again. A real broker drops it. The soak therefore
taps the Produce requests on the way out (a wrapped transport that only reads) and records each
record's producer id, epoch and sequence: a second copy of a record that only ever went out under one
stamp is counted as a duplicate the mock's flaw made (a real broker would have dropped it); a second
copy of a record sent under two stamps is a real duplicate. A transaction is *committed* when \`commitTransaction()\`
resolved, *aborted* when the commit rejected and \`abortTransaction()\` resolved, *unknown* when both
rejected (the producer is then replaced, fencing the old one). A record is **required** when its
\`send()\` promise resolved and its transaction committed. The rules:

1. Every required record is in the topic (gaps 0) exactly once, copies made by the mock's flaw aside
   (duplicates 0), in the partition its acknowledgement named, and within a partition required records
   appear, by first copy, in the order they were sent (order violations 0).
2. No record of a committed transaction was rejected (a commit succeeds only if all of its records did).
3. Records not required (rejected, or in aborted or unknown transactions) are "not in the topic"
   as a read_committed consumer sees it. The mock writes no transaction markers and its Fetch reports
   no aborted transactions, so kcat (read_uncommitted) may still see them: they are counted, not judged.
4. Every promise settles: none is pending \`2 x deliveryTimeoutMs + 30 s\` after the last send, or after
   \`close()\`; every commit, abort and close settles within that bound.
5. No record was sent under two sequences of the same producer id and epoch (the client never re-stamps
   a batch it may have written).
6. Nothing in the topic that the soak did not send; \`send()\` never throws; no unhandled rejection or
   uncaught exception; a harness failure (the mock refusing a fault command) also fails the run.`;

const RULES_IDEMPOTENT = `The producer is idempotent (acks=all, 5 requests in flight, compression on), not transactional.
The mock broker checks producer ids, epochs and sequence numbers *only* for transactional producers: a
request whose first attempt was written but whose response was lost (RTT above requestTimeoutMs, a
connection cut after the append) is retried and appended again, where a real broker would drop it; and a
later batch of a partition is accepted while an earlier one is being retried, where a real broker would
answer OUT_OF_ORDER_SEQUENCE_NUMBER. A record is **required** when its \`send()\` promise resolved. The rules:

1. Every required record is in the topic at least once (gaps 0), in the partition its acknowledgement
   named. Extra copies are reported, not failed: those of records that went out under one producer
   stamp (the wire tap records it) as "duplicates a real broker would have dropped"; those re-sent
   under a new epoch after an epoch bump separately. A record re-sent under another sequence in the
   *same* epoch fails the run, as in transactional mode.
2. Order is judged on first occurrences of required records within each partition. A pair out of
   order whose sequences (same producer id and epoch) follow the send order is the mock's doing (it
   took a later batch while an earlier one was retried; a real broker answers
   OUT_OF_ORDER_SEQUENCE_NUMBER) and is reported, not failed; any other pair out of order fails.
3. A rejected record may be in the topic (its write was unsure when it failed): counted, not judged.
4. Every promise settles (as in transactional mode); nothing foreign in the topic; \`send()\` never
   throws; no unhandled rejection or uncaught exception; no harness failure.`;

const n = (x: number) => x.toLocaleString('en-US');

function table(rows: Array<[string, string]>): string {
  const w = Math.max(...rows.map(([a]) => a.length), 4);
  const w2 = Math.max(...rows.map(([, b]) => b.length), 5);
  return [
    `| ${'what'.padEnd(w)} | ${'value'.padStart(w2)} |`,
    `| ${'-'.repeat(w)} | ${'-'.repeat(w2 - 1)}: |`,
    ...rows.map(([a, b]) => `| ${a.padEnd(w)} | ${b.padStart(w2)} |`),
  ].join('\n');
}

export function renderMarkdown(r: SoakResult, o: SoakOptions): string {
  const v = r.verification;
  const lines: string[] = [];
  lines.push(`# Chaos soak: ${r.passed ? 'PASSED' : 'FAILED'}`);
  lines.push('');
  lines.push(
    `Seed **${r.seed}** (replay: \`--seed ${r.seed}\`), mode **${r.mode}**, librdkafka ${r.librdkafka} mock, ` +
      `${o.brokers} brokers, ${o.partitions} partitions, started ${r.startedAt}. The seed fixes the fault ` +
      'schedule (kinds, targets, durations, gaps); how it interleaves with the traffic is up to the scheduler.',
  );
  lines.push('');
  lines.push('## Rules');
  lines.push('');
  lines.push(r.mode === SoakMode.Transactional ? RULES_TRANSACTIONAL : RULES_IDEMPOTENT);
  lines.push('');
  lines.push('## Figures');
  lines.push('');
  const rows: Array<[string, string]> = [
    ['records sent', n(r.sent)],
    ['acknowledged', n(r.acked)],
    ['rejected with an error', n(r.rejected)],
  ];
  if (r.mode === SoakMode.Transactional) {
    rows.push(
      [
        'transactions committed / aborted / unknown',
        `${n(v.txns.committed)} / ${n(v.txns.aborted)} / ${n(v.txns.unknown)}`,
      ],
      [
        'records in committed / aborted / unknown transactions',
        `${n(v.recordsInTxns.committed)} / ${n(v.recordsInTxns.aborted)} / ${n(v.recordsInTxns.unknown)}`,
      ],
      ['producers replaced (fenced)', n(r.trouble.replacements)],
    );
  }
  rows.push(
    ['required (must be in the topic once)', n(v.required)],
    ['records read back by kcat', n(v.foundTotal)],
    ['distinct records found', n(v.foundDistinct)],
    ['lost (required, not found)', n(v.gaps)],
    ['duplicates a real broker would have dropped (mock flaw)', n(v.mockDuplicates)],
    [
      r.mode === SoakMode.Transactional
        ? 'duplicates a real broker would keep'
        : 'duplicates re-sent under another stamp',
      n(v.duplicates),
    ],
    ['records re-stamped within one epoch', n(v.restamped)],
    ['per-partition order violations', n(v.orderViolations)],
    ...(r.mode === SoakMode.Idempotent
      ? ([['reorders a real broker would have refused (mock)', n(v.mockReorders)]] as Array<[string, string]>)
      : []),
    ['found outside their acked partition', n(v.wrongPartition)],
    [
      r.mode === SoakMode.Transactional
        ? 'not required but visible (aborted or rejected)'
        : 'rejected but present (unsure writes)',
      n(v.presentNotRequired),
    ],
    ['extra copies of records not required', n(v.otherDuplicates)],
    ['foreign records', n(v.foreign)],
    ['unsettled promises before close()', n(r.unsettledBeforeClose)],
    ['unsettled promises after close()', n(r.unsettledAfterClose)],
    ['Produce requests tapped', n(r.tapRequests)],
    ['faults injected', n(r.faults.total)],
    ['elapsed (s)', r.elapsedSeconds.toFixed(1)],
    ['sending (s)', r.sendSeconds.toFixed(1)],
    ['rate (acked records/s while sending)', n(Math.round(r.recordsPerSecond))],
  );
  lines.push(table(rows));
  lines.push('');
  lines.push('## Rejections by error');
  lines.push('');
  const errs = Object.entries(r.rejectedByError).sort((a, b) => b[1] - a[1]);
  if (errs.length === 0) lines.push('None.');
  else {
    lines.push('| error | records | first message |');
    lines.push('| ----- | ------: | ------------- |');
    for (const [cls, count] of errs) {
      const msg = (r.errorExamples[cls] ?? '').replace(/\|/g, '\\|').slice(0, 160);
      lines.push(`| ${cls} | ${n(count)} | ${msg} |`);
    }
  }
  const txnErrs = Object.entries(r.txnEndErrors);
  if (txnErrs.length > 0) {
    lines.push('');
    lines.push(`Commit or abort failures by error: ${txnErrs.map(([c, k]) => `${c} ${k}`).join(', ')}.`);
  }
  lines.push('');
  lines.push('## Faults injected');
  lines.push('');
  lines.push('| fault | count |');
  lines.push('| ----- | ----: |');
  for (const [kind, count] of Object.entries(r.faults.byKind)) lines.push(`| ${kind} | ${n(count)} |`);
  lines.push('');
  const codes = Object.entries(r.faults.injectedErrorCodes);
  if (codes.length > 0)
    lines.push(`Broker error codes injected: ${codes.map(([c, k]) => `${c} ${k}`).join(', ')}.`);
  lines.push('');
  lines.push('## Verdict');
  lines.push('');
  if (r.violations.length === 0) lines.push('Every rule held.');
  else for (const x of r.violations) lines.push(`- ${x}`);
  if (v.examples.length > 0) {
    lines.push('');
    lines.push('Examples:');
    lines.push('');
    for (const x of v.examples) lines.push(`- ${x}`);
  }
  lines.push('');
  lines.push('## Configuration');
  lines.push('');
  lines.push('```json');
  lines.push(JSON.stringify(r.options, null, 2));
  lines.push('```');
  lines.push('');
  return lines.join('\n');
}
