"""The board's group commit across processes on real PostgreSQL: gunicorn with 2 worker
processes (each its own batcher; their batches take turns on the database's head lock),
voters casting over HTTP at once.

* concurrent casts are committed in batches (entries sharing one transaction id) and the board
  stays one chain, seq 1..N, every receipt on it;
* an injected failure of a batch's COMMIT (a deferred constraint trigger that raises at COMMIT)
  gives every ballot of that batch 503 busy and no receipt, stores none of them, loses no
  accepted ballot, and the refused ballots are accepted when sent again;
* kill -9 of the worker process that is in the middle of a batch (its transaction held by a
  trigger that sleeps) leaves a consistent board: the batch is rolled back, no ballot of it is on
  the board, every receipt is, and the lost ballots are accepted when sent again.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import psycopg
import pytest
import requests

from app.extensions import db
from app.services.administration import manifest as manifests
from app.services.platform import signing
from app.services.voting import board
from tests.e2e.test_crash_safety import PASSWORD, Ballot, Gunicorn, _headers, gunicorn_env, voters_with_ballots
from tools.voting_client import VotingClient

pytestmark = pytest.mark.postgres

VOTERS = 8
BALLOTS = 2


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str) -> Iterator[dict[str, Any]]:
    env = gunicorn_env(tmp_path, pg_url, SSBVOTE_BOARD_BATCH_WINDOW_MS="50")
    app, slug, voters = voters_with_ballots(env, tmp_path, VOTERS, 23, BALLOTS)
    server = Gunicorn(env, tmp_path / "gunicorn.log")
    sessions = []
    try:
        for national_id, secret, ballots in voters:
            client = VotingClient(server.url, "insured", timeout=30)
            client.login(national_id, PASSWORD, secret)
            sessions.append((client.http, _headers(client.http, server.url), ballots))
        yield {"app": app, "server": server, "slug": slug, "voters": sessions,
               "dsn": pg_url.replace("postgresql+psycopg://", "postgresql://")}
    finally:
        server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def cast_once(url: str, slug: str, http: requests.Session, headers: dict[str, str], ballot: Ballot) -> requests.Response:
    # On a fresh connection: an idle pooled one (the sign-in's) may be closed by gunicorn's 2 s
    # keep-alive just as the cast is sent on it, and a POST is not retried ("Remote end closed
    # connection without response", seen under load).
    http.close()
    return http.post(f"{url}/api/elections/{slug}/cast", json=ballot.body,
                     headers={**headers, "Referer": url + "/", "Connection": "close"}, timeout=60)


def burst(cluster: dict[str, Any], round_: int) -> list[tuple[Ballot, requests.Response | None]]:
    """Every voter casts its ballot ``round_`` at the same moment; (ballot, answer or None if the
    connection was lost), one per voter."""
    url, slug = cluster["server"].url, cluster["slug"]
    start = threading.Barrier(len(cluster["voters"]))
    results: list[tuple[Ballot, requests.Response | None]] = [None] * len(cluster["voters"])  # type: ignore[list-item]

    def run(index: int) -> None:
        http, headers, ballots = cluster["voters"][index]
        start.wait()
        try:
            response: requests.Response | None = cast_once(url, slug, http, headers, ballots[round_])
        except requests.RequestException:
            response = None
        results[index] = (ballots[round_], response)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(cluster["voters"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def board_state(cluster: dict[str, Any]) -> tuple[list[Any], list[int]]:
    """(entries in seq order, sizes of the transactions that wrote them)."""
    with cluster["app"].app_context():
        election = manifests.get_election(cluster["slug"])
        db.session.expire_all()
        assert board.verify_chain(election) == []
        entries = list(board.iter_entries(election))
        db.session.remove()
    with psycopg.connect(cluster["dsn"]) as conn:
        sizes = [n for (n,) in conn.execute("SELECT count(*) FROM board_entry GROUP BY xmin::text")]
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1)), "gap or duplicate in the board's sequence"
    return entries, sizes


def check_receipts(cluster: dict[str, Any], entries: list[Any], receipts: list[dict[str, Any]]) -> None:
    with cluster["app"].app_context():
        public_key = signing.public_key_dict()["public_key"]
    by_seq = {e.seq: e for e in entries}
    for receipt in receipts:
        entry = by_seq.get(receipt["seq"])
        assert entry is not None, f"receipt {receipt['seq']} has no board entry"
        assert (entry.ballot_hash, entry.entry_hash) == (receipt["ballot_hash"], receipt["entry_hash"])
        assert signing.verify(receipt, public_key)


def run_sql(cluster: dict[str, Any], *statements: str) -> None:
    with psycopg.connect(cluster["dsn"], autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


@pytest.mark.timeout(300)
def test_concurrent_casts_are_committed_in_batches_on_one_chain(cluster: dict[str, Any]) -> None:
    receipts = []
    for round_ in range(BALLOTS):
        for ballot, response in burst(cluster, round_):
            assert response is not None and response.status_code == 201, response and response.text[:300]
            receipts.append(response.json()["receipt"])
    entries, sizes = board_state(cluster)
    assert len(entries) == VOTERS * BALLOTS
    check_receipts(cluster, entries, receipts)
    assert {e.ballot_hash for e in entries} == {r["ballot_hash"] for r in receipts}
    # Group commit really happened: some transaction wrote several entries.
    assert max(sizes) >= 2 and len(sizes) < len(entries), sizes
    print(f"group commit over HTTP: {len(entries)} entries in {len(sizes)} transactions, sizes {sorted(sizes)}")


@pytest.mark.timeout(300)
def test_a_failed_batch_commit_gives_no_receipt_and_loses_no_ballot(cluster: dict[str, Any]) -> None:
    poisoned = cluster["voters"][0][2][0]
    run_sql(cluster,
            "CREATE TABLE poison (ballot_hash text PRIMARY KEY)",
            f"INSERT INTO poison VALUES ('{poisoned.digest}')",
            "CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF EXISTS (SELECT 1 FROM poison WHERE ballot_hash = NEW.ballot_hash) THEN "
            "RAISE EXCEPTION 'injected commit failure'; END IF; RETURN NULL; END $$",
            "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON board_entry "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit()")
    results = burst(cluster, 0)
    accepted = [r.json()["receipt"] for _, r in results if r is not None and r.status_code == 201]
    refused = [b for b, r in results if r is not None and r.status_code == 503]
    assert all(r is not None and r.status_code in (201, 503) for _, r in results), \
        [(r.status_code, r.text[:200]) if r is not None else None for _, r in results]
    assert poisoned in refused
    for ballot, response in results:
        if response is not None and response.status_code == 503:
            assert response.json()["error"] == "busy" and "Retry-After" in response.headers
    entries, _ = board_state(cluster)
    on_board = {e.ballot_hash for e in entries}
    # No receipt for the failed batch, none of its ballots stored; every receipt's ballot stored.
    assert not on_board & {b.digest for b in refused}
    assert on_board == {r["ballot_hash"] for r in accepted}
    check_receipts(cluster, entries, accepted)
    # The failure is gone: the refused ballots, sent again, are accepted after the others.
    run_sql(cluster, "DROP TRIGGER fail_at_commit ON board_entry")
    url, slug = cluster["server"].url, cluster["slug"]
    voters = {id(b): (http, headers) for http, headers, ballots in cluster["voters"] for b in ballots}
    for ballot in refused:
        http, headers = voters[id(ballot)]
        response = cast_once(url, slug, http, headers, ballot)
        assert response.status_code == 201, response.text[:300]
        accepted.append(response.json()["receipt"])
    entries, _ = board_state(cluster)
    assert len(entries) == VOTERS
    check_receipts(cluster, entries, accepted)
    print(f"injected commit failure: {len(refused)} ballots refused 503 in the failed batch, "
          f"{VOTERS - len(refused)} accepted; all accepted when sent again")


@pytest.mark.timeout(300)
def test_kill_9_of_a_worker_mid_batch_leaves_a_consistent_board(cluster: dict[str, Any]) -> None:
    slow = cluster["voters"][0][2][0]
    run_sql(cluster,
            "CREATE TABLE slow (ballot_hash text PRIMARY KEY)",
            f"INSERT INTO slow VALUES ('{slow.digest}')",
            "CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF EXISTS (SELECT 1 FROM slow WHERE ballot_hash = NEW.ballot_hash) THEN "
            "PERFORM pg_sleep(6); END IF; RETURN NEW; END $$",
            "CREATE TRIGGER slow_insert BEFORE INSERT ON board_entry FOR EACH ROW EXECUTE FUNCTION slow_insert()")
    killed: dict[str, Any] = {}

    def kill_the_batch() -> None:
        """Find the app process whose batch transaction is in the sleeping INSERT; kill -9 it."""
        deadline = time.monotonic() + 60
        with psycopg.connect(cluster["dsn"], autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute("SELECT application_name, pid FROM pg_stat_activity "
                                   "WHERE wait_event = 'PgSleep' AND query ILIKE '%board_entry%'").fetchone()
                if row:
                    killed["pid"] = int(str(row[0]).split()[-1])
                    killed["backend"] = row[1]
                    os.kill(killed["pid"], signal.SIGKILL)
                    return
                time.sleep(0.01)

    killer = threading.Thread(target=kill_the_batch)
    killer.start()
    results = burst(cluster, 0)
    killer.join(60)
    assert "pid" in killed, "no batch was seen in its INSERT"
    # The killed process's transaction is rolled back once its backend notices (after the sleep).
    with psycopg.connect(cluster["dsn"], autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (killed["backend"],)).fetchone():
            assert time.monotonic() < deadline, "the killed worker's transaction stayed open"
            time.sleep(0.1)
    accepted = [r.json()["receipt"] for _, r in results if r is not None and r.status_code == 201]
    lost = [b for b, r in results if r is None or r.status_code >= 500]
    assert all(r is None or r.status_code in (201, 503) for _, r in results)
    assert slow in lost
    entries, _ = board_state(cluster)
    on_board = {e.ballot_hash for e in entries}
    assert slow.digest not in on_board, "a ballot of the killed batch is on the board"
    assert on_board == {r["ballot_hash"] for r in accepted}, "an entry without a receipt, or a receipt without its entry"
    check_receipts(cluster, entries, accepted)
    # The master restarted the worker: the lost ballots, sent again, are accepted.
    run_sql(cluster, "DROP TRIGGER slow_insert ON board_entry")
    url, slug = cluster["server"].url, cluster["slug"]
    voters = {id(b): (http, headers) for http, headers, ballots in cluster["voters"] for b in ballots}
    for ballot in lost:
        http, headers = voters[id(ballot)]
        for _ in range(50):
            try:
                response = cast_once(url, slug, http, headers, ballot)
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if response.status_code != 503:
                break
            time.sleep(0.2)
        assert response.status_code == 201, response.text[:300]
        accepted.append(response.json()["receipt"])
    entries, _ = board_state(cluster)
    assert len(entries) == VOTERS
    check_receipts(cluster, entries, accepted)
    print(f"kill -9 of worker {killed['pid']} mid-batch: {len(lost)} casts lost their answer, none on the "
          f"board; all accepted when sent again")
