"""Fifty parallel casts by one voter on real PostgreSQL through a real HTTP server: every
accepted ballot is on the board exactly once, the chain is intact, exactly one ballot counts.

Record format version 2: all fifty are signed with the same ``previous`` (the credential had no
ballot yet), so exactly one is accepted — the board-head lock re-checks ``previous`` — and the
others are refused 409 ``stale_previous`` (docs/protocol.md §13.3): one device cannot fork its own
chain of ballots."""
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
from tools.voting_client import VotingClient
from crypto import ContestStatement, ElectionPublicKey, encrypt_contest
from crypto.credential import ballot_party
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
        setup = election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees")
        assert setup.authority is not None
        credential, ca_key = setup.credentials[ids[0]], setup.authority.ca_public_key
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"app": app, "url": f"http://127.0.0.1:{server.server_port}", "id": ids[0],
               "credential": credential, "ca_key": ca_key}
    finally:
        server.shutdown()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_fifty_parallel_casts_by_one_voter(served: dict[str, Any]) -> None:
    client = VotingClient(served["url"], "insured", credential=served["credential"], ca_key=served["ca_key"],
                          allow_insecure_test_key=True)
    client.register(served["id"], "1980-01-01", "correct horse battery")
    ctx = client.ballot_context("test-election")  # the pins checked against the CA key
    key = ElectionPublicKey.from_dict(ctx["election_key"], allow_insecure_test_key=True)
    contest = ctx["contest"]
    party = ballot_party(ctx["pseudonym"], ctx["credential"])
    ballots = []
    for i in range(PARALLEL):
        seed = secrets.token_bytes(32)
        selections = [1 if j == i % 5 else 0 for j in range(5)]
        ballot = encrypt_contest(ContestStatement(key.public_key, ctx["election_id"], contest["id"], party,
                                                  len(selections), contest["max_selections"]), selections, seed)
        ballots.append(client.signed_body(ctx, contest["id"], ballot.to_dict()))  # previous ""; no seed sent
    headers = client._api_headers()
    cookies = client.http.cookies.get_dict()

    def cast(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = requests.post(f"{served['url']}/api/elections/test-election/cast", json=body,
                                 headers=headers, cookies=cookies, timeout=120)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(cast, ballots))
    accepted = [body["receipt"] for status, body in results if status == 201]
    assert all(status == 201 or (status, body["error"]) == (409, "stale_previous")
               for status, body in results), [s for s, _ in results]
    assert len(accepted) == 1

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
