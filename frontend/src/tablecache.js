// The IndexedDB cache of the browser's fixed-base table of h_s (docs/protocol.md §5.7), so that
// a voter's second visit (or the ballot page after the home page) does not rebuild it.
//
// The table is public data, a function of n alone; caching it reveals nothing.  What matters is
// that a wrong table is never used: a wrong entry would make ciphertexts that are not
// (1 + m·n)·h_s^α.  So an entry is used only if everything checks (any failure: the entry is
// deleted and the table rebuilt):
//   - the key is SHA-256 of LP("ssb-vote/v3/table-cache", n, h_s) with h_s derived afresh (§5.0);
//     the stored n and h_s must equal the caller's, and the stored shape (format, window, bits,
//     rows, entry size, byte length) the one this code builds;
//   - a SHA-256 digest over that header and the table bytes matches (accidental corruption,
//     a truncated write, another version's layout);
//   - row 0 starts with h_s, every row's start is the previous row's start to the 256th power
//     (one multiplication per row), and 64 randomly chosen entries satisfy
//     T[t][d] = T[t][d−1]·T[t][1] — a table built from another base or with shifted rows fails.
// A script of the page's origin that rewrites the cache could also rewrite the page; the checks
// are against corruption and mismatch, not against the origin itself.
//
// Bounded: at most MAX_ENTRIES tables (oldest dropped), none above MAX_RECORD_BYTES, none when
// the storage estimate leaves less than twice its size.  Every failure (no IndexedDB, private
// mode, quota, a blocked upgrade, a timeout) means "no cache": the caller builds the table.

import { barrettReducer, bytesToHex } from './bigint.js';
import { lpEncode } from './encoding.js';
import { sha256 } from './hashing.js';
import { bytesToRows, FixedBaseTable, ROW_ENTRIES, storedEntryBytes, WINDOW_BITS } from './shortbase.js';

export const DB_NAME = 'ssbvote-tables';
export const DATA_STORE = 'tables';
export const META_STORE = 'meta';
const DB_VERSION = 1;
export const CACHE_FORMAT = 1;
export const DOMAIN_TABLE_CACHE = 'ssb-vote/v3/table-cache';
export const MAX_ENTRIES = 2;
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

/** The table's shape for n (what this code builds). */
export function tableShape(n, maxBits, size) {
  return { format: CACHE_FORMAT, window: WINDOW_BITS, maxBits, rows: Math.ceil(maxBits / WINDOW_BITS), entryBytes: size };
}

/** Cache key: SHA-256 hex of LP(domain, n, h_s). */
export async function cacheKey(n, hs) {
  return bytesToHex(await sha256(lpEncode(DOMAIN_TABLE_CACHE, n, hs)));
}

async function recordDigest(shape, n, hs, data) {
  const dataHash = await sha256(data);
  const header = lpEncode(
    DOMAIN_TABLE_CACHE, shape.format, shape.window, shape.maxBits, shape.rows, shape.entryBytes, n, hs, dataHash,
  );
  return bytesToHex(await sha256(header));
}

function sameShape(rec, shape) {
  return ['format', 'window', 'maxBits', 'rows', 'entryBytes'].every((k) => rec[k] === shape[k]);
}

function randomIndex(limit, words, i) {
  return words[i] % limit;
}

/** Algebraic checks of rows against h_s (see the header); returns a reason or null. */
export function checkRows(rows, hs, modulus) {
  const red = barrettReducer(modulus);
  if (rows[0][1] !== hs % modulus) return 'row 0 does not start with h_s';
  for (let t = 0; t + 1 < rows.length; t++) {
    if (rows[t + 1][1] !== red(rows[t][ROW_ENTRIES] * rows[t][1])) return `row ${t + 1} does not follow row ${t}`;
  }
  const words = globalThis.crypto.getRandomValues(new Uint32Array(2 * SPOT_CHECKS));
  for (let k = 0; k < SPOT_CHECKS; k++) {
    const t = randomIndex(rows.length, words, 2 * k);
    const d = 2 + randomIndex(ROW_ENTRIES - 1, words, 2 * k + 1);
    if (rows[t][d] !== red(rows[t][d - 1] * rows[t][1])) return `entry ${d} of row ${t} is wrong`;
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
 * The cached table of h_s for n, or {table: null, reason} ('unavailable', 'absent', or why the
 * entry was refused — it is then deleted).  maxBits and size: the table this code would build.
 */
export async function loadTable(n, hs, maxBits, size, timings = {}) {
  let t = performance.now();
  const lap = (name) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  const db = await openCache();
  lap('open');
  if (!db) return { table: null, reason: 'unavailable' };
  try {
    const key = await cacheKey(n, hs);
    let rec;
    try {
      rec = await request(db.transaction(DATA_STORE, 'readonly').objectStore(DATA_STORE).get(key));
    } catch {
      return { table: null, reason: 'unavailable' };
    }
    lap('read');
    if (rec === undefined) return { table: null, reason: 'absent' };
    const shape = tableShape(n, maxBits, size);
    const reason = await refusal(rec, shape, n, hs);
    lap('digest');
    if (reason) {
      await deleteEntry(db, key);
      return { table: null, reason };
    }
    let rows;
    let bad;
    try {
      rows = bytesToRows(new Uint8Array(rec.data), size, shape.rows);
      lap('parse');
      bad = checkRows(rows, hs, n * n);
      lap('check');
    } catch (err) {
      bad = `unreadable (${(err && err.message) || err})`;
    }
    if (bad) {
      await deleteEntry(db, key);
      return { table: null, reason: bad };
    }
    return { table: new FixedBaseTable(hs, n * n, maxBits, rows), reason: 'cached' };
  } catch (err) {
    return { table: null, reason: `unreadable (${(err && err.message) || err})` };
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
 * Store the table bytes (rowsToBytes of all rows) for n; returns true if stored.  Best effort,
 * bounded (see the header); never throws.
 */
export async function storeTable(n, hs, maxBits, size, data) {
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
    const shape = tableShape(n, maxBits, size);
    const key = await cacheKey(n, hs);
    const digest = await recordDigest(shape, n, hs, data);
    const buffer = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : data.slice().buffer;
    const metas = await request(db.transaction(META_STORE, 'readonly').objectStore(META_STORE).getAll());
    const keys = await request(db.transaction(META_STORE, 'readonly').objectStore(META_STORE).getAllKeys());
    const older = keys.map((k, i) => ({ k, at: (metas[i] && metas[i].savedAt) || 0 }))
      .filter((e) => e.k !== key)
      .sort((a, b) => a.at - b.at);
    const tx = db.transaction([DATA_STORE, META_STORE], 'readwrite');
    for (const e of older.slice(0, Math.max(0, older.length - (MAX_ENTRIES - 1)))) {
      tx.objectStore(DATA_STORE).delete(e.k);
      tx.objectStore(META_STORE).delete(e.k);
    }
    tx.objectStore(DATA_STORE).put({ ...shape, n: n.toString(16), hs: hs.toString(16), digest, data: buffer }, key);
    tx.objectStore(META_STORE).put({ savedAt: Date.now(), bytes: data.byteLength }, key);
    await done(tx);
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}
