// Test/benchmark harness page script (tests/js/test_browser_worker.py,
// benchmarks/browser_encrypt_bench.py).  Exposes window.ssbHarness for Playwright.
// The bundle ran before us (module scripts execute in document order) and, if its SRI hash
// matched, left the API on window.SSBCrypto.
const { createBallotEncryptor, hazmat } = window.SSBCrypto;

const workerUrl = document.documentElement.dataset.workerUrl;
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));

async function run(params) {
  const progress = [];
  const bar = document.getElementById('progress');
  const { useDefaultWorkerUrl, ...options } = params;
  const enc = createBallotEncryptor({
    ...options,
    // Default: the worker next to the bundle (new URL('./ssbcrypto-worker.js', import.meta.url)).
    workerUrl: useDefaultWorkerUrl ? null : workerUrl,
    onProgress: (p) => {
      progress.push(p);
      bar.value = p;
    },
  });
  const t0 = performance.now();
  await enc.precompute();
  const t1 = performance.now();
  const out = await enc.encrypt(params.selections); // the part after "cast"
  const t2 = performance.now();
  let secondEncryptError = null;
  try {
    await enc.encrypt(params.selections);
  } catch (err) {
    secondEncryptError = `${err.name}: ${err.message}`;
  }
  // The encryptor hands the seed over as bytes (docs/protocol.md §4.4); tests want it as hex.
  const { seed, ...rest } = out;
  return { ...rest, seedHex: window.SSBCrypto.seedHex(seed), precomputeMs: t1 - t0, encryptMs: t2 - t1, progress, secondEncryptError, violations };
}

function modPowBench(nHex, reps) {
  const n = BigInt('0x' + nHex);
  const n2 = n * n;
  let x = (n * 0x1234567n + 987654321n) % n2;
  hazmat.modPow(x, n, n2); // warm up
  let best = Infinity; // the minimum: the least disturbed run on a shared machine
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    x = hazmat.modPow(x, n, n2);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** SSBCrypto.warmWorkers (the sign-in warm-up), with its progress values. */
async function warm(params) {
  const progress = [];
  const t0 = performance.now();
  const result = await window.SSBCrypto.warmWorkers({ ...params, workerUrl, onProgress: (p) => progress.push(p) });
  return { ...result, progress, wallMs: performance.now() - t0 };
}

/** The fixed BigInt loop of the worker, in `count` fresh workers at once (CPU throttle check). */
async function calibrate(count, reps) {
  await calibrateStart(count);
  return calibrateRun(reps);
}

// The benchmark's throttle check in two steps: start the workers (a tiny loop: their threads
// exist and have run), let the benchmark move their threads into the throttling cgroups, then
// time the loop in those same workers.
let calibrationWorkers = [];

function calibrateIn(workers, reps) {
  return Promise.all(workers.map((w) => new Promise((resolve) => {
    w.onmessage = (e) => resolve(e.data.ms);
    w.postMessage({ type: 'calibrate', reps });
  })));
}

async function calibrateStart(count) {
  calibrationWorkers.forEach((w) => w.terminate());
  calibrationWorkers = Array.from({ length: count }, () => new Worker(workerUrl));
  await calibrateIn(calibrationWorkers, 10);
  return count;
}

async function calibrateRun(reps) {
  const times = await calibrateIn(calibrationWorkers, reps);
  calibrationWorkers.forEach((w) => w.terminate());
  calibrationWorkers = [];
  return times;
}

// The table cache (frontend/src/tablecache.js), read and damaged directly for the tests.
function idb(run) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('ssbvote-tables', 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore('tables');
      req.result.createObjectStore('meta');
    };
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      Promise.resolve(run(db)).then((v) => {
        db.close();
        resolve(v);
      }, (err) => {
        db.close();
        reject(err);
      });
    };
  });
}

function idbRequest(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function cacheKeys() {
  return idb((db) => idbRequest(db.transaction('meta').objectStore('meta').getAllKeys()));
}

function clearCache() {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase('ssbvote-tables');
    req.onsuccess = req.onerror = req.onblocked = () => resolve(true);
  });
}

/**
 * Damage every cached range of the table (one entry per worker): 'byte' flips one byte of an entry (digest mismatch), 'shape' changes
 * the stored window, 'hs' claims another short base, 'truncate' drops the last entry,
 * 'resigned' changes the start of the range's 6th row (row r0 + 5) and recomputes the digest as tablecache.js does (only
 * the algebraic checks can catch it).
 */
async function corruptCache(mode) {
  return idb(async (db) => {
    const keys = await idbRequest(db.transaction('tables').objectStore('tables').getAllKeys());
    for (const key of keys) {
      const rec = await idbRequest(db.transaction('tables').objectStore('tables').get(key));
      if (mode === 'byte') {
        const bytes = new Uint8Array(rec.data); // hex digits: swap one for another digit
        const i = bytes.length >> 1;
        bytes[i] = bytes[i] === 0x30 ? 0x31 : 0x30;
      } else if (mode === 'shape') {
        rec.window = 7;
      } else if (mode === 'hs') {
        rec.hs = (BigInt('0x' + rec.hs) + 1n).toString(16);
      } else if (mode === 'resigned') {
        const bytes = new Uint8Array(rec.data);
        const i = (5 * 255 + 1) * 2 * rec.entryBytes - 1; // the last hex digit of row 5's first entry
        bytes[i] = bytes[i] === 0x30 ? 0x31 : 0x30;
        const { lpEncode, sha256, bytesToHex } = hazmat;
        rec.digest = bytesToHex(await sha256(lpEncode(
          'ssb-vote/v3/table-cache', rec.format, rec.window, rec.maxBits, rec.r0, rec.r1, rec.rows, rec.entryBytes,
          BigInt('0x' + rec.n), BigInt('0x' + rec.hs), await sha256(bytes),
        )));
      } else if (mode === 'truncate') {
        rec.data = rec.data.slice(0, rec.data.byteLength - 2 * rec.entryBytes);
      }
      const tx = db.transaction('tables', 'readwrite');
      tx.objectStore('tables').put(rec, key);
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
    }
    return keys.length;
  });
}

// Test-only failure injection (test_browser_worker_recovery.py): the next `count` workers of
// the bundle are started from harness/faulty-worker.js?fail=<mode> (the real worker made to
// fail), or, for mode 'terminate', are terminated by this page after their first table
// progress (mid-build, as the browser ends a worker out of memory: no event reaches the page).
// This page only: the app's pages construct the real Worker.
const RealWorker = window.Worker;
const failing = { count: 0, mode: null, started: 0 };
window.Worker = class extends RealWorker {
  constructor(url, options) {
    let script = url;
    let terminate = false;
    if (String(url).includes('ssbcrypto-worker')) {
      failing.started++;
      if (failing.count > 0) {
        failing.count--;
        terminate = failing.mode === 'terminate';
        if (!terminate) script = `/harness/faulty-worker.js?fail=${failing.mode}`;
      }
    }
    super(script, options);
    if (terminate) {
      const midBuild = (event) => {
        if (event.data.type !== 'table-progress') return;
        this.removeEventListener('message', midBuild);
        this.terminate();
      };
      this.addEventListener('message', midBuild);
    }
  }
};

function failWorkers(count, mode) {
  failing.count = count;
  failing.mode = mode;
  failing.started = 0;
  return true;
}

function workersStarted() {
  return failing.started;
}

window.ssbHarness = {
  failWorkers,
  workersStarted,
  run, modPowBench, violations, warm, calibrate, calibrateStart, calibrateRun, cacheKeys, clearCache, corruptCache,
};
document.getElementById('status').textContent = 'ready';
