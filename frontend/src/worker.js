// Web Worker entry (bundled to ssbcrypto-worker.js): runs precomputation tasks (§5.7) for
// encryptor.js.  Protocol: {type: 'init', n, ctx, seed, sumAlpha} per ballot, then {type: 'task',
// id, task} → {type: 'result', id, result} or {type: 'error', id, message}; {type: 'forget'}
// drops the seed and Σα once the ballot's tasks are done; {type: 'warm', n} builds the table.
// The worker lives as long as the page's pool (encryptor.js) so that its fixed-base table of h_s
// (shortbase.js: public data, derived from n) is built once per election and page; the seed
// lives only from 'init' to 'forget' (§4.4).

import { runTask } from './ballot.js';
import { BallotKdf } from './kdf.js';
import { shortTable } from './shortbase.js';

let ready = null;

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'warm') {
      await shortTable(msg.n);
      self.postMessage({ type: 'warm' });
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
