// Known-answer vectors (docs/protocol.md §11): the JS implementation must reproduce
// tests/vectors/ballots.json byte for byte.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { canonicalJson, encryptContestWithSeed, hazmat } from '../src/index.js';
import { LABEL_R } from '../src/kdf.js';

const VECTORS = JSON.parse(readFileSync(new URL('../../tests/vectors/ballots.json', import.meta.url), 'utf8'));

test('vector file has the three cases of §11', () => {
  assert.equal(VECTORS.version, 3);
  assert.equal(VECTORS.vectors.length, 3);
});

test('short base h_s derived from n (§5.0) equals the Python reference', async () => {
  const n = BigInt('0x' + VECTORS.vectors[0].n);
  assert.equal(hazmat.intToHex(await hazmat.shortBase(n)), VECTORS.short_base);
});

for (const v of VECTORS.vectors) {
  const n = BigInt('0x' + v.n);
  const seed = hazmat.hexToBytes(v.seed);

  test(`${v.name}: ballot context (§4.1)`, async () => {
    const ctx = await hazmat.ballotContext(n, v.election_id, v.contest_id, v.pseudonym);
    assert.equal(hazmat.bytesToHex(ctx), v.ballot_context);
  });

  test(`${v.name}: α_i (§4.3)`, async () => {
    const kdf = await hazmat.BallotKdf.create(n, v.election_id, v.contest_id, v.pseudonym, seed);
    const alphas = [];
    const bits = hazmat.shortBits(n);
    for (let i = 0; i < v.selections.length; i++) alphas.push(hazmat.intToHex(await kdf.short(LABEL_R, i, bits)));
    assert.deepEqual(alphas, v.alpha);
  });

  test(`${v.name}: ballot JSON and ballot hash byte for byte (§5, §5.5)`, async () => {
    const out = await encryptContestWithSeed(
      { publicKey: { n: v.n }, electionId: v.election_id, contestId: v.contest_id, pseudonym: v.pseudonym,
        numCandidates: v.selections.length, maxSelections: v.max_selections },
      v.selections, seed,
    );
    assert.equal(canonicalJson(out.ballot), canonicalJson(v.ballot));
    assert.deepEqual(out.ballot, v.ballot);
    assert.equal(out.ballotHash, v.ballot_hash);
    assert.equal(out.seedHex, v.seed);
  });
}
