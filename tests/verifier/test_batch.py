"""Batch verification across ballots (docs/protocol.md §7.1–§7.3) against per-ballot verification:
a chunk of ballots is one batch, a failed batch is bisected, and every ballot gets exactly the
verdict — valid or invalid, where and reason — it gets when verified on its own (per proof).

Ballots are made with crypto/ and tests/crypto/forge.py (cheating clients) under a small test
key whose factors are known, so that non-units whose every equation holds can be built; the
verifier itself never imports them (test_independence.py)."""
from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import gmpy2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from crypto import ContestStatement, PublicKey, encrypt_contest
from tests.crypto.forge import ballot_with_non_unit, forge_ballot
from verifier import arith, batch, parallel, proofs
from verifier.batch import BallotJob, BallotVerdict, batch_holds, verify_chunk
from verifier.errors import InvalidInput

E, C, K = "batch-election", "insured", 2
VALUES = [0, 1, 0, 0, 1, 0]
N = len(VALUES)
P_, Q_ = gmpy2.next_prime(3 * 2**254 + 12345), gmpy2.next_prime(3 * 2**254 + 98765)
PK = PublicKey(int(P_ * Q_), allow_insecure_test_key=True)
MOD = int(P_ * Q_)


@dataclass(frozen=True)
class Entry:
    """A ballot as it stands on a board line: its JSON object and the pseudonym of its entry."""

    label: str
    pseudonym: str
    ballot: dict[str, Any]


def _hx(x: int) -> str:
    return format(x, "x")


