// The receipt page: check the signed receipt on this device, and draw the tracker as a QR code
// (docs/record.md §2.5; docs/protocol.md §14.5).
//
// The check (docs/record.md §2.0, §2.5): the opening object must be signed by the credential
// authority's key the server was configured with; the receipt must be signed by the board key
// that opening pins, name that opening, this voter's pseudonym and credential; and its ballot
// hash must be the hash of the ballot this tab encrypted (kept by the ballot page in
// sessionStorage; on another device that comparison is not possible, and the page says so).
import { ballotHashKey, pageData } from './common.js';

const data = pageData('receipt-data');
const M = data.messages;

function line(list, ok, text) {
  const li = document.createElement('li');
  li.className = ok === true ? 'check-ok' : (ok === false ? 'check-bad' : 'check-none');
  const mark = document.createElement('span');
  mark.className = 'check-mark';
  mark.setAttribute('aria-hidden', 'true');
  mark.textContent = ok === true ? '✓' : (ok === false ? '✗' : '–');
  const words = document.createElement('span');
  words.textContent = ` ${text}`;
  li.append(mark, words);
  list.append(li);
}

async function verifyReceipt() {
  const box = document.getElementById('receipt-verify');
  const result = document.getElementById('verify-result');
  const list = document.getElementById('verify-details');
  const receipt = data.receipt;
  const api = window.SSBCrypto;
  const finish = (state, text) => {
    box.dataset.state = state;
    result.textContent = text;
    result.className = state === 'ok' ? 'verify-ok' : (state === 'failed' ? 'verify-bad' : 'verify-partial');
  };
  if (!api || !window.crypto || !crypto.subtle) {
    finish('failed', M.noSupport);
    return;
  }
  let context;
  try {
    const res = await fetch(data.contextUrl, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(String(res.status));
    context = await res.json();
  } catch (err) {
    finish('failed', M.noContext);
    return;
  }
  const C = api.credential;
  const opening = context.opening;
  let openingOk = false;
  let openingHash = null;
  if (opening && typeof opening === 'object' && C.verifySignedObject(opening, context.ca_key)
      && opening.type === 'ssbvote-opening' && opening.election_id === context.election_id
      && opening.ca_key === context.ca_key) {
    openingHash = await api.hazmat.objectHash(opening);
    openingOk = true;
  }
  line(list, openingOk, openingOk ? M.openingOk : M.openingBad);
  const signatureOk = openingOk && receipt.type === 'ssbvote-receipt'
    && C.verifySignedObject(receipt, opening.board_key);
  if (openingOk) line(list, signatureOk, signatureOk ? M.signatureOk : M.signatureBad);
  const boundOk = signatureOk && receipt.opening === openingHash && receipt.election_id === context.election_id
    && receipt.pseudonym === context.pseudonym && receipt.credential === context.credential;
  if (signatureOk) line(list, boundOk, boundOk ? M.boundOk : M.boundBad);
  let mine = null;
  try {
    mine = sessionStorage.getItem(ballotHashKey(data.slug, receipt.seq));
  } catch (err) { /* storage disabled */ }
  let hashOk = null;
  if (mine) {
    hashOk = receipt.ballot_hash === mine;
    line(list, hashOk, hashOk ? M.hashOk : M.hashBad);
  } else {
    line(list, null, M.hashUnknown);
  }
  if (!signatureOk || !boundOk || hashOk === false) finish('failed', M.failed);
  else if (hashOk) finish('ok', M.ok);
  else finish('signature-only', M.signatureOnly);
}

verifyReceipt().catch(() => {
  const box = document.getElementById('receipt-verify');
  box.dataset.state = 'failed';
  document.getElementById('verify-result').textContent = M.failed;
});

// The QR code holds the tracker text ssbvote-tracker:1:<seq>:<ballot_hash> (docs/record.md §2.5),
// which the server rendered into the page: nothing on this page can open the ballot.
const section = document.getElementById('receipt-code');
const code = section.dataset.tracker;
const text = document.getElementById('code-text');
const canvas = document.getElementById('qr-canvas');
const qr = window.SSBQR;
const draw = qr ? qr.drawQr(canvas, code, { width: 256 }) : Promise.reject(new Error('no QR bundle'));
draw.then(() => { canvas.dataset.drawn = 'true'; }, () => {
  canvas.hidden = true;
  document.getElementById('copy-status').textContent = M.qrFailed;
});
document.getElementById('copy-code').addEventListener('click', async () => {
  const status = document.getElementById('copy-status');
  try {
    await navigator.clipboard.writeText(code);
    status.textContent = M.copied;
  } catch (err) {
    text.focus();
    text.select();
    status.textContent = M.copyFailed;
  }
});

// "Save as PDF or print": the browser's print dialog (its "Save as PDF" destination) with the
// print stylesheet (voting.css); the technical details are unfolded for the printout.
const technical = document.getElementById('technical-details');
let wasOpen = false;
window.addEventListener('beforeprint', () => {
  wasOpen = technical.open;
  technical.open = true;
});
window.addEventListener('afterprint', () => { technical.open = wasOpen; });
document.getElementById('print-receipt').addEventListener('click', () => window.print());
