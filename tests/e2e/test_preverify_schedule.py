"""Scheduled preverification (``ssbvote board preverify``, deploy/systemd/ssbvote-preverify.*):
each pass snapshots the board to its latest signed checkpoint, verifies only what is new, and
leaves its progress in the audit log officials read at /official/audit (issue 20)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.models import AuditEntry
from app.extensions import db
from tests.e2e.test_casting_api import env, signed_in  # noqa: F401  (the fixture)
from tools import preverify_schedule
from tools.cli import main


def preverify_entries() -> list[dict[str, Any]]:
    db.session.expire_all()
    rows = db.session.query(AuditEntry).filter(AuditEntry.action.like("board_preverif%")).order_by(AuditEntry.id)
    found = [{"action": r.action, "actor": r.actor, "subject": r.subject, **json.loads(r.details)} for r in rows]
    db.session.remove()  # SQLite: no transaction left open in the test's own context
    return found


def test_each_pass_verifies_what_is_new_and_is_in_the_audit_log(env: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    app = env["app"]
    first, second = signed_in(env), signed_in(env, index=1)
    for selections in ([1, 0, 0, 0, 0], [0, 1, 0, 0, 0]):
        assert first.cast(selections)[0].status_code == 201
    assert second.cast([0, 0, 1, 0, 0])[0].status_code == 201  # seq 3: a checkpoint (every 3)
    work = tmp_path / "preverify"
    db.session.remove()  # SQLite: the fixture's context holds no transaction while the pass runs

    status = preverify_schedule.run_pass(app, "test-election", work, processes=1)
    assert (status.entries, status.verified_now, status.preverified, status.invalid, status.final) == (3, 2, 2, 0, False)
    assert "board up to entry 3 (signed checkpoint); 2 verified now, 2 preverified in all" in status.line()
    assert not list(work.glob("snapshot-*"))  # the snapshot is not kept

    assert second.cast([0, 0, 0, 1, 0])[0].status_code == 201
    assert first.cast([0, 0, 0, 0, 1])[0].status_code == 201
    assert second.cast([1, 1, 0, 0, 0])[0].status_code == 201  # seq 6: the next checkpoint
    db.session.remove()
    again = preverify_schedule.run_pass(app, "test-election", work, processes=1)
    assert (again.entries, again.verified_now, again.preverified) == (6, 2, 4)

    entries = preverify_entries()
    assert [(e["action"], e["actor"], e["subject"], e["entries"], e["verified_now"], e["preverified"])
            for e in entries] == [("board_preverified", "preverify", "test-election", 3, 2, 2),
                                  ("board_preverified", "preverify", "test-election", 6, 2, 4)]


def test_a_failed_pass_is_recorded_and_reported_in_one_line(env: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    app = env["app"]
    db.session.remove()
    with pytest.raises(preverify_schedule.PreverifyFailed, match="no election named 'no-such'"):
        preverify_schedule.run_pass(app, "no-such", tmp_path / "w", processes=1)
    assert [e["action"] for e in preverify_entries()] == ["board_preverify_failed"]


def test_the_cli_refuses_a_bad_interval() -> None:
    result = CliRunner().invoke(main, ["board", "preverify", "--election", "x", "--work", "/tmp/x",
                                       "--every", "0"], env={"DATABASE_URL": "sqlite:////nonexistent/x.sqlite3"})
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output
