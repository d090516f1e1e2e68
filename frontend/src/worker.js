// Web Worker entry (bundled to ssbcrypto-worker.js): builds or loads the fixed-base table of h_s
// and runs precomputation tasks (§5.7) for encryptor.js.  Messages from the page:
//   {type: 'warm', n, part, parts, cache} — make this worker's table for n: from the IndexedDB
//     cache (tablecache.js) if it holds a valid one, else build rows of share `part` of `parts`
//     and post them ({type: 'table-part', part, r0, r1, bytes}: a transferred ArrayBuffer); the
//     page answers {type: 'table-parts', parts: [...]} with the other workers' rows (rows nobody
//     sent are built here).  Progress: {type: 'table-progress', done, total}; then
//     {type: 'warm', source: 'cache' | 'built', reason, ms}.  Worker 0 stores a built table in
//     the cache and then posts {type: 'table-stored', ok}.
//   {type: 'init', n, ctx, seed, sumAlpha} per ballot, then {type: 'task', id, task} →
//     {type: 'result', id, result} or {type: 'error', id, message}; {type: 'forget'} drops the
//     seed and Σα once the ballot's tasks are done.
//   {type: 'calibrate', reps} → {type: 'calibrate', ms}: a fixed amount of BigInt work (the
//     benchmark's check that its CPU throttling reaches the workers).
// The worker lives as long as the page's pool (encryptor.js) so that its table (public data,
// derived from n) is made once per election and page; the seed lives only from 'init' to
// 'forget' (§4.4).

import { runTask } from './ballot.js';
import { BallotKdf } from './kdf.js';
import {
  buildRows, bytesToRows, entryBytes, FixedBaseTable, installTable, ROW_ENTRIES, rowsToBytes, shortBase, storedEntryBytes,
  tableBits, tableRows,
} from './shortbase.js';
import { loadTable, storeTable } from './tablecache.js';

let ready = null;
let pending = null; // a table waiting for the other workers' rows

function calibrate(reps) {
  const m = (1n << 4096n) - 159n;
  let x = (1n << 4000n) + 12345n;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) x = (x * x) % m;
  return performance.now() - t0;
}

/** Share `part` of `parts` of the rows 0 … count−1 (contiguous ranges). */
function partRange(count, part, parts) {
  return [Math.floor((count * part) / parts), Math.floor((count * (part + 1)) / parts)];
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
    const hs = await shortBase(n);
    timings.hs = Math.round(performance.now() - start);
    const n2 = n * n;
    const maxBits = tableBits(n);
    const count = tableRows(n);
    const size = entryBytes(n2);
    let reason = 'cache not used';
    if (cache) {
      const got = await loadTable(n, hs, maxBits, size, timings);
      if (got.table) {
        settle.resolve(got.table);
        self.postMessage({ type: 'table-progress', done: count, total: count });
        self.postMessage({ type: 'warm', source: 'cache', reason: got.reason, ms: performance.now() - start, timings });
        return;
      }
      reason = got.reason;
    }
    const [r0, r1] = partRange(count, part, parts);
    let built = 0;
    const own = buildRows(hs, n2, r0, r1, () => {
      built++;
      if (built % 8 === 0) self.postMessage({ type: 'table-progress', done: built, total: r1 - r0 });
    });
    let t = performance.now();
    const lap = (name) => {
      const now = performance.now();
      timings[name] = Math.round(now - t);
      t = now;
    };
    timings.build = Math.round(t - start - timings.hs - (timings.open || 0) - (timings.read || 0));
    const rows = new Array(count);
    own.forEach((row, i) => {
      rows[r0 + i] = row;
    });
    const job = { timings, lap, n, hs, n2, maxBits, count, size, rows, settle, start, reason, cache, store: cache && part === 0, ownBytes: null };
    if (parts === 1) {
      finish(job);
      return;
    }
    const bytes = rowsToBytes(own, size);
    lap('serialize');
    if (job.store) job.ownBytes = { r0, r1, bytes };
    const sent = job.store ? bytes.slice() : bytes; // worker 0 keeps its own copy for the cache
    pending = job;
    self.postMessage({ type: 'table-part', part, r0, r1, bytes: sent.buffer }, [sent.buffer]);
  } catch (err) {
    settle.reject(err);
    throw err;
  }
}

function receiveParts(msg) {
  const job = pending;
  if (!job) return;
  pending = null;
  try {
    job.lap('wait');
    const received = [];
    for (const p of msg.parts) {
      const bytes = new Uint8Array(p.bytes);
      bytesToRows(bytes, job.size, p.r1 - p.r0).forEach((row, i) => {
        job.rows[p.r0 + i] = row;
      });
      received.push({ r0: p.r0, r1: p.r1, bytes });
    }
    // Rows nobody sent (a worker failed or answered from the cache): build them here.
    for (let t = 0; t < job.count; t++) {
      if (job.rows[t]) continue;
      let t1 = t;
      while (t1 < job.count && !job.rows[t1]) t1++;
      buildRows(job.hs, job.n2, t, t1).forEach((row, i) => {
        job.rows[t + i] = row;
      });
      job.store = false; // only rows that went through the parallel path are stored
    }
    job.received = received;
    job.lap('parse');
    finish(job);
  } catch (err) {
    job.settle.reject(err);
    self.postMessage({ type: 'error', message: String((err && err.message) || err) });
  }
}

function finish(job) {
  const table = new FixedBaseTable(job.hs, job.n2, job.maxBits, job.rows);
  job.settle.resolve(table);
  self.postMessage({ type: 'warm', source: 'built', reason: job.reason, ms: performance.now() - job.start, timings: job.timings });
  if (!job.store) return;
  let data;
  if (job.ownBytes) {
    data = new Uint8Array(job.count * ROW_ENTRIES * storedEntryBytes(job.size));
    const rowBytes = data.length / job.count;
    for (const p of [job.ownBytes, ...job.received]) data.set(p.bytes, p.r0 * rowBytes);
  } else {
    data = rowsToBytes(job.rows, job.size);
  }
  storeTable(job.n, job.hs, job.maxBits, job.size, data).then((ok) => self.postMessage({ type: 'table-stored', ok }));
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'calibrate') {
      self.postMessage({ type: 'calibrate', ms: calibrate(msg.reps) });
    } else if (msg.type === 'warm') {
      await warm(msg);
    } else if (msg.type === 'table-parts') {
      receiveParts(msg);
    } else if (msg.type === 'init') {
      ready = BallotKdf.fromContext(msg.n, msg.ctx, msg.seed).then((kdf) => ({ kdf, sumAlpha: msg.sumAlpha }));
      try {
        await ready;
      } finally {
        msg.seed.fill(0); // this worker's copy: the HKDF key holds what it needs until 'forget' (§4.4)
      }
    } else if (msg.type === 'forget') {
      ready = null;
    } else if (msg.type === 'task') {
      if (!ready) throw new Error('worker used before init');
      const { kdf, sumAlpha } = await ready;
      self.postMessage({ type: 'result', id: msg.id, result: await runTask(kdf, sumAlpha, msg.task) });
    }
  } catch (err) {
    self.postMessage({ type: 'error', id: msg.id, message: String((err && err.message) || err) });
  }
};
