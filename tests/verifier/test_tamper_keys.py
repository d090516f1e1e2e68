"""Issue 17 on a complete record (docs/record.md §5, checks 4, 24–28; docs/protocol.md §12): a
dishonest dealer's key and a tally operator's share files, each failing the named check.

The election key is pinned by the CA-signed opening, so editing election_key.json also fails
check 17 (``pins.opening``): the record tests here show which *key* check names the fault; the
hand-made keys of test_key_checks.py show each check alone.  The two dealer attacks that change
a count (shares of 2d; v = 1 with forged shares) keep every proof and the combination valid —
only the key checks refuse them."""
from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier.conftest import (BuiltRecord, Outcome, canonical, read_json, rehash,
                                     write_json)
from tests.verifier.keybuilder import (decryption_share, derived_base, hx, key_id, prime,
                                       smooth_prime)

Runner = Callable[..., Outcome]
KEY = "election_key.json"
SHARES = "tally/decryption_shares/trustee-{}.json"


def _codes(out: Outcome, check: str) -> list[str]:
    return [f["code"] for f in out.check(check)["failures"]]


def _edit_key(record: Path, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    key = read_json(record / KEY)
    edit(key)
    write_json(record / KEY, key)
    return key


def _sign(obj: dict[str, Any], seed: bytes) -> dict[str, Any]:
    body = {k: v for k, v in obj.items() if k != "signature"}
    return dict(body, signature=Ed25519PrivateKey.from_private_bytes(seed)
                .sign(canonical(body)).hex())


def _seed(built: BuiltRecord, index: int) -> bytes:
    return bytes(built.board.trustee_shares[index - 1].signing_seed)


def _secret(built: BuiltRecord, index: int) -> int:
    return int(built.board.trustee_shares[index - 1].secret_share)


def _kid(key: dict[str, Any]) -> str:
    return key_id(int(key["n"], 16), key["threshold"],
                  [(t["index"], t["trustee"], t["signing_key"]) for t in key["trustees"]])


# --- the key (checks 4, 24–27) -----------------------------------------------------------------

def test_v_set_to_1_fails_key_verification_base(record: Path, run_verifier: Runner) -> None:
    _edit_key(record, lambda k: k.update(verification_base="1"))
    rehash(record)
    out = run_verifier(record)
    assert {"key.verification_base", "pins.opening"} <= out.failed
    assert _codes(out, "key.verification_base")[:2] == ["key.base_not_derived", "key.small_order"]
    assert "key.public" not in out.failed and "key.modulus_proof" not in out.failed


def test_a_chosen_v_of_the_right_class_fails_only_the_derivation(record: Path,
                                                                  run_verifier: Runner) -> None:
    """v = g^(2κ)·(r²)^n with the dealer's own r: class and order as derived, not the hash's."""
    def edit(k: dict[str, Any]) -> None:
        n = int(k["n"], 16)
        _, kappa = derived_base(n, _kid(k))
        x = (1 + kappa * n) * pow(987654321, n, n * n) % (n * n)
        k["verification_base"] = hx(x * x % (n * n))
    _edit_key(record, edit)
    rehash(record)
    out = run_verifier(record)
    assert _codes(out, "key.verification_base") == ["key.base_not_derived"]
    assert "key.shared_secret" not in out.failed  # the class is right: only v differs


def test_an_altered_modulus_proof_fails_24(record: Path, run_verifier: Runner) -> None:
    def edit(k: dict[str, Any]) -> None:
        n = int(k["n"], 16)
        k["proofs"]["modulus"]["x"][7] = hx(int(k["proofs"]["modulus"]["x"][7], 16) * 2 % n)
    _edit_key(record, edit)
    rehash(record)
    out = run_verifier(record)
    assert out.failed == {"pins.opening", "key.modulus_proof"}
    f = out.check("key.modulus_proof")["failures"][0]
    assert f["code"] == "key.proof_invalid" and "x[7]" in f["params"]["reason"]
    assert f["item"] == {"file": KEY, "proof": "modulus"}


def test_an_altered_factor_proof_fails_25(record: Path, run_verifier: Runner) -> None:
    _edit_key(record, lambda k: k["proofs"]["factors"].update(
        w1=hx(int(k["proofs"]["factors"]["w1"].lstrip("-"), 16) + 1)))
    rehash(record)
    out = run_verifier(record)
    assert out.failed == {"pins.opening", "key.factor_proof"}


def test_a_missing_modulus_proof_fails_the_shape_and_24_to_27_name_it(
        record: Path, run_verifier: Runner) -> None:
    _edit_key(record, lambda k: k["proofs"].pop("modulus"))
    rehash(record)
    out = run_verifier(record)
    assert _codes(out, "key.public") == ["key.shape"]
    for name in ("key.modulus_proof", "key.factor_proof", "key.verification_base",
                 "key.shared_secret"):
        assert set(_codes(out, name)) == {"key.requires"}


@pytest.mark.parametrize("kind,code", [("prime", "key.prime"), ("small", "key.small_factor"),
                                       ("smooth", "key.pollard")])
def test_a_bad_n_fails_key_public(record: Path, run_verifier: Runner, kind: str,
                                  code: str) -> None:
    rng = random.Random(kind)
    if kind == "prime":
        n = prime(rng, 512)
    elif kind == "small":
        n = 65521 * prime(rng, 497)
    else:
        p = smooth_prime(rng, 256)
        n = p * prime(rng, 513 - p.bit_length())
    _edit_key(record, lambda k: k.update(n=hx(n)))
    rehash(record)
    out = run_verifier(record)
    assert code in _codes(out, "key.public")
    assert set(_codes(out, "key.modulus_proof")) == {"key.requires"}


# --- dealer attacks that would change a count ---------------------------------------------------

def _tally(record: Path) -> dict[str, list[int]]:
    t = read_json(record / "tally/encrypted_tally.json")
    return {cid: [int(c, 16) for c in c_["ciphertexts"]] for cid, c_ in t["contests"].items()}


def _double_results(record: Path) -> None:
    res = read_json(record / "results.json")
    for c in res["contests"].values():
        for cand in c["candidates"]:
            cand["votes"] *= 2
    write_json(record / "results.json", res)


def _reissue_shares(record: Path, built: BuiltRecord, key: dict[str, Any],
                    exponent: Callable[[int], int]) -> None:
    """Every share file again: shares and proofs with exponent(i), against the key's v and
    v_i, signed with the trustee's own signing key (the dealer kept the seeds, §10)."""
    n = int(key["n"], 16)
    v = int(key["verification_base"], 16)
    delta = 1
    for i in range(1, len(key["trustees"]) + 1):
        delta *= i
    eid = read_json(record / "tally/encrypted_tally.json")["election_id"]
    rng = random.Random(17)
    for tr in key["trustees"]:
        i = tr["index"]
        path = record / SHARES.format(i)
        if not path.exists():
            continue
        doc = read_json(path)
        doc["contests"] = {cid: decryption_share(eid, cid, n, v, int(tr["verification_key"], 16),
                                                 i, exponent(i), delta, cts, rng)
                           for cid, cts in _tally(record).items()}
        write_json(path, _sign(doc, _seed(built, i)))


def test_a_dealer_sharing_2d_doubles_the_count_and_fails_only_the_secret_equation(
        record: Path, built_record: BuiltRecord, run_verifier: Runner) -> None:
    """s_i → 2·s_i, v_i → v_i²: the shares lie on one polynomial (consistency holds), v is
    still the derived one (K does not cover v_i), every proof verifies and the shares combine
    — to twice each count.  Only the secret equation (§6.7) sees that d ≢ 1 (mod n)."""
    def edit(k: dict[str, Any]) -> None:
        n2 = int(k["n"], 16) ** 2
        for tr in k["trustees"]:
            tr["verification_key"] = hx(pow(int(tr["verification_key"], 16), 2, n2))
    key = _edit_key(record, edit)
    delta = 6  # 3 trustees
    _reissue_shares(record, built_record, key, lambda i: 2 * delta * _secret(built_record, i))
    _double_results(record)
    rehash(record)
    out = run_verifier(record)
    assert "key.shared_secret" in out.failed and "pins.opening" in out.failed
    assert _codes(out, "key.shared_secret") == ["key.secret"]
    assert out.failed <= {"pins.opening", "key.shared_secret", "results.plausible"}
    for ok in ("tally.decryption_shares", "results.combination", "tally.share_signatures",
               "key.verification_base", "key.modulus_proof", "key.factor_proof"):
        assert ok not in out.failed


def test_shares_forged_under_v_1_verify_and_combine_but_the_key_fails(
        record: Path, built_record: BuiltRecord, run_verifier: Runner) -> None:
    """A dealer-chosen v = 1 (every v_i = 1) lets whoever signs a share file prove any share:
    here exponents 2Δ·s_i, doubling every count.  Checks 13 and 14 pass; 26 and 27 refuse
    the key."""
    def edit(k: dict[str, Any]) -> None:
        k["verification_base"] = "1"
        for tr in k["trustees"]:
            tr["verification_key"] = "1"
    key = _edit_key(record, edit)
    _reissue_shares(record, built_record, key, lambda i: 2 * 6 * _secret(built_record, i))
    _double_results(record)
    rehash(record)
    out = run_verifier(record)
    assert {"key.verification_base", "key.shared_secret"} <= out.failed
    assert "tally.decryption_shares" not in out.failed
    assert "results.combination" not in out.failed


# --- the share files (check 28) -----------------------------------------------------------------

def _used(record: Path) -> list[int]:
    return list(read_json(record / "results.json")["trustees_used"])


def test_a_share_file_signed_by_another_trustee(record: Path, built_record: BuiltRecord,
                                                run_verifier: Runner) -> None:
    i = _used(record)[0]
    other = next(j for j in (1, 2, 3) if j != i)
    path = record / SHARES.format(i)
    write_json(path, _sign(read_json(path), _seed(built_record, other)))
    rehash(record)
    out = run_verifier(record)
    assert out.failed == {"tally.share_signatures", "tally.decryption_shares",
                          "results.combination"}
    f = out.check("tally.share_signatures")["failures"][0]
    assert f["code"] == "share_signatures.signed_by"
    assert f["item"] == {"file": SHARES.format(i), "trustee": i}
    assert f["params"] == {"index": i, "signer": other}
    assert _codes(out, "tally.decryption_shares") == ["shares.unsigned"]
    assert _codes(out, "results.combination") == ["results.trustees_used"]


def test_a_share_file_not_signed(record: Path, run_verifier: Runner) -> None:
    i = _used(record)[0]
    path = record / SHARES.format(i)
    doc = read_json(path)
    doc["signature"] = "00" * 64
    write_json(path, doc)
    rehash(record)
    out = run_verifier(record)
    assert _codes(out, "tally.share_signatures") == ["share_signatures.invalid"]
    assert "results.combination" in out.failed


def test_a_share_file_signed_for_another_tally(record: Path, built_record: BuiltRecord,
                                               run_verifier: Runner) -> None:
    i = _used(record)[-1]
    path = record / SHARES.format(i)
    doc = read_json(path)
    doc["tally"] = hashlib.sha256(b"another tally").hexdigest()
    write_json(path, _sign(doc, _seed(built_record, i)))
    rehash(record)
    out = run_verifier(record)
    assert _codes(out, "tally.share_signatures") == ["share_signatures.tally"]
    assert out.failed == {"tally.share_signatures", "tally.decryption_shares",
                          "results.combination"}
