import type { ClientSummary, Spread } from './summary.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Panel {
  title: string;
  pick: (s: ClientSummary) => Spread | null;
  format: (x: number) => string;
}

const LABEL_W = 270;
const BAR_W = 520;
const ROW_H = 26;
const PAD = 16;
const TITLE_H = 28;

/**
 * A hand-written SVG: one horizontal bar per client and panel (records/s,
 * CPU per record), the bar at the median, a whisker from min to max.
 * Tributary's bars in orange, the peers' in slate.
 */
export function barChart(summaries: readonly ClientSummary[], tributaryId: string, subtitle: string): string {
  const panels: Panel[] = [
    {
      title: 'records/s (median, whiskers min–max; longer is better)',
      pick: (s) => s.recordsPerSec,
      format: (x) => Math.round(x).toLocaleString('en-US'),
    },
    {
      title: 'client CPU µs per record (median, whiskers min–max; shorter is better)',
      pick: (s) => s.cpuUsPerRecord,
      format: (x) => x.toFixed(2),
    },
  ];
  const width = PAD * 2 + LABEL_W + BAR_W + 120;
  const panelH = TITLE_H + summaries.length * ROW_H + PAD;
  const height = PAD + 24 + panels.length * panelH + PAD;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${PAD}" y="${PAD + 12}" font-size="13" fill="#333">${esc(subtitle)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const top = PAD + 24 + p * panelH;
    const max = Math.max(1e-9, ...summaries.map((s) => panel.pick(s)?.max ?? 0));
    const scale = (x: number) => (x / max) * BAR_W;
    const x0 = PAD + LABEL_W;
    out.push(`<text x="${PAD}" y="${top + 18}" font-weight="bold" fill="#222">${esc(panel.title)}</text>`);
    out.push(
      `<line x1="${x0}" y1="${top + TITLE_H - 4}" x2="${x0}" y2="${top + TITLE_H + summaries.length * ROW_H}" stroke="#999"/>`,
    );
    summaries.forEach((s, i) => {
      const y = top + TITLE_H + i * ROW_H;
      const v = panel.pick(s);
      out.push(`<text x="${x0 - 8}" y="${y + 16}" text-anchor="end" fill="#222">${esc(s.label)}</text>`);
      if (v === null) {
        out.push(`<text x="${x0 + 6}" y="${y + 16}" fill="#888">no successful run</text>`);
        return;
      }
      const colour = s.client === tributaryId ? '#e8590c' : '#5c7080';
      const w = scale(v.median);
      const mid = y + ROW_H / 2;
      out.push(
        `<rect x="${x0}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW_H - 8}" fill="${colour}"/>`,
      );
      const a = x0 + scale(v.min);
      const b = x0 + scale(v.max);
      out.push(
        `<line x1="${a.toFixed(1)}" y1="${mid}" x2="${b.toFixed(1)}" y2="${mid}" stroke="#111" stroke-width="1.5"/>`,
        `<line x1="${a.toFixed(1)}" y1="${mid - 5}" x2="${a.toFixed(1)}" y2="${mid + 5}" stroke="#111" stroke-width="1.5"/>`,
        `<line x1="${b.toFixed(1)}" y1="${mid - 5}" x2="${b.toFixed(1)}" y2="${mid + 5}" stroke="#111" stroke-width="1.5"/>`,
        `<text x="${(Math.max(b, x0 + w) + 6).toFixed(1)}" y="${y + 16}" fill="#222">${esc(panel.format(v.median))}</text>`,
      );
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
