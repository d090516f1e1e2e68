"""Exceptions of the crypto package (docs/protocol.md §1.3).

Every untrusted value that fails validation raises :class:`InvalidInput` with a human message
naming what failed; callers catch one type.  :class:`InvalidProof` is the subclass raised when a
value is well-formed but a zero-knowledge proof does not verify.
"""
from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error raised by ``crypto``."""


class InvalidInput(CryptoError, ValueError):
    """An untrusted value (key, ballot, proof, share, file, parameter) failed validation."""


class InvalidProof(InvalidInput):
    """A well-formed zero-knowledge proof did not verify."""
