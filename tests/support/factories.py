"""Small builders for test data: manifests, rolls, national IDs."""
from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from app.services.identifiers import national_id_check_digit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def demo_manifest() -> dict[str, Any]:
    return json.loads((EXAMPLES / "demo-manifest.json").read_text(encoding="utf-8"))


def small_manifest(slug: str = "test-election", insured: int = 5, employer: int = 4,
                   k_insured: int = 2, k_employer: int = 2) -> dict[str, Any]:
    """A compact two-contest manifest for fast tests."""
    def text(th: str, en: str) -> dict[str, str]:
        return {"th": th, "en": en}

    return {
        "format": "ssbvote-manifest/1",
        "election": slug,
        "title": text("การเลือกตั้งทดสอบ", "Test election"),
        "poll_window": {"opens": "2026-01-01T08:00:00+07:00", "closes": "2030-01-01T16:00:00+07:00"},
        "contests": [
            {"id": "insured", "electorate": "insured", "max_selections": k_insured,
             "title": text("ผู้ประกันตน", "Insured"),
             "teams": [{"id": "A", "name": text("ทีมเอ", "Team A")},
                       {"id": "B", "name": text("ทีมบี", "Team B")}],
             "candidates": [{"id": f"I{i}", "number": i, "name": text(f"ผู้สมัคร {i}", f"Candidate {i}"),
                             "team": "A" if i % 2 else "B"} for i in range(1, insured + 1)]},
            {"id": "employer", "electorate": "employer", "max_selections": k_employer,
             "title": text("นายจ้าง", "Employers"), "teams": [],
             "candidates": [{"id": f"M{i}", "number": i, "name": text(f"นายจ้าง {i}", f"Employer {i}"),
                             "team": None} for i in range(1, employer + 1)]},
        ],
    }


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


def national_ids(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count:
        prefix = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
        out.add(prefix + national_id_check_digit(prefix))
    return sorted(out)


def insured_csv(ids: list[str]) -> str:
    lines = ["national_id,date_of_birth,name"]
    lines += [f"{nid},1980-01-{(i % 28) + 1:02d},Voter {i}" for i, nid in enumerate(ids)]
    return "\n".join(lines) + "\n"


def employer_csv(rows: list[tuple[str, str]]) -> str:
    lines = ["employer_account,authorised_national_id,employer_name"]
    lines += [f"{acct},{person},Company {i}" for i, (acct, person) in enumerate(rows)]
    return "\n".join(lines) + "\n"
