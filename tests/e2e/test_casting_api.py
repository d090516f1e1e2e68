"""Casting through the real HTTP stack (Flask test client, CSRF on): ballot context, cast,
receipt, re-vote, board, cast-as-intended check, polls; and every rejection leaves the board
unchanged."""
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
from app.services.platform import signing
from app.services.voting import board
from app.services.voting.receipt_check import check_token
from crypto import ContestStatement, ElectionPublicKey, EncryptedContest, encrypt_contest, recover_selections
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, Browser, Clock
from tests.support.factories import employer_csv, insured_csv, national_ids, small_manifest
from tests.conftest import build_app, make_config

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Voter:
    """A signed-in voter's browser: fetches the context, encrypts locally, casts."""

    def __init__(self, client: FlaskClient, clock: Clock, kind: str):
        self.client, self.kind = client, kind
        self.browser = Browser(client, clock)
        self.prefix = "/insured" if kind == "insured" else "/employer"

    def headers(self) -> dict[str, str]:
        html = self.client.get(f"{self.prefix}/").get_data(as_text=True)
        return {"X-CSRFToken": _META.search(html).group(1)}  # type: ignore[union-attr]

    def context(self) -> dict[str, Any]:
        response = self.client.get("/api/elections/test-election/ballot")
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def encrypt(self, selections: list[int], context: dict[str, Any] | None = None,
                seed: bytes | None = None) -> tuple[dict[str, Any], bytes]:
        ctx = context or self.context()
        key = ElectionPublicKey.from_dict(ctx["election_key"], allow_insecure_test_key=True)
        seed = seed or secrets.token_bytes(32)
        ballot = encrypt_contest(ContestStatement(key.public_key, ctx["election_id"], ctx["contest"]["id"],
                                                  ctx["pseudonym"], len(selections), ctx["contest"]["max_selections"]),
                                 selections, seed)
        return ballot.to_dict(), seed

    def post(self, body: Any, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post("/api/elections/test-election/cast", json=body,
                                headers=self.headers() if headers is None else headers)

    def cast(self, selections: list[int]):  # type: ignore[no-untyped-def]
        ballot, seed = self.encrypt(selections)
        contest = self.context()["contest"]["id"]
        return self.post({"contest": contest, "ballot": ballot, "check_token": check_token(seed)}), seed


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    clock = Clock()
    app = build_app(make_config(tmp_path, **FAST_ARGON2, AUTH_CLOCK=clock, BOARD_CHECKPOINT_EVERY=3))
    with app.app_context():
        ids = national_ids(4)
        election = election_setup.ready_election(
            small_manifest(), [insured_csv(ids), employer_csv([("1000000001", national_ids(1, seed=7)[0])])],
            tmp_path / "trustees", clock()).election
        yield {"app": app, "clock": clock, "election": election, "ids": ids}
        db.session.remove()
        db.engine.dispose()


def signed_in(env: dict[str, Any], kind: str = "insured", index: int = 0) -> Voter:
    app: Flask = env["app"]
    voter = Voter(app.test_client(), env["clock"], kind)
    if kind == "insured":
        voter.browser.signup("insured", env["ids"][index], f"1980-01-{(index % 28) + 1:02d}")
    else:
        voter.browser.signup("employer", "1000000001", national_ids(1, seed=7)[0])
    return voter


def board_state(election: Election) -> tuple[int, list[str]]:
    db.session.expire_all()
    return board.size(election), board.verify_chain(election)


def test_cast_receipt_revote_and_check(env: dict[str, Any]) -> None:
    election: Election = env["election"]
    voter = signed_in(env)
    context = voter.context()
    assert context["contest"]["id"] == "insured" and len(context["contest"]["candidates"]) == 5
    assert context["polls_open"] is True

    response, seed = voter.cast([1, 0, 1, 0, 0])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    receipt = body["receipt"]
    assert receipt["type"] == "ssbvote-receipt" and receipt["seq"] == 1
    assert body["superseded_previous"] is False
    assert signing.verify(receipt, signing.public_key_dict()["public_key"])
    assert "national" not in json.dumps(receipt) and env["ids"][0] not in json.dumps(receipt)

    # Re-vote: both ballots stay on the board, the newest counts.
    again, seed2 = voter.cast([0, 0, 0, 1, 1])
    assert again.status_code == 201 and again.get_json()["superseded_previous"] is True
    assert board_state(election) == (2, [])
    assert board.current_entry(election, context["pseudonym"]).seq == 2  # type: ignore[union-attr]

    # The receipt page shows the signed receipt, to its voter only.
    page = voter.client.get(body["receipt_url"])
    assert page.status_code == 200 and receipt["ballot_hash"] in page.get_data(as_text=True)
    other = signed_in(env, index=1)
    assert other.client.get(body["receipt_url"]).status_code == 404

    # Cast-as-intended check: at most 3 times, with the receipt's seed.
    anonymous = env["app"].test_client()
    for left in (2, 1, 0):
        check = anonymous.post("/api/elections/test-election/check",
                               json={"seq": 2, "token": check_token(seed2)})
        assert check.status_code == 200, check.get_json()
        data = check.get_json()
        assert data["checks_left"] == left
        key = ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=True)
        ballot = EncryptedContest.from_dict(data["ballot"], key.public_key)
        statement = ContestStatement(key.public_key, data["election_id"], data["contest"], data["pseudonym"], 5, 2)
        assert recover_selections(statement, ballot, seed2) == [0, 0, 0, 1, 1]
    used_up = anonymous.post("/api/elections/test-election/check", json={"seq": 2, "token": check_token(seed2)})
    assert used_up.status_code == 429
    wrong = anonymous.post("/api/elections/test-election/check", json={"seq": 1, "token": check_token(seed2)})
    assert wrong.status_code == 404


