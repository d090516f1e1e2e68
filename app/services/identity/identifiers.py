"""Thai identifiers: the 13-digit national ID and the 10-digit employer account number."""
from __future__ import annotations

import hashlib
import hmac

# The checks live with the roll parser (docs/manifest.md §3.1), which has no Flask.
from election.roll import employer_account_is_valid, national_id_check_digit, national_id_is_valid

__all__ = ["employer_account_is_valid", "national_id_check_digit", "national_id_is_valid", "pseudonym"]


def pseudonym(key: str, election_id: str, electorate: str, voter_key: str) -> str:
    """The voter's public pseudonym: HMAC-SHA256(key, election id ‖ electorate ‖ voter key).

    Keyed so that nobody without the server's key can test a national ID against the board;
    bound to the election so pseudonyms cannot be linked across elections.
    """
    message = f"ssbvote-pseudonym-v1\x00{election_id}\x00{electorate}\x00{voter_key}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]
