// Voter and official credentials, their Ed25519 signing keys and the ballot signature
// (docs/protocol.md §13.1–§13.4); server-signed objects such as receipts (docs/record.md §1).
// Mirrors crypto/credential.py; both reproduce tests/vectors/credentials.json.
//
// SHA-256 and HKDF-SHA256 come from WebCrypto.  Ed25519 (RFC 8032) key derivation and signing
// use WebCrypto's native Ed25519 where the browser has it (feature-detected once against the
// RFC 8032 test vector 1, so outputs are byte for byte those of the fallback) and otherwise
// @noble/curves (audited, bundled).  Verification always uses @noble/curves with strict RFC 8032
// semantics (zip215: false), which native implementations do not all promise.  A credential is the voter's secret: it is parsed, turned into a key, used and
// dropped; nothing here stores it.

import { ed25519 } from '@noble/curves/ed25519.js';

import { bytesToHex, hexToBytes } from './bigint.js';
import { canonicalJsonBytes, lpEncode } from './encoding.js';
import { InvalidInput } from './errors.js';
import { sha256, subtle } from './hashing.js';

/** Crockford base 32 (§13.1): no I, L, O, U.  A symbol's value is its index. */
export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const DATA_SYMBOLS = 26;
export const SYMBOLS = 28;
export const DOMAIN_CHECK = 'ssb-vote/v2/credential-check';
export const DOMAIN_SIGNING_KEY = 'ssb-vote/v2/signing-key';
export const PURPOSE_VOTER = 'voter';
export const PURPOSE_OFFICIAL = 'official';
export const SCOPE_OFFICIALS = 'ssbvote-officials';
export const QR_PREFIX = 'ssbvote-credential:1:';
export const BALLOT_TYPE = 'ssbvote-ballot';
export const AUDIT_TYPE = 'ssbvote-audit';
export const PAPER_LIST_TYPE = 'ssbvote-paper-overrides';
/** The one message of a credential that cannot be read (§13.1): the voter types it again. */
export const MISTYPED = 'credential mistyped';

const STATEMENT_KEYS = ['type', 'election_id', 'opening', 'contest', 'pseudonym', 'credential', 'previous', 'ballot_hash'];
const AUDIT_KEYS = ['type', 'election_id', 'opening', 'contest', 'pseudonym', 'credential', 'ballot_hash', 'seed'];
const SEPARATORS = new Set([' ', '\t', '\r', '\n', '-']);
const TYPED = new Map();
for (const s of ALPHABET) {
  TYPED.set(s, s);
  TYPED.set(s.toLowerCase(), s);
}
for (const [typed, symbol] of [['O', '0'], ['o', '0'], ['I', '1'], ['i', '1'], ['L', '1'], ['l', '1']]) {
  TYPED.set(typed, symbol);
}
const CANONICAL_RE = /^[0-9A-HJKMNP-TV-Z]{28}$/;
const DATA_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const SCOPE_RE = /^[\x21-\x7e]{1,256}$/;
const HEX_RE = /^[0-9a-f]*$/;
const MAX_CONTEST = 256;

function mistyped() {
  return new InvalidInput(MISTYPED);
}

function requireHex(value, digits, what) {
  if (typeof value !== 'string' || value.length !== digits || !HEX_RE.test(value)) {
    throw new InvalidInput(`${what}: expected ${digits} lowercase hex digits`);
  }
  return value;
}

// §13.1 Credential text ----------------------------------------------------------------------

/** The 2 check symbols of 26 data symbols: x = first 10 bits of SHA-256(LP(domain, data)). */
export async function checkSymbols(data) {
  if (typeof data !== 'string' || !DATA_RE.test(data)) {
    throw new InvalidInput(`credential data: expected ${DATA_SYMBOLS} symbols of the alphabet`);
  }
  const h = await sha256(lpEncode(DOMAIN_CHECK, data));
  const x = (h[0] << 2) | (h[1] >> 6);
  return ALPHABET[x >> 5] + ALPHABET[x & 31];
}

/** The 28-symbol credential (no separators) with data symbols `data`. */
export async function credentialFromData(data) {
  return data + (await checkSymbols(data));
}

