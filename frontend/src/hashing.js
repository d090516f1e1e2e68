// SHA-256 and the single Fiat–Shamir challenge function (docs/protocol.md §3), via WebCrypto
// (globalThis.crypto.subtle: browsers, workers and Node ≥ 20).  Mirrors crypto/hashing.py.

import { bytesToBigInt, bytesToHex } from './bigint.js';
import { canonicalJsonBytes, lpEncode } from './encoding.js';

export const CHALLENGE_BITS = 128;
export const CHALLENGE_MODULUS = 1n << 128n;

export const DOMAIN_ZERO_ONE = 'ssb-vote/v3/proof/zero-one';
export const DOMAIN_SUM = 'ssb-vote/v3/proof/sum';
export const DOMAIN_BALLOT_CONTEXT = 'ssb-vote/v1/ballot-context';
export const DOMAIN_KDF = 'ssb-vote/v1/kdf';

export function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is unavailable: a secure context (HTTPS) is required');
  return s;
}

/** SHA-256 digest bytes. */
export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

/** Lowercase hex SHA-256. */
export async function sha256Hex(bytes) {
  return bytesToHex(await sha256(bytes));
}

/**
 * challenge(domain, election_id, n, contest_id, party, statement, commitments) (§3):
 * the first 16 bytes of SHA-256(LP(…)) read big-endian, a BigInt in [0, 2^128).
 */
export async function challenge(domain, electionId, n, contestId, party, statement, commitments) {
  const digest = await sha256(lpEncode(domain, electionId, n, contestId, party, statement, commitments));
  return bytesToBigInt(digest.subarray(0, CHALLENGE_BITS / 8));
}

/** SHA-256 hex of the canonical JSON of an object (§2.1), e.g. the ballot hash (§5.5). */
export async function objectHash(obj) {
  return sha256Hex(canonicalJsonBytes(obj));
}
