"""Election key checks (docs/protocol.md §2.4, §6.2, §6.6–§6.9): the honest key passes every
named check; each check refuses what it is for; proofs are bound to their key."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from math import factorial

import gmpy2
import pytest

from crypto import KeyCheckFailed, check_election_key, generate_election_key
from crypto.ceremony import read_encrypted_share, write_encrypted_share
from crypto.encoding import canonical_json, lp_encode
from crypto.errors import InvalidInput, InvalidProof
from crypto.keycheck import CHECK_NAMES, CHECKS, _PASSED, check_shared_secret, lagrange_at
from crypto.keyproofs import (
    MODULUS_ROOT_ROUNDS,
    MODULUS_ROUNDS,
    RSA_2048,
    FactorProof,
    ModulusProof,
    expand,
    factor_bound_bits,
    hash_to_unit,
    hex_to_signed,
    lcm_below,
    pollard_factor,
    prove_factors,
    prove_modulus,
    signed_to_hex,
    verification_base,
    verification_class,
    verify_factors,
    verify_modulus,
)
from crypto.threshold import ElectionPublicKey, KeyProofs, TrusteeKey, TrusteeShare
from tests.support.dishonest_dealer import cofactor, dishonest_key, prime_3_mod_4, small_safe_prime, smooth_prime

NAMES = ["t1", "t2", "t3", "t4"]


def _fails(key: ElectionPublicKey, check: str) -> KeyCheckFailed:
    _PASSED.clear()
    with pytest.raises(KeyCheckFailed) as info:
        check_election_key(key)
    assert info.value.check == check, str(info.value)
    assert str(info.value).startswith(check + ": ")
    return info.value


def _passes_until(key: ElectionPublicKey, check: str) -> None:
    """Every check before ``check`` passes (the attack is stopped exactly there)."""
    for name, fn in CHECKS:
        if name == check:
            return
        fn(key, None)


def test_vector_key_passes_every_check(election_key: ElectionPublicKey) -> None:
    _PASSED.clear()
    check_election_key(election_key)
    assert [name for name, _ in CHECKS] == list(CHECK_NAMES)
    assert election_key.to_dict()["version"] == 2
    assert ElectionPublicKey.from_dict(json.loads(canonical_json(election_key.to_dict())),
                                       allow_insecure_test_key=True) == election_key


def test_ceremony_output_passes_and_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key, shares = generate_election_key(512, NAMES, 3, allow_insecure_test_key=True)
    _PASSED.clear()
    check_election_key(key)  # the full check, Pollard and small-order included
    assert len(key.proofs.modulus.x) == MODULUS_ROUNDS and len(key.proofs.modulus.z) == MODULUS_ROOT_ROUNDS
    assert key.verification_base == verification_base(key.public_key.n, key.key_id)
    path = tmp_path / "s.json"
    write_encrypted_share(path, shares[1], "a passphrase", scrypt_log2_n=14)
    again = read_encrypted_share(path, "a passphrase", allow_insecure_test_key=True)
    assert again.signing_seed == shares[1].signing_seed and again.election_key == key
    assert len({t.signing_key for t in key.trustees}) == len(NAMES)


def test_version_1_key_and_share_file_are_refused(election_key: ElectionPublicKey, tmp_path) -> None:  # type: ignore[no-untyped-def]
    old = election_key.to_dict()
    del old["proofs"]
    old["version"] = 1
    for t in old["trustees"]:
        del t["signing_key"]
    with pytest.raises(InvalidInput, match="version 2 required"):
        ElectionPublicKey.from_dict(old, allow_insecure_test_key=True)
    doc = {"format": "ssb-vote/trustee-share", "version": 1, "trustee": "t", "index": 1,
           "kdf": {"name": "scrypt", "salt": "00" * 16, "log2_n": 14, "r": 8, "p": 1},
           "cipher": {"name": "AES-256-GCM", "nonce": "00" * 12}, "ciphertext": "00"}
    (tmp_path / "v1.json").write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match="version 1"):
        read_encrypted_share(tmp_path / "v1.json", "whatever")


def test_share_seed_must_match_the_signing_key(trustee_shares: list[TrusteeShare]) -> None:
    with pytest.raises(InvalidInput, match="not this trustee's signing key"):
        dataclasses.replace(trustee_shares[0], signing_seed=trustee_shares[1].signing_seed)


# --- §2.4, §6.6 -------------------------------------------------------------------------------


def test_hash_to_unit_and_expand() -> None:
    assert expand(b"x", 70) == (hashlib.sha256(b"x\0\0\0\0").digest() + hashlib.sha256(b"x\0\0\0\1").digest()
                                + hashlib.sha256(b"x\0\0\0\2").digest())[:70]
    m = 10007 * 10009
    u = hash_to_unit(m, "a", 1)
    length = (m.bit_length() + 7) // 8 + 16
    assert u == int.from_bytes(expand(lp_encode("a", 1, 0), length), "big") % m
    assert gmpy2.gcd(u, m) == 1


def test_rsa_2048_is_the_challenge_number() -> None:
    assert RSA_2048.bit_length() == 2048 and len(str(RSA_2048)) == 617
    assert hashlib.sha256(str(RSA_2048).encode()).hexdigest() == \
        "b3c2468add10e2a0c4a251d9d2bac4ba04d4b3527156ceead43a1305e03f1fc0"


def test_verification_base_has_the_public_class(election_key: ElectionPublicKey, trustee_shares: list[TrusteeShare]) -> None:
    """v = g^(2κ)·(h²)^n: v^λ = g^(2κλ), so its class is 2κ (checked with the factors)."""
    n = election_key.public_key.n
    kappa = verification_class(n, election_key.key_id)
    assert gmpy2.gcd(kappa, n) == 1
    # (v · g^(−2κ)) is an n-th residue: raising to n·(anything) kills nothing we can see without
    # the factors, but g^(-2κ)·v ≡ (h²)^n mod n² ⇒ ≡ (h² mod n)^n mod n.
    v = election_key.verification_base
    residue = v * gmpy2.powmod(1 + n, -2 * kappa, n * n) % (n * n)
    h = hash_to_unit(n, "ssb-vote/v2/verification-base", election_key.key_id, "residue")
    assert residue == gmpy2.powmod(h * h, n, n * n)


def test_signed_hex() -> None:
    for x in (0, 1, -1, 255, -(1 << 300)):
        assert hex_to_signed(signed_to_hex(x), "x") == x
    for bad in ("-0", "00", "-", "+1", "0x1", "A", 1, "-01"):
        with pytest.raises(InvalidInput):
            hex_to_signed(bad, "x")


def test_lcm_bounds_match_the_documented_sizes() -> None:
    assert lcm_below(1 << 16).bit_length() == 94448
    assert lcm_below(1 << 20).bit_length() == 1512565
    assert lcm_below(10) == 2520 // 1  # lcm(1..9)


# --- §6.8 Π^mod, §6.9 Π^fac -------------------------------------------------------------------


def test_modulus_proof_refuses_tampering_and_other_keys(election_key: ElectionPublicKey) -> None:
    n, kid = election_key.public_key.n, election_key.key_id
    proof = election_key.proofs.modulus
    verify_modulus(n, kid, proof)
    with pytest.raises(InvalidProof, match="x\\[5\\]"):
        verify_modulus(n, kid, dataclasses.replace(proof, x=proof.x[:5] + ((proof.x[5] * 2) % n,) + proof.x[6:]))
    with pytest.raises(InvalidProof, match="z\\[0\\]"):
        verify_modulus(n, kid, dataclasses.replace(proof, z=((proof.z[0] + 1),) + proof.z[1:]))
    with pytest.raises(InvalidProof):
        verify_modulus(n, kid, dataclasses.replace(proof, a=(1 - proof.a[0],) + proof.a[1:]))
    with pytest.raises(InvalidProof):  # bound to the key id: replayed for another key
        verify_modulus(n, "0" * 64, proof)
    with pytest.raises(InvalidProof, match="Jacobi"):  # w a square: its Jacobi symbol is +1
        verify_modulus(n, kid, dataclasses.replace(proof, w=4))
    with pytest.raises(InvalidInput):
        ModulusProof.from_dict(dict(proof.to_dict(), z=proof.to_dict()["z"][:7]), n)


def test_modulus_proof_for_three_primes_cannot_be_made() -> None:
    """n = p1·p2·p3 (each ≡ 3 mod 4): a 'proof' made as if n = p1·(p2p3) fails — p2p3 is not a
    prime, so half the y have no fourth root among ±y, ±wy."""
    p1, p2, p3 = prime_3_mod_4(170), prime_3_mod_4(170), prime_3_mod_4(172)
    n = p1 * p2 * p3
    with pytest.raises((InvalidInput, InvalidProof, ZeroDivisionError, ValueError)):
        verify_modulus(n, "k" * 64, prove_modulus(p1, p2 * p3, "k" * 64))


def test_factor_proof_bounds_and_binding(election_key: ElectionPublicKey) -> None:
    n, kid = election_key.public_key.n, election_key.key_id
    proof = election_key.proofs.factors
    verify_factors(n, kid, proof)
    assert factor_bound_bits(512) == 61 and factor_bound_bits(2048) == 765 and factor_bound_bits(3072) == 1277
    for field, change in (("z1", 1), ("w2", -1), ("v", 3), ("sigma", 1)):
        with pytest.raises(InvalidProof):
            verify_factors(n, kid, dataclasses.replace(proof, **{field: getattr(proof, field) + change}))
    with pytest.raises(InvalidProof):
        verify_factors(n, "0" * 64, proof)
    with pytest.raises(InvalidInput, match="unit"):
        verify_factors(n, kid, dataclasses.replace(proof, T=0))
    assert FactorProof.from_dict(proof.to_dict()) == proof


def test_factor_proof_refuses_a_small_factor() -> None:
    """A 40-bit safe prime factor at 512 bits: no trial division or Pollard finds it, the honest
    prover's z2 is out of range (the other factor exceeds 2^(c+ε+2)·S)."""
    p = small_safe_prime(40)
    q = cofactor(p, 512)
    proof = prove_factors(p, q, "k" * 64)
    assert pollard_factor(p * q) == 1
    with pytest.raises(InvalidProof, match="factor of n is below 2\\^"):
        verify_factors(p * q, "k" * 64, proof)


