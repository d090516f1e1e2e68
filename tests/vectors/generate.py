"""Generate the known-answer vectors of docs/protocol.md §11.

Run: ``python tests/vectors/generate.py``.  The 512-bit test key (``test_key.json``, with the
trustees' secret shares — TEST ONLY) is generated once and kept; the ballot vectors
(``ballots.json``) are a deterministic function of it and are re-derived by
``tests/crypto/test_vectors.py`` and, later, by the JavaScript implementation.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from crypto import (  # noqa: E402
    ContestStatement,
    ElectionPublicKey,
    TrusteeShare,
    ballot_hash,
    encrypt_contest,
    generate_election_key,
)
from crypto.encoding import int_to_hex  # noqa: E402
from crypto.kdf import LABEL_R, BallotKdf  # noqa: E402

KEY_FILE = HERE / "test_key.json"
BALLOT_FILE = HERE / "ballots.json"

CASES: list[dict[str, Any]] = [
    {
        "name": "3-of-5, max 2",
        "election_id": "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff",
        "contest_id": "insured-board",
        "pseudonym": "c0ffee00c0ffee00c0ffee00c0ffee00",
        "selections": [1, 0, 1, 0, 0],
        "max_selections": 2,
        "seed": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    },
    {
        "name": "7-of-20, max 7",
        "election_id": "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff",
        "contest_id": "employer-board",
        "pseudonym": "ผู้ประกันตน-42",
        "selections": [1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0],
        "max_selections": 7,
        "seed": "ff" * 32,
    },
    {
        "name": "abstain, 4 candidates, max 1",
        "election_id": "e",
        "contest_id": "c",
        "pseudonym": "p",
        "selections": [0, 0, 0, 0],
        "max_selections": 1,
        "seed": "5a" * 32,
    },
]


def load_key() -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    data = json.loads(KEY_FILE.read_text())
    key = ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=True)
    shares = [TrusteeShare.from_dict(s, allow_insecure_test_key=True) for s in data["shares"]]
    return key, shares


def build_vector(key: ElectionPublicKey, case: dict[str, Any]) -> dict[str, Any]:
    pk = key.public_key
    seed = bytes.fromhex(case["seed"])
    statement = ContestStatement(pk, case["election_id"], case["contest_id"], case["pseudonym"],
                                 len(case["selections"]), case["max_selections"])
    ballot = encrypt_contest(statement, case["selections"], seed)
    kdf = BallotKdf.create(statement, seed)
    return dict(
        case,
        n=int_to_hex(pk.n),
        ballot_context=kdf.ctx.hex(),
        alpha=[int_to_hex(kdf.short(LABEL_R, i, pk.short_bits)) for i in range(len(case["selections"]))],
        ballot=ballot.to_dict(),
        ballot_hash=ballot_hash(ballot),
    )


def build_all() -> dict[str, Any]:
    key, _ = load_key()
    return {"version": 3, "short_base": int_to_hex(int(key.public_key.short_base)),
            "vectors": [build_vector(key, case) for case in CASES]}


def main() -> None:
    if not KEY_FILE.exists():
        key, shares = generate_election_key(
            512, ["trustee-1", "trustee-2", "trustee-3", "trustee-4", "trustee-5"], 3,
            allow_insecure_test_key=True,
        )
        KEY_FILE.write_text(
            json.dumps({"election_key": key.to_dict(), "shares": [s.to_dict() for s in shares]}, indent=1, sort_keys=True) + "\n"
        )
    BALLOT_FILE.write_text(json.dumps(build_all(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
