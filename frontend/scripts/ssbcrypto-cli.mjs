// Command-line bridge to the JS library for the Python cross-tests (tests/js/).
// Reads one JSON request on stdin, writes one JSON answer on stdout.
//
//   encrypt   {publicKey, electionId, contestId, pseudonym, numCandidates, maxSelections, selections}
//             → {ballot, seedHex, ballotHash}            (fresh seed, createBallotEncryptor)
//   verify    {publicKey, electionId, contestId, pseudonym, numCandidates, maxSelections, ballot}
//             → {ok: true} | {ok: false, error, message}
//   recover   {publicKey, electionId, contestId, pseudonym, ballot, seedHex}
//             → {selections} | {ok: false, error, message}
//   canonical <any JSON> → {json, hash}

import {
  canonicalJson, createBallotEncryptor, hazmat, recoverSelections, seedHex, verifyContest,
} from '../src/index.js';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function main() {
  const command = process.argv[2];
  const req = await readStdin();
  try {
    if (command === 'encrypt') {
      const enc = createBallotEncryptor({ ...req, workers: 0 });
      await enc.precompute();
      // The encryptor hands the seed over as bytes (§4.4); the cross-tests want it as hex.
      const { ballot, ballotHash, seed } = await enc.encrypt(req.selections);
      return { ballot, seedHex: seedHex(seed), ballotHash };
    }
    if (command === 'verify') return { ok: await verifyContest(req) };
    if (command === 'recover') return { selections: await recoverSelections(req) };
    if (command === 'canonical') {
      const json = canonicalJson(req);
      return { json, hash: await hazmat.objectHash(req) };
    }
  } catch (err) {
    return { ok: false, error: err.name, message: err.message };
  }
  throw new Error(`unknown command ${command}`);
}

process.stdout.write(JSON.stringify(await main()) + '\n');