/**
 * What a voter typed → 28 candidate symbols, without the check (synchronous, for feedback while
 * typing): drop ASCII white space and '-', upper-case ASCII letters, O → 0, I/L → 1.  Throws
 * InvalidInput("credential mistyped") on any other character or a wrong length.
 */
export function normaliseCredential(text) {
  if (typeof text !== 'string' || text.length > 4 * SYMBOLS) throw mistyped();
  let out = '';
  for (const char of text) {
    if (SEPARATORS.has(char)) continue;
    const symbol = TYPED.get(char);
    if (symbol === undefined) throw mistyped();
    out += symbol;
  }
  if (out.length !== SYMBOLS) throw mistyped();
  return out;
}

/** What a voter typed → the 28 canonical symbols, or InvalidInput("credential mistyped") (§13.1). */
export async function parseCredential(text) {
  const symbols = normaliseCredential(text);
  if ((await checkSymbols(symbols.slice(0, DATA_SYMBOLS))) !== symbols.slice(DATA_SYMBOLS)) throw mistyped();
  return symbols;
}

/** True if `text` parses (§13.1). */
export async function isCredential(text) {
  try {
    await parseCredential(text);
    return true;
  } catch (err) {
    if (err instanceof InvalidInput) return false;
    throw err;
  }
}

/** 7 groups of 4 joined by '-' (§13.1); a mistyped credential is never formatted. */
export async function formatCredential(text) {
  const symbols = await parseCredential(text);
  return symbols.match(/.{4}/g).join('-');
}

/** A fresh credential from crypto.getRandomValues (130 bits), formatted (§13.1). */
export async function generateCredential() {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(DATA_SYMBOLS));
  let data = '';
  for (const b of bytes) data += ALPHABET[b & 31]; // 256 is a multiple of 32: uniform
  return formatCredential(await credentialFromData(data));
}

/** The letter's QR text `ssbvote-credential:1:<election_id>:<28 symbols>` (§13.1). */
export async function credentialQrText(electionId, credential) {
  requireHex(electionId, 64, 'election_id');
  return `${QR_PREFIX}${electionId}:${await parseCredential(credential)}`;
}

/** {electionId, credential (28 symbols)} from a letter's QR text, read strictly (§13.1). */
export async function parseCredentialQr(text) {
  if (typeof text !== 'string' || !text.startsWith(QR_PREFIX)) {
    throw new InvalidInput('credential QR code: not an SSB Vote credential');
  }
  const rest = text.slice(QR_PREFIX.length);
  const colon = rest.indexOf(':');
  const electionId = colon < 0 ? '' : rest.slice(0, colon);
  if (colon < 0 || electionId.length !== 64 || !HEX_RE.test(electionId)) {
    throw new InvalidInput('credential QR code: bad election id');
  }
  const symbols = rest.slice(colon + 1);
  if (!CANONICAL_RE.test(symbols)) throw mistyped();
  return { electionId, credential: await parseCredential(symbols) };
}

// §13.2 Signing key --------------------------------------------------------------------------

const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/**
 * seed = HKDF-SHA256(IKM = ASCII(data symbols), salt = ASCII(scope),
 *                    info = LP("ssb-vote/v2/signing-key", purpose), 32 bytes) (§13.2).
 * The seed is the Ed25519 secret key (RFC 8032).
 */
export async function signingSeed(credential, purpose, scope) {
  const symbols = await parseCredential(credential);
  if (typeof purpose !== 'string' || purpose.length === 0) {
    throw new InvalidInput('purpose: expected a non-empty string');
  }
  if (typeof scope !== 'string' || !SCOPE_RE.test(scope)) {
    throw new InvalidInput('scope: expected 1 to 256 printable ASCII characters');
  }
  const ikm = await subtle().importKey('raw', ascii(symbols.slice(0, DATA_SYMBOLS)), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: ascii(scope), info: lpEncode(DOMAIN_SIGNING_KEY, purpose) }, ikm, 256,
  );
  return new Uint8Array(bits);
}

