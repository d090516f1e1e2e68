"""Credentials across Python and JavaScript (docs/protocol.md §13, §14.2) beyond the fixed vectors:
random credentials made on one side give the same keys, ballot and audit signatures on the
other, and a record.md §1 object signed in Python (a receipt) verifies in frontend/src/credential.js.

(The fixed vectors themselves are checked by frontend/test/credential.test.js, which
tests/js/test_js_vectors.py runs with the rest of ``node --test frontend/test/``.)
"""
from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.credential import (
    audit_statement, ballot_statement, format_credential, generate_credential, official_key, parse_credential,
    public_credential, sign_audit, sign_ballot, verify_audit_signature, verify_ballot_signature, voter_key,
)
from crypto.encoding import canonical_json
from tests.js.support import ROOT, node_binary

ELECTION = "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"

_SCRIPT = """
import * as C from './frontend/src/credential.js';
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const out = {};
out.fromPython = [];
for (const item of request.fromPython) {
  const { statement, signature } = await C.signBallot(item.fields, item.typed);
  const { previous: _p, ...auditFields } = item.fields;
  const audit = await C.signAudit({ ...auditFields, seed: item.seed }, item.typed);
  out.fromPython.push({
    symbols: await C.parseCredential(item.typed),
    official: C.publicCredential(await C.officialKey(item.typed)),
    statement, signature, audit,
    // An audit signature never passes as a ballot signature (different type, §14.2).
    auditAsBallot: C.verifyBallotSignature({ ...statement }, audit.signature),
    auditOk: C.verifyAuditSignature(audit.statement, audit.signature),
    auditOtherSeed: C.verifyAuditSignature({ ...audit.statement, seed: '00'.repeat(32) }, audit.signature),
  });
}
out.generated = [];
for (let i = 0; i < request.generate; i++) out.generated.push(await C.generateCredential());
out.receipts = request.receipts.map((r) => C.verifySignedObject(r.object, r.publicKey));
process.stdout.write(JSON.stringify(out));
"""


def _node(request: dict[str, Any]) -> Any:
    proc = subprocess.run(
        [node_binary(), "--input-type=module", "-e", _SCRIPT],
        input=json.dumps(request, ensure_ascii=False).encode("utf-8"), capture_output=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout)


def _fields(index: int, previous: str) -> dict[str, str]:
    return {"electionId": ELECTION, "opening": f"{index:064x}", "contest": "insured-board",
            "pseudonym": f"{index + 7:032x}", "ballotHash": f"{index + 99:064x}", "previous": previous}


@pytest.fixture(scope="module")
def exchange() -> tuple[dict[str, Any], Any]:
    from_python = []
    for i in range(8):
        typed = generate_credential()
        if i % 2:
            typed = " ".join(parse_credential(typed).lower())
        from_python.append({"typed": typed, "fields": _fields(i, "" if i % 3 else f"{i:064x}"),
                            "seed": f"{i + 1234:064x}"})
    board_key = Ed25519PrivateKey.generate()
    receipt = {"type": "ssbvote-receipt", "election_id": ELECTION, "seq": 3, "pseudonym": "ab" * 16,
               "note": "ผู้ประกันตน"}
    signature = board_key.sign(canonical_json(receipt)).hex()
    board_public = public_credential(board_key)
    receipts = [
        {"object": {**receipt, "signature": signature}, "publicKey": board_public, "ok": True},
        {"object": {**receipt, "seq": 4, "signature": signature}, "publicKey": board_public, "ok": False},
        {"object": {**receipt, "signature": signature}, "publicKey": public_credential(Ed25519PrivateKey.generate()),
         "ok": False},
    ]
    request = {"fromPython": from_python, "generate": 20, "receipts": receipts}
    return request, _node(request)


