"""The JavaScript ballot library against the Python reference (docs/protocol.md §11).

* ``node --test frontend/test/``: known-answer vectors byte for byte, encodings, tampering;
* cross-tests: a Python ballot verifies in JS, a JS ballot verifies (and opens) in Python,
  forged ballots of tests/crypto/forge.py are judged the same by both, and canonical JSON and
  object hashes agree on awkward Unicode.
"""
from __future__ import annotations

import json
import secrets
import subprocess
from typing import Any

import pytest

from crypto import (
    ContestStatement,
    EncryptedContest,
    InvalidInput,
    PublicKey,
    ballot_hash,
    encrypt_contest,
    recover_selections,
    verify_contest,
)
from crypto.encoding import canonical_json
from crypto.hashing import object_hash
from tests.crypto.forge import forge_ballot
from tests.js.support import FRONTEND, ROOT, node_binary, run_cli

ELECTION = "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
CONTEST = "insured-board"
PSEUDONYM = "ผู้ประกันตน-7"


def _statement(pk: PublicKey, num_candidates: int, k: int) -> ContestStatement:
    return ContestStatement(pk, ELECTION, CONTEST, PSEUDONYM, num_candidates, k)


def _context(pk: PublicKey, num_candidates: int, k: int, **extra: Any) -> dict[str, Any]:
    return {
        "publicKey": pk.to_dict(), "electionId": ELECTION, "contestId": CONTEST, "pseudonym": PSEUDONYM,
        "numCandidates": num_candidates, "maxSelections": k, **extra,
    }


def test_node_test_suite() -> None:
    """frontend/test/*.test.js: vectors.json reproduced byte for byte (ballot JSON, ballot_hash,
    ballot context, r values), encodings, tampered ballots, encryptor life cycle."""
    proc = subprocess.run(
        [node_binary(), "--test", "frontend/test/"], cwd=ROOT, capture_output=True, timeout=600,
    )
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, out[-6000:] + proc.stderr.decode("utf-8", "replace")[-2000:]
    assert "# fail 0" in out
    assert (FRONTEND / "test" / "vectors.test.js").exists()
    assert (FRONTEND / "test" / "credential.test.js").exists()  # credentials.json (§13)


def test_python_ballot_verifies_in_js(pk: PublicKey) -> None:
    selections = [0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]
    seed = secrets.token_bytes(32)
    ballot = encrypt_contest(_statement(pk, len(selections), 4), selections, seed)
    ctx = _context(pk, len(selections), 4)
    assert run_cli("verify", {**ctx, "ballot": ballot.to_dict()}) == {"ok": True}
    opened = run_cli("recover", {**ctx, "ballot": ballot.to_dict(), "seedHex": seed.hex()})
    assert opened == {"selections": selections}
    canon = run_cli("canonical", ballot.to_dict())
    assert canon["json"].encode("utf-8") == ballot.to_json()
    assert canon["hash"] == ballot_hash(ballot)


def test_js_rejects_python_ballot_in_wrong_context(pk: PublicKey) -> None:
    ballot = encrypt_contest(_statement(pk, 3, 1), [1, 0, 0], secrets.token_bytes(32)).to_dict()
    wrong_pseudonym = run_cli("verify", {**_context(pk, 3, 1, pseudonym="ผู้ประกันตน-8"), "ballot": ballot})
    assert wrong_pseudonym["ok"] is False and wrong_pseudonym["error"] == "InvalidProof"
    changed = json.loads(json.dumps(ballot))
    changed["ciphertexts"][1] = format(int(changed["ciphertexts"][1], 16) * 4 % int(pk.n_square), "x")
    result = run_cli("verify", {**_context(pk, 3, 1), "ballot": changed})
    assert result["ok"] is False and "candidate 1" in result["message"]
    swapped = json.loads(json.dumps(ballot))
    swapped["proofs"][0], swapped["proofs"][2] = swapped["proofs"][2], swapped["proofs"][0]
    result = run_cli("verify", {**_context(pk, 3, 1), "ballot": swapped})
    assert result["ok"] is False and result["error"] == "InvalidProof"


@pytest.mark.parametrize(
    "name, values, k",
    [
        ("value 2 with a forged 0/1 proof", [0, 2, 0, 0], 2),
        ("value -1 with a forged 0/1 proof", [1, -1, 0, 0], 2),
        ("k+1 selections with a forged sum proof", [1, 1, 1, 0], 2),
        ("two selections when k = 1", [1, 1, 0, 0], 1),
        ("honest values (forge helper sanity check)", [1, 0, 1, 0], 2),
    ],
)
def test_forged_ballots_judged_alike(pk: PublicKey, name: str, values: list[int], k: int) -> None:
    ballot = forge_ballot(_statement(pk, len(values), k), values)
    try:
        verify_contest(_statement(pk, len(values), k), ballot, batch=False)
        python_ok = True
    except InvalidInput:
        python_ok = False
    js = run_cli("verify", {**_context(pk, len(values), k), "ballot": ballot.to_dict()})
    assert js["ok"] is python_ok, (name, js)
    assert python_ok is (name.startswith("honest")), name


def test_negated_commitments_accepted_by_both(pk: PublicKey) -> None:
    """(V2) is squared (§5.3): −a for the real branch is accepted by Python and JS alike."""
    ballot = forge_ballot(_statement(pk, 3, 1), [1, 0, 0], negate_commitments=True)
    verify_contest(_statement(pk, 3, 1), ballot, batch=False)
    assert run_cli("verify", {**_context(pk, 3, 1), "ballot": ballot.to_dict()}) == {"ok": True}


@pytest.mark.parametrize("selections, k", [([1, 0, 1, 0, 0, 0, 1], 3), ([0, 0, 0], 1), ([1], 1), ([0, 1], 0 + 1)])
def test_js_ballot_verifies_in_python(pk: PublicKey, selections: list[int], k: int) -> None:
    out = run_cli("encrypt", {**_context(pk, len(selections), k), "selections": selections})
    raw = out["ballot"]
    ballot = EncryptedContest.from_json(json.dumps(raw, ensure_ascii=False).encode("utf-8"), pk)
    statement = _statement(pk, len(selections), k)
    verify_contest(statement, ballot)
    verify_contest(statement, ballot, batch=False)
    assert ballot.to_dict() == raw  # JS wrote canonical hex everywhere
    assert out["ballotHash"] == ballot_hash(ballot)
    seed = bytes.fromhex(out["seedHex"])
    assert recover_selections(statement, ballot, seed) == selections
    # And the JS ballot is exactly what the Python reference makes from the same seed.
    again = encrypt_contest(statement, selections, seed)
    assert again.to_json() == canonical_json(raw)


def test_canonical_json_and_hash_agree_on_unicode() -> None:
    obj = {
        "ผู้สมัคร": ["ก", "\u2028", "\x7f", "\x01", 'q"\\', "\U0001F600"],
        "\uff5e": 1, "\U0001F600": 2, "a": {"z": None, "b": True, "c": 0, "d": -5},
    }
    out = run_cli("canonical", obj)
    assert out["json"].encode("utf-8") == canonical_json(obj)
    assert out["hash"] == object_hash(obj)
