"""Helpers that build malicious ballots the way a cheating client would (tests only)."""
from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import gmpy2

from crypto import ContestStatement, EncryptedContest, PublicKey
from crypto.hashing import CHALLENGE_MODULUS, DOMAIN_SUM, DOMAIN_ZERO_ONE
from crypto.hazmat import g_power
from crypto.proofs import DisjunctiveProof, make_proof, nonce_bits, sum_witness_bits, zero_one_witness_bits


def rsa_modulus(bits: int) -> tuple[int, int]:
    """Two random primes p, q whose product has exactly ``bits`` bits (a test key whose
    factors the test knows)."""
    half = bits // 2
    while True:
        p = int(gmpy2.next_prime(secrets.randbits(half) | (3 << (half - 2))))
        q = int(gmpy2.next_prime(secrets.randbits(half) | (3 << (half - 2))))
        if p != q and (p * q).bit_length() == bits:
            return p, q


def short_encrypt(pk: PublicKey, m: int, alpha: int) -> int:
    """g^m · h_s^α mod n² (protocol.md §5.1) for any integer m."""
    return int(g_power(pk, m) * pk.short_power(alpha) % pk.n_square)


def forged_zero_one_proof(statement: ContestStatement, index: int, c: int) -> DisjunctiveProof:
    """A proof for a ciphertext that encrypts neither 0 nor 1.

    Both branches are simulated; the last challenge is then forced so the challenges sum to the
    Fiat–Shamir value — the best a cheater can do.  Its branch-1 equation cannot hold.
    """
    pk = statement.public_key
    n2 = pk.n_square
    s0 = nonce_bits(zero_one_witness_bits(pk))
    zs = [secrets.randbits(s0) for _ in range(2)]
    es = [secrets.randbits(128) for _ in range(2)]
    commitments = []
    for j in range(2):
        u = c * g_power(pk, -j) % n2
        commitments.append(int(pk.short_power(zs[j]) * gmpy2.powmod(u, -es[j], n2) % n2))
    h = statement.challenge(DOMAIN_ZERO_ONE, [index, c], commitments)
    es[1] = (h - es[0]) % CHALLENGE_MODULUS
    return DisjunctiveProof(tuple(commitments), tuple(es), tuple(zs))


def _disjunctive(
    pk: PublicKey, base: int, branches: int, real: int | None, witness: int, hash_fn: "object",
    witness_bits: int, negate: bool = False,
) -> DisjunctiveProof:
    """Honest proof when ``real`` is a branch whose u is h_s^witness; otherwise all branches
    simulated and the last challenge forced (a forgery)."""
    n2 = pk.n_square
    s = nonce_bits(witness_bits)
    zs = [secrets.randbits(s) for _ in range(branches)]
    es = [secrets.randbits(128) for _ in range(branches)]
    rho = secrets.randbits(s)
    commitments = []
    for j in range(branches):
        if j == real:
            a = int(pk.short_power(rho))
            commitments.append(int(n2 - a) if negate else a)  # −a: the equation holds only up to sign
        else:
            u = base * g_power(pk, -j) % n2
            if gmpy2.gcd(u, pk.n) != 1:
                es[j] = 0  # u has no inverse: challenge 0, which (V2) allows
            u_e = gmpy2.powmod(u, -es[j], n2) if es[j] else 1
            commitments.append(int(pk.short_power(zs[j]) * u_e % n2))
    h = hash_fn(commitments)  # type: ignore[operator]
    if real is not None:
        return make_proof(commitments, es, zs, real, h, rho, witness)
    es[-1] = (h - sum(es[:-1])) % CHALLENGE_MODULUS
    return DisjunctiveProof(tuple(commitments), tuple(es), tuple(zs))


