// The ballot page (/vote): choose, review, encrypt in the browser, cast (docs/record.md §2.5).
// The encryption is precomputed in Web Workers while the voter reads; the seed goes only to
// this tab's sessionStorage, for the receipt page's QR code, never to the server.
import { checkToken, csrfToken, fmt, pageData, qrText, receiptKey, setProgress } from './common.js';

const data = pageData('ballot-data');
const M = data.messages;
const K = data.maxSelections;
const BUSY_RETRIES = 10; // 503 busy answers to wait out before giving up
const $ = (id) => document.getElementById(id);

const form = $('ballot-form');
const boxes = Array.from(form.querySelectorAll('input[type=checkbox][name=candidate]'));
const counter = $('counter');
const limitNote = $('limit-note');
const prepBar = $('prep-bar');
const prepStatus = $('prep-status');
const chooseStep = $('choose-step');
const reviewStep = $('review-step');
const castButton = $('cast');
const castError = $('cast-error');

// --- choosing ---------------------------------------------------------------------------
function chosen() {
  return boxes.filter((b) => b.checked);
}

function refresh(note = '') {
  const n = chosen().length;
  counter.textContent = fmt(M.counter, { n, k: K });
  const full = n >= K;
  for (const b of boxes) {
    b.disabled = full && !b.checked;
    b.closest('.candidate').classList.toggle('is-chosen', b.checked);
  }
  limitNote.textContent = note || (full ? fmt(M.limitReached, { k: K }) : '');
}

for (const b of boxes) b.addEventListener('change', () => refresh());

for (const button of form.querySelectorAll('.team-all')) {
  button.addEventListener('click', () => {
    const members = Array.from($(button.dataset.team).querySelectorAll('input[name=candidate]'))
      .sort((a, b) => Number(a.dataset.number) - Number(b.dataset.number));
    let room = K - chosen().length;
    let added = 0;
    for (const m of members) {
      if (m.checked) continue;
      if (room <= 0) break;
      m.checked = true;
      room--;
      added++;
    }
    const all = members.every((m) => m.checked);
    let note;
    if (added === 0 && !all) note = fmt(M.teamNone, { k: K });
    else if (all) note = fmt(M.teamAll, { added: members.length });
    else note = fmt(M.teamPartial, { added: members.filter((m) => m.checked).length, size: members.length, k: K });
    refresh(note);
  });
}

// --- search -----------------------------------------------------------------------------
const search = $('search');
search.addEventListener('input', () => {
  const q = search.value.trim().toLowerCase();
  let shown = 0;
  for (const li of form.querySelectorAll('.candidate')) {
    const words = li.dataset.search;
    const number = words.split(' ', 1)[0];
    const match = q === '' || (/^\d+$/.test(q) ? number === q || number.startsWith(q) : words.includes(q));
    li.hidden = !match;
    if (match) shown++;
  }
  for (const fs of form.querySelectorAll('fieldset.team')) {
    fs.hidden = q !== '' && fs.querySelector('.candidate:not([hidden])') === null;
  }
  $('search-status').textContent = q === '' ? '' : (shown ? fmt(M.searchCount, { count: shown }) : M.searchNone);
});

// --- precomputation (starts at once, while the voter reads) ------------------------------
let encryptor = null;
let context = null;
let prepared = null;

function prepare() {
  setProgress(prepBar, 0);
  prepStatus.textContent = fmt(M.prepRunning, { pct: 0 });
  prepared = (async () => {
    const api = window.SSBCrypto;
    if (!api || !window.crypto || !crypto.subtle) throw new Error(M.noSupport);
    if (!context) {
      const res = await fetch(data.contextUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (res.status === 401) throw new Error(M.signedOut);
      if (!res.ok) throw new Error(M.prepFailed);
      context = await res.json();
    }
    encryptor = api.createBallotEncryptor({
      publicKey: context.election_key,
      electionId: context.election_id,
      contestId: context.contest.id,
      pseudonym: context.pseudonym,
      numCandidates: context.contest.candidates.length,
      maxSelections: context.contest.max_selections,
      workers: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)),
      workerUrl: data.workerUrl,
      onProgress: (p) => {
        const pct = setProgress(prepBar, p);
        prepStatus.textContent = fmt(M.prepRunning, { pct });
      },
    });
    await encryptor.precompute();
    setProgress(prepBar, 1);
    prepStatus.textContent = M.prepDone;
    document.body.dataset.precomputed = 'true';
  })();
  prepared.catch((err) => {
    prepStatus.textContent = err && err.message && !err.message.startsWith('precomputation') ? err.message : M.prepFailed;
    document.body.dataset.precomputed = 'failed';
  });
  return prepared;
}