# --- §6.2 named checks on dishonest keys ------------------------------------------------------


@pytest.fixture(scope="module")
def primes() -> tuple[int, int]:
    from crypto.primes import generate_safe_prime

    while True:
        p, q = generate_safe_prime(256), generate_safe_prime(256)
        if p != q and (p * q).bit_length() == 512:
            return p, q


def test_dishonest_helper_is_honest_by_default(primes: tuple[int, int]) -> None:
    key, _ = dishonest_key(*primes, NAMES, 3)
    _PASSED.clear()
    check_election_key(key)


def test_dealer_sharing_zero_fails_shared_secret(primes: tuple[int, int]) -> None:
    key, _ = dishonest_key(*primes, NAMES, 3, secret=0)
    _passes_until(key, "key.shared_secret")
    assert "d ≡ 1 (mod n)" in str(_fails(key, "key.shared_secret"))


def test_shares_off_one_polynomial_fail_consistency(primes: tuple[int, int]) -> None:
    n2 = primes[0] ** 2 * primes[1] ** 2
    key, _ = dishonest_key(*primes, NAMES, 2, tamper=lambda vs: vs[:3] + [vs[3] * vs[0] % n2])
    assert "trustee 4" in str(_fails(key, "key.shared_secret"))


@pytest.mark.parametrize("base", ["one", "nth-residue", 4])
def test_chosen_verification_base_is_refused(primes: tuple[int, int], base: object) -> None:
    key, _ = dishonest_key(*primes, NAMES, 3, base=base)  # type: ignore[arg-type]
    _passes_until(key, "key.verification_base")
    assert "derived from the key id" in str(_fails(key, "key.verification_base"))


