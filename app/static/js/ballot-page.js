// The ballot page (/vote): choose, review, encrypt in the browser, then cast or audit
// (docs/protocol.md §13, §14; docs/record.md §2.0, §2.1, §2.5, §2.6).
// Before anything is encrypted the page checks the pins: the opening object must be signed by
// the credential authority's key the server was configured with, and the election key it was
// given must be the one the opening pins; otherwise it refuses to encrypt.
// The encryption is precomputed in Web Workers while the voter reads.  After the review the
// device encrypts and shows the tracker (the ballot hash); the voter then either casts it or
// audits it (Benaloh, §14.1): an audit posts the ballot with its seed, shows the audit code
// for a second device and encrypts the same choices again with a fresh seed.  The seed of the
// ballot that is cast never leaves this page's memory: it is not shown, stored, logged or
// sent, and its bytes are overwritten as soon as the voter chooses to cast (§4.4).
// The voter's credential (typed, or read from the letter's QR code) signs the ballot statement
// on this device; it is kept in this tab's sessionStorage only (common.js credentialKey).
import {
  auditCode, ballotHashKey, credentialKey, csrfToken, fmt, pageData, setProgress, shortTracker,
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
const trackerStep = $('tracker-step');
const auditStep = $('audit-step');
const encryptButton = $('encrypt');
const castButton = $('cast');
const auditButton = $('audit');
const reviewError = $('review-error');
const castError = $('cast-error');
const reprepBar = $('reprep-bar');
const reprepStatus = $('reprep-status');

// --- choosing ---------------------------------------------------------------------------
// Every unticked box stays enabled: a (k+1)-th tick is undone at once and said (aria-live), so
// the voter learns why, instead of meeting a silently disabled box.
const teams = Array.from(form.querySelectorAll('details.team'));

function chosen() {
  return boxes.filter((b) => b.checked);
}

// The choices (candidate ids only: never a seed, key or anything derived from the credential)
// survive a re-sign-in in this tab's sessionStorage (docs/accounts.md §4); removed after a cast
// and at sign-out (session-end.js).
function saveChoices() {
  try {
    const ids = chosen().map((b) => b.value);
    if (ids.length) sessionStorage.setItem(data.choicesKey, JSON.stringify(ids));
    else sessionStorage.removeItem(data.choicesKey);
  } catch (err) { /* storage disabled: nothing kept */ }
}

function forgetChoices() {
  try { sessionStorage.removeItem(data.choicesKey); } catch (err) { /* nothing kept */ }
}

function restoreChoices() {
  let ids = null;
  try {
    ids = JSON.parse(sessionStorage.getItem(data.choicesKey) || 'null');
  } catch (err) { ids = null; }
  if (!Array.isArray(ids) || ids.length === 0) return false;
  const wanted = new Set(ids.filter((x) => typeof x === 'string'));
  let n = 0;
  for (const b of boxes) {
    if (wanted.has(b.value) && n < K) {
      b.checked = true;
      n += 1;
      b.closest('details').open = true;
    }
  }
  return n > 0;
}

function refresh(note = null) {
  const n = chosen().length;
  counter.textContent = fmt(M.counter, { n, k: K });
  for (const b of boxes) b.closest('.candidate').classList.toggle('is-chosen', b.checked);
  for (const team of teams) {
    const picked = team.querySelectorAll('input[name=candidate]:checked').length;
    for (const el of document.querySelectorAll(`.team-picked[data-team="${team.id}"]`)) {
      el.textContent = picked ? fmt(M.teamCount, { n: picked }) : '';
    }
  }
  if (note !== null) limitNote.textContent = note;
  else if (n < K) limitNote.textContent = '';
  saveChoices();
}

for (const b of boxes) {
  b.addEventListener('change', () => {
    if (b.checked && chosen().length > K) {
      b.checked = false;
      refresh(fmt(M.limitReached, { k: K, number: b.dataset.number }));
      return;
    }
    refresh('');
  });
}

for (const button of form.querySelectorAll('.team-all')) {
  button.addEventListener('click', () => {
    const team = $(button.dataset.team);
    const members = Array.from(team.querySelectorAll('input[name=candidate]'))
      .sort((a, b) => Number(a.dataset.number) - Number(b.dataset.number));
    let room = K - chosen().length;
    for (const m of members) {
      if (m.checked) continue;
      if (room <= 0) break;
      m.checked = true;
      room--;
    }
    const mine = members.filter((m) => m.checked).map((m) => m.dataset.number);
    const note = mine.length === 0 ? fmt(M.teamNone, { k: K }) : fmt(M.teamPicked, { numbers: mine.join(', '), k: K });
    const teamNote = $(`${team.id}-note`);
    if (teamNote) teamNote.textContent = note;
    refresh('');
  });
}

// Jump links (the team index, "next team"): open the team and move focus into it.
for (const link of document.querySelectorAll('a.team-jump')) {
  link.addEventListener('click', (event) => {
    const team = $(link.dataset.team);
    if (!team) return;
    event.preventDefault();
    team.open = true;
    const summary = team.querySelector('summary');
    summary.focus();
    summary.scrollIntoView({ block: 'start' });
  });
}

// --- search (names, numbers and team names) ----------------------------------------------
const search = $('search');
const opened = new Map(); // teams' open state before a search opened them
search.addEventListener('input', () => {
  const q = search.value.trim().toLowerCase();
  let shown = 0;
  for (const team of teams) {
    if (q !== '' && !opened.has(team)) opened.set(team, team.open);
    const teamMatch = q !== '' && !/^\d+$/.test(q) && team.dataset.search.includes(q);
    let inTeam = 0;
    for (const li of team.querySelectorAll('.candidate')) {
      const words = li.dataset.search;
      const number = words.split(' ', 1)[0];
      const match = q === '' || teamMatch || (/^\d+$/.test(q) ? number === q || number.startsWith(q) : words.includes(q));
      li.hidden = !match;
      if (match) inTeam++;
    }
    shown += inTeam;
    team.hidden = q !== '' && inTeam === 0;
    if (q !== '') team.open = inTeam > 0;
  }
  if (q === '') {
    for (const [team, wasOpen] of opened) team.open = wasOpen || team.querySelector('input:checked') !== null;
    opened.clear();
  }
  $('search-status').textContent = q === '' ? '' : (shown ? fmt(M.searchCount, { count: shown }) : M.searchNone);
});

// --- the session: kept alive while the voter is active here (docs/accounts.md §4) ----------
const sessionEnded = $('session-ended');
const sessionWarning = $('session-warning');
const PING_EVERY_MS = 60_000;
let lastPing = Date.now(); // the page load itself was activity
let warnTimer = null;

function showSessionEnded() {
  try { sessionStorage.setItem('ssbvote-resume', data.slug); } catch (err) { /* no storage */ }
  saveChoices();
  sessionWarning.hidden = true;
  sessionEnded.hidden = false;
  document.body.dataset.session = 'ended';
  sessionEnded.focus();
  sessionEnded.scrollIntoView({ block: 'start' });
}

function scheduleWarning(secondsLeft) {
  if (warnTimer) clearTimeout(warnTimer);
  const warnIn = Math.max(0, secondsLeft - data.warnSeconds) * 1000;
  warnTimer = setTimeout(() => { sessionWarning.hidden = false; }, warnIn);
}

async function keepAlive(force = false) {
  if (document.body.dataset.session === 'ended') return;
  if (!force && Date.now() - lastPing < PING_EVERY_MS) return;
  lastPing = Date.now();
  try {
    const res = await fetch(data.sessionUrl, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    if (res.status === 401) {
      showSessionEnded();
      return;
    }
    if (res.ok) {
      const body = await res.json();
      sessionWarning.hidden = true;
      if (Number.isFinite(body.seconds_left)) scheduleWarning(body.seconds_left);
    }
  } catch (err) { /* offline for a moment: the next activity tries again */ }
}

for (const type of ['change', 'keydown', 'pointerdown', 'scroll', 'input']) {
  window.addEventListener(type, () => { keepAlive(); }, { passive: true, capture: true });
}
$('stay-signed-in').addEventListener('click', () => { keepAlive(true); });
keepAlive(true);

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
  for (const id of ['to-review', 'encrypt', 'cast', 'audit', 'audit-next']) $(id).disabled = true;
}

async function fetchContext() {
  const res = await fetch(data.contextUrl, {
    credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
  });
  if (res.status === 401) {
    showSessionEnded();
    throw new Error(M.signedOut);
  }
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
      if (state === 'valid') reviewError.hidden = true; // the refusal it answered is fixed
    },
  });
}