def test_check_expires_after_30_minutes(env: dict[str, Any]) -> None:
    voter = signed_in(env)
    response, seed = voter.cast([1, 0, 0, 0, 0])
    env["clock"].advance(31 * 60)
    late = env["app"].test_client().post("/api/elections/test-election/check",
                                         json={"seq": 1, "token": check_token(seed)})
    assert late.status_code == 410


def test_public_board_has_no_identities_and_checkpoints_chain(env: dict[str, Any]) -> None:
    voter = signed_in(env)
    for _ in range(4):
        assert voter.cast([0, 1, 0, 0, 0])[0].status_code == 201
    data = env["app"].test_client().get("/api/elections/test-election/board").get_json()
    assert [e["seq"] for e in data["entries"]] == [1, 2, 3, 4]
    text = json.dumps(data)
    assert all(nid not in text for nid in env["ids"])
    key_hex = signing.public_key_dict()["public_key"]
    # Opening checkpoint (seq 0) and one every 3 entries.
    assert [(c["seq"], c["final"]) for c in data["checkpoints"]] == [(0, False), (3, False)]
    assert all(signing.verify(c, key_hex) for c in data["checkpoints"])
    assert data["checkpoints"][1]["head"] == data["entries"][2]["entry_hash"]
    # Ballots themselves are published only after close.
    assert "ballot" not in env["app"].test_client().get("/api/elections/test-election/board/1").get_json()


REJECTIONS = ["tampered_ciphertext", "value_two", "too_many", "copied_from_other_voter",
              "other_electorate", "wrong_contest_shape", "no_csrf", "malformed", "replayed"]


@pytest.mark.parametrize("attack", REJECTIONS)
def test_bad_ballots_rejected_and_board_unchanged(env: dict[str, Any], attack: str) -> None:
    election: Election = env["election"]
    voter = signed_in(env)
    ctx = voter.context()
    good, seed = voter.encrypt([1, 1, 0, 0, 0], ctx)
    body: dict[str, Any] = {"contest": "insured", "ballot": good, "check_token": check_token(seed)}
    headers = None
    expected = 400
    if attack == "tampered_ciphertext":
        c = int(good["ciphertexts"][0], 16)
        good["ciphertexts"][0] = format(c * c % (int(ctx["election_key"]["n"], 16) ** 2), "x")
    elif attack == "value_two":
        n = int(ctx["election_key"]["n"], 16)
        c = int(good["ciphertexts"][0], 16)
        good["ciphertexts"][0] = format(c * (1 + n) % (n * n), "x")  # m = 1 → 2, proofs kept
    elif attack == "too_many":
        key = ElectionPublicKey.from_dict(ctx["election_key"], allow_insecure_test_key=True)
        over = encrypt_contest(ContestStatement(key.public_key, ctx["election_id"], "insured", ctx["pseudonym"], 5, 3),
                               [1, 1, 1, 0, 0], secrets.token_bytes(32))
        body["ballot"] = over.to_dict()  # a valid 3-of-5 ballot, but the contest allows 2
    elif attack == "copied_from_other_voter":
        other = signed_in(env, index=1)
        assert other.post(body).status_code == 400
        assert board_state(election) == (0, [])
        return
    elif attack == "other_electorate":
        employer = signed_in(env, "employer")
        assert employer.post(body).status_code == 403
        assert board_state(election) == (0, [])
        return
    elif attack == "wrong_contest_shape":
        body["ballot"] = {**good, "ciphertexts": good["ciphertexts"][:4]}
    elif attack == "no_csrf":
        headers = {}
    elif attack == "malformed":
        body = {"contest": "insured", "ballot": "not a ballot"}
    elif attack == "replayed":
        assert voter.post(body).status_code == 201
        expected = 409
    response = voter.post(body, headers)
    assert response.status_code == expected, response.get_data(as_text=True)
    if attack != "no_csrf":
        assert response.get_json()["error"]
    assert board_state(election) == ((1, []) if attack == "replayed" else (0, []))


