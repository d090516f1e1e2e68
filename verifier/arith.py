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
BACKEND = "python"


def _py_invert(x: int, m: int) -> int:
    return pow(x, -1, m)


def _py_from_bytes(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


_MPZ_FROM_BYTES = getattr(_gmpy2.mpz, "from_bytes", None) if _gmpy2 is not None else None


def _gmpy2_from_bytes(raw: bytes) -> Any:
    assert _gmpy2 is not None
    if _MPZ_FROM_BYTES is not None:  # gmpy2 ≥ 2.2: no detour through int
        return _MPZ_FROM_BYTES(raw, "big")
    return _gmpy2.mpz(int.from_bytes(raw, "big"))  # pragma: no cover - older gmpy2


def use_gmpy2(enabled: bool) -> str:
    """Select the backend; returns its name (``"gmpy2"`` or ``"python"``)."""
    global powmod, invert, gcd, isqrt, mpz, from_bytes, BACKEND
    if enabled and _gmpy2 is not None:
        powmod = _gmpy2.powmod
        invert = _gmpy2.invert
        gcd = _gmpy2.gcd
        isqrt = _gmpy2.isqrt
        mpz = _gmpy2.mpz
        from_bytes = _gmpy2_from_bytes
        BACKEND = "gmpy2"
    else:
        powmod = pow
        invert = _py_invert
        gcd = math.gcd
        isqrt = math.isqrt
        mpz = int
        from_bytes = _py_from_bytes
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
