// Contest ballots: precomputation, encryption, verification, cast-as-intended check
// (docs/protocol.md §5).  Mirrors crypto/ballot.py; every byte of a ballot is a deterministic
// function of (n, election id, contest id, pseudonym, selections, seed), so the known-answer
// vectors of tests/vectors/ballots.json are reproduced exactly.

import { bitLength, bytesToHex, hexToBytes } from './bigint.js';
import { hexToInt, intToHex, requireList, requireObject, requireString } from './encoding.js';
import { InvalidInput } from './errors.js';
import { DOMAIN_SUM, DOMAIN_ZERO_ONE, challenge, objectHash } from './hashing.js';
import {
  BallotKdf,
  LABEL_NONCE,
  LABEL_R,
  LABEL_SIM_CHALLENGE,
  LABEL_SIM_RESPONSE,
  LABEL_SUM_NONCE,
  LABEL_SUM_SIM_CHALLENGE,
  LABEL_SUM_SIM_RESPONSE,
  SEED_BYTES,
} from './kdf.js';
import {
  checkChallengeSum,
  checkUnits,
  gPower,
  makeProof,
  parseProof,
  proofToJson,
  verifyBranches,
} from './proofs.js';
import {
  nonceBits,
  openCiphertext,
  shortBits,
  shortTable,
  sumWitnessBits,
  zeroOneWitnessBits,
} from './shortbase.js';

/** Size bounds of §5.2. */
export const MAX_CANDIDATES = 1000;
export const MAX_SELECTIONS = 64;
const MIN_KEY_BITS = 512; // test keys (§8); the server enforces the production minimum
const MAX_KEY_BITS = 8192;

// Inputs ------------------------------------------------------------------------------------

/** n from a public key object {n: hex} (§9.1; extra keys, e.g. of an election key §9.2, are ignored). */
export function parsePublicKey(publicKey) {
  if (publicKey === null || typeof publicKey !== 'object') throw new InvalidInput('public key: expected an object');
  const n = hexToInt(publicKey.n, 'public key n', { lower: 3n });
  const bits = bitLength(n);
  if (n % 2n === 0n || bits < MIN_KEY_BITS || bits > MAX_KEY_BITS) {
    throw new InvalidInput(`public key: n must be odd with ${MIN_KEY_BITS}..${MAX_KEY_BITS} bits`);
  }
  return n;
}

export function checkContestShape(numCandidates, maxSelections) {
  if (!Number.isInteger(numCandidates) || numCandidates < 1 || numCandidates > MAX_CANDIDATES) {
    throw new InvalidInput(`contest: number of candidates must be in 1..${MAX_CANDIDATES}`);
  }
  if (!Number.isInteger(maxSelections) || maxSelections < 0 || maxSelections > Math.min(numCandidates, MAX_SELECTIONS)) {
    throw new InvalidInput('contest: max_selections must be in 0..min(candidates, 64)');
  }
}

function checkContext({ electionId, contestId, pseudonym }) {
  requireString(electionId, 'election id', { maxLength: 1024 });
  requireString(contestId, 'contest id', { maxLength: 1024 });
  requireString(pseudonym, 'pseudonym', { maxLength: 1024 });
}

function checkSelections(selections, numCandidates, maxSelections) {
  if (!Array.isArray(selections) || selections.length !== numCandidates) {
    throw new InvalidInput(`selections: expected ${numCandidates} entries`);
  }
  selections.forEach((m, i) => {
    if (m !== 0 && m !== 1) throw new InvalidInput(`selections: entry ${i} must be 0 or 1`);
  });
  const total = selections.reduce((a, b) => a + b, 0);
  if (total > maxSelections) {
    throw new InvalidInput(`selections: ${total} selected, at most ${maxSelections} allowed`);
  }
  return total;
}

function parseSeedHex(seedHex) {
  if (typeof seedHex !== 'string' || !/^[0-9a-f]*$/.test(seedHex) || seedHex.length !== 2 * SEED_BYTES) {
    throw new InvalidInput(`seed: expected ${2 * SEED_BYTES} lowercase hex digits`);
  }
  return hexToBytes(seedHex);
}

/**
 * Strict parse of a §9.3 ballot (§2.3, §5.2) into BigInts.  With numCandidates /
 * maxSelections (from the manifest) the shape must match them; without, the ballot's own
 * lengths are taken (bounded by §5.2).
 */
