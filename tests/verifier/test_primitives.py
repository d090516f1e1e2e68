"""The verifier's re-implementation of docs/protocol.md, against the spec's worked example and
the known-answer vectors (tests/vectors/), on both arithmetic backends."""
from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any, Iterator

import pytest

from verifier import arith, encoding, hashing, multiexp, proofs, threshold
from verifier.batch import BallotJob, batch_holds, verify_chunk
from verifier.errors import InvalidInput
from verifier.parallel import verify_ballots

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
BALLOTS = json.loads((VECTORS / "ballots.json").read_text())["vectors"]
TEST_KEY = json.loads((VECTORS / "test_key.json").read_text())


@pytest.fixture(params=["gmpy2", "python"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "gmpy2" and not arith.GMPY2_AVAILABLE:
        pytest.skip("gmpy2 not installed")
    before = arith.BACKEND
    arith.use_gmpy2(request.param == "gmpy2")
    assert arith.BACKEND == request.param
    yield request.param
    arith.use_gmpy2(before == "gmpy2")


# --- §2 encoding ------------------------------------------------------------------------------

def test_lp_worked_example_of_protocol_2_2() -> None:
    want = ("73 00000002 6162  69 00000002 6666  62 00000001 00  "
            "6c 00000002 73 00000001 78 69 00000001 30").replace(" ", "")
    assert encoding.lp("ab", 255, b"\x00", ["x", 0]).hex() == want


def test_lp_is_injective_on_resplitting() -> None:
    assert encoding.lp("ab", "c") != encoding.lp("a", "bc")
    assert encoding.lp(["a"], "b") != encoding.lp(["a", "b"])
    assert encoding.lp(1) != encoding.lp("1")


def test_canonical_json_sorted_compact_literal_utf8() -> None:
    assert encoding.canonical_json({"b": 1, "a": "ไทย"}) == '{"a":"ไทย","b":1}'.encode()


@pytest.mark.parametrize("bad", ["0x1", "01", "AB", "", " 1", "-1", 5, None, "g", "ab\n",
                                 "0\n", "1 "])
def test_hex_integers_must_be_canonical(bad: Any) -> None:
    with pytest.raises(InvalidInput):
        encoding.parse_hex_int(bad, "x")
    assert encoding.canonical_hex_ints(["1", bad], int.from_bytes) is None


def test_patterns_do_not_pass_a_final_newline() -> None:
    r"""re's "$" also matches before a final "\n"; every pattern of a whole value ends in \Z."""
    from verifier import checks, record
    with pytest.raises(InvalidInput):
        encoding.parse_hex_bytes("ab\n", "x")
    assert not checks.HEX64_RE.match("a" * 64 + "\n")
    assert not checks.PSEUDONYM_RE.match("a" * 32 + "\n")
    assert not checks.CAST_AT_RE.match("2026-12-20T08:00:00.000000Z\n")
    assert not record.SHARE_FILE_RE.match("tally/decryption_shares/trustee-1.json\n")
    assert checks.PSEUDONYM_RE.match("a" * 32) and checks.HEX64_RE.match("a" * 64)


def test_hex_integer_length_limit() -> None:
    assert encoding.parse_hex_int("f" * 4096, "x") == 16 ** 4096 - 1
    with pytest.raises(InvalidInput):
        encoding.parse_hex_int("f" * 4097, "x")


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', '{"a":NaN}', '[Infinity]', "{"])
def test_strict_json_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        encoding.loads_strict(text)


def test_expect_object_exact_keys() -> None:
    with pytest.raises(InvalidInput, match="unexpected x"):
        encoding.expect_object({"a": 1, "x": 2}, ("a",), "o")
    with pytest.raises(InvalidInput, match="missing b"):
        encoding.expect_object({"a": 1}, ("a", "b"), "o")


# --- §5 ballots: known answers ----------------------------------------------------------------

def _verify(v: dict[str, Any], ballot: Any = None, **ctx: Any) -> proofs.ContestBallot:
    args = dict(n=int(v["n"], 16), election_id=v["election_id"], contest_id=v["contest_id"],
                party=v["pseudonym"], num_candidates=len(v["selections"]),
                max_selections=v["max_selections"])
    args.update(ctx)
    return proofs.verify_ballot(v["ballot"] if ballot is None else ballot, **args)


@pytest.mark.parametrize("v", BALLOTS, ids=[v["name"] for v in BALLOTS])
def test_vectors_accepted_per_proof_and_batched(v: dict[str, Any], backend: str) -> None:
    assert hashing.object_hash(v["ballot"]) == v["ballot_hash"]
    ballot = _verify(v)
    assert batch_holds([ballot], int(v["n"], 16))


def test_vectors_batched_together(backend: str) -> None:
    v = BALLOTS[0]
    n = int(v["n"], 16)
    ballots = [_verify(x) for x in BALLOTS]  # same key; contexts differ, (V2) does not care
    assert batch_holds(ballots, n)


def _mutations(v: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """(name, mutated ballot, the where that must be reported)."""
    n = int(v["n"], 16)
    b = v["ballot"]

    def hx(x: int) -> str:
        return format(x, "x")

    m = copy.deepcopy(b)
    c0 = int(m["ciphertexts"][0], 16)
    m["ciphertexts"][0] = hx(c0 * (1 + n) % (n * n))  # Enc(m+1): same r, value + 1
    yield "ciphertext changed", m, "0"
    m = copy.deepcopy(b)
    z = int(m["proofs"][1]["responses"][0], 16)
    m["proofs"][1]["responses"][0] = hx(z - 1 if z > 1 else z + 1)
    yield "response changed", m, "1"
    m = copy.deepcopy(b)
    m["proofs"][1]["responses"][1] = hx(n - int(m["proofs"][1]["responses"][1], 16))
    yield "response n - z", m, "1"
    m = copy.deepcopy(b)
    p = m["proofs"][0]
    p["commitments"].reverse()
    yield "swapped commitments", m, "0"
    m = copy.deepcopy(b)
    m["proofs"][0], m["proofs"][1] = m["proofs"][1], m["proofs"][0]
    yield "proofs swapped between candidates", m, "0"
    m = copy.deepcopy(b)
    e = m["sum_proof"]["challenges"]
    e[0], e[1] = hx((int(e[0], 16) + 1) % 2 ** 128), hx((int(e[1], 16) - 1) % 2 ** 128)
    yield "sum proof challenges shifted (V1 holds, V2 fails)", m, "sum"
    m = copy.deepcopy(b)
    m["sum_proof"]["challenges"][0] = hx(2 ** 128 + 1)
    yield "challenge ≥ 2^128", m, "sum"
    m = copy.deepcopy(b)
    m["ciphertexts"][2] = hx(n)
    yield "ciphertext = n", m, "2"
    m = copy.deepcopy(b)
    m["ciphertexts"][2] = "0"
    yield "ciphertext = 0", m, "2"


@pytest.mark.parametrize("name,mutated,where", list(_mutations(BALLOTS[0])),
                         ids=[m[0] for m in _mutations(BALLOTS[0])])
def test_vector_mutations_rejected_naming_the_candidate(name: str, mutated: Any, where: str,
                                                        backend: str) -> None:
    v = BALLOTS[0]
    with pytest.raises(InvalidInput) as info:
        _verify(v, mutated)
    assert info.value.where == where
    job = BallotJob(1, v["contest_id"], v["pseudonym"], len(v["selections"]),
                    v["max_selections"], mutated)
    good = BallotJob(2, v["contest_id"], v["pseudonym"], len(v["selections"]),
                     v["max_selections"], v["ballot"])
    verdicts = verify_chunk((int(v["n"], 16), v["election_id"], [job, good],
                             backend == "gmpy2", True))
    assert [x.ok for x in verdicts] == [False, True]
    assert verdicts[0].where == where


@pytest.mark.parametrize("field,value", [("party", "someone-else"), ("contest_id", "other"),
                                         ("election_id", "0" * 64), ("max_selections", 3)])
def test_replayed_proof_rejected(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput):
        _verify(BALLOTS[0], **{field: value})


def test_replay_under_another_key_rejected() -> None:
    other_n = int(BALLOTS[0]["n"], 16) + 2
    with pytest.raises(InvalidInput):
        _verify(BALLOTS[0], n=other_n)


@pytest.mark.parametrize("change", ["extra key", "wrong length", "k from ballot"])
def test_shape_is_taken_from_the_manifest(change: str) -> None:
    v = BALLOTS[0]
    m = copy.deepcopy(v["ballot"])
    if change == "extra key":
        m["extra"] = 1
        with pytest.raises(InvalidInput):
            _verify(v, m)
    elif change == "wrong length":
        with pytest.raises(InvalidInput):
            _verify(v, num_candidates=len(v["selections"]) + 1)
    else:
        with pytest.raises(InvalidInput):
            _verify(v, max_selections=v["max_selections"] - 1)


def _with_commitment(ballot: proofs.ContestBallot, i: int, j: int,
                     value: int) -> proofs.ContestBallot:
    p = ballot.proofs[i]
    commitments = list(p.commitments)
    commitments[j] = value
    new = proofs.DisjunctiveProof(tuple(commitments), p.challenges, p.responses)
    return proofs.ContestBallot(ballot.ciphertexts,
                                tuple(new if k == i else q for k, q in enumerate(ballot.proofs)),
                                ballot.sum_proof)


def test_batch_and_per_proof_never_disagree(backend: str) -> None:
    """(V2) is squared (§5.3), so a commitment negated (an order-2 change) satisfies both the
    per-proof and the batch equation, and a commitment off by a factor g fails both (§7.1)."""
    v = BALLOTS[0]
    n = int(v["n"], 16)
    n2 = n * n
    ballot = _verify(v)
    a = ballot.proofs[2].commitments[1]
    negated = _with_commitment(ballot, 2, 1, n2 - a)
    assert proofs.failing_branches(negated.ciphertexts[2], negated.proofs[2], n) == []
    assert batch_holds([negated], n)
    wrong = _with_commitment(ballot, 2, 1, a * (1 + n) % n2)
    assert proofs.failing_branches(wrong.ciphertexts[2], wrong.proofs[2], n) == [1]
    assert not batch_holds([wrong], n)
    assert not batch_holds([ballot, wrong, ballot], n)
    with pytest.raises(proofs.InvalidProof) as info:
        proofs.check_v2_per_proof(wrong, n)
    assert info.value.where == "2"


def test_parallel_pool_matches_serial(backend: str) -> None:
    jobs = []
    same_election = [v for v in BALLOTS if v["election_id"] == BALLOTS[0]["election_id"]]
    for seq, v in enumerate(same_election * 3, start=1):
        ballot = v["ballot"]
        if seq == 5:
            ballot = next(_mutations(v))[1]
        jobs.append(BallotJob(seq, v["contest_id"], v["pseudonym"], len(v["selections"]),
                              v["max_selections"], ballot))
    n, eid = int(BALLOTS[0]["n"], 16), BALLOTS[0]["election_id"]
    seen: list[int] = []
    par = verify_ballots(n, eid, jobs, processes=2, progress=seen.append)
    ser = verify_ballots(n, eid, jobs, processes=1, batched=False)
    assert [(x.seq, x.ok, x.where) for x in par] == [(x.seq, x.ok, x.where) for x in ser]
    assert [x.seq for x in par if not x.ok] == [5]
    assert sum(seen) == len(jobs)


# --- §7.2 multi-exponentiation --------------------------------------------------------------

@pytest.mark.parametrize("count,bits", [(0, 8), (1, 64), (2, 64), (3, 5), (50, 64), (300, 200)])
def test_multiexp_matches_naive(count: int, bits: int, backend: str) -> None:
    rng = random.Random(count * 1000 + bits)
    m = rng.getrandbits(1024) | 1
    bases = [rng.randrange(1, m) for _ in range(count)]
    exps = [rng.getrandbits(bits) for _ in range(count)]
    if count:
        exps[0] = 0
    want = 1
    for b, e in zip(bases, exps):
        want = want * pow(b, e, m) % m
    assert int(multiexp.multiexp(bases, exps, m)) == want % m


def _schedule_cost(windows: Any, lengths: list[int]) -> int:
    """The cost model of docs/protocol.md §7.2."""
    return sum(sum(1 for x in lengths if x > s) + 2 ** w + w for s, w in windows)


@pytest.mark.parametrize("lengths", [[1], [64] * 457, [5, 3, 200], [64] * 30, [130] * 9 + [7],
                                     [12, 5, 5, 9], [8] * 40,
                                     [64] * 464 * 16 + [195] * 228 * 16])
def test_window_schedule_covers_the_exponents_and_minimises_the_cost(lengths: list[int]) -> None:
    windows = multiexp.window_schedule(lengths)
    bits = max(lengths)
    assert windows[0][0] == 0 and sum(w for _, w in windows) == bits
    assert all(s + w == t for (s, w), (t, _) in zip(windows, windows[1:]))
    assert all(1 <= w <= multiexp.MAX_WINDOW_BITS for _, w in windows)
    best = _schedule_cost(windows, lengths)
    for width in range(1, multiexp.MAX_WINDOW_BITS + 1):  # no fixed width does better
        fixed = [(s, min(width, bits - s)) for s in range(0, bits, width)]
        assert best <= _schedule_cost(fixed, lengths)
    if bits <= 12:  # against every split of the bits (compositions) for small exponents
        def splits(s: int) -> Iterator[list[tuple[int, int]]]:
            if s == bits:
                yield []
            for w in range(1, bits - s + 1):
                for rest in splits(s + w):
                    yield [(s, w), *rest]
        assert best == min(_schedule_cost(x, lengths) for x in splits(0))


def test_mixed_exponents_get_wide_low_windows() -> None:
    """A batch's 64-bit weights reach only the low windows, which are therefore wider (§7.2)."""
    windows = multiexp.window_schedule([64] * 464 * 64 + [195] * 228 * 64)
    low = [w for s, w in windows if s < 64]
    high = [w for s, w in windows if s >= 64]
    assert min(low) >= max(high) - 1 and sum(low) / len(low) > sum(high) / len(high)


# --- §6 threshold: the committed 3-of-5 key --------------------------------------------------

def _key() -> threshold.ElectionKey:
    return threshold.parse_election_key(TEST_KEY["election_key"])


def test_test_key_parses_and_has_no_problems() -> None:
    key = _key()
    assert key.threshold == 3 and len(key.trustees) == 5 and key.delta == 120
    assert threshold.key_problems(key) == []


def test_key_problems_found() -> None:
    obj = copy.deepcopy(TEST_KEY["election_key"])
    obj["trustees"][1]["index"] = 5
    obj["trustees"][2]["trustee"] = obj["trustees"][0]["trustee"]
    obj["threshold"] = 6
    obj["verification_base"] = "0"
    codes = {c for c, _ in threshold.key_problems(threshold.parse_election_key(obj))}
    assert codes == {"key.index_order", "key.names_distinct", "key.threshold_range",
                     "key.not_unit"}


def _shares_from_secret(key: threshold.ElectionKey, cts: list[int]) -> dict[int, list[int]]:
    """share_j = c_j^(2Δ s_i) from the test vector's secret shares (test-only shortcut)."""
    out = {}
    for s in TEST_KEY["shares"]:
        x = key.delta * int(s["secret_share"], 16)
        out[s["index"]] = [pow(c, 2 * x, key.n2) for c in cts]
    return out


def test_combination_recovers_plaintexts_with_any_t_trustees(backend: str) -> None:
    key = _key()
    n, n2 = key.n, key.n2
    plain = [0, 1, 5, 1234]
    cts = [(1 + m * n) * pow(7 + j, n, n2) % n2 for j, m in enumerate(plain)]
    shares = _shares_from_secret(key, cts)
    for subset in ([1, 2, 3], [2, 4, 5], [1, 3, 5]):
        assert threshold.combine(key, {i: shares[i] for i in subset}, len(cts)) == plain


def test_lagrange_coefficients_are_integers() -> None:
    assert threshold.lagrange([1, 2, 3], 1, 6) == 18
    assert threshold.lagrange([2, 4, 5], 4, 120) == 120 * 2 * 5 // ((2 - 4) * (5 - 4))
