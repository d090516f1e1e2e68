// Modular arithmetic on native BigInt (docs/protocol.md §1.2).
//
// Performance note (measured, benchmarks/browser_encrypt_bench.py): for 4096-bit moduli (n²
// with a 2048-bit n) V8's `(a * b) % m` beats Montgomery and Barrett reduction written with
// BigInt operations, because each of those needs two or three full-size products where `%`
// costs about two.  So modPow is a left-to-right sliding-window exponentiation with plain `%`.

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
  // table[t] = base^(2t+1): the odd powers up to base^(2^w − 1).
  const table = [base];
  if (w > 1) {
    const sq = (base * base) % m;
    for (let t = 1; t < 1 << (w - 1); t++) table.push((table[t - 1] * sq) % m);
  }
  let acc = 1n;
  let started = false;
  let i = 0;
  while (i < len) {
    if (bits.charCodeAt(i) === 48) {
      if (started) acc = (acc * acc) % m;
      i++;
      continue;
    }
    let j = Math.min(i + w, len);
    while (bits.charCodeAt(j - 1) === 48) j--;
    const value = parseInt(bits.slice(i, j), 2);
    if (started) {
      for (let t = i; t < j; t++) acc = (acc * acc) % m;
      acc = (acc * table[(value - 1) >> 1]) % m;
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
