// Per-ballot values derived from a 32-byte seed with HKDF-SHA256 (docs/protocol.md §4),
// via WebCrypto.  Mirrors crypto/kdf.py byte for byte.

import { bitLength, bytesToBigInt, gcd } from './bigint.js';
import { lpEncode } from './encoding.js';
import { InvalidInput } from './errors.js';
import { DOMAIN_BALLOT_CONTEXT, DOMAIN_KDF, sha256, subtle } from './hashing.js';

export const SEED_BYTES = 32;
/** Extra bytes beyond |n| before the reduction mod n: bias ≤ 2^-128 (§4.2). */
export const EXTRA_BYTES = 16;

// Labels (§4.3).
export const LABEL_R = 'r';
export const LABEL_NONCE = 'nonce';
export const LABEL_SIM_RESPONSE = 'sim-response';
export const LABEL_SIM_CHALLENGE = 'sim-challenge';
export const LABEL_SUM_NONCE = 'sum-nonce';
export const LABEL_SUM_SIM_RESPONSE = 'sum-sim-response';
export const LABEL_SUM_SIM_CHALLENGE = 'sum-sim-challenge';

/** ctx = SHA-256(LP("ssb-vote/v1/ballot-context", election_id, n, contest_id, pseudonym)) (§4.1). */
export async function ballotContext(n, electionId, contestId, pseudonym) {
  return sha256(lpEncode(DOMAIN_BALLOT_CONTEXT, electionId, n, contestId, pseudonym));
}

/** Deterministic derivation of a ballot's random values (§4.2, §4.3). */
export class BallotKdf {
  constructor(n, seedKey, ctx) {
    this.n = n;
    this.ctx = ctx;
    this._key = seedKey;
    this._unitLength = Math.ceil(bitLength(n) / 8) + EXTRA_BYTES;
  }

  /** Build from the public key n, the context strings and the 32-byte seed. */
  static async create(n, electionId, contestId, pseudonym, seed) {
    const ctx = await ballotContext(n, electionId, contestId, pseudonym);
    return BallotKdf.fromContext(n, ctx, seed);
  }

  /** Build from an already computed context (workers receive ctx, not the strings). */
  static async fromContext(n, ctx, seed) {
    if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
      throw new InvalidInput(`seed: expected exactly ${SEED_BYTES} bytes`);
    }
    const key = await subtle().importKey('raw', seed, 'HKDF', false, ['deriveBits']);
    return new BallotKdf(n, key, ctx);
  }

  /** HKDF-SHA256(IKM = seed, salt = ctx, info = LP("ssb-vote/v1/kdf", label, index, attempt), L). */
  async derive(label, index, attempt, length) {
    const info = lpEncode(DOMAIN_KDF, label, index, attempt);
    const bits = await subtle().deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: this.ctx, info }, this._key, 8 * length,
    );
    return new Uint8Array(bits);
  }

  /** unit(label, index): an element of Z*_n, retrying with attempt + 1 on 0 or a non-unit. */
  async unit(label, index) {
    for (let attempt = 0; ; attempt++) {
      const x = bytesToBigInt(await this.derive(label, index, attempt, this._unitLength)) % this.n;
      if (x !== 0n && gcd(x, this.n) === 1n) return x;
    }
  }

  /** response(label, index) = min(x, n − x) for x = unit(label, index). */
  async response(label, index) {
    const x = await this.unit(label, index);
    const y = this.n - x;
    return x < y ? x : y;
  }

  /** short(label, index, B): ⌈B/8⌉ bytes big-endian mod 2^B, uniform in [0, 2^B) (§4.2, version 3). */
  async short(label, index, bits) {
    const x = bytesToBigInt(await this.derive(label, index, 0, Math.ceil(bits / 8)));
    return x & ((1n << BigInt(bits)) - 1n);
  }

  /** challenge(label, index): 16 bytes big-endian, in [0, 2^128). */
  async challenge(label, index) {
    return bytesToBigInt(await this.derive(label, index, 0, 16));
  }
}
