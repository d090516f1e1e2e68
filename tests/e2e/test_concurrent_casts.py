"""Fifty parallel casts by one voter on real PostgreSQL through a real HTTP server: every
accepted ballot is on the board exactly once, the chain is intact, exactly one ballot counts."""
from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db
from app.services.administration import manifest as manifests
from app.services.voting import board
from app.services.voting.receipt_check import check_token
from tools.voting_client import VotingClient
from crypto import ContestStatement, ElectionPublicKey, encrypt_contest
from tests.conftest import build_app, make_config
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2
from tests.support.factories import insured_csv, national_ids, small_manifest

pytestmark = pytest.mark.postgres
PARALLEL = 50


@pytest.fixture
def served(pg_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    app: Flask = build_app(make_config(tmp_path, pg_url, **FAST_ARGON2, CAST_RATE_LIMIT="1000 per hour",
                                       CAST_MAX_INFLIGHT=PARALLEL,
                                       AUTH_IP_RATE_LIMIT="1000 per minute"))
    with app.app_context():
        ids = national_ids(1)
        election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"app": app, "url": f"http://127.0.0.1:{server.server_port}", "id": ids[0]}
    finally:
        server.shutdown()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_fifty_parallel_casts_by_one_voter(served: dict[str, Any]) -> None:
    client = VotingClient(served["url"], "insured", allow_insecure_test_key=True)
    client.register(served["id"], "1980-01-01", "correct horse battery")
    ctx = client.ballot_context("test-election")
    key = ElectionPublicKey.from_dict(ctx["election_key"], allow_insecure_test_key=True)
    contest = ctx["contest"]
    ballots = []
    for i in range(PARALLEL):
        seed = secrets.token_bytes(32)
        selections = [1 if j == i % 5 else 0 for j in range(5)]
        ballot = encrypt_contest(ContestStatement(key.public_key, ctx["election_id"], contest["id"], ctx["pseudonym"],
                                                  len(selections), contest["max_selections"]), selections, seed)
        ballots.append({"contest": contest["id"], "ballot": ballot.to_dict(), "check_token": check_token(seed)})
    headers = client._api_headers()
    cookies = client.http.cookies.get_dict()

    def cast(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = requests.post(f"{served['url']}/api/elections/test-election/cast", json=body,
                                 headers=headers, cookies=cookies, timeout=120)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(cast, ballots))
    accepted = [body["receipt"] for status, body in results if status == 201]
    assert all(status in (201, 503) for status, _ in results), [s for s, _ in results]
    assert len(accepted) >= 1

    with served["app"].app_context():
        election = manifests.get_election("test-election")
        assert board.verify_chain(election) == []
        entries = list(board.iter_entries(election))
        # Exactly the accepted ballots, once each, numbered 1..N without gaps.
        assert sorted(e.seq for e in entries) == list(range(1, len(accepted) + 1))
        assert {(r["seq"], r["ballot_hash"], r["entry_hash"]) for r in accepted} == \
            {(e.seq, e.ballot_hash, e.entry_hash) for e in entries}
        # One voter, one counting ballot: the newest.
        current = board.current_entry(election, ctx["pseudonym"])
        assert current is not None and current.seq == len(accepted)
        assert {e.pseudonym for e in entries} == {ctx["pseudonym"]}
        db.session.remove()