def _edited(ballot: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    out = copy.deepcopy(ballot)
    edit(out)
    return out


def _st(pseudonym: str) -> ContestStatement:
    return ContestStatement(PK, E, C, pseudonym, N, K)


def _pool() -> list[Entry]:
    def honest(pseudonym: str, values: list[int] = VALUES) -> dict[str, Any]:
        return encrypt_contest(_st(pseudonym), values, secrets.token_bytes(32)).to_dict()

    def z_minus_one(candidate: int) -> Callable[[dict[str, Any]], None]:
        def edit(b: dict[str, Any]) -> None:
            z = int(b["proofs"][candidate]["responses"][1], 16)
            b["proofs"][candidate]["responses"][1] = _hx(z - 1 if z > 1 else z + 1)
        return edit

    def shift_sum_challenges(b: dict[str, Any]) -> None:  # (V1) still holds, (V2) does not
        e = b["sum_proof"]["challenges"]
        e[0], e[1] = _hx((int(e[0], 16) + 1) % 2**128), _hx((int(e[1], 16) - 1) % 2**128)

    def set_value(path: tuple[Any, ...], value: str) -> Callable[[dict[str, Any]], None]:
        def edit(b: dict[str, Any]) -> None:
            obj: Any = b
            for key in path[:-1]:
                obj = obj[key]
            obj[path[-1]] = value
        return edit

    pool = [Entry(f"valid-{i}", f"voter-{i}", honest(f"voter-{i}")) for i in range(6)]
    pool.append(Entry("valid-abstain", "abstainer", honest("abstainer", [0] * N)))
    pool.append(Entry("valid-negated", "negator",  # −a: (V2) holds up to sign, so it is valid
                      forge_ballot(_st("negator"), VALUES, True).to_dict()))
    pool.append(Entry("forged-value-2", "cheat-2",
                      forge_ballot(_st("cheat-2"), [0, 2, 0, 0, 0, 0]).to_dict()))
    pool.append(Entry("forged-sum", "cheat-sum",
                      forge_ballot(_st("cheat-sum"), [1, 1, 1, 0, 0, 0]).to_dict()))
    for where in ("ciphertext", "commitment"):
        pool.append(Entry(f"non-unit-{where}", f"nu-{where}", ballot_with_non_unit(
            _st(f"nu-{where}"), VALUES, int(P_), where).to_dict()))
    pool.append(Entry("copied-under-another-pseudonym", "voter-9", pool[0].ballot))
    pool.append(Entry("z-1", "voter-1", _edited(pool[1].ballot, z_minus_one(3))))
    pool.append(Entry("z-1-twice", "voter-2", _edited(_edited(pool[2].ballot, z_minus_one(4)),
                                                      z_minus_one(1))))
    pool.append(Entry("sum-challenges-shifted", "voter-3",
                      _edited(pool[3].ballot, shift_sum_challenges)))
    pool.append(Entry("commitment-n", "voter-4",
                      _edited(pool[4].ballot, set_value(("proofs", 2, "commitments", 0), _hx(MOD)))))
    pool.append(Entry("ciphertext-zero", "voter-5",
                      _edited(pool[5].ballot, set_value(("ciphertexts", 0), "0"))))
    pool.append(Entry("upper-case-hex", "voter-0", _edited(
        pool[0].ballot, set_value(("ciphertexts", 1), pool[0].ballot["ciphertexts"][1].upper()))))
    return pool


POOL = _pool()
LABELS = [e.label for e in POOL]


def _job(seq: int, entry: Entry) -> BallotJob:
    return BallotJob(seq, C, entry.pseudonym, N, K, entry.ballot)


def _alone(entry: Entry, use_gmpy2: bool) -> tuple[bool, str | None, str | None]:
    """The verdict of the ballot verified on its own, per proof (no batch)."""
    (v,) = verify_chunk((MOD, E, [_job(1, entry)], use_gmpy2, False))
    return v.ok, v.where, v.reason


REFERENCE = {e.label: _alone(e, True) for e in POOL}


def _verdicts(entries: list[Entry], use_gmpy2: bool) -> list[BallotVerdict]:
    return verify_chunk((MOD, E, [_job(i, e) for i, e in enumerate(entries, start=1)],
                         use_gmpy2, True))


@pytest.fixture(params=[True, False], ids=["gmpy2", "python"])
def use_gmpy2(request: pytest.FixtureRequest) -> Iterator[bool]:
    before = arith.BACKEND
    arith.use_gmpy2(request.param)
    yield bool(request.param)
    arith.use_gmpy2(before == "gmpy2")


def test_the_pool_has_what_the_tests_need() -> None:
    valid = {label for label, (ok, _, _) in REFERENCE.items() if ok}
    assert valid == {f"valid-{i}" for i in range(6)} | {"valid-abstain", "valid-negated"}
    reasons = {label: r[2] for label, r in REFERENCE.items()}
    assert "not a unit" in (reasons["non-unit-ciphertext"] or "")
    assert "not a unit" in (reasons["non-unit-commitment"] or "")
    assert "not a unit" in (reasons["commitment-n"] or "")
    assert "(V1)" in (reasons["copied-under-another-pseudonym"] or "")
    assert "(V2)" in (reasons["forged-value-2"] or "") and "(V2)" in (reasons["z-1"] or "")
    assert REFERENCE["z-1-twice"][1] == "1"  # the first failing proof is named
    assert REFERENCE["sum-challenges-shifted"][1] == proofs.SUM
    assert REFERENCE["forged-value-2"][1] == "1" and REFERENCE["forged-sum"][1] == proofs.SUM


def test_reference_is_the_same_on_both_backends() -> None:
    assert {e.label: _alone(e, False) for e in POOL} == REFERENCE


def test_cross_ballot_batch_accepts_valid_sets(use_gmpy2: bool) -> None:
    valid = [e for e in POOL if REFERENCE[e.label][0]]
    ballots = [proofs.parse_ballot(e.ballot, N, K) for e in valid]
    assert batch_holds(ballots, MOD)
    assert batch_holds(ballots * 3, MOD)
    verdicts = _verdicts(valid * 4, use_gmpy2)
    assert [v.ok for v in verdicts] == [True] * len(valid) * 4


@pytest.mark.parametrize("labels", [
    ["forged-value-2"],
    ["valid-0", "z-1", "valid-1"],
    ["non-unit-ciphertext", "valid-0", "valid-1", "valid-2", "non-unit-commitment"],
    ["valid-0", "valid-1", "copied-under-another-pseudonym", "valid-2", "valid-3", "valid-4",
     "forged-sum", "valid-5", "z-1-twice", "valid-negated", "commitment-n", "valid-abstain",
     "sum-challenges-shifted", "ciphertext-zero", "upper-case-hex", "forged-value-2"],
    ["z-1", "z-1-twice", "forged-sum", "non-unit-commitment"],  # every ballot invalid
], ids=["alone", "one-in-three", "ends", "mixed", "all-invalid"])
def test_invalid_ballots_are_named_as_when_verified_alone(labels: list[str],
                                                          use_gmpy2: bool) -> None:
    entries = [POOL[LABELS.index(label)] for label in labels]
    verdicts = _verdicts(entries, use_gmpy2)
    assert [v.seq for v in verdicts] == list(range(1, len(entries) + 1))
    assert [(v.ok, v.where, v.reason) for v in verdicts] == [REFERENCE[x] for x in labels]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.sampled_from(LABELS), min_size=1, max_size=24),
       use_gmpy2=st.sampled_from([True, False]))
