// Credentials and ballot signatures (docs/protocol.md §13): the JS implementation reproduces
// tests/vectors/credentials.json byte for byte (Ed25519 signatures are deterministic).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { canonicalJson, credential as C, hazmat, InvalidInput } from '../src/index.js';

const VECTORS = JSON.parse(readFileSync(new URL('../../tests/vectors/credentials.json', import.meta.url), 'utf8'));
const ELECTION = 'b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff';
const FORMATTED_RE = /^(?:[0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$/;

const mistypedError = (err) => err instanceof InvalidInput && err.message === C.MISTYPED;

const fieldsOf = (s) => ({
  electionId: s.election_id, opening: s.opening, contest: s.contest, pseudonym: s.pseudonym,
  credential: s.credential, ballotHash: s.ballot_hash, previous: s.previous,
});

test('vector file shape', () => {
  assert.equal(VECTORS.version, 1);
  assert.equal(VECTORS.alphabet, C.ALPHABET);
  assert.equal(VECTORS.officials_scope, C.SCOPE_OFFICIALS);
  assert.ok(VECTORS.cases.length >= 5);
});

for (const v of VECTORS.cases) {
  test(`${v.name}: credential text (§13.1)`, async () => {
    assert.equal(await C.checkSymbols(v.data), v.credential.slice(26));
    const x = v.check_value;
    assert.equal(v.credential.slice(26), C.ALPHABET[x >> 5] + C.ALPHABET[x & 31]);
    assert.equal(await C.credentialFromData(v.data), v.credential);
    assert.equal(await C.parseCredential(v.typed), v.credential);
    assert.equal(await C.parseCredential(v.formatted), v.credential);
    assert.equal(await C.formatCredential(v.credential), v.formatted);
    assert.equal(await C.formatCredential(v.typed), v.formatted);
    assert.equal(await C.credentialQrText(v.election_id, v.typed), v.qr_text);
    assert.deepEqual(await C.parseCredentialQr(v.qr_text), { electionId: v.election_id, credential: v.credential });
  });

  test(`${v.name}: signing keys (§13.2)`, async () => {
    const seed = await C.voterKey(v.typed, v.election_id);
    assert.equal(hazmat.bytesToHex(seed), v.voter_seed);
    assert.equal(hazmat.bytesToHex(await C.signingSeed(v.formatted, 'voter', v.election_id)), v.voter_seed);
    assert.equal(C.publicCredential(seed), v.voter_public);
    const official = await C.officialKey(v.credential);
    assert.equal(hazmat.bytesToHex(official), v.official_seed);
    assert.equal(C.publicCredential(official), v.official_public);
  });

  test(`${v.name}: ballot statement and signature byte for byte (§13.3, §13.4)`, async () => {
    const s = v.statement;
    assert.equal(C.ballotParty(s.pseudonym, s.credential), v.ballot_party);
    assert.deepEqual(C.ballotStatement(fieldsOf(s)), s);
    assert.equal(canonicalJson(C.ballotStatement(fieldsOf(s))), v.statement_json);
    const { statement, signature } = await C.signBallot(fieldsOf(s), v.typed);
    assert.deepEqual(statement, s);
    assert.equal(signature, v.signature);
    const withoutCredential = { ...fieldsOf(s) };
    delete withoutCredential.credential;
    assert.equal((await C.signBallot(withoutCredential, v.formatted)).signature, v.signature);
    assert.equal(C.verifyBallotSignature(s, v.signature), true);
    assert.equal(C.verifySignedObject({ ...s, signature: v.signature }, s.credential), true);
  });
}

test('mistyped vectors are refused with the one message', async () => {
  for (const item of VECTORS.mistyped) {
    await assert.rejects(C.parseCredential(item.typed), mistypedError, item.why);
    assert.equal(await C.isCredential(item.typed), false, item.why);
  }
});

test('every single-symbol substitution is caught unless the 10-bit check collides', async () => {
  let tried = 0;
  let missed = 0;
  for (const v of VECTORS.cases.slice(0, 3)) {
    const good = v.credential;
    for (let i = 0; i < 28; i++) {
      for (const symbol of C.ALPHABET) {
        if (symbol === good[i]) continue;
        tried += 1;
        if (await C.isCredential(good.slice(0, i) + symbol + good.slice(i + 1))) {
          missed += 1;
          assert.ok(i < 26, 'a changed check symbol must always be caught');
        }
      }
    }
  }
  assert.equal(tried, 3 * 28 * 31);
  assert.ok(missed / tried < 0.006, `${missed}/${tried}`);
});

test('wrong length, U and foreign characters fail', async () => {
  const good = VECTORS.cases[2].credential;
  for (const bad of [good.slice(0, 27), good + '0', good.slice(0, 26), 'U' + good.slice(1), good.replace('M', 'u'),
    `${good.slice(0, 4)}.${good.slice(4)}`, `${good.slice(0, 4)}\u00a0${good.slice(4)}`, good.replace('M', '\uff2d'),
    `${good.slice(0, 3)}\u0131${good.slice(4)}`, '', 'x'.repeat(10000), null, 42]) {
    await assert.rejects(C.parseCredential(bad), mistypedError, String(bad));
  }
  assert.throws(() => C.normaliseCredential(good.slice(1)), mistypedError);
  assert.equal(C.normaliseCredential(good.toLowerCase()), good);
});

test('parse(format(x)) == x and typed variants parse, for random credentials', async () => {
  for (let n = 0; n < 200; n++) {
    const formatted = await C.generateCredential();
    assert.match(formatted, FORMATTED_RE);
    const symbols = await C.parseCredential(formatted);
    assert.equal(await C.formatCredential(symbols), formatted);
    assert.equal(await C.parseCredential(symbols), symbols);
    const sloppy = [...symbols].map((s, i) => (s === '0' ? 'o' : s === '1' ? 'lI'[i % 2] : s.toLowerCase()) + ' \t-'[i % 3]).join('');
    assert.equal(await C.parseCredential(sloppy), symbols);
  }
});

test('generateCredential: 130 uniform bits, all symbols used', async () => {
  const made = new Set();
  const counts = new Map();
  for (let n = 0; n < 300; n++) {
    const text = await C.generateCredential();
    made.add(text);
    for (const s of text.replace(/-/g, '').slice(0, 26)) counts.set(s, (counts.get(s) || 0) + 1);
  }
  assert.equal(made.size, 300);
  assert.equal(counts.size, 32);
  const expected = (300 * 26) / 32;
  const chi2 = [...counts.values()].reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 80, `chi2 ${chi2}`);
});

test('QR text is read strictly', async () => {
  const v = VECTORS.cases[1];
  for (const bad of [v.qr_text.replace(':1:', ':2:'), v.qr_text.slice(0, -1), v.qr_text + '0', v.qr_text.toUpperCase(),
    v.qr_text.replace(v.credential, v.formatted), v.qr_text.replace(v.credential, v.credential.toLowerCase()),
    'ssbvote-credential:1:', '', v.qr_text.slice(0, -2) + v.qr_text.slice(-1) + v.qr_text.slice(-2, -1)]) {
    await assert.rejects(C.parseCredentialQr(bad), InvalidInput, bad);
  }
  await assert.rejects(C.credentialQrText(v.election_id.toUpperCase(), v.credential), InvalidInput);
});

test('keys depend on purpose, scope and credential; bad scopes refused', async () => {
  const [a, b] = VECTORS.cases;
  const publics = new Set([
    C.publicCredential(await C.voterKey(a.credential, ELECTION)),
    C.publicCredential(await C.voterKey(a.credential, '00'.repeat(32))),
    C.publicCredential(await C.voterKey(b.credential, ELECTION)),
    C.publicCredential(await C.officialKey(a.credential)),
    C.publicCredential(await C.signingSeed(a.credential, 'official', ELECTION)),
  ]);
  assert.equal(publics.size, 5);
  for (const bad of [ELECTION.toUpperCase(), ELECTION.slice(1), '', 'e']) {
    await assert.rejects(C.voterKey(a.credential, bad), InvalidInput);
  }
  for (const [purpose, scope] of [['', ELECTION], ['voter', ''], ['voter', 'ผู้'], ['voter', 'a b']]) {
    await assert.rejects(C.signingSeed(a.credential, purpose, scope), InvalidInput);
  }
});

test('a signature fails when any field changes', async () => {
  const v = VECTORS.cases[1];
  const s = v.statement;
  const other = VECTORS.cases[0].statement.credential;
  const changes = {
    election_id: '00'.repeat(32), opening: 'ac'.repeat(32), contest: 'x', pseudonym: 'ce'.repeat(16),
    credential: other, previous: s.previous === '' ? '12'.repeat(32) : '', ballot_hash: 'ee'.repeat(32),
    type: 'ssbvote-receipt',
  };
  for (const [field, value] of Object.entries(changes)) {
    assert.equal(C.verifyBallotSignature({ ...s, [field]: value }, v.signature), false, field);
  }
  const raw = hazmat.hexToBytes(v.signature);
  for (const i of [0, 31, 32, 63]) {
    const flipped = raw.slice();
    flipped[i] ^= 1;
    assert.equal(C.verifyBallotSignature(s, hazmat.bytesToHex(flipped)), false, `byte ${i}`);
  }
  for (const bad of [v.signature.toUpperCase(), v.signature.slice(2), v.signature + '00', '', null]) {
    assert.equal(C.verifyBallotSignature(s, bad), false);
  }
  assert.equal(C.verifyBallotSignature({ ...s, extra: 'x' }, v.signature), false);
  assert.equal(C.verifyBallotSignature(null, v.signature), false);
});

test('signBallot refuses another voter\'s credential, a missing previous and bad fields', async () => {
  const [a, b] = VECTORS.cases;
  await assert.rejects(C.signBallot(fieldsOf(a.statement), b.credential), /not the credential registered/);
  await assert.rejects(C.signBallot(fieldsOf(a.statement), a.credential.slice(1)), mistypedError);
  const noPrevious = { ...fieldsOf(a.statement) };
  delete noPrevious.previous;
  await assert.rejects(C.signBallot(noPrevious, a.credential), /previous/);
  await assert.rejects(C.signBallot({ ...fieldsOf(a.statement), pseudonym: 'ผู้ประกันตน' }, a.credential), /pseudonym/);
  await assert.rejects(C.signBallot({ ...fieldsOf(a.statement), contest: '' }, a.credential), /contest/);
  await assert.rejects(C.signBallot({ ...fieldsOf(a.statement), ballotHash: 'AB'.repeat(32) }, a.credential), /ballot_hash/);
});

test('verifySignedObject: a server-signed receipt (record.md §1)', async () => {
  const v = VECTORS.cases[3];
  const secret = await C.officialKey(v.credential); // any Ed25519 key stands in for the board key
  const publicHex = C.publicCredential(secret);
  const receipt = { type: 'ssbvote-receipt', election_id: v.election_id, seq: 17, note: 'ผู้ประกันตน' };
  const { ed25519 } = await import('@noble/curves/ed25519.js');
  const signature = hazmat.bytesToHex(ed25519.sign(hazmat.canonicalJsonBytes(receipt), secret));
  const signed = { ...receipt, signature };
  assert.equal(C.verifySignedObject(signed, publicHex), true);
  assert.equal(C.verifySignedObject({ signature, ...receipt }, publicHex), true); // key order is irrelevant
  assert.equal(C.verifySignedObject({ ...signed, seq: 18 }, publicHex), false);
  assert.equal(C.verifySignedObject({ ...signed, extra: '' }, publicHex), false);
  assert.equal(C.verifySignedObject(receipt, publicHex), false);
  assert.equal(C.verifySignedObject(signed, v.voter_public), false);
  assert.equal(C.verifySignedObject(signed, publicHex.toUpperCase()), false);
  assert.equal(C.verifySignedObject(signed, 'zz'), false);
  assert.equal(C.verifySignedObject(null, publicHex), false);
  assert.equal(C.verifySignedObject([], publicHex), false);
});

test('signPaperList: an official signs the list without signatures (record.md §2.4)', async () => {
  const v = VECTORS.cases[0];
  const other = VECTORS.cases[1];
  const body = {
    type: 'ssbvote-paper-overrides', election_id: ELECTION, opening: 'ab'.repeat(32),
    pseudonyms: ['0'.repeat(32), 'f'.repeat(32)], at: '2026-12-21T00:00:00Z',
  };
  const publicKey = C.publicCredential(await C.officialKey(v.credential));
  const signed = await C.signPaperList(body, v.credential, publicKey);
  assert.equal(signed.officialKey, publicKey);
  assert.equal(signed.digest, await hazmat.objectHash(body));
  assert.match(signed.signature, /^[0-9a-f]{128}$/);
  assert.equal(C.verifyPaperListSignature(body, signed.signature, publicKey), true);
  const withSignatures = { ...body, signatures: [{ official: 'alice', signature: signed.signature }] };
  assert.equal(C.verifyPaperListSignature(withSignatures, signed.signature, publicKey), true);
  assert.equal(C.verifyPaperListSignature({ ...body, pseudonyms: [] }, signed.signature, publicKey), false);
  // Typed variants sign alike; a voter key of the same credential is another key.
  assert.equal((await C.signPaperList(body, v.credential.toLowerCase())).signature, signed.signature);
  assert.notEqual(C.publicCredential(await C.voterKey(v.credential, ELECTION)), publicKey);
  await assert.rejects(C.signPaperList(body, other.credential, publicKey), /not your official credential/);
  await assert.rejects(C.signPaperList(withSignatures, v.credential), InvalidInput);
  await assert.rejects(C.signPaperList({ ...body, type: 'ssbvote-receipt' }, v.credential), InvalidInput);
  await assert.rejects(C.signPaperList(body, 'nonsense'), mistypedError);
});

test('audit statement and signature (§14.2): signed by the credential, never a ballot signature', async () => {
  const v = VECTORS.cases[2];
  const { previous: _p, ...fields } = fieldsOf(v.statement);
  const seed = '5e'.repeat(32);
  const { statement, signature } = await C.signAudit({ ...fields, seed }, v.typed);
  assert.deepEqual(Object.keys(statement).sort(),
    ['ballot_hash', 'contest', 'credential', 'election_id', 'opening', 'pseudonym', 'seed', 'type']);
  assert.equal(statement.type, 'ssbvote-audit');
  assert.equal(statement.seed, seed);
  assert.equal(C.verifyAuditSignature(statement, signature), true);
  assert.equal(C.verifySignedObject({ ...statement, signature }, statement.credential), true);
  // Not a ballot signature: the server cannot turn an audit into a cast.
  assert.equal(C.verifyBallotSignature({ ...v.statement }, signature), false);
  assert.equal(C.verifyAuditSignature({ ...statement, type: 'ssbvote-ballot' }, signature), false);
  for (const [field, value] of Object.entries({ seed: '00'.repeat(32), ballot_hash: 'ee'.repeat(32), opening: 'ac'.repeat(32) })) {
    assert.equal(C.verifyAuditSignature({ ...statement, [field]: value }, signature), false, field);
  }
  assert.equal(C.verifyAuditSignature({ ...statement, previous: '' }, signature), false);
  await assert.rejects(C.signAudit({ ...fields, seed: 'AB'.repeat(32) }, v.typed), /seed/);
  await assert.rejects(C.signAudit({ ...fields, seed }, VECTORS.cases[0].credential), /not the credential registered/);
});
