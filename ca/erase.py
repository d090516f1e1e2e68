"""Erasing the private credentials after delivery (docs/record.md §6.1).

Every file under ``DIR/letters/`` (the letters and the mail-merge CSVs: the only files with
private credentials) is overwritten with zeros, flushed to disk, and deleted, then the folder.
On SSDs and copy-on-write or journalling file systems an overwrite may not reach every old
block: keep the CA's folder on an encrypted volume and destroy the volume's key (or the disk)
as well.  Printed copies the CA keeps must be shredded by hand.
"""
from __future__ import annotations

import os
from pathlib import Path

from .letters import LETTERS

_BLOCK = 1 << 16


def _overwrite(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b", buffering=0) as handle:
        zeros = bytes(_BLOCK)
        left = size
        while left > 0:
            left -= handle.write(zeros[:min(left, _BLOCK)])
        os.fsync(handle.fileno())


def erase_letters(out_dir: Path) -> int:
    """Overwrite and delete ``DIR/letters``; the number of files erased (0 if none)."""
    letters = out_dir / LETTERS
    if not letters.exists():
        return 0
    count = 0
    for root, dirs, names in os.walk(letters, topdown=False):
        for name in names:
            path = Path(root) / name
            if not path.is_symlink():
                _overwrite(path)
            path.unlink()
            count += 1
        for name in dirs:
            (Path(root) / name).rmdir()
    letters.rmdir()
    return count
