"""Poll extensions and lots at a tied last seat, signed by two officials (docs/record.md §2.7,
§4.6; issues 20 and 21), over real HTTP (the app under werkzeug's threaded server on a free port
of 127.0.0.1, requests sessions as the officials' and voters' browsers, CSRF on), then the
board export, the tally and the independent verifier.

The officials' pages are driven as paper_votes's test drives its page: the page shows the
unsigned object and its digest, the test signs as app/static/js/decision-page.js does (Ed25519
by the official key over the object without ``signatures``).  Attacks: a database insider adds
an extension signed by one official only (or by the board key), and stuffs a ballot after the
real close — the server then accepts it, but the verifier fails checks 41 and 21."""
from __future__ import annotations

import html
import json
import re
import threading
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pyotp
import pytest
import requests
from werkzeug.serving import make_server

from app.extensions import db
from app.models import ContestLot, PendingAction, PollExtension
from app.services.administration import approvals
from app.services.errors import Conflict
from app.services.platform import signing
from app.services.voting import board, board_export, lots, poll_extensions
from app.services.voting import results as results_service
from crypto.credential import official_key
from crypto.encoding import canonical_json
from election import decisions as rules
from election.board import iso_utc, paper_list_digest
from tally.finish import finish
from tally.prepare import ENCRYPTED_TALLY, prepare
from tally.trustee import decrypt
from tests.conftest import build_app, make_config
from tests.e2e.test_casting_api import Voter
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, Browser, Clock, csrf_token
from tests.support.factories import employer_csv, insured_csv, national_ids, small_manifest
from verifier.checks import Options, verify_record, verify_snapshot

PASSWORD = "correct horse battery"
_DATA = re.compile(r'<script type="application/json" id="decision-sign-data">(.*?)</script>', re.S)
_ACTION = re.compile(r'<form method="post" action="([^"]+)" id="decision-sign-form"')
NEW_CLOSE = "2030-01-01T18:00:00+07:00"  # the manifest closes at 16:00 +07:00 (09:00 UTC)


class _Answer:
    """An HTTP answer with the few methods of Flask's test response the helpers use."""

    def __init__(self, answer: requests.Response):
        self.status_code, self.headers, self.data = answer.status_code, answer.headers, answer.content

    def get_data(self, as_text: bool = False) -> Any:
        return self.data.decode("utf-8") if as_text else self.data

    def get_json(self) -> Any:
        return json.loads(self.data)


class HttpClient:
    """A browser over real HTTP: a requests session (cookies kept, redirects not followed)
    against the live server, with the interface of Flask's test client that
    tests/support/auth_client.Browser and tests/e2e/test_casting_api.Voter use."""

    def __init__(self, url: str, app: Any):
        self.url, self.application, self.session = url, app, requests.Session()

    @staticmethod
    def _release() -> None:
        """SQLite: the app begins every transaction IMMEDIATE, so the test thread's own session
        ends its transaction before the server (another thread) needs the database."""
        db.session.commit()

    def get(self, path: str, **kw: Any) -> _Answer:
        self._release()
        return _Answer(self.session.get(self.url + path, allow_redirects=False, timeout=120, **kw))

    def post(self, path: str, data: Any = None, json: Any = None, headers: Any = None,
             content_type: str | None = None) -> _Answer:
        self._release()
        return _Answer(self.session.post(self.url + path, data=data, json=json, headers=headers,
                                         allow_redirects=False, timeout=120))

    def get_cookie(self, name: str) -> Any:
        value = self.session.cookies.get(name)
        return None if value is None else type("Cookie", (), {"value": value})()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    clock = Clock()
    app = build_app(make_config(tmp_path, **FAST_ARGON2, AUTH_CLOCK=clock))
    with app.app_context():
        ids = national_ids(3)
        setup = election_setup.ready_election(
            small_manifest(), [insured_csv(ids), employer_csv([("1000000001", national_ids(1, seed=7)[0])])],
            tmp_path / "trustees", clock())
        for official in setup.officials:
            official.totp_secret = pyotp.random_base32()
        db.session.commit()
        clock.now = setup.election.closes_at - timedelta(hours=1)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="ssbvote-decisions", daemon=True)
        thread.start()
        try:
            yield {"app": app, "clock": clock, "election": setup.election, "ids": ids, "setup": setup,
                   "secrets": {o.username: o.totp_secret for o in setup.officials},
                   "officials": setup.official_credentials, "credentials": setup.credentials,
                   "tmp": tmp_path, "url": f"http://127.0.0.1:{server.server_port}"}
        finally:
            server.shutdown()
            thread.join(timeout=10)
            db.session.remove()
            db.engine.dispose()


