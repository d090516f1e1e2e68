"""Tampered records: each must make the verifier exit 1 naming the right check
(docs/record.md §5).  Every tamper is run twice: with stale HASHES.json (``record.hashes``
must fail, naming the file) and with re-computed hashes (the specific check must fail) —
and, where the tamper touches the signed board, once more with the board re-chained and
re-signed with the server's key (a compromised server), so that only the deepest check
can catch it."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.verifier.conftest import (BuiltRecord, Outcome, canonical, read_json, read_jsonl,
                                     rehash, write_json, write_jsonl)

Runner = Callable[..., Outcome]


def _n(record: Path) -> int:
    return int(read_json(record / "election_key.json")["n"], 16)


def _hx(x: int) -> str:
    return format(x, "x")


def rechain(record: Path, built: BuiltRecord) -> None:
    """Re-link entries (ballot_hash, prev_hash, entry_hash) and re-sign every checkpoint with
    the board's private key, as a compromised server could (it cannot re-sign a voter's ballot
    statement: check 19 sees a changed ``ballot_hash``)."""
    entries = read_jsonl(record / "board/entries.jsonl")
    ballots = {b["seq"]: b for b in read_jsonl(record / "board/ballots.jsonl")}
    prev = built.board.election_id
    for e in entries:
        if e["seq"] in ballots:
            e["ballot_hash"] = hashlib.sha256(canonical(ballots[e["seq"]]["ballot"])).hexdigest()
        e["prev_hash"] = prev
        e["entry_hash"] = hashlib.sha256(
            canonical({k: v for k, v in e.items() if k != "entry_hash"})).hexdigest()
        prev = e["entry_hash"]
    write_jsonl(record / "board/entries.jsonl", entries)
    heads = {e["seq"]: e["entry_hash"] for e in entries}
    heads[0] = built.board.election_id
    cps = read_jsonl(record / "board/checkpoints.jsonl")
    out = []
    for cp in cps:
        if cp["final"]:
            cp["seq"] = len(entries)
        cp["head"] = heads[cp["seq"]]
        out.append(built.board.sign(cp))
    write_jsonl(record / "board/checkpoints.jsonl", out)


def _counted(record: Path) -> dict[str, Any]:
    return read_json(record / "tally/counted.json")


def _a_counted_seq(record: Path, contest: str = "insured") -> int:
    return int(_counted(record)["contests"][contest]["counted"][0]["seq"])


def _edit_ballot(record: Path, seq: int, edit: Callable[[dict[str, Any]], None]) -> None:
    lines = read_jsonl(record / "board/ballots.jsonl")
    for line in lines:
        if line["seq"] == seq:
            edit(line["ballot"])
    write_jsonl(record / "board/ballots.jsonl", lines)


# --- the tampers: each returns what the deep check must name ---------------------------------

def t_ciphertext(record: Path) -> dict[str, Any]:
    seq = _a_counted_seq(record)
    n = _n(record)

    def edit(b: dict[str, Any]) -> None:
        b["ciphertexts"][1] = _hx(int(b["ciphertexts"][1], 16) * (1 + n) % (n * n))
    _edit_ballot(record, seq, edit)
    return {"seq": seq, "candidate": "I002"}


def t_proof(record: Path) -> dict[str, Any]:
    seq = _a_counted_seq(record)

    def edit(b: dict[str, Any]) -> None:
        z = int(b["proofs"][3]["responses"][0], 16)
        b["proofs"][3]["responses"][0] = _hx(z - 1)
    _edit_ballot(record, seq, edit)
    return {"seq": seq, "candidate": "I004"}


def t_ballot_removed(record: Path) -> dict[str, Any]:
    lines = read_jsonl(record / "board/ballots.jsonl")
    seq = lines[4]["seq"]
    write_jsonl(record / "board/ballots.jsonl", [x for x in lines if x["seq"] != seq])
    return {"seq": seq}


def t_ballot_added(record: Path) -> dict[str, Any]:
    lines = read_jsonl(record / "board/ballots.jsonl")
    extra = dict(lines[0], seq=lines[-1]["seq"] + 1)
    write_jsonl(record / "board/ballots.jsonl", lines + [extra])
    return {"seq": extra["seq"]}


def t_entry_added_after_close(record: Path) -> dict[str, Any]:
    entries = read_jsonl(record / "board/entries.jsonl")
    ballots = read_jsonl(record / "board/ballots.jsonl")
    last = entries[-1]
    new = dict(entries[0], seq=last["seq"] + 1, prev_hash=last["entry_hash"],
               cast_at=last["cast_at"])
    new["entry_hash"] = hashlib.sha256(
        canonical({k: v for k, v in new.items() if k != "entry_hash"})).hexdigest()
    write_jsonl(record / "board/entries.jsonl", entries + [new])
    write_jsonl(record / "board/ballots.jsonl", ballots + [dict(ballots[0], seq=new["seq"])])
    return {"file": "board/checkpoints.jsonl", "seq": last["seq"]}  # the final one, now short


def _revoter(record: Path) -> tuple[str, int, int]:
    """(contest, superseded seq, last seq) of a voter who re-voted and was counted."""
    for cid, c in _counted(record)["contests"].items():
        counted = {x["pseudonym"]: x["seq"] for x in c["counted"]}
        for x in c["excluded"]:
            if x["reason"] == "superseded" and x["pseudonym"] in counted:
                return cid, x["seq"], counted[x["pseudonym"]]
    raise AssertionError("the fixture has no re-voter")


def t_superseded_counted(record: Path) -> dict[str, Any]:
    cid, old, last = _revoter(record)
    doc = _counted(record)
    c = doc["contests"][cid]
    pseudonym = next(x["pseudonym"] for x in c["counted"] if x["seq"] == last)
    c["counted"] = sorted([x for x in c["counted"] if x["seq"] != last]
                          + [{"pseudonym": pseudonym, "seq": old}], key=lambda x: x["seq"])
    c["excluded"] = sorted([x for x in c["excluded"] if x["seq"] != old]
                           + [{"pseudonym": pseudonym, "seq": last, "reason": "superseded"}],
                           key=lambda x: x["seq"])
    write_json(record / "tally/counted.json", doc)
    return {"seq": old}


def t_overridden_counted(record: Path) -> dict[str, Any]:
    doc = _counted(record)
    for c in doc["contests"].values():
        paper = [x for x in c["excluded"] if x["reason"] == "paper-vote"]
        if paper:
            x = paper[-1]
            c["excluded"].remove(x)
            c["counted"] = sorted(c["counted"] + [{"pseudonym": x["pseudonym"],
                                                   "seq": x["seq"]}], key=lambda y: y["seq"])
            write_json(record / "tally/counted.json", doc)
            return {"seq": x["seq"]}
    raise AssertionError("the fixture has no paper voter with an e-ballot")


def t_tally_ciphertext(record: Path) -> dict[str, Any]:
    doc = read_json(record / "tally/encrypted_tally.json")
    n = _n(record)
    cts = doc["contests"]["insured"]["ciphertexts"]
    cts[0] = _hx(int(cts[0], 16) * (1 + n) % (n * n))  # one more vote for I001
    write_json(record / "tally/encrypted_tally.json", doc)
    return {"contest": "insured", "candidate": "I001"}


def t_decryption_share(record: Path) -> dict[str, Any]:
    path = record / "tally/decryption_shares/trustee-2.json"
    doc = read_json(path)
    n = _n(record)
    shares = doc["contests"]["employer"]["shares"]
    shares[1] = _hx(int(shares[1], 16) * (1 + n) % (n * n))
    write_json(path, doc)
    return {"trustee": 2, "contest": "employer"}


def t_result_count(record: Path) -> dict[str, Any]:
    doc = read_json(record / "results.json")
    cand = doc["contests"]["insured"]["candidates"][2]
    cand["votes"] += 1
    write_json(record / "results.json", doc)
    return {"contest": "insured", "candidate": cand["id"]}


def t_checkpoint_signature(record: Path) -> dict[str, Any]:
    cps = read_jsonl(record / "board/checkpoints.jsonl")
    sig = cps[1]["signature"]
    cps[1]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    write_jsonl(record / "board/checkpoints.jsonl", cps)
    return {"line": 2}


def t_manifest(record: Path) -> dict[str, Any]:
    doc = read_json(record / "manifest.json")
    doc["title"]["en"] += " (amended)"
    write_json(record / "manifest.json", doc)
    return {"file": "results.json"}  # one of the objects whose election id no longer matches


# (tamper, deep check that must fail, files it changes, re-chain the board for the deep run)
TAMPERS = [
    (t_ciphertext, "board.ballots", "board/ballots.jsonl", False),
    (t_ciphertext, "ballots.proofs", "board/ballots.jsonl", True),
    (t_proof, "board.ballots", "board/ballots.jsonl", False),
    (t_proof, "ballots.proofs", "board/ballots.jsonl", True),
    (t_ballot_removed, "board.ballots", "board/ballots.jsonl", False),
    (t_ballot_added, "board.ballots", "board/ballots.jsonl", False),
    (t_entry_added_after_close, "board.checkpoints", "board/entries.jsonl", False),
    (t_superseded_counted, "tally.counted_set", "tally/counted.json", False),
    (t_overridden_counted, "tally.counted_set", "tally/counted.json", False),
    (t_tally_ciphertext, "tally.aggregate", "tally/encrypted_tally.json", False),
    (t_decryption_share, "tally.decryption_shares",
     "tally/decryption_shares/trustee-2.json", False),
    (t_result_count, "results.combination", "results.json", False),
    (t_checkpoint_signature, "board.checkpoints", "board/checkpoints.jsonl", False),
    (t_manifest, "manifest.election_id", "manifest.json", False),
]
IDS = [f"{t.__name__[2:]}{'-rechained' if re else ''}" for t, _, _, re in TAMPERS]


@pytest.mark.parametrize("tamper,check,changed,rechained", TAMPERS, ids=IDS)
def test_stale_hashes_fail_record_hashes(record: Path, run_verifier: Runner, tamper: Any,
                                         check: str, changed: str, rechained: bool) -> None:
    tamper(record)
    out = run_verifier(record)
    assert out.code == 1
    assert "record.hashes" in out.failed
    assert {"file": changed} in out.items("record.hashes")


@pytest.mark.parametrize("tamper,check,changed,rechained", TAMPERS, ids=IDS)
def test_rehashed_tamper_fails_the_specific_check(record: Path, built_record: BuiltRecord,
                                                  run_verifier: Runner, tamper: Any,
                                                  check: str, changed: str,
                                                  rechained: bool) -> None:
    expected = tamper(record)
    if rechained:
        rechain(record, built_record)
    rehash(record)
    out = run_verifier(record)
    assert out.code == 1
    assert "record.hashes" not in out.failed
    assert check in out.failed, out.failed
    if rechained:  # only the deepest check can see it — and the voter's signature (v2)
        assert {"board.chain", "board.ballots", "board.checkpoints"}.isdisjoint(out.failed)
        assert {"file": "board/entries.jsonl", "seq": expected["seq"]}.items() <= next(
            f["item"] for f in out.check("board.signatures")["failures"]
            if f["code"] == "signatures.invalid").items()
    if check == "board.ballots":  # a hash mismatch names the ballot, not the candidate
        expected = {"seq": expected["seq"]}
    items = out.items(check)
    assert any(all(item.get(k) == v for k, v in expected.items()) for item in items), items


def test_tampered_proof_reported_with_seq_contest_and_candidate(
        record: Path, built_record: BuiltRecord, run_verifier: Runner) -> None:
    expected = t_proof(record)
    rechain(record, built_record)
    rehash(record)
    out = run_verifier(record)
    (failure,) = out.check("ballots.proofs")["failures"]
    assert failure["item"] == {"file": "board/ballots.jsonl", "seq": expected["seq"],
                               "contest": "insured", "candidate": "I004"}
    assert "V2" in failure["message"]
    # the counted set now must exclude it as invalid: the tally's list is stale
    assert "tally.counted_set" in out.failed


def test_several_invalid_ballots_named_as_by_per_proof_verification(
        record: Path, built_record: BuiltRecord, run_verifier: Runner) -> None:
    """Forged proofs, a non-unit and a ballot copied under another pseudonym in one record (one
    batch, docs/protocol.md §7.3): batch verification names exactly those ballots, with the
    findings of per-proof verification (--no-batch)."""
    n = _n(record)
    lines = read_jsonl(record / "board/ballots.jsonl")
    first = lines[0]
    other = next(x for x in lines if x["contest"] == first["contest"]
                 and x["pseudonym"] != first["pseudonym"])
    other["ballot"] = first["ballot"]  # a replay: its proofs are bound to the first pseudonym
    for line, candidate in ((lines[3], 1), (lines[-1], 0)):
        z = int(line["ballot"]["proofs"][candidate]["responses"][1], 16)
        line["ballot"]["proofs"][candidate]["responses"][1] = _hx(z + 1)
    lines[5]["ballot"]["sum_proof"]["commitments"][0] = _hx(n)  # gcd(a, n) = n
    write_jsonl(record / "board/ballots.jsonl", lines)
    bad = sorted({other["seq"], lines[3]["seq"], lines[-1]["seq"], lines[5]["seq"]})
    rechain(record, built_record)
    rehash(record)
    batched = run_verifier(record)
    per_proof = run_verifier(record, "--no-batch")
    assert batched.code == per_proof.code == 1
    assert {"board.chain", "board.ballots", "board.checkpoints"}.isdisjoint(batched.failed)
    assert sorted(item["seq"] for item in batched.items("ballots.proofs")) == bad
    assert batched.check("ballots.proofs")["failures"] == \
        per_proof.check("ballots.proofs")["failures"]
    messages = " ".join(f["message"] for f in batched.check("ballots.proofs")["failures"])
    assert "(V1)" in messages and "(V2)" in messages and "unit" in messages


def test_hex_with_a_final_newline_is_not_canonical(record: Path, built_record: BuiltRecord,
                                                   run_verifier: Runner) -> None:
    """"ab…\n" is not canonical hex (docs/protocol.md §2.1), although int(…, 16) reads it."""
    seq = _a_counted_seq(record)
    _edit_ballot(record, seq, lambda b: b["proofs"][2]["responses"].__setitem__(
        0, b["proofs"][2]["responses"][0] + "\n"))
    rechain(record, built_record)
    rehash(record)
    out = run_verifier(record)
    assert out.code == 1
    (failure,) = out.check("ballots.proofs")["failures"]
    assert failure["item"]["seq"] == seq and failure["item"]["candidate"] == "I003"
    assert "canonical hex" in failure["message"]


def test_decryption_share_tamper_changes_trustees_used(record: Path,
                                                       run_verifier: Runner) -> None:
    t_decryption_share(record)
    rehash(record)
    out = run_verifier(record)
    assert "results.combination" in out.failed
    codes = {f["code"] for f in out.check("results.combination")["failures"]}
    assert "results.trustees_used" in codes


def test_result_count_tamper_also_checked_by_rank(record: Path, run_verifier: Runner) -> None:
    doc = read_json(record / "results.json")
    c = doc["contests"]["insured"]
    c["elected"] = list(reversed(c["elected"]))
    write_json(record / "results.json", doc)
    rehash(record)
    out = run_verifier(record)
    assert out.failed == {"results.elected"}


def test_count_above_counted_ballots_is_implausible(record: Path, run_verifier: Runner) -> None:
    doc = read_json(record / "results.json")
    c = doc["contests"]["employer"]
    c["candidates"][0]["votes"] = c["counted_ballots"] + 1
    write_json(record / "results.json", doc)
    rehash(record)
    out = run_verifier(record)
    assert {"results.combination", "results.plausible"} <= out.failed


def test_override_list_signature(record: Path, run_verifier: Runner) -> None:
    doc = read_json(record / "paper_overrides.json")
    doc["pseudonyms"] = doc["pseudonyms"][1:]
    write_json(record / "paper_overrides.json", doc)
    rehash(record)
    out = run_verifier(record)
    assert "overrides.officials" in out.failed  # the officials signed the list before


def test_unlisted_file(record: Path, run_verifier: Runner) -> None:
    (record / "tally" / "notes.txt").write_text("hello")
    out = run_verifier(record)
    assert {"record.format", "record.hashes"} <= out.failed
    assert {"file": "tally/notes.txt"} in out.items("record.hashes")


def test_missing_file_is_a_failed_check_not_unreadable(record: Path,
                                                       run_verifier: Runner) -> None:
    (record / "results.json").unlink()
    rehash(record)
    out = run_verifier(record)
    assert out.code == 1
    assert {"file": "results.json"} in out.items("record.format")
    assert "results.combination" in out.failed
