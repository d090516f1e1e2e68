// The short base h_s of the ballots and its fixed-base table (docs/protocol.md §5.0, §5.3,
// §5.6, §5.7).  Mirrors crypto/keyproofs.py short_base, crypto/proofs.py parameters,
// crypto/hazmat/fixedbase.py and crypto/ballot.py open_ciphertext.
//
// h_s = h^n mod n² with h = −x² mod n, x = hash_to_unit(n; "ssb-vote/v3/short-base", n) (§2.4):
// a function of n alone, so every worker derives it.  The table holds h_s^(d·2^(8t)) for every
// byte position t and byte value d — public data, never anything secret — and makes a power one
// multiplication per non-zero byte of the exponent.

import { barrettReducer, bitLength, bytesToBigInt, gcd, modInverse, modPow } from './bigint.js';
import { lpEncode } from './encoding.js';
import { InvalidInput } from './errors.js';
import { CHALLENGE_BITS, sha256 } from './hashing.js';

export const DOMAIN_SHORT_BASE = 'ssb-vote/v3/short-base';
/** λ of §5.3: nonces and simulated responses have W + 128 + λ bits. */
export const HIDING_BITS = 80;
/** Window of the browser's table: 8 bits (255 entries per byte position). */
export const WINDOW_BITS = 8;

/** expand(data, L) of §2.4: SHA-256(data ‖ u32be(0)) ‖ SHA-256(data ‖ u32be(1)) ‖ …, first L bytes. */
async function expand(data, length) {
  const out = new Uint8Array(Math.ceil(length / 32) * 32);
  for (let counter = 0; counter * 32 < length; counter++) {
    const block = new Uint8Array(data.length + 4);
    block.set(data);
    new DataView(block.buffer).setUint32(data.length, counter);
    out.set(await sha256(block), 32 * counter);
  }
  return out.subarray(0, length);
}

/** hash_to_unit(M; items…) of §2.4. */
export async function hashToUnit(modulus, ...items) {
  const length = Math.ceil(bitLength(modulus) / 8) + 16;
  for (let attempt = 0n; ; attempt++) {
    const u = bytesToBigInt(await expand(lpEncode(...items, attempt), length)) % modulus;
    if (u !== 0n && gcd(u, modulus) === 1n) return u;
  }
}

/** h_s for the modulus n (§5.0). */
export async function shortBase(n) {
  const x = await hashToUnit(n, DOMAIN_SHORT_BASE, n);
  const h = (n - ((x * x) % n)) % n;
  return modPow(h, n, n * n);
}

/** A = ⌈bits(n)/2⌉ (§1.2). */
export function shortBits(n) {
  return Math.ceil(bitLength(n) / 2);
}

/** W_0 = A, the 0/1 proof's witness bound (§5.3). */
export function zeroOneWitnessBits(n) {
  return shortBits(n);
}

/** W_Σ = A + bits(N), the sum proof's witness bound (§5.3). */
export function sumWitnessBits(n, numCandidates) {
  return shortBits(n) + (32 - Math.clz32(numCandidates));
}

/** S = W + 128 + λ: nonces and simulated responses are uniform in [0, 2^S) (§4.3, §5.3). */
export function nonceBits(witnessBits) {
  return witnessBits + CHALLENGE_BITS + HIDING_BITS;
}

/** Responses are accepted iff 0 ≤ z < 2^(S+1) (§5.4 step 2). */
export function responseLimit(witnessBits) {
  return 1n << BigInt(nonceBits(witnessBits) + 1);
}

/** Fixed-base table of h_s mod n² for exponents below 2^maxBits (§5.7); built in a worker. */
export class FixedBaseTable {
  constructor(base, modulus, maxBits) {
    this.base = base;
    this.modulus = modulus;
    this.maxBits = maxBits;
    this.red = barrettReducer(modulus);
    const rows = [];
    let step = base % modulus;
    for (let t = 0; t * WINDOW_BITS < maxBits; t++) {
      const row = new Array(1 << WINDOW_BITS);
      row[0] = 1n;
      row[1] = step;
      for (let d = 2; d < 1 << WINDOW_BITS; d++) row[d] = this.red(row[d - 1] * step);
      rows.push(row);
      step = this.red(row[(1 << WINDOW_BITS) - 1] * step);
    }
    this.rows = rows;
  }

  /** base^e mod modulus for any BigInt e (negative: the inverse). */
  power(e) {
    if (e < 0n) return modInverse(this.power(-e), this.modulus);
    if (bitLength(e) > this.maxBits) return modPow(this.base, e, this.modulus);
    const hex = e.toString(16);
    const red = this.red;
    let acc = 1n;
    let t = 0;
    // bytes from the least significant end of the hex string
    for (let end = hex.length; end > 0; end -= 2, t++) {
      const d = parseInt(hex.slice(Math.max(0, end - 2), end), 16);
      if (d) acc = acc === 1n ? this.rows[t][d] : red(acc * this.rows[t][d]);
    }
    return acc;
  }
}

// One table per n per thread (the page, each worker), built on first use and kept.
const tables = new Map();

/**
 * The table of h_s for n, built once per thread (§5.7): exponents up to A + 224 bits cover every
 * power a ballot needs (the longest: A + bits(N) + 208 with N ≤ 1000); longer ones (a verifier's)
 * fall back to modPow.
 */
export function shortTable(n) {
  let entry = tables.get(n);
  if (!entry) {
    entry = shortBase(n).then((hs) => new FixedBaseTable(hs, n * n, shortBits(n) + 224));
    if (tables.size >= 2) tables.delete(tables.keys().next().value);
    tables.set(n, entry);
  }
  return entry;
}

/**
 * The opening of §5.6 for one ciphertext: x = c · h_s^(−α) mod n² must be 1 + m·n; returns m
 * (0 or 1), or throws InvalidInput naming why not.  The usual case is tested without an inverse
 * mod n²: x ∈ {1, 1 + n} iff c ≡ h_s^α or c ≡ (1 + n)·h_s^α.
 */
export function openCiphertext(n, table, c, alpha) {
  const n2 = n * n;
  const y = table.power(alpha);
  if (c === y) return 0;
  if (c === ((1n + n) * y) % n2) return 1;
  const x = (c * modInverse(y, n2)) % n2;
  if (x % n !== 1n) throw new InvalidInput('ciphertext was not made with the randomness derived from this seed');
  throw new InvalidInput('ciphertext does not encrypt 0 or 1');
}
