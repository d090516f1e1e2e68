"""Checks 4, 5 and 24–27 (docs/record.md §5; docs/protocol.md §6.2, §6.6–§6.9) on election keys
made by hand (tests/verifier/keybuilder.py): an honest key passes all six; each dealer attack
of docs/protocol.md §12 fails the named check with the offending item."""
from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path
from typing import Any, Iterator

import gmpy2
import pytest

from tests.verifier.keybuilder import (Dealer, honest_key, hx, prime, prove_factors,
                                       prove_modulus, smooth_prime)
from verifier import arith, keyproofs
from verifier.checks import (CheckResult, Context, Options, check_04_key_public,
                             check_05_key_verification, check_24_key_modulus_proof,
                             check_25_key_factor_proof, check_26_key_verification_base,
                             check_27_key_shared_secret)
from verifier.errors import InvalidInput
from verifier.record import ELECTION_KEY, Record

KEY_CHECKS = (check_04_key_public, check_05_key_verification, check_24_key_modulus_proof,
              check_25_key_factor_proof, check_26_key_verification_base,
              check_27_key_shared_secret)
NAMES = ("key.public", "key.verification", "key.modulus_proof", "key.factor_proof",
         "key.verification_base", "key.shared_secret")


def run(obj: Any, allow_test_key: bool = True) -> dict[str, CheckResult]:
    rec = Record(Path("/nonexistent"))
    rec.json[ELECTION_KEY] = obj
    ctx = Context(rec, Options(allow_test_key=allow_test_key))
    out = {}
    for check in KEY_CHECKS:
        r = check(ctx)
        out[r.name] = r
    return out


def failed(results: dict[str, CheckResult]) -> set[str]:
    return {n for n, r in results.items() if not r.passed}


def codes(r: CheckResult) -> list[str]:
    return [f.code for f in r.failures]


def honest() -> tuple[Dealer, dict[str, Any]]:
    dealer, text = honest_key(1)
    return dealer, json.loads(text)


