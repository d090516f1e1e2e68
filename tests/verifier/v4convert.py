"""Bring a version-3 record made by the test board builder and the tally up to record version 4
(docs/record.md, issue 21), written here from the spec with ``cryptography`` alone — a bridge
for the verifier tests while the producers (election/, tally/, ca/) still write version 3; once
they write version 4 it does nothing (:func:`to_version_4` returns False).

What changes from version 3 to 4 for a format-1 manifest (one contest per electorate):

* ``FORMAT.json``: version 4;
* ``credentials.json``: the lists keyed by contest id instead of electorate (§6.2), re-signed by
  the CA; every revocation names its ``contest`` instead of its ``electorate`` (§6.3);
* the opening pins the new list's hash (§2.0), re-signed by the CA: so the opening hash changes,
  and with it every voter's ballot or audit statement (re-signed with the voters' keys), the
  hash chain, every checkpoint (board key) and the paper list (two officials);
* ``results.json``: each contest's ``seats`` (= ``max_selections`` for format 1, §4.4);
* ``HASHES.json``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.board_builder import BoardFixture


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sign(obj: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    body = {k: v for k, v in obj.items() if k != "signature"}
    return {**body, "signature": key.sign(_canonical(body)).hex()}


def _read(path: Path) -> Any:
    return json.loads(path.read_bytes())


def _read_lines(path: Path) -> list[Any]:
    return [json.loads(x) for x in path.read_bytes().splitlines()]


def _write(path: Path, obj: Any) -> None:
    path.write_bytes(_canonical(obj))


def _write_lines(path: Path, objs: list[Any]) -> None:
    path.write_bytes(b"".join(_canonical(o) + b"\n" for o in objs))


def rehash(record: Path) -> None:
    files = {p.relative_to(record).as_posix(): _sha(p.read_bytes())
             for p in sorted(record.rglob("*")) if p.is_file() and p.name != "HASHES.json"}
    _write(record / "HASHES.json", {"files": files, "record_hash": _sha(_canonical(files))})


def statement(entry: dict[str, Any], opening_hash: str) -> bytes:
    """The statement a voter's credential signs for a board entry (docs/protocol.md §13.3,
    §14.2; record.md §2.1)."""
    common = {"election_id": entry["election_id"], "opening": opening_hash,
              "contest": entry["contest"], "pseudonym": entry["pseudonym"],
              "credential": entry["credential"], "ballot_hash": entry["ballot_hash"]}
    if entry["kind"] == "audit":
        return _canonical({"type": "ssbvote-audit", **common, "seed": entry["seed"]})
    return _canonical({"type": "ssbvote-ballot", **common, "previous": entry["previous"]})


def resign_board(record: Path, board: BoardFixture, opening_hash: str,
                 voter_keys: dict[str, Ed25519PrivateKey]) -> None:
    """Re-sign every entry's statement (with the voters' keys), re-chain the entries and
    re-sign the checkpoints and the paper list under ``opening_hash``."""
    election_id = board.election_id
    entries = _read_lines(record / "board/entries.jsonl")
    prev = election_id
    heads = {0: election_id}
    for e in entries:
        key = voter_keys.get(e["credential"])
        if key is not None:
            e["signature"] = key.sign(statement(e, opening_hash)).hex()
        e["prev_hash"] = prev
        e.pop("entry_hash", None)
        e["entry_hash"] = _sha(_canonical(e))
        prev = heads[e["seq"]] = e["entry_hash"]
    _write_lines(record / "board/entries.jsonl", entries)
    cps = [_sign(dict(cp, opening=opening_hash, head=heads[cp["seq"]]), board.board_private_key)
           for cp in _read_lines(record / "board/checkpoints.jsonl")]
    _write_lines(record / "board/checkpoints.jsonl", cps)
    paper = _read(record / "paper_overrides.json")
    body = {k: v for k, v in paper.items() if k != "signatures"}
    body["opening"] = opening_hash
    officials = board.official_keys
    paper = {**body, "signatures": [
        {"official": s["official"],
         "signature": officials[s["official"]].sign(_canonical(body)).hex()}
        for s in paper["signatures"]]}
    _write(record / "paper_overrides.json", paper)


def to_version_4(record: Path, board: BoardFixture) -> bool:
    """Convert a version-3 ``record`` of ``board`` in place; False if it is not version 3."""
    if _read(record / "FORMAT.json").get("version") != 3:
        return False
    manifest = _read(record / "manifest.json")
    contest_of = {c["electorate"]: c["id"] for c in manifest["contests"]}  # format 1
    ca = board.ca_private_key
    _write(record / "FORMAT.json", {"format": "ssbvote-record", "version": 4})
    creds = _read(record / "credentials.json")
    lists = creds.pop("electorates")
    creds["contests"] = {contest_of[e]: keys for e, keys in lists.items()}
    creds = _sign(creds, ca)
    _write(record / "credentials.json", creds)
    revocations = []
    for r in _read_lines(record / "revocations.jsonl"):
        r["contest"] = contest_of[r.pop("electorate")]
        revocations.append(_sign(r, ca))
    _write_lines(record / "revocations.jsonl", revocations)
    opening = _read(record / "opening.json")
    opening["credentials"] = _sha((record / "credentials.json").read_bytes())
    opening = _sign(opening, ca)
    _write(record / "opening.json", opening)
    opening_hash = _sha(_canonical(opening))
    voter_keys = {c.public: c.key for v in board.voters.values() for c in v.credentials}
    resign_board(record, board, opening_hash, voter_keys)
    results = _read(record / "results.json")
    for c in manifest["contests"]:
        results["contests"][c["id"]]["seats"] = c["max_selections"]
    _write(record / "results.json", results)
    rehash(record)
    board.opening, board.opening_hash, board.revocations = opening, opening_hash, revocations
    return True
