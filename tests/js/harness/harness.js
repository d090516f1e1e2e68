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

window.ssbHarness = { run, modPowBench, violations };
document.getElementById('status').textContent = 'ready';
