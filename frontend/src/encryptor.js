// The page-facing ballot encryptor: precompute in Web Workers while the voter reads the
// ballot (§5.7), then finish the ballot within a few hundred milliseconds of "cast".
// Single-use per seed (§4.4): after encrypt(), only a new precompute() (fresh seed) allows
// another encryption.  The seed is handed to the caller as bytes (never as a string, which
// could not be erased): the caller posts it with an audited ballot, or erases it
// (eraseSeed) once a cast ballot was accepted or abandoned (§4.4, §14).

import { barrettReducer, bytesToHex, modInverse } from './bigint.js';
import {
  assemble,
  ballotHash,
  checkContestShape,
  checkContext,
  checkSelections,
  encryptPrecomputed,
  parsePublicKey,
  POWER_FIELDS,
  precomputeInline,
  precomputeTasks,
  runTask,
  sumWitness,
  taskCost,
} from './ballot.js';
import { InvalidInput } from './errors.js';
import { BallotKdf, SEED_BYTES } from './kdf.js';
import { rowRanges } from './shortbase.js';

function defaultWorkerUrl() {
  // The bundles sit side by side in /static/dist/.
  return new URL('./ssbcrypto-worker.js', import.meta.url);
}

/** Overwrite a seed's bytes with zeros (docs/protocol.md §4.4); null is ignored. */
export function eraseSeed(seed) {
  if (seed instanceof Uint8Array) seed.fill(0);
}

/** The seed as 64 lowercase hex digits: only for an audited ballot, whose seed is published. */
export function seedHex(seed) {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) throw new InvalidInput('seed: expected 32 bytes');
  return bytesToHex(seed);
}

function freshSeed() {
  // The only randomness source of the page (§1.3).
  return globalThis.crypto.getRandomValues(new Uint8Array(SEED_BYTES));
}

// Workers are kept for the page, per (worker URL, n, count): each keeps its fixed-base table
// of h_s (public, made once per election, §5.7), so an audit's re-encryption or a re-vote does
// not rebuild it.  Workers never receive the seed: the page derives the exponents and each
// worker returns, per exponent, the product over its own rows of the table (§4.4, issue 19).
const pools = new Map();

/** How many times a range's worker is replaced after a failure before the pool gives up. */
export const MAX_REPLACEMENTS = 2;

// Pools (url|n|count) that gave up: the page then uses one worker over all rows (fewer workers
// need less memory, the usual reason a worker dies on a phone).
const fallbacks = new Map(); // key → the failure's message

/**
 * A worker that owes an answer (its rows, or partials of a batch) and has posted nothing for this
 * long counts as failed: a worker the browser terminated (e.g. out of memory) sends no event.
 * Workers post table progress every 8 rows and answer each batch within seconds even on a slow
 * phone, so only a stopped worker is this silent.
 */
export const STALL_MS = 30_000;

/** Why a pool gave up (a range's worker failed MAX_REPLACEMENTS + 1 times). */
export class WorkerPoolFailure extends Error {}

/**
 * The failure-recovery rule of a pool, pure (frontend/test/encryptor.test.js): a range whose
 * worker failed `failures` times (this one included) gets a replacement worker while failures ≤
 * MAX_REPLACEMENTS; else the pool gives up ('give-up').
 */
export function onWorkerFailure(failures) {
  return failures <= MAX_REPLACEMENTS ? 'replace' : 'give-up';
}

/**
 * Start `count` workers and have each make its range of the table's rows (worker.js, shortbase.js
 * rowRanges): from the IndexedDB cache or built.  Returns {workers, ranges, ready, listen, task}:
 * `ready` resolves to {source: 'cache' | 'built' | 'mixed', ms, reasons, timings} when every
 * range's worker has its rows; listen(f) reports the table's progress in [0, 1].
 *
 * Recovery (the one mechanism): a worker that fails — its 'error' or 'messageerror' event, or an
 * error reply to any message, or silence for STALL_MS while it owes an answer — is terminated
 * and a new worker is started for the same range
 * (it loads the range from the cache or builds it); the ballot being precomputed (`task`, set by
 * runWorkers) is told so and posts that range's unanswered batches to it again.  After
 * MAX_REPLACEMENTS replacements of one range, `ready` rejects and the task fails with a
 * WorkerPoolFailure; the caller then falls back to one worker over all rows.
 */
