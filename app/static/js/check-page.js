// The audit check (/check/<slug>, docs/protocol.md §14.4, docs/record.md §2.6), on any device,
// without sign-in: from an audit code (or a board position and a short tracker) fetch the audit
// entry and its ballot, and show the choices only if the entry is an audit, the ballot hashes
// to its ballot_hash, that is the code's tracker, its voter's credential signed the audit, and
// the published seed opens the ballot (§5.6).  Before anything, the election key must be the
// one the credential authority pinned (docs/record.md §2.0).
import { codeEntry } from './code-entry.js';
import { AUDIT_PATTERN, fmt, pageData, shortTracker } from './common.js';

const data = pageData('check-data');
const M = data.messages;
const E = data.election;
const $ = (id) => document.getElementById(id);
const form = $('check-form');
const errorBox = $('check-error');
const progress = $('check-progress');
const result = $('check-result');

class CheckFailed extends Error {}

function showError(message) {
  progress.hidden = true;
  errorBox.textContent = message;
  errorBox.hidden = false;
  $('check-button').disabled = false;
  document.body.dataset.check = 'failed';
}

/** {seq, hash} from the audit code (docs/protocol.md §14.4), or {seq, prefix} typed; or null. */
const entry = codeEntry({
  name: 'code',
  parse(code) {
    const match = AUDIT_PATTERN.exec(code);
    return match ? { seq: Number(match[1]), hash: match[2] } : null;
  },
  M: { invalid: M.badCode, qrReading: M.qrReading, qrFound: M.qrFound, qrNone: M.qrNone },
});

/** The opening hash if the page's election key is the one the CA-signed opening pins. */
async function checkPins(api) {
  const opening = E.opening;
  if (!opening || typeof opening !== 'object' || !E.ca_key || !E.election_key) throw new CheckFailed(M.pinsMismatch);
  if (!api.credential.verifySignedObject(opening, E.ca_key) || opening.type !== 'ssbvote-opening'
      || opening.election_id !== E.election_id || opening.ca_key !== E.ca_key
      || (await api.hazmat.objectHash(E.election_key)) !== opening.election_key) {
    throw new CheckFailed(M.pinsMismatch);
  }
  return api.hazmat.objectHash(opening);
}

async function fetchAudit(seq) {
  let response;
  try {
    response = await fetch(data.auditsUrl + String(seq), {
      credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' },
    });
  } catch (err) {
    throw new CheckFailed(M.network);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) { /* e.g. the rate limiter's HTML page */ }
  if (response.status === 404) throw new CheckFailed(M.notFound);
  if (response.status === 429) throw new CheckFailed(M.tooFast);
  if (response.status !== 200 || !body || typeof body !== 'object') {
    throw new CheckFailed(fmt(M.failed, { reason: (body && body.error) || response.status }));
  }
  return body;
}

/** The selections the audited ballot holds, after every check of §14.4; or CheckFailed. */
async function openAudit(api, wanted) {
  const openingHash = await checkPins(api);
  const { entry, ballot } = await fetchAudit(wanted.seq);
  if (!entry || typeof entry !== 'object' || entry.kind !== 'audit') throw new CheckFailed(M.notAudit);
  if (entry.seq !== wanted.seq || entry.election_id !== E.election_id) throw new CheckFailed(M.hashMismatch);
  let computed;
  try {
    computed = await api.ballotHash(ballot);
  } catch (err) {
    throw new CheckFailed(M.hashMismatch);
  }
  if (computed !== entry.ballot_hash) throw new CheckFailed(M.hashMismatch);
  if (wanted.hash !== undefined ? computed !== wanted.hash : !computed.startsWith(wanted.prefix)) {
    throw new CheckFailed(M.codeMismatch);
  }
  const statement = {
    type: 'ssbvote-audit', election_id: entry.election_id, opening: openingHash, contest: entry.contest,
    pseudonym: entry.pseudonym, credential: entry.credential, ballot_hash: entry.ballot_hash, seed: entry.seed,
  };
  if (!api.credential.verifyAuditSignature(statement, entry.signature)) throw new CheckFailed(M.badSignature);
  const candidates = Object.prototype.hasOwnProperty.call(E.contests, entry.contest) ? E.contests[entry.contest] : null;
  if (!candidates) throw new CheckFailed(M.notOpened);
  let selections;
  try {
    selections = await api.recoverSelections({
      publicKey: E.election_key, electionId: E.election_id, contestId: entry.contest,
      // The ballot party (docs/protocol.md §13.4): <pseudonym>/<credential>.
      pseudonym: api.credential.ballotParty(entry.pseudonym, entry.credential),
      ballot, seedHex: entry.seed,
    });
  } catch (err) {
    throw new CheckFailed(M.notOpened);
  }
  if (selections.length !== candidates.length) throw new CheckFailed(M.notOpened);
  return { entry, picked: candidates.filter((c, i) => selections[i] === 1) };
}

function showResult(entry, picked) {
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
    ? fmt(M.chosen, { seq: entry.seq, n: picked.length }) : fmt(M.blank, { seq: entry.seq });
  $('result-seq').textContent = String(entry.seq);
  $('result-tracker').textContent = shortTracker(entry.ballot_hash);
  $('result-hash').textContent = entry.ballot_hash;
  progress.hidden = true;
  $('check-button').disabled = false;
  result.hidden = false;
  document.body.dataset.check = 'ok';
  $('result-heading').focus();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  result.hidden = true;
  delete document.body.dataset.check;
  const wanted = entry.read();
  if (!wanted) return;
  const api = window.SSBCrypto;
  if (!api || !window.crypto || !crypto.subtle) {
    showError(M.noSupport);
    return;
  }
  $('check-button').disabled = true;
  progress.hidden = false;
  try {
    const { entry, picked } = await openAudit(api, wanted);
    showResult(entry, picked);
  } catch (err) {
    showError(err instanceof CheckFailed ? err.message : fmt(M.failed, { reason: String((err && err.message) || err) }));
  }
});
