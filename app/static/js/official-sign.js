// The officials' signing step, one implementation for every object two officials sign: the
// paper-vote list (docs/record.md §2.4), a poll extension (§2.7) and a lot (§4.6).  The official
// has seen the object and its digest; this page computes the digest again (not taken on trust),
// derives the official's key from the credential typed (purpose "official", docs/protocol.md
// §13.2) and signs the canonical JSON of the object (without `signatures`) on this device.  The
// form sends only the signature and the digest the official saw; the credential never leaves the
// page and is not stored.
import { fmt, pageData } from './common.js';
import { credentialEntry } from './credential-entry.js';

/**
 * Wire the signing form.  `dataId`: the page-data element; `formId`: the form; `shownOk(data)`:
 * an extra check that what the page shows matches the object (e.g. the list's count);
 * `sign(api, body, symbols, officialKey)`: the SSBCrypto signing call for this object type.
 */
export function startOfficialSigning({ dataId, formId, shownOk = () => true, sign }) {
  const data = pageData(dataId);
  const M = data.messages;
  const $ = (id) => document.getElementById(id);
  const form = $(formId);
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
    const digestOk = digest === data.digest && shownOk(data);
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
        signed = await sign(api, data.body, symbols, data.officialKey || undefined);
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
}
