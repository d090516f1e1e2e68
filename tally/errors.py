"""Exceptions of the tally (one base type; the CLI prints its message and exits 1)."""
from __future__ import annotations


class TallyError(Exception):
    """The tally cannot proceed; the message says why and what to do."""


class BoardRefused(TallyError):
    """The board export is not a valid closed board (docs/record.md §3)."""


class ShareRejected(TallyError):
    """A trustee's decryption share file is malformed or its proofs fail (names the trustee)."""
