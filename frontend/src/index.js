// SSB Vote in-browser ballot cryptography (docs/protocol.md §2–§5), bundled to
// /static/dist/ssbcrypto.js.  The high-level API below is what pages use; `hazmat` exposes
// the building blocks (arithmetic, encodings, KDF) for tests and verifiers.  `credential` holds
// the voter's credential, its key and the ballot signature (§13) and verifySignedObject for receipts.
//
// Pages load the bundle as a top-level module script with its SRI hash and then use
// window.SSBCrypto from their own (later) module script.  Importing the bundle by URL from the
// page script works too, but Chromium re-fetches an import without the integrity check, so
// only the global gives Subresource Integrity.

import { ballotHash, encryptContestWithSeed, recoverSelections, verifyContest } from './ballot.js';
import * as credential from './credential.js';
import { canonicalJson } from './encoding.js';
import { createBallotEncryptor, eraseSeed, seedHex, warmWorkers } from './encryptor.js';
import { InvalidInput, InvalidProof } from './errors.js';
import * as hazmat from './hazmat.js';

export {
  ballotHash, canonicalJson, createBallotEncryptor, credential, encryptContestWithSeed, eraseSeed, hazmat, InvalidInput,
  InvalidProof, recoverSelections, seedHex, verifyContest, warmWorkers,
};

/** Protocol version implemented (docs/protocol.md, version 3). */
export const PROTOCOL_VERSION = 3;

if (typeof document !== 'undefined' && globalThis.SSBCrypto === undefined) {
  Object.defineProperty(globalThis, 'SSBCrypto', {
    value: Object.freeze({
      PROTOCOL_VERSION, ballotHash, canonicalJson, createBallotEncryptor, credential, encryptContestWithSeed, eraseSeed,
      hazmat, InvalidInput, InvalidProof, recoverSelections, seedHex, verifyContest, warmWorkers,
    }),
    writable: false,
    configurable: false,
    enumerable: false,
  });
}
