// The voter's home page: start preparing the encryption as soon as the voter has signed in
// (the crypto bundle, the worker script and the workers' fixed-base tables: SSBCrypto.warmWorkers),
// and bring a voter whose session ended on the ballot page straight back to it (their choices
// wait in this tab's sessionStorage: ballot-page.js, docs/accounts.md §4).
import { pageData } from './common.js';

const data = pageData('home-data');

let resume = null;
try {
  resume = sessionStorage.getItem('ssbvote-resume');
  if (resume !== null) sessionStorage.removeItem('ssbvote-resume');
} catch (err) { /* storage disabled */ }

if (resume === data.slug) {
  window.location.replace(data.voteUrl);
} else {
  const api = window.SSBCrypto;
  if (api && typeof api.warmWorkers === 'function' && data.electionKey) {
    try {
      api.warmWorkers({
        publicKey: data.electionKey,
        workers: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)),
        workerUrl: data.workerUrl,
      });
      document.getElementById('warmup-status').textContent = data.messages.ready;
      document.body.dataset.warm = 'started';
    } catch (err) { /* the ballot page prepares everything itself */ }
  }
}