// --- review -----------------------------------------------------------------------------
function labelOf(box) {
  const label = form.querySelector(`label[for="${box.id}"]`);
  const name = label.querySelector('.cand-name').textContent.trim();
  const team = box.closest('fieldset').querySelector('legend').firstChild.textContent.trim();
  return { number: box.dataset.number, name, team };
}

function showReview() {
  const picks = chosen().sort((a, b) => Number(a.dataset.number) - Number(b.dataset.number));
  const list = $('review-list');
  list.replaceChildren();
  for (const box of picks) {
    const { number, name, team } = labelOf(box);
    const li = document.createElement('li');
    const num = document.createElement('span');
    num.className = 'cand-num';
    num.textContent = fmt(M.number, { number });
    const who = document.createElement('span');
    who.className = 'cand-name';
    who.textContent = ` ${name}`;
    const grp = document.createElement('span');
    grp.className = 'alt';
    grp.textContent = ` (${team})`;
    li.append(num, who, grp);
    li.dataset.number = number;
    list.append(li);
  }
  list.hidden = picks.length === 0;
  $('review-summary').textContent = picks.length ? fmt(M.reviewCount, { n: picks.length, k: K }) : M.reviewNone;
  castError.hidden = true;
  chooseStep.hidden = true;
  reviewStep.hidden = false;
  $('review-heading').focus();
  window.scrollTo(0, 0);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  showReview();
});

$('back').addEventListener('click', () => {
  reviewStep.hidden = true;
  chooseStep.hidden = false;
  $('choose-heading').setAttribute('tabindex', '-1');
  $('choose-heading').focus();
});

// --- cast -------------------------------------------------------------------------------
function failCast(message) {
  $('cast-progress').hidden = true;
  castButton.disabled = false;
  $('back').disabled = false;
  castError.textContent = message;
  castError.hidden = false;
}

castButton.addEventListener('click', async () => {
  castButton.disabled = true;
  $('back').disabled = true;
  castError.hidden = true;
  const progress = $('cast-progress');
  progress.hidden = false;
  $('cast-label').textContent = encryptor && encryptor.state === 'ready' ? M.sending : M.waitPrep;
  try {
    await prepared;
  } catch (err) {
    failCast(prepStatus.textContent);
    prepare(); // try again with a fresh seed
    return;
  }
  $('cast-label').textContent = M.sending;
  const picked = new Set(chosen().map((b) => b.value));
  const selections = context.contest.candidates.map((c) => (picked.has(c.id) ? 1 : 0));
  let result;
  let response;
  try {
    result = await encryptor.encrypt(selections);
    const payload = JSON.stringify({
      contest: context.contest.id, ballot: result.ballot, check_token: await checkToken(result.seedHex),
    });
    // 503 "busy" means nothing was stored: send the same ballot again after Retry-After.
    for (let attempt = 0; ; attempt += 1) {
      response = await fetch(data.castUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
        body: payload,
      });
      if (response.status !== 503 || attempt >= BUSY_RETRIES) break;
      const seconds = Math.min(Math.max(Number(response.headers.get('Retry-After')) || 1, 1), 30);
      $('cast-label').textContent = fmt(M.busyRetry, { seconds });
      await new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });
      $('cast-label').textContent = M.sending;
    }
  } catch (err) {
    failCast(M.networkFailed);
    prepare(); // the seed is used up once encrypt() ran (§4.4): a fresh one for the retry
    return;
  }
  if (response.status === 201) {
    const body = await response.json();
    const seq = body.receipt.seq;
    try {
      sessionStorage.setItem(receiptKey(data.slug, seq), qrText(seq, result.seedHex));
    } catch (err) { /* storage disabled: the receipt page says the code is not available */ }
    result = null;
    window.location.assign(body.receipt_url);
    return;
  }
  let reason = '';
  try {
    const body = await response.json();
    reason = body.message || body.error || '';
  } catch (err) { /* not JSON */ }
  if (response.status === 401) failCast(M.signedOut);
  else if (response.status === 409 && /poll/i.test(reason)) failCast(M.pollsClosed);
  else failCast(fmt(M.castFailed, { reason: reason || response.status }));
  prepare();
});

refresh();
prepare();
