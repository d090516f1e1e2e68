"""The verifier's exceptions (one module per package, style.md §3)."""
from __future__ import annotations


class VerifierError(Exception):
    """Base class of every verifier error."""


class RecordUnreadable(VerifierError):
    """The record cannot be read at all (docs/record.md §5: exit status 2)."""


class InvalidInput(VerifierError):
    """An object from the record is malformed (wrong shape, non-canonical hex, out of range).

    The message names what failed; ``where`` optionally names the offending sub-item
    (e.g. ``"candidate 3"``).
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where
