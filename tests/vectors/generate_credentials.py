"""Generate the credential known-answer vectors of docs/protocol.md §13 (credentials.json).

Run: ``python tests/vectors/generate_credentials.py``.  Everything is a deterministic function of
the FIXED data symbols below (Ed25519 signatures are deterministic, RFC 8032), so the file is
re-derived byte for byte by ``tests/crypto/test_credential.py`` (Python) and
``frontend/test/credential.test.js`` (JavaScript).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from crypto.credential import (  # noqa: E402
    ALPHABET, DOMAIN_CHECK, SCOPE_OFFICIALS, ballot_party, ballot_statement, credential_from_data,
    credential_qr_text, format_credential, official_key, parse_credential, public_credential, sign_ballot,
    signing_seed, voter_key,
)
from crypto.encoding import canonical_json, lp_encode  # noqa: E402

CREDENTIAL_FILE = HERE / "credentials.json"

ELECTION = "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
OTHER_ELECTION = "00112233445566778899aabbccddeeffb3c1f0e2d4a5968778695a4b3c2d1e0f"
OPENING = hashlib.sha256(b"ssb-vote test opening object").hexdigest()


def _hex(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


#: Fixed data symbols (26 each, every one with a 0 and a 1 so that the typed variants exercise
#: O → 0 and I, L → 1) and the ballot each credential signs.
CASES: list[dict[str, Any]] = [
    {"name": "zeros and ones", "data": "01" * 13, "election_id": ELECTION,
     "contest": "insured-board", "pseudonym": "c0ffee00c0ffee00c0ffee00c0ffee00",
     "ballot_hash": _hex("ballot 1"), "previous": ""},
    {"name": "alphabet order", "data": ALPHABET[:26], "election_id": ELECTION,
     "contest": "employer-board", "pseudonym": "0123456789abcdef0123456789abcdef",
     "ballot_hash": _hex("ballot 2"), "previous": _hex("ballot 1")},
    {"name": "letter example", "data": "K7QM3XDA1PWE0ZN9HGRT4S6B8Y", "election_id": ELECTION,
     "contest": "ผู้แทนฝ่ายผู้ประกันตน", "pseudonym": "ffffffffffffffff0000000000000000",
     "ballot_hash": _hex("ballot 3"), "previous": ""},
    {"name": "other election", "data": "ZZZZZZZZZZZZZZZZZZZZZZZZ10", "election_id": OTHER_ELECTION,
     "contest": "c", "pseudonym": "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
     "ballot_hash": _hex("ballot 4"), "previous": _hex("ballot 3")},
    {"name": "high symbols", "data": "VWXYZ0TSRQPNMKJHGFEDCBA981", "election_id": ELECTION,
     "contest": "insured-board", "pseudonym": "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
     "ballot_hash": _hex("ballot 5"), "previous": ""},
]

_TYPO = {"0": "o", "1": "l"}


def typed_variant(credential: str, index: int) -> str:
    """A sloppy but valid way to type ``credential`` (§13.1): lower case, O for 0, I/L for 1,
    spaces, tabs and dashes in odd places."""
    out = []
    for i, symbol in enumerate(credential):
        char = symbol.lower() if (i + index) % 3 else symbol
        if symbol == "0":
            char = "O" if i % 2 else "o"
        elif symbol == "1":
            char = ("I", "i", "L", "l")[(i + index) % 4]
        out.append(char)
        if i % 5 == 4:
            out.append(" -\t"[(i + index) % 3])
    return "  " + "".join(out) + " \n"


def check_value(data: str) -> int:
    h = hashlib.sha256(lp_encode(DOMAIN_CHECK, data)).digest()
    return (h[0] << 2) | (h[1] >> 6)


def build_case(index: int, case: dict[str, Any]) -> dict[str, Any]:
    credential = credential_from_data(case["data"])
    voter = voter_key(credential, case["election_id"])
    public = public_credential(voter)
    statement = ballot_statement(
        case["election_id"], OPENING, case["contest"], case["pseudonym"], public, case["ballot_hash"],
        previous=case["previous"],
    )
    typed = typed_variant(credential, index)
    assert parse_credential(typed) == credential
    return {
        "name": case["name"],
        "data": case["data"],
        "check_value": check_value(case["data"]),
        "credential": credential,
        "formatted": format_credential(credential),
        "typed": typed,
        "election_id": case["election_id"],
        "qr_text": credential_qr_text(case["election_id"], credential),
        "voter_seed": signing_seed(credential, "voter", case["election_id"]).hex(),
        "voter_public": public,
        "official_seed": signing_seed(credential, "official", SCOPE_OFFICIALS).hex(),
        "official_public": public_credential(official_key(credential)),
        "ballot_party": ballot_party(case["pseudonym"], public),
        "statement": statement,
        "statement_json": canonical_json(statement).decode("utf-8"),
        "signature": sign_ballot(statement, voter),
    }


def mistyped(cases: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Inputs that must give "credential mistyped" (§13.1), each with the reason."""
    good = cases[1]["credential"]
    wrong_symbol = good[:5] + ALPHABET[(ALPHABET.index(good[5]) + 1) % 32] + good[6:]
    swapped = good[:10] + good[11] + good[10] + good[12:]
    wrong_check = good[:26] + good[27] + good[26] if good[26] != good[27] else good[:26] + "00"
    out = [
        {"why": "empty", "typed": ""},
        {"why": "27 symbols", "typed": good[:27]},
        {"why": "29 symbols", "typed": good + "0"},
        {"why": "data symbols only", "typed": good[:26]},
        {"why": "U is not a symbol", "typed": good[:7] + "U" + good[8:]},
        {"why": "punctuation", "typed": good[:7] + "." + good[8:]},
        {"why": "underscore separator", "typed": "_".join(good[i:i + 4] for i in range(0, 28, 4))},
        {"why": "full-width letter", "typed": "\uff2b" + good[1:]},
        {"why": "dotless i (upper-cases to I outside ASCII)", "typed": good[:3] + "\u0131" + good[4:]},
        {"why": "non-breaking space", "typed": good[:4] + "\u00a0" + good[4:]},
        {"why": "one symbol changed", "typed": wrong_symbol},
        {"why": "adjacent symbols swapped", "typed": swapped},
        {"why": "check symbols wrong", "typed": wrong_check},
        {"why": "credential of another case's data with this check", "typed": cases[0]["data"] + good[26:]},
    ]
    for item in out:
        try:
            parse_credential(item["typed"])
        except ValueError:
            continue
        raise AssertionError(f"mistyped vector accepted: {item['why']}")
    return out


def build_all() -> dict[str, Any]:
    cases = [build_case(i, case) for i, case in enumerate(CASES)]
    return {
        "version": 1,
        "spec": "docs/protocol.md §13.1-§13.4",
        "alphabet": ALPHABET,
        "opening": OPENING,
        "officials_scope": SCOPE_OFFICIALS,
        "cases": cases,
        "mistyped": mistyped(cases),
    }


def main() -> None:
    CREDENTIAL_FILE.write_text(json.dumps(build_all(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