/** A voter's Ed25519 secret key (32 bytes): purpose "voter", scope the election id (§13.2). */
export async function voterKey(credential, electionId) {
  return signingSeed(credential, PURPOSE_VOTER, requireHex(electionId, 64, 'election_id'));
}

/** An official's Ed25519 secret key (32 bytes): purpose "official", scope "ssbvote-officials". */
export async function officialKey(credential) {
  return signingSeed(credential, PURPOSE_OFFICIAL, SCOPE_OFFICIALS);
}

/** The public credential: lowercase hex of the 32-byte Ed25519 public key of a secret key. */
export function publicCredential(secretKey) {
  return bytesToHex(ed25519.getPublicKey(secretKey));
}

// Native WebCrypto Ed25519 fast path (signing only) ------------------------------------------

/** PKCS#8 DER of an Ed25519 private key: this prefix ‖ the 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = hexToBytes('302e020100300506032b657004220420');
const ED25519 = { name: 'Ed25519' };
// RFC 8032 §7.1 test 1: secret key, public key and the signature of the empty message.
const RFC8032_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIGNATURE = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
let nativeEd25519 = null; // Promise<boolean>, settled once

function base64UrlToBytes(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('bad base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** {publicKey (64 hex), sign(message) → Promise<Uint8Array>} by native WebCrypto; throws if it cannot. */
async function nativeSigner(secretKey) {
  const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  der.set(PKCS8_ED25519_PREFIX);
  der.set(secretKey, PKCS8_ED25519_PREFIX.length);
  try {
    const key = await subtle().importKey('pkcs8', der, ED25519, true, ['sign']);
    const publicKey = base64UrlToBytes((await subtle().exportKey('jwk', key)).x);
    if (publicKey.length !== 32) throw new Error('Ed25519 public key: expected 32 bytes');
    return {
      publicKey: bytesToHex(publicKey),
      sign: async (message) => {
        const signature = new Uint8Array(await subtle().sign(ED25519, key, message));
        if (signature.length !== 64) throw new Error('Ed25519 signature: expected 64 bytes');
        return signature;
      },
    };
  } finally {
    der.fill(0);
  }
}

/** True if native Ed25519 works here and reproduces RFC 8032 test 1 exactly (checked once). */
function hasNativeEd25519() {
  if (nativeEd25519 === null) {
    nativeEd25519 = (async () => {
      try {
        const signer = await nativeSigner(hexToBytes(RFC8032_SEED));
        return signer.publicKey === RFC8032_PUBLIC
          && bytesToHex(await signer.sign(new Uint8Array(0))) === RFC8032_SIGNATURE;
      } catch {
        return false;
      }
    })();
  }
  return nativeEd25519;
}

/** The signer of a secret key: native WebCrypto Ed25519 if available, else @noble/curves. */
async function signerOf(secretKey) {
  if (await hasNativeEd25519()) {
    try {
      return await nativeSigner(secretKey);
    } catch {
      // fall through to noble
    }
  }
  return {
    publicKey: publicCredential(secretKey),
    sign: async (message) => ed25519.sign(message, secretKey),
  };
}

// §13.3 Ballot signature, §13.4 ballot party -------------------------------------------------

/** The Fiat–Shamir party and ballot-context string `<pseudonym>/<credential>` (§13.4). */
export function ballotParty(pseudonym, credential) {
  return `${requireHex(pseudonym, 32, 'pseudonym')}/${requireHex(credential, 64, 'credential')}`;
}

/**
 * The §13.3 ballot statement (signed object without `signature`), validated.  `credential` is
 * the public credential (64 hex); `previous` the ballot_hash of this credential's current
 * ballot on the board, '' for its first (required: the server tells the device).
 */
export function ballotStatement({ electionId, opening, contest, pseudonym, credential, ballotHash, previous }) {
  if (typeof contest !== 'string' || contest.length === 0 || [...contest].length > MAX_CONTEST) {
    throw new InvalidInput('contest: expected a non-empty string');
  }
  if (previous !== '') requireHex(previous, 64, 'previous');
  return {
    type: BALLOT_TYPE,
    election_id: requireHex(electionId, 64, 'election_id'),
    opening: requireHex(opening, 64, 'opening'),
    contest,
    pseudonym: requireHex(pseudonym, 32, 'pseudonym'),
    credential: requireHex(credential, 64, 'credential'),
    previous,
    ballot_hash: requireHex(ballotHash, 64, 'ballot_hash'),
  };
}

