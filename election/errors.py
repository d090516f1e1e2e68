"""Exceptions of the election package; each message names the file, line or field at fault."""
from __future__ import annotations


class ManifestInvalid(ValueError):
    """A manifest breaks docs/manifest.md §1; ``problems`` lists every problem (manifest.md §2)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ExportError(Exception):
    """A board export (docs/record.md §3) cannot be used."""


class ExportUnreadable(ExportError):
    """A file of the export is missing or cannot be read as JSON / JSON lines."""


class BoardInvalid(ExportError):
    """A file of the export is readable but breaks docs/record.md §1–§3."""