def test_small_order_verification_key_is_refused(primes: tuple[int, int]) -> None:
    n2 = primes[0] ** 2 * primes[1] ** 2
    key, _ = dishonest_key(*primes, NAMES, 3, tamper=lambda vs: [vs[0], n2 - 1, *vs[2:]])  # order 2
    assert "trustee 2" in str(_fails(key, "key.verification_base"))


def test_key_public_refuses_small_and_smooth_factors_and_powers(election_key: ElectionPublicKey) -> None:
    # a 17-bit factor: above the trial division bound, found by Pollard (p − 1 < 2^20)
    p = int(gmpy2.next_prime(1 << 16))
    while p % 4 != 3:
        p = int(gmpy2.next_prime(p))
    key, _ = dishonest_key(p, cofactor(p, 512), NAMES, 3)
    assert "Pollard" in str(_fails(key, "key.public"))
    # p − 1 smooth at 512 bits
    smooth = smooth_prime(256)
    key, _ = dishonest_key(smooth, cofactor(smooth, 512), NAMES, 3)
    assert "Pollard" in str(_fails(key, "key.public"))
    # a factor below 2^16
    key, _ = dishonest_key(65519, cofactor(65519, 512), NAMES, 3)
    assert "below 2^16" in str(_fails(key, "key.public"))
    # a perfect power (a cube): nothing else of the key matters
    r = int(gmpy2.next_prime(1 << 171))
    cube = dataclasses.replace(election_key, public_key=type(election_key.public_key)(r ** 3, True))
    assert "perfect power" in str(_fails(cube, "key.public"))
    # a prime n never becomes a public key
    with pytest.raises(InvalidInput, match="two distinct primes"):
        type(election_key.public_key)(int(gmpy2.next_prime(1 << 511)), True)