/**
 * Sign a ballot with the credential the voter typed (§13.3).  `fields` = {electionId, opening,
 * contest, pseudonym, ballotHash, previous, credential?}; `credential`, if given, is the public
 * credential registered for this voter, and a typed credential with another key is refused.
 * Returns {statement, signature (128 hex)}.
 */
export async function signBallot(fields, credentialText) {
  const signer = await signerOf(await voterKey(credentialText, fields.electionId));
  const credential = signer.publicKey;
  if (fields.credential !== undefined && fields.credential !== credential) {
    throw new InvalidInput('credential: this is not the credential registered for you');
  }
  const statement = ballotStatement({ ...fields, credential });
  const signature = bytesToHex(await signer.sign(canonicalJsonBytes(statement)));
  return { statement, signature };
}

// §14.2 Audit statement ------------------------------------------------------------------------

/**
 * The §14.2 audit statement (signed object without `signature`), validated: the ballot
 * statement's fields without `previous`, type "ssbvote-audit", and `seed` (64 hex), the audited
 * ballot's seed that the server and the check page open it with.
 */
export function auditStatement({ electionId, opening, contest, pseudonym, credential, ballotHash, seed }) {
  const { previous: _none, ...body } = ballotStatement({
    electionId, opening, contest, pseudonym, credential, ballotHash, previous: '',
  });
  return { ...body, type: AUDIT_TYPE, seed: requireHex(seed, 64, 'seed') };
}

/**
 * Sign an audit (§14.2) with the credential the voter typed.  `fields` = {electionId, opening,
 * contest, pseudonym, ballotHash, seed (64 hex), credential?}; as signBallot, a typed credential
 * that is not the registered one is refused.  Returns {statement, signature (128 hex)}.
 */
export async function signAudit(fields, credentialText) {
  const signer = await signerOf(await voterKey(credentialText, fields.electionId));
  const credential = signer.publicKey;
  if (fields.credential !== undefined && fields.credential !== credential) {
    throw new InvalidInput('credential: this is not the credential registered for you');
  }
  const statement = auditStatement({ ...fields, credential });
  const signature = bytesToHex(await signer.sign(canonicalJsonBytes(statement)));
  return { statement, signature };
}

/** True if `signature` is the statement's credential's signature of the audit statement (§14.2). */
export function verifyAuditSignature(statement, signature) {
  let checked;
  try {
    if (statement === null || typeof statement !== 'object' || statement.type !== AUDIT_TYPE) return false;
    const keys = Object.keys(statement);
    if (keys.length !== AUDIT_KEYS.length || !AUDIT_KEYS.every((k) => keys.includes(k))) return false;
    checked = auditStatement({
      electionId: statement.election_id, opening: statement.opening, contest: statement.contest,
      pseudonym: statement.pseudonym, credential: statement.credential, ballotHash: statement.ballot_hash,
      seed: statement.seed,
    });
  } catch (err) {
    if (err instanceof InvalidInput) return false;
    throw err;
  }
  return verifyBytes(signature, canonicalJsonBytes(checked), checked.credential);
}

/** The objects an official signs (docs/record.md §2.4, §2.7, §4.6): one signing rule for all. */
export const OFFICIAL_TYPES = Object.freeze([PAPER_LIST_TYPE, 'ssbvote-poll-extension', 'ssbvote-lot']);

/**
 * An official signs a two-official object — the paper-vote list, a poll extension or a lot
 * (docs/record.md §2.4, §2.7, §4.6) — with the official credential they typed: Ed25519 by
 * officialKey(credential) over the canonical JSON of the object without `signatures` (`body`
 * must not carry it).  `expected`, if given, is the official's pinned public key (record.md
 * §2.0): a credential with another key is refused.  Returns {officialKey (64 hex), digest
 * (SHA-256 hex of the signed bytes, the object's digest), signature (128 hex)}.
 */
