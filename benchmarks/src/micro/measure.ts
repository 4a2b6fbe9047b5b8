/**
 * The timing loop shared by the newer micro-benchmarks (murmur2, varint,
 * produce): the same plain `process.hrtime` loop the older ones spell out
 * inline, plus repeats, so a figure is a median and its spread is visible.
 *
 * `step()` runs one batch of `opsPerStep` operations and returns something
 * derived from the work (folded into a sink, so the JIT cannot drop the loop).
 * After a warm-up of `warmupMs`, `samples` timed slices of at least `sliceMs`
 * each give operations per second; the median is the figure, min and max the
 * spread. A slice checks the clock between steps only, so keep a step at
 * well under a millisecond.
 */
export interface Measured {
  /** Median operations per second over the slices. */
  opsPerSecond: number;
  min: number;
  max: number;
  /** Nanoseconds per operation at the median. */
  ns: number;
}

export interface MeasureOptions {
  warmupMs?: number;
  sliceMs?: number;
  samples?: number;
}

let sink = 0;

export function measure(step: () => number, opsPerStep: number, options: MeasureOptions = {}): Measured {
  const { warmupMs = 150, sliceMs = 150, samples = 5 } = options;
  const slice = (ms: number): number => {
    const limit = BigInt(Math.round(ms * 1e6));
    let steps = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0n;
    do {
      sink ^= step();
      steps++;
      elapsed = process.hrtime.bigint() - t0;
    } while (elapsed < limit);
    return (steps * opsPerStep * 1e9) / Number(elapsed);
  };
  slice(warmupMs);
  const rates = Array.from({ length: samples }, () => slice(sliceMs)).sort((a, b) => a - b);
  const median = rates[rates.length >> 1] as number;
  if (sink === 0.5) console.log(sink); // keeps the sink observable
  return {
    opsPerSecond: median,
    min: rates[0] as number,
    max: rates[rates.length - 1] as number,
    ns: 1e9 / median,
  };
}

/** `12.3 M/s (12.1–12.6)`: a rate with its spread, in millions. */
export function millions(m: Measured): string {
  const f = (x: number) => (x / 1e6).toFixed(x >= 1e8 ? 0 : x >= 1e7 ? 1 : 2);
  return `${f(m.opsPerSecond)} M/s (${f(m.min)}–${f(m.max)})`;
}

/** Deterministic bytes (xorshift32), so runs compare. */
export function randomBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
