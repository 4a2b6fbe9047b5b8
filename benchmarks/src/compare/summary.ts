/** One client run as measured and verified by the harness (also its JSON file). */
export interface RunRecord {
  client: string;
  label: string;
  round: number;
  /** Position within the round (the order rotates every round). */
  position: number;
  topic: string;
  records: number;
  ok: boolean;
  /** Why the run was discarded. */
  reason?: string;
  /** Records found in the topic afterwards: the sum of the partitions' end offsets. */
  stored: number | null;
  endOffsets: number[] | null;
  wallMs: number | null;
  recordsPerSec: number | null;
  mbPerSec: number | null;
  cpuUserMs: number | null;
  cpuSystemMs: number | null;
  cpuUsPerRecord: number | null;
  peakRssMb: number | null;
  /** What the client itself counted. */
  acknowledged: number | null;
  failedInClient: number | null;
  exitCode: number | null;
  /** Where the measurement comes from: the client process itself, or GNU time around it. */
  measuredBy: 'client' | 'gnu-time' | 'harness';
  info?: Record<string, string>;
  stderrTail?: string;
}

/** Median and range of one metric over a client's successful runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface ClientSummary {
  client: string;
  label: string;
  okRuns: number;
  failedRuns: number;
  recordsPerSec: Spread | null;
  mbPerSec: Spread | null;
  cpuUsPerRecord: Spread | null;
  peakRssMb: Spread | null;
  /** Tributary's median divided by this client's median (records/s: > 1 means Tributary is faster). */
  tributaryThroughputRatio: number | null;
  /** Tributary's median CPU per record divided by this client's (< 1 means Tributary uses less). */
  tributaryCpuRatio: number | null;
}

export function spread(xs: readonly number[]): Spread | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number };
}

function metric(runs: readonly RunRecord[], pick: (r: RunRecord) => number | null): Spread | null {
  return spread(runs.map(pick).filter((x): x is number => x !== null));
}

/**
 * Per client, in the given order: medians with min-max over the runs that
 * stored every record, and Tributary's ratios against it.
 */
export function summarize(
  clients: ReadonlyArray<{ id: string; label: string }>,
  runs: readonly RunRecord[],
  tributaryId: string,
): ClientSummary[] {
  const summaries = clients.map(({ id, label }): ClientSummary => {
    const mine = runs.filter((r) => r.client === id);
    const ok = mine.filter((r) => r.ok);
    return {
      client: id,
      label,
      okRuns: ok.length,
      failedRuns: mine.length - ok.length,
      recordsPerSec: metric(ok, (r) => r.recordsPerSec),
      mbPerSec: metric(ok, (r) => r.mbPerSec),
      cpuUsPerRecord: metric(ok, (r) => r.cpuUsPerRecord),
      peakRssMb: metric(ok, (r) => r.peakRssMb),
      tributaryThroughputRatio: null,
      tributaryCpuRatio: null,
    };
  });
  const t = summaries.find((s) => s.client === tributaryId);
  for (const s of summaries) {
    if (t?.recordsPerSec && s.recordsPerSec)
      s.tributaryThroughputRatio = t.recordsPerSec.median / s.recordsPerSec.median;
    if (t?.cpuUsPerRecord && s.cpuUsPerRecord)
      s.tributaryCpuRatio = t.cpuUsPerRecord.median / s.cpuUsPerRecord.median;
  }
  return summaries;
}
