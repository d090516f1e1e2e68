"""Helpers that build malicious ballots the way a cheating client would (tests only)."""
from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import gmpy2

from crypto import ContestStatement, EncryptedContest, PublicKey
from crypto.hashing import CHALLENGE_MODULUS, DOMAIN_SUM, DOMAIN_ZERO_ONE
from crypto.hazmat import g_power
from crypto.paillier import encrypt
from crypto.proofs import DisjunctiveProof, make_proof, normalise_response
from crypto.randomness import random_unit


def rsa_modulus(bits: int) -> tuple[int, int]:
    """Two random primes p, q whose product has exactly ``bits`` bits (a test key whose
    factors the test knows)."""
    half = bits // 2
    while True:
        p = int(gmpy2.next_prime(secrets.randbits(half) | (3 << (half - 2))))
        q = int(gmpy2.next_prime(secrets.randbits(half) | (3 << (half - 2))))
        if p != q and (p * q).bit_length() == bits:
            return p, q


def forged_zero_one_proof(statement: ContestStatement, index: int, c: int) -> DisjunctiveProof:
    """A proof for a ciphertext that encrypts neither 0 nor 1.

    Both branches are simulated; the last challenge is then forced so the challenges sum to the
    Fiat–Shamir value — the best a cheater can do.  Its branch-1 equation cannot hold.
    """
    pk = statement.public_key
    n, n2 = pk.n_mpz, pk.n_square
    zs = [normalise_response(pk, random_unit(pk.n)) for _ in range(2)]
    es = [secrets.randbits(128) for _ in range(2)]
    commitments = []
    for j in range(2):
        u = c * g_power(pk, -j) % n2
        commitments.append(int(gmpy2.powmod(zs[j], n, n2) * gmpy2.powmod(u, -es[j], n2) % n2))
    h = statement.challenge(DOMAIN_ZERO_ONE, [index, c], commitments)
    es[1] = (h - es[0]) % CHALLENGE_MODULUS
    return DisjunctiveProof(tuple(commitments), tuple(es), tuple(zs))




def _disjunctive(
    pk: PublicKey, base: int, branches: int, real: int | None, witness: int, hash_fn: "object",
    negate: bool = False,
) -> DisjunctiveProof:
    """Honest proof when ``real`` is a branch whose u is an n-th residue of ``witness``; otherwise
    all branches simulated and the last challenge forced (a forgery)."""
    n, n2 = pk.n_mpz, pk.n_square
    zs = [normalise_response(pk, random_unit(pk.n)) for _ in range(branches)]
    es = [secrets.randbits(128) for _ in range(branches)]
    rho = random_unit(pk.n)
    commitments = []
    for j in range(branches):
        if j == real:
            a = int(gmpy2.powmod(rho, n, n2))
            commitments.append(int(n2 - a) if negate else a)  # −a: the equation holds only up to sign
        else:
            u = base * g_power(pk, -j) % n2
            commitments.append(int(gmpy2.powmod(zs[j], n, n2) * gmpy2.powmod(u, -es[j], n2) % n2))
    h = hash_fn(commitments)  # type: ignore[operator]
    if real is not None:
        return make_proof(pk, commitments, es, zs, real, h, rho, witness)
    es[-1] = (h - sum(es[:-1])) % CHALLENGE_MODULUS
    return DisjunctiveProof(tuple(commitments), tuple(es), tuple(zs))


def forge_ballot(
    statement: ContestStatement, values: list[int], negate_commitments: bool = False,
) -> EncryptedContest:
    """A ballot encrypting arbitrary ``values`` with honest proofs where the statement is true
    (m ∈ {0,1}; Σ m ∈ 0..k) and forged proofs elsewhere — a cheating client's best effort."""
    pk, k = statement.public_key, statement.max_selections
    n2 = pk.n_square
    rs = [random_unit(pk.n) for _ in values]
    cts = [int(encrypt(pk, v % pk.n, r)) for v, r in zip(values, rs)]
    proofs = []
    for i, (v, c, r) in enumerate(zip(values, cts, rs)):
        proofs.append(_disjunctive(
            pk, c, 2, v if v in (0, 1) else None, r,
            lambda a, i=i, c=c: statement.challenge(DOMAIN_ZERO_ONE, [i, c], a),
            negate_commitments,
        ))
    big_c, big_r = gmpy2.mpz(1), gmpy2.mpz(1)
    for c, r in zip(cts, rs):
        big_c = big_c * c % n2
        big_r = big_r * r % pk.n
    total = sum(values)
    sum_proof = _disjunctive(
        pk, int(big_c), k + 1, total if 0 <= total <= k else None, int(big_r),
        lambda a: statement.challenge(DOMAIN_SUM, [k, cts], a),
    )
    return EncryptedContest(tuple(cts), tuple(proofs), sum_proof)


def ballot_with_non_unit(statement: ContestStatement, values: list[int], factor: int, where: str) -> EncryptedContest:
    """A ballot of 0/1 ``values`` whose every equation — (V1) and (V2) of every branch — holds,
    yet one value shares the prime ``factor`` with n (a prover who knows the factorisation):

    * ``where="ciphertext"``: c_0 = Enc(m_0; r) with r = factor, so c_0, the real response of its
      proof and of the sum proof are non-units; the simulated branches use challenge 0 (u has no
      inverse), which (V2) allows.
    * ``where="response"``: the simulated branch of candidate 0's proof answers z = factor, so z
      and its commitment z^n·u^(−e) are non-units.

    Only the unit check (§5.4 step 3) can refuse it.
    """
    pk, k = statement.public_key, statement.max_selections
    n, n2 = pk.n_mpz, pk.n_square
    rs = [random_unit(pk.n) for _ in values]
    if where == "ciphertext":
        rs[0] = factor
    cts = [int(g_power(pk, v) * gmpy2.powmod(r, n, n2) % n2) for v, r in zip(values, rs)]

    def prove(base: int, branches: int, real: int, witness: int, hash_fn: Any,
              zero_sim: bool, sim_z: int | None) -> DisjunctiveProof:
        zs = [sim_z or normalise_response(pk, random_unit(pk.n)) for _ in range(branches)]
        es = [0 if zero_sim else secrets.randbits(128) for _ in range(branches)]
        rho = random_unit(pk.n)
        commitments = []
        for j in range(branches):
            if j == real:
                commitments.append(int(gmpy2.powmod(rho, n, n2)))
            else:
                u = base * g_power(pk, -j) % n2
                u_e = 1 if es[j] == 0 else gmpy2.powmod(u, -es[j], n2)
                commitments.append(int(gmpy2.powmod(zs[j], n, n2) * u_e % n2))
        return make_proof(pk, commitments, es, zs, real, hash_fn(commitments), rho, witness)

    proofs = []
    for i, (v, c, r) in enumerate(zip(values, cts, rs)):
        proofs.append(prove(
            c, 2, v, r,
            lambda a, i=i, c=c: statement.challenge(DOMAIN_ZERO_ONE, [i, c], a),
            where == "ciphertext" and i == 0, factor if where == "response" and i == 0 else None,
        ))
    big_c, big_r = gmpy2.mpz(1), gmpy2.mpz(1)
    for c, r in zip(cts, rs):
        big_c = big_c * c % n2
        big_r = big_r * r % pk.n
    sum_proof = prove(
        int(big_c), k + 1, sum(values), int(big_r),
        lambda a: statement.challenge(DOMAIN_SUM, [k, cts], a),
        where == "ciphertext", None,
    )
    return EncryptedContest(tuple(cts), tuple(proofs), sum_proof)
