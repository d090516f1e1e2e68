"""Check 36 ``key.short_base`` and the short base h_s in the verifier (docs/record.md §5;
docs/protocol.md §5.0, §5.3, §5.6): the verifier derives h_s from n itself — written from the
document, it agrees with the reference and with the known-answer vectors — and a ballot whose
proofs use any other base fails check 9's per-ballot verification."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.crypto.conftest import VECTORS
from tests.verifier.keybuilder import honest_key
from verifier import arith, shortbase
from verifier.checks import (CheckResult, Context, Options, check_04_key_public,
                             check_05_key_verification, check_36_key_short_base)
from verifier.proofs import InvalidProof, verify_ballot
from verifier.record import ELECTION_KEY, Record

BALLOTS = json.loads((VECTORS / "ballots.json").read_text())


def run36(obj: Any) -> CheckResult:
    rec = Record(Path("/nonexistent"))
    rec.json[ELECTION_KEY] = obj
    ctx = Context(rec, Options(allow_test_key=True))
    check_04_key_public(ctx)
    check_05_key_verification(ctx)
    return check_36_key_short_base(ctx)


@pytest.mark.parametrize("backend", ["gmpy2", "python"])
def test_short_base_matches_the_vectors(backend: str) -> None:
    before = arith.BACKEND
    arith.use_gmpy2(backend == "gmpy2")
    try:
        n = int(BALLOTS["vectors"][0]["n"], 16)
        assert format(int(shortbase.short_base(n)), "x") == BALLOTS["short_base"]
    finally:
        arith.use_gmpy2(before == "gmpy2")


def test_honest_key_passes_check_36() -> None:
    _, text = honest_key(1)
    result = run36(json.loads(text))
    assert result.passed, [f.code for f in result.failures]


def test_degenerate_or_small_order_base_fails_check_36(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key whose n made h_s = 1 or an element of order 2 (−1) — what a dealer would need to
    make ballots' randomness trivial — fails 36 with the named reason."""
    _, text = honest_key(1)
    key = json.loads(text)
    n = int(key["n"], 16)
    monkeypatch.setattr("verifier.checks.keys.short_base", lambda _: arith.mpz(1))
    assert [f.code for f in run36(key).failures] == ["key.short_base_degenerate"]
    monkeypatch.setattr("verifier.checks.keys.short_base", lambda _: arith.mpz(n * n - 1))
    assert [f.code for f in run36(key).failures] == ["key.small_order"]


def test_check_36_needs_the_key() -> None:
    assert [f.code for f in run36({"n": "zz"}).failures][:1] == ["key.requires"]


def test_ballot_proved_with_another_base_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A device that proves with h_s² instead of h_s (or any base of its choosing) is refused:
    (V2) is checked against the derived h_s only."""
    v = BALLOTS["vectors"][0]
    n = int(v["n"], 16)
    verify_ballot(v["ballot"], n, v["election_id"], v["contest_id"], v["pseudonym"],
                  len(v["selections"]), v["max_selections"])
    real = shortbase.short_base(n)
    monkeypatch.setattr(shortbase, "short_base", lambda _: real * real % (n * n))
    with pytest.raises(InvalidProof):
        verify_ballot(v["ballot"], n, v["election_id"], v["contest_id"], v["pseudonym"],
                      len(v["selections"]), v["max_selections"])


def test_open_ciphertext_follows_section_5_6() -> None:
    """The verifier's one opening function: the vector's α_i open c_i to its selections; any
    other α does not open it."""
    for v in BALLOTS["vectors"]:
        n = int(v["n"], 16)
        for c, alpha, m in zip(v["ballot"]["ciphertexts"], v["alpha"], v["selections"]):
            assert shortbase.open_ciphertext(n, int(c, 16), int(alpha, 16)) == m
            with pytest.raises(Exception, match="does not open"):
                shortbase.open_ciphertext(n, int(c, 16), int(alpha, 16) + 1)


def test_opens_mod_n_is_the_cheap_form_of_the_opening() -> None:
    v = BALLOTS["vectors"][1]
    n = int(v["n"], 16)
    c0, a0 = int(v["ballot"]["ciphertexts"][0], 16), int(v["alpha"][0], 16)
    assert shortbase.opens_mod_n(n, c0, a0)
    assert not shortbase.opens_mod_n(n, c0, a0 + 1)
    assert not shortbase.opens_mod_n(n, int(v["ballot"]["ciphertexts"][1], 16), a0)
