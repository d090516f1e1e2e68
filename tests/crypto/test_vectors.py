"""Known-answer vectors (docs/protocol.md §11): re-derive tests/vectors/ballots.json exactly."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from crypto import ContestStatement, ElectionPublicKey, EncryptedContest, recover_selections, verify_contest

from .conftest import VECTORS


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("vector_generate", VECTORS / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vectors_match_generator_byte_for_byte() -> None:
    committed = json.loads((VECTORS / "ballots.json").read_text())
    assert committed == _generator().build_all()
    names = [v["name"] for v in committed["vectors"]]
    assert "3-of-5, max 2" in names and "7-of-20, max 7" in names


def test_vectors_verify_and_open(election_key: ElectionPublicKey) -> None:
    pk = election_key.public_key
    for v in json.loads((VECTORS / "ballots.json").read_text())["vectors"]:
        ballot = EncryptedContest.from_dict(v["ballot"], pk)
        statement = ContestStatement(pk, v["election_id"], v["contest_id"], v["pseudonym"],
                                     len(v["selections"]), v["max_selections"])
        verify_contest(statement, ballot, batch=False)
        assert recover_selections(statement, ballot, bytes.fromhex(v["seed"])) == v["selections"]
        assert v["n"] == format(pk.n, "x")
