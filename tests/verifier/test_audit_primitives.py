"""The verifier's seed derivation and ballot opening (docs/protocol.md §4, §5.6) against the
known-answer vectors (tests/vectors/ballots.json) and the reference encryption
(crypto.encrypt_contest), the cheap test of check 31, the audit statement (§14.2), and the
parsing of audit codes and trackers (§14.4–§14.5)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from crypto import ContestStatement, encrypt_contest
from crypto.credential import audit_statement as producer_audit_statement
from crypto.threshold import ElectionPublicKey
from verifier import arith, kdf
from verifier.auditcode import parse_audit_code
from verifier.checks import audit_statement
from verifier.errors import InvalidInput
from verifier.opening import (ballot_ciphertexts, open_ballot, open_ciphertexts, parse_seed,
                              seed_opens_first)
from verifier.tracker import parse_tracker, short_tracker

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
BALLOTS = json.loads((VECTORS / "ballots.json").read_bytes())["vectors"]
KEY = ElectionPublicKey.from_dict(
    json.loads((VECTORS / "test_key.json").read_bytes())["election_key"],
    allow_insecure_test_key=True)
N = int(KEY.public_key.n)
EID = "ab" * 32
PARTY = "0123456789abcdef0123456789abcdef/" + "cd" * 32


def _hex_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


@pytest.fixture(params=["gmpy2", "python"])
def backend(request: pytest.FixtureRequest) -> Any:
    if request.param == "gmpy2" and not arith.GMPY2_AVAILABLE:
        pytest.skip("gmpy2 not installed")
    before = arith.BACKEND
    arith.use_gmpy2(request.param == "gmpy2")
    yield request.param
    arith.use_gmpy2(before == "gmpy2")


# --- known-answer vectors -----------------------------------------------------------------

@pytest.mark.parametrize("vector", BALLOTS, ids=[v["name"] for v in BALLOTS])
def test_ballot_context_and_short_exponents_match_the_vectors(vector: dict[str, Any],
                                                         backend: str) -> None:
    n = _hex_int(vector["n"])
    seed = bytes.fromhex(vector["seed"])
    context = kdf.ballot_context(vector["election_id"], n, vector["contest_id"],
                                 vector["pseudonym"])
    assert context.hex() == vector["ballot_context"]
    for i, a in enumerate(vector["alpha"]):
        assert kdf.alpha(seed, context, n, i) == _hex_int(a)


@pytest.mark.parametrize("vector", BALLOTS, ids=[v["name"] for v in BALLOTS])
def test_vector_ballots_open_to_their_selections(vector: dict[str, Any], backend: str) -> None:
    n = _hex_int(vector["n"])
    seed = bytes.fromhex(vector["seed"])
    k, size = vector["max_selections"], len(vector["selections"])
    assert open_ballot(vector["ballot"], n, vector["election_id"], vector["contest_id"],
                       vector["pseudonym"], size, k, seed) == vector["selections"]
    wrong = bytes([seed[0] ^ 1]) + seed[1:]
    with pytest.raises(InvalidInput) as err:
        open_ballot(vector["ballot"], n, vector["election_id"], vector["contest_id"],
                    vector["pseudonym"], size, k, wrong)
    assert err.value.where == "0"


# --- against the reference encryption -----------------------------------------------------

def _statement(size: int, k: int, party: str = PARTY, contest: str = "insured") -> ContestStatement:
    return ContestStatement(KEY.public_key, EID, contest, party, size, k)


@settings(max_examples=15, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32),
       picks=st.lists(st.booleans(), min_size=1, max_size=8), k=st.integers(0, 8))
def test_opening_returns_what_the_reference_encrypted(seed: bytes, picks: list[bool],
                                                      k: int) -> None:
    choices = [int(x) for x in picks]
    k = max(k % (len(choices) + 1), sum(choices))
    ballot = encrypt_contest(_statement(len(choices), k), choices, seed).to_dict()
    assert open_ballot(ballot, N, EID, "insured", PARTY, len(choices), k, seed) == choices
    c0 = _hex_int(ballot["ciphertexts"][0])
    context = kdf.ballot_context(EID, N, "insured", PARTY)
    assert seed_opens_first(c0, N, seed, context)
    other = bytes([seed[0] ^ 0x80]) + seed[1:]
    assert not seed_opens_first(c0, N, other, context)


def test_the_seed_opens_only_under_its_own_party_and_contest() -> None:
    seed = bytes(range(32))
    ballot = encrypt_contest(_statement(4, 2), [1, 0, 1, 0], seed).to_dict()
    for contest, party in (("insured", PARTY.replace("0123", "3210")),
                           ("employer", PARTY), ("insured", PARTY[:-1] + "0")):
        with pytest.raises(InvalidInput, match="does not open"):
            open_ballot(ballot, N, EID, contest, party, 4, 2, seed)
        context = kdf.ballot_context(EID, N, contest, party)
        assert not seed_opens_first(_hex_int(ballot["ciphertexts"][0]), N, seed, context)
    with pytest.raises(InvalidInput, match="does not open"):
        open_ballot(ballot, N, "cd" * 32, "insured", PARTY, 4, 2, seed)


def test_a_ciphertext_that_does_not_encrypt_0_or_1_never_opens() -> None:
    """c_0 · g: the seed's α_0 still fits, but it encrypts 2 — no choice is shown."""
    seed = bytes(32)
    ballot = encrypt_contest(_statement(3, 1), [1, 0, 0], seed).to_dict()
    n2 = N * N
    cts = [_hex_int(c) for c in ballot["ciphertexts"]]
    cts[0] = cts[0] * (1 + N) % n2
    context = kdf.ballot_context(EID, N, "insured", PARTY)
    with pytest.raises(InvalidInput, match="neither 0 nor 1") as err:
        open_ciphertexts(cts, N, seed, context, 1)
    assert err.value.where == "0"


