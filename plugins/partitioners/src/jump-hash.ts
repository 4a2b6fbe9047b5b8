/**
 * Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent
 * Hash Algorithm", 2014): maps a 64-bit key to one of `buckets` buckets so
 * that growing from n to m buckets moves only the keys that now belong to a
 * new bucket (n..m-1), about (m - n) / m of them, and none between old ones.
 *
 * The key walks a chain of jumps driven by the paper's 64-bit linear
 * congruential generator (key = key * 2862933555777941757 + 1): from bucket b
 * it jumps to floor((b + 1) * 2^31 / ((key >>> 33) + 1)), and the last bucket
 * before a jump past the end is the answer. The same function, rounding
 * included, as the paper's C++ code and its faithful ports (pinned by the
 * reference outputs in the tests). Guava's `Hashing.consistentHash` divides
 * once where the paper multiplies by a rounded quotient, so it could differ
 * at a rare rounding boundary.
 *
 * The 64-bit multiply is done on 32-bit halves (no BigInt: this runs per
 * record); it takes about ln(buckets) + 1 rounds.
 *
 * @param keyHi the key's high 32 bits (any int32 or uint32 spelling)
 * @param keyLo the key's low 32 bits
 * @returns a bucket in [0, buckets), or -1 when `buckets` < 1
 */
export function jumpHash(keyHi: number, keyLo: number, buckets: number): number {
  let hi = keyHi >>> 0;
  let lo = keyLo >>> 0;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // key = key * C + 1 (mod 2^64): the low word of lo*C_LO, then the high
    // word from its carry plus the two cross terms (hi*C_HI overflows out).
    let nextHi = (mulHigh(lo, C_LO) + Math.imul(lo, C_HI) + Math.imul(hi, C_LO)) >>> 0;
    const nextLo = (Math.imul(lo, C_LO) + 1) >>> 0;
    if (nextLo === 0) nextHi = (nextHi + 1) >>> 0;
    hi = nextHi;
    lo = nextLo;
    // (key >>> 33) is hi >>> 1.
    j = Math.floor((b + 1) * (TWO_31 / ((hi >>> 1) + 1)));
  }
  return b;
}

// 2862933555777941757 = 0x27bb2ee6_87b0b0fd, the paper's multiplier.
const C_HI = 0x27bb2ee6;
const C_LO = 0x87b0b0fd;
const TWO_31 = 2 ** 31;

/** The high 32 bits of the 64-bit product of two uint32s, from 16-bit pieces (each partial product is exact). */
function mulHigh(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lowLow = a0 * b0;
  const highLow = a1 * b0;
  const lowHigh = a0 * b1;
  const carry = ((lowLow >>> 16) + (highLow & 0xffff) + (lowHigh & 0xffff)) >>> 16;
  return (a1 * b1 + (highLow >>> 16) + (lowHigh >>> 16) + carry) >>> 0;
}
