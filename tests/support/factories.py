"""Small builders for test data: manifests, rolls, national IDs.

The manifest and roll builders are tools/scenario.py's (benchmarks use them too); ``mutated``
is the tests' own.
"""
from __future__ import annotations

import copy
from typing import Any

from tools.scenario import EXAMPLES, employer_csv, insured_csv, load_manifest, national_ids, small_manifest

__all__ = ["DELETE", "EXAMPLES", "demo_manifest", "employer_csv", "insured_csv", "mutated", "national_ids",
           "small_manifest"]


def demo_manifest() -> dict[str, Any]:
    return load_manifest(EXAMPLES / "demo-manifest.json")


def mutated(manifest: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Copy of ``manifest`` with the dotted ``path`` (list indexes as numbers) set to value."""
    result = copy.deepcopy(manifest)
    target: Any = result
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is _DELETE:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return result


_DELETE = object()
DELETE = _DELETE
