"""Password hashing (argon2id) and the password policy (OWASP ASVS V2.1).

Policy: at least 10 characters, at most 128; not in the shipped list of common passwords;
not the voter's own identifier. No composition rules (NIST SP 800-63B §5.1.1.2).
Argon2 parameters are argon2-cffi's defaults (RFC 9106 "low memory" profile); tests may
lower them through ``app.config`` (ARGON2_*), production never does.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

MIN_LENGTH = 10
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[2] / "data" / "common-passwords.txt"

_PRODUCTION = PasswordHasher()


class PasswordRejected(ValueError):
    """A new password does not meet the policy; ``reason`` is one of the REASONS keys."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


REASONS = ("too_short", "too_long", "common", "contains_identifier", "mismatch")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(_normalise(line).casefold() for line in lines if line and not line.startswith("#"))


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, identifiers: tuple[str, ...] = ()) -> None:
    """Raise :class:`PasswordRejected` unless ``password`` may be chosen as a new password."""
    normalised = _normalise(password)
    if len(normalised) < MIN_LENGTH:
        raise PasswordRejected("too_short")
    if len(normalised) > MAX_LENGTH:
        raise PasswordRejected("too_long")
    folded = normalised.casefold()
    if folded in common_passwords():
        raise PasswordRejected("common")
    if any(ident and ident.casefold() in folded for ident in identifiers):
        raise PasswordRejected("contains_identifier")


def hasher() -> PasswordHasher:
    """The app's hasher: production parameters unless a non-production config lowers them."""
    if not has_app_context():
        return _PRODUCTION
    app = current_app
    cached = app.extensions.get("ssbvote_password_hasher")
    if cached is None:
        cfg = app.config
        if app.config["SSBVOTE"].is_production or "ARGON2_TIME_COST" not in cfg:
            cached = _PRODUCTION
        else:
            cached = PasswordHasher(
                time_cost=int(cfg["ARGON2_TIME_COST"]),
                memory_cost=int(cfg.get("ARGON2_MEMORY_COST", 8)),
                parallelism=int(cfg.get("ARGON2_PARALLELISM", 1)),
            )
        app.extensions["ssbvote_password_hasher"] = cached
    return cached


def hash_password(password: str) -> str:
    return hasher().hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, _normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def dummy_verify(password: str) -> None:
    """Spend the same argon2 work as a real check, for IDs that have no account.

    Without it the response time would tell an attacker which IDs are registered.
    """
    app_key = "ssbvote_dummy_hash"
    store = current_app.extensions if has_app_context() else {}
    dummy = store.get(app_key)
    if dummy is None:
        dummy = hasher().hash("not-a-password-of-anyone")
        store[app_key] = dummy
    verify_password(dummy, password)