def test_more_than_k_choices_never_open() -> None:
    seed = bytes([7]) * 32
    ballot = encrypt_contest(_statement(3, 1), [1, 0, 0], seed).to_dict()
    cts = [_hex_int(c) for c in ballot["ciphertexts"]]
    cts[2] = cts[2] * (1 + N) % (N * N)  # 0 → 1: two choices, k = 1
    context = kdf.ballot_context(EID, N, "insured", PARTY)
    assert open_ciphertexts(cts, N, seed, context, 2) == [1, 0, 1]
    with pytest.raises(InvalidInput, match="more than k = 1"):
        open_ciphertexts(cts, N, seed, context, 1)


@pytest.mark.parametrize("ballot,message", [
    (None, "not an object"), ({"ciphertexts": ["1"]}, "expected 3 entries"),
    ({"ciphertexts": ["01", "1", "1"]}, "canonical hex"), ({"ciphertexts": ["0", "1", "1"]}, "outside"),
])
def test_ballot_ciphertexts_are_validated(ballot: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ballot_ciphertexts(ballot, N, 3)


@pytest.mark.parametrize("value", ["", "ab" * 31, "AB" * 32, "ab" * 33, 5, None, "zz" * 32])
def test_parse_seed_refuses_anything_but_64_lowercase_hex(value: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_seed(value)
    assert parse_seed("ab" * 32) == bytes([0xab]) * 32


# --- the audit statement, audit codes, trackers ---------------------------------------------

def test_audit_statement_is_the_producers() -> None:
    entry = {"contest": "insured", "pseudonym": "0123456789abcdef0123456789abcdef",
             "credential": "cd" * 32, "ballot_hash": "ef" * 32, "seed": "12" * 32}
    produced = producer_audit_statement(EID, "aa" * 32, entry["contest"], entry["pseudonym"],
                                        entry["credential"], entry["ballot_hash"], entry["seed"])
    assert audit_statement(EID, "aa" * 32, entry) == json.dumps(
        produced, sort_keys=True, separators=(",", ":")).encode()


def test_audit_code_and_tracker_parsing() -> None:
    h = "0f" * 32
    assert parse_audit_code(f"ssbvote-audit:1:17:{h}") == (17, h)
    assert parse_audit_code(f"  ssbvote-audit:1:17:{h}\n") == (17, h)
    assert parse_tracker(f"ssbvote-tracker:1:17:{h}") == (17, h)
    assert parse_tracker(h) == (None, h)
    assert short_tracker(h) == "0f0f 0f0f"
    for bad in (f"ssbvote-audit:1:017:{h}", f"ssbvote-audit:1:-1:{h}", f"ssbvote-audit:1:1:{h}x",
                f"ssbvote-audit:1:1:{h.upper()}", "ssbvote-audit:1:1:", f"ssbvote-audit:1::{h}"):
        assert parse_audit_code(bad) is None, bad
    for bad in (f"ssbvote-tracker:1:0:{h}", f"ssbvote-tracker:1:1:{h[:-1]}", h.upper(), h[:8],
                f"ssbvote-audit:1:1:{h}"):
        assert parse_tracker(bad) is None, bad
