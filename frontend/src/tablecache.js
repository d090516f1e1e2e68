// The IndexedDB cache of the browser's fixed-base table of h_s (docs/protocol.md §5.7), so that
// a voter's second visit (or the ballot page after the home page) does not rebuild it.  Each
// worker owns a range of rows (shortbase.js rowRanges) and stores and loads only that range: one
// entry per (n, h_s, range).
//
// The table is public data, a function of n alone; caching it reveals nothing.  What matters is
// that a wrong table is never used: a wrong entry would make ciphertexts that are not
// (1 + m·n)·h_s^α.  So an entry is used only if everything checks (any failure: the entry is
// deleted and the table rebuilt):
//   - the key is SHA-256 of LP("ssb-vote/v3/table-cache", n, h_s, r0, r1) with h_s derived
//     afresh (§5.0); the stored n and h_s must equal the caller's, and the stored shape (format,
//     window, bits, range r0…r1, rows, entry size, byte length) the one this code builds;
//   - a SHA-256 digest over that header and the table bytes matches (accidental corruption,
//     a truncated write, another version's layout);
//   - row r0 starts with h_s^(2^(8·r0)) (computed afresh: 8·r0 squarings; h_s itself for row 0),
//     every row's start is the previous row's start to the 256th power
//     (one multiplication per row), and 64 randomly chosen entries satisfy
//     T[t][d] = T[t][d−1]·T[t][1] — a table built from another base or with shifted rows fails.
// A script of the page's origin that rewrites the cache could also rewrite the page; the checks
// are against corruption and mismatch, not against the origin itself.
//
// Bounded: at most MAX_ENTRIES tables (oldest dropped; a table's ranges count as one, at most
// MAX_RANGES of them — several worker counts), none above MAX_RECORD_BYTES, none when
// the storage estimate leaves less than twice its size.  Every failure (no IndexedDB, private
// mode, quota, a blocked upgrade, a timeout) means "no cache": the caller builds the table.

import { barrettReducer, bytesToHex } from './bigint.js';
import { lpEncode } from './encoding.js';
import { sha256 } from './hashing.js';
import { bytesToRows, ROW_ENTRIES, storedEntryBytes, WINDOW_BITS } from './shortbase.js';

export const DB_NAME = 'ssbvote-tables';
export const DATA_STORE = 'tables';
export const META_STORE = 'meta';
const DB_VERSION = 1;
export const CACHE_FORMAT = 2; // 2: one entry per row range
export const DOMAIN_TABLE_CACHE = 'ssb-vote/v3/table-cache';
export const MAX_ENTRIES = 2;
export const MAX_RANGES = 8;
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const SPOT_CHECKS = 64;
const OPEN_TIMEOUT_MS = 5000;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error || new Error('IndexedDB request failed'));
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error || new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
  });
}

/** The database, or null when IndexedDB is missing, refused (private mode) or blocked. */
export function openCache() {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (db) => {
      if (settled) {
        if (db) db.close();
        return;
      }
      settled = true;
      resolve(db);
    };
    const timer = setTimeout(() => finish(null), OPEN_TIMEOUT_MS);
    try {
      const idb = globalThis.indexedDB;
      if (!idb) {
        clearTimeout(timer);
        finish(null);
        return;
      }
      const req = idb.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(DATA_STORE)) db.createObjectStore(DATA_STORE);
        if (!db.objectStoreNames.contains(META_STORE)) db.createObjectStore(META_STORE);
      };
      req.onsuccess = () => {
        clearTimeout(timer);
        const db = req.result;
        db.onversionchange = () => db.close();
        finish(db);
      };
      req.onerror = () => {
        clearTimeout(timer);
        finish(null);
      };
      req.onblocked = () => {
        clearTimeout(timer);
        finish(null);
      };
    } catch {
      clearTimeout(timer);
      finish(null);
    }
  });
}

/** The shape of rows r0 … r1 − 1 of the table for n (what this code builds). */
export function tableShape(n, maxBits, size, r0, r1) {
  return { format: CACHE_FORMAT, window: WINDOW_BITS, maxBits, r0, r1, rows: r1 - r0, entryBytes: size };
}

