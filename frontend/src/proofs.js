// Disjunctive proofs of n-th residuosity (docs/protocol.md §5.3, §5.4).  Mirrors crypto/proofs.py.
//
// A proof for base B and branches j = 0 … J−1 shows that one u_j = B · g^(−j) mod n² is an
// n-th residue: per branch a commitment a_j, a challenge e_j ∈ [0, 2^128) and a response
// z_j ∈ [1, (n−1)/2]; valid iff Σ e_j ≡ H(…) (mod 2^128) and (z_j^n)² ≡ (a_j·u_j^(e_j))² (mod n²).

import { gcd, mod, modPow } from './bigint.js';
import { hexToInt, intToHex, requireList, requireObject } from './encoding.js';
import { InvalidInput, InvalidProof } from './errors.js';
import { CHALLENGE_MODULUS } from './hashing.js';

/** g^x mod n² = 1 + (x mod n)·n because g = n + 1 (§1.2); x may be negative. */
export function gPower(n, x) {
  return (1n + mod(x, n) * n) % (n * n);
}

/** min(z, n − z): removes the public malleability z ↦ n − z (§5.3). */
export function normaliseResponse(n, z) {
  const other = n - z;
  return z < other ? z : other;
}

/**
 * Complete a proof once the Fiat–Shamir challenge h is known (§5.3 prover steps 4–5):
 * e_real = h − Σ_{j≠real} ê_j mod 2^128, z_real = normalise(ρ · w^(e_real) mod n).
 */
export function makeProof(n, commitments, simChallenges, simResponses, realBranch, h, nonce, witness) {
  let others = 0n;
  simChallenges.forEach((e, j) => {
    if (j !== realBranch) others += e;
  });
  const eReal = mod(h - others, CHALLENGE_MODULUS);
  const zReal = normaliseResponse(n, (nonce * modPow(witness, eReal, n)) % n);
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

/** Strict parse (§2.3) with the ranges of §5.4 step 2; coprimality is checked by the verifier. */
export function parseProof(n, obj, branches, what) {
  const data = requireObject(obj, ['challenges', 'commitments', 'responses'], what);
  const n2 = n * n;
  const halfN = (n - 1n) / 2n;
  const list = (key) => requireList(data[key], `${what} ${key}`, { length: branches });
  return {
    commitments: list('commitments').map((x, j) => hexToInt(x, `${what} commitment ${j}`, { lower: 1n, upper: n2 })),
    challenges: list('challenges').map((x, j) => hexToInt(x, `${what} challenge ${j}`, { upper: CHALLENGE_MODULUS })),
    responses: list('responses').map((x, j) => hexToInt(x, `${what} response ${j}`, { lower: 1n, upper: halfN + 1n })),
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

/** (V2) of §5.3 for every branch: (z_j^n)² ≡ (a_j · (B·g^(−j))^(e_j))² (mod n²). */
export function verifyBranches(n, base, proof, what) {
  const n2 = n * n;
  proof.commitments.forEach((a, j) => {
    const u = (base * gPower(n, -BigInt(j))) % n2;
    const left = modPow(proof.responses[j], n, n2);
    const right = (a * modPow(u, proof.challenges[j], n2)) % n2;
    if ((left * left) % n2 !== (right * right) % n2) {
      throw new InvalidProof(`${what}: verification equation of branch ${j} fails`);
    }
  });
}
