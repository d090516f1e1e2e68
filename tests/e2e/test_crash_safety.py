"""Crash safety of casting (docs/record.md §2): gunicorn on PostgreSQL is SIGKILLed — master and
workers at once — while clients stream casts, then restarted.

A receipt is a promise: every receipt a client received names a board entry with the same seq,
ballot hash and entry hash; the chain is intact with no gap or duplicate; an entry with no
receipt can only be a cast whose answer was lost in the crash (a browser retrying that very
ballot is told "replayed"); and casting works again after the restart.  Each voter's ballots are
signed in advance with their credential, chained through ``previous`` (record format 2): a
retried ballot keeps its place in that chain whether or not it landed before the crash.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from argon2 import PasswordHasher
from flask import Flask

from app import create_app
from app.config import Config
from app.extensions import db
from app.services.platform import schema, signing
from app.services.voting import board
from app.services.administration import manifest as manifests
from tools.voting_client import VotingClient
from crypto import ContestStatement, ballot_hash, encrypt_contest
from crypto.credential import ballot_party, ballot_statement, public_credential, sign_ballot, voter_key
from tests.support import election_setup
from tests.support.factories import insured_csv, national_ids, small_manifest
from tools import scenario

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "crash-test-voter-2569"
CLIENTS = 3
VOTERS_PER_CLIENT = 2
BALLOTS_PER_VOTER = 5
KILL_AFTER_RECEIPTS = 8


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """gunicorn in its own process group, so one killpg takes master and workers together."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--worker-class", "gthread", "--threads", "4", "--timeout", "60",
             "wsgi:app"],
            env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 120  # importing the app takes long on a loaded machine
        while True:
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, \
                f"gunicorn did not start; see {log}"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL master and workers: no graceful shutdown, no finishing of requests."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


@dataclass
class Ballot:
    body: dict[str, Any]
    digest: str


#: A voter of the tests: (national id, TOTP secret, the ballots made in advance).
Voter = tuple[str, str, list[Ballot]]


@dataclass
class Client:
    """One client thread's voters, ballots, and what the server answered."""

    voters: list[Voter]
    receipts: list[dict[str, Any]] = field(default_factory=list)
    lost: list[Ballot] = field(default_factory=list)  # sent, answer lost in the crash
    replayed_after_crash: list[str] = field(default_factory=list)  # digests the retry found on the board
    errors: list[str] = field(default_factory=list)


@dataclass
class Harness:
    url: str
    killed: threading.Event = field(default_factory=threading.Event)
    restarted: threading.Event = field(default_factory=threading.Event)
    receipts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _headers(http: requests.Session, url: str) -> dict[str, str]:
    import re

    page = http.get(url + "/insured/", timeout=30).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token, "not signed in"
    return {"X-CSRFToken": token.group(1), "Referer": url + "/"}


def post_cast(http: requests.Session, url: str, slug: str, headers: dict[str, str],
              ballot: Ballot) -> requests.Response:
    """POST a cast; a 503 "busy" is retried after its Retry-After, as the ballot page does."""
    for _ in range(30):
        # A fresh connection per cast: a lost answer then means the crash, never a keep-alive
        # connection the server closed while idle (gunicorn's keep-alive is 2 s).  "Connection:
        # close" ends this one after the answer; close() drops an idle pooled one (the sign-in's)
        # that this request would otherwise reuse.
        http.close()
        response = http.post(f"{url}/api/elections/{slug}/cast", json=ballot.body,
                             headers={**headers, "Referer": url + "/", "Connection": "close"},
                             timeout=30)
        if response.status_code != 503:
            return response
        time.sleep(min(float(response.headers["Retry-After"]), 2) * (0.5 + secrets.randbelow(100) / 100))
    return response


def run_client(client: Client, harness: Harness, slug: str) -> None:
    try:
        _run_client(client, harness, slug)
    except Exception as exc:  # reported by the test, not lost in a thread
        client.errors.append(f"{type(exc).__name__}: {exc}")


