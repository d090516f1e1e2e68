"""The batch verification equation of docs/protocol.md §7.1 on prepared bases and exponents —
hazmat: it checks only the equation and the units, not where the bases and exponents come from.

crypto.batch.BatchVerifier prepares them from ballots that passed the cheap checks (protocol.md §5.4 steps
1–4) with weights from ``secrets`` drawn after the ballots were fixed, and
:func:`crypto.batch.verify_many` names the failing ballots; use those.
"""
from __future__ import annotations

from typing import Sequence

from .gmp import GroupElement, gcd
from .multiexp import multi_exp
from .paillier import Modulus, all_units, g_power


def batch_equation_holds(
    pk: Modulus,
    left: GroupElement,
    bases: Sequence[GroupElement],
    exps: Sequence[int],
    g_exp: int,
) -> bool:
    """True iff every base is a unit mod n and left² = R² (mod n²) with

        R = ∏ bases^exps · g^g_exp   (mod n²)   (protocol.md §7.1; left = h_s^(Σ δ·z), computed by the caller).

    Units (protocol.md §5.4 step 3): a prime of n divides a product of powers with exponents ≥ 1 iff it
    divides one of the bases, so one gcd covers every value; an exponent that is 0 makes its base
    drop out of the product, and then the bases are tested themselves.
    """
    n, n2 = pk.n_mpz, pk.n_square
    base_part = multi_exp(bases, exps, n2)
    if gcd(base_part, n) != 1:
        return False
    if 0 in exps and not all_units(n, bases):
        return False
    right = base_part * g_power(pk, g_exp) % n2
    return bool(left * left % n2 == right * right % n2)