/** The table's identity: SHA-256 hex of LP(domain, n, h_s) (eviction counts tables by it). */
export async function tableKey(n, hs) {
  return bytesToHex(await sha256(lpEncode(DOMAIN_TABLE_CACHE, n, hs)));
}

/** Cache key of a range: SHA-256 hex of LP(domain, n, h_s, r0, r1). */
export async function cacheKey(n, hs, r0, r1) {
  return bytesToHex(await sha256(lpEncode(DOMAIN_TABLE_CACHE, n, hs, r0, r1)));
}

async function recordDigest(shape, n, hs, data) {
  const dataHash = await sha256(data);
  const header = lpEncode(
    DOMAIN_TABLE_CACHE, shape.format, shape.window, shape.maxBits, shape.r0, shape.r1, shape.rows, shape.entryBytes,
    n, hs, dataHash,
  );
  return bytesToHex(await sha256(header));
}

function sameShape(rec, shape) {
  return ['format', 'window', 'maxBits', 'r0', 'r1', 'rows', 'entryBytes'].every((k) => rec[k] === shape[k]);
}

function randomIndex(limit, words, i) {
  return words[i] % limit;
}

/**
 * Algebraic checks of rows r0 … r0 + rows.length − 1 (see the header) against start, the
 * expected start of row r0 (h_s for r0 = 0); returns a reason or null.
 */
export function checkRows(rows, start, modulus, r0 = 0) {
  const red = barrettReducer(modulus);
  if (rows.length === 0) return null;
  if (rows[0][1] !== start % modulus) return r0 === 0 ? 'row 0 does not start with h_s' : `row ${r0} does not start with h_s^(2^(8·${r0}))`;
  for (let t = 0; t + 1 < rows.length; t++) {
    if (rows[t + 1][1] !== red(rows[t][ROW_ENTRIES] * rows[t][1])) return `row ${r0 + t + 1} does not follow row ${r0 + t}`;
  }
  const words = globalThis.crypto.getRandomValues(new Uint32Array(2 * SPOT_CHECKS));
  for (let k = 0; k < SPOT_CHECKS; k++) {
    const t = randomIndex(rows.length, words, 2 * k);
    const d = 2 + randomIndex(ROW_ENTRIES - 1, words, 2 * k + 1);
    if (rows[t][d] !== red(rows[t][d - 1] * rows[t][1])) return `entry ${d} of row ${r0 + t} is wrong`;
  }
  return null;
}

async function deleteEntry(db, key) {
  try {
    const tx = db.transaction([DATA_STORE, META_STORE], 'readwrite');
    tx.objectStore(DATA_STORE).delete(key);
    tx.objectStore(META_STORE).delete(key);
    await done(tx);
  } catch {
    // best effort: the entry is not used either way
  }
}

/**
 * The cached rows r0 … r1 − 1 of the table of h_s for n ({rows, reason: 'cached'}), or {rows:
 * null, reason} ('unavailable', 'absent', or why the entry was refused — it is then deleted).
 * maxBits and size: the table this code would build; start: h_s^(2^(8·r0)), computed afresh.
 */
export async function loadRows(n, hs, maxBits, size, r0, r1, start, timings = {}) {
  let t = performance.now();
  const lap = (name) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  const db = await openCache();
  lap('open');
  if (!db) return { rows: null, reason: 'unavailable' };
  try {
    const key = await cacheKey(n, hs, r0, r1);
    let rec;
    try {
      rec = await request(db.transaction(DATA_STORE, 'readonly').objectStore(DATA_STORE).get(key));
    } catch {
      return { rows: null, reason: 'unavailable' };
    }
    lap('read');
    if (rec === undefined) return { rows: null, reason: 'absent' };
    const shape = tableShape(n, maxBits, size, r0, r1);
    const reason = await refusal(rec, shape, n, hs);
    lap('digest');
    if (reason) {
      await deleteEntry(db, key);
      return { rows: null, reason };
    }
    let rows;
    let bad;
    try {
      rows = bytesToRows(new Uint8Array(rec.data), size, shape.rows);
      lap('parse');
      bad = checkRows(rows, start, n * n, r0);
      lap('check');
    } catch (err) {
      bad = `unreadable (${(err && err.message) || err})`;
    }
    if (bad) {
      await deleteEntry(db, key);
      return { rows: null, reason: bad };
    }
    return { rows, reason: 'cached' };
  } catch (err) {
    return { rows: null, reason: `unreadable (${(err && err.message) || err})` };
  } finally {
    db.close();
  }
}

