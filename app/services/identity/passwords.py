"""Password hashing (argon2id) and the password policy (OWASP ASVS V2.1).

Policy: at least 10 characters, at most 128; not the voter's own identifier; not a known or
easily guessed password (NIST SP 800-63B §5.1.1.2: a blocklist, no composition rules):

- the 30,000 most common passwords of the maintained list that the ``zxcvbn`` package ships
  (its ``passwords`` frequency list), plus our own ``app/data/common-passwords.txt``;
- Thai-context patterns a guesser tries first: a Thai phone number (``0812345678``,
  ``+66812345678``), a 13-digit national-ID-like number, a date, digits only, and this service's
  name with a year or other service words (``ssbvote2026``, ``SSB-Vote-2569``);
- what zxcvbn estimates at fewer than 10^6 guesses (keyboard walks, repeats, sequences, common
  words with digits), with this service's words and the voter's identifiers as its dictionary.
Argon2 parameters are argon2-cffi's defaults (RFC 9106 "low memory" profile); tests may
lower them through ``app.config`` (ARGON2_*), production never does.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[2] / "data" / "common-passwords.txt"
#: Words of this service and its context: a password made only of them and digits is guessed
#: first by anyone attacking this site.
SERVICE_WORDS = ("ssbvote", "ssb", "sso", "vote", "voter", "voting", "election", "board",
                 "socialsecurity", "social", "security", "prakansangkhom", "thailand", "thai",
                 "ประกันสังคม", "เลือกตั้ง", "สปส")


def _compact(text: str) -> str:
    """Letters and digits only (separators, symbols and Thai vowel marks dropped)."""
    return "".join(ch for ch in text if ch.isalnum())


_SERVICE_ONLY = re.compile("^(?:" + "|".join(sorted({re.escape(_compact(w)) for w in SERVICE_WORDS},
                                                     key=len, reverse=True)) + r"|\d)+$")
#: Thai mobile (06/08/09 + 8 digits) and landline (02–07 + 7 digits) numbers, with or without
#: the +66 country code.
_THAI_PHONE = re.compile(r"^(?:0|66)(?:[689]\d{8}|[2-7]\d{7})$")
#: zxcvbn's estimate below which a password is refused (score 2: at least 10^6 guesses).
MIN_ZXCVBN_SCORE = 2
_ZXCVBN_MAX = 72

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
    ours = (line for line in lines if line and not line.startswith("#"))
    listed = FREQUENCY_LISTS["passwords"]
    return frozenset(_normalise(word).casefold() for source in (ours, listed) for word in source)


def guessable(password: str, identifiers: tuple[str, ...] = ()) -> bool:
    """A known password, a Thai-context pattern, or fewer than 10^6 guesses by zxcvbn."""
    folded = _normalise(password).casefold()
    if folded in common_passwords():
        return True
    compact = _compact(folded)
    if compact.isdigit():  # phone numbers, national IDs, dates, PINs: digits only
        return True
    if _THAI_PHONE.match(compact) or _SERVICE_ONLY.match(compact):
        return True
    inputs = [*SERVICE_WORDS, *(i for i in identifiers if i)]
    return int(zxcvbn(folded[:_ZXCVBN_MAX], user_inputs=inputs)["score"]) < MIN_ZXCVBN_SCORE


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
    if any(ident and ident.casefold() in folded for ident in identifiers):
        raise PasswordRejected("contains_identifier")
    if guessable(normalised, identifiers):
        raise PasswordRejected("common")


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