def official(env: dict[str, Any], username: str) -> Browser:
    browser = Browser(HttpClient(env["url"], env["app"]), env["clock"])  # type: ignore[arg-type]
    browser.client.get("/?lang=en")
    done = browser.login("official", username, env["secrets"][username], PASSWORD)
    assert done.status_code == 302, done.get_data(as_text=True)
    return browser


def voter(env: dict[str, Any], index: int) -> Voter:
    key = env["ids"][index]
    v = Voter(HttpClient(env["url"], env["app"]), env["clock"], "insured", env["credentials"][key])  # type: ignore[arg-type]
    v.browser.signup("insured", key)
    return v


def signing_page(page: str) -> tuple[dict[str, Any], str]:
    data, action = _DATA.search(page), _ACTION.search(page)
    assert data and action, "no signing form on the page:\n" + page[-3000:]
    return json.loads(data.group(1)), html.unescape(action.group(1))


def sign(browser: Browser, page: str, credential: str, **changes: str) -> Any:
    data, action = signing_page(page)
    form = {"csrf_token": csrf_token(page), "digest": data["digest"],
            "official_signature": official_key(credential).sign(canonical_json(data["body"])).hex(), **changes}
    return browser.client.post(action, data=form)


def propose_extension(browser: Browser, election_id: int, closes: str, reason: str = "outage") -> Any:
    url = f"/official/elections/{election_id}/extend-polls"
    page = browser.client.get(url)
    assert page.status_code == 200
    return browser.client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                          "closes": closes, "reason": reason})


def extend(env: dict[str, Any], closes: str = NEW_CLOSE) -> None:
    """ro-a makes and signs the extension, ro-b checks, signs and approves it."""
    election = env["election"]
    a = official(env, "ro-a")
    shown = propose_extension(a, election.id, closes, "network outage in Region 3")
    page = shown.get_data(as_text=True)
    data, action = signing_page(page)
    assert action.endswith(f"/official/elections/{election.id}/decisions/extend_polls/propose")
    assert data["body"]["closes"] == closes and data["digest"] == paper_list_digest(data["body"])
    assert data["digest"] in page and closes in page
    assert sign(a, page, env["officials"]["ro-a"]).status_code == 302
    b = official(env, "ro-b")
    assert "review-extend_polls-" in b.client.get("/official/").get_data(as_text=True)
    approval = b.client.get(f"/official/elections/{election.id}/extend-polls").get_data(as_text=True)
    bdata, baction = signing_page(approval)
    assert bdata["body"] == data["body"] and "/approve" in baction
    done = sign(b, approval, env["officials"]["ro-b"])
    assert done.status_code == 302
    db.session.expire_all()


def run_tally(env: dict[str, Any], export: Path, record: Path) -> None:
    work = env["tmp"] / "work"
    prepare(export, work, processes=1, allow_insecure_test_key=True, show_progress=False)
    outs = []
    for index, path in enumerate(env["setup"].ceremony.share_files[:2], 1):
        out = env["tmp"] / f"share-{index}.json"
        decrypt(path, work / ENCRYPTED_TALLY, out, election_setup.TRUSTEES[index - 1][1],
                allow_insecure_test_key=True)
        outs.append(out)
    finish(work, outs, record, allow_insecure_test_key=True)


def ca_key(env: dict[str, Any]) -> bytes:
    return bytes.fromhex(env["setup"].authority.ca_public_key)