def _run_client(client: Client, harness: Harness, slug: str) -> None:
    sessions = []
    for national_id, secret, _ in client.voters:
        voting = VotingClient(harness.url, "insured", timeout=30)
        voting.login(national_id, PASSWORD, secret)
        sessions.append((voting.http, _headers(voting.http, harness.url)))
    crashed = False
    for round_ in range(BALLOTS_PER_VOTER):
        for (http, headers), (_, _, ballots) in zip(sessions, client.voters):
            ballot = ballots[round_]
            try:
                response = post_cast(http, harness.url, slug, headers, ballot)
            except requests.RequestException as exc:
                if crashed or not harness.killed.is_set():
                    client.errors.append(f"no answer, and not because of the kill: {exc}")
                    return
                crashed = True
                client.lost.append(ballot)
                assert harness.restarted.wait(60), "the server was not restarted"
                # Retry the lost ballot, as a browser would: "replayed" if it landed before
                # the crash, a fresh receipt if it did not.
                response = post_cast(http, harness.url, slug, headers, ballot)
                if response.status_code == 409 and response.json()["error"] == "replayed":
                    client.replayed_after_crash.append(ballot.digest)
                    continue
            if response.status_code != 201:
                client.errors.append(f"{response.status_code}: {response.text[:200]}")
                continue
            client.receipts.append(response.json()["receipt"])
            with harness.lock:
                harness.receipts += 1
    if not crashed and not harness.restarted.is_set():
        client.errors.append("finished before the crash")


def gunicorn_env(tmp_path: Path, pg_url: str, **extra: str) -> dict[str, str]:
    """The environment of the tests' app (and gunicorn): the test config on ``pg_url``."""
    return {
        "SSBVOTE_ENV": "test",
        "SSBVOTE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": pg_url,
        "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1",
        "SSBVOTE_SIGNIN_IP_LIMIT": "10000 per minute",
        **extra,
    }


def voters_with_ballots(env: dict[str, str], tmp_path: Path, voters: int, seed: int,
                        ballots: int) -> tuple[Flask, str, list[Voter]]:
    """The app of ``env`` with the small election open, ``voters`` insured voters ready to sign in
    with PASSWORD over HTTP, and ``ballots`` ballots per voter made and signed in advance: version 2,
    made for the party <pseudonym>/<credential> and signed with the voter's credential, each
    ballot chained to the one before (``previous``).  Returns (app, election slug, voters)."""
    config = Config.from_env(env)
    schema.upgrade(config.database_url)
    app = create_app(config)
    with app.app_context():
        manifest = small_manifest(k_insured=2)
        ids = national_ids(voters, seed=seed)
        setup = election_setup.ready_election(manifest, [insured_csv(ids)], tmp_path / "trustees",
                                              datetime.fromisoformat(manifest["poll_window"]["opens"]))
        election = setup.election
        assert setup.ceremony is not None
        key = setup.ceremony.election_key
        # A cheap argon2 hash (its parameters travel in the hash); sign-in still goes over HTTP.
        password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
        accounts = scenario.ready_accounts(election, "insured", len(ids), password_hash)
        contest = election.contest_by_code("insured")
        assert contest is not None
        assert setup.authority is not None and setup.authority.opening_hash is not None
        opening = setup.authority.opening_hash
        made: list[Voter] = []
        for account in accounts:
            signer = voter_key(setup.credentials[account.voter_key], election.election_id)
            credential = public_credential(signer)
            chain = []
            previous = ""
            for i in range(ballots):
                seed_ = secrets.token_bytes(32)
                choice = [1 if j in (i % 5, (i + 2) % 5) else 0 for j in range(5)]
                encrypted = encrypt_contest(ContestStatement(key.public_key, election.election_id, contest.code,
                                                             ballot_party(account.pseudonym, credential), 5, 2),
                                            choice, seed_)
                digest = ballot_hash(encrypted)
                signature = sign_ballot(ballot_statement(election.election_id, opening, contest.code,
                                                         account.pseudonym, credential, digest,
                                                         previous=previous), signer)
                chain.append(Ballot({"contest": contest.code, "ballot": encrypted.to_dict(), "credential": credential,
                                     "previous": previous, "signature": signature}, digest))
                previous = digest
            made.append((account.voter_key, account.totp_secret, chain))
        slug = election.slug
        db.session.remove()
    return app, slug, made


