"""Hazardous materials: the raw arithmetic under the protocol (the Python side of
``frontend/src/hazmat.js``).

Nothing here validates its inputs, draws its own randomness or names a failure: a ciphertext
outside Z*_{n²}, reused encryption randomness or an unverified decryption share gives a wrong
answer or leaks a secret, silently.  The safe API is :mod:`crypto` (parse, verify, encrypt,
aggregate, ceremony, threshold), which validates every value from outside and then calls down
here.  Use these directly only to implement the protocol or to measure it.

* :mod:`.gmp` — typed gmpy2 (``mpz``, ``powmod``, …) and :data:`GroupElement`
* :mod:`.multiexp` — Pippenger multi-exponentiation (protocol.md §7.2)
* :mod:`.paillier` — ``g_power``, ``raw_encrypt``, ``raw_product``, ``all_units``
  (protocol.md §1.2, §5.1)
* :mod:`.fixedbase` — fixed-base tables for powers of h_s (protocol.md §5.7)
* :mod:`.batch` — the batch equation L² = R² with its unit check (protocol.md §7.1)
* :mod:`.threshold` — ``combine_unchecked``, ``lagrange_coefficient`` (§6.4)

This package imports nothing from the rest of ``crypto`` but :mod:`crypto.errors`: it is the
bottom layer.
"""
from .batch import batch_equation_holds
from .gmp import GroupElement, mpz
from .multiexp import multi_exp, window_schedule
from .paillier import Modulus, all_units, g_power, raw_encrypt, raw_product
from .threshold import ShareValues, ThresholdKey, combine_unchecked, lagrange_coefficient

__all__ = [
    "GroupElement",
    "Modulus",
    "ShareValues",
    "ThresholdKey",
    "all_units",
    "batch_equation_holds",
    "combine_unchecked",
    "g_power",
    "lagrange_coefficient",
    "multi_exp",
    "mpz",
    "raw_encrypt",
    "raw_product",
    "window_schedule",
]
