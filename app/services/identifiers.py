"""Thai identifiers: the 13-digit national ID and the 10-digit employer account number."""
from __future__ import annotations

import hashlib
import hmac


def national_id_is_valid(value: str) -> bool:
    """True if ``value`` is 13 digits whose last digit is the mod-11 check digit.

    The check digit is (11 − Σ dᵢ·(14−i) mod 11) mod 10 over the first twelve digits dᵢ.
    """
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(value[i]) * (13 - i) for i in range(12))
    return (11 - total % 11) % 10 == int(value[12])


def national_id_check_digit(first_twelve: str) -> str:
    """The check digit that completes a 12-digit prefix (used by the demo roll generator)."""
    total = sum(int(first_twelve[i]) * (13 - i) for i in range(12))
    return str((11 - total % 11) % 10)


def employer_account_is_valid(value: str) -> bool:
    """Employer account numbers of the Social Security Office are 10 digits."""
    return len(value) == 10 and value.isascii() and value.isdigit()


def pseudonym(key: str, election_id: str, electorate: str, voter_key: str) -> str:
    """The voter's public pseudonym: HMAC-SHA256(key, election id ‖ electorate ‖ voter key).

    Keyed so that nobody without the server's key can test a national ID against the board;
    bound to the election so pseudonyms cannot be linked across elections.
    """
    message = f"ssbvote-pseudonym-v1\x00{election_id}\x00{electorate}\x00{voter_key}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]
