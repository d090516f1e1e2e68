"""The web hardening list of issue 22, each probe performed for real over the Flask HTTP stack
(CSRF on) and shown to fail now: open redirects, HTTP 500s from huge numbers and deep JSON,
duplicate JSON keys in the cast API and manifests, cacheable secret pages, guessable passwords,
the 4 MiB cap on the paper-vote list, and JSON errors under /api in Thai and English."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.services.identity import passwords
from app.services.voting import board
from election.errors import ManifestInvalid
from election.manifest import parse_text
from tests.e2e.test_casting_api import env, signed_in  # noqa: F401 (fixture)
from tests.e2e.test_official_paper_votes import env as paper_env  # noqa: F401 (fixture)
from tests.e2e.test_official_paper_votes import official, upload
from tests.support.auth_client import (  # noqa: F401 (fixtures)
    accounts_app,
    browser_for,
    roll,
)
from tests.support.factories import EXAMPLES

HUGE = "1" + "0" * 23  # 10^23
DEEP = "[" * 100_000 + "]" * 100_000
CAST = "/api/elections/test-election/cast"
AUDIT = "/api/elections/test-election/audit"
AUDITS = "/api/elections/test-election/audits"


# --- open redirect and header injection through ?next= -------------------------------------
@pytest.mark.parametrize("target", [
    "/%09/evil.example",       # a browser drops the tab: //evil.example
    "/%0a/evil.example",       # newline: was HTTP 500 (header injection refused by werkzeug)
    "/%0d%0aSet-Cookie:x=1",
    "/%5C/evil.example",       # "/\\" is "//" to browsers
    "//evil.example/",
    "https://evil.example/",
    "/%20/evil.example",
])
def test_language_switch_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    response = client.get(f"/language/en?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_keeps_a_local_path(client: FlaskClient) -> None:
    response = client.get("/language/en?next=/check?lang=th")
    assert response.status_code == 302 and response.headers["Location"] == "/check?lang=th"


# --- huge numbers and deep JSON: 400/404, never 500 ----------------------------------------
def test_huge_numbers_in_board_urls_are_client_errors(env: dict[str, Any]) -> None:  # noqa: F811
    client = env["app"].test_client()
    for query in (f"after={HUGE}", f"limit={HUGE}", "after=-1", "after=1e3", "after=%EF%BC%91"):
        response = client.get(f"/api/elections/test-election/board?{query}")
        assert response.status_code == 400, (query, response.status_code)
        assert response.get_json()["error"] == "malformed"
    missing = client.get(f"/api/elections/test-election/board/{HUGE}")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.get("/api/elections/test-election/board?after=0").status_code == 200


def test_huge_numbers_and_deep_json_in_the_audit_api_are_client_errors(env: dict[str, Any]) -> None:  # noqa: F811
    """The audit API (issue 16; it replaced the version-2 check API) reads its body strictly."""
    voter = signed_in(env)
    headers = {**voter.headers(), "Content-Type": "application/json"}
    huge = voter.client.post(AUDIT, data=f'{{"seq": {HUGE}, "seed": "x"}}', headers=headers)
    assert huge.status_code == 400 and huge.get_json()["error"] == "malformed"
    deep = voter.client.post(AUDIT, data=DEEP, headers=headers)
    assert deep.status_code == 400 and "nested too deeply" in deep.get_json()["message"]
    long_number = voter.client.post(AUDIT, data='{"seq": ' + "9" * 5000 + ', "seed": "x"}', headers=headers)
    assert long_number.status_code == 400 and "5000 characters" in long_number.get_json()["message"]
    assert board.size(env["election"]) == 0


def test_cast_api_refuses_duplicate_keys_and_deep_json(env: dict[str, Any]) -> None:  # noqa: F811
    """docs/protocol.md §2.3: a duplicate key makes two readings of one ballot possible."""
    voter = signed_in(env)
    context = voter.context()
    ballot, seed = voter.encrypt([1, 0, 0, 0, 0], context)
    body = voter.body(ballot, seed, context)
    good = json.dumps(body)
    # The same key twice: first a decoy, then the real value (Python would keep the last).
    key = next(iter(body))
    duplicated = "{" + json.dumps(key) + ": null, " + good[1:]
    headers = {**voter.headers(), "Content-Type": "application/json"}
    before = board.size(env["election"])
    for raw in (duplicated, DEEP, "not json", '{"a": NaN}'):
        response = voter.client.post(CAST, data=raw, headers=headers)
        assert response.status_code == 400, raw[:20]
        assert response.get_json()["error"] == "malformed"
    assert "duplicate key" in voter.client.post(CAST, data=duplicated,
                                                headers=headers).get_json()["message"]
    db.session.expire_all()
    assert board.size(env["election"]) == before
    # The same ballot without the duplicate is accepted.
    assert voter.client.post(CAST, data=good, headers=headers).status_code == 201


# --- manifests --------------------------------------------------------------------------------
def test_manifest_with_duplicate_keys_or_a_huge_number_is_refused_clearly(tmp_path: Path) -> None:
    text = (EXAMPLES / "demo-manifest.json").read_text(encoding="utf-8")
    duplicated = '{"format": "x", ' + text.lstrip()[1:]
    with pytest.raises(ManifestInvalid) as excinfo:
        parse_text(duplicated)
    assert "duplicate key 'format'" in str(excinfo.value.problems)
    huge = text.replace('"number": 1', '"number": ' + "1" * 5000, 1)
    assert huge != text
    with pytest.raises(ManifestInvalid) as excinfo:
        parse_text(huge)
    assert "a number of 5000 characters" in str(excinfo.value.problems)
    # Through the officials' CLI: one clear error, no traceback.
    from tools.cli import main

    path = tmp_path / "huge.json"
    path.write_text(huge, encoding="utf-8")
    env = {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(tmp_path / "i"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    CliRunner().invoke(main, ["db", "upgrade"], env=env, catch_exceptions=False)
    result = CliRunner().invoke(main, ["election", "create", str(path)], env=env)
    assert result.exit_code != 0 and "5000 characters" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- caching of personal pages ----------------------------------------------------------------
def test_secret_and_personal_pages_are_never_cached(accounts_app: Flask) -> None:  # noqa: F811
    entry = roll("insured")
    b = browser_for(accounts_app)
    assert b.register("insured", entry.voter_key, entry.attribute).status_code == 302
    enrol = b.client.get("/insured/enrol")
    assert 'id="totp-secret"' in enrol.get_data(as_text=True)
    assert enrol.headers["Cache-Control"] == "no-store"
    secret = b.enrolment_secret("insured")
    assert b.enrol("insured", secret).status_code == 302
    for url in ("/insured/", "/vote", "/api/elections/ssb-demo-2026/ballot"):
        response = b.client.get(url)
        assert response.headers.get("Cache-Control") == "no-store", url
    # Public pages stay cacheable by the browser's usual rules.
    assert "no-store" not in browser_for(accounts_app).client.get("/").headers.get(
        "Cache-Control", "")


# --- passwords --------------------------------------------------------------------------------
@pytest.mark.parametrize("password", [
    "0812345678", "081-234-5678", "+66812345678", "02-123-4567",  # phone numbers
    "1234567890121", "3-1001-00123-45-6",                      # national-ID-like digits
    "27041987", "2530-04-27",                                   # dates
    "ssbvote2026", "SSBVote2569", "ssb-vote-2026!", "ssbvoteelection",  # this service + year
    "password1234", "qwertyuiop", "iloveyou12", "1q2w3e4r5t",    # maintained top list
    "aaaaaaaaaaaa", "abcdefghijk",                               # repeats, sequences
])
def test_guessable_passwords_are_refused(password: str) -> None:
    with pytest.raises(passwords.PasswordRejected) as excinfo:
        passwords.check_policy(password)
    assert excinfo.value.reason in {"common", "too_short"}


@pytest.mark.parametrize("password", ["correct horse battery", "ลมหนาวมาแล้วที่เชียงใหม่",
                                      "Tamarind-Kettle-49-Orbit"])
def test_strong_passwords_are_accepted(password: str) -> None:
    passwords.check_policy(password)


def test_the_blocklist_is_the_maintained_top_list() -> None:
    assert len(passwords.common_passwords()) > 25_000


# --- the paper-vote list over 4 MiB -----------------------------------------------------------
def test_a_paper_vote_list_over_4_mib_uploads(paper_env: dict[str, Any]) -> None:  # noqa: F811
    """The app's 4 MiB body limit refused (413) a list the view allows up to 64 MiB."""
    from tests.support import election_setup

    election_setup.close_polls(paper_env["election"], paper_env["clock"]())
    ids = paper_env["ids"]
    text = "voter_id\n" + "\n".join(ids[:2]) + "\n" + "\n" * (5 * 1024 * 1024)
    browser = official(paper_env, "ro-a")
    response = upload(browser, paper_env["election"].id, text)
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    assert "paper-sign-data" in page and ids[0] in page
    # Other routes keep the 4 MiB limit.
    big = browser.client.post("/official/login", data={"x": "y" * (5 * 1024 * 1024)})
    assert big.status_code == 413


