"""Rendering a verification as a human-readable report (en/th) or as JSON (``--json``)."""
from __future__ import annotations

import json
from typing import Any

from verifier import i18n
from verifier.checks import CheckResult, Finding, Verification
from verifier.auditcode import AuditResult
from verifier.receipt import ReceiptResult

REPORT_FORMAT = "ssbvote-verification"
SHOWN_PER_CHECK = 20


def exit_code(verification: Verification) -> int:
    return 0 if verification.ok else 1


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "message": i18n.message(f.code, f.params, "en"),
            "params": f.params, "item": f.item}


def _check_json(r: CheckResult, lang: str) -> dict[str, Any]:
    return {"number": r.number, "name": r.name, "title": i18n.check_title(r.name, lang),
            "status": "pass" if r.passed else "fail", "failure_count": r.failure_count,
            "failures": [_finding_json(f) for f in r.failures],
            "notes": [_finding_json(f) for f in r.notes]}


def to_json(verification: Verification, lang: str = "en") -> str:
    doc = {"format": REPORT_FORMAT, "version": 1, "record": str(verification.record),
           "election_id": verification.election_id, "ok": verification.ok,
           "exit_code": exit_code(verification), "error": None,
           "checks": [_check_json(r, lang) for r in verification.results]}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str)


def unreadable_json(record: str, error: str) -> str:
    doc = {"format": REPORT_FORMAT, "version": 1, "record": record, "election_id": None,
           "ok": False, "exit_code": 2, "error": error, "checks": []}
    return json.dumps(doc, ensure_ascii=False, indent=1)


def _line(f: Finding, lang: str) -> str:
    where = i18n.item_text(f.item, lang)
    text = i18n.message(f.code, f.params, lang)
    return f"{where}: {text}" if where else text


def to_text(verification: Verification, lang: str = "en", verbose: bool = False) -> str:
    out = [i18n.ui("title", lang),
           f"{i18n.ui('record', lang)}: {verification.record}",
           f"{i18n.ui('election_id', lang)}: {verification.election_id or '—'}", ""]
    for r in verification.results:
        status = i18n.ui("pass" if r.passed else "fail", lang)
        out.append(f"[{status:^4}] {r.number:2d} {r.name} — {i18n.check_title(r.name, lang)}")
        for note in r.notes:
            out.append(f"          · {_line(note, lang)}")
        limit = None if verbose else SHOWN_PER_CHECK
        for f in r.failures[:limit]:
            out.append(f"          ✗ {_line(f, lang)}")
        hidden = r.failure_count - (len(r.failures) if limit is None
                                    else min(len(r.failures), limit))
        if hidden > 0:
            out.append("          " + i18n.ui("more", lang, count=hidden))
    out.append("")
    failed = [r for r in verification.results if not r.passed]
    total = len(verification.results)
    if failed:
        out.append(i18n.ui("some_failed", lang, failed=len(failed), total=total,
                           names=", ".join(f"{r.number} {r.name}" for r in failed)))
    else:
        out.append(i18n.ui("all_passed", lang, total=total))
    return "\n".join(out) + "\n"


# --- voter mode (docs/record.md §5.1) ---------------------------------------------------------

RECEIPT_REPORT_FORMAT = "ssbvote-receipt-check"
ON_BOARD = ("counted", "superseded", "paper_vote", "revoked", "invalid", "unlisted")


def receipt_text(result: ReceiptResult, lang: str = "en") -> str:
    out = [i18n.receipt_text("title", lang), ""]
    if result.status in ON_BOARD:
        out.append(i18n.receipt_text("on_board", lang, **result.params))
    out.append(i18n.receipt_text(result.status, lang, **result.params))
    out += ["", i18n.receipt_text("full_check", lang)]
    return "\n".join(out) + "\n"


def receipt_json(result: ReceiptResult, record: str, receipt: str, lang: str = "en") -> str:
    doc = {"format": RECEIPT_REPORT_FORMAT, "version": 1, "record": record, "receipt": receipt,
           "status": result.status, "on_board": result.status in ON_BOARD,
           "exit_code": result.exit_code, "params": result.params,
           "message": i18n.receipt_text(result.status, lang, **result.params)}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str)


# --- tracker lookup and audit check (docs/record.md §5.1) -------------------------------------

TRACKER_REPORT_FORMAT = "ssbvote-tracker-check"
AUDIT_REPORT_FORMAT = "ssbvote-audit-check"
TRACKER_FOUND = ("counted", "superseded", "audited", "paper_vote", "revoked", "invalid",
                 "unlisted", "audit_misfiled")


def tracker_text(result: ReceiptResult, lang: str = "en") -> str:
    out = [i18n.mode_text(i18n.TRACKER, "title", lang), ""]
    if result.status in TRACKER_FOUND:
        out.append(i18n.mode_text(i18n.TRACKER, "on_board", lang, **result.params))
    out.append(i18n.mode_text(i18n.TRACKER, result.status, lang, **result.params))
    out += ["", i18n.mode_text(i18n.TRACKER, "full_check", lang)]
    return "\n".join(out) + "\n"


def tracker_json(result: ReceiptResult, record: str, tracker: str, lang: str = "en") -> str:
    doc = {"format": TRACKER_REPORT_FORMAT, "version": 1, "record": record, "tracker": tracker,
           "status": result.status, "on_board": result.status in TRACKER_FOUND,
           "exit_code": result.exit_code, "params": result.params,
           "message": i18n.mode_text(i18n.TRACKER, result.status, lang, **result.params)}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str)


def audit_text(result: AuditResult, lang: str = "en") -> str:
    """The opened choices by candidate number and name (both languages' names when the report
    is in Thai: the ballot paper shows the Thai name)."""
    out = [i18n.mode_text(i18n.AUDIT, "title", lang), ""]
    out.append(i18n.mode_text(i18n.AUDIT, result.status, lang, **result.params))
    if result.status == "opened":
        title = result.title.get(lang) or result.title.get("en") or ""
        out += ["", f"{title} ({result.params.get('contest', '')})"]
        for number, name, chosen in result.choices:
            mark = "[X]" if chosen else "[ ]"
            label = name.get(lang) or name.get("en") or ""
            word = i18n.mode_text(i18n.AUDIT, "chosen" if chosen else "not_chosen", lang)
            out.append(f"  {mark} {number:>3}  {label} — {word}")
        if not any(chosen for _, _, chosen in result.choices):
            out.append(i18n.mode_text(i18n.AUDIT, "none_chosen", lang))
        out += ["", i18n.mode_text(i18n.AUDIT, "audited_only", lang)]
    return "\n".join(out) + "\n"


def audit_json(result: AuditResult, record: str, code: str, lang: str = "en") -> str:
    doc = {"format": AUDIT_REPORT_FORMAT, "version": 1, "record": record, "code": code,
           "status": result.status, "opened": result.status == "opened",
           "exit_code": result.exit_code, "params": result.params,
           "choices": [{"number": number, "name": name, "chosen": chosen}
                       for number, name, chosen in result.choices],
           "message": i18n.mode_text(i18n.AUDIT, result.status, lang, **result.params)}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str)
