"""The gmpy2 functions the protocol code uses, with types (gmpy2 ships none).

At run time these names are gmpy2's own objects.  For the type checker ``mpz`` is an ``int``
subclass — an mpz takes part in every integer operator with ints and mpzs and gives an mpz (or a
bool) — so that a group element can be typed :data:`GroupElement` rather than ``Any``.  (It is
not a subclass at run time: ``isinstance(mpz(1), int)`` is False.)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeAlias

    class mpz(int):  # noqa: N801 - gmpy2's name
        """gmpy2.mpz as the type checker sees it."""

        def digits(self, base: int = 10) -> str: ...

    def powmod(x: int, y: int, m: int) -> mpz: ...

    def gcd(*values: int) -> mpz: ...

    def invert(x: int, m: int) -> mpz: ...

    def is_prime(x: int, n: int = 25) -> bool: ...

    def is_square(x: int) -> bool: ...

    def is_power(x: int) -> bool: ...

    def jacobi(x: int, y: int) -> int: ...

    def legendre(x: int, y: int) -> int: ...

    def isqrt(x: int) -> mpz: ...

    #: An element of Z*_n or Z*_{n²} (ciphertexts, commitments, responses, shares): a Python int
    #: or a gmpy2 mpz; protocol code accepts both and returns mpz from arithmetic.
    GroupElement: TypeAlias = int | mpz
else:
    from gmpy2 import gcd, invert, is_power, is_prime, is_square, isqrt, jacobi, legendre, mpz, powmod

    GroupElement = int | mpz

_FROM_BYTES = getattr(mpz, "from_bytes", None)  # gmpy2 ≥ 2.2


def mpz_from_bytes(data: bytes) -> mpz:
    """The big-endian unsigned integer ``data`` as mpz (directly, not via int, on gmpy2 ≥ 2.2)."""
    if _FROM_BYTES is None:  # pragma: no cover - older gmpy2
        return mpz(int.from_bytes(data, "big"))
    value: mpz = _FROM_BYTES(data, "big")
    return value


__all__ = ["GroupElement", "gcd", "invert", "is_power", "is_prime", "is_square", "isqrt", "jacobi", "legendre", "mpz",
           "mpz_from_bytes", "powmod"]
