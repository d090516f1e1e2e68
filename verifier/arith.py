"""Big-integer arithmetic backend: gmpy2 when available, pure Python otherwise.

The backend is chosen once at import (set ``SSBVOTE_VERIFIER_PURE_PYTHON=1`` to force the
pure-Python path) and can be switched with :func:`use_gmpy2` (tests exercise both).  Callers
must use the module attributes (``arith.powmod(...)``), never ``from arith import powmod``,
so that switching takes effect everywhere.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable

try:  # pragma: no cover - depends on the environment
    import gmpy2 as _gmpy2
except ImportError:  # pragma: no cover
    _gmpy2 = None

GMPY2_AVAILABLE = _gmpy2 is not None

powmod: Callable[[Any, Any, Any], Any]
invert: Callable[[Any, Any], Any]
gcd: Callable[[Any, Any], Any]
isqrt: Callable[[Any], Any]
mpz: Callable[[Any], Any]
from_bytes: Callable[[bytes], Any]  # the integer of big-endian bytes, in the backend's type
jacobi: Callable[[Any, Any], int]  # the Jacobi symbol (x | m) for odd m > 0
is_prime: Callable[[Any], bool]  # probable prime (BPSW with gmpy2; 32 Miller–Rabin rounds)
is_power: Callable[[Any], bool]  # x = a^k for some integers a, k ≥ 2
BACKEND = "python"

#: Miller–Rabin rounds of the pure-Python primality test (docs/record.md §5: ≥ 25).
MR_ROUNDS = 32


def _py_invert(x: int, m: int) -> int:
    return pow(x, -1, m)


def _py_from_bytes(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _py_jacobi(x: int, m: int) -> int:
    """(x | m) for odd m > 0, by quadratic reciprocity."""
    if m <= 0 or m % 2 == 0:
        raise ValueError("Jacobi symbol needs an odd positive modulus")
    x %= m
    result = 1
    while x:
        while x % 2 == 0:
            x //= 2
            if m % 8 in (3, 5):
                result = -result
        x, m = m, x
        if x % 4 == 3 and m % 4 == 3:
            result = -result
        x %= m
    return result if m == 1 else 0


_SMALL_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71)


def _py_is_prime(n: int) -> bool:
    """Miller–Rabin with :data:`MR_ROUNDS` bases drawn from the OS CSPRNG (after trial division
    by the first primes); a probable-prime test as docs/record.md §5 allows."""
    import secrets
    n = int(n)
    if n < 2:
        return False
    for r in _SMALL_PRIMES:
        if n % r == 0:
            return n == r
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(MR_ROUNDS):
        a = 2 + secrets.randbelow(n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _py_iroot(x: int, k: int) -> int:
    """⌊x^(1/k)⌋ for x ≥ 0 (Newton's method on integers)."""
    if x < 2:
        return x
    r = 1 << -(-x.bit_length() // k)  # ≥ the root
    while True:
        nxt = ((k - 1) * r + x // r ** (k - 1)) // k
        if nxt >= r:
            return r
        r = nxt


def _py_is_power(x: int) -> bool:
    """x = a^k for integers a, k ≥ 2 (only prime k need be tried)."""
    x = int(x)
    if x < 0:
        x = -x
    if x in (0, 1):
        return True
    for k in range(2, x.bit_length() + 1):
        if all(k % r for r in range(2, math.isqrt(k) + 1)):
            a = _py_iroot(x, k)
            if a ** k == x or (a + 1) ** k == x:
                return True
    return False


def _gmpy2_is_prime(n: Any) -> bool:
    assert _gmpy2 is not None
    return bool(_gmpy2.is_prime(n, MR_ROUNDS))  # BPSW plus Miller–Rabin rounds


def _gmpy2_jacobi(x: Any, m: Any) -> int:
    assert _gmpy2 is not None
    return int(_gmpy2.jacobi(x, m))


def _gmpy2_is_power(x: Any) -> bool:
    assert _gmpy2 is not None
    return bool(_gmpy2.is_power(x))


_MPZ_FROM_BYTES = getattr(_gmpy2.mpz, "from_bytes", None) if _gmpy2 is not None else None


def _gmpy2_from_bytes(raw: bytes) -> Any:
    assert _gmpy2 is not None
    if _MPZ_FROM_BYTES is not None:  # gmpy2 ≥ 2.2: no detour through int
        return _MPZ_FROM_BYTES(raw, "big")
    return _gmpy2.mpz(int.from_bytes(raw, "big"))  # pragma: no cover - older gmpy2


def use_gmpy2(enabled: bool) -> str:
    """Select the backend; returns its name (``"gmpy2"`` or ``"python"``)."""
    global powmod, invert, gcd, isqrt, mpz, from_bytes, jacobi, is_prime, is_power, BACKEND
    if enabled and _gmpy2 is not None:
        powmod = _gmpy2.powmod
        invert = _gmpy2.invert
        gcd = _gmpy2.gcd
        isqrt = _gmpy2.isqrt
        mpz = _gmpy2.mpz
        from_bytes = _gmpy2_from_bytes
        jacobi = _gmpy2_jacobi
        is_prime = _gmpy2_is_prime
        is_power = _gmpy2_is_power
        BACKEND = "gmpy2"
    else:
        powmod = pow
        invert = _py_invert
        gcd = math.gcd
        isqrt = math.isqrt
        mpz = int
        from_bytes = _py_from_bytes
        jacobi = _py_jacobi
        is_prime = _py_is_prime
        is_power = _py_is_power
        BACKEND = "python"
    return BACKEND


def _env_wants_gmpy2() -> bool:
    return os.environ.get("SSBVOTE_VERIFIER_PURE_PYTHON", "") in ("", "0")


use_gmpy2(_env_wants_gmpy2())


def g_pow(x: int, n: int, n2: int) -> Any:
    """g^x mod n² for g = n + 1 and any integer x (docs/protocol.md §1.2): 1 + (x mod n)·n."""
    return mpz((1 + (x % n) * n) % n2)


def product_mod(values: Any, m: Any) -> Any:
    acc = mpz(1)
    for v in values:
        acc = acc * v % m
    return acc
