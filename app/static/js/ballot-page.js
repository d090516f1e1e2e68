// The ballot page (/vote): choose, review, encrypt in the browser, sign, cast (docs/record.md
// §2.0, §2.1, §2.5; docs/protocol.md §13).
// Before anything is encrypted the page checks the pins: the opening object must be signed by
// the credential authority's key the server was configured with, and the election key it was
// given must be the one the opening pins; otherwise it refuses to encrypt.
// The encryption is precomputed in Web Workers while the voter reads; the seed goes only to
// this tab's sessionStorage, for the receipt page's QR code, never to the server.
// The voter's credential (typed, or read from the letter's QR code) signs the ballot statement
// on this device; it is kept in this tab's sessionStorage only (common.js credentialKey).
import {
  ballotHashKey, checkToken, credentialKey, csrfToken, fmt, pageData, qrText, receiptKey, setProgress,
} from './common.js';
import { credentialEntry } from './credential-entry.js';

const data = pageData('ballot-data');
const M = data.messages;
const K = data.maxSelections;
const BUSY_RETRIES = 10; // 503 busy answers to wait out before giving up
const STALE_RETRIES = 5; // 409 stale_previous answers (another device cast meanwhile) to re-sign for
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

// --- the pins (docs/record.md §2.0) --------------------------------------------------------
const pinsError = $('pins-error');

class PinsMismatch extends Error {}

/**
 * The opening hash if the context's opening object is signed by the configured CA key, is of
 * this election, and pins the election key the page was given; otherwise PinsMismatch.
 */
async function checkPins(api, ctx) {
  const opening = ctx.opening;
  if (opening === null || typeof opening !== 'object' || Array.isArray(opening)) throw new PinsMismatch('no opening');
  if (!api.credential.verifySignedObject(opening, ctx.ca_key)) throw new PinsMismatch('not signed by the CA key');
  if (opening.type !== 'ssbvote-opening' || opening.election_id !== ctx.election_id || opening.ca_key !== ctx.ca_key) {
    throw new PinsMismatch('another election or CA');
  }
  if ((await api.hazmat.objectHash(ctx.election_key)) !== opening.election_key) {
    throw new PinsMismatch('the election key is not the pinned one');
  }
  const openingHash = await api.hazmat.objectHash(opening);
  if (ctx.opening_hash !== undefined && ctx.opening_hash !== openingHash) throw new PinsMismatch('opening hash');
  return openingHash;
}

function refusePins() {
  document.body.dataset.pins = 'failed';
  pinsError.hidden = false;
  castButton.disabled = true;
  $('to-review').disabled = true;
}

async function fetchContext() {
  const res = await fetch(data.contextUrl, {
    credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
  });
  if (res.status === 401) throw new Error(M.signedOut);
  if (!res.ok) throw new Error(M.prepFailed);
  return res.json();
}

// --- the credential -------------------------------------------------------------------------
let credential = null; // the credential field, once the context names the registered credential

function setUpCredential(api, ctx) {
  if (credential) {
    credential.setExpected(ctx.credential);
    return;
  }
  credential = credentialEntry({
    M: pageData('credential-data'),
    derive: async (symbols) => api.credential.publicCredential(await api.credential.voterKey(symbols, ctx.election_id)),
    expected: ctx.credential,
    electionId: ctx.election_id,
    storageKey: credentialKey(ctx.election_id),
    onChange: (state) => {
      if (state === 'valid') castError.hidden = true; // the refusal it answered is fixed
    },
  });
}

// --- precomputation (starts at once, while the voter reads) ------------------------------
let encryptor = null;
let context = null;
let openingHash = null;
let prepared = null;