function startWorkers(workerUrl, n, count, cache = true) {
  const workers = new Array(count);
  const ranges = rowRanges(n, count);
  const progress = new Array(count).fill(0);
  const listeners = new Set();
  const state = new Array(count).fill('pending'); // → 'warm'
  const sources = new Array(count);
  const reasons = new Array(count);
  const timings = new Array(count);
  const failures = new Array(count).fill(0);
  const errors = new Array(count);
  const timers = new Array(count).fill(null);
  let closed = false;
  const started = typeof performance !== 'undefined' ? performance.now() : Date.now();
  let settled = false;
  let gaveUp = null;
  let settle;
  const ready = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  ready.catch(() => {}); // a failure also reaches the ballot through its task
  const pool = { workers, ranges, ready, task: null };
  const report = () => {
    const p = progress.reduce((acc, x) => acc + x, 0) / count;
    for (const f of listeners) f(p);
  };
  // the silence watchdog of range w's worker: armed while it owes the page an answer
  const watch = (w) => {
    clearTimeout(timers[w]);
    timers[w] = null;
    const owes = state[w] === 'pending' || (pool.task !== null && pool.task.owed(w));
    if (closed || gaveUp || !owes) return;
    const worker = workers[w];
    timers[w] = setTimeout(() => failed(w, worker, `no answer for ${STALL_MS / 1000} s`), STALL_MS);
  };
  const failed = (w, worker, message) => {
    if (workers[w] !== worker || gaveUp || closed) return; // a replaced worker's late events
    clearTimeout(timers[w]);
    worker.terminate();
    failures[w]++;
    errors[w] = message;
    if (onWorkerFailure(failures[w]) === 'replace') {
      spawn(w);
      if (pool.task) pool.task.replaced(w);
      return;
    }
    gaveUp = new WorkerPoolFailure(`precomputation worker for rows ${ranges[w][0]}–${ranges[w][1]} failed `
      + `${failures[w]} times (last: ${message})`);
    if (!settled) {
      settled = true;
      settle.reject(gaveUp);
    }
    timers.forEach(clearTimeout);
    if (pool.task) pool.task.failed(gaveUp);
  };
  const spawn = (w) => {
    const worker = new Worker(workerUrl, { name: `ssbcrypto-${w}` });
    workers[w] = worker;
    progress[w] = state[w] === 'warm' ? 1 : 0;
    worker.addEventListener('message', (event) => {
      if (workers[w] !== worker || closed) return;
      const msg = event.data;
      if (msg.type === 'error') {
        failed(w, worker, msg.message);
        return;
      }
      if (msg.type === 'partials') {
        if (pool.task) pool.task.partials(w, msg);
      } else if (msg.type === 'table-progress' && state[w] === 'pending') {
        progress[w] = msg.total ? msg.done / msg.total : 1;
        report();
      } else if (msg.type === 'warm' && state[w] === 'pending') {
        state[w] = 'warm';
        sources[w] = msg.source;
        reasons[w] = failures[w] ? `${msg.reason}; worker replaced ${failures[w]}× (${errors[w]})` : msg.reason;
        timings[w] = { ...(msg.timings || {}), rows: `${msg.r0}-${msg.r1}`, total: Math.round(msg.ms) };
        if (failures[w]) timings[w].replaced = failures[w];
        progress[w] = 1;
        report();
        if (!settled && state.every((x) => x === 'warm')) {
          settled = true;
          const unique = [...new Set(sources)];
          const ms = (typeof performance !== 'undefined' ? performance.now() : Date.now()) - started;
          settle.resolve({ source: unique.length === 1 ? unique[0] : 'mixed', ms, reasons, timings });
        }
      }
      watch(w); // heard from: the silence counts from now, if it still owes an answer
    });
    worker.addEventListener('error', (event) => {
      if (event.preventDefault) event.preventDefault();
      failed(w, worker, `failed to run (${event.message || 'load error'}) from ${workerUrl}`);
    });
    worker.addEventListener('messageerror', () => failed(w, worker, 'a message could not be read'));
    worker.postMessage({ type: 'warm', n, part: w, parts: count, cache });
    watch(w);
  };
  for (let w = 0; w < count; w++) spawn(w);
  /** Post a message that range w's worker owes an answer to (a batch of powers). */
  pool.post = (w, msg) => {
    workers[w].postMessage(msg);
    if (timers[w] === null) watch(w);
  };
  /** Stop the pool: terminate its workers, no more replacements. */
  pool.close = () => {
    closed = true;
    timers.forEach(clearTimeout);
    for (const worker of workers) worker.terminate();
  };
  pool.listen = (f) => listeners.add(f);
  pool.unlisten = (f) => listeners.delete(f);
  return pool;
}

