import type { ClientSummary, Spread } from './summary.js';

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const fixed = (digits: number) => (x: number) => x.toFixed(digits);

function cell(s: Spread | null, fmt: (x: number) => string): string {
  if (s === null) return 'n/a';
  return s.min === s.max ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

function ratio(x: number | null, isTributary: boolean): string {
  if (isTributary) return '1';
  return x === null ? 'n/a' : `${x.toFixed(2)}×`;
}

/**
 * The results as a Markdown table: medians with (min–max) over the runs that
 * stored every record, and Tributary's ratios against each client. Skipped
 * clients get a row saying why.
 */
export function markdownTable(
  summaries: readonly ClientSummary[],
  tributaryId: string,
  skipped: ReadonlyArray<{ label: string; reason: string }>,
): string {
  const rows: string[][] = [
    [
      'client',
      'runs ok',
      'records/s',
      'MB/s',
      'client CPU µs/record',
      'peak RSS MB',
      'Tributary ÷ client, records/s',
      'Tributary ÷ client, CPU/record',
    ],
  ];
  for (const s of summaries) {
    const t = s.client === tributaryId;
    rows.push([
      t ? `**${s.label}**` : s.label,
      `${s.okRuns}/${s.okRuns + s.failedRuns}`,
      cell(s.recordsPerSec, int),
      cell(s.mbPerSec, fixed(1)),
      cell(s.cpuUsPerRecord, fixed(2)),
      cell(s.peakRssMb, fixed(0)),
      ratio(s.tributaryThroughputRatio, t),
      ratio(s.tributaryCpuRatio, t),
    ]);
  }
  for (const s of skipped) rows.push([s.label, 'skipped', s.reason, '', '', '', '', '']);
  const widths = rows[0]?.map((_, c) => Math.max(3, ...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  const [head, ...body] = rows;
  return [line(head ?? []), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join(
    '\n',
  );
}
