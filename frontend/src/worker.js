// Web Worker entry (bundled to ssbcrypto-worker.js): makes this worker's rows of the fixed-base
// table of h_s and runs the precomputation (§5.7) for encryptor.js.  The work is split by table
// rows (issue 19): worker `part` of `parts` owns rows [r0, r1) of shortbase.js rowRanges(n,
// parts), builds or loads only those, and computes for every power of the ballot the product
// over its own rows; the page multiplies the workers' partials.  No rows travel between workers.
// Messages from the page:
//   {type: 'warm', n, part, parts, cache} — make this worker's rows for n: from the IndexedDB
//     cache (tablecache.js, one entry per range) if it holds a valid entry, else build them.
//     Progress: {type: 'table-progress', done, total}; then {type: 'warm', source: 'cache' |
//     'built', reason, ms, timings, r0, r1}.  Built rows are then stored in the cache and
//     {type: 'table-stored', ok} posted.
//   {type: 'init', n, ctx, seed, sumAlpha} per ballot, then {type: 'run', tasks, values, r0, r1} →
//     {type: 'partials', results: [{id, result, signs}, …]} in batches (result: the task's values
//     if `values`, and its powers as this worker's partials; signs: whether each power's exponent
//     is negative), or {type: 'error', id, message}; {type: 'forget'} drops the seed and Σα once
//     the ballot's tasks are done.  An error of 'run' has id 'run'.
//   {type: 'calibrate', reps} → {type: 'calibrate', ms}: a fixed amount of BigInt work (the
//     benchmark's check that its CPU throttling reaches the workers).
// The worker lives as long as the page's pool (encryptor.js) so that its rows (public data,
// derived from n) are made once per election and page; the seed lives only from 'init' to
// 'forget' (§4.4).

import { POWER_FIELDS, runTask } from './ballot.js';
import { BallotKdf } from './kdf.js';
import {
  buildRows, entryBytes, FixedBaseTable, installTable, rowRanges, rowsToBytes, rowStart, shortBase, shortTable, tableBits,
} from './shortbase.js';
import { loadRows, storeRows } from './tablecache.js';

let ready = null;
let runId = 0;

function calibrate(reps) {
  const m = (1n << 4096n) - 159n;
  let x = (1n << 4000n) + 12345n;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) x = (x * x) % m;
  return performance.now() - t0;
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
      // after the ballot's tasks have had their turn: storing is not on the voter's path
      setTimeout(() => {
        storeRows(n, hs, maxBits, size, r0, r1, rowsToBytes(rows, size)).then((ok) => self.postMessage({ type: 'table-stored', ok }));
      }, 0);
    }
  } catch (err) {
    settle.reject(err);
    throw err;
  }
}

/** Every task over this worker's rows; results posted in batches (progress on the page). */
async function run(msg) {
  const id = ++runId;
  const { kdf, sumAlpha } = await ready;
  const table = await shortTable(kdf.n);
  if (table.r0 !== msg.r0 || table.r1 !== msg.r1) throw new Error(`this worker holds rows ${table.r0}–${table.r1}, not ${msg.r0}–${msg.r1}`);
  const batch = [];
  let last = performance.now();
  for (let i = 0; i < msg.tasks.length; i++) {
    if (id !== runId || !ready) return; // forgotten or replaced
    const task = msg.tasks[i];
    const signs = [];
    const result = await runTask(kdf, sumAlpha, task, (e) => {
      signs.push(e < 0n);
      return table.partial(e);
    });
    if (!msg.values) for (const key of Object.keys(result)) if (!POWER_FIELDS[task.kind].includes(key)) delete result[key];
    batch.push({ id: i, result, signs });
    const now = performance.now();
    if (now - last > 50 || i === msg.tasks.length - 1) {
      self.postMessage({ type: 'partials', results: batch.splice(0) });
      last = now;
    }
  }
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'calibrate') {
      self.postMessage({ type: 'calibrate', ms: calibrate(msg.reps) });
    } else if (msg.type === 'warm') {
      await warm(msg);
    } else if (msg.type === 'init') {
      ready = BallotKdf.fromContext(msg.n, msg.ctx, msg.seed).then((kdf) => ({ kdf, sumAlpha: msg.sumAlpha }));
      try {
        await ready;
      } finally {
        msg.seed.fill(0); // this worker's copy: the HKDF key holds what it needs until 'forget' (§4.4)
      }
    } else if (msg.type === 'forget') {
      ready = null;
    } else if (msg.type === 'run') {
      if (!ready) throw new Error('worker used before init');
      await run(msg);
    }
  } catch (err) {
    self.postMessage({ type: 'error', id: msg.type === 'run' ? 'run' : msg.id, message: String((err && err.message) || err) });
  }
};