function poolKey(workerUrl, n, count) {
  return `${workerUrl}|${n.toString(16)}|${count}`;
}

/** The worker count to use: `count`, or 1 once a pool of `count` workers gave up. */
function poolCount(workerUrl, n, count) {
  return fallbacks.has(poolKey(workerUrl, n, count)) ? 1 : count;
}

// A pool serves one ballot at a time; a second encryptor
// running at the same time gets workers of its own, terminated when it is done.
function workerPool(workerUrl, n, count) {
  const key = poolKey(workerUrl, n, count);
  let entry = pools.get(key);
  if (!entry) {
    entry = startWorkers(workerUrl, n, count);
    entry.busy = false;
    pools.set(key, entry);
  }
  if (entry.busy) {
    const own = startWorkers(workerUrl, n, count);
    own.busy = true;
    return { key: null, entry: own };
  }
  entry.busy = true;
  return { key, entry };
}

function donePool(key, pool, ok) {
  const entry = key === null ? null : pools.get(key);
  if (entry === pool && ok) {
    entry.busy = false; // kept, with its tables, for the page's next ballot
    return;
  }
  if (entry === pool) pools.delete(key); // a cancelled or failed pool is not reused
  pool.close();
}

/** Remember that the pool of `count` workers gave up: later ballots of the page use one worker. */
function giveUpPool(workerUrl, n, count, err) {
  const key = poolKey(workerUrl, n, count);
  fallbacks.set(key, err.message);
  const entry = pools.get(key);
  if (entry && !entry.busy) {
    pools.delete(key);
    entry.close();
  }
}

/**
 * Start making the fixed-base tables in the workers now (e.g. right after sign-in, or when the
 * ballot page opens), from the IndexedDB cache when it holds them.  Returns a Promise of
 * {source: 'cache' | 'built' | 'mixed', ms} once every worker has its table (undefined without
 * Worker support; `reasons`: per worker, why the cache was or was not used, and whether its
 * worker was replaced after a failure; after a pool gave up, one worker's, with the fallback
 * said); onProgress(fraction) reports the table's progress.
 */
export function warmWorkers({ publicKey, workers = 2, workerUrl = null, onProgress = null }) {
  if (typeof Worker === 'undefined' || workers <= 0) return undefined;
  const url = String(workerUrl || defaultWorkerUrl());
  const n = parsePublicKey(publicKey);
  const count = poolCount(url, n, workers);
  const key = poolKey(url, n, count);
  let entry = pools.get(key);
  if (!entry) {
    entry = startWorkers(url, n, count);
    entry.busy = false;
    pools.set(key, entry);
  }
  if (onProgress) {
    entry.listen(onProgress);
    entry.ready.then(() => {
      entry.unlisten(onProgress);
      onProgress(1);
    }, () => entry.unlisten(onProgress));
  }
  const fellBack = (result) => {
    const why = fallbacks.get(poolKey(url, n, workers));
    return count < workers && why ? { ...result, reasons: result.reasons.map((r) => `${r}; one worker after: ${why}`) } : result;
  };
  return entry.ready.then(fellBack, (err) => {
    if (!(err instanceof WorkerPoolFailure) || count === 1) throw err;
    giveUpPool(url, n, count, err);
    return warmWorkers({ publicKey, workers, workerUrl: url, onProgress });
  });
}

/** Share of the progress bar for making the table when a ballot starts before it is ready. */
const TABLE_SHARE = 0.3;