def test_extension_and_lot_two_officials_to_a_verified_record(env: dict[str, Any]) -> None:
    election = env["election"]
    manifest_close = election.closes_at
    first = voter(env, 0)
    assert first.cast([1, 1, 0, 0, 0])[0].status_code == 201
    extend(env)
    assert board.effective_close(election).isoformat() == "2030-01-01T11:00:00+00:00"
    assert [x["closes"] for x in poll_extensions.extensions(election)] == [NEW_CLOSE]
    # After the manifest's close, before the extended one: accepted.
    env["clock"].now = manifest_close + timedelta(minutes=30)
    second = voter(env, 1)
    response, _ = second.cast([1, 0, 1, 0, 0])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["receipt"]["cast_at"] > iso_utc(manifest_close)
    # The snapshot API serves the extensions (record.md §3.2).
    served = first.client.get("/api/elections/test-election/snapshot/poll_extensions.jsonl")
    assert served.status_code == 200 and json.loads(served.data.splitlines()[0])["closes"] == NEW_CLOSE
    # After the extended close: refused.
    env["clock"].now = board.effective_close(election) + timedelta(seconds=1)
    third = voter(env, 2)
    assert third.cast([0, 0, 0, 1, 1])[0].get_json()["error"] == "polls_closed"

    election_setup.close_polls(election, env["clock"]())
    election_setup.record_paper_votes(election, "voter_id\n", env["clock"]())
    export = board_export.export(election, env["tmp"] / "export")
    assert (export / "poll_extensions.jsonl").is_file()
    record = env["tmp"] / "record"
    run_tally(env, export, record)
    results = json.loads((record / "results.json").read_text())
    assert results["contests"]["insured"].get("tie_at_last_seat") is True  # I2 and I3: 1 vote each
    verified = verify_record(record, Options(allow_test_key=True, ca_key=ca_key(env)))
    assert verified.ok, [(r.name, r.failures) for r in verified.results if not r.passed]
    by_name = {r.name: r for r in verified.results}
    assert [n.code for n in by_name["poll.extensions"].notes] == ["extensions.count"]
    assert {n.params.get("contest") for n in by_name["results.lots"].notes} >= {"insured"}

    # Results published; then the lot, by two officials.
    results_service.publish(election, record, processes=1)
    assert lots.open_ties(election)["insured"] == (["I2", "I3"], 1)
    a = official(env, "ro-a")
    assert f"record-lot-{election.id}" in a.client.get("/official/").get_data(as_text=True)
    url = f"/official/elections/{election.id}/lot"
    form_page = a.client.get(url).get_data(as_text=True)
    assert 'value="I3"' in form_page and 'value="I2"' in form_page
    wrong = a.client.post(url, data={"csrf_token": csrf_token(form_page), "contest": "insured",
                                     "chosen": ["I1"]})
    assert "chosen must be 1 distinct tied candidates" in html.unescape(wrong.get_data(as_text=True))
    shown = a.client.post(url, data={"csrf_token": csrf_token(form_page), "contest": "insured",
                                     "chosen": ["I3"]}).get_data(as_text=True)
    data, _action = signing_page(shown)
    assert data["body"]["tied"] == ["I2", "I3"] and data["body"]["chosen"] == ["I3"]
    assert data["body"]["seats"] == 1 and "Candidate 3" in shown
    # The proposer cannot approve their own lot.
    assert sign(a, shown, env["officials"]["ro-a"]).status_code == 302
    assert a.client.get(url).status_code == 302  # nothing for the proposer to sign
    b = official(env, "ro-b")
    approval = b.client.get(url).get_data(as_text=True)
    assert "Candidate 2" in approval and "Candidate 3" in approval
    archive = results_service.archive_path(election)
    before = archive.read_bytes()

    # The approval's transaction fails after the lot was stored in it (a later hook raises, as
    # a failing COMMIT would): nothing is stored and the published zip is not touched — it
    # never holds a lot the database lacks.
    def fail(_election: Any, _pending: Any) -> None:
        raise Conflict("the database went away")
    approvals.register_hook("record_lot", fail)
    try:
        assert sign(b, approval, env["officials"]["ro-b"]).status_code == 302
    finally:
        approvals.unregister_hook("record_lot", fail)
    db.session.expire_all()
    assert db.session.query(ContestLot).count() == 0
    assert archive.read_bytes() == before
    with zipfile.ZipFile(results_service.published_archive(election)) as zf:
        assert "lots.json" not in zf.namelist()
    # The proposal is still pending: the approver signs again, now it goes through.
    assert db.session.query(PendingAction).filter_by(action="record_lot").one().state == "pending"
    approval = b.client.get(url).get_data(as_text=True)
    assert sign(b, approval, env["officials"]["ro-b"]).status_code == 302
    db.session.expire_all()
    assert db.session.query(ContestLot).count() == 1
    # A crash right after the commit, before the zip was rewritten: the zip is brought up to
    # the committed lots when it is next served.
    archive.write_bytes(before)
    # The published record now holds lots.json and verifies; the results page shows the lot.
    published = env["tmp"] / "published"
    with zipfile.ZipFile(results_service.published_archive(election)) as zf:
        zf.extractall(published)
    lot_file = json.loads((published / "lots.json").read_text())
    assert [x["chosen"] for x in lot_file["lots"]] == [["I3"]]
    assert len(lot_file["lots"][0]["signatures"]) == 2
    verified = verify_record(published, Options(allow_test_key=True, ca_key=ca_key(env)))
    assert verified.ok, [(r.name, r.failures) for r in verified.results if not r.passed]
    notes = {n.code: n.params for n in {r.name: r for r in verified.results}["results.lots"].notes}
    assert notes["lots.count"] == {"count": 1}
    page = b.client.get("/results/test-election").get_data(as_text=True)
    assert 'id="lot-insured"' in page and "Candidate 3" in page


