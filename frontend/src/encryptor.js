// The page-facing ballot encryptor: precompute in Web Workers while the voter reads the
// ballot (§5.7), then finish the ballot within a few hundred milliseconds of "cast".
// Single-use per seed (§4.4): after encrypt(), only a new precompute() (fresh seed) allows
// another encryption.  The seed is handed to the caller as bytes (never as a string, which
// could not be erased): the caller posts it with an audited ballot, or erases it
// (eraseSeed) once a cast ballot was accepted or abandoned (§4.4, §14).

import { bytesToHex } from './bigint.js';
import {
  assemble,
  ballotHash,
  checkContestShape,
  checkContext,
  checkSelections,
  encryptPrecomputed,
  parsePublicKey,
  precomputeInline,
  precomputeTasks,
  sumWitness,
  taskCost,
} from './ballot.js';
import { InvalidInput } from './errors.js';
import { BallotKdf, SEED_BYTES } from './kdf.js';

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
// of h_s (public, built once per election, §5.7), so an audit's re-encryption or a re-vote does
// not rebuild it.  A worker holds a seed only between 'init' and 'forget' (§4.4).
const pools = new Map();

function startWorkers(workerUrl, n, count) {
  const workers = [];
  for (let w = 0; w < count; w++) {
    const worker = new Worker(workerUrl, { name: `ssbcrypto-${w}` });
    worker.postMessage({ type: 'warm', n });
    workers.push(worker);
  }
  return workers;
}

// A pool serves one ballot at a time ('init' replaces a worker's seed); a second encryptor
// running at the same time gets workers of its own, terminated when it is done.
function workerPool(workerUrl, n, count) {
  const key = `${workerUrl}|${n.toString(16)}|${count}`;
  let entry = pools.get(key);
  if (!entry) {
    entry = { workers: startWorkers(workerUrl, n, count), busy: false };
    pools.set(key, entry);
  }
  if (entry.busy) return { key: null, pool: startWorkers(workerUrl, n, count) };
  entry.busy = true;
  return { key, pool: entry.workers };
}

function donePool(key, pool, ok) {
  const entry = key === null ? null : pools.get(key);
  if (entry && entry.workers === pool && ok) {
    entry.busy = false; // kept, with its tables, for the page's next ballot
    return;
  }
  if (entry && entry.workers === pool) pools.delete(key); // a cancelled or failed pool is not reused
  for (const w of pool) w.terminate();
}

/** Start building the fixed-base tables in the workers now (e.g. when the ballot page opens). */
export function warmWorkers({ publicKey, workers = 2, workerUrl = null }) {
  if (typeof Worker === 'undefined' || workers <= 0) return;
  const url = String(workerUrl || defaultWorkerUrl());
  const n = parsePublicKey(publicKey);
  const key = `${url}|${n.toString(16)}|${workers}`;
  if (!pools.has(key)) pools.set(key, { workers: startWorkers(url, n, workers), busy: false });
}

function runWorkers({ n, kdf, seed, sumAlpha, numCandidates, maxSelections, count, workerUrl, onProgress, track }) {
  const tasks = precomputeTasks(numCandidates, maxSelections);
  const totalCost = tasks.reduce((acc, t) => acc + taskCost(t), 0);
  const results = new Array(tasks.length);
  return new Promise((resolve, reject) => {
    let key;
    let pool;
    try {
      ({ key, pool } = workerPool(String(workerUrl), n, count));
    } catch (err) {
      reject(err);
      return;
    }
    let next = 0;
    let finished = 0;
    let doneCost = 0;
    let settled = false;
    const release = () => {
      for (const w of pool) {
        w.onmessage = null;
        w.onerror = null;
        w.postMessage({ type: 'forget' });
      }
      donePool(key, pool, true);
    };
    const fail = (err) => {
      if (settled) return;
      settled = true;
      donePool(key, pool, false);
      reject(err);
    };
    track({ cancel: () => fail(new Error('precomputation cancelled')) });
    const feed = (worker) => {
      if (next < tasks.length) {
        const id = next++;
        worker.postMessage({ type: 'task', id, task: tasks[id] });
      }
    };
    for (const worker of pool) {
      worker.onmessage = (event) => {
        const msg = event.data;
        if (settled || msg.type === 'warm') return;
        if (msg.type === 'error') {
          fail(new Error(`precomputation worker: ${msg.message}`));
          return;
        }
        results[msg.id] = msg.result;
        finished++;
        doneCost += taskCost(tasks[msg.id]);
        if (onProgress) onProgress(doneCost / totalCost);
        if (finished === tasks.length) {
          settled = true;
          release();
          resolve(assemble(n, kdf.ctx, numCandidates, maxSelections, sumAlpha, tasks, results));
        } else {
          feed(worker);
        }
      };
      worker.onerror = (event) => {
        if (event.preventDefault) event.preventDefault();
        fail(new Error(`precomputation worker failed to run (${event.message || 'load error'}) from ${workerUrl}`));
      };
      worker.postMessage({ type: 'init', n, ctx: kdf.ctx, seed, sumAlpha });
      feed(worker); // two tasks in flight per worker: no idle gap between tasks
      feed(worker);
    }
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
        pre = await runWorkers({
          n, kdf, seed, sumAlpha, numCandidates, maxSelections, count: workers,
          workerUrl: workerUrl || defaultWorkerUrl(), onProgress, track: (r) => { running = r; },
        });
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