export function parseBallot(n, obj, { numCandidates = null, maxSelections = null } = {}) {
  const data = requireObject(obj, ['ciphertexts', 'proofs', 'sum_proof'], 'ballot');
  const n2 = n * n;
  const rawCts = requireList(data.ciphertexts, 'ballot ciphertexts', { length: numCandidates, maxLength: MAX_CANDIDATES });
  if (rawCts.length === 0) throw new InvalidInput('ballot ciphertexts: empty');
  const ciphertexts = rawCts.map((c, i) => hexToInt(c, `ciphertext ${i}`, { lower: 1n, upper: n2 }));
  const rawProofs = requireList(data.proofs, 'ballot proofs', { length: ciphertexts.length });
  const w0 = zeroOneWitnessBits(n);
  const proofs = rawProofs.map((p, i) => parseProof(n, p, 2, `0/1 proof of candidate ${i}`, w0));
  const rawSum = requireObject(data.sum_proof, ['challenges', 'commitments', 'responses'], 'sum proof');
  let branches = maxSelections === null ? null : maxSelections + 1;
  if (branches === null) {
    branches = requireList(rawSum.commitments, 'sum proof commitments', { maxLength: MAX_SELECTIONS + 1 }).length;
    if (branches === 0) throw new InvalidInput('sum proof commitments: empty');
  }
  const sumProof = parseProof(n, rawSum, branches, 'sum proof', sumWitnessBits(n, ciphertexts.length));
  return { ciphertexts, proofs, sumProof };
}

// Precomputation (§5.7) ---------------------------------------------------------------------
//
// Work is cut into tasks so that Web Workers can share it.  Each task derives its values from
// the seed (HKDF is cheap) and returns BigInts (structured-cloneable).  Every power is a power
// of the fixed base h_s, from the thread's table (shortbase.js): h_s^α, the real commitment
// h_s^ρ and the simulated commitment's choice-independent part h_s^(ẑ − α·ê) (§5.3, §5.7).

/** Cost of a task in powers of h_s (progress reporting). */
export function taskCost(task) {
  return task.kind === 'candidate' ? 3 : 1;
}

/** The tasks of a contest: one per candidate, the sum nonce, one per sum-proof branch. */
export function precomputeTasks(numCandidates, maxSelections) {
  const tasks = [];
  for (let i = 0; i < numCandidates; i++) tasks.push({ kind: 'candidate', index: i, numCandidates });
  tasks.push({ kind: 'sum-nonce', index: 0, numCandidates });
  for (let j = 0; j <= maxSelections; j++) tasks.push({ kind: 'sum-sim', index: j, numCandidates });
  return tasks;
}

/** Σ α_i, the sum proof's witness (needed by the sum-sim tasks; an integer, §5.3). */
export async function sumWitness(kdf, numCandidates) {
  const bits = shortBits(kdf.n);
  // derivations in flight together: each is an asynchronous WebCrypto call
  const alphas = await Promise.all(Array.from({ length: numCandidates }, (_, i) => kdf.short(LABEL_R, i, bits)));
  return alphas.reduce((acc, a) => acc + a, 0n);
}

/** The fields of a task's result that are powers of h_s, in the order runTask computes them. */
export const POWER_FIELDS = Object.freeze({
  candidate: ['alphaPower', 'noncePower', 'simPart'],
  'sum-nonce': ['noncePower'],
  'sum-sim': ['simPart'],
});

/**
 * Run one precomputation task; Σα is only used by 'sum-sim'.  power(e): h_s^e from the thread's
 * table by default; a worker owning a range of the table's rows passes its partial instead
 * (worker.js, encryptor.js combine the partials).
 */
export async function runTask(kdf, sumAlpha, task, power = null) {
  const n = kdf.n;
  let pow = power;
  if (!pow) {
    const table = await shortTable(n);
    pow = (e) => table.power(e);
  }
  const i = task.index;
  if (task.kind === 'candidate') {
    const s0 = nonceBits(zeroOneWitnessBits(n));
    const alpha = await kdf.short(LABEL_R, i, shortBits(n));
    const nonce = await kdf.short(LABEL_NONCE, i, s0);
    const simResponse = await kdf.short(LABEL_SIM_RESPONSE, i, s0);
    const simChallenge = await kdf.challenge(LABEL_SIM_CHALLENGE, i);
    const alphaPower = pow(alpha); // h_s^α
    const noncePower = pow(nonce); // h_s^ρ
    const simPart = pow(simResponse - alpha * simChallenge); // h_s^(ẑ − α·ê)
    return { alpha, alphaPower, nonce, noncePower, simResponse, simChallenge, simPart };
  }
  const sBig = nonceBits(sumWitnessBits(n, task.numCandidates));
  if (task.kind === 'sum-nonce') {
    const nonce = await kdf.short(LABEL_SUM_NONCE, 0, sBig);
    return { nonce, noncePower: pow(nonce) };
  }
  if (task.kind === 'sum-sim') {
    const simResponse = await kdf.short(LABEL_SUM_SIM_RESPONSE, i, sBig);
    const simChallenge = await kdf.challenge(LABEL_SUM_SIM_CHALLENGE, i);
    return { simResponse, simChallenge, simPart: pow(simResponse - sumAlpha * simChallenge) };
  }
  throw new Error(`unknown precomputation task ${task.kind}`);
}

