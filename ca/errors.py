"""The credential authority's one error: the message says what is wrong and what to do."""
from __future__ import annotations


class CAError(Exception):
    """A command cannot be carried out; nothing was written (unless the message says so)."""


class RollRefused(CAError):
    """A roll breaks docs/manifest.md §3; ``problems`` names every problem by file and line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the roll is refused, nothing was issued:\n  " + "\n  ".join(problems))
        self.problems = problems