export async function signOfficialObject(body, credentialText, expected = undefined, type = undefined) {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !OFFICIAL_TYPES.includes(body.type)
      || (type !== undefined && body.type !== type)) {
    throw new InvalidInput(`official signature: expected an object of type ${type || OFFICIAL_TYPES.join(' or ')}`);
  }
  if ('signatures' in body || 'signature' in body) {
    throw new InvalidInput('official signature: sign the object without its signatures');
  }
  const signer = await signerOf(await officialKey(credentialText));
  const publicKey = signer.publicKey;
  if (expected !== undefined && expected !== null && expected !== publicKey) {
    throw new InvalidInput('credential: this is not your official credential');
  }
  const message = canonicalJsonBytes(body);
  return {
    officialKey: publicKey,
    digest: bytesToHex(await sha256(message)),
    signature: bytesToHex(await signer.sign(message)),
  };
}

/**
 * An official signs the paper-vote list (docs/record.md §2.4): {@link signOfficialObject} for
 * an object of type ssbvote-paper-overrides.
 */
export async function signPaperList(body, credentialText, expected = undefined) {
  try {
    return await signOfficialObject(body, credentialText, expected, PAPER_LIST_TYPE);
  } catch (err) {
    if (err instanceof InvalidInput && /^official signature/.test(err.message)) {
      throw new InvalidInput(err.message.replace('official signature', 'paper-vote list')
        .replace('the object', 'the list'));
    }
    throw err;
  }
}

/** True if `signature` (hex) is `publicKeyHex`'s signature of the paper-vote list `body` (§2.4). */
export function verifyPaperListSignature(body, signature, publicKeyHex) {
  return verifyWithout(body, 'signatures', signature, publicKeyHex);
}

/** Verify `signatureHex` over the canonical JSON of `obj` without its field `field` (record.md §1, §2.4). */
function verifyWithout(obj, field, signatureHex, publicKeyHex) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return false;
  const { [field]: _omitted, ...unsigned } = obj;
  let message;
  try {
    message = canonicalJsonBytes(unsigned);
  } catch {
    return false;
  }
  return verifyBytes(signatureHex, message, publicKeyHex);
}

function verifyBytes(signatureHex, message, publicKeyHex) {
  if (typeof signatureHex !== 'string' || signatureHex.length !== 128 || !HEX_RE.test(signatureHex)) return false;
  if (typeof publicKeyHex !== 'string' || publicKeyHex.length !== 64 || !HEX_RE.test(publicKeyHex)) return false;
  try {
    return ed25519.verify(hexToBytes(signatureHex), message, hexToBytes(publicKeyHex), { zip215: false });
  } catch {
    return false;
  }
}

/** True if `signature` is the statement's credential's signature of the statement (§13.3). */
export function verifyBallotSignature(statement, signature) {
  let checked;
  try {
    if (statement === null || typeof statement !== 'object' || statement.type !== BALLOT_TYPE) return false;
    const keys = Object.keys(statement);
    if (keys.length !== STATEMENT_KEYS.length || !STATEMENT_KEYS.every((k) => keys.includes(k))) return false;
    checked = ballotStatement({
      electionId: statement.election_id, opening: statement.opening, contest: statement.contest,
      pseudonym: statement.pseudonym, credential: statement.credential, ballotHash: statement.ballot_hash,
      previous: statement.previous,
    });
  } catch (err) {
    if (err instanceof InvalidInput) return false;
    throw err;
  }
  return verifyBytes(signature, canonicalJsonBytes(checked), checked.credential);
}

/**
 * True if `obj` (e.g. a receipt, a checkpoint, the opening object) carries a valid Ed25519
 * `signature` by the key whose 32 raw bytes are `publicKeyHex`: the signature is over the
 * canonical JSON of `obj` without `signature` (docs/record.md §1).
 */
export function verifySignedObject(obj, publicKeyHex) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return false;
  return verifyWithout(obj, 'signature', obj.signature, publicKeyHex);
}