// --- precomputation (starts at once, while the voter reads) ------------------------------
let encryptor = null;
let context = null;
let openingHash = null;
let prepared = null;
let preparation = 0; // the number of the latest prepare(): an older one that finishes late is ignored

let prepStart = 0;
let prepFraction = 0;
let waitLabel = null; // the label near the button the voter pressed while the preparation ends

/** Seconds left, from the rate so far (null until there is a rate to go by). */
function secondsLeft(p) {
  const elapsed = (performance.now() - prepStart) / 1000;
  if (p <= 0.03 || elapsed < 0.5) return null;
  return Math.max(1, Math.ceil((elapsed / p) * (1 - p)));
}

function prepText(p, withTime, short) {
  const pct = Math.round(p * 100);
  const seconds = secondsLeft(p);
  if (seconds === null || !withTime) return fmt(short, { pct });
  return fmt(withTime, { pct, seconds });
}

function showPrepProgress(p) {
  prepFraction = p;
  setProgress(prepBar, p);
  setProgress(reprepBar, p);
  if (p >= 1) return;
  prepStatus.textContent = prepText(p, M.prepLeft, M.prepRunning);
  reprepStatus.textContent = prepStatus.textContent;
  if (waitLabel) waitLabel.textContent = prepText(p, M.waitPrepLeft, M.waitPrep);
}

