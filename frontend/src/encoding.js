// Canonical encodings (docs/protocol.md §2): canonical JSON (§2.1), the typed length-prefixed
// encoding LP of hash inputs (§2.2) and strict parsing helpers (§2.3).  Mirrors crypto/encoding.py.

import { InvalidInput } from './errors.js';

const HEX_RE = /^(?:0|[1-9a-f][0-9a-f]*)$/;
/** Longest hex integer we parse (§2.3, §8). */
export const MAX_HEX_DIGITS = 4096;

const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of a string; lone surrogates are refused (Python would refuse them too). */
export function utf8(text) {
  if (typeof text !== 'string') throw new TypeError('utf8: expected a string');
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?:[^\ud800-\udbff]|^)[\udc00-\udfff]/.test(text)) {
    throw new InvalidInput('string contains a lone surrogate');
  }
  return utf8Encoder.encode(text);
}

/** Canonical hex of a non-negative integer (§2.1): lowercase, no prefix, "0" for zero. */
export function intToHex(value) {
  if (typeof value === 'number') value = BigInt(value);
  if (typeof value !== 'bigint' || value < 0n) {
    throw new RangeError('only non-negative integers have a canonical encoding');
  }
  return value.toString(16);
}

/** Strict canonical-hex parse with the range check lower ≤ value < upper (§2.3). */
export function hexToInt(text, what, { lower = 0n, upper = null } = {}) {
  if (typeof text !== 'string') throw new InvalidInput(`${what}: expected a hex string`);
  if (text.length > MAX_HEX_DIGITS || !HEX_RE.test(text)) {
    throw new InvalidInput(`${what}: not a canonical lowercase hex integer`);
  }
  const value = BigInt('0x' + text);
  if (value < lower) throw new InvalidInput(`${what}: below the allowed range`);
  if (upper !== null && value >= upper) throw new InvalidInput(`${what}: above the allowed range`);
  return value;
}

function u32be(length) {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError('LP: length does not fit in 32 bits');
  }
  return [(length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
}

function lpInto(out, items) {
  for (const item of items) {
    if (item instanceof Uint8Array) {
      out.push(0x62, ...u32be(item.length));
      for (const b of item) out.push(b);
    } else if (typeof item === 'string') {
      const raw = utf8(item);
      out.push(0x73, ...u32be(raw.length));
      for (const b of raw) out.push(b);
    } else if (typeof item === 'bigint' || (typeof item === 'number' && Number.isSafeInteger(item))) {
      const raw = intToHex(item);
      out.push(0x69, ...u32be(raw.length));
      for (let i = 0; i < raw.length; i++) out.push(raw.charCodeAt(i));
    } else if (Array.isArray(item)) {
      out.push(0x6c, ...u32be(item.length));
      lpInto(out, item);
    } else {
      throw new TypeError(`cannot length-prefix encode ${typeof item}`);
    }
  }
}

/**
 * LP(x_1, …, x_k) (§2.2): 'b'/'s'/'i' + u32be(length) + payload for bytes (Uint8Array), UTF-8
 * strings and non-negative integers (BigInt or safe integer, as canonical hex ASCII);
 * 'l' + u32be(count) + items for arrays.
 */
export function lpEncode(...items) {
  const out = [];
  lpInto(out, items);
  return Uint8Array.from(out);
}

function compareCodePoints(a, b) {
  // Python sorts str keys by code point; JS's default sort compares UTF-16 code units, which
  // differs for astral characters versus U+E000…U+FFFF.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0);
    const cy = y.value.codePointAt(0);
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

function serialise(value) {
  if (value === null || value === true || value === false) return JSON.stringify(value);
  if (typeof value === 'string') {
    utf8(value); // refuses lone surrogates, as Python's UTF-8 encoding would
    return JSON.stringify(value); // escapes exactly what Python's json does with ensure_ascii=False
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('canonical JSON: only safe integers are numbers');
    return String(value);
  }
  if (Array.isArray(value)) return '[' + value.map(serialise).join(',') + ']';
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(compareCodePoints);
    return '{' + keys.map((k) => serialise(k) + ':' + serialise(value[k])).join(',') + '}';
  }
  throw new TypeError(`canonical JSON: cannot encode ${typeof value} (big integers must be hex strings)`);
}

/** Canonical JSON text (§2.1): sorted keys, no white space, non-ASCII literal. */
export function canonicalJson(value) {
  return serialise(value);
}

/** UTF-8 bytes of the canonical JSON of value (§2.1). */
export function canonicalJsonBytes(value) {
  return utf8(serialise(value));
}

// Strict object helpers (§2.3) --------------------------------------------------------------

export function requireObject(obj, keys, what) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new InvalidInput(`${what}: expected a JSON object`);
  }
  const have = Object.keys(obj);
  const missing = keys.filter((k) => !Object.prototype.hasOwnProperty.call(obj, k)).sort();
  const extra = have.filter((k) => !keys.includes(k)).sort();
  if (missing.length || extra.length) {
    throw new InvalidInput(`${what}: missing keys [${missing}], unexpected keys [${extra}]`);
  }
  return obj;
}

export function requireList(obj, what, { length = null, maxLength = 100000 } = {}) {
  if (!Array.isArray(obj)) throw new InvalidInput(`${what}: expected a JSON array`);
  if (length !== null && obj.length !== length) {
    throw new InvalidInput(`${what}: expected ${length} elements, got ${obj.length}`);
  }
  if (obj.length > maxLength) throw new InvalidInput(`${what}: more than ${maxLength} elements`);
  return obj;
}

export function requireString(obj, what, { maxLength = 256 } = {}) {
  if (typeof obj !== 'string' || obj.length === 0 || obj.length > maxLength) {
    throw new InvalidInput(`${what}: expected a non-empty string of at most ${maxLength} characters`);
  }
  return obj;
}
