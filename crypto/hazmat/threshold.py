"""Combination of threshold decryption shares (docs/protocol.md §6.4) — hazmat: the formula
only.  It neither verifies the shares' proofs nor counts them; :func:`crypto.threshold.combine`
does both and then calls :func:`combine_unchecked`.  Callers that verified the shares themselves
(the tally, tally/finish.py) call it directly.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from ..errors import InvalidInput
from .gmp import GroupElement, invert, mpz, powmod
from .paillier import Modulus


class ShareValues(Protocol):
    """A trustee's decryption shares c_{i,j} of a tally vector (crypto.threshold.DecryptionShare)."""

    @property
    def index(self) -> int: ...

    @property
    def shares(self) -> Sequence[GroupElement]: ...


class ThresholdKey(Protocol):
    """The public key and Δ = ℓ! (crypto.threshold.ElectionPublicKey)."""

    @property
    def public_key(self) -> Modulus: ...

    @property
    def delta(self) -> int: ...


def lagrange_coefficient(delta: int, index: int, subset: Sequence[int]) -> int:
    """λ_i = Δ · ∏_{j∈S, j≠i} j / (j − i), an integer because Δ = ℓ! (§6.4)."""
    num, den = delta, 1
    for j in subset:
        if j != index:
            num *= j
            den *= j - index
    if num % den:
        raise InvalidInput("Lagrange coefficient is not an integer")  # pragma: no cover
    return num // den


def combine_unchecked(key: ThresholdKey, shares: Sequence[ShareValues]) -> list[int]:
    """Combination formula of §6.4 on the given shares, without verifying proofs or counts:
    c' = ∏ c_{i,j}^(2λ_i) = c^(4Δ²d), m = L(c') · (4Δ²)^(−1) mod n."""
    pk = key.public_key
    n, n2 = pk.n_mpz, pk.n_square
    subset = [s.index for s in shares]
    lambdas = [2 * lagrange_coefficient(key.delta, i, subset) for i in subset]
    inv = invert(4 * key.delta * key.delta, n)
    out = []
    for j in range(len(shares[0].shares)):
        c_prime: GroupElement = mpz(1)
        for s, lam in zip(shares, lambdas):
            c_prime = c_prime * powmod(s.shares[j], lam, n2) % n2
        if c_prime % n != 1:
            raise InvalidInput(f"combination of candidate {j} is not of the form 1 + x·n: shares inconsistent")
        out.append(int((c_prime - 1) // n * inv % n))
    return out
