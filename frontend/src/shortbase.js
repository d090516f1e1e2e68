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

/** Entries stored per row: d = 1 … 2^w − 1 (d = 0 is 1). */
export const ROW_ENTRIES = (1 << WINDOW_BITS) - 1;

/** Exponent bits the browser's table covers: A + 224, every power a ballot needs (§5.7). */
export function tableBits(n) {
  return shortBits(n) + 224;
}

/** Rows of the table for n (one per byte position of an exponent below 2^tableBits(n)). */
export function tableRows(n) {
  return Math.ceil(tableBits(n) / WINDOW_BITS);
}

/** Bytes of one stored entry: a residue mod n², big-endian, fixed length. */
export function entryBytes(modulus) {
  return Math.ceil(bitLength(modulus) / 8);
}

/**
 * Rows t0 ≤ t < t1 of the fixed-base table of base mod modulus: row t holds base^(d·2^(8t)) for
 * d = 0 … 255.  A row's start base^(2^(8·t0)) costs 8·t0 squarings, so workers can build
 * disjoint row ranges in parallel (§5.7).  onRow(t) is called after each row (progress).
 */
export function buildRows(base, modulus, t0, t1, onRow = null) {
  const red = barrettReducer(modulus);
  let step = base % modulus;
  for (let i = 0; i < t0 * WINDOW_BITS; i++) step = red(step * step);
  const rows = [];
  for (let t = t0; t < t1; t++) {
    const row = new Array(ROW_ENTRIES + 1);
    row[0] = 1n;
    row[1] = step;
    for (let d = 2; d <= ROW_ENTRIES; d++) row[d] = red(row[d - 1] * step);
    rows.push(row);
    step = red(row[ROW_ENTRIES] * step);
    if (onRow) onRow(t);
  }
  return rows;
}

// Rows ↔ bytes, for moving rows between workers (transferred ArrayBuffers) and for the IndexedDB
// cache (tablecache.js): fixed-width lowercase hex digits (2·size ASCII bytes per entry, entries
// d = 1 … 255 of each row in order).  Hex is twice the size of binary but converts with native
// code only (BigInt#toString(16), join, TextEncoder / TextDecoder, BigInt('0x…')); a per-byte
// JavaScript loop cost as much as building the rows.
const asciiEncoder = new TextEncoder();
const latin1 = new TextDecoder('latin1');

/** Bytes one stored entry takes in rowsToBytes (2 hex digits per byte of the residue). */
export function storedEntryBytes(size) {
  return 2 * size;
}

/** Rows (entries d = 1 … 255 of each) → one Uint8Array of fixed-width hex entries. */
export function rowsToBytes(rows, size) {
  const width = storedEntryBytes(size);
  const parts = new Array(rows.length * ROW_ENTRIES);
  let k = 0;
  for (const row of rows) {
    for (let d = 1; d <= ROW_ENTRIES; d++) {
      const hex = row[d].toString(16);
      if (hex.length > width) throw new RangeError('table entry longer than its slot');
      parts[k++] = hex.length === width ? hex : hex.padStart(width, '0');
    }
  }
  return asciiEncoder.encode(parts.join(''));
}

/**
 * Inverse of rowsToBytes: `count` rows from bytes; throws RangeError on anything else.  BigInt
 * rejects a non-hex digit itself (a separate scan of the text cost more than the parsing); what
 * BigInt would tolerate (surrounding blanks) still changes the entry, which the cache's digest
 * and algebraic checks refuse.
 */
export function bytesToRows(bytes, size, count) {
  const width = storedEntryBytes(size);
  if (bytes.length !== count * ROW_ENTRIES * width) throw new RangeError('table bytes: wrong length');
  const text = latin1.decode(bytes);
  const rows = [];
  let off = 0;
  try {
    for (let t = 0; t < count; t++) {
      const row = new Array(ROW_ENTRIES + 1);
      row[0] = 1n;
      for (let d = 1; d <= ROW_ENTRIES; d++) {
        row[d] = BigInt('0x' + text.slice(off, off + width));
        off += width;
      }
      rows.push(row);
    }
  } catch (err) {
    if (err instanceof SyntaxError) throw new RangeError('table bytes: not hex digits');
    throw err;
  }
  return rows;
}

/**
 * Row ranges of `parts` workers (issue 19): worker k owns rows [r0, r1) of the table, builds only
 * those and computes, for every power, the product over its own rows (FixedBaseTable#partial);
 * the page multiplies the partials.  Balanced by cost in multiplications mod n²: building a row
 * is 255, every power of a 7-of-228 ballot uses a row below A/8 (h_s^α, h_s^ρ, the simulated
 * part: 3 × 228 + 9) or one below (A + 208)/8 (ρ and the simulated part only), and a range's
 * first row start costs 8·r0 squarings.  A function of n and parts alone: the cache keys its
 * entries by range.
 */