/** Collects task results into the precomputation object consumed by encryptPrecomputed. */
export function assemble(n, ctx, numCandidates, maxSelections, sumAlpha, tasks, results) {
  const pre = {
    n,
    ctx: bytesToHex(ctx),
    numCandidates,
    maxSelections,
    sumAlpha,
    candidates: new Array(numCandidates),
    sumNonce: null,
    sumSims: new Array(maxSelections + 1),
  };
  tasks.forEach((task, t) => {
    if (task.kind === 'candidate') pre.candidates[task.index] = results[t];
    else if (task.kind === 'sum-nonce') pre.sumNonce = results[t];
    else pre.sumSims[task.index] = results[t];
  });
  return pre;
}

/** Single-threaded precomputation (Node, tests, browsers without Workers). */
export async function precomputeInline(n, kdf, numCandidates, maxSelections, onProgress) {
  const sumAlpha = await sumWitness(kdf, numCandidates);
  const tasks = precomputeTasks(numCandidates, maxSelections);
  const total = tasks.reduce((acc, t) => acc + taskCost(t), 0);
  let done = 0;
  const results = [];
  for (const task of tasks) {
    results.push(await runTask(kdf, sumAlpha, task));
    done += taskCost(task);
    if (onProgress) onProgress(done / total);
  }
  return assemble(n, kdf.ctx, numCandidates, maxSelections, sumAlpha, tasks, results);
}

// Online part (§5.1, §5.3) ------------------------------------------------------------------

/**
 * Finish a ballot from its precomputation: multiplications, g-powers, integer products e·α
 * and the challenge hashes.  Returns the §9.3 JSON object.
 */
export async function encryptPrecomputed(params, pre, selections) {
  const { electionId, contestId, pseudonym } = params;
  const n = pre.n;
  const n2 = n * n;
  const k = pre.maxSelections;
  const total = checkSelections(selections, pre.numCandidates, k);

  const ciphertexts = [];
  const commitmentSets = [];
  selections.forEach((m, i) => {
    const cand = pre.candidates[i];
    const c = ((1n + BigInt(m) * n) * cand.alphaPower) % n2; // c = g^m h_s^α (§5.1)
    const s = 1 - m; // the simulated branch
    // a_s = g^((s−m)ê) · h_s^(ẑ − α·ê) since u_s = g^(m−s) h_s^α (§5.3, §5.7)
    const aSim = (gPower(n, BigInt(s - m) * cand.simChallenge) * cand.simPart) % n2;
    const commitments = [0n, 0n];
    commitments[m] = cand.noncePower;
    commitments[s] = aSim;
    ciphertexts.push(c);
    commitmentSets.push(commitments);
  });
  const hashes = await Promise.all(
    ciphertexts.map((c, i) => challenge(DOMAIN_ZERO_ONE, electionId, n, contestId, pseudonym, [i, c], commitmentSets[i])),
  );
  const proofs = selections.map((m, i) => {
    const cand = pre.candidates[i];
    const simE = [0n, 0n];
    const simZ = [0n, 0n];
    simE[1 - m] = cand.simChallenge;
    simZ[1 - m] = cand.simResponse;
    return makeProof(commitmentSets[i], simE, simZ, m, hashes[i], cand.nonce, cand.alpha);
  });

  const bigM = BigInt(total);
  const sumCommitments = pre.sumSims.map((sim, j) => {
    if (j === total) return pre.sumNonce.noncePower;
    // u_j = C·g^(−j) = g^(M−j) h_s^(Σα), so a_j = g^((j−M)ê_j) · h_s^(ẑ_j − ê_j·Σα)
    return (gPower(n, (BigInt(j) - bigM) * sim.simChallenge) * sim.simPart) % n2;
  });
  const h = await challenge(DOMAIN_SUM, electionId, n, contestId, pseudonym, [k, ciphertexts], sumCommitments);
  const sumProof = makeProof(
    sumCommitments, pre.sumSims.map((s) => s.simChallenge), pre.sumSims.map((s) => s.simResponse),
    total, h, pre.sumNonce.nonce, pre.sumAlpha,
  );
  return {
    ciphertexts: ciphertexts.map(intToHex),
    proofs: proofs.map(proofToJson),
    sum_proof: proofToJson(sumProof),
  };
}

