"""Checks 1–2 (docs/record.md §5): the record itself — its files and their hashes."""
from __future__ import annotations

from typing import Any

from verifier.checks.context import HEX64_RE, CheckResult, Context, record_json
from verifier.encoding import expect_object
from verifier.errors import InvalidInput
from verifier.hashing import object_hash
from verifier.record import FORMAT, HASHES, OPTIONAL_FILES, REQUIRED_FILES, SHARE_FILE_RE, WITNESS_FILE_RE


def check_01_record_format(ctx: Context) -> CheckResult:
    res = CheckResult(1, "record.format")
    rec = ctx.record
    fmt: dict[str, Any] = rec.json[FORMAT]  # a dict: load_record checked it (exit 2 otherwise)
    if set(fmt) != {"format", "version"}:
        res.fail("format.shape", {"file": FORMAT})
    for rel in REQUIRED_FILES:
        if not rec.has(rel):
            res.fail("format.missing", {"file": rel})
    if not rec.share_files():
        res.fail("format.no_shares", {"file": "tally/decryption_shares/"})
    for rel in rec.names():
        if (rel not in REQUIRED_FILES and rel not in OPTIONAL_FILES and not SHARE_FILE_RE.match(rel)
                and not WITNESS_FILE_RE.match(rel)):  # witnesses/<name>.json: record.md §3.5
            res.fail("format.unexpected", {"file": rel})
    res.note("format.version", version=fmt.get("version"), files=len(rec.names()))
    return res


def check_02_record_hashes(ctx: Context) -> CheckResult:
    res = CheckResult(2, "record.hashes")
    hashes = record_json(ctx, HASHES)
    if hashes is None:
        res.fail("hashes.missing", {"file": HASHES})
        return res
    try:
        expect_object(hashes, ("files", "record_hash"), "HASHES")
        files = hashes["files"]
        if not isinstance(files, dict):
            raise InvalidInput("HASHES.files: not an object")
        for rel, h in files.items():
            if not isinstance(h, str) or not HEX64_RE.match(h):
                raise InvalidInput(f"HASHES.files[{rel}]: not a SHA-256 hex digest")
    except InvalidInput as exc:
        res.fail("hashes.shape", {"file": HASHES}, error=str(exc))
        return res
    for rel in ctx.record.names():
        if rel == HASHES:
            continue
        if rel not in files:
            res.fail("hashes.unlisted", {"file": rel})
        elif ctx.record.sha256(rel) != files[rel]:
            res.fail("hashes.mismatch", {"file": rel})
    for rel in files:
        if not ctx.record.has(rel) or rel == HASHES:
            res.fail("hashes.absent", {"file": rel})
    if object_hash(files) != hashes["record_hash"]:
        res.fail("hashes.record_hash", {"file": HASHES})
    res.note("hashes.record", record_hash=str(hashes["record_hash"]), files=len(files))
    return res