function prepare() {
  setProgress(prepBar, 0);
  prepStatus.textContent = fmt(M.prepRunning, { pct: 0 });
  prepared = (async () => {
    const api = window.SSBCrypto;
    if (!api || !window.crypto || !crypto.subtle) throw new Error(M.noSupport);
    if (!context) {
      const fresh = await fetchContext();
      try {
        openingHash = await checkPins(api, fresh);
      } catch (err) {
        if (err instanceof PinsMismatch) {
          refusePins();
          throw new Error(M.pinsMismatch);
        }
        throw err;
      }
      context = fresh;
      document.body.dataset.pins = 'ok';
      setUpCredential(api, context);
    }
    encryptor = api.createBallotEncryptor({
      publicKey: context.election_key,
      electionId: context.election_id,
      contestId: context.contest.id,
      // The ballot party of version 2 (docs/protocol.md §13.4): <pseudonym>/<credential>.
      pseudonym: api.credential.ballotParty(context.pseudonym, context.credential),
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
    if (document.body.dataset.pins !== 'failed') context = null; // fetch it again on retry
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

/** POST the ballot; waits out 503 "busy" answers (nothing was stored: send it again). */
async function post(payload) {
  let response;
  for (let attempt = 0; ; attempt += 1) {
    response = await fetch(data.castUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: payload,
    });
    if (response.status !== 503 || attempt >= BUSY_RETRIES) return response;
    const seconds = Math.min(Math.max(Number(response.headers.get('Retry-After')) || 1, 1), 30);
    $('cast-label').textContent = fmt(M.busyRetry, { seconds });
    await new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });
    $('cast-label').textContent = M.sending;
  }
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return { code: body.error || '', reason: body.message || body.error || '' };
  } catch (err) {
    return { code: '', reason: '' }; // not JSON
  }
}

/** The §13.3 statement for this context and ballot, signed with the voter's credential. */
async function sign(api, ctx, ballotHash, symbols) {
  const { signature } = await api.credential.signBallot({
    electionId: ctx.election_id, opening: openingHash, contest: ctx.contest.id, pseudonym: ctx.pseudonym,
    ballotHash, previous: ctx.previous || '', credential: ctx.credential,
  }, symbols);
  return signature;
}

/**
 * After 409 stale_previous: the context again (the credential's current ballot changed).  The
 * same encrypted ballot can be signed again only if everything it was made for is unchanged;
 * returns false otherwise (the voter casts again, with a fresh encryption).
 */
async function reloadContext(api) {
  const fresh = await fetchContext();
  let freshOpening;
  try {
    freshOpening = await checkPins(api, fresh);
  } catch (err) {
    if (err instanceof PinsMismatch) {
      refusePins();
      throw new Error(M.pinsMismatch);
    }
    throw err;
  }
  const same = freshOpening === openingHash && fresh.election_id === context.election_id
    && fresh.pseudonym === context.pseudonym && fresh.credential === context.credential
    && fresh.contest.id === context.contest.id
    && (await api.hazmat.objectHash(fresh.election_key)) === (await api.hazmat.objectHash(context.election_key));
  if (!same) {
    context = null; // prepare() fetches it again and encrypts anew
    return false;
  }
  context = fresh;
  return true;
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
    if (document.body.dataset.pins !== 'failed') prepare(); // try again with a fresh seed
    else castButton.disabled = true;
    return;
  }
  // The credential first: encrypting uses up the seed (§4.4), signing needs the credential.
  let symbols;
  try {
    symbols = await credential.symbols();
  } catch (err) {
    failCast(err.message);
    return;
  }
  $('cast-label').textContent = M.sending;
  const api = window.SSBCrypto;
  const picked = new Set(chosen().map((b) => b.value));
  const selections = context.contest.candidates.map((c) => (picked.has(c.id) ? 1 : 0));
  let result;
  let response;
  try {
    result = await encryptor.encrypt(selections);
    const token = await checkToken(result.seedHex);
    for (let stale = 0; ; stale += 1) {
      const payload = JSON.stringify({
        contest: context.contest.id, ballot: result.ballot, check_token: token,
        credential: context.credential, previous: context.previous || '',
        signature: await sign(api, context, result.ballotHash, symbols),
      });
      response = await post(payload);
      if (response.status !== 409 || stale >= STALE_RETRIES) break;
      const { code } = await errorOf(response.clone());
      if (code !== 'stale_previous') break;
      // Another device cast meanwhile: sign again with the credential's current ballot.
      $('cast-label').textContent = M.resigning;
      if (!(await reloadContext(api))) {
        failCast(M.castAgain);
        prepare();
        return;
      }
      $('cast-label').textContent = M.sending;
    }
  } catch (err) {
    if (document.body.dataset.pins === 'failed') {
      failCast(M.pinsMismatch);
      castButton.disabled = true;
      return;
    }
    failCast(M.networkFailed);
    prepare(); // the seed is used up once encrypt() ran (§4.4): a fresh one for the retry
    return;
  }
  if (response.status === 201) {
    const body = await response.json();
    const seq = body.receipt.seq;
    try {
      sessionStorage.setItem(receiptKey(data.slug, seq), qrText(seq, result.seedHex));
      // What this device encrypted: the receipt page compares the signed receipt with it.
      sessionStorage.setItem(ballotHashKey(data.slug, seq), result.ballotHash);
    } catch (err) { /* storage disabled: the receipt page says the code is not available */ }
    result = null;
    window.location.assign(body.receipt_url);
    return;
  }
  const { code, reason } = await errorOf(response);
  if (response.status === 401) failCast(M.signedOut);
  else if (code === 'wrong_credential') {
    credential.forget();
    failCast(M.wrongCredential);
  } else if (code === 'bad_signature') failCast(M.badSignature);
  else if (code === 'stale_previous') failCast(M.castAgain);
  else if (response.status === 409 && /poll/i.test(reason)) failCast(M.pollsClosed);
  else failCast(fmt(M.castFailed, { reason: reason || response.status }));
  if (code === 'stale_previous') context = null;
  prepare();
});

refresh();
prepare();