/** SHA-256 hex of the ballot's canonical JSON (§5.5). */
export async function ballotHash(ballot) {
  return objectHash(ballot);
}

/**
 * Deterministic encryption from a given seed (known-answer tests, §11).  Never use a seed
 * twice (§4.4); pages use createBallotEncryptor, which draws a fresh seed.
 * params: {publicKey: {n}, electionId, contestId, pseudonym, maxSelections, numCandidates?}.
 */
export async function encryptContestWithSeed(params, selections, seedBytes) {
  const n = parsePublicKey(params.publicKey);
  checkContext(params);
  const numCandidates = params.numCandidates ?? (Array.isArray(selections) ? selections.length : 0);
  checkContestShape(numCandidates, params.maxSelections);
  checkSelections(selections, numCandidates, params.maxSelections);
  const kdf = await BallotKdf.create(n, params.electionId, params.contestId, params.pseudonym, seedBytes);
  const pre = await precomputeInline(n, kdf, numCandidates, params.maxSelections, null);
  const ballot = await encryptPrecomputed(params, pre, selections);
  return { ballot, seedHex: bytesToHex(seedBytes), ballotHash: await ballotHash(ballot) };
}

// Opening with the seed (§5.6) -------------------------------------------------------------

/**
 * Recompute α_i from the seed and return m_i from c_i · h_s^(−α_i) = 1 + m_i·n (openCiphertext,
 * the one opening function).  Throws InvalidInput if the ballot was not made with this seed or a
 * value is not 0/1.
 */
export async function recoverSelections({ publicKey, electionId, contestId, pseudonym, ballot, seedHex }) {
  const n = parsePublicKey(publicKey);
  checkContext({ electionId, contestId, pseudonym });
  const seed = parseSeedHex(seedHex);
  const parsed = parseBallot(n, ballot);
  const kdf = await BallotKdf.create(n, electionId, contestId, pseudonym, seed);
  const table = await shortTable(n);
  const bits = shortBits(n);
  const out = [];
  for (let i = 0; i < parsed.ciphertexts.length; i++) {
    const alpha = await kdf.short(LABEL_R, i, bits);
    try {
      out.push(openCiphertext(n, table, parsed.ciphertexts[i], alpha));
    } catch (err) {
      throw new InvalidInput(`ciphertext ${i}: ${err.message.replace(/^ciphertext /, '')}`);
    }
  }
  return out;
}

// Verification (§5.4), per proof ------------------------------------------------------------

/** Verify a contest ballot (§5.4); returns true or throws InvalidInput/InvalidProof naming the check. */
export async function verifyContest({ publicKey, electionId, contestId, pseudonym, numCandidates, maxSelections, ballot }) {
  const n = parsePublicKey(publicKey);
  checkContext({ electionId, contestId, pseudonym });
  checkContestShape(numCandidates, maxSelections);
  const b = parseBallot(n, ballot, { numCandidates, maxSelections });
  const n2 = n * n;
  checkUnits(n, b.ciphertexts, 'ciphertext');
  const all = [...b.proofs, b.sumProof];
  checkUnits(n, all.flatMap((p) => p.commitments), 'proof commitment'); // responses: integers (§5.4)
  for (let i = 0; i < b.ciphertexts.length; i++) {
    const h = await challenge(DOMAIN_ZERO_ONE, electionId, n, contestId, pseudonym, [i, b.ciphertexts[i]], b.proofs[i].commitments);
    checkChallengeSum(b.proofs[i], h, `0/1 proof of candidate ${i}`);
  }
  const h = await challenge(DOMAIN_SUM, electionId, n, contestId, pseudonym, [maxSelections, b.ciphertexts], b.sumProof.commitments);
  checkChallengeSum(b.sumProof, h, 'sum proof');
  const table = await shortTable(n);
  b.ciphertexts.forEach((c, i) => verifyBranches(n, table, c, b.proofs[i], `0/1 proof of candidate ${i}`));
  const bigC = b.ciphertexts.reduce((acc, c) => (acc * c) % n2, 1n);
  verifyBranches(n, table, bigC, b.sumProof, 'sum proof');
  return true;
}

export { checkContext, checkSelections, parseSeedHex };
