/**
 * Varint micro-benchmark: writes and reads per second of core's protocol
 * `Writer` and `Reader` for zig-zag varints (signed 32-bit: record lengths,
 * offset deltas, key and value lengths) and varlongs (timestamp deltas), by
 * encoded length, plus unsigned varints (compact lengths of flexible
 * versions). Each step writes (or reads) 1,024 values of one class through
 * one reused Writer (reset per step) or a Reader over the pre-encoded bytes
 * (one Reader per step of 1,024 reads), after a warm-up that runs every class
 * through every path (the producer's mix). The record batch builder uses the
 * unchecked `put*` functions behind these methods; the Writer adds its
 * `ensure()` bounds check, the Reader its own checks.
 *
 *   npx tsc -b benchmarks && node benchmarks/dist/src/micro/varint.js
 */
import { Reader, sizeOfUvarint, sizeOfVarlong, Writer } from '@tributary/core';
import { type Measured, measure, millions } from './measure.js';

const N = 1024;

/**
 * N deterministic values of either sign whose zig-zag encoding has exactly
 * `bytes` bytes (and is below `limit`: 2^32 for a 32-bit varint).
 */
function valuesOf(bytes: number, seed: number, limit = 2 ** 53): number[] {
  const lo = bytes === 1 ? 0 : 2 ** (7 * (bytes - 1)); // zig-zag value range [lo, hi)
  const hi = Math.min(2 ** (7 * bytes), limit);
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const zz = lo + Math.floor((x / 2 ** 32) * (hi - lo));
    out.push(zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2); // undo zig-zag
  }
  return out;
}

function unsignedOf(bytes: number, seed: number): number[] {
  return valuesOf(bytes, seed).map((v) => (v >= 0 ? v * 2 : -v * 2 - 1));
}

type Kind = 'varint' | 'varlong' | 'uvarint';

// One function per kind, each its own source, so each call site inside stays
// monomorphic (a shared loop calling w[kind] would measure a megamorphic
// dispatch, not the codec).
const writers: Record<Kind, (w: Writer, values: number[]) => number> = {
  varint: (w, values) => {
    w.reset();
    for (let i = 0; i < N; i++) w.varint(values[i] as number);
    return w.pos;
  },
  varlong: (w, values) => {
    w.reset();
    for (let i = 0; i < N; i++) w.varlong(values[i] as number);
    return w.pos;
  },
  uvarint: (w, values) => {
    w.reset();
    for (let i = 0; i < N; i++) w.uvarint(values[i] as number);
    return w.pos;
  },
};
const readers: Record<Kind, (bytes: Buffer) => number> = {
  varint: (bytes) => {
    const r = new Reader(bytes);
    let s = 0;
    for (let i = 0; i < N; i++) s += r.varint();
    return s;
  },
  varlong: (bytes) => {
    const r = new Reader(bytes);
    let s = 0;
    for (let i = 0; i < N; i++) s += r.varlong();
    return s;
  },
  uvarint: (bytes) => {
    const r = new Reader(bytes);
    let s = 0;
    for (let i = 0; i < N; i++) s += r.uvarint();
    return s;
  },
};

function run(kind: Kind, values: number[]): { write: Measured; read: Measured } {
  const w = new Writer(16 * N);
  writers[kind](w, values);
  const encoded = w.finish();
  // Check the round trip once, so a wrong class or a codec bug cannot pass unnoticed.
  const check = new Reader(encoded);
  for (const v of values) if (check[kind]() !== v) throw new Error(`${kind} round trip failed for ${v}`);
  const write = writers[kind];
  const read = readers[kind];
  return { write: measure(() => write(w, values), N), read: measure(() => read(encoded), N) };
}

console.log(`node ${process.version} ${process.platform}-${process.arch}`);
console.log(
  `${'encoding'.padEnd(22)}${'write (min–max)'.padEnd(28)}${'ns'.padStart(6)}   ${'read (min–max)'.padEnd(28)}${'ns'.padStart(6)}`,
);
const rows: Array<[string, Kind, number[]]> = [];
for (const bytes of [1, 2, 3, 5]) rows.push([`varint ${bytes} B`, 'varint', valuesOf(bytes, bytes, 2 ** 32)]);
for (const bytes of [1, 3, 6, 8]) rows.push([`varlong ${bytes} B`, 'varlong', valuesOf(bytes, 100 + bytes)]);
for (const bytes of [1, 2]) rows.push([`uvarint ${bytes} B`, 'uvarint', unsignedOf(bytes, 200 + bytes)]);
// Warm every class through every path first: in the producer all lengths flow
// through the same functions, so the steady state to measure is the one where
// they have seen them all (otherwise the first rows run on narrower feedback).
const warm = new Writer(16 * N);
for (let round = 0; round < 200; round++) {
  for (const [, kind, values] of rows) {
    writers[kind](warm, values);
    readers[kind](warm.view());
  }
}
for (const [label, kind, values] of rows) {
  // The classes must really encode to the stated length (varint 5 B stays within 32 bits).
  const size = kind === 'uvarint' ? sizeOfUvarint(values[0] as number) : sizeOfVarlong(values[0] as number);
  if (`${size} B` !== label.split(' ').slice(1).join(' ')) throw new Error(`${label}: encodes to ${size} B`);
  if (kind === 'varint' && values.some((v) => v < -(2 ** 31) || v >= 2 ** 31))
    throw new Error(`${label}: not 32-bit`);
  const { write, read } = run(kind, values);
  console.log(
    `${label.padEnd(22)}${millions(write).padEnd(28)}${write.ns.toFixed(1).padStart(6)}   ${millions(read).padEnd(28)}${read.ns.toFixed(1).padStart(6)}`,
  );
}