function runWorkers({ n, kdf, sumAlpha, numCandidates, maxSelections, count, workerUrl, onProgress, track }) {
  const tasks = precomputeTasks(numCandidates, maxSelections);
  const totalCost = tasks.reduce((acc, t) => acc + taskCost(t), 0);
  const results = new Array(tasks.length);
  const n2 = n * n;
  const red = barrettReducer(n2);
  return new Promise((resolve, reject) => {
    let key;
    let entry;
    try {
      ({ key, entry } = workerPool(String(workerUrl), n, count));
    } catch (err) {
      reject(err);
      return;
    }
    // Progress: while the table is still being made, it counts for TABLE_SHARE of the bar.
    let tableShare = 0;
    let tableProgress = 1;
    let shown = 0;
    const show = () => {
      const p = tableShare * tableProgress + (1 - tableShare) * (doneCost / totalCost);
      if (onProgress && p > shown && p < 1) {
        shown = p;
        onProgress(p);
      }
    };
    const onTable = (p) => {
      tableProgress = p;
      show();
    };
    let tableDone = false;
    entry.ready.then(() => {
      tableDone = true;
    }, (err) => fail(err));
    Promise.resolve().then(() => {
      if (tableDone || settled) return;
      tableShare = TABLE_SHARE;
      tableProgress = 0;
      entry.listen(onTable);
    });
    // The page derives every task's values from the seed (runTask with a power that records its
    // exponent; HKDF is cheap) and streams the exponents to every worker in batches: a worker
    // never holds the seed (§4.4), and derives nothing twice.  Worker w answers each batch with
    // its partials (the products over its rows); an exponent is done when every worker's
    // partial is in: h_s^e is their product (the inverse for e < 0).
    const slots = []; // per exponent: {id, field, negative}
    const partials = []; // per exponent: the product of the partials received so far
    const received = []; // per exponent: how many workers answered
    const pendingPowers = tasks.map(() => 0);
    let finished = 0;
    let doneCost = 0;
    let settled = false;
    // per range: the batches posted to its worker and not answered yet (first → message), posted
    // again to a replacement worker of the range (startWorkers)
    const unanswered = entry.ranges.map(() => new Map());
    const release = () => {
      entry.unlisten(onTable);
      entry.task = null;
      donePool(key, entry, true);
    };
    const fail = (err) => {
      if (settled) return;
      settled = true;
      entry.unlisten(onTable);
      entry.task = null;
      donePool(key, entry, false);
      reject(err);
    };
    track({ cancel: () => fail(new Error('precomputation cancelled')) });
    const accept = (first, values) => {
      values.forEach((v, i) => {
        const k = first + i;
        partials[k] = partials[k] === 1n ? v : v === 1n ? partials[k] : red(partials[k] * v);
        if (++received[k] < count) return;
        const { id, field, negative } = slots[k];
        results[id][field] = negative ? modInverse(partials[k], n2) : partials[k];
        partials[k] = null;
        if (--pendingPowers[id] === 0) {
          finished++;
          doneCost += taskCost(tasks[id]);
        }
      });
      show();
      if (finished === tasks.length && !settled) {
        settled = true;
        release();
        resolve(assemble(n, kdf.ctx, numCandidates, maxSelections, sumAlpha, tasks, results));
      }
    };
    entry.task = {
      partials: (w, msg) => {
        if (settled || !unanswered[w].delete(msg.first)) return;
        accept(msg.first, msg.values);
      },
      replaced: (w) => {
        if (settled) return;
        for (const batch of unanswered[w].values()) entry.post(w, batch);
      },
      owed: (w) => !settled && unanswered[w].size > 0,
      failed: fail,
    };
    (async () => {
      // small first batch (the workers start at once), then larger ones; the derivations of a
      // batch are in flight together (each is an asynchronous WebCrypto call)
      for (let t0 = 0, size = 4; t0 < tasks.length && !settled; t0 += size, size = 24) {
        const first = slots.length;
        const exponents = [];
        const batch = [];
        for (let id = t0; id < Math.min(tasks.length, t0 + size); id++) batch.push(id);
        const derived = await Promise.all(batch.map((id) => {
          const found = [];
          return runTask(kdf, sumAlpha, tasks[id], (e) => {
            found.push(e);
            return null;
          }).then((values) => ({ id, values, found }));
        }));
        if (settled) return;
        for (const { id, values, found } of derived) {
          const fields = POWER_FIELDS[tasks[id].kind];
          results[id] = values;
          found.forEach((e, k) => {
            slots.push({ id, field: fields[k], negative: e < 0n });
            partials.push(1n);
            received.push(0);
            exponents.push(e);
          });
          pendingPowers[id] = fields.length;
        }
        entry.ranges.forEach(([r0, r1], w) => {
          const batch = { type: 'powers', n, first, exponents, r0, r1 };
          unanswered[w].set(first, batch);
          entry.post(w, batch);
        });
      }
    })().catch(fail);
  });
}

