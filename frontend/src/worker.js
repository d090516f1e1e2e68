// Web Worker entry (bundled to ssbcrypto-worker.js): makes this worker's rows of the fixed-base
// table of h_s and runs the precomputation (§5.7) for encryptor.js.  The work is split by table
// rows (issue 19): worker `part` of `parts` owns rows [r0, r1) of shortbase.js rowRanges(n,
// parts), builds or loads only those, and computes for every power of the ballot the product
// over its own rows; the page multiplies the workers' partials.  No rows travel between workers.
// Messages from the page:
//   {type: 'warm', n, part, parts, cache} — make this worker's rows for n: from the IndexedDB
//     cache (tablecache.js, one entry per range) if it holds a valid entry, else build them.
//     Progress: {type: 'table-progress', done, total}; then {type: 'warm', source: 'cache' |
//     'built', reason, ms, timings, r0, r1}.  Built rows are then stored in the cache once the
//     worker is idle (no powers asked for STORE_IDLE_MS) and {type: 'table-stored', ok} posted.
//   {type: 'powers', n, first, exponents, r0, r1} → {type: 'partials', first, values}: for each
//     exponent e, the product over this worker's rows r0 … r1 − 1 of the entries its bytes pick
//     (FixedBaseTable#partial, of |e|); or {type: 'error', id: 'powers', message}.  The page
//     derives the exponents; a worker never sees the seed (§4.4).
//   {type: 'calibrate', reps} → {type: 'calibrate', ms}: a fixed amount of BigInt work (the
//     benchmark's check that its CPU throttling reaches the workers).
// The worker lives as long as the page's pool (encryptor.js) so that its rows (public data,
// derived from n) are made once per election and page.

import {
  buildRows, entryBytes, FixedBaseTable, installTable, rowRanges, rowsToBytes, rowStart, shortBase, shortTable, tableBits,
} from './shortbase.js';
import { loadRows, storeRows } from './tablecache.js';

function calibrate(reps) {
  const m = (1n << 4096n) - 159n;
  let x = (1n << 4000n) + 12345n;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) x = (x * x) % m;
  return performance.now() - t0;
}

// Storing the rows (hex, digest, IndexedDB write) waits until no powers were asked for
// STORE_IDLE_MS: not during a ballot's precomputation, nor during the cast right after it.
const STORE_IDLE_MS = 1500;
let pendingStore = null;
let storeTimer = null;

function storeWhenIdle() {
  if (!pendingStore) return;
  clearTimeout(storeTimer);
  storeTimer = setTimeout(() => {
    const store = pendingStore;
    pendingStore = null;
    store();
  }, STORE_IDLE_MS);
}

async function warm(msg) {
  const start = performance.now();
  const { n, part = 0, parts = 1, cache = true } = msg;
  let settle;
  const promise = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  installTable(n, promise);
  try {
    const timings = {};
    let t = start;
    const lap = (name) => {
      const now = performance.now();
      timings[name] = Math.round(now - t);
      t = now;
    };
    const hs = await shortBase(n);
    lap('hs');
    const n2 = n * n;
    const maxBits = tableBits(n);
    const size = entryBytes(n2);
    const [r0, r1] = rowRanges(n, parts)[part];
    const first = rowStart(hs, n2, r0);
    lap('start');
    let reason = 'cache not used';
    if (cache) {
      const got = await loadRows(n, hs, maxBits, size, r0, r1, first, timings);
      t = performance.now();
      if (got.rows) {
        settle.resolve(new FixedBaseTable(hs, n2, maxBits, got.rows, r0));
        self.postMessage({ type: 'table-progress', done: r1 - r0, total: r1 - r0 });
        self.postMessage({ type: 'warm', source: 'cache', reason: got.reason, ms: performance.now() - start, timings, r0, r1 });
        return;
      }
      reason = got.reason;
    }
    let built = 0;
    const rows = buildRows(first, n2, 0, r1 - r0, () => {
      built++;
      if (built % 8 === 0) self.postMessage({ type: 'table-progress', done: built, total: r1 - r0 });
    });
    lap('build');
    settle.resolve(new FixedBaseTable(hs, n2, maxBits, rows, r0));
    self.postMessage({ type: 'warm', source: 'built', reason, ms: performance.now() - start, timings, r0, r1 });
    if (cache) {
      pendingStore = () => storeRows(n, hs, maxBits, size, r0, r1, rowsToBytes(rows, size))
        .then((ok) => self.postMessage({ type: 'table-stored', ok }));
      storeWhenIdle();
    }
  } catch (err) {
    settle.reject(err);
    throw err;
  }
}

/** This worker's partials of a batch of exponents (see the header). */
async function powers(msg) {
  const table = await shortTable(msg.n);
  if (table.r0 !== msg.r0 || table.r1 !== msg.r1) throw new Error(`this worker holds rows ${table.r0}–${table.r1}, not ${msg.r0}–${msg.r1}`);
  self.postMessage({ type: 'partials', first: msg.first, values: msg.exponents.map((e) => table.partial(e)) });
  storeWhenIdle();
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'calibrate') {
      self.postMessage({ type: 'calibrate', ms: calibrate(msg.reps) });
    } else if (msg.type === 'warm') {
      await warm(msg);
    } else if (msg.type === 'powers') {
      await powers(msg);
    }
  } catch (err) {
    self.postMessage({ type: 'error', id: msg.type === 'powers' ? 'powers' : msg.id, message: String((err && err.message) || err) });
  }
};
