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

/** hex SHA-256("ssbvote-check-v1" ‖ seed): the check token sent with the ballot (§2.5). */
export async function checkToken(seedHex) {
  const prefix = new TextEncoder().encode('ssbvote-check-v1');
  const seed = hexToBytes(seedHex);
  const data = new Uint8Array(prefix.length + seed.length);
  data.set(prefix, 0);
  data.set(seed, prefix.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function hexToBytes(hex) {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error('not lowercase hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** sessionStorage key of a receipt code: only this browser tab ever holds the seed. */
export function receiptKey(slug, seq) {
  return `ssbvote-check:${slug}:${seq}`;
}

export const QR_PATTERN = /^ssbvote-check:1:([1-9][0-9]{0,11}):([0-9a-f]{64})$/;

export function qrText(seq, seedHex) {
  return `ssbvote-check:1:${seq}:${seedHex}`;
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