def test_replay_is_refused_without_a_second_proof_check(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A ballot already on the board was verified when accepted: its replay costs a hash lookup,
    not another proof check (cheap to refuse under load)."""
    from app.services.voting import verification

    checks: list[str] = []
    real = verification.verify

    def counting(*args: Any, **kwargs: Any) -> None:
        checks.append(args[0].party)  # the statement's pseudonym
        real(*args, **kwargs)

    monkeypatch.setattr(verification, "verify", counting)
    voter = signed_in(env)
    ballot, seed = voter.encrypt([0, 1, 0, 0, 1])
    body = {"contest": "insured", "ballot": ballot, "check_token": check_token(seed)}
    assert voter.post(body).status_code == 201
    replay = voter.post(body)
    assert replay.status_code == 409 and replay.get_json()["error"] == "replayed"
    assert len(checks) == 1
    assert board_state(env["election"]) == (1, [])


def test_cast_refused_before_open_and_after_close(env: dict[str, Any]) -> None:
    election: Election = env["election"]
    voter = signed_in(env)
    ballot, seed = voter.encrypt([0, 0, 0, 0, 0])
    election_setup.close_polls(election, env["clock"]())
    response = voter.post({"contest": "insured", "ballot": ballot, "check_token": check_token(seed)})
    assert response.status_code == 409 and response.get_json()["error"] == "polls_closed"
    final = board.final_checkpoint(election)
    assert final is not None and final["final"] is True and final["seq"] == 0
    assert board_state(election) == (0, [])
    # After close the ballots are public on the board API.
    assert env["app"].test_client().get("/api/elections/test-election/board").status_code == 200


def test_unauthenticated_cast_is_401(env: dict[str, Any]) -> None:
    response = env["app"].test_client().post("/api/elections/test-election/cast", json={})
    assert response.status_code in (400, 401)  # CSRF (400) or authentication (401) first
    assert board_state(env["election"]) == (0, [])


def test_a_board_snapshot_while_polls_are_open_is_preverified_ahead_of_the_tally(
        env: dict[str, Any], tmp_path: Path) -> None:
    """docs/record.md §3.1: `ssbvote board export --snapshot` writes the board up to its latest
    signed checkpoint while the polls are open; `tally preverify` checks those ballots; after the
    close, `tally prepare --preverified` skips them and counts exactly as without."""
    from app.services.administration import approvals
    from app.services.voting import board_export, paper_votes
    from app.services.errors import ServiceError
    from tally.prepare import ENCRYPTED_TALLY, prepare
    from tally.preverify import preverify

    election: Election = env["election"]
    first, second = signed_in(env), signed_in(env, index=1)
    for selections in ([1, 0, 0, 0, 0], [0, 1, 0, 0, 0]):
        assert first.cast(selections)[0].status_code == 201
    assert second.cast([0, 0, 1, 0, 0])[0].status_code == 201  # seq 3: a checkpoint (every 3)
    assert second.cast([0, 0, 0, 1, 0])[0].status_code == 201  # seq 4: after it
    with pytest.raises(ServiceError, match="only after polls have closed"):
        board_export.export(election, tmp_path / "too-early")
    snap = board_export.export(election, tmp_path / "snapshot", snapshot=True)
    assert len((snap / "board" / "entries.jsonl").read_bytes().splitlines()) == 3
    assert not (snap / "paper_overrides.json").exists()
    known = tmp_path / "preverified.txt"
    summary = preverify(snap, known, processes=1, allow_insecure_test_key=True, show_progress=False)
    assert (summary.entries, summary.final, summary.verified, summary.invalid) == (3, False, 2, [])

    now = env["clock"]()
    election_setup.close_polls(election, now)
    a, b = election_setup.two_officials()
    pending = paper_votes.propose(election, a, "voter_id\n", now)  # nobody voted on paper
    approvals.approve(pending.id, b, now)
    final = board_export.export(election, tmp_path / "closed")
    plain = prepare(final, tmp_path / "plain", processes=1, allow_insecure_test_key=True, show_progress=False)
    reused = prepare(final, tmp_path / "reused", processes=1, allow_insecure_test_key=True, show_progress=False,
                     preverified=known)
    assert reused.preverified == 1  # the first voter's last ballot (seq 2); seq 4 came after the snapshot
    assert reused.counted == plain.counted == {"insured": 2, "employer": 0}
    assert (tmp_path / "reused" / ENCRYPTED_TALLY).read_bytes() == (tmp_path / "plain" / ENCRYPTED_TALLY).read_bytes()
