"""Paillier public key and ciphertext validation (docs/protocol.md §1.2, §5.1, §8).

Paillier with g = n + 1; the arithmetic is gmpy2 (crypto.hazmat.paillier).  Every ciphertext
from outside passes through :func:`validate_ciphertext` (or the ballot verifier's equivalent
checks) before it is used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence

from .encoding import hex_to_int, int_to_hex, require_object
from .errors import InvalidInput
from .hazmat.gmp import GroupElement, gcd, is_prime, is_square, mpz
from .hazmat.fixedbase import PROVER_WINDOW_BITS, VERIFIER_WINDOW_BITS, FixedBaseTable, cached_table
from .hazmat.paillier import all_units, raw_encrypt, raw_product
from .keyproofs import short_base

#: Production minimum modulus size (protocol.md §8).  Real elections use DEFAULT_KEY_BITS.
MIN_KEY_BITS = 2048
DEFAULT_KEY_BITS = 3072
#: Test keys (only with ``allow_insecure_test_key=True``) must still be at least this large, so
#: that 128-bit challenges stay below the smallest prime factor of n (§3, protocol.md §8).
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

    Construction enforces the key size policy of protocol.md §8: a modulus below 2048 bits is refused unless
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
        if is_square(n) or is_prime(n):
            raise InvalidInput("public key: n must be a product of two distinct primes")

    @cached_property
    def n_mpz(self) -> mpz:
        return mpz(self.n)

    @cached_property
    def n_square(self) -> mpz:
        return mpz(self.n * self.n)

    @cached_property
    def half_n(self) -> int:
        """(n - 1) / 2: responses are normalised to at most this value (protocol.md §5.3)."""
        return (self.n - 1) // 2

    @cached_property
    def short_base(self) -> mpz:
        """h_s, the ballots' fixed base derived from n (protocol.md §5.0)."""
        return short_base(self.n)

    @cached_property
    def short_bits(self) -> int:
        """A = ⌈bits(n)/2⌉: the length of the short exponents α (protocol.md §1.2, §5.0)."""
        return (self.n.bit_length() + 1) // 2

    @cached_property
    def short_table(self) -> FixedBaseTable:
        """The prover's fixed-base table of h_s (protocol.md §5.7), built once per process and key:
        12-bit windows (≈ 230 MB at 2048-bit n) for exponents up to A + 224 bits — every power a
        ballot needs (the longest: A + bits(N) + 208, N ≤ 1000); longer exponents use powmod."""
        return cached_table(int(self.short_base), int(self.n_square), self.short_bits + 224, PROVER_WINDOW_BITS)

    @property
    def short_verify_table(self) -> FixedBaseTable:
        """A small table of h_s for verifying and opening (6-bit windows, ≈ 8 MB at 2048-bit n)
        for exponents up to A + 320 bits — the batch exponent Σ δ·z (protocol.md §7.1) included."""
        return cached_table(int(self.short_base), int(self.n_square), self.short_bits + 320, VERIFIER_WINDOW_BITS)

    def short_power(self, exponent: int) -> GroupElement:
        """h_s^exponent mod n² for any integer exponent (negative: the inverse) (protocol.md §5.0),
        from the prover's table."""
        return self.short_table.power(exponent)

    def short_power_verify(self, exponent: int) -> GroupElement:
        """h_s^exponent mod n² from the verifier's (small) table (protocol.md §5.4, §7.1)."""
        return self.short_verify_table.power(exponent)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape ``{"n": hex}`` (docs/protocol.md §9.1)."""
        return {"n": int_to_hex(self.n)}

    @classmethod
    def from_dict(cls, obj: Any, *, allow_insecure_test_key: bool = False) -> "PublicKey":
        data = require_object(obj, {"n"}, "public key")
        n = hex_to_int(data["n"], "public key n", lower=1)
        return cls(n, allow_insecure_test_key)


def validate_ciphertext(pk: PublicKey, c: object, what: str = "ciphertext") -> mpz:
    """Check 0 < c < n² and gcd(c, n) = 1 (docs/protocol.md §5.1); return c as mpz."""
    if isinstance(c, bool) or not isinstance(c, (int, mpz)):
        raise InvalidInput(f"{what}: not an integer")
    if not 0 < c < pk.n_square:
        raise InvalidInput(f"{what}: not in the range 0 < c < n²")
    if gcd(c, pk.n) != 1:
        raise InvalidInput(f"{what}: not coprime to n")
    return mpz(c)


def parse_ciphertext(pk: PublicKey, text: object, what: str = "ciphertext") -> mpz:
    """Strict hex parse then :func:`validate_ciphertext`."""
    return validate_ciphertext(pk, hex_to_int(text, what, lower=1, upper=int(pk.n_square)), what)


def check_units(pk: PublicKey, values: Iterable[GroupElement], what: str) -> None:
    """Check that every value is coprime to n with one gcd (protocol.md §5.4).

    gcd(∏ x mod n, n) = 1 iff every x is coprime to n, because the primes of n divide a product
    only if they divide a factor.  On failure we look for the culprit to name it.
    """
    values = list(values)
    n = pk.n_mpz
    if not all_units(n, values):
        for index, x in enumerate(values):
            if gcd(x, n) != 1:
                raise InvalidInput(f"{what} {index}: not coprime to n")
        raise InvalidInput(f"{what}: not coprime to n")  # pragma: no cover


def encrypt(pk: PublicKey, m: int, r: int) -> GroupElement:
    """Enc(m; r) = g^m · r^n mod n² (§5.1) after checking 0 ≤ m < n and r ∈ Z*_n.

    r is the caller's and must be fresh and secret: ballots draw theirs from the seed (§4)."""
    if not 0 <= m < pk.n:
        raise InvalidInput("plaintext out of range")
    if not 0 < r < pk.n or gcd(r, pk.n) != 1:
        raise InvalidInput("encryption randomness not in Z*_n")
    return raw_encrypt(pk, m, r)


def add_ciphertexts(pk: PublicKey, ciphertexts: Sequence[object]) -> int:
    """Homomorphic sum (aggregation, §6.1): ∏ c_i mod n² encrypts Σ m_i.  Every c_i is
    validated first (:func:`validate_ciphertext`); no ciphertext gives the encryption of 0 with
    r = 1, i.e. 1."""
    checked = [validate_ciphertext(pk, c, f"ciphertext {i}") for i, c in enumerate(ciphertexts)]
    return int(raw_product(pk, checked))


def public_key_from_mapping(data: Mapping[str, Any], allow_insecure_test_key: bool) -> PublicKey:
    return PublicKey.from_dict(data, allow_insecure_test_key=allow_insecure_test_key)
