"""Backup and restore drill (issue 20, docs/operations.md §6): pg_dump of the live database while
voters cast, restored on a fresh PostgreSQL server; there the election is closed, exported,
tallied, decrypted and the independent verifier passes — and every receipt issued before the dump
began names an entry of the restored board (no receipt lost).
"""
from __future__ import annotations

import glob
import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.config import Config
from app.extensions import db
from app.models.base import utcnow
from app.services.administration import manifest as manifests
from app.services.identity import activation
from app.services.platform import schema
from app.services.voting import board, board_export
from tests.support import election_setup
from tests.support.factories import insured_csv, national_ids, small_manifest
from tools import postgres
from tools.serve import GunicornServer
from tools.voting_client import VotingClient

pytestmark = [pytest.mark.postgres, pytest.mark.deploy, pytest.mark.slow]
VOTERS = 6
PASSWORD = "backup-drill-voter-2569"


def pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not found:
        pytest.fail(f"{name} not found (postgresql-client)")
    return found[0]


def env_for(url: str, instance: Path) -> dict[str, str]:
    return {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(instance), "DATABASE_URL": url,
            "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1", "SSBVOTE_SIGNIN_IP_LIMIT": "10000 per minute"}


def test_pg_dump_while_voting_restores_to_a_record_that_verifies(
        pg_server: postgres.PostgresServer, pg_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = env_for(pg_url, instance)
    config = Config.from_env(env)
    schema.upgrade(config.database_url)
    app = create_app(config)
    with app.app_context():
        ids = national_ids(VOTERS)
        setup = election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees")
        assert setup.authority is not None and setup.ceremony is not None
        # Each voter's activation letter (docs/accounts.md §9), as the test sender writes it.
        codes = activation.issue_for_election(setup.election.id, utcnow(), "test")
        voters = [(i, nid, setup.credentials[nid], codes[nid]) for i, nid in enumerate(ids)]
        ca_key, share_files = setup.authority.ca_public_key, setup.ceremony.share_files
        db.session.remove()
        db.engine.dispose()

    receipts: list[tuple[float, dict[str, Any]]] = []  # (time the receipt arrived, receipt)
    errors: list[str] = []
    server = GunicornServer(env, tmp_path / "gunicorn.log", threads=4)

    def vote(index: int, voter_key: str, credential: str, code: str) -> None:
        try:
            client = VotingClient(server.url, "insured", credential=credential, ca_key=ca_key,
                                  allow_insecure_test_key=True)
            client.register(voter_key, code, PASSWORD)
            context = client.ballot_context("test-election")
            for round_ in range(3):
                cast = client.cast("test-election", [1 if j == (index + round_) % 5 else 0 for j in range(5)],
                                   context)
                receipts.append((time.monotonic(), cast.receipt))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    dump = tmp_path / "election.dump"
    database = pg_url.rsplit("/", 1)[1]
    try:
        threads = [threading.Thread(target=vote, args=v) for v in voters]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while len(receipts) < VOTERS and time.monotonic() < deadline:  # voting is under way
            time.sleep(0.05)
        dump_started = time.monotonic()
        subprocess.run([pg_tool("pg_dump"), "-h", "127.0.0.1", "-p", str(pg_server.port), "-U", "postgres",
                        "-Fc", "-f", str(dump), database], check=True, capture_output=True, timeout=120)
        for t in threads:
            t.join(180)
    finally:
        server.stop()
    assert not errors, errors
    before_dump = [r for at, r in receipts if at < dump_started]
    assert len(before_dump) >= VOTERS and len(receipts) == 3 * VOTERS

    # A fresh server: nothing of the first one is reused but the dump (and the instance folder's
    # keys, which the operator restores from their own backup: the signing key is not in the database).
    fresh = postgres.start()
    try:
        restored_url = fresh.create_database("restored")
        subprocess.run([pg_tool("pg_restore"), "-h", "127.0.0.1", "-p", str(fresh.port), "-U", "postgres",
                        "-d", "restored", "--no-owner", str(dump)], check=True, capture_output=True, timeout=120)
        restored = create_app(Config.from_env(env_for(restored_url, instance)))
        with restored.app_context():
            assert schema.state(db.engine).up_to_date
            election = manifests.get_election("test-election")
            assert board.verify_chain(election) == []
            entries = {e.seq: e for e in board.iter_entries(election)}
            for receipt in before_dump:  # no receipt issued before the dump is lost
                entry = entries.get(receipt["seq"])
                assert entry is not None, f"receipt {receipt['seq']} lost in the restore"
                assert (entry.ballot_hash, entry.entry_hash) == (receipt["ballot_hash"], receipt["entry_hash"])
            on_board = {e.pseudonym for e in entries.values()}
            now = utcnow()
            election_setup.close_polls(election, now)
            election_setup.record_paper_votes(election, "voter_id\n", now + timedelta(seconds=1))
            export = board_export.export(election, tmp_path / "board-export")
            db.session.remove()
            db.engine.dispose()

        from tally.finish import finish
        from tally.prepare import ENCRYPTED_TALLY, prepare
        from tally.trustee import decrypt

        work = tmp_path / "tally-work"
        summary = prepare(export, work, processes=1, allow_insecure_test_key=True, show_progress=False)
        shares = []
        for index in (1, 3):
            out = tmp_path / f"share-{index}.json"
            decrypt(share_files[index - 1], work / ENCRYPTED_TALLY, out, election_setup.TRUSTEES[index - 1][1],
                    board=work, ca_key=ca_key, allow_insecure_test_key=True)
            shares.append(out)
        record = tmp_path / "record"
        finish(work, shares, record, allow_insecure_test_key=True)
        verifier = subprocess.run([sys.executable, "-m", "verifier", str(record), "--json", "--ca-key", ca_key,
                                   "--allow-test-key"], capture_output=True, text=True, timeout=300)
        assert verifier.returncode == 0, verifier.stdout[-3000:] + verifier.stderr[-2000:]
        results = json.loads((record / "results.json").read_text())
        counted = sum(c["counted_ballots"] for c in results["contests"].values())
        assert counted == len(on_board) >= len({r["pseudonym"] for r in before_dump})
        assert summary is not None
    finally:
        fresh.stop()