def forge_ballot(
    statement: ContestStatement, values: list[int], negate_commitments: bool = False,
) -> EncryptedContest:
    """A ballot encrypting arbitrary ``values`` with honest proofs where the statement is true
    (m ∈ {0,1}; Σ m ∈ 0..k) and forged proofs elsewhere — a cheating client's best effort."""
    pk, k = statement.public_key, statement.max_selections
    n2 = pk.n_square
    alphas = [secrets.randbits(pk.short_bits) for _ in values]
    cts = [short_encrypt(pk, v, a) for v, a in zip(values, alphas)]
    w0 = zero_one_witness_bits(pk)
    proofs = []
    for i, (v, c, alpha) in enumerate(zip(values, cts, alphas)):
        proofs.append(_disjunctive(
            pk, c, 2, v if v in (0, 1) else None, alpha,
            lambda a, i=i, c=c: statement.challenge(DOMAIN_ZERO_ONE, [i, c], a),
            w0, negate_commitments,
        ))
    big_c = gmpy2.mpz(1)
    for c in cts:
        big_c = big_c * c % n2
    total = sum(values)
    sum_proof = _disjunctive(
        pk, int(big_c), k + 1, total if 0 <= total <= k else None, sum(alphas),
        lambda a: statement.challenge(DOMAIN_SUM, [k, cts], a),
        sum_witness_bits(pk, len(values)),
    )
    return EncryptedContest(tuple(cts), tuple(proofs), sum_proof)


def ballot_with_non_unit(statement: ContestStatement, values: list[int], factor: int, where: str) -> EncryptedContest:
    """A ballot of 0/1 ``values`` whose (V1) holds everywhere, yet one value shares the prime
    ``factor`` with n (a prover who knows the factorisation):

    * ``where="ciphertext"``: c_0 = Enc(m_0) · factor^n, a non-unit;
    * ``where="commitment"``: the simulated commitment of candidate 0's proof is a multiple of
      ``factor``.

    With integer responses over h_s (protocol.md §5.3) (V2) itself implies that c and a are
    units (h_s^z is one), so such a ballot also fails (V2); the unit check (§5.4 step 3) names it.
    """
    pk, k = statement.public_key, statement.max_selections
    n2 = pk.n_square
    alphas = [secrets.randbits(pk.short_bits) for _ in values]
    cts = [short_encrypt(pk, v, a) for v, a in zip(values, alphas)]
    if where == "ciphertext":
        cts[0] = int(cts[0] * gmpy2.powmod(factor, pk.n, n2) % n2)
    w0 = zero_one_witness_bits(pk)
    proofs = []
    for i, (v, c, alpha) in enumerate(zip(values, cts, alphas)):
        proof = _disjunctive(pk, c, 2, v, alpha,
                             lambda a, i=i, c=c: statement.challenge(DOMAIN_ZERO_ONE, [i, c], a), w0)
        if where == "commitment" and i == 0:
            commitments = list(proof.commitments)
            commitments[1 - v] = int(commitments[1 - v] * factor % n2)
            h = statement.challenge(DOMAIN_ZERO_ONE, [i, c], commitments)
            es = list(proof.challenges)
            es[v] = (h - es[1 - v]) % CHALLENGE_MODULUS
            proof = DisjunctiveProof(tuple(commitments), tuple(es), proof.responses)
        proofs.append(proof)
    big_c = gmpy2.mpz(1)
    for c in cts:
        big_c = big_c * c % n2
    sum_proof = _disjunctive(
        pk, int(big_c), k + 1, sum(values), sum(alphas),
        lambda a: statement.challenge(DOMAIN_SUM, [k, cts], a), sum_witness_bits(pk, len(values)),
    )
    return EncryptedContest(tuple(cts), tuple(proofs), sum_proof)


def make_any_proof(pk: PublicKey, base: int, branches: int, real: int, witness: int, hash_fn: Any,
                   witness_bits: int) -> DisjunctiveProof:
    """An honest disjunctive proof (tests that build proofs by hand)."""
    return _disjunctive(pk, base, branches, real, witness, hash_fn, witness_bits)
