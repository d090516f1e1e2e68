"""Privacy of the integer-response proofs (docs/protocol.md §5.3): a distinguisher over many
proofs cannot tell the real branch from the simulated one.

Each 0/1 proof has one real branch (the selection) and one simulated branch.  The distinguisher
looks at every published value of a branch — the commitment's Jacobi symbol mod n, its bit
length, the challenge's and the response's bit lengths, the response's top bits, the response
mod small primes, the Jacobi symbol of the response — and at the pair ("the branch with the
larger response is the real one").  Against the reference prover it does no better than chance;
against a prover with the hiding margin λ removed (nonces of W + 128 bits instead of
W + 128 + 80, tests/crypto/forge.py) the same distinguisher wins clearly, which shows that the
test can see a leak when there is one.
"""
from __future__ import annotations

import math
import secrets
from collections import Counter
from typing import Callable, Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import ContestStatement, PublicKey, encrypt_contest, verify_contest
from crypto.hashing import DOMAIN_ZERO_ONE
from crypto.hazmat.gmp import jacobi
from crypto.proofs import DisjunctiveProof, nonce_bits, zero_one_witness_bits

from .forge import make_any_proof, short_encrypt

Branch = tuple[int, int, int]  # (a, e, z)
Feature = Callable[[PublicKey, Branch], int]


def _features(pk: PublicKey) -> dict[str, Feature]:
    s = nonce_bits(zero_one_witness_bits(pk))
    return {
        "jacobi(a mod n)": lambda pk, b: jacobi(b[0] % pk.n, pk.n),
        "bits(a)": lambda pk, b: min(b[0].bit_length(), 2 * pk.n.bit_length() - 6),
        "bits(e)": lambda pk, b: max(b[1].bit_length(), 122),
        "bits(z)": lambda pk, b: max(b[2].bit_length(), s - 5),
        "top 3 bits of z": lambda pk, b: b[2] >> (s - 3),
        "z mod 2": lambda pk, b: b[2] % 2,
        "z mod 3": lambda pk, b: b[2] % 3,
        "jacobi(z mod n)": lambda pk, b: jacobi(b[2] % pk.n, pk.n),
        "a mod 4": lambda pk, b: b[0] % 4,
    }


def _chi_square_p(real: Sequence[int], sim: Sequence[int]) -> float:
    """p-value of the two-sample chi-square test of homogeneity (Wilson–Hilferty for the tail)."""
    cr, cs = Counter(real), Counter(sim)
    cats = sorted(set(cr) | set(cs))
    if len(cats) < 2:
        return 1.0
    nr, ns = len(real), len(sim)
    stat = 0.0
    for c in cats:
        tot = cr[c] + cs[c]
        for obs, size in ((cr[c], nr), (cs[c], ns)):
            exp = tot * size / (nr + ns)
            stat += (obs - exp) ** 2 / exp
    df = len(cats) - 1
    z = ((stat / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))
    return 0.5 * math.erfc(z / math.sqrt(2))


def _branches(pk: PublicKey, proofs: Sequence[tuple[DisjunctiveProof, int]]) -> tuple[list[Branch], list[Branch]]:
    real, sim = [], []
    for proof, m in proofs:
        for j in (0, 1):
            branch = (int(proof.commitments[j]), int(proof.challenges[j]), int(proof.responses[j]))
            (real if j == m else sim).append(branch)
    return real, sim


def _larger_z_wins(proofs: Sequence[tuple[DisjunctiveProof, int]]) -> float:
    """Accuracy of "the branch with the larger response is the real one"."""
    hits = sum(1 for proof, m in proofs if (proof.responses[1] > proof.responses[0]) == (m == 1))
    return hits / len(proofs)


def _reference_proofs(pk: PublicKey, ballots: int, candidates: int) -> list[tuple[DisjunctiveProof, int]]:
    out = []
    for b in range(ballots):
        selections = [secrets.randbelow(2) for _ in range(candidates)]
        statement = ContestStatement(pk, "privacy", "c", f"voter-{b}", candidates, candidates)
        ballot = encrypt_contest(statement, selections, secrets.token_bytes(32))
        out.extend(zip(ballot.proofs, selections))
    return out


def _leaky_proofs(pk: PublicKey, count: int) -> list[tuple[DisjunctiveProof, int]]:
    """0/1 proofs by a prover without the λ margin: nonces and simulated responses of W + 128
    bits (witness bound passed as W − 80), real response ρ + e·α as always."""
    statement = ContestStatement(pk, "privacy", "c", "leaky", 1, 1)
    out = []
    for _ in range(count):
        m = secrets.randbelow(2)
        alpha = secrets.randbits(pk.short_bits)
        c = short_encrypt(pk, m, alpha)
        proof = make_any_proof(pk, c, 2, m, alpha,
                               lambda a, c=c: statement.challenge(DOMAIN_ZERO_ONE, [0, c], a),
                               zero_one_witness_bits(pk) - 80)
        out.append((proof, m))
    return out


def test_distinguisher_cannot_tell_real_from_simulated(pk: PublicKey) -> None:
    proofs = _reference_proofs(pk, ballots=60, candidates=40)  # 2 400 proofs, 4 800 branches
    real, sim = _branches(pk, proofs)
    for name, feature in _features(pk).items():
        p = _chi_square_p([feature(pk, b) for b in real], [feature(pk, b) for b in sim])
        assert p > 1e-4, f"{name}: real and simulated branches differ (p = {p:.2e})"
    # every commitment of an honest ballot is h_s-powered: Jacobi symbol 1 on both branches
    assert {jacobi(a % pk.n, pk.n) for a, _, _ in real + sim} == {1}
    accuracy = _larger_z_wins(proofs)
    assert abs(accuracy - 0.5) < 4 * 0.5 / math.sqrt(len(proofs)), accuracy


def test_the_distinguisher_sees_a_leak_when_there_is_one(pk: PublicKey) -> None:
    """Power check: without λ the real response is ρ + e·α with ρ and e·α of the same size, so
    it is visibly larger than a simulated one — the same test then refuses."""
    proofs = _leaky_proofs(pk, 1200)
    assert _larger_z_wins(proofs) > 0.6
    real, sim = _branches(pk, proofs)
    s = nonce_bits(zero_one_witness_bits(pk) - 80)
    p = _chi_square_p([b[2] >> (s - 3) for b in real], [b[2] >> (s - 3) for b in sim])
    assert p < 1e-6


FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(st.lists(st.integers(0, 1), min_size=1, max_size=6), st.binary(min_size=32, max_size=32))
def test_published_shapes_do_not_depend_on_the_selection(pk: PublicKey, selections: list[int], seed: bytes) -> None:
    """Whatever the selections, every branch's values have the same form: commitments with
    Jacobi symbol 1, challenges below 2^128, responses below 2^S + 2^(W+128) (real) / 2^S
    (simulated) — so a real branch is within 2^-80 of a simulated one (protocol.md §5.3)."""
    statement = ContestStatement(pk, "e", "c", "p", len(selections), len(selections))
    ballot = encrypt_contest(statement, selections, seed)
    verify_contest(statement, ballot)
    w = zero_one_witness_bits(pk)
    s = nonce_bits(w)
    for proof, m in zip(ballot.proofs, selections):
        for j in (0, 1):
            assert jacobi(proof.commitments[j] % pk.n, pk.n) == 1
            assert proof.challenges[j] < 2**128
            bound = (1 << s) + (1 << (w + 128)) if j == m else 1 << s
            assert 0 <= proof.responses[j] < bound