export function rowRanges(n, parts) {
  const count = tableRows(n);
  const a = Math.ceil(shortBits(n) / WINDOW_BITS);
  const b = Math.ceil((shortBits(n) + 208) / WINDOW_BITS);
  const cost = (t) => ROW_ENTRIES + (t < a ? 693 : t < b ? 462 : 0);
  // the smallest per-range cost C for which greedy ranges (each ≤ C, its start included) cover
  // every row with `parts` ranges; the last range takes what is left
  const cover = (limit) => {
    const ranges = [];
    let r0 = 0;
    for (let k = 0; k < parts; k++) {
      let r1 = r0;
      let acc = WINDOW_BITS * r0;
      if (k === parts - 1) r1 = count;
      else while (r1 < count && acc + cost(r1) <= limit) acc += cost(r1++);
      ranges.push([r0, r1]);
      r0 = r1;
    }
    return ranges;
  };
  const costOf = ([r0, r1]) => {
    let acc = WINDOW_BITS * r0;
    for (let t = r0; t < r1; t++) acc += cost(t);
    return acc;
  };
  let lo = 0;
  let hi = costOf([0, count]);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const ranges = cover(mid);
    if (costOf(ranges[parts - 1]) <= mid) hi = mid;
    else lo = mid + 1;
  }
  return cover(lo);
}

/** base^(2^(8t)) mod modulus: the start of row t (8·t squarings). */
export function rowStart(base, modulus, t) {
  const red = barrettReducer(modulus);
  let step = base % modulus;
  for (let i = 0; i < t * WINDOW_BITS; i++) step = red(step * step);
  return step;
}

/**
 * Fixed-base table of h_s mod n² for exponents below 2^maxBits (§5.7); built in a worker.  A
 * worker's table may hold only rows [r0, r0 + rows.length) of it (a range, see rowRanges): then
 * partial(e) is the product over those rows, and power(e) needs the whole table.
 */
export class FixedBaseTable {
  /** rows: prebuilt rows (from a worker or the cache) starting at row r0; null builds them all. */
  constructor(base, modulus, maxBits, rows = null, r0 = 0) {
    this.base = base;
    this.modulus = modulus;
    this.maxBits = maxBits;
    this.red = barrettReducer(modulus);
    this.count = Math.ceil(maxBits / WINDOW_BITS);
    this.rows = rows || buildRows(base, modulus, 0, this.count);
    this.r0 = r0;
    this.r1 = r0 + this.rows.length;
    if (r0 < 0 || this.r1 > this.count || (!rows && r0 !== 0)) throw new RangeError('fixed-base table: wrong rows');
    if (r0 === 0 && rows === null && this.rows.length !== this.count) {
      throw new RangeError('fixed-base table: wrong number of rows');
    }
    this.whole = r0 === 0 && this.r1 === this.count;
  }

  /** base^e mod modulus for any BigInt e (negative: the inverse); needs the whole table. */
  power(e) {
    if (e < 0n) return modInverse(this.power(-e), this.modulus);
    if (bitLength(e) > this.maxBits) return modPow(this.base, e, this.modulus);
    if (!this.whole) throw new RangeError('fixed-base table: power() needs every row');
    return this.product(e);
  }

  /**
   * The share of base^|e| of this table's rows: ∏ rows[t][byte t of |e|] over r0 ≤ t < r1 (1 if
   * none).  The shares of a partition of the rows multiply to base^|e| (combinePartials); an
   * exponent longer than the table is the share of the range holding row 0 (modPow).
   */
  partial(e) {
    const a = e < 0n ? -e : e;
    if (bitLength(a) > this.maxBits) return this.r0 === 0 ? modPow(this.base, a, this.modulus) : 1n;
    return this.product(a);
  }

  product(e) {
    const hex = e.toString(16);
    const red = this.red;
    const rows = this.rows;
    let acc = 1n;
    // byte t is the two hex digits ending 2t digits from the right end of the string
    const last = Math.min(this.r1, Math.ceil(hex.length / 2));
    for (let t = this.r0; t < last; t++) {
      const end = hex.length - 2 * t;
      const d = parseInt(hex.slice(Math.max(0, end - 2), end), 16);
      if (d) {
        const x = rows[t - this.r0][d];
        acc = acc === 1n ? x : red(acc * x);
      }
    }
    return acc;
  }
}

/** base^e from the partials of every range for e (negative e: the inverse), mod modulus. */
export function combinePartials(partials, negative, modulus, red = null) {
  const reduce = red || ((x) => x % modulus);
  let acc = 1n;
  for (const p of partials) if (p !== 1n) acc = acc === 1n ? p : reduce(acc * p);
  return negative ? modInverse(acc, modulus) : acc;
}

// One table per n per thread (the page, each worker), built on first use and kept.
const tables = new Map();

function remember(n, entry) {
  if (tables.size >= 2 && !tables.has(n)) tables.delete(tables.keys().next().value);
  tables.set(n, entry);
}

/**
 * The table of h_s for n, built once per thread (§5.7): exponents up to A + 224 bits cover every
 * power a ballot needs (the longest: A + bits(N) + 208 with N ≤ 1000); longer ones (a verifier's)
 * fall back to modPow.  A worker installs its table with installTable (built with the other
 * workers or loaded from the cache) before any task asks for it.
 */
export function shortTable(n) {
  let entry = tables.get(n);
  if (!entry) {
    entry = shortBase(n).then((hs) => new FixedBaseTable(hs, n * n, tableBits(n)));
    remember(n, entry);
  }
  return entry;
}

/** Install the (promised) table for n in this thread: what shortTable(n) then returns. */
export function installTable(n, promise) {
  promise.catch(() => {
    if (tables.get(n) === promise) tables.delete(n); // a failed build is not kept
  });
  remember(n, promise);
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
