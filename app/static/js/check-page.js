// The cast-as-intended check (/check/<slug>, docs/record.md §2.5): from the receipt code,
// derive the token, fetch the ballot, open it here with the seed and show the choices.
// The seed itself never leaves this page.
import { QR_PATTERN, checkToken, fmt, pageData } from './common.js';

const data = pageData('check-data');
const M = data.messages;
const $ = (id) => document.getElementById(id);
const form = $('check-form');
const codeInput = $('code');
const codeError = $('code-error');
const errorBox = $('check-error');
const progress = $('check-progress');
const result = $('check-result');

function showError(message) {
  progress.hidden = true;
  errorBox.textContent = message;
  errorBox.hidden = false;
  $('check-button').disabled = false;
}

function fieldError(message) {
  codeError.textContent = message;
  codeError.hidden = !message;
  codeInput.setAttribute('aria-invalid', message ? 'true' : 'false');
}

$('qr-file').addEventListener('change', async (event) => {
  const file = event.target.files && event.target.files[0];
  const status = $('qr-status');
  if (!file) return;
  status.textContent = M.qrReading;
  try {
    const text = window.SSBQR ? await window.SSBQR.decodeImageFile(file) : null;
    if (text) {
      codeInput.value = text.trim();
      fieldError('');
      status.textContent = M.qrFound;
    } else {
      status.textContent = M.qrNone;
    }
  } catch (err) {
    status.textContent = M.qrNone;
  }
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  result.hidden = true;
  const code = codeInput.value.replace(/\s+/g, '');
  const match = QR_PATTERN.exec(code);
  if (!match) {
    fieldError(M.badCode);
    codeInput.focus();
    return;
  }
  fieldError('');
  const api = window.SSBCrypto;
  if (!api || !window.crypto || !crypto.subtle) {
    showError(M.noSupport);
    return;
  }
  const seq = Number(match[1]);
  const seedHex = match[2];
  $('check-button').disabled = true;
  progress.hidden = false;
  let response;
  try {
    response = await fetch(data.checkUrl, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ seq, token: await checkToken(seedHex) }),
    });
  } catch (err) {
    showError(M.network);
    return;
  }
  let body = {};
  try {
    body = await response.json();
  } catch (err) { /* e.g. the rate limiter's HTML page */ }
  if (response.status !== 200) {
    if (response.status === 404) showError(M.notFound);
    else if (response.status === 410) showError(M.expired);
    else if (response.status === 429) showError(body.error === 'check_used_up' ? M.usedUp : M.tooFast);
    else if (response.status === 400) showError(M.badCode);
    else showError(fmt(M.failed, { reason: body.error || response.status }));
    return;
  }
  let selections;
  try {
    if (await api.ballotHash(body.ballot) !== body.ballot_hash) {
      showError(M.hashMismatch);
      return;
    }
    selections = await api.recoverSelections({
      publicKey: body.election_key, electionId: body.election_id, contestId: body.contest,
      // Version 2 ballots are made for the party <pseudonym>/<credential> (docs/protocol.md §13.4).
      pseudonym: body.credential ? api.credential.ballotParty(body.pseudonym, body.credential) : body.pseudonym,
      ballot: body.ballot, seedHex,
    });
  } catch (err) {
    showError(M.notOpened);
    return;
  }
  const picked = body.candidates.filter((c, i) => selections[i] === 1);
  const list = $('result-list');
  list.replaceChildren();
  const other = data.locale === 'th' ? 'en' : 'th';
  for (const c of picked) {
    const li = document.createElement('li');
    li.dataset.number = String(c.number);
    const num = document.createElement('span');
    num.className = 'cand-num';
    num.textContent = fmt(M.number, { number: c.number });
    const name = document.createElement('span');
    name.className = 'cand-name';
    name.textContent = ` ${c.name[data.locale]}`;
    const alt = document.createElement('span');
    alt.className = 'alt';
    alt.lang = other;
    alt.textContent = ` ${c.name[other]}`;
    li.append(num, name, alt);
    list.append(li);
  }
  list.hidden = picked.length === 0;
  $('result-summary').textContent = picked.length
    ? fmt(M.chosen, { seq: body.seq, n: picked.length }) : fmt(M.blank, { seq: body.seq });
  $('result-checks').textContent = fmt(M.checksLeft, { n: body.checks_left });
  $('result-seq').textContent = String(body.seq);
  $('result-hash').textContent = body.ballot_hash;
  progress.hidden = true;
  $('check-button').disabled = false;
  result.hidden = false;
  $('result-heading').focus();
});
