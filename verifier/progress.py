"""A dependency-free progress bar on stderr (long work shows a progress bar, style.md §7)."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws one line on ``stream``; ``update(phase, done, total)`` is the Options callback."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30,
                 min_interval: float = 0.1) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.min_interval = min_interval
        self._last = 0.0
        self._start = time.monotonic()

    def update(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = int(self.width * frac)
        rate = done / (now - self._start) if now > self._start and done else 0.0
        eta = f" ETA {int((total - done) / rate)}s" if rate and done < total else ""
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}{eta}   ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