async function refusal(rec, shape, n, hs) {
  if (rec === null || typeof rec !== 'object') return 'not a table record';
  if (!sameShape(rec, shape)) return 'another table shape';
  if (rec.n !== n.toString(16) || rec.hs !== hs.toString(16)) return 'another key or short base';
  if (!(rec.data instanceof ArrayBuffer) || rec.data.byteLength !== shape.rows * ROW_ENTRIES * storedEntryBytes(shape.entryBytes)) {
    return 'wrong data length';
  }
  if (typeof rec.digest !== 'string' || rec.digest !== (await recordDigest(shape, n, hs, new Uint8Array(rec.data)))) {
    return 'digest mismatch';
  }
  return null;
}

/**
 * Store rows r0 … r1 − 1 of the table for n (data: rowsToBytes of those rows); returns true if
 * stored.  Best effort, bounded (see the header); never throws.
 */
export async function storeRows(n, hs, maxBits, size, r0, r1, data) {
  if (data.byteLength > MAX_RECORD_BYTES) return false;
  try {
    const storage = globalThis.navigator && globalThis.navigator.storage;
    if (storage && storage.estimate) {
      const { quota, usage } = await storage.estimate();
      if (typeof quota === 'number' && typeof usage === 'number' && quota - usage < 2 * data.byteLength) return false;
    }
  } catch {
    // no estimate: try anyway, the write fails cleanly on quota
  }
  const db = await openCache();
  if (!db) return false;
  try {
    const shape = tableShape(n, maxBits, size, r0, r1);
    const key = await cacheKey(n, hs, r0, r1);
    const table = await tableKey(n, hs);
    const digest = await recordDigest(shape, n, hs, data);
    const buffer = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : data.slice().buffer;
    const metas = await request(db.transaction(META_STORE, 'readonly').objectStore(META_STORE).getAll());
    const keys = await request(db.transaction(META_STORE, 'readonly').objectStore(META_STORE).getAllKeys());
    const others = keys.map((k, i) => ({ k, at: (metas[i] && metas[i].savedAt) || 0, table: metas[i] && metas[i].table }))
      .filter((e) => e.k !== key);
    // other tables: the newest MAX_ENTRIES − 1 stay (a table's newest range dates it); this
    // table: the newest MAX_RANGES − 1 other ranges stay
    const newest = new Map();
    for (const e of others) if (e.table !== table) newest.set(e.table, Math.max(newest.get(e.table) || 0, e.at));
    const keptTables = new Set([...newest.entries()].sort((x, y) => y[1] - x[1]).slice(0, MAX_ENTRIES - 1).map((x) => x[0]));
    const mine = others.filter((e) => e.table === table).sort((x, y) => y.at - x.at);
    const drop = [...others.filter((e) => e.table !== table && !keptTables.has(e.table)), ...mine.slice(MAX_RANGES - 1)];
    const tx = db.transaction([DATA_STORE, META_STORE], 'readwrite');
    for (const e of drop) {
      tx.objectStore(DATA_STORE).delete(e.k);
      tx.objectStore(META_STORE).delete(e.k);
    }
    tx.objectStore(DATA_STORE).put({ ...shape, n: n.toString(16), hs: hs.toString(16), digest, data: buffer }, key);
    tx.objectStore(META_STORE).put({ savedAt: Date.now(), bytes: data.byteLength, table }, key);
    await done(tx);
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}