# --- JSON errors under /api in Thai and English -----------------------------------------------
def test_api_errors_are_json_in_the_clients_language(env: dict[str, Any],  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    app: Flask = env["app"]
    client = app.test_client()
    en = {"Accept-Language": "en"}
    cases = [
        ("get", "/api/no-such-thing", {}, 404, "not_found"),
        ("get", CAST, {}, 405, "method_not_allowed"),
        ("get", "/api/elections/test-election/trackers/not-a-tracker", {}, 400, "bad_code"),
    ]
    for method, url, kwargs, status, code in cases:
        thai = getattr(client, method)(url, **kwargs)
        english = getattr(client, method)(url, headers=en, **kwargs)
        for response in (thai, english):
            assert response.status_code == status, (url, response.status_code)
            assert response.is_json and response.get_json()["error"] == code
        assert re.search(r"[\u0e00-\u0e7f]", thai.get_json()["message"]), thai.get_json()
        assert english.get_json()["message"].isascii()
    # 429: the audit check's own limit (60 a minute per client).
    statuses = [client.get(f"{AUDITS}/1").status_code for _ in range(61)]
    assert statuses[-1] == 429
    limited = client.get(f"{AUDITS}/1", headers=en)
    assert limited.get_json()["error"] == "too_many" and "Too many" in limited.get_json()["message"]
    # 500: an unexpected failure answers JSON, not an HTML page or a traceback.
    from app.services.voting import board as board_service

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr(board_service, "checkpoints", broken)
    crashed = client.get("/api/elections/test-election/board", headers=en)
    assert crashed.status_code == 500
    assert crashed.get_json() == {"error": "server_error", "message":
                                  "Something went wrong on the server. Please try again later."}
    assert "database went away" not in crashed.get_data(as_text=True)