def test_python_credentials_sign_alike_in_js(exchange: tuple[dict[str, Any], Any]) -> None:
    request, out = exchange
    for item, js in zip(request["fromPython"], out["fromPython"], strict=True):
        f = item["fields"]
        key = voter_key(item["typed"], ELECTION)
        statement = ballot_statement(ELECTION, f["opening"], f["contest"], f["pseudonym"], public_credential(key),
                                     f["ballotHash"], previous=f["previous"])
        assert js["symbols"] == parse_credential(item["typed"])
        assert js["statement"] == statement
        assert js["signature"] == sign_ballot(statement, key)
        assert js["official"] == public_credential(official_key(item["typed"]))
        audit = audit_statement(ELECTION, f["opening"], f["contest"], f["pseudonym"], public_credential(key),
                                f["ballotHash"], item["seed"])
        assert js["audit"]["statement"] == audit
        assert js["audit"]["signature"] == sign_audit(audit, key)
        assert (js["auditOk"], js["auditAsBallot"], js["auditOtherSeed"]) == (True, False, False)


def test_js_credentials_parse_and_verify_in_python(exchange: tuple[dict[str, Any], Any]) -> None:
    _, out = exchange
    assert len(set(out["generated"])) == 20
    for text in out["generated"]:
        assert format_credential(parse_credential(text)) == text
    for js in out["fromPython"]:
        s = js["statement"]
        assert verify_ballot_signature(s["election_id"], s["opening"], s["contest"], s["pseudonym"], s["credential"],
                                       s["ballot_hash"], js["signature"], previous=s["previous"])
        a = js["audit"]["statement"]
        assert verify_audit_signature(a["election_id"], a["opening"], a["contest"], a["pseudonym"], a["credential"],
                                      a["ballot_hash"], a["seed"], js["audit"]["signature"])
        assert not verify_audit_signature(a["election_id"], a["opening"], a["contest"], a["pseudonym"],
                                          a["credential"], a["ballot_hash"], "11" * 32, js["audit"]["signature"])


def test_python_signed_receipt_verifies_in_js(exchange: tuple[dict[str, Any], Any]) -> None:
    request, out = exchange
    assert out["receipts"] == [r["ok"] for r in request["receipts"]]


_OFFICIAL_SCRIPT = """
import * as C from './frontend/src/credential.js';
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const out = [];
for (const body of request.bodies) {
  try {
    out.push(await C.signOfficialObject(body, request.credential, request.expected, body.type));
  } catch (err) {
    out.push({ error: err.message });
  }
}
try {
  await C.signPaperList(request.bodies[1], request.credential);
  out.push({ error: 'signPaperList signed a poll extension' });
} catch (err) {
  out.push({ error: err.message });
}
process.stdout.write(JSON.stringify(out));
"""


def test_officials_sign_extensions_and_lots_in_js_as_python_verifies() -> None:
    """One signing function in the browser for the three two-official objects (docs/record.md
    §2.4, §2.7, §4.6); signPaperList still refuses anything but the paper-vote list."""
    from election import decisions
    from election.board import paper_list_digest, paper_overrides, paper_signature_problems

    credential = format_credential(generate_credential())
    key = official_key(credential)
    public = public_credential(key)
    bodies = [
        paper_overrides(ELECTION, [], "2026-12-20T14:00:00.000000Z", opening="ab" * 32),
        decisions.poll_extension(ELECTION, opening="ab" * 32, closes="2026-12-20T18:00:00+07:00",
                                 previous_closes="2026-12-20T16:00:00+07:00", reason="ไฟดับ เขต 3",
                                 at="2026-12-20T08:00:00.000000Z"),
        decisions.lot(ELECTION, opening="ab" * 32, contest="insured", tied=["I2", "I3"], seats=1,
                      chosen=["I3"], at="2026-12-21T08:00:00.000000Z"),
        {"type": "ssbvote-checkpoint", "election_id": ELECTION},
    ]
    proc = subprocess.run([node_binary(), "--input-type=module", "-e", _OFFICIAL_SCRIPT],
                          input=json.dumps({"bodies": bodies, "credential": credential, "expected": public},
                                           ensure_ascii=False).encode("utf-8"),
                          capture_output=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    out = json.loads(proc.stdout)
    for body, signed in zip(bodies[:3], out[:3]):
        assert signed["officialKey"] == public and signed["digest"] == paper_list_digest(body)
        obj = {**body, "signatures": [{"official": "alice", "signature": signed["signature"]}]}
        assert paper_signature_problems(obj, {"alice": public}) == ["1 signatures, not 2 (two officials)"]
    assert "expected an object of type" in out[3]["error"]  # a checkpoint is not the officials' to sign
    assert out[4]["error"].startswith("paper-vote list: expected an object of type ssbvote-paper-overrides")
