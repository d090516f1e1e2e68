"""Errors the service layer raises for bad input; views and CLIs turn them into messages."""
from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; the message is safe to show to the user."""


class InputFileError(ServiceError):
    """An uploaded or imported file is invalid. Nothing from it was stored.

    ``problems`` holds one line per problem, each naming the line (or field) at fault.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        shown = problems[:50]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(
            f"{source}: {len(problems)} problem(s), nothing was imported:\n  "
            + "\n  ".join(shown)
            + more
        )
