// The tracker lookup (/track/<slug>, docs/protocol.md §14.5, docs/record.md §2.6): anyone gives
// a receipt's QR text, a full tracker, or a board position and a short tracker, and learns at
// which position the ballot is and, after the close, whether it was counted, superseded,
// audited, or excluded (paper vote, revoked).  A tracker reveals nothing about the choices.
import { codeEntry } from './code-entry.js';
import { HASH_PATTERN, TRACKER_PATTERN, fmt, pageData, shortTracker } from './common.js';

const data = pageData('track-data');
const M = data.messages;
const $ = (id) => document.getElementById(id);
const errorBox = $('track-error');
const result = $('track-result');

class LookupFailed extends Error {}

/** {seq, hash} from a QR text, {seq: null, hash} from a full tracker, {seq, prefix} typed; or null. */
const entry = codeEntry({
  name: 'tracker',
  parse(text) {
    const qr = TRACKER_PATTERN.exec(text);
    if (qr) return { seq: Number(qr[1]), hash: qr[2] };
    const hash = text.toLowerCase();
    return HASH_PATTERN.test(hash) ? { seq: null, hash } : null;
  },
  M: { invalid: M.badTracker, qrFound: M.qrFound, qrNone: M.qrNone },
});

async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch (err) {
    throw new LookupFailed(M.network);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) { /* not JSON */ }
  if (response.status === 404) return null;
  if (response.status === 429) throw new LookupFailed(M.tooFast);
  if (response.status !== 200 || !body || typeof body !== 'object') {
    throw new LookupFailed(fmt(M.failed, { reason: (body && body.error) || response.status }));
  }
  return body;
}

/** The full tracker at board position `seq` if it starts with `prefix`. */
async function hashAt(seq, prefix) {
  const page = await getJson(`${data.boardUrl}?after=${seq - 1}&limit=1`);
  const entry = page && Array.isArray(page.entries) ? page.entries[0] : null;
  if (!entry || entry.seq !== seq || typeof entry.ballot_hash !== 'string' || !entry.ballot_hash.startsWith(prefix)) {
    throw new LookupFailed(M.positionMismatch);
  }
  return entry.ballot_hash;
}

const STATUS = {
  counted: 'counted', superseded: 'superseded', audited: 'audited', 'paper-vote': 'paperVote', revoked: 'revoked',
};

async function lookUp(wanted) {
  const hash = wanted.hash !== undefined ? wanted.hash : await hashAt(wanted.seq, wanted.prefix);
  const found = await getJson(data.trackersUrl + hash);
  if (found === null) throw new LookupFailed(wanted.seq === null ? M.notFound : M.positionMismatch);
  if (!Number.isSafeInteger(found.seq) || (wanted.seq !== null && found.seq !== wanted.seq)) {
    throw new LookupFailed(M.positionMismatch);
  }
  return { hash, ...found };
}

function show({ hash, seq, kind, status }) {
  let key;
  if (status === 'on-board') key = kind === 'audit' ? 'onBoardAudit' : 'onBoard';
  else key = STATUS[status] || 'unknownStatus';
  $('track-status').textContent = fmt(M[key], { seq });
  $('track-short').textContent = shortTracker(hash);
  $('track-hash').textContent = hash;
  $('track-seq').textContent = String(seq);
  result.dataset.status = String(status);
  result.dataset.kind = String(kind);
  result.hidden = false;
  $('track-heading').focus();
}

$('track-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  result.hidden = true;
  const wanted = entry.read();
  if (!wanted) return;
  $('track-button').disabled = true;
  try {
    show(await lookUp(wanted));
  } catch (err) {
    errorBox.textContent = err instanceof LookupFailed ? err.message : fmt(M.failed, { reason: String((err && err.message) || err) });
    errorBox.hidden = false;
  } finally {
    $('track-button').disabled = false;
  }
});