/**
 * createBallotEncryptor({publicKey: {n}, electionId, contestId, pseudonym, numCandidates,
 *   maxSelections, workers = 2, onProgress, workerUrl})
 * → {precompute(): Promise<void>, encrypt(selections): Promise<{ballot, ballotHash, seed}>,
 *    cancel(), state}
 *
 * `seed` is the 32-byte Uint8Array that made the ballot; this encryptor keeps no reference to
 * it.  precompute() again, or cancel(), zeroes the seed of a precomputation not yet used.
 *
 * workers = 0 (or no Worker support, e.g. Node) computes on the calling thread.
 */
export function createBallotEncryptor({
  publicKey, electionId, contestId, pseudonym, numCandidates, maxSelections,
  workers = 2, onProgress = null, workerUrl = null,
}) {
  const n = parsePublicKey(publicKey);
  const params = { electionId, contestId, pseudonym };
  checkContext(params);
  checkContestShape(numCandidates, maxSelections);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new InvalidInput('workers: expected 0..64');

  let state = 'new'; // new → precomputing → ready → used (→ precomputing again for a re-vote)
  let pre = null;
  let seed = null;
  let running = null;

  async function precompute() {
    if (state === 'precomputing') throw new Error('precompute() is already running');
    state = 'precomputing';
    dropUnused();
    seed = freshSeed();
    try {
      const kdf = await BallotKdf.create(n, electionId, contestId, pseudonym, seed);
      if (onProgress) onProgress(0);
      if (workers > 0 && typeof Worker !== 'undefined') {
        const sumAlpha = await sumWitness(kdf, numCandidates);
        const url = String(workerUrl || defaultWorkerUrl());
        const run = (count) => runWorkers({
          n, kdf, sumAlpha, numCandidates, maxSelections, count, workerUrl: url, onProgress, track: (r) => { running = r; },
        });
        const count = poolCount(url, n, workers);
        try {
          pre = await run(count);
        } catch (err) {
          // a range's worker failed again and again: once more with one worker over all rows
          // (the same exponents from the same seed, so the same ballot)
          if (!(err instanceof WorkerPoolFailure) || count === 1) throw err;
          giveUpPool(url, n, count, err);
          pre = await run(1);
        }
      } else {
        pre = await precomputeInline(n, kdf, numCandidates, maxSelections, onProgress);
      }
      state = 'ready';
      if (onProgress) onProgress(1);
    } catch (err) {
      state = 'new';
      dropUnused();
      throw err;
    } finally {
      running = null;
    }
  }

  async function encrypt(selections) {
    if (state === 'used') {
      throw new InvalidInput('encryptor already used: a seed must never encrypt twice (§4.4); call precompute() again');
    }
    if (state !== 'ready') throw new InvalidInput('encrypt() before precompute() finished');
    checkSelections(selections, numCandidates, maxSelections); // a refused choice does not use up the seed
    state = 'used';
    const p = pre;
    const mine = seed;
    pre = null;
    seed = null;
    try {
      const ballot = await encryptPrecomputed(params, p, selections);
      return { ballot, ballotHash: await ballotHash(ballot), seed: mine };
    } catch (err) {
      eraseSeed(mine);
      throw err;
    }
  }

  /** Forget a precomputation that was not used: zero its seed, drop its values. */
  function dropUnused() {
    eraseSeed(seed);
    seed = null;
    pre = null;
  }

  function cancel() {
    if (running) running.cancel();
    if (state === 'ready') {
      dropUnused();
      state = 'new';
    }
  }

  return {
    precompute,
    encrypt,
    cancel,
    get state() {
      return state;
    },
  };
}
