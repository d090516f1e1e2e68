"""Cast-or-audit and the tracker over the real HTTP stack (Flask test client, CSRF on), on SQLite
and PostgreSQL (docs/protocol.md §14, docs/record.md §2.1, §2.6).

An audit is checked like a cast (shape, proofs, the voter's credential, a signature — over the
audit statement) and its seed must open the ballot; it lands on the board as an audit entry that
never changes the voter's current ballot and is never counted.  An audited ballot can never be
cast.  The tracker lookup answers "on-board" during the polls and, after the close, exactly what
the tally's counted set says (one rule: election/counted.py).
"""
from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Election
from app.services.voting import board
from crypto import ElectionPublicKey, EncryptedContest, open_ballot
from crypto.errors import InvalidInput
from election.receipt import parse_audit_code
from tests.conftest import build_app, make_config
from tests.support import election_setup, voting
from tests.support.auth_client import FAST_ARGON2, Browser, Clock
from tests.support.factories import insured_csv, national_ids, small_manifest

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
API = "/api/elections/test-election"


class Voter:
    def __init__(self, client: FlaskClient, clock: Clock, credential: str):
        self.client, self.credential = client, credential
        self.browser = Browser(client, clock)

    def headers(self) -> dict[str, str]:
        html = self.client.get("/insured/").get_data(as_text=True)
        return {"X-CSRFToken": _META.search(html).group(1)}  # type: ignore[union-attr]

    def context(self) -> dict[str, Any]:
        response = self.client.get(f"{API}/ballot")
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def post(self, action: str, body: Any):  # type: ignore[no-untyped-def]
        return self.client.post(f"{API}/{action}", json=body, headers=self.headers())

    def audit(self, selections: list[int], ctx: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        ctx = ctx or self.context()
        ballot, seed = voting.encrypt(ctx, selections)
        return self.post("audit", voting.audit_body(ctx, self.credential, ballot, seed)), ballot, seed

    def cast(self, selections: list[int], ctx: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        ctx = ctx or self.context()
        ballot, _seed = voting.encrypt(ctx, selections)
        return self.post("cast", voting.body(ctx, self.credential, ballot)), ballot


@pytest.fixture
def env(any_db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield from election_setup.small_election_app(tmp_path, any_db_url, AUDIT_CHECK_RATE_LIMIT="1000 per minute")


def signed_in(env: dict[str, Any], index: int = 0) -> Voter:
    app: Flask = env["app"]
    key = env["ids"][index]
    voter = Voter(app.test_client(), env["clock"], env["credentials"][key])
    voter.browser.signup("insured", key)
    return voter


def board_size(election: Election) -> int:
    db.session.expire_all()
    assert board.verify_chain(election) == []
    return board.size(election)


def opens(env: dict[str, Any], answer: dict[str, Any]) -> list[int]:
    """What the check page does with GET audits/<seq> (docs/protocol.md §14.4)."""
    entry = answer["entry"]
    key = ElectionPublicKey.from_dict(json.loads(env["election"].election_key), allow_insecure_test_key=True)
    ballot = EncryptedContest.from_dict(answer["ballot"], key.public_key)
    ctx = {"election_key": json.loads(env["election"].election_key), "election_id": entry["election_id"],
           "contest": {"id": entry["contest"], "max_selections": 2}}
    statement = voting.statement(ctx, [0] * 5, party_=f"{entry['pseudonym']}/{entry['credential']}")
    return open_ballot(statement, ballot, bytes.fromhex(entry["seed"]))


def test_audit_then_cast_and_the_audited_ballot_is_never_cast(env: dict[str, Any]) -> None:
    election: Election = env["election"]
    voter = signed_in(env)
    ctx = voter.context()
    response, ballot, seed = voter.audit([1, 0, 1, 0, 0], ctx)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert set(answer) == {"seq", "ballot_hash", "entry_hash", "code"}
    assert answer["code"] == f"ssbvote-audit:1:1:{voting.ballot_hash(ballot)}"
    assert parse_audit_code(answer["code"]).seq == 1

    # The audit entry is on the board with its seed, and anyone can fetch it with its ballot.
    public = env["app"].test_client().get(f"{API}/audits/1")
    assert public.status_code == 200
    got = public.get_json()
    assert set(got) == {"entry", "ballot"}
    assert got["entry"]["kind"] == "audit" and got["entry"]["seed"] == seed.hex()
    assert "previous" not in got["entry"] and got["entry"]["entry_hash"] == answer["entry_hash"]
    assert voting.ballot_hash(got["ballot"]) == got["entry"]["ballot_hash"] == answer["ballot_hash"]
    assert opens(env, got) == [1, 0, 1, 0, 0]

    # An audit does not change the voter's current ballot: previous stays empty.
    assert voter.context()["previous"] == ""
    # The audited ballot can never be cast, even correctly signed as a ballot.
    replay = voter.post("cast", voting.body(ctx, voter.credential, ballot))
    assert (replay.status_code, replay.get_json()["error"]) == (409, "audited")
    # ... nor audited twice.
    again = voter.post("audit", voting.audit_body(ctx, voter.credential, ballot, seed))
    assert (again.status_code, again.get_json()["error"]) == (409, "audited")
    assert board_size(election) == 1

    # The voter encrypts again (a fresh seed) and casts: a ballot entry whose previous is empty.
    cast, cast_ballot = voter.cast([1, 0, 1, 0, 0])
    assert cast.status_code == 201, cast.get_json()
    receipt = cast.get_json()["receipt"]
    assert receipt["seq"] == 2 and cast.get_json()["superseded_previous"] is False
    entries = list(board.iter_entries(election))
    assert [(e.kind, e.previous, e.seed) for e in entries] == [("audit", "", seed.hex()), ("ballot", "", "")]
    # A cast ballot cannot be audited afterwards (its hash is on the board), and its entry has no seed.
    late = voter.post("audit", voting.audit_body(ctx, voter.credential, cast_ballot, secrets.token_bytes(32)))
    assert late.status_code in (400, 409)
    assert env["app"].test_client().get(f"{API}/audits/2").status_code == 404
    assert env["app"].test_client().get(f"{API}/audits/99").status_code == 404
    # The receipt of the audit does not exist: audits get codes, not receipts.
    assert voter.client.get("/receipt/test-election/1").status_code == 404

    # Tracker lookup during polls.
    anonymous = env["app"].test_client()
    for seq, entry in ((1, entries[0]), (2, entries[1])):
        found = anonymous.get(f"{API}/trackers/{entry.ballot_hash}")
        assert found.status_code == 200
        assert found.get_json() == {"seq": seq, "kind": entry.kind, "status": "on-board"}
    assert anonymous.get(f"{API}/trackers/{'0' * 64}").status_code == 404
    assert anonymous.get(f"{API}/trackers/{'A' * 64}").get_json()["error"] == "bad_code"
    assert board_size(election) == 2


AUDIT_REFUSALS = ["seed_does_not_open", "seed_of_other_ballot", "signed_as_ballot", "other_voters_credential",
                  "unregistered_credential", "signature_by_other_credential", "missing_seed", "bad_proofs",
                  "polls_closed"]


@pytest.mark.parametrize("attack", AUDIT_REFUSALS)
def test_bad_audits_refused_and_board_unchanged(env: dict[str, Any], attack: str) -> None:
    election: Election = env["election"]
    voter = signed_in(env)
    ctx = voter.context()
    ballot, seed = voting.encrypt(ctx, [0, 1, 0, 0, 0])
    body = voting.audit_body(ctx, voter.credential, ballot, seed)
    expected: tuple[int, str]
    if attack == "seed_does_not_open":  # a server or device publishing a seed that opens nothing
        wrong = secrets.token_bytes(32)
        body = voting.audit_body(ctx, voter.credential, ballot, wrong)
        expected = (400, "bad_seed")
    elif attack == "seed_of_other_ballot":  # the seed of another encryption of the same choices
        _other, other_seed = voting.encrypt(ctx, [0, 1, 0, 0, 0])
        body = voting.audit_body(ctx, voter.credential, ballot, other_seed)
        expected = (400, "bad_seed")
    elif attack == "signed_as_ballot":  # a ballot signature cannot authorise an audit
        body["signature"] = voting.sign(ctx, voter.credential, ballot)
        expected = (400, "bad_signature")
    elif attack == "other_voters_credential":
        other = env["credentials"][env["ids"][1]]
        body = voting.audit_body(ctx, other, ballot, seed)
        expected = (403, "wrong_credential")
    elif attack == "unregistered_credential":
        from crypto.credential import generate_credential

        body = voting.audit_body(ctx, generate_credential(), ballot, seed)
        expected = (403, "wrong_credential")
    elif attack == "signature_by_other_credential":  # the voter's credential, another's signature
        other = env["credentials"][env["ids"][1]]
        body["signature"] = voting.sign_audit_statement(ctx, other, ballot, seed)
        expected = (400, "bad_signature")
    elif attack == "missing_seed":
        del body["seed"]
        expected = (400, "malformed")
    elif attack == "bad_proofs":  # opens with its seed, but a proof is broken
        proof = ballot["proofs"][0]
        field = next(k for k, v in proof.items() if isinstance(v, list))
        proof[field][0] = format(int(proof[field][0], 16) ^ 1, "x")
        body = voting.audit_body(ctx, voter.credential, ballot, seed)
        expected = (400, "invalid_ballot")
    else:
        election_setup.close_polls(election, env["clock"]())
        expected = (409, "polls_closed")
    response = voter.post("audit", body)
    assert (response.status_code, response.get_json()["error"]) == expected, response.get_json()
    assert board_size(election) == 0


def test_tracker_statuses_after_close_are_the_tally_s(env: dict[str, Any], tmp_path: Path) -> None:
    """superseded, counted, audited, paper-vote, revoked: the lookup and the tally agree."""
    from app.services.administration import authority as authority_service
    from app.services.voting import board_export
    from ca.revoke import revoke
    from tally.prepare import prepare

    election: Election = env["election"]
    a, b, c = signed_in(env, 0), signed_in(env, 1), signed_in(env, 2)
    assert a.audit([1, 0, 0, 0, 0])[0].status_code == 201  # seq 1: audited
    assert a.cast([1, 0, 0, 0, 0])[0].status_code == 201  # seq 2: superseded
    assert a.cast([0, 1, 0, 0, 0])[0].status_code == 201  # seq 3: counted
    assert b.cast([0, 0, 1, 0, 0])[0].status_code == 201  # seq 4: paper-vote
    assert c.cast([0, 0, 0, 1, 0])[0].status_code == 201  # seq 5: revoked
    setup = env["setup"]
    revoke(setup.authority.ca_dir, setup.authority.ca_key, "insured", env["ids"][2], reissue=False)
    authority_service.import_revocations(election, (setup.authority.ca_dir / "revocations.jsonl").read_bytes(),
                                         mapping=(setup.authority.ca_dir / "mapping-insured.json").read_bytes())
    hashes = {e.seq: e.ballot_hash for e in board.iter_entries(election)}
    anonymous = env["app"].test_client()
    assert {anonymous.get(f"{API}/trackers/{h}").get_json()["status"] for h in hashes.values()} == {"on-board"}

    now = env["clock"]()
    election_setup.close_polls(election, now)
    election_setup.record_paper_votes(election, f"voter_id\n{env['ids'][1]}\n", now)
    statuses = {seq: anonymous.get(f"{API}/trackers/{h}").get_json() for seq, h in hashes.items()}
    assert {seq: s["status"] for seq, s in statuses.items()} == {
        1: "audited", 2: "superseded", 3: "counted", 4: "paper-vote", 5: "revoked"}
    assert statuses[1]["kind"] == "audit" and statuses[3] == {"seq": 3, "kind": "ballot", "status": "counted"}

    export = board_export.export(election, tmp_path / "closed")
    entries = [json.loads(line) for line in (export / "board/entries.jsonl").read_text().splitlines()]
    ballots = [json.loads(line) for line in (export / "board/ballots.jsonl").read_text().splitlines()]
    assert [e["kind"] for e in entries] == ["audit", "ballot", "ballot", "ballot", "ballot"]
    assert [b["seq"] for b in ballots] == [1, 2, 3, 4, 5]  # a ballot line for the audit too
    assert set(entries[0]) == {"seq", "election_id", "kind", "pseudonym", "contest", "credential", "seed",
                               "signature", "ballot_hash", "cast_at", "prev_hash", "entry_hash"}
    prepare(export, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)
    counted = json.loads((tmp_path / "work" / "tally" / "counted.json").read_text())["contests"]["insured"]
    tally_says = {c["seq"]: "counted" for c in counted["counted"]}
    tally_says.update({e["seq"]: e["reason"] for e in counted["excluded"]})
    assert tally_says == {seq: s["status"] for seq, s in statuses.items()}


def test_audit_check_and_audits_are_rate_limited(any_db_url: str, tmp_path: Path) -> None:
    clock = Clock()
    app = build_app(make_config(tmp_path, any_db_url, **FAST_ARGON2, AUTH_CLOCK=clock,
                                AUDIT_CHECK_RATE_LIMIT="3 per minute", AUDIT_RATE_LIMIT="2 per hour",
                                RATELIMIT_ENABLED=True))
    with app.app_context():
        ids = national_ids(2)
        setup = election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees", clock())
        env = {"app": app, "clock": clock, "ids": ids, "credentials": setup.credentials}
        voter = signed_in(env)
        assert [voter.audit([1, 0, 0, 0, 0])[0].status_code for _ in range(3)] == [201, 201, 429]
        anonymous = app.test_client()
        assert [anonymous.get(f"{API}/audits/1").status_code for _ in range(4)] == [200, 200, 200, 429]
        db.session.remove()
        db.engine.dispose()
