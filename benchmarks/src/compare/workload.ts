/**
 * What every client of the side-by-side benchmark produces, and how a client
 * process reports back. The harness passes the workload as one JSON argument;
 * the client measures itself from just before its first record to the last
 * acknowledgement (or flush) and prints one `RESULT {...}` line on stdout.
 *
 * Records: 16-byte keys cycling through 1,000 distinct values (so every
 * partitioner spreads them over all partitions) and one 100-byte value, no
 * headers, no compression. The same bytes go into kcat's input file.
 */

/** The harness's instructions to one client process. */
export interface Workload {
  bootstrapServers: string;
  topic: string;
  records: number;
  /** Client-specific variant, e.g. `dr` for node-rdkafka with delivery reports. */
  mode: string;
}

/** What a client process reports about its own run. */
export interface ClientReport {
  /** Records the client saw acknowledged (or, without per-record reports, handed over and flushed). */
  acknowledged: number;
  /** Records the client saw fail. */
  failed: number;
  wallMs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Peak resident set size of the whole process, KiB (getrusage ru_maxrss). */
  maxRssKb: number;
  /** Anything the client wants on record (its library's version, ...). */
  info?: Record<string, string>;
}

export const KEY_BYTES = 16;
export const VALUE_BYTES = 100;
export const DISTINCT_KEYS = 1000;
export const RESULT_PREFIX = 'RESULT ';

/** Key i of the cycle: `key-000000000042`, 16 printable bytes. */
export function keyText(i: number): string {
  return `key-${String(i % DISTINCT_KEYS).padStart(KEY_BYTES - 4, '0')}`;
}

/** The 100-byte value: printable, no tab or newline (kcat's delimiters). */
export const VALUE_TEXT = 'tributary-benchmark-value:'.padEnd(VALUE_BYTES, '.');

/** The keys as Buffers, index i % DISTINCT_KEYS. */
export function keyBuffers(): Buffer[] {
  return Array.from({ length: DISTINCT_KEYS }, (_, i) => Buffer.from(keyText(i), 'latin1'));
}

export function valueBuffer(): Buffer {
  return Buffer.from(VALUE_TEXT, 'latin1');
}

/** In a client process: the workload from argv[2]. */
export function readWorkload(): Workload {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: <client>.js <workload JSON>');
  return JSON.parse(arg) as Workload;
}

/**
 * In a client process: starts the clock and the CPU meter; the returned
 * function stops both and prints the result line. CPU is the whole process's
 * (every thread: librdkafka's broker threads count for node-rdkafka).
 */
export function startMeasuring(): (
  acknowledged: number,
  failed: number,
  info?: Record<string, string>,
) => void {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return (acknowledged, failed, info) => {
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const report: ClientReport = {
      acknowledged,
      failed,
      wallMs,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      maxRssKb: process.resourceUsage().maxRSS,
      ...(info ? { info } : {}),
    };
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(report)}\n`);
  };
}

/** Runs a client's main, reporting a failure on stderr with exit code 1. */
export function runClient(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