def test_batch_verdicts_equal_per_ballot_verdicts(picks: list[str], use_gmpy2: bool) -> None:
    """Any mix of valid and invalid ballots in one chunk: the bisection names exactly the
    invalid ones, each with its own per-ballot reason."""
    before = arith.BACKEND
    try:
        arith.use_gmpy2(use_gmpy2)
        verdicts = _verdicts([POOL[LABELS.index(x)] for x in picks], use_gmpy2)
    finally:
        arith.use_gmpy2(before == "gmpy2")
    assert [(v.ok, v.where, v.reason) for v in verdicts] == [REFERENCE[x] for x in picks]


def test_a_failed_batch_is_bisected_not_rechecked_ballot_by_ballot(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One bad ballot among 32: a few batches of halving size, and the per-ballot checks
    (check_static, (V2)) only for the bad one."""
    valid = [e for e in POOL if REFERENCE[e.label][0]]
    entries = (valid * 4)[:32]
    entries[21] = POOL[LABELS.index("z-1")]
    sizes: list[int] = []
    alone: list[int] = []
    real_holds, real_alone = batch.batch_holds, batch._alone

    def holds(ballots: Any, n: int) -> bool:
        sizes.append(len(ballots))
        return real_holds(ballots, n)

    def judged_alone(pending: Any, n: int, election_id: str) -> BallotVerdict:
        alone.append(pending[0].seq)
        return real_alone(pending, n, election_id)

    monkeypatch.setattr(batch, "batch_holds", holds)
    monkeypatch.setattr(batch, "_alone", judged_alone)
    verdicts = _verdicts(entries, True)
    assert [v.seq for v in verdicts if not v.ok] == [22]
    assert alone == [22]
    # the whole, then left halves (a right half is known to fail when its left half holds),
    # and the right halves next to a failed left half
    assert sizes == [32, 16, 8, 4, 2, 1, 2, 8]


# --- within a ballot: the first failing proof, found by bisection ------------------------------

def _with_bad_responses(entry: Entry, candidates: set[int], sum_branch: bool) -> dict[str, Any]:
    def edit(b: dict[str, Any]) -> None:
        for i in candidates:
            z = int(b["proofs"][i]["responses"][0], 16)
            b["proofs"][i]["responses"][0] = _hx(z - 1 if z > 1 else z + 1)
        if sum_branch:
            z = int(b["sum_proof"]["responses"][K], 16)
            b["sum_proof"]["responses"][K] = _hx(z - 1 if z > 1 else z + 1)
    return _edited(entry.ballot, edit)


@settings(max_examples=30, deadline=None)
@given(candidates=st.sets(st.integers(0, N - 1)), sum_branch=st.booleans(),
       use_gmpy2=st.sampled_from([True, False]))
def test_check_v2_names_what_the_per_proof_check_names(candidates: set[int], sum_branch: bool,
                                                       use_gmpy2: bool) -> None:
    before = arith.BACKEND
    try:
        arith.use_gmpy2(use_gmpy2)
        ballot = proofs.parse_ballot(_with_bad_responses(POOL[0], candidates, sum_branch), N, K)
        want: tuple[str | None, str] | None = None
        try:
            proofs.check_v2_per_proof(ballot, MOD)
        except InvalidInput as exc:
            want = (exc.where, str(exc))
        got: tuple[str | None, str] | None = None
        try:
            batch.check_v2(ballot, MOD)
        except InvalidInput as exc:
            got = (exc.where, str(exc))
    finally:
        arith.use_gmpy2(before == "gmpy2")
    assert got == want
    assert (want is None) == (not candidates and not sum_branch)


# --- the cheap checks in bulk agree with the field-by-field ones -------------------------------

def _as_int(s: str) -> Any:
    """The JSON number of a hex text (a text an earlier edit made non-hex stays as it is)."""
    try:
        return int(s, 16)
    except ValueError:
        return s


_MUTATIONS: list[tuple[str, Callable[[str], Any]]] = [
    ("upper", str.upper), ("leading zero", lambda s: "0" + s), ("empty", lambda s: ""),
    ("newline", lambda s: s + "\n"), ("space", lambda s: " " + s), ("prefix", lambda s: "0x" + s),
    ("underscore", lambda s: s[:1] + "_" + s[1:]), ("int", _as_int),
    ("unicode digit", lambda s: s + "\u0663"), ("non-hex", lambda s: s[:-1] + "g"),
    ("too long", lambda s: "f" * 4097), ("zero", lambda s: "0"), ("one", lambda s: "1"),
    ("odd length", lambda s: s[1:] if len(s) > 1 and s[1] != "0" else "abc"),
    ("list", lambda s: [s]), ("none", lambda s: None),
]


def _paths(ballot: dict[str, Any]) -> list[tuple[Any, ...]]:
    paths: list[tuple[Any, ...]] = [("ciphertexts", i) for i in range(N)]
    for i in range(N):
        paths += [("proofs", i, key, j) for key in ("commitments", "challenges", "responses")
                  for j in range(2)]
    paths += [("sum_proof", key, j) for key in ("commitments", "challenges", "responses")
              for j in range(K + 1)]
    return paths


PATHS = _paths(POOL[0].ballot)


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except InvalidInput as exc:
        return "error", (exc.where, str(exc))


@settings(max_examples=150, deadline=None)
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(_MUTATIONS)),
                      max_size=3),
       shape=st.sampled_from(["same", "extra key", "short list", "proof not a dict"]),
       use_gmpy2=st.sampled_from([True, False]))
def test_bulk_parse_and_checks_agree_with_the_field_by_field_ones(
        edits: list[tuple[tuple[Any, ...], tuple[str, Callable[[str], Any]]]], shape: str,
        use_gmpy2: bool) -> None:
    obj = copy.deepcopy(POOL[1].ballot)
    for path, (_, mutate) in edits:
        parent: Any = obj
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent[path[-1]], str):
            parent[path[-1]] = mutate(parent[path[-1]])
    if shape == "extra key":
        obj["proofs"][2]["extra"] = []
    elif shape == "short list":
        obj["sum_proof"]["challenges"].pop()
    elif shape == "proof not a dict":
        obj["proofs"][4] = [obj["proofs"][4]]
    before = arith.BACKEND
    try:
        arith.use_gmpy2(use_gmpy2)
        strict = _outcome(lambda: proofs._parse_strict(obj, N, K))
        fast = proofs._parse_fast(obj, N, K)
        assert _outcome(lambda: proofs.parse_ballot(obj, N, K)) == strict
        if strict[0] == "error":
            assert fast is None
            return
        assert fast is None or fast == strict[1]
        ballot, hex_obj = proofs.parse_ballot_hex(obj, N, K)
        assert ballot == strict[1] and hex_obj is (obj if fast is not None else None)
        static = _outcome(lambda: proofs.check_static(ballot, MOD, E, C, "voter-1", K))
        holds = proofs.static_holds(ballot, MOD, E, C, "voter-1", K, hex_obj)
    finally:
        arith.use_gmpy2(before == "gmpy2")
    if static[0] == "ok":
        assert holds
    elif holds:  # only the units are left to the batch
        assert "not a unit" in static[1][1]


# --- weights and chunks ------------------------------------------------------------------------

def test_weights_are_uniform_in_1_to_2_64(monkeypatch: pytest.MonkeyPatch) -> None:
    weights = batch.draw_weights(10_000)
    assert len(weights) == 10_000 and all(1 <= w < 2**64 for w in weights)
    assert max(weights).bit_length() == 64 and len(set(weights)) == len(weights)
    # a zero (probability 2^-64 each) is redrawn, not kept
    draws = iter([bytes(8) + b"\x01" * 8])
    monkeypatch.setattr(batch.secrets, "token_bytes", lambda size: next(draws))
    monkeypatch.setattr(batch.secrets, "randbits", lambda bits: 7)
    assert batch.draw_weights(2) == [7, int.from_bytes(b"\x01" * 8, "big")]


def test_chunks_are_batches_of_up_to_256_ballots() -> None:
    assert parallel.chunk_size(1_000_000, 2) == parallel.MAX_BATCH == 256
    assert parallel.chunk_size(300, 2) == 75  # every worker gets two chunks
    assert parallel.chunk_size(300, 1) == 150
    assert parallel.chunk_size(3, 8) == 1 and parallel.chunk_size(0, 2) == 1