@pytest.fixture
def crash_env(tmp_path: Path, pg_url: str) -> Iterator[dict[str, Any]]:
    env = gunicorn_env(tmp_path, pg_url)
    app, slug, voters = voters_with_ballots(env, tmp_path, CLIENTS * VOTERS_PER_CLIENT, 11, BALLOTS_PER_VOTER)
    clients = [Client(voters[c * VOTERS_PER_CLIENT:(c + 1) * VOTERS_PER_CLIENT]) for c in range(CLIENTS)]
    try:
        yield {"app": app, "env": env, "slug": slug, "clients": clients, "tmp": tmp_path}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.timeout(120)
def test_sigkill_mid_stream_loses_no_receipted_ballot(crash_env: dict[str, Any]) -> None:
    started = time.monotonic()
    env, slug, clients = crash_env["env"], crash_env["slug"], crash_env["clients"]
    log = crash_env["tmp"] / "gunicorn.log"
    server = Gunicorn(env, log)
    harness = Harness(server.url)
    threads = [threading.Thread(target=run_client, args=(c, harness, slug)) for c in clients]
    restarted: Gunicorn | None = None
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 40
        while harness.receipts < KILL_AFTER_RECEIPTS:
            assert time.monotonic() < deadline, "casts did not get going"
            time.sleep(0.005)
        harness.killed.set()
        server.kill()  # mid-stream: the client threads are still casting
        at_kill = harness.receipts
        restarted = Gunicorn(env, log)
        harness.url = restarted.url
        harness.restarted.set()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
    finally:
        server.stop()
        if restarted is not None:
            restarted.stop()

    errors = [e for c in clients for e in c.errors]
    assert not errors, errors
    receipts = [r for c in clients for r in c.receipts]
    assert len(receipts) > at_kill, "no cast succeeded after the restart"

    app = crash_env["app"]
    with app.app_context():
        election = manifests.get_election(slug)
        db.session.expire_all()
        assert board.verify_chain(election) == []
        entries = list(board.iter_entries(election))
        public_key = signing.public_key_dict()["public_key"]
    seqs = [e.seq for e in entries]
    assert seqs == list(range(1, len(entries) + 1)), "gap or duplicate in the board's sequence"
    by_seq = {e.seq: e for e in entries}
    for receipt in receipts:
        entry = by_seq.get(receipt["seq"])
        assert entry is not None, f"receipt {receipt['seq']} has no board entry"
        assert (entry.ballot_hash, entry.entry_hash, entry.pseudonym) == \
            (receipt["ballot_hash"], receipt["entry_hash"], receipt["pseudonym"])
        assert signing.verify(receipt, public_key)
    assert len({r["seq"] for r in receipts}) == len(receipts)
    digests = [e.ballot_hash for e in entries]
    assert len(set(digests)) == len(digests), "a ballot is on the board twice"
    # Entries without a receipt: exactly the lost answers whose retry said "replayed".
    unreceipted = {e.ballot_hash for e in entries} - {r["ballot_hash"] for r in receipts}
    assert unreceipted == {d for c in clients for d in c.replayed_after_crash}
    assert {b.digest for c in clients for b in c.lost} >= unreceipted
    total = CLIENTS * VOTERS_PER_CLIENT * BALLOTS_PER_VOTER
    assert len(entries) == total, "every ballot is on the board exactly once after the retries"
    print(f"crash: {at_kill} receipts before the kill, {len(receipts)} in all, lost answers "
          f"{sum(len(c.lost) for c in clients)}, of which on the board {len(unreceipted)}; "
          f"{time.monotonic() - started:.1f} s")
    assert time.monotonic() - started < 60
