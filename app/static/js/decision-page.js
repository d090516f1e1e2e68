// The officials' signing step for a poll extension or a lot (docs/record.md §2.7, §4.6), the
// same as the paper-vote list's (paper-votes-page.js): the official has seen the object and its
// digest; this page computes the digest again, derives the official's key from the credential
// typed (purpose "official", docs/protocol.md §13.2) and signs the canonical JSON of the object
// (without `signatures`) on this device with SSBCrypto.credential.signOfficialObject.  The form
// sends only the signature and the digest; the credential never leaves the page.
import { fmt, pageData } from './common.js';
import { credentialEntry } from './credential-entry.js';

const data = pageData('decision-sign-data');
const M = data.messages;
const $ = (id) => document.getElementById(id);
const form = $('decision-sign-form');
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
  const digest = await api.hazmat.objectHash(data.body);
  document.body.dataset.digest = digest === data.digest ? 'ok' : 'failed';
  if (digest !== data.digest) {
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
      signed = await api.credential.signOfficialObject(data.body, symbols, data.officialKey || undefined, data.body.type);
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
