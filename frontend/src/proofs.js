// Disjunctive proofs with integer responses over the short base h_s (docs/protocol.md §5.3,
// §5.4).  Mirrors crypto/proofs.py.
//
// A proof for base B, branches j = 0 … J−1 and witness bound W shows that one
// u_j = B · g^(−j) mod n² lies in ⟨h_s⟩ up to sign: per branch a commitment a_j, a challenge
// e_j ∈ [0, 2^128) and an integer response 0 ≤ z_j < 2^(W+128+λ+1); valid iff
// Σ e_j ≡ H(…) (mod 2^128) and (h_s^(z_j))² ≡ (a_j·u_j^(e_j))² (mod n²).

import { gcd, mod, modPow } from './bigint.js';
import { hexToInt, intToHex, requireList, requireObject } from './encoding.js';
import { InvalidInput, InvalidProof } from './errors.js';
import { CHALLENGE_MODULUS } from './hashing.js';
import { responseLimit } from './shortbase.js';

/** g^x mod n² = 1 + (x mod n)·n because g = n + 1 (§1.2); x may be negative. */
export function gPower(n, x) {
  return (1n + mod(x, n) * n) % (n * n);
}

/**
 * Complete a proof once the Fiat–Shamir challenge h is known (§5.3 prover steps 4–5):
 * e_real = h − Σ_{j≠real} ê_j mod 2^128, z_real = ρ + e_real·α over the integers.
 */
export function makeProof(commitments, simChallenges, simResponses, realBranch, h, nonce, witness) {
  let others = 0n;
  simChallenges.forEach((e, j) => {
    if (j !== realBranch) others += e;
  });
  const eReal = mod(h - others, CHALLENGE_MODULUS);
  const zReal = nonce + eReal * witness;
  return {
    commitments: commitments.slice(),
    challenges: simChallenges.map((e, j) => (j === realBranch ? eReal : e)),
    responses: simResponses.map((z, j) => (j === realBranch ? zReal : z)),
  };
}

/** §9.3 JSON shape of a proof (hex strings, array index = branch). */
export function proofToJson(proof) {
  return {
    challenges: proof.challenges.map(intToHex),
    commitments: proof.commitments.map(intToHex),
    responses: proof.responses.map(intToHex),
  };
}

/** Strict parse (§2.3) with the ranges of §5.4 step 2 for witness bound W; units: the verifier. */
export function parseProof(n, obj, branches, what, witnessBits) {
  const data = requireObject(obj, ['challenges', 'commitments', 'responses'], what);
  const n2 = n * n;
  const limit = responseLimit(witnessBits);
  const list = (key) => requireList(data[key], `${what} ${key}`, { length: branches });
  return {
    commitments: list('commitments').map((x, j) => hexToInt(x, `${what} commitment ${j}`, { lower: 1n, upper: n2 })),
    challenges: list('challenges').map((x, j) => hexToInt(x, `${what} challenge ${j}`, { upper: CHALLENGE_MODULUS })),
    responses: list('responses').map((x, j) => hexToInt(x, `${what} response ${j}`, { upper: limit })),
  };
}

/** Σ e_j ≡ h (mod 2^128): check (V1) of §5.3. */
export function checkChallengeSum(proof, h, what) {
  const total = proof.challenges.reduce((acc, e) => acc + e, 0n);
  if (mod(total, CHALLENGE_MODULUS) !== h) {
    throw new InvalidProof(`${what}: challenges do not sum to the Fiat–Shamir challenge`);
  }
}

/** gcd(∏ x mod n, n) = 1 iff every x is a unit (§5.4 step 3); names the culprit on failure. */
export function checkUnits(n, values, what) {
  let acc = 1n;
  for (const x of values) acc = (acc * x) % n;
  if (gcd(acc, n) !== 1n) {
    values.forEach((x, i) => {
      if (gcd(x, n) !== 1n) throw new InvalidInput(`${what} ${i}: not coprime to n`);
    });
    throw new InvalidInput(`${what}: not coprime to n`);
  }
}

/** (V2) of §5.3 for every branch: (h_s^(z_j))² ≡ (a_j · (B·g^(−j))^(e_j))² (mod n²). */
export function verifyBranches(n, table, base, proof, what) {
  const n2 = n * n;
  proof.commitments.forEach((a, j) => {
    const u = (base * gPower(n, -BigInt(j))) % n2;
    const left = table.power(proof.responses[j]);
    const right = (a * modPow(u, proof.challenges[j], n2)) % n2;
    if ((left * left) % n2 !== (right * right) % n2) {
      throw new InvalidProof(`${what}: verification equation of branch ${j} fails`);
    }
  });
}
