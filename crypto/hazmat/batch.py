"""The batch verification equation of docs/protocol.md §7.1 on prepared bases and exponents —
hazmat: it checks only the equation and the units, not where the bases and exponents come from.

crypto.batch.BatchVerifier prepares them from ballots that passed the cheap checks (protocol.md §5.4 steps
1–4) with weights from ``secrets`` drawn after the ballots were fixed, and
:func:`crypto.batch.verify_many` names the failing ballots; use those.
"""
from __future__ import annotations

from typing import Sequence

from .gmp import GroupElement, gcd, powmod
from .multiexp import multi_exp
from .paillier import Modulus, all_units, g_power


def batch_equation_holds(
    pk: Modulus,
    z_bases: Sequence[GroupElement],
    z_exps: Sequence[int],
    bases: Sequence[GroupElement],
    exps: Sequence[int],
    g_exp: int,
) -> bool:
    """True iff every value is a unit mod n and L² = R² (mod n²) with

        L = (∏ z_bases^z_exps mod n)^n,   R = ∏ bases^exps · g^g_exp   (mod n²)   (protocol.md §7.1).

    Units (protocol.md §5.4 step 3): a prime of n divides a product of powers with exponents ≥ 1 iff it
    divides one of the bases, so one gcd per product covers every value.  The z-exponents (the
    weights) must be ≥ 1; an exponent of ``bases`` that is 0 makes its base drop out of the
    product, and then the bases are tested themselves.
    """
    n, n2 = pk.n_mpz, pk.n_square
    # z^n mod n² depends only on z mod n, so the z-part is combined mod n (cheaper).
    z_part = multi_exp(z_bases, z_exps, n)
    base_part = multi_exp(bases, exps, n2)
    if gcd(z_part, n) != 1 or gcd(base_part, n) != 1:
        return False
    if 0 in exps and not all_units(n, bases):
        return False
    left = powmod(z_part, n, n2)
    right = base_part * g_power(pk, g_exp) % n2
    return bool(left * left % n2 == right * right % n2)