function prepare() {
  if (encryptor) encryptor.cancel(); // an unused precomputation: its seed is zeroed
  delete document.body.dataset.precomputed;
  prepStart = performance.now();
  showPrepProgress(0);
  preparation += 1;
  const number = preparation;
  const mine = (async () => {
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
    if (number !== preparation) throw new Error('superseded by a newer preparation');
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
      onProgress: showPrepProgress,
    });
    await encryptor.precompute();
    if (number !== preparation) return;
    setProgress(prepBar, 1);
    setProgress(reprepBar, 1);
    prepStatus.textContent = M.prepDone;
    reprepStatus.textContent = M.prepDone;
    document.body.dataset.precomputed = 'true';
  })();
  prepared = mine;
  mine.catch((err) => {
    if (number !== preparation) return; // a newer preparation replaced this one (cancelled)
    prepStatus.textContent = err && err.message && !err.message.startsWith('precomputation') ? err.message : M.prepFailed;
    reprepStatus.textContent = prepStatus.textContent;
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

/** Fill `list` with the chosen candidates, by ballot number. */
function listChoices(list) {
  const picks = chosen().sort((a, b) => Number(a.dataset.number) - Number(b.dataset.number));
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
  return picks.length;
}

function showStep(step, heading) {
  for (const s of [chooseStep, reviewStep, trackerStep, auditStep]) s.hidden = s !== step;
  $(heading).focus();
  window.scrollTo(0, 0);
}

function showReview() {
  const n = listChoices($('review-list'));
  $('review-summary').textContent = n ? fmt(M.reviewCount, { n, k: K }) : M.reviewNone;
  reviewError.hidden = true;
  showStep(reviewStep, 'review-heading');
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  showReview();
});

function backToChoices() {
  $('choose-heading').setAttribute('tabindex', '-1');
  showStep(chooseStep, 'choose-heading');
}

$('back').addEventListener('click', backToChoices);

// --- encrypt: the tracker (§14.1 step 1) -----------------------------------------------------
// The encryption on show: {ballot, ballotHash, seed (Uint8Array)}.  Nothing has been sent yet.
let current = null;

/** Forget the encryption on show: overwrite its seed (§4.4) and drop every reference. */
function abandon() {
  if (current) {
    window.SSBCrypto.eraseSeed(current.seed);
    current.seed = null;
  }
  current = null;
}

function busy(progressId, labelId, text, on) {
  $(progressId).hidden = !on;
  if (text) $(labelId).textContent = text;
  for (const id of ['back', 'encrypt', 'cast', 'audit', 'tracker-back', 'audit-next']) $(id).disabled = on;
}

function fail(box, message) {
  box.textContent = message;
  box.hidden = false;
}

function selectionsOf(ctx) {
  const picked = new Set(chosen().map((b) => b.value));
  return ctx.contest.candidates.map((c) => (picked.has(c.id) ? 1 : 0));
}

/** Encrypt the choices with the precomputed fresh seed and show the tracker; errors go to `box`. */
async function encryptAndShow(box, progressId, labelId) {
  box.hidden = true;
  const ready = encryptor && encryptor.state === 'ready';
  busy(progressId, labelId, ready ? M.encrypting : prepText(prepFraction, M.waitPrepLeft, M.waitPrep), true);
  if (!ready) waitLabel = $(labelId);
  try {
    await prepared;
    waitLabel = null;
  } catch (err) {
    waitLabel = null;
    busy(progressId, labelId, '', false);
    fail(box, prepStatus.textContent);
    if (document.body.dataset.pins !== 'failed') prepare(); // try again with a fresh seed
    else refusePins();
    return;
  }
  // The credential first: it signs whatever the voter chooses next, and the check is free.
  try {
    await credential.symbols();
  } catch (err) {
    busy(progressId, labelId, '', false);
    if (box !== reviewError) showReview();
    fail(reviewError, err.message);
    return;
  }
  $(labelId).textContent = M.encrypting;
  abandon();
  try {
    current = await encryptor.encrypt(selectionsOf(context));
  } catch (err) {
    busy(progressId, labelId, '', false);
    fail(box, M.prepFailed);
    prepare();
    return;
  }
  busy(progressId, labelId, '', false);
  castError.hidden = true;
  $('tracker-short').textContent = shortTracker(current.ballotHash);
  $('tracker-full').textContent = current.ballotHash;
  const n = listChoices($('tracker-choices'));
  $('tracker-summary').textContent = n ? fmt(M.reviewCount, { n, k: K }) : M.reviewNone;
  document.body.dataset.tracker = current.ballotHash;
  showStep(trackerStep, 'tracker-heading');
}

encryptButton.addEventListener('click', () => encryptAndShow(reviewError, 'encrypt-progress', 'encrypt-label'));

$('tracker-back').addEventListener('click', () => {
  // Nothing was sent: this encryption is dropped, a fresh one is prepared for the new choice.
  abandon();
  delete document.body.dataset.tracker;
  prepare();
  backToChoices();
});

// --- sending ---------------------------------------------------------------------------------
/** POST `payload` to `url`; waits out 503 "busy" answers (nothing was stored: send it again). */
async function post(url, payload, label, again) {
  let response;
  for (let attempt = 0; ; attempt += 1) {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: payload,
    });
    if (response.status !== 503 || attempt >= BUSY_RETRIES) return response;
    const seconds = Math.min(Math.max(Number(response.headers.get('Retry-After')) || 1, 1), 30);
    label.textContent = fmt(M.busyRetry, { seconds });
    await new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });
    label.textContent = again;
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
async function signCast(api, ctx, ballotHash, symbols) {
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

/**
 * A refusal of a cast or an audit: the encryption on show is dropped (its seed may have reached
 * the server with an audit, or the ballot may need a new context), a fresh one is prepared, and
 * the voter goes back to the review step with the reason.
 */
function refused(message, { forgetCredential = false, dropContext = false } = {}) {
  abandon();
  delete document.body.dataset.tracker;
  if (forgetCredential) credential.forget();
  if (dropContext) context = null;
  if (document.body.dataset.pins === 'failed') {
    showReview();
    fail(reviewError, M.pinsMismatch);
    refusePins();
    return;
  }
  prepare();
  showReview();
  fail(reviewError, message);
}

function reasonOf(response, code, reason, M2) {
  if (response.status === 401) return M.signedOut;
  if (code === 'wrong_credential') return M.wrongCredential;
  if (code === 'bad_signature') return M.badSignature;
  if (code === 'polls_closed' || (response.status === 409 && /poll/i.test(reason))) return M.pollsClosed;
  if (response.status === 429) return M2.tooMany;
  return fmt(M2.failed, { reason: reason || response.status });
}

// --- cast (§14.1 step 2) ---------------------------------------------------------------------
castButton.addEventListener('click', async () => {
  if (!current) return;
  const api = window.SSBCrypto;
  // The voter chose to cast this encryption: its seed is no longer needed by anyone.  Erase it
  // now (docs/protocol.md §4.4), before anything is sent; signing needs only the ballot hash.
  api.eraseSeed(current.seed);
  current.seed = null;
  const { ballot, ballotHash } = current;
  castError.hidden = true;
  busy('cast-progress', 'cast-label', M.sending, true);
  let symbols;
  try {
    symbols = await credential.symbols();
  } catch (err) {
    busy('cast-progress', 'cast-label', '', false);
    refused(err.message);
    return;
  }
  let response;
  try {
    for (let stale = 0; ; stale += 1) {
      // Canonical JSON (docs/record.md §2.6): the server takes the ballot's bytes as they are.
      const payload = api.canonicalJson({
        contest: context.contest.id, ballot, credential: context.credential, previous: context.previous || '',
        signature: await signCast(api, context, ballotHash, symbols),
      });
      response = await post(data.castUrl, payload, $('cast-label'), M.sending);
      if (response.status !== 409 || stale >= STALE_RETRIES) break;
      const { code } = await errorOf(response.clone());
      if (code !== 'stale_previous') break;
      // Another device cast meanwhile: sign again with the credential's current ballot.
      $('cast-label').textContent = M.resigning;
      if (!(await reloadContext(api))) {
        busy('cast-progress', 'cast-label', '', false);
        refused(M.castAgain);
        return;
      }
      $('cast-label').textContent = M.sending;
    }
  } catch (err) {
    busy('cast-progress', 'cast-label', '', false);
    refused(document.body.dataset.pins === 'failed' ? M.pinsMismatch : M.networkFailed);
    return;
  }
  if (response.status === 201) {
    const body = await response.json();
    const seq = body.receipt.seq;
    try {
      // What this device encrypted (the tracker, not a secret): the receipt page compares the
      // signed receipt with it.
      sessionStorage.setItem(ballotHashKey(data.slug, seq), ballotHash);
    } catch (err) { /* storage disabled: the receipt page says it cannot compare */ }
    current = null;
    forgetChoices(); // cast: nothing to bring back any more
    if (encryptor) encryptor.cancel();
    encryptor = null;
    prepared = null;
    window.location.assign(body.receipt_url);
    return;
  }
  busy('cast-progress', 'cast-label', '', false);
  const { code, reason } = await errorOf(response);
  if (response.status === 401) {
    // The session ended: nothing was recorded.  The choices stay on this device; the voter
    // signs in again and comes back here to cast (docs/accounts.md §4).
    abandon();
    delete document.body.dataset.tracker;
    context = null;
    showReview();
    fail(reviewError, M.signedOut);
    showSessionEnded();
    return;
  }
  if (code === 'stale_previous') refused(M.castAgain, { dropContext: true });
  else refused(reasonOf(response, code, reason, { tooMany: M.tooManyCasts, failed: M.castFailed }),
    { forgetCredential: code === 'wrong_credential' });
});

// --- audit (§14.1 step 3) --------------------------------------------------------------------
auditButton.addEventListener('click', async () => {
  if (!current) return;
  const api = window.SSBCrypto;
  castError.hidden = true;
  busy('cast-progress', 'cast-label', M.auditing, true);
  // From here this encryption is never cast, whatever happens: its seed is being published.
  const audited = current;
  current = null;
  delete document.body.dataset.tracker;
  let response;
  try {
    const symbols = await credential.symbols();
    const seed = api.seedHex(audited.seed);
    const { signature } = await api.credential.signAudit({
      electionId: context.election_id, opening: openingHash, contest: context.contest.id,
      pseudonym: context.pseudonym, credential: context.credential, ballotHash: audited.ballotHash, seed,
    }, symbols);
    const payload = api.canonicalJson({
      contest: context.contest.id, ballot: audited.ballot, credential: context.credential, seed, signature,
    });
    response = await post(data.auditUrl, payload, $('cast-label'), M.auditing);
  } catch (err) {
    busy('cast-progress', 'cast-label', '', false);
    api.eraseSeed(audited.seed);
    refused(err instanceof TypeError || !(err && err.message) ? M.networkFailedAudit : err.message);
    return;
  }
  api.eraseSeed(audited.seed); // published with the audit (or refused): this device needs it no more
  audited.seed = null;
  busy('cast-progress', 'cast-label', '', false);
  if (response.status !== 201) {
    const { code, reason } = await errorOf(response);
    refused(reasonOf(response, code, reason, { tooMany: M.tooManyAudits, failed: M.auditFailed }),
      { forgetCredential: code === 'wrong_credential' });
    return;
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) { /* checked below */ }
  const seq = body && Number.isSafeInteger(body.seq) && body.seq > 0 ? body.seq : null;
  // The server's answer must name this ballot: otherwise the code would check something else.
  if (seq === null || body.ballot_hash !== audited.ballotHash || body.code !== auditCode(seq, audited.ballotHash)) {
    refused(fmt(M.auditFailed, { reason: 'answer' }));
    return;
  }
  // A fresh encryption of the same choices starts at once (§14.1: back to step 1).
  prepare();
  showAuditCode(seq, audited.ballotHash, body.code);
});

function showAuditCode(seq, ballotHash, code) {
  $('audit-position').textContent = String(seq);
  $('audit-tracker').textContent = shortTracker(ballotHash);
  $('audit-tracker-full').textContent = ballotHash;
  $('audit-code').value = code;
  $('audit-error').hidden = true;
  const canvas = $('audit-qr');
  delete canvas.dataset.drawn;
  canvas.hidden = false;
  const qr = window.SSBQR;
  const draw = qr ? qr.drawQr(canvas, code, { width: 256 }) : Promise.reject(new Error('no QR bundle'));
  draw.then(() => { canvas.dataset.drawn = 'true'; }, () => {
    canvas.hidden = true;
    fail($('audit-error'), M.qrFailed);
  });
  const count = Number(auditStep.dataset.audits || '0') + 1;
  auditStep.dataset.audits = String(count);
  auditStep.dataset.code = code;
  showStep(auditStep, 'audit-heading');
}

$('audit-next').addEventListener('click', () => encryptAndShow($('audit-error'), 'audit-progress', 'audit-label'));
$('audit-change').addEventListener('click', backToChoices);

const restored = restoreChoices();
refresh();
if (restored) $('restored-note').hidden = false;
prepare();
