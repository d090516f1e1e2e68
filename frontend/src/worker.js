// Web Worker entry (bundled to ssbcrypto-worker.js): runs precomputation tasks (§5.7) for
// encryptor.js.  Protocol: {type: 'init', n, ctx, seed, sumR} once, then {type: 'task', id,
// task} → {type: 'result', id, result} or {type: 'error', id, message}.  Values are BigInts
// and Uint8Arrays (structured clone); the seed lives only until the page terminates us.

import { runTask } from './ballot.js';
import { BallotKdf } from './kdf.js';

let ready = null;

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'init') {
      ready = BallotKdf.fromContext(msg.n, msg.ctx, msg.seed).then((kdf) => ({ kdf, sumR: msg.sumR }));
      await ready;
    } else if (msg.type === 'task') {
      if (!ready) throw new Error('worker used before init');
      const { kdf, sumR } = await ready;
      self.postMessage({ type: 'result', id: msg.id, result: await runTask(kdf, sumR, msg.task) });
    }
  } catch (err) {
    self.postMessage({ type: 'error', id: msg.id, message: String((err && err.message) || err) });
  }
};
