// The observer page (docs/record.md §3.2–§3.4): check the latest checkpoint's signature here,
// in the browser.  The board key is taken from the opening, and the opening must be signed by
// the credential authority's key the server was configured with (record.md §2.0); the
// checkpoint must name this election and the opening's hash.
import { pageData } from './common.js';

const page = pageData('observer-data');
const M = page.messages;
const d = JSON.parse(page.data);

function show(state, text) {
  const box = document.getElementById('checkpoint');
  const status = document.getElementById('signature-status');
  box.dataset.state = state;
  status.textContent = text;
  status.className = state === 'ok' ? 'verify-ok' : 'verify-bad';
}

async function check() {
  if (!d.checkpoint) {
    document.getElementById('checkpoint').dataset.state = 'none';
    return;
  }
  const api = window.SSBCrypto;
  if (!api || !window.crypto || !crypto.subtle) { show('failed', M.noSupport); return; }
  const C = api.credential;
  const opening = d.opening;
  if (!opening || !d.ca_key || !C.verifySignedObject(opening, d.ca_key)
      || opening.type !== 'ssbvote-opening' || opening.election_id !== d.election_id
      || opening.ca_key !== d.ca_key) {
    show('failed', M.noOpening);
    return;
  }
  const openingHash = await api.hazmat.objectHash(opening);
  const cp = d.checkpoint;
  const ok = cp.type === 'ssbvote-checkpoint' && cp.election_id === d.election_id
    && cp.opening === openingHash && C.verifySignedObject(cp, opening.board_key);
  show(ok ? 'ok' : 'failed', ok ? M.ok : M.bad);
}

check().catch(() => show('failed', M.noSupport));
