// The officials' paper-vote page, signing step (docs/record.md §2.4): the official has seen
// the count, the identities and the digest of the list; they type their own official
// credential, and this page derives their key (purpose "official", docs/protocol.md §13.2) and
// signs the canonical JSON of the list (without `signatures`) on this device.  The form sends
// only the signature and the digest the official saw; the credential never leaves the page
// and is not stored.
import { fmt, pageData } from './common.js';
import { credentialEntry } from './credential-entry.js';

const data = pageData('paper-sign-data');
const M = data.messages;
const $ = (id) => document.getElementById(id);
const form = $('paper-sign-form');
const errorBox = $('sign-error');
const button = $('sign-button');

function fail(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  button.disabled = false;
}

async function start() {
  const api = window.SSBCrypto;
  if (!api || !window.crypto || !crypto.subtle) {
    fail(M.noSupport);
    button.disabled = true;
    return;
  }
  // The digest shown must be the digest of the list signed: computed here, not taken on trust.
  const digest = await api.hazmat.objectHash(data.body);
  const digestOk = digest === data.digest && data.body.pseudonyms.length === data.count;
  document.body.dataset.digest = digestOk ? 'ok' : 'failed';
  if (!digestOk) {
    fail(M.digestMismatch);
    button.disabled = true;
    return;
  }
  $('digest-check').textContent = M.digestOk;

  const entry = credentialEntry({
    M: pageData('credential-data'),
    derive: async (symbols) => api.credential.publicCredential(await api.credential.officialKey(symbols)),
    expected: data.officialKey || null,
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    button.disabled = true;
    let symbols;
    try {
      symbols = await entry.symbols();
    } catch (err) {
      fail(err.message);
      return;
    }
    let signed;
    try {
      signed = await api.credential.signPaperList(data.body, symbols, data.officialKey || undefined);
    } catch (err) {
      fail(err instanceof api.InvalidInput && /official credential/.test(err.message) ? M.notYours : fmt(M.failed, { reason: err.message }));
      return;
    }
    if (signed.digest !== data.digest) {
      fail(M.digestMismatch);
      return;
    }
    $('official_signature').value = signed.signature;
    $('digest').value = signed.digest;
    $('sign-status').textContent = M.sending;
    form.submit();
  });
}

start().catch((err) => fail(fmt(M.failed, { reason: err && err.message ? err.message : String(err) })));