@pytest.fixture(params=["gmpy2", "python"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    before = arith.BACKEND
    arith.use_gmpy2(request.param == "gmpy2")
    yield request.param
    arith.use_gmpy2(before == "gmpy2")


# --- an honest key -----------------------------------------------------------------------------

def test_an_honest_key_passes_checks_4_5_and_24_to_27(backend: str) -> None:
    _, obj = honest()
    results = run(obj)
    assert failed(results) == set(), {n: results[n].failures for n in failed(results)}
    assert [r.number for r in results.values()] == [4, 5, 24, 25, 26, 27]
    notes = {f.code: f.params for r in results.values() for f in r.notes}
    assert notes["key.factor_bound"] == {"bound": 61}  # 512-bit test key: 2^(256−128−64−3)


def test_without_the_test_key_flag_24_to_27_name_check_4() -> None:
    _, obj = honest()
    results = run(obj, allow_test_key=False)
    assert failed(results) == {"key.public", *NAMES[2:]}
    for name in NAMES[2:]:
        assert codes(results[name]) == ["key.requires"]
        assert results[name].failures[0].params == {"number": 4, "check": "key.public"}


# --- key.public (4) ----------------------------------------------------------------------------

def _with_n(n: int) -> dict[str, Any]:
    _, obj = honest()
    obj["n"] = hx(n)
    return obj


def test_a_prime_n_fails_key_public() -> None:
    n = prime(random.Random(5), 512)
    results = run(_with_n(n))
    assert codes(results["key.public"]) == ["key.prime"]
    assert failed(results) == set(NAMES) - {"key.verification"}


def test_a_perfect_power_fails_key_public() -> None:
    p = prime(random.Random(6), 256)
    assert codes(run(_with_n(p * p))["key.public"]) == ["key.perfect_power"]
    q = prime(random.Random(7), 171)
    assert "key.perfect_power" in codes(run(_with_n(q ** 3))["key.public"])


def test_a_factor_below_2_16_fails_key_public() -> None:
    q = prime(random.Random(8), 497)
    results = run(_with_n(65519 * q))
    assert codes(results["key.public"]) == ["key.small_factor"]
    assert results["key.public"].failures[0].item == {"file": "election_key.json"}


def test_smooth_p_minus_1_fails_pollard() -> None:
    rng = random.Random(9)
    p = smooth_prime(rng, 256)
    q = prime(rng, 512 - p.bit_length() + 1)
    n = p * q
    assert n.bit_length() >= 512 and gmpy2.is_prime(p) and gmpy2.is_prime(q)
    assert codes(run(_with_n(n))["key.public"]) == ["key.pollard"]


def test_even_and_oversized_n() -> None:
    assert "key.even" in codes(run(_with_n((1 << 511) + 2))["key.public"])
    assert codes(run(_with_n((1 << 8200) + 1))["key.public"]) == ["key.too_large"]


def test_version_1_and_missing_proofs_fail_the_shape() -> None:
    _, obj = honest()
    v1 = {k: v for k, v in obj.items() if k != "proofs"}
    v1["version"] = 1
    v1["trustees"] = [{k: v for k, v in t.items() if k != "signing_key"} for t in v1["trustees"]]
    results = run(v1)
    assert codes(results["key.public"]) == ["key.shape"]
    assert all(set(codes(results[n])) == {"key.requires"} for n in NAMES[2:])
    for drop in ("modulus", "factors"):
        bad = copy.deepcopy(obj)
        del bad["proofs"][drop]
        assert codes(run(bad)["key.public"]) == ["key.shape"]


# --- key.verification (5) ----------------------------------------------------------------------

def test_signing_keys_must_be_distinct_ed25519_hex() -> None:
    _, obj = honest()
    bad = copy.deepcopy(obj)
    bad["trustees"][1]["signing_key"] = bad["trustees"][0]["signing_key"]
    results = run(bad)
    assert codes(results["key.verification"]) == ["key.signing_keys_distinct"]
    assert codes(results["key.modulus_proof"]) == ["key.requires"]
    bad = copy.deepcopy(obj)
    bad["trustees"][2]["signing_key"] = bad["trustees"][2]["signing_key"].upper()
    results = run(bad)
    assert codes(results["key.verification"]) == ["key.signing_key"]
    assert results["key.verification"].failures[0].item["trustee"] == 3


# --- key.modulus_proof (24) --------------------------------------------------------------------

def test_an_altered_modulus_proof_fails_24() -> None:
    _, obj = honest()
    n = int(obj["n"], 16)
    for field, pos in (("x", 5), ("z", 3)):
        bad = copy.deepcopy(obj)
        bad["proofs"]["modulus"][field][pos] = hx(int(bad["proofs"]["modulus"][field][pos], 16)
                                                  * 4 % n)
        results = run(bad)
        assert failed(results) == {"key.modulus_proof"}
        f = results["key.modulus_proof"].failures[0]
        assert f.code == "key.proof_invalid" and f"{field}[{pos}]" in f.params["reason"]
        assert f.item == {"file": "election_key.json", "proof": "modulus"}
    bad = copy.deepcopy(obj)
    bad["proofs"]["modulus"]["a"][0] ^= 1
    assert codes(run(bad)["key.modulus_proof"]) == ["key.proof_invalid"]
    bad = copy.deepcopy(obj)
    bad["proofs"]["modulus"]["b"][0] = 2
    assert codes(run(bad)["key.modulus_proof"]) == ["key.proof_shape"]
    bad = copy.deepcopy(obj)
    bad["proofs"]["modulus"]["x"] = bad["proofs"]["modulus"]["x"][:127]
    assert codes(run(bad)["key.modulus_proof"]) == ["key.proof_shape"]
    bad = copy.deepcopy(obj)
    bad["proofs"]["modulus"]["z"][0] = hx(n)
    assert codes(run(bad)["key.modulus_proof"]) == ["key.proof_shape"]


def test_w_with_jacobi_plus_one_fails_24() -> None:
    _, obj = honest()
    bad = copy.deepcopy(obj)
    bad["proofs"]["modulus"]["w"] = "4"
    r = run(bad)["key.modulus_proof"]
    assert codes(r) == ["key.proof_invalid"] and "Jacobi" in r.failures[0].params["reason"]


def test_three_primes_fail_the_modulus_proof() -> None:
    rng = random.Random(12)
    primes = [prime(rng, 171), prime(rng, 171), prime(rng, 171)]
    dealer = Dealer(primes=primes, seed=12)
    results = run(dealer.key())
    assert "key.modulus_proof" in failed(results)
    assert failed(results) <= {"key.modulus_proof", "key.factor_proof", "key.shared_secret"}


def test_proofs_of_another_key_fail_24_and_25() -> None:
    _, obj = honest()
    _, other = honest_key(2)
    bad = copy.deepcopy(obj)
    bad["proofs"] = json.loads(other)["proofs"]
    results = run(bad)
    assert failed(results) == {"key.modulus_proof", "key.factor_proof"}


def test_proofs_bound_to_the_key_id_a_renamed_trustee_breaks_them() -> None:
    """K covers the trustees' names and signing keys (§6.1 step 4): renaming one after the
    proofs changes K, so the proofs and the derived v no longer match."""
    _, obj = honest()
    bad = copy.deepcopy(obj)
    bad["trustees"][0]["trustee"] = "Mallory"
    results = run(bad)
    assert {"key.modulus_proof", "key.factor_proof", "key.verification_base"} <= failed(results)


# --- key.factor_proof (25) ---------------------------------------------------------------------

def test_a_40_bit_factor_passes_everything_but_the_factor_proof() -> None:
    """r = 2·r′ + 1 with r′ prime: r − 1 is not 2^20-smooth, so Pollard misses the 40-bit
    factor and Π^mod holds (r ≡ 3 mod 4); only Π^fac refuses it (|z2| too large)."""
    rng = random.Random(13)
    while True:
        r1 = int(gmpy2.next_prime(rng.getrandbits(39) | (1 << 38)))
        r = 2 * r1 + 1
        if gmpy2.is_prime(r) and r % 4 == 3:
            break
    q = prime(rng, 513 - r.bit_length())
    if (r * q).bit_length() < 512:
        q = prime(rng, 514 - r.bit_length())
    dealer = Dealer(primes=[r, q], seed=13)
    results = run(dealer.key())
    assert failed(results) == {"key.factor_proof"}
    f = results["key.factor_proof"].failures[0]
    assert f.code == "key.proof_invalid" and "z2" in f.params["reason"]


def test_an_altered_factor_proof_fails_25() -> None:
    _, obj = honest()
    for field in ("z1", "w2", "v", "sigma", "P", "T"):
        bad = copy.deepcopy(obj)
        value = bad["proofs"]["factors"][field]
        bad["proofs"]["factors"][field] = (hx(int(value, 16) + 1) if field.isupper()
                                           else keyproofs.signed_text(int(value, 16) + 1))
        results = run(bad)
        assert failed(results) == {"key.factor_proof"}, field
    bad = copy.deepcopy(obj)
    bad["proofs"]["factors"]["z1"] = "-0"
    assert codes(run(bad)["key.factor_proof"]) == ["key.proof_shape"]
    bad = copy.deepcopy(obj)
    bad["proofs"]["factors"]["A"] = hx(keyproofs.RSA_2048)
    assert codes(run(bad)["key.factor_proof"]) == ["key.proof_shape"]


def test_signed_integers_of_9_7() -> None:
    assert keyproofs.parse_signed("-1f", "x") == -31 and keyproofs.parse_signed("0", "x") == 0
    for bad in ("-0", "01", "-01", "1F", "+1", "", " 1", "1\n", 5):
        with pytest.raises(InvalidInput):
            keyproofs.parse_signed(bad, "x")
    assert keyproofs.signed_text(-31) == "-1f" and keyproofs.signed_text(0) == "0"


# --- key.verification_base (26) ----------------------------------------------------------------

def test_v_equal_to_1_fails_26_and_27() -> None:
    results = run(Dealer(seed=1, base=1).key())
    assert failed(results) == {"key.verification_base", "key.shared_secret"}
    got = codes(results["key.verification_base"])
    assert got[0] == "key.base_not_derived" and got.count("key.small_order") == 4  # v, v_1..3


def test_a_chosen_v_with_the_right_class_fails_only_26() -> None:
    """v = g^(2κ)·(r²)^n for the dealer's own r: class as derived, but not the hash's v."""
    dealer = Dealer(seed=1)
    n, n2 = dealer.n, dealer.n * dealer.n
    chosen = (1 + dealer.kappa * n) * pow(12345, n, n2) % n2
    results = run(Dealer(seed=1, base=chosen * chosen % n2).key())
    assert failed(results) == {"key.verification_base"}
    assert codes(results["key.verification_base"]) == ["key.base_not_derived"]


def test_an_nth_residue_v_fails_26_and_27() -> None:
    dealer = Dealer(seed=1)
    n2 = dealer.n * dealer.n
    results = run(Dealer(seed=1, base=pow(12345 ** 2, dealer.n, n2)).key())
    assert failed(results) == {"key.verification_base", "key.shared_secret"}


def test_a_verification_key_of_order_2_fails_26() -> None:
    _, obj = honest()
    n = int(obj["n"], 16)
    obj["trustees"][2]["verification_key"] = hx(n * n - 1)
    results = run(obj)
    r = results["key.verification_base"]
    assert codes(r) == ["key.small_order"] and r.failures[0].item["trustee"] == 3
    assert "key.shared_secret" in failed(results)


# --- key.shared_secret (27) --------------------------------------------------------------------

def test_a_dealer_sharing_0_fails_the_secret_equation() -> None:
    results = run(Dealer(seed=1, secret=0).key())
    assert failed(results) == {"key.shared_secret"}
    assert codes(results["key.shared_secret"]) == ["key.secret"]


def test_a_dealer_sharing_2d_fails_the_secret_equation() -> None:
    d = Dealer(seed=1)
    m = (d.primes[0] - 1) * (d.primes[1] - 1) // 4
    nm = d.n * m
    secret = 2 * (m * pow(m, -1, d.n) % nm) % nm
    results = run(Dealer(seed=1, secret=secret).key())
    assert codes(results["key.shared_secret"]) == ["key.secret"]


def test_a_share_off_the_polynomial_fails_consistency() -> None:
    results = run(Dealer(seed=1, shares={3: 12345}).key())
    assert failed(results) == {"key.shared_secret"}
    r = results["key.shared_secret"]
    assert codes(r) == ["key.consistency"] and r.failures[0].item["trustee"] == 3


def test_threshold_equal_to_the_number_of_trustees() -> None:
    """t = ℓ: no consistency equation, only the secret one."""
    assert failed(run(Dealer(seed=3, t=3).key())) == set()
    assert failed(run(Dealer(seed=3, t=3, secret=0).key())) == {"key.shared_secret"}


# --- timings (docs/protocol.md §8: the cost of the key checks) ---------------------------------

def test_key_checks_cost_at_512_bits() -> None:
    _, obj = honest()
    start = time.perf_counter()
    results = run(obj)
    elapsed = time.perf_counter() - start
    assert failed(results) == set()
    assert elapsed < 20, elapsed


def test_prover_functions_are_consistent_with_the_verifier() -> None:
    """The builder's provers against the verifier's parsers (a check of the builder)."""
    d = Dealer(seed=4)
    m = prove_modulus(d.primes, d.kid, random.Random(1))
    keyproofs.verify_modulus_proof(d.n, d.kid, keyproofs.parse_modulus_proof(m))
    f = prove_factors(d.primes[0], d.primes[1], d.kid, random.Random(2))
    keyproofs.verify_factor_proof(d.n, d.kid, keyproofs.parse_factor_proof(f))
