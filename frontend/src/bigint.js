// Modular arithmetic on native BigInt (docs/protocol.md §1.2).
//
// Performance (benchmarks/browser_encrypt_bench.py --compare-reductions, Chromium 156, best of
// 20 interleaved runs of x^n mod n² with a 2048-bit n, sliding window 6): `(a * b) % m`
// 31.4 ms, Montgomery 29.6 ms, Barrett 29.5 ms; this modPow (Barrett) 29.4 ms.  V8's BigInt
// multiplication is cheap relative to its division, so Barrett's two products win narrowly;
// Montgomery needs operand conversion for no further gain.  Node 20's older V8 shows all three
// within 10 %.

/** Number of bits of a non-negative BigInt (0 for 0). */
export function bitLength(x) {
  if (x < 0n) throw new RangeError('bitLength: negative value');
  if (x === 0n) return 0;
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)));
}

/** x mod m in [0, m) for any sign of x. */
export function mod(x, m) {
  const r = x % m;
  return r < 0n ? r + m : r;
}

/** Greatest common divisor of |a| and |b|. */
export function gcd(a, b) {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** a^(−1) mod m (extended Euclid); throws if gcd(a, m) ≠ 1. */
export function modInverse(a, m) {
  if (m <= 0n) throw new RangeError('modInverse: modulus must be positive');
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('modInverse: value is not invertible');
  return mod(oldS, m);
}

// Barrett reduction: for K = bits(m) and mu = ⌊2^(2K) / m⌋, any 0 ≤ x < 2^(2K) reduces with
// two multiplications, q = ⌊⌊x / 2^(K−1)⌋ · mu / 2^(K+1)⌋ and r = x − q·m, then at most two
// subtractions of m (HAC 14.42).  Contexts are cached for the few moduli in use (n, n²).
const BARRETT_MIN_BITS = 512;
const barrettCache = new Map();

export function barrettReducer(m) {
  let red = barrettCache.get(m);
  if (red) return red;
  const k = BigInt(bitLength(m));
  const mu = (1n << (2n * k)) / m;
  const shiftDown = k - 1n;
  const shiftUp = k + 1n;
  red = (x) => {
    let r = x - (((x >> shiftDown) * mu) >> shiftUp) * m;
    while (r >= m) r -= m;
    return r;
  };
  if (barrettCache.size >= 8) barrettCache.delete(barrettCache.keys().next().value);
  barrettCache.set(m, red);
  return red;
}

function windowBits(expBits) {
  if (expBits <= 24) return 1;
  if (expBits <= 80) return 3;
  if (expBits <= 240) return 4;
  if (expBits <= 768) return 5;
  return 6;
}

/**
 * base^exp mod m for exp ≥ 0, m ≥ 1: left-to-right sliding-window exponentiation.
 * A negative exponent means (base^−1)^|exp|.  Not constant time (neither is the Python
 * reference, gmpy2.powmod); the voter's device is the only party that sees its timing.
 */
export function modPow(base, exp, m) {
  if (m <= 0n) throw new RangeError('modPow: modulus must be positive');
  if (m === 1n) return 0n;
  if (exp < 0n) return modPow(modInverse(base, m), -exp, m);
  base = mod(base, m);
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const len = bits.length;
  const w = windowBits(len);
  const red = len > 32 && bitLength(m) >= BARRETT_MIN_BITS ? barrettReducer(m) : (x) => x % m;
  // table[t] = base^(2t+1): the odd powers up to base^(2^w − 1).
  const table = [base];
  if (w > 1) {
    const sq = red(base * base);
    for (let t = 1; t < 1 << (w - 1); t++) table.push(red(table[t - 1] * sq));
  }
  let acc = 1n;
  let started = false;
  let i = 0;
  while (i < len) {
    if (bits.charCodeAt(i) === 48) {
      if (started) acc = red(acc * acc);
      i++;
      continue;
    }
    let j = Math.min(i + w, len);
    while (bits.charCodeAt(j - 1) === 48) j--;
    const value = parseInt(bits.slice(i, j), 2);
    if (started) {
      for (let t = i; t < j; t++) acc = red(acc * acc);
      acc = red(acc * table[(value - 1) >> 1]);
    } else {
      acc = table[(value - 1) >> 1];
      started = true;
    }
    i = j;
  }
  return acc;
}

/** Unsigned big-endian bytes → BigInt. */
export function bytesToBigInt(bytes) {
  if (bytes.length === 0) return 0n;
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return BigInt('0x' + hex);
}

/** Lowercase even-length hex of a byte array. */
export function bytesToHex(bytes) {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Bytes of an even-length hex string (lower or upper case). */
export function hexToBytes(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError('hexToBytes: expected an even-length hex string');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
