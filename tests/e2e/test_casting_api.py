"""Casting through the real HTTP stack (Flask test client, CSRF on): ballot context, cast,
receipt, re-vote, board, polls; and every rejection leaves the board unchanged.  Record format
version 2: every cast is signed with the voter's credential (docs/protocol.md §13.3) and the
server refuses a wrong credential, a bad signature and a stale ``previous``.  Version 3: the cast
request carries no seed and nothing derived from it (a ``check_token`` is malformed), and the
seed-based receipt check is gone (tests/e2e/test_audit_api.py tests the audit that replaces it)."""
from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from datetime import timedelta
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Election
from app.services.errors import PollsClosed
from app.services.platform import signing
from app.services.voting import board
from crypto import encrypt_contest
from crypto.encoding import canonical_json
from tests.support import election_setup, voting
from tests.support.auth_client import Browser, Clock

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Voter:
    """A signed-in voter's browser: fetches the context, encrypts locally, signs, casts."""

    def __init__(self, client: FlaskClient, clock: Clock, kind: str, credential: str = "",
                 canonical: bool = False):
        self.client, self.kind, self.credential = client, kind, credential
        self.canonical = canonical  # send bodies as canonical JSON, as the browser does
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
        return voting.encrypt(context or self.context(), selections, seed)

    def body(self, ballot: dict[str, Any], seed: bytes, context: dict[str, Any] | None = None,
             **changes: Any) -> dict[str, Any]:
        return {**voting.body(context or self.context(), self.credential, ballot, seed), **changes}

    def post(self, body: Any, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        headers = self.headers() if headers is None else headers
        if self.canonical:  # the server's fast path (casting.canonical_payload)
            return self.client.post("/api/elections/test-election/cast", data=canonical_json(body),
                                    content_type="application/json", headers=headers)
        # Flask's JSON (sorted keys, with spaces): not canonical, decoded strictly
        return self.client.post("/api/elections/test-election/cast", json=body, headers=headers)

    def cast(self, selections: list[int]):  # type: ignore[no-untyped-def]
        context = self.context()
        ballot, seed = self.encrypt(selections, context)
        return self.post(self.body(ballot, seed, context)), seed


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield from election_setup.small_election_app(tmp_path, BOARD_CHECKPOINT_EVERY=3)


def signed_in(env: dict[str, Any], kind: str = "insured", index: int = 0, canonical: bool = False) -> Voter:
    app: Flask = env["app"]
    key = env["ids"][index] if kind == "insured" else "1000000001"
    voter = Voter(app.test_client(), env["clock"], kind, env["credentials"][key], canonical)
    if kind == "insured":
        voter.browser.signup("insured", key)
    else:
        voter.browser.signup("employer", key)
    return voter


def board_state(election: Election) -> tuple[int, list[str]]:
    db.session.expire_all()
    return board.size(election), board.verify_chain(election)


def test_cast_receipt_and_revote(env: dict[str, Any]) -> None:
    election: Election = env["election"]
    voter = signed_in(env)
    context = voter.context()
    assert context["contest"]["id"] == "insured" and len(context["contest"]["candidates"]) == 5
    assert context["polls_open"] is True
    # Version 2: the pins, the configured CA key, the voter's credential and its current ballot.
    setup = env["setup"]
    assert context["opening"] == setup.authority.opening
    assert context["opening_hash"] == setup.authority.opening_hash
    assert context["ca_key"] == setup.authority.ca_public_key
    assert context["credential"] == setup.authority.public_credentials["insured"][env["ids"][0]]
    assert context["previous"] == ""

    response, seed = voter.cast([1, 0, 1, 0, 0])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    receipt = body["receipt"]
    assert receipt["type"] == "ssbvote-receipt" and receipt["seq"] == 1
    assert body["superseded_previous"] is False
    assert signing.verify(receipt, signing.public_key_dict()["public_key"])
    assert receipt["opening"] == context["opening_hash"] and receipt["credential"] == context["credential"]
    assert "national" not in json.dumps(receipt) and env["ids"][0] not in json.dumps(receipt)
    assert voter.context()["previous"] == receipt["ballot_hash"]

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

    # Version 3: the version-2 check API is gone.
    anonymous = env["app"].test_client()
    gone = anonymous.post("/api/elections/test-election/check", json={"seq": 2, "token": "00" * 32})
    assert gone.status_code in (404, 405)


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
    # Ballots are public once a signed checkpoint covers them (record.md §3.2), not before.
    client = env["app"].test_client()
    assert "ballot" in client.get("/api/elections/test-election/board/3").get_json()
    assert "ballot" not in client.get("/api/elections/test-election/board/4").get_json()


REJECTIONS = ["tampered_ciphertext", "value_two", "too_many", "copied_from_other_voter",
              "copied_and_resigned", "other_electorate", "wrong_contest_shape", "no_csrf", "malformed",
              "replayed", "wrong_credential", "other_voters_credential", "bad_signature",
              "signed_for_pseudonym_alone", "stale_previous", "missing_signature", "check_token_field",
              "seed_field"]


@pytest.mark.parametrize("encoding", ["json", "canonical"])
@pytest.mark.parametrize("attack", REJECTIONS)
def test_bad_ballots_rejected_and_board_unchanged(env: dict[str, Any], attack: str, encoding: str) -> None:
    """Every refusal is the same whether the body is the canonical JSON the browser sends (the
    fast path that takes the ballot's bytes in place) or any other JSON (decoded strictly)."""
    election: Election = env["election"]
    voter = signed_in(env, canonical=encoding == "canonical")
    ctx = voter.context()
    good, seed = voter.encrypt([1, 1, 0, 0, 0], ctx)
    headers = None
    expected, code = 400, "invalid_ballot"
    on_board = 0
    body: dict[str, Any]
    if attack == "tampered_ciphertext":
        c = int(good["ciphertexts"][0], 16)
        good["ciphertexts"][0] = format(c * c % (int(ctx["election_key"]["n"], 16) ** 2), "x")
    elif attack == "value_two":
        n = int(ctx["election_key"]["n"], 16)
        c = int(good["ciphertexts"][0], 16)
        good["ciphertexts"][0] = format(c * (1 + n) % (n * n), "x")  # m = 1 → 2, proofs kept
    elif attack == "too_many":  # a valid 3-of-5 ballot, but the contest allows 2
        good = encrypt_contest(voting.statement(ctx, [1, 1, 1, 0, 0], 3), [1, 1, 1, 0, 0],
                               secrets.token_bytes(32)).to_dict()
    elif attack == "signed_for_pseudonym_alone":  # a version-1 ballot: party without the credential
        good = encrypt_contest(voting.statement(ctx, [1, 1, 0, 0, 0], party_=ctx["pseudonym"]), [1, 1, 0, 0, 0],
                               secrets.token_bytes(32)).to_dict()
    elif attack == "wrong_contest_shape":
        good = {**good, "ciphertexts": good["ciphertexts"][:4]}
    body = voter.body(good, seed, ctx)
    if attack == "copied_from_other_voter":  # another voter sends it as it is: not their credential
        other = signed_in(env, index=1, canonical=voter.canonical)
        response = other.post(body)
        assert (response.status_code, response.get_json()["error"]) == (403, "wrong_credential")
        assert board_state(election) == (0, [])
        return
    if attack == "copied_and_resigned":  # ... or signed with their own: the proofs name the first
        other = signed_in(env, index=1, canonical=voter.canonical)
        response = other.post(other.body(good, seed))
        assert (response.status_code, response.get_json()["error"]) == (400, "invalid_ballot")
        assert board_state(election) == (0, [])
        return
    if attack == "other_electorate":
        employer = signed_in(env, "employer", canonical=voter.canonical)
        response = employer.post(employer.body(good, seed, ctx))
        assert (response.status_code, response.get_json()["error"]) == (403, "wrong_contest")
        assert board_state(election) == (0, [])
        return
    if attack == "no_csrf":
        headers = {}
    elif attack == "malformed":
        body = {"contest": "insured", "ballot": "not a ballot"}
        code = "malformed"
    elif attack == "missing_signature":
        del body["signature"]
        code = "malformed"
    elif attack == "check_token_field":  # version 2's check_token (derived from the seed): refused
        import hashlib

        body["check_token"] = hashlib.sha256(b"ssbvote-check-v1" + seed).hexdigest()
        code = "malformed"
    elif attack == "seed_field":  # a cast never carries its seed (docs/protocol.md §4.4)
        body["seed"] = seed.hex()
        code = "malformed"
    elif attack == "replayed":
        assert voter.post(body).status_code == 201
        expected, code, on_board = 409, "replayed", 1
    elif attack == "wrong_credential":  # a credential that is nobody's
        from crypto.credential import generate_credential

        body = voting.body(ctx, generate_credential(), good, seed)
        expected, code = 403, "wrong_credential"
    elif attack == "other_voters_credential":  # another voter's registered credential
        other = env["credentials"][env["ids"][1]]
        body = voting.body(ctx, other, good, seed)
        expected, code = 403, "wrong_credential"
    elif attack == "bad_signature":
        body["signature"] = voting.sign(ctx, voter.credential, good, previous="ab" * 32)
        expected, code = 400, "bad_signature"
    elif attack == "stale_previous":  # signed before the voter's other device cast
        first, first_seed = voter.encrypt([0, 0, 1, 0, 0], ctx)
        assert voter.post(voter.body(first, first_seed, ctx)).status_code == 201
        expected, code, on_board = 409, "stale_previous", 1
    response = voter.post(body, headers)
    assert response.status_code == expected, response.get_data(as_text=True)
    if attack != "no_csrf":
        assert response.get_json()["error"] == code
    assert board_state(election) == (on_board, [])


def test_a_stale_previous_is_resigned_and_accepted(env: dict[str, Any]) -> None:
    """A ballot signed with the old ``previous`` (another tab or device cast meanwhile) is
    refused (409 stale_previous), then signed again with the current one and accepted — the
    credential's ballots chain on the board."""
    election: Election = env["election"]
    voter = signed_in(env)
    ctx = voter.context()
    ballot, seed = voter.encrypt([0, 1, 0, 0, 0], ctx)
    assert voter.cast([1, 0, 0, 0, 0])[0].status_code == 201  # the other tab
    stale = voter.post(voter.body(ballot, seed, ctx))
    assert (stale.status_code, stale.get_json()["error"]) == (409, "stale_previous")
    accepted = voter.post(voter.body(ballot, seed, voter.context()))
    assert accepted.status_code == 201, accepted.get_json()
    entries = list(board.iter_entries(election))
    assert [e.previous for e in entries] == ["", entries[0].ballot_hash]
    assert board_state(election) == (2, [])


def test_a_revoked_credential_cannot_cast_and_its_replacement_can(env: dict[str, Any], tmp_path: Path) -> None:
    """docs/record.md §6.3: the CA revokes a lost credential and issues a new one; the server
    imports the revocation while polls are open; the old credential is refused, the new one is
    the voter's and its first ballot has an empty ``previous``."""
    from app.services.administration import authority as authority_service
    from ca.revoke import revoke

    setup = env["setup"]
    voter = signed_in(env)
    assert voter.cast([1, 0, 0, 0, 0])[0].status_code == 201
    ctx = voter.context()
    made = revoke(setup.authority.ca_dir, setup.authority.ca_key, "insured", env["ids"][0], reissue=True)
    assert made.credential is not None
    authority_service.import_revocations(election=env["election"], data=(setup.authority.ca_dir / "revocations.jsonl").read_bytes(),
                                         mapping=(setup.authority.ca_dir / "mapping-insured.json").read_bytes())
    ballot, seed = voter.encrypt([0, 1, 0, 0, 0], ctx)
    old = voter.post(voter.body(ballot, seed, ctx))
    assert (old.status_code, old.get_json()["error"]) == (403, "wrong_credential")
    fresh = voter.context()
    assert fresh["credential"] == made.revocation["replacement"] and fresh["previous"] == ""
    voter.credential = made.credential
    again, _ = voter.cast([0, 1, 0, 0, 0])
    assert again.status_code == 201, again.get_json()
    # Importing the same file again changes nothing.
    assert authority_service.import_revocations(
        env["election"], (setup.authority.ca_dir / "revocations.jsonl").read_bytes()).unchanged == 1
    # The export carries the revocation (revocations.jsonl, record.md §3); the tally excludes
    # the revoked credential's ballot and counts the replacement's.
    from app.services.voting import board_export
    from tally.prepare import prepare

    now = env["clock"]()
    election_setup.close_polls(env["election"], now)
    election_setup.record_paper_votes(env["election"], "voter_id\n", now)
    export = board_export.export(env["election"], tmp_path / "closed")
    lines = (export / "revocations.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["replacement"] for line in lines] == [made.revocation["replacement"]]
    assert (export / "opening.json").read_bytes() == env["election"].opening.encode()
    prepare(export, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)
    counted = json.loads((tmp_path / "work" / "tally" / "counted.json").read_text())["contests"]["insured"]
    assert [c["seq"] for c in counted["counted"]] == [2]
    assert [(e["seq"], e["reason"]) for e in counted["excluded"]] == [(1, "revoked")]


def test_replay_is_refused_without_a_second_proof_check(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A ballot already on the board was verified when accepted: its replay costs a hash lookup,
    not another proof check (cheap to refuse under load)."""
    from app.services.voting import verification

    checks: list[str] = []
    real = verification.verify

    def counting(*args: Any, **kwargs: Any) -> None:
        checks.append(args[0].party)  # the statement's party <pseudonym>/<credential>
        real(*args, **kwargs)

    monkeypatch.setattr(verification, "verify", counting)
    voter = signed_in(env)
    ctx = voter.context()
    ballot, seed = voter.encrypt([0, 1, 0, 0, 1], ctx)
    body = voter.body(ballot, seed, ctx)
    assert voter.post(body).status_code == 201
    replay = voter.post(body)
    assert replay.status_code == 409 and replay.get_json()["error"] == "replayed"
    assert checks == [f"{ctx['pseudonym']}/{ctx['credential']}"]


@pytest.mark.parametrize("value", ["ciphertext_above_n_square", "ciphertext_zero", "response_too_long"])
def test_a_value_out_of_range_is_refused_with_the_same_message_in_both_encodings(
        env: dict[str, Any], value: str) -> None:
    """A cast in the canonical form is not parsed into integers by the worker: its values are
    range-checked by the proof process (crypto/proof_process.py).  The refusal — status, code and
    message — is the one the strict decoder gives the same ballot sent as other JSON."""
    election: Election = env["election"]
    answers = []
    for index, encoding in enumerate(["json", "canonical"]):
        voter = signed_in(env, index=index, canonical=encoding == "canonical")
        ctx = voter.context()
        ballot, seed = voter.encrypt([0, 1, 0, 1, 0], ctx)
        n = int(ctx["election_key"]["n"], 16)
        if value == "ciphertext_above_n_square":
            ballot["ciphertexts"][0] = format(n * n + 5, "x")
        elif value == "ciphertext_zero":
            ballot["ciphertexts"][0] = "0"
        else:
            ballot["proofs"][2]["responses"][1] = format(n ** 4, "x")
        response = voter.post(voter.body(ballot, seed, ctx))
        answers.append((response.status_code, response.get_json()["error"], response.get_json()["message"]))
    assert answers[0] == answers[1], answers
    status, code, message = answers[0]
    assert (status, code) == (400, "invalid_ballot")
    assert ("ciphertext 0" if value.startswith("ciphertext") else "0/1 proof of candidate 2") in message
    assert board_state(election) == (0, [])


def test_a_batch_the_proof_process_could_not_decide_is_busy_and_can_be_sent_again(
        env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's proof process died twice on the batch (crypto/proof_process.py): the cast is
    neither accepted nor refused — 503 busy with Retry-After, nothing on the board — and the same
    body is accepted once the proof process works again."""
    from app.services.voting import verification
    from crypto.proof_process import ProofProcessLost

    election: Election = env["election"]
    voter = signed_in(env)
    ctx = voter.context()
    ballot, seed = voter.encrypt([1, 0, 0, 1, 0], ctx)
    body = voter.body(ballot, seed, ctx)
    before = board_state(election)

    def lost(items: Any) -> Any:
        raise ProofProcessLost("the proof process stopped while checking a batch")

    monkeypatch.setattr(verification._PROOFS, "check", lost)
    busy = voter.post(body)
    assert busy.status_code == 503 and busy.get_json()["error"] == "busy"
    assert busy.headers["Retry-After"] == "1"
    assert board_state(election) == before
    monkeypatch.undo()
    accepted = voter.post(body)
    assert accepted.status_code == 201
    assert board_state(election)[0] == before[0] + 1
    assert board_state(env["election"]) == (1, [])


def test_cast_refused_before_open_and_after_close(env: dict[str, Any]) -> None:
    election: Election = env["election"]
    voter = signed_in(env)
    ctx = voter.context()
    ballot, seed = voter.encrypt([0, 0, 0, 0, 0], ctx)
    election_setup.close_polls(election, env["clock"]())
    response = voter.post(voter.body(ballot, seed, ctx))
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
    from app.services.voting import board_export
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
    election_setup.record_paper_votes(election, "voter_id\n", now)  # nobody voted on paper
    final = board_export.export(election, tmp_path / "closed")
    plain = prepare(final, tmp_path / "plain", processes=1, allow_insecure_test_key=True, show_progress=False)
    reused = prepare(final, tmp_path / "reused", processes=1, allow_insecure_test_key=True, show_progress=False,
                     preverified=known)
    assert reused.preverified == 1  # the first voter's last ballot (seq 2); seq 4 came after the snapshot
    assert reused.counted == plain.counted == {"insured": 2, "employer": 0}
    assert (tmp_path / "reused" / ENCRYPTED_TALLY).read_bytes() == (tmp_path / "plain" / ENCRYPTED_TALLY).read_bytes()


def test_cast_at_never_goes_back_and_never_leaves_the_poll_window(env: dict[str, Any]) -> None:
    """Casts verified concurrently reach the board lock in any order: the entry's time is taken
    under the lock, never before the previous entry's (record.md §2.1, verifier check 21), and
    a ballot that reaches the board after the window closed is refused, not stamped outside it.
    Found by `ssbvote simulate` with concurrent voters (check 21 failed on an honest board)."""
    election: Election = env["election"]
    first = signed_in(env, index=0)
    response, _ = first.cast([1, 0, 0, 0, 0])
    assert response.status_code == 201, response.get_json()
    first_at = response.get_json()["receipt"]["cast_at"]
    # A second cast whose request started earlier (its clock reading is older) lands after it.
    env["clock"].advance(-5)
    second = signed_in(env, index=1)
    response, _ = second.cast([0, 1, 0, 0, 0])
    assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    entries = list(board.iter_entries(election))
    assert [e.seq for e in entries] == [1, 2]
    assert entries[1].cast_at == entries[0].cast_at == first_at
    assert board.verify_chain(election) == []
    # Under the lock, after the close of the poll window: refused, the board unchanged.
    late = election.closes_at + timedelta(seconds=1)
    with pytest.raises(PollsClosed):
        board.append(election, entries[0].pseudonym, entries[0].contest, "{}", "ab" * 32, late,
                     credential=entries[0].credential, previous=entries[0].ballot_hash,
                     signature="00" * 64)
    db.session.rollback()
    assert board_state(election) == (2, [])


def test_an_expired_session_at_cast_is_401_session_expired_and_records_nothing(env: dict[str, Any]) -> None:
    """Issue 18: a cast after the idle timeout says "sign in again" (401 session_expired), not a
    400 the voter can never get past — whether the browser still sends the expired cookie, or
    already dropped it (and the CSRF token with it)."""
    app: Flask = env["app"]
    voter = signed_in(env)
    ctx = voter.context()
    ballot, seed = voter.encrypt([1, 0, 0, 0, 0], ctx)
    headers = voter.headers()
    body = voter.body(ballot, seed, ctx)
    # Activity keeps it alive: the keep-alive answers the seconds left, and moves "seen".
    idle = app.config["SSBVOTE"].session_idle_minutes * 60
    env["clock"].advance(idle - 60)
    alive = voter.client.get("/api/session")
    assert alive.status_code == 200 and alive.get_json()["seconds_left"] == idle
    env["clock"].advance(idle - 60)
    assert voter.client.get("/api/session").get_json()["seconds_left"] == idle
    # Now idle past the timeout: the cookie still arrives, the session is over.
    env["clock"].advance(idle + 1)
    response = voter.client.post("/api/elections/test-election/cast", json=body, headers=headers)
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"] == "session_expired"
    assert board_state(env["election"]) == (0, [])
    # The browser dropped the expired cookie: the CSRF token is gone too — still 401, not 400.
    bare = app.test_client()
    response = bare.post("/api/elections/test-election/cast", json=body, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "session_expired"
    assert bare.get("/api/session").status_code == 401
    assert board_state(env["election"]) == (0, [])


def test_a_live_session_without_the_csrf_token_is_still_refused_400(env: dict[str, Any]) -> None:
    """The 401 mapping is only for a session that is over: a live session's cast without its
    CSRF token stays a 400 (a cross-site request must not learn anything more)."""
    voter = signed_in(env)
    ballot, seed = voter.encrypt([0, 1, 0, 0, 0])
    response = voter.post(voter.body(ballot, seed), headers={})
    assert response.status_code == 400 and response.get_json()["error"] == "malformed"
    assert board_state(env["election"]) == (0, [])


def test_a_canonical_body_is_taken_in_place_and_stores_the_same_bytes(
        env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser's canonical body (docs/record.md §2.6) is not decoded and encoded again: the
    server decodes only the small fields after the ballot, and the board stores the ballot's bytes
    as sent, which are its canonical JSON (the hash the voter signed)."""
    from app.services.voting import casting

    decoded: list[int] = []
    real_loads = casting.strict_loads

    def loads(data: bytes | str, what: str = "JSON document") -> Any:
        decoded.append(len(data))
        return real_loads(data, what)

    def no_encoding(value: Any) -> bytes:
        raise AssertionError("the canonical body's ballot was encoded again")

    voter = signed_in(env, canonical=True)
    ctx = voter.context()
    ballot, seed = voter.encrypt([0, 1, 0, 1, 0], ctx)
    body = voter.body(ballot, seed, ctx)
    monkeypatch.setattr(casting, "strict_loads", loads)
    monkeypatch.setattr(casting, "canonical_json", no_encoding)
    response = voter.post(body)
    assert response.status_code == 201, response.get_json()
    assert decoded and max(decoded) < 400  # the fields after the ballot, not the ~40 KB ballot
    seq = response.get_json()["receipt"]["seq"]
    db.session.expire_all()
    entry = board.entry_at(env["election"], seq)
    assert entry is not None and board.ballot_text(entry) == canonical_json(ballot).decode()
    assert entry.ballot_hash == voting.ballot_hash(ballot)


#: Bytes a mutation may write into a canonical body: JSON's structure, hex and not-hex, escapes.
_MUTATION_BYTES = b'"{}[],: 0aAf\\x-'


def test_the_canonical_fast_path_agrees_with_the_strict_decoder(env: dict[str, Any]) -> None:
    """Property (hypothesis): for any canonical cast body with bytes changed, inserted or cut,
    casting.canonical_payload either declines (the strict decoder then decides) or returns exactly
    what the strict decoder returns, with the ballot's bytes its canonical JSON — so the fast path
    never accepts a body the strict path refuses, nor reads one differently."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    from app.models import RollEntry
    from app.services.voting import casting
    from crypto.encoding import strict_loads
    from crypto.errors import InvalidInput

    voter = signed_in(env, canonical=True)
    ctx = voter.context()
    ballot, seed = voter.encrypt([1, 0, 0, 0, 1], ctx)
    good = canonical_json(voter.body(ballot, seed, ctx))
    roll_entry = db.session.scalar(
        db.select(RollEntry).where(RollEntry.pseudonym == ctx["pseudonym"]))
    election = env["election"]
    found = casting.canonical_payload(election, roll_entry, good)
    assert found is not None and found["ballot"].text == canonical_json(ballot)

    def strict(body: bytes) -> Any:
        try:
            return strict_loads(body, "request body")
        except (InvalidInput, ValueError, UnicodeDecodeError):
            return None

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(edits=st.lists(st.tuples(st.integers(0, len(good)), st.sampled_from(["set", "insert", "cut"]),
                                    st.sampled_from(list(_MUTATION_BYTES))), min_size=1, max_size=3),
           near_end=st.booleans())
    def check(edits: list[tuple[int, str, int]], near_end: bool) -> None:
        body = bytearray(good)
        for position, kind, byte in edits:
            if near_end:  # the fields after the ballot and the ballot's last values
                position = len(body) - 1 - position % 400
            position = min(position, len(body) - 1)
            if kind == "set":
                body[position] = byte
            elif kind == "insert":
                body.insert(position, byte)
            else:
                del body[position]
        fast = casting.canonical_payload(election, roll_entry, bytes(body))
        if fast is None:
            return
        slow = strict(bytes(body))
        assert isinstance(slow, dict), bytes(body)[-300:]
        assert canonical_json(slow["ballot"]) == fast["ballot"].text
        assert {k: v for k, v in slow.items() if k != "ballot"} == {k: v for k, v in fast.items() if k != "ballot"}

    check()
    # Two ways of breaking it the mutations may miss: a second "ballot" field after the contest,
    # and a body that continues after its end.
    twice = good[:-1] + b',"ballot":{}}'
    assert casting.canonical_payload(election, roll_entry, twice) is None and strict(twice) is None
    trailing = good + b"[]"
    assert casting.canonical_payload(election, roll_entry, trailing) is None and strict(trailing) is None
