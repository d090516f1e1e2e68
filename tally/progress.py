"""Progress bars on stderr for the long stages (click.progressbar), or nothing when quiet."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

import click


@contextmanager
def progress(label: str, length: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not enabled or length <= 0:
        yield lambda _n: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update
