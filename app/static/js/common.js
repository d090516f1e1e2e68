// Helpers shared by the voting pages' scripts (no inline script: CSP script-src 'self').

/** The JSON data block `id` of the page (translated messages, URLs). */
export function pageData(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

/** Fill {name} placeholders of a translated message. */
export function fmt(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
}

/** Set a determinate progress bar (role=progressbar) to `fraction` (0 … 1). */
export function setProgress(bar, fraction) {
  const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  bar.setAttribute('aria-valuenow', String(pct));
  bar.setAttribute('aria-valuetext', `${pct}%`);
  // CSSOM writes are allowed under style-src 'self' (only style attributes/elements are not).
  bar.querySelector('.progress-fill').style.width = `${pct}%`;
  return pct;
}

/** The short form of a tracker (docs/protocol.md §14.1): its first 8 hex digits as 2 groups of 4. */
export function shortTracker(ballotHash) {
  return `${ballotHash.slice(0, 4)} ${ballotHash.slice(4, 8)}`;
}

/** The audit code `ssbvote-audit:1:<seq>:<ballot_hash>` (docs/protocol.md §14.4). */
export function auditCode(seq, ballotHash) {
  return `ssbvote-audit:1:${seq}:${ballotHash}`;
}

/** The receipt's QR text `ssbvote-tracker:1:<seq>:<ballot_hash>` (docs/record.md §2.5). */
export function trackerText(seq, ballotHash) {
  return `ssbvote-tracker:1:${seq}:${ballotHash}`;
}

// seq: decimal without leading zeros; the hash: 64 lowercase hex (read strictly).
export const AUDIT_PATTERN = /^ssbvote-audit:1:([1-9][0-9]{0,11}):([0-9a-f]{64})$/;
export const TRACKER_PATTERN = /^ssbvote-tracker:1:([1-9][0-9]{0,11}):([0-9a-f]{64})$/;
export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/**
 * A board position and a short tracker as a voter types them: {seq, prefix} with prefix the
 * 8 lowercase hex digits (spaces dropped, capitals allowed), or null.
 */
export function positionAndShort(positionText, shortText) {
  const position = String(positionText).trim();
  const prefix = String(shortText).replace(/\s+/g, '').toLowerCase();
  if (!/^[1-9][0-9]{0,11}$/.test(position) || !/^[0-9a-f]{8}$/.test(prefix)) return null;
  return { seq: Number(position), prefix };
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

export const CREDENTIAL_PREFIX = 'ssbvote-credential:';

/**
 * sessionStorage key of the voter's credential (the 28 symbols) for election `electionId`.
 *
 * The credential is typed once per tab session: after it has been checked against the public
 * credential registered for the signed-in voter, the ballot page keeps it in this tab's
 * sessionStorage so that a re-vote (or a cast retried after a reload) does not ask for it again.
 * sessionStorage belongs to this tab and this origin only, is never sent to the server and is
 * dropped when the tab closes; signing out clears it (session-end.js).  Officials' credentials
 * are never stored: they are typed for each signature.
 */
export function credentialKey(electionId) {
  return `${CREDENTIAL_PREFIX}${electionId}`;
}

/** sessionStorage key of the ballot hash this tab computed for the ballot at `seq` (receipt check). */
export function ballotHashKey(slug, seq) {
  return `ssbvote-ballot-hash:${slug}:${seq}`;
}

/** Forget every credential this tab holds (sign-out). */
export function forgetCredentials() {
  try {
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const key = sessionStorage.key(i);
      if (key && key.startsWith(CREDENTIAL_PREFIX)) sessionStorage.removeItem(key);
    }
  } catch (err) { /* storage disabled: nothing was stored */ }
}

export const CHOICES_PREFIX = 'ssbvote-choices:';

/** Forget the ballot choices this tab kept across a re-sign-in (sign-out; docs/accounts.md §4). */
export function forgetChoices() {
  try {
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const key = sessionStorage.key(i);
      if (key && (key.startsWith(CHOICES_PREFIX) || key === 'ssbvote-resume')) sessionStorage.removeItem(key);
    }
  } catch (err) { /* storage disabled: nothing was stored */ }
}
