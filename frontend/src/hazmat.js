// Low-level building blocks, re-exported as `hazmat` by index.js.  Unchecked arithmetic and
// deterministic derivations: misuse (e.g. a reused seed) breaks ballot secrecy.

export { bitLength, bytesToBigInt, bytesToHex, gcd, hexToBytes, mod, modInverse, modPow } from './bigint.js';
export { canonicalJson, canonicalJsonBytes, hexToInt, intToHex, lpEncode } from './encoding.js';
export { challenge, objectHash, sha256, sha256Hex } from './hashing.js';
export { BallotKdf, ballotContext } from './kdf.js';
export { gPower, makeProof, verifyBranches } from './proofs.js';
export {
  FixedBaseTable, hashToUnit, nonceBits, openCiphertext, responseLimit, shortBase, shortBits, shortTable,
  sumWitnessBits, zeroOneWitnessBits,
} from './shortbase.js';
export { encryptPrecomputed, parseBallot, parsePublicKey, precomputeInline, runTask } from './ballot.js';