def test_extension_refusals(env: dict[str, Any]) -> None:
    election = env["election"]
    a = official(env, "ro-a")
    too_long = propose_extension(a, election.id, "2030-01-02T18:00:00+07:00")
    assert "more than 24 hours" in too_long.get_data(as_text=True)
    earlier = propose_extension(a, election.id, "2030-01-01T15:00:00+07:00")
    assert "not later than the close in force" in earlier.get_data(as_text=True)
    no_zone = propose_extension(a, election.id, "2030-01-01T18:00:00")
    assert "no time zone" in no_zone.get_data(as_text=True)
    empty = propose_extension(a, election.id, NEW_CLOSE, reason=" ")
    assert "non-empty text" in empty.get_data(as_text=True)
    # Signed with another official's credential: refused, nothing proposed.
    page = propose_extension(a, election.id, NEW_CLOSE).get_data(as_text=True)
    wrong = sign(a, page, env["officials"]["ro-b"])
    assert "does not verify with your pinned official key" in wrong.get_data(as_text=True)
    assert db.session.query(PendingAction).filter_by(action="extend_polls").count() == 0
    assert sign(a, page, env["officials"]["ro-a"]).status_code == 302
    # The second official's approval after the close in force: refused, nothing stored.
    env["clock"].now = election.closes_at + timedelta(seconds=5)
    b = official(env, "ro-b")
    approval = b.client.get(f"/official/elections/{election.id}/extend-polls").get_data(as_text=True)
    refused = sign(b, approval, env["officials"]["ro-b"])
    assert refused.status_code == 302
    assert "came too late" in b.client.get("/official/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(PollExtension).count() == 0
    assert board.effective_close(election) == election.closes_at


def _forge(env: dict[str, Any], signers: list[tuple[str, Any]], at: str | None = None) -> None:
    """The insider writes a poll extension row straight into the database."""
    election = env["election"]
    body = rules.poll_extension(election.election_id, opening=election.opening_hash, closes=NEW_CLOSE,
                                previous_closes=election.closes_at.isoformat(), reason="insider",
                                at=at or iso_utc(election.closes_at - timedelta(minutes=10)))
    obj = {**body, "signatures": [{"official": name, "signature": key.sign(canonical_json(body)).hex()}
                                  for name, key in signers]}
    db.session.add(PollExtension(election_pk=election.id, number=1, closes_at=rules.parse_time(NEW_CLOSE, ""),
                                 body=canonical_json(obj).decode()))
    db.session.commit()


@pytest.mark.parametrize("forgery", ["one_official", "board_key", "after_close"])
def test_insider_extension_and_stuffed_ballot_fail_the_verifier(env: dict[str, Any], forgery: str) -> None:
    election = env["election"]
    ro_a = official_key(env["officials"]["ro-a"])
    ro_b = official_key(env["officials"]["ro-b"])
    if forgery == "one_official":
        _forge(env, [("ro-a", ro_a)])
    elif forgery == "board_key":
        _forge(env, [("ro-a", signing.server_key()), ("ro-b", signing.server_key())])
    else:  # both officials' keys, but made after the close, back-dated by nobody
        _forge(env, [("ro-a", ro_a), ("ro-b", ro_b)], at=iso_utc(election.closes_at + timedelta(minutes=5)))
    # The server trusts its database: a ballot after the real close is accepted ...
    env["clock"].now = election.closes_at + timedelta(minutes=30)
    stuffed = voter(env, 0)
    assert stuffed.cast([1, 0, 0, 0, 0])[0].status_code == 201
    election_setup.close_polls(election, env["clock"]())
    snapshot = board_export.export(election, env["tmp"] / "snapshot", snapshot=True)
    # ... and the verifier refuses both the extension and the ballot.
    verified = verify_snapshot(snapshot, Options(allow_test_key=True, ca_key=ca_key(env)))
    failed = {r.name: [f.code for f in r.failures] for r in verified.results if not r.passed}
    assert set(failed) == {"poll.extensions", "board.times"}, failed
    assert failed["board.times"] == ["times.window"]
    assert failed["poll.extensions"] == {"one_official": ["officials.count"],
                                         "board_key": ["officials.signature", "officials.signature"],
                                         "after_close": ["extensions.after_close"]}[forgery]