def test_a_40_bit_factor_fails_the_factor_proof() -> None:
    small = small_safe_prime(40)
    key, _ = dishonest_key(small, cofactor(small, 512), NAMES, 3)
    _passes_until(key, "key.factor_proof")
    assert "below 2^61" in str(_fails(key, "key.factor_proof"))


def test_proofs_of_another_key_are_refused(election_key: ElectionPublicKey) -> None:
    other, _ = generate_election_key(512, NAMES, 3, allow_insecure_test_key=True)
    swapped = dataclasses.replace(other, proofs=KeyProofs(election_key.proofs.modulus, other.proofs.factors))
    _fails(swapped, "key.modulus_proof")
    # a renamed trustee changes the key id: the proofs and v no longer belong to the key
    renamed = dataclasses.replace(other, trustees=(dataclasses.replace(other.trustees[0], trustee="mallory"),)
                                  + other.trustees[1:])
    _fails(renamed, "key.modulus_proof")


def test_lagrange_at_is_exact() -> None:
    delta = factorial(5)
    for x in (0, 4, 5):
        total = sum(lagrange_at(delta, i, [1, 2, 3], x) * (7 + 3 * i + i * i) for i in (1, 2, 3))
        assert total == delta * (7 + 3 * x + x * x)


def test_shared_secret_check_alone(election_key: ElectionPublicKey) -> None:
    check_shared_secret(election_key, None)
    bad = dataclasses.replace(election_key, trustees=(dataclasses.replace(
        election_key.trustees[0], verification_key=election_key.trustees[0].verification_key ** 2
        % election_key.public_key.n_square),) + election_key.trustees[1:])
    with pytest.raises(InvalidInput):
        check_shared_secret(bad, None)


def test_signing_keys_must_be_distinct_hex(election_key: ElectionPublicKey) -> None:
    t = election_key.trustees
    with pytest.raises(InvalidInput, match="distinct"):
        dataclasses.replace(election_key, trustees=(t[0], dataclasses.replace(t[1], signing_key=t[0].signing_key),
                                                    *t[2:]))
    with pytest.raises(InvalidInput, match="64 lowercase hex"):
        dataclasses.replace(election_key, trustees=(dataclasses.replace(t[0], signing_key="AB" * 32), *t[1:]))
    assert isinstance(t[0], TrusteeKey)
