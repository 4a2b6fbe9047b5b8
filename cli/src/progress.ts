/** Counters of one produce run, shared by the progress line and the summary. */
export interface ProduceCounts {
  /** Records taken from the input (each ends delivered or failed). */
  read: number;
  delivered: number;
  failed: number;
  /** Key and value bytes of the delivered records, as serialized. */
  deliveredBytes: number;
  /** Read and not yet settled. */
  inFlight: number;
}

const CLEAR_LINE = '\r\x1b[2K';

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(2);
}

/**
 * The progress line on a terminal: records/s and MB/s over the last
 * interval, records in flight, errors so far. Redrawn in place about four
 * times a second on stderr; its timer does not keep the process alive.
 */
export class ProgressLine {
  readonly #out: NodeJS.WriteStream;
  readonly #counts: ProduceCounts;
  #timer: NodeJS.Timeout | undefined;
  #lastAt = 0;
  #lastDelivered = 0;
  #lastBytes = 0;
  #drawn = false;

  constructor(out: NodeJS.WriteStream, counts: ProduceCounts, intervalMs = 250) {
    this.#out = out;
    this.#counts = counts;
    this.#lastAt = performance.now();
    this.#timer = setInterval(() => this.#draw(), intervalMs);
    this.#timer.unref();
  }

  #draw(): void {
    const now = performance.now();
    const seconds = Math.max((now - this.#lastAt) / 1000, 1e-3);
    const c = this.#counts;
    const rate = Math.round((c.delivered - this.#lastDelivered) / seconds);
    const bytesRate = (c.deliveredBytes - this.#lastBytes) / seconds;
    this.#lastAt = now;
    this.#lastDelivered = c.delivered;
    this.#lastBytes = c.deliveredBytes;
    this.#out.write(
      `${CLEAR_LINE}${rate} records/s  ${mb(bytesRate)} MB/s  in flight ${c.inFlight}  ` +
        `delivered ${c.delivered}  errors ${c.failed}`,
    );
    this.#drawn = true;
  }

  /** Stops redrawing and erases the line. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) this.#out.write(CLEAR_LINE);
  }
}

/**
 * The one-line summary printed at the end of every run, e.g.
 * `tributary: 100000 records: 100000 delivered, 0 failed in 3.20 s (31250 records/s, 2.90 MB/s)`.
 * The numbers are plain integers so scripts can parse them.
 */
export function summaryLine(
  counts: ProduceCounts,
  elapsedMs: number,
  firstError: string | undefined,
  prefix: string,
): string {
  const seconds = Math.max(elapsedMs / 1000, 1e-3);
  const rate = Math.round(counts.delivered / seconds);
  let line =
    `tributary: ${prefix}${counts.read} records: ${counts.delivered} delivered, ${counts.failed} failed` +
    ` in ${seconds.toFixed(2)} s (${rate} records/s, ${mb(counts.deliveredBytes / seconds)} MB/s)`;
  if (counts.inFlight > 0) line += `; ${counts.inFlight} unsettled`;
  if (firstError !== undefined) line += `; first error: ${firstError}`;
  return line;
}
