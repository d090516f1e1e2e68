"""Paillier public key and ciphertext validation (docs/protocol.md §1.2, §5.1, §8).

We use Paillier with g = n + 1 through ``phe`` (key object, ``raw_encrypt``, ``EncryptedNumber``
for homomorphic addition) and ``gmpy2`` for arithmetic.  ``phe`` does not validate ciphertexts;
:func:`validate_ciphertext` does, and every ciphertext from outside passes through it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence

import gmpy2
from phe import paillier as phe_paillier

from .encoding import hex_to_int, int_to_hex, require_object
from .errors import InvalidInput

#: Production minimum modulus size (§8).  Real elections use DEFAULT_KEY_BITS.
MIN_KEY_BITS = 2048
DEFAULT_KEY_BITS = 3072
#: Test keys (only with ``allow_insecure_test_key=True``) must still be at least this large, so
#: that 128-bit challenges stay below the smallest prime factor of n (§3, §8).
MIN_TEST_KEY_BITS = 512
MAX_KEY_BITS = 8192


def check_key_size(bits: int, allow_insecure_test_key: bool) -> None:
    """Key size policy (docs/protocol.md §8)."""
    if bits > MAX_KEY_BITS:
        raise InvalidInput(f"public key: modulus of {bits} bits exceeds {MAX_KEY_BITS}")
    if bits < MIN_KEY_BITS and not allow_insecure_test_key:
        raise InvalidInput(
            f"public key: modulus of {bits} bits is below the production minimum of "
            f"{MIN_KEY_BITS} bits (pass allow_insecure_test_key=True only in tests)"
        )
    if bits < MIN_TEST_KEY_BITS:
        raise InvalidInput(f"public key: modulus of {bits} bits is below {MIN_TEST_KEY_BITS} bits")


@dataclass(frozen=True)
class PublicKey:
    """Paillier public key n with g = n + 1 (docs/protocol.md §1.2).

    Construction enforces the key size policy of §8: a modulus below 2048 bits is refused unless
    ``allow_insecure_test_key`` is set.
    """

    n: int
    allow_insecure_test_key: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = self.n
        if isinstance(n, bool) or not isinstance(n, int):
            raise InvalidInput("public key: n must be an integer")
        if n <= 0 or n % 2 == 0:
            raise InvalidInput("public key: n must be a positive odd integer")
        check_key_size(n.bit_length(), self.allow_insecure_test_key)
        if gmpy2.is_square(n) or gmpy2.is_prime(n):
            raise InvalidInput("public key: n must be a product of two distinct primes")

    @cached_property
    def n_mpz(self) -> Any:
        return gmpy2.mpz(self.n)

    @cached_property
    def n_square(self) -> Any:
        return gmpy2.mpz(self.n) * self.n

    @cached_property
    def half_n(self) -> int:
        """(n - 1) / 2: responses are normalised to at most this value (§5.3)."""
        return (self.n - 1) // 2

    @cached_property
    def phe_key(self) -> phe_paillier.PaillierPublicKey:
        return phe_paillier.PaillierPublicKey(self.n)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape ``{"n": hex}`` (docs/protocol.md §9.1)."""
        return {"n": int_to_hex(self.n)}

    @classmethod
    def from_dict(cls, obj: Any, *, allow_insecure_test_key: bool = False) -> "PublicKey":
        data = require_object(obj, {"n"}, "public key")
        n = hex_to_int(data["n"], "public key n", lower=1)
        return cls(n, allow_insecure_test_key)


def g_power(pk: PublicKey, exponent: int) -> Any:
    """g^x mod n² = 1 + (x mod n)·n, valid because g = n + 1 (§1.2)."""
    return (1 + (exponent % pk.n) * pk.n_mpz) % pk.n_square


def validate_ciphertext(pk: PublicKey, c: int, what: str = "ciphertext") -> Any:
    """Check 0 < c < n² and gcd(c, n) = 1 (docs/protocol.md §5.1); return c as mpz."""
    if isinstance(c, bool) or not isinstance(c, int) and type(c).__name__ != "mpz":
        raise InvalidInput(f"{what}: not an integer")
    if not 0 < c < pk.n_square:
        raise InvalidInput(f"{what}: not in the range 0 < c < n²")
    if gmpy2.gcd(c, pk.n) != 1:
        raise InvalidInput(f"{what}: not coprime to n")
    return gmpy2.mpz(c)


def parse_ciphertext(pk: PublicKey, text: Any, what: str = "ciphertext") -> Any:
    """Strict hex parse then :func:`validate_ciphertext`."""
    return validate_ciphertext(pk, hex_to_int(text, what, lower=1, upper=int(pk.n_square)), what)


def check_units(pk: PublicKey, values: Iterable[Any], what: str) -> None:
    """Check that every value is coprime to n with one gcd (§5.4).

    gcd(∏ x mod n, n) = 1 iff every x is coprime to n, because the primes of n divide a product
    only if they divide a factor.  On failure we look for the culprit to name it.
    """
    values = list(values)
    n = pk.n_mpz
    acc = gmpy2.mpz(1)
    for x in values:
        acc = acc * x % n
    if gmpy2.gcd(acc, n) != 1:
        for index, x in enumerate(values):
            if gmpy2.gcd(x, n) != 1:
                raise InvalidInput(f"{what} {index}: not coprime to n")
        raise InvalidInput(f"{what}: not coprime to n")  # pragma: no cover


def encrypt(pk: PublicKey, m: int, r: int) -> Any:
    """Enc(m; r) = g^m · r^n mod n² via ``phe.raw_encrypt`` (§5.1); r ∈ Z*_n is the caller's."""
    if not 0 <= m < pk.n:
        raise InvalidInput("plaintext out of range")
    if not 0 < r < pk.n or gmpy2.gcd(r, pk.n) != 1:
        raise InvalidInput("encryption randomness not in Z*_n")
    return gmpy2.mpz(pk.phe_key.raw_encrypt(int(m), r_value=int(r)))


def add_ciphertexts(pk: PublicKey, ciphertexts: Sequence[int]) -> int:
    """Homomorphic sum: ∏ c_i mod n² encrypts Σ m_i (§6.1); uses ``phe.EncryptedNumber``."""
    if not ciphertexts:
        return int(encrypt(pk, 0, 1))
    total = phe_paillier.EncryptedNumber(pk.phe_key, int(ciphertexts[0]))
    for c in ciphertexts[1:]:
        total = total + phe_paillier.EncryptedNumber(pk.phe_key, int(c))
    return int(total.ciphertext(be_secure=False))


def recover_plaintext_with_randomness(pk: PublicKey, c: int, r: int) -> int:
    """m from c · r^(−n) mod n² = 1 + m·n (cast-as-intended, §5.6); InvalidInput if not."""
    residue = gmpy2.powmod(r, -pk.n_mpz, pk.n_square) * c % pk.n_square
    if residue % pk.n != 1:
        raise InvalidInput("ciphertext was not made with the randomness derived from this seed")
    return int((residue - 1) // pk.n)


def public_key_from_mapping(data: Mapping[str, Any], allow_insecure_test_key: bool) -> PublicKey:
    return PublicKey.from_dict(data, allow_insecure_test_key=allow_insecure_test_key)
