// SSB Vote in-browser ballot cryptography (docs/protocol.md §2–§5), bundled to
// /static/dist/ssbcrypto.js.  The high-level API below is what pages use; `hazmat` exposes
// the building blocks (arithmetic, encodings, KDF) for tests and verifiers.

export { createBallotEncryptor } from './encryptor.js';
export { ballotHash, encryptContestWithSeed, recoverSelections, verifyContest } from './ballot.js';
export { canonicalJson } from './encoding.js';
export { InvalidInput, InvalidProof } from './errors.js';
export * as hazmat from './hazmat.js';
