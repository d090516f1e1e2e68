"""Checks 32–35 (docs/record.md §3.3–§3.5) on a hand-built record: the board must extend every
checkpoint an observer saw (two signed heads for one seq are proof of equivocation), witness
co-signatures, the pinned witness list, turnout.  Each tamper is done for real: checkpoints
re-signed with the board key, statements signed with the witness's or another key."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tests.verifier.minirecord import Mini, key, sign
from verifier.checks import CHECKS, CheckResult, Context, Options
from verifier.record import load_record
from verifier.seen import equivocations, first_not_on_chain, load_seen

WITNESS = "observer-a"


def run(root: Path, seen: list[dict[str, Any]] | None = None) -> dict[str, CheckResult]:
    ctx = Context(load_record(root), Options(allow_test_key=True, seen=seen))
    return {r.name: r for r in (check(ctx) for check in CHECKS)}


def checkpoints(m: Mini) -> list[dict[str, Any]]:
    return [json.loads(x) for x in m.path("board/checkpoints.jsonl").read_bytes().splitlines()]


def forged(m: Mini, seq: int, head: str = "ab" * 32, signer: Any = None) -> dict[str, Any]:
    """A checkpoint for ``seq`` with another head, signed by the board key (the server forking
    its board) or by ``signer``."""
    cp = {"type": "ssbvote-checkpoint", "election_id": m.election_id, "opening": m.opening_hash,
          "seq": seq, "head": head, "at": "2026-12-20T03:30:00.000000Z", "final": False}
    return sign(cp, signer or m.board)


def codes(r: CheckResult) -> list[str]:
    return [f.code for f in r.failures]


@pytest.fixture
def mini(tmp_path: Path) -> Mini:
    return Mini(tmp_path / "record", witnesses={WITNESS: key("witness-a"),
                                                "observer-b": key("witness-b")}).write()


def test_without_seen_checkpoints_check_32_passes_with_a_note(mini: Mini) -> None:
    r = run(mini.root)["board.seen"]
    assert r.passed and r.notes[0].code == "seen.not_given"


def test_the_records_own_checkpoints_are_on_its_chain(mini: Mini) -> None:
    r = run(mini.root, checkpoints(mini))["board.seen"]
    assert r.passed, r.failures
    assert r.notes[-1].params == {"count": 2}


def test_a_fork_after_a_seen_checkpoint_fails_naming_it_and_both_heads(mini: Mini) -> None:
    seen = checkpoints(mini)
    seen_4 = next(cp for cp in seen if cp["seq"] == 4)
    # the server rewrites entry 2 and re-chains and re-signs from there (record.md §3.4)
    entries = mini.read_entries()
    entries[1]["cast_at"] = "2026-12-20T02:00:00.000001Z"
    mini.rechain(entries)
    r = run(mini.root, seen)["board.seen"]
    assert "seen.equivocation" in codes(r) and "seen.not_on_chain" in codes(r)
    eq = next(f for f in r.failures if f.code == "seen.equivocation")
    assert eq.params["seq"] == 4 and seen_4["head"] in (eq.params["head"], eq.params["other_head"])
    gone = next(f for f in r.failures if f.code == "seen.not_on_chain")
    assert gone.params["seq"] == 4 and gone.params["head"] == seen_4["head"]
    assert gone.params["found"] == mini.read_entries()[3]["entry_hash"]


def test_the_first_seen_checkpoint_off_the_chain_is_named(mini: Mini) -> None:
    on_chain = [cp for cp in checkpoints(mini) if cp["seq"] == 4]
    r = run(mini.root, on_chain + [forged(mini, 6), forged(mini, 5)])["board.seen"]
    gone = [f for f in r.failures if f.code == "seen.not_on_chain"]
    assert [f.params["seq"] for f in gone] == [5]  # the lowest, only


def test_a_seen_checkpoint_past_the_end_is_not_on_the_chain(mini: Mini) -> None:
    r = run(mini.root, [forged(mini, 99)])["board.seen"]
    gone = next(f for f in r.failures if f.code == "seen.not_on_chain")
    assert gone.params["seq"] == 99 and gone.params["found"] == "—"


def test_a_seen_checkpoint_not_signed_by_the_board_key_proves_nothing(mini: Mini) -> None:
    r = run(mini.root, [forged(mini, 4, signer=key("someone"))])["board.seen"]
    assert r.passed
    assert [n.code for n in r.notes][:1] == ["seen.ignored"]


def test_two_signed_heads_for_one_seq_are_reported_even_off_the_record(mini: Mini) -> None:
    a, b = forged(mini, 2, "11" * 32), forged(mini, 2, "22" * 32)
    assert [e.seq for e in equivocations([a, b])] == [2]
    r = run(mini.root, [a, b])["board.seen"]
    assert "seen.equivocation" in codes(r)


def test_load_seen_reads_a_state_file_and_jsonl(mini: Mini, tmp_path: Path) -> None:
    cps = checkpoints(mini)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"type": "ssbvote-observer-state", "checkpoints": cps}))
    assert load_seen(state) == cps
    lines = tmp_path / "seen.jsonl"
    lines.write_text("".join(json.dumps(cp) + "\n" for cp in cps))
    assert load_seen(lines) == cps


# --- witnesses (checks 33, 34) ------------------------------------------------------------

def statement(m: Mini, seq: int, head: str, name: str = WITNESS, signer: Any = None
              ) -> dict[str, Any]:
    body = {"type": "ssbvote-witness", "election_id": m.election_id, "opening": m.opening_hash,
            "seq": seq, "head": head, "at": "2026-12-20T13:05:00.000000Z", "witness": name}
    return sign(body, signer or m.witnesses[name])


def final_head(m: Mini) -> tuple[int, str]:
    last = m.read_entries()[-1]
    return last["seq"], last["entry_hash"]


def test_a_cosignature_of_the_final_head_passes(mini: Mini) -> None:
    mini.write_json(f"witnesses/{WITNESS}.json", statement(mini, *final_head(mini)))
    results = run(mini.root)
    assert results["witnesses.statements"].passed, results["witnesses.statements"].failures
    assert results["pins.witnesses"].passed
    assert results["witnesses.statements"].notes[0].params == {"count": 1, "pinned": 2}


@pytest.mark.parametrize("attack", ["unpinned-key", "not-final", "other-name", "other-opening"])
def test_a_bad_cosignature_fails_check_33(mini: Mini, attack: str) -> None:
    seq, head = final_head(mini)
    s = statement(mini, seq, head)
    if attack == "unpinned-key":
        s = statement(mini, seq, head, signer=key("the server"))
    elif attack == "not-final":
        s = statement(mini, 4, mini.read_entries()[3]["entry_hash"])
    elif attack == "other-name":
        s = statement(mini, seq, head, name="observer-b")
    else:
        s = sign({**s, "opening": "cd" * 32}, mini.witnesses[WITNESS])
    mini.write_json(f"witnesses/{WITNESS}.json", s)
    r = run(mini.root)["witnesses.statements"]
    assert not r.passed
    assert codes(r)[0] == {"unpinned-key": "witnesses.invalid", "not-final": "witnesses.not_final",
                           "other-name": "witnesses.name",
                           "other-opening": "witnesses.invalid"}[attack]


@pytest.mark.parametrize("attack", ["board-key", "duplicate", "bad-name"])
def test_a_bad_witness_list_fails_check_34(tmp_path: Path, attack: str) -> None:
    m = Mini(tmp_path / "record", witnesses={WITNESS: key("witness-a")})
    if attack == "board-key":
        m.witnesses = {WITNESS: m.board}
    elif attack == "bad-name":
        m.witnesses = {"Observer A": key("witness-a")}
    m.write()
    if attack == "duplicate":
        opening = json.loads(m.path("opening.json").read_bytes())
        opening["witnesses"] = opening["witnesses"] * 2
        m.write_json("opening.json", sign(opening, m.ca))
    r = run(m.root)["pins.witnesses"]
    assert not r.passed
    assert codes(r)[0] == {"board-key": "pinwit.key_reused", "duplicate": "pinwit.key_reused",
                           "bad-name": "pinwit.shape"}[attack]


def test_turnout_is_reported_per_contest_without_results(mini: Mini) -> None:
    r = run(mini.root)["board.turnout"]
    assert r.passed
    assert {n.params["contest"]: (n.params["ballots"], n.params["voters"]) for n in r.notes} == {
        "insured": (6, 4), "employer": (2, 2)}


def test_audited_ballots_are_not_turnout(tmp_path: Path) -> None:
    """Record version 3 (issue 16): an audit entry is never a cast ballot — seq 8 is the only
    entry of insured voter 3, audited: 5 ballots by 3 voters, and the audit noted apart."""
    m = Mini(tmp_path / "record", audits={8}).write()
    r = run(m.root)["board.turnout"]
    assert r.passed
    turnout = {n.params["contest"]: (n.params["ballots"], n.params["voters"])
               for n in r.notes if n.code == "board_turnout.contest"}
    assert turnout == {"insured": (5, 3), "employer": (2, 2)}
    assert [(n.params["contest"], n.params["audits"]) for n in r.notes
            if n.code == "board_turnout.audits"] == [("insured", 1)]


# --- the rule itself, for any fork ----------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 40), data=st.data())
def test_first_not_on_chain_names_the_lowest_seen_checkpoint_at_or_after_the_fork(
        size: int, data: st.DataObject) -> None:
    chain = {s: f"{s:064x}" for s in range(size + 1)}
    fork = data.draw(st.integers(1, size + 1))  # entries from ``fork`` on are rewritten
    published = {s: (h if s < fork else "f" + h[1:]) for s, h in chain.items()}
    seen_seqs = data.draw(st.sets(st.integers(0, size), min_size=1))
    seen = [{"seq": s, "head": chain[s]} for s in seen_seqs]
    got = first_not_on_chain(seen, published, size)
    after = sorted(s for s in seen_seqs if s >= fork)
    if not after:
        assert got is None
    else:
        assert got is not None and got[0]["seq"] == after[0] and got[1] == published[after[0]]

