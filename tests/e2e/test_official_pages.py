"""The officials' pages of issue 18, over the app's HTTP interface (Flask test client; the
Chromium walk-through with axe-core is tests/e2e/test_browser_officials.py):

- the approval card shows what is approved — count, identities, digest — and the approval is
  bound to that digest (a proposal swapped after the approver looked is refused);
- closing the polls asks for a confirmation naming the election and the time, without JS;
- a malformed paper-vote CSV gives every error, in Thai, with its line number;
- the live turnout endpoint counts ballots, distinct voters and, once recorded, paper voters;
- the audit log reads as sentences with the raw entry folded.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pyotp
import pytest

from app.extensions import db
from app.models import Election, PendingAction
from app.services.administration import approval_cards, audit_sentences
from election.board import paper_list_body, paper_list_digest
from tests.conftest import build_app, make_config
from tests.e2e.test_casting_api import Voter
from tests.e2e.test_official_paper_votes import official, sign, upload
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, Clock, csrf_token
from tests.support.factories import insured_csv, national_ids, small_manifest
from tests.support.official_pages import approve_fields, form_fields


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    clock = Clock()
    app = build_app(make_config(tmp_path, **FAST_ARGON2, AUTH_CLOCK=clock))
    with app.app_context():
        ids = national_ids(4)
        setup = election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees", clock())
        secrets_ = {}
        for o in setup.officials:
            o.totp_secret = pyotp.random_base32()
            secrets_[o.username] = o.totp_secret
        db.session.commit()
        yield {"app": app, "clock": clock, "election": setup.election, "ids": ids, "secrets": secrets_,
               "credentials": setup.official_credentials, "voter_credentials": setup.credentials}
        db.session.remove()
        db.engine.dispose()


def _text(response: Any) -> str:
    return response.get_data(as_text=True)  # type: ignore[no-any-return]


def _cast(env: dict[str, Any], index: int, times: int = 1) -> None:
    key = env["ids"][index]
    voter = Voter(env["app"].test_client(), env["clock"], "insured", env["voter_credentials"][key])
    voter.browser.signup("insured", key)
    for _ in range(times):
        response, _seed = voter.cast([1, 0, 0, 0, 0])
        assert response.status_code == 201, response.get_json()


def _close_polls(env: dict[str, Any], a: Any, b: Any) -> None:
    """Close the polls through the pages: propose (confirmed), approve (confirmed)."""
    election = env["election"]
    url = f"/official/elections/{election.id}/propose/close_polls"
    a.client.post(url, data={**form_fields(_text(a.client.get("/official/")), url), "confirm": election.slug})
    pending = db.session.query(PendingAction).filter_by(action="close_polls", state="pending").one()
    target = f"/official/actions/{pending.id}/approve"
    b.client.post(target, data={**approve_fields(_text(b.client.get("/official/")), pending.id),
                                "confirm": election.slug})
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "closed"  # type: ignore[union-attr]


def test_closing_the_polls_needs_the_confirmation_step(env: dict[str, Any]) -> None:
    election = env["election"]
    a, b = official(env, "ro-a"), official(env, "ro-b")
    url = f"/official/elections/{election.id}/propose/close_polls"
    dashboard = _text(a.client.get("/official/"))
    # The dashboard's button only asks: the page names the election and the time (Thailand).
    asked = a.client.post(url, data=form_fields(dashboard, url))
    page = _text(asked)
    assert asked.status_code == 200 and "Confirm: Close polls" in page
    assert election.slug in page and election.title_en in page
    assert re.search(r'id="confirm-time">\d\d/\d\d/20\d\d \d\d:\d\d ICT<', page)
    assert db.session.query(PendingAction).filter_by(action="close_polls").count() == 0  # nothing proposed yet
    # A confirmation for another election is no confirmation.
    assert a.client.post(url, data={**form_fields(page, url), "confirm": "other-election"}).status_code == 200
    assert db.session.query(PendingAction).filter_by(action="close_polls").count() == 0
    proposed = a.client.post(url, data=form_fields(page, url))  # the page's "Yes" button
    assert proposed.status_code == 302
    pending = db.session.query(PendingAction).filter_by(action="close_polls").one()

    # The approver also gets the confirmation step (in Thai: พ.ศ. year and "น.") ...
    thai = _text(b.client.get("/official/?lang=th"))
    card = re.search(rf'id="card-{pending.id}".*?</div>', thai, re.S)
    assert card and "บัตรบนกระดานประกาศขณะนี้" in card.group(0)
    asked = b.client.post(f"/official/actions/{pending.id}/approve", data=approve_fields(thai, pending.id))
    page = _text(asked)
    assert asked.status_code == 200 and "ยืนยัน: ปิดการลงคะแนน" in page
    assert re.search(r'id="confirm-time">\d\d/\d\d/25\d\d \d\d:\d\d น\.<', page)
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "open"  # type: ignore[union-attr]
    done = b.client.post(f"/official/actions/{pending.id}/approve",
                         data=form_fields(page, f"/official/actions/{pending.id}/approve"))
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "closed"  # type: ignore[union-attr]


def test_the_approval_is_bound_to_the_digest_the_approver_saw(env: dict[str, Any]) -> None:
    """A release proposal whose payload is swapped after the approver's dashboard showed it
    (an operator editing the database) is not approved."""
    election = env["election"]
    voter_key = env["ids"][2]
    Voter(env["app"].test_client(), env["clock"], "insured").browser.signup("insured", voter_key)
    a, b = official(env, "ro-a"), official(env, "ro-b")
    assert a.submit("/official/voters/release", {"electorate": "insured", "voter_key": voter_key,
                                                   "reason": "checked the ID card at branch 3"}).status_code == 302
    pending = db.session.query(PendingAction).filter_by(action="release_account").one()
    page = _text(b.client.get("/official/?lang=en"))
    card = approval_cards.card(election, "release_account", pending)
    assert card.count == 1 and card.items[0].key == voter_key and card.items[0].name
    assert f'id="card-{pending.id}-digest">{card.digest}<' in page and voter_key in page
    seen = approve_fields(page, pending.id)
    assert seen["digest"] == card.digest
    # The operator swaps what the proposal carries.
    payload = json.loads(pending.payload or "{}")
    payload["reason"] = "someone else's reason"
    pending.payload = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    db.session.commit()
    refused = b.client.post(f"/official/actions/{pending.id}/approve", data=seen)
    assert refused.status_code == 302
    assert "not the one you saw" in _text(b.client.get("/official/?lang=en"))
    db.session.expire_all()
    assert db.session.get(PendingAction, pending.id).state == "pending"  # type: ignore[union-attr]
    # Without any digest (a hand-made POST) it is refused as well.
    bare = b.client.post(f"/official/actions/{pending.id}/approve", data={"csrf_token": seen["csrf_token"]})
    assert bare.status_code == 302
    db.session.expire_all()
    assert db.session.get(PendingAction, pending.id).state == "pending"  # type: ignore[union-attr]
    # What the dashboard shows now is approved.
    ok = b.client.post(f"/official/actions/{pending.id}/approve",
                       data=approve_fields(_text(b.client.get("/official/")), pending.id))
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(PendingAction, pending.id).state == "approved"  # type: ignore[union-attr]


def test_the_paper_list_card_shows_count_identities_and_the_signed_digest(env: dict[str, Any]) -> None:
    election = env["election"]
    a, b = official(env, "ro-a"), official(env, "ro-b")
    _close_polls(env, a, b)
    listed = env["ids"][:3]
    page = _text(upload(a, election.id, "voter_id\n" + "\n".join(listed) + "\n"))
    assert sign(a, page, env["credentials"]["ro-a"]).status_code == 302
    pending = db.session.query(PendingAction).filter_by(action="record_paper_votes").one()
    digest = paper_list_digest(paper_list_body(json.loads(pending.payload or "{}")))  # record.md §2.4
    dashboard = _text(b.client.get("/official/?lang=en"))
    # The card comes before the button that leads to signing.
    card = dashboard[dashboard.index(f'id="card-{pending.id}"'):dashboard.index(f'id="review-paper-{pending.id}"')]
    assert f'id="card-{pending.id}-count">3<' in card
    assert f'id="card-{pending.id}-digest">{digest}<' in card
    assert all(voter_id in card for voter_id in listed)
    assert "Voter 1" in card  # names from the roll


def test_a_malformed_paper_csv_gives_thai_errors_with_line_numbers(env: dict[str, Any]) -> None:
    election = env["election"]
    a, b = official(env, "ro-a"), official(env, "ro-b")
    _close_polls(env, a, b)
    a.client.get("/?lang=th")
    ids = env["ids"]
    bad = "\n".join(["voter_id", ids[0], f"{ids[1]},extra", "12AB5", ids[0], "9999999999999", '"unclosed']) + "\n"
    page = _text(upload(a, election.id, bad))
    errors = re.search(r'id="paper-errors">(.*?)</div>', page, re.S)
    assert errors, page
    items = re.findall(r"<li>(.*?)</li>", errors.group(1))
    assert items[0] == "บรรทัดที่ 3: ต้องมี 1 ช่อง แต่พบ 2 ช่อง"
    assert items[1].startswith("บรรทัดที่ 4: &#34;12AB5&#34; ไม่ใช่เลขประจำตัวประชาชน") or \
        items[1].startswith('บรรทัดที่ 4: "12AB5" ไม่ใช่เลขประจำตัวประชาชน')
    assert items[2] == f"บรรทัดที่ 5: {ids[0]} ซ้ำ (ปรากฏครั้งแรกที่บรรทัดที่ 2)"
    assert items[3] == "บรรทัดที่ 6: 9999999999999 ไม่อยู่ในบัญชีรายชื่อผู้มีสิทธิ์ของการเลือกตั้งนี้"
    assert items[4].startswith("บรรทัดที่ 7") or items[4].startswith("บรรทัดที่ 8")
    assert "line " not in errors.group(1)  # no English left on the Thai page
    header = _text(upload(a, election.id, "national_id\n123\n"))
    assert "บรรทัดที่ 1: หัวตารางต้องเป็น voter_id เท่านั้น (พบ: national_id)" in header
    # The same file in English.
    a.client.get("/?lang=en")
    english = _text(upload(a, election.id, bad))
    assert "line 3: expected 1 field, found 2" in english and "line 6: 9999999999999 is not on" in english
    assert db.session.query(PendingAction).filter_by(action="record_paper_votes").count() == 0


def test_turnout_endpoint_counts_ballots_voters_and_paper_voters(env: dict[str, Any]) -> None:
    election = env["election"]
    a, b = official(env, "ro-a"), official(env, "ro-b")
    empty = a.client.get(f"/official/elections/{election.id}/turnout.json").get_json()
    assert [(c["ballots"], c["voters"], c["paper_voters"]) for c in empty["contests"]][0] == (0, 0, None)
    _cast(env, 0, times=2)  # a re-vote: two ballots, one voter
    _cast(env, 1)
    data = a.client.get(f"/official/elections/{election.id}/turnout.json").get_json()
    insured = next(c for c in data["contests"] if c["electorate"] == "insured")
    assert (insured["eligible"], insured["ballots"], insured["voters"], insured["paper_voters"]) == (4, 3, 2, None)
    assert data["board_entries"] == 3 and data["status"] == "open"
    assert set(insured) == {"contest", "title_th", "title_en", "electorate", "eligible", "ballots",
                            "voters", "paper_voters"}  # counts only: never a partial result
    dashboard = _text(a.client.get("/official/?lang=en"))
    assert f'data-url="/official/elections/{election.id}/turnout.json"' in dashboard
    assert '<td data-field="ballots">3</td>' in dashboard and '<td data-field="voters">2</td>' in dashboard
    # A voter cannot read it.
    voter = Voter(env["app"].test_client(), env["clock"], "insured")
    voter.browser.signup("insured", env["ids"][3])
    assert voter.client.get(f"/official/elections/{election.id}/turnout.json").status_code == 403
    # After close, the recorded paper list adds its voters.
    _close_polls(env, a, b)
    page = _text(upload(a, election.id, f"voter_id\n{env['ids'][1]}\n{env['ids'][2]}\n"))
    assert sign(a, page, env["credentials"]["ro-a"]).status_code == 302
    review = _text(b.client.get(f"/official/elections/{election.id}/paper-votes"))
    assert sign(b, review, env["credentials"]["ro-b"]).status_code == 302
    after = a.client.get(f"/official/elections/{election.id}/turnout.json").get_json()
    insured = next(c for c in after["contests"] if c["electorate"] == "insured")
    assert (insured["ballots"], insured["voters"], insured["paper_voters"]) == (3, 2, 2)


def test_the_audit_log_reads_as_sentences_with_the_raw_entry_folded(env: dict[str, Any]) -> None:
    election = env["election"]
    a, b = official(env, "ro-a"), official(env, "ro-b")
    _close_polls(env, a, b)
    english = _text(a.client.get("/official/audit?lang=en"))
    assert "Officer A proposed: Close polls (test-election); a second official must approve it." in english
    assert "Officer B approved and carried out: Close polls (test-election)." in english
    assert "Officer A signed in." in english
    # The raw entry is folded under its sentence.
    raw = re.search(r"<details><summary>Raw entry #(\d+)</summary><pre class=\"mono\">(.*?)</pre>", english, re.S)
    assert raw and "&#34;action&#34;" in raw.group(2) or raw and '"action"' in raw.group(2)
    thai = _text(a.client.get("/official/audit?lang=th"))
    assert "Officer B อนุมัติและดำเนินการแล้ว: ปิดการลงคะแนน (test-election)" in thai
    assert re.search(r"\d\d/\d\d/25\d\d \d\d:\d\d:\d\d น\.", thai)
    assert "UTC" not in thai
    # An entry of a kind the module does not know is still shown, never hidden.
    from app.services.administration import audit
    audit.record("official:ro-a", "something_new", "test-election", {"x": 1})
    db.session.commit()
    line = audit_sentences.describe_all(audit.recent(1))[0]
    assert line.outcome == "info" and "something_new" in line.sentence


def test_a_refused_self_approval_reads_as_refused(env: dict[str, Any]) -> None:
    election = env["election"]
    a = official(env, "ro-a")
    url = f"/official/elections/{election.id}/propose/close_polls"
    page = _text(a.client.post(url, data=form_fields(_text(a.client.get("/official/")), url)))
    a.client.post(url, data=form_fields(page, url))
    pending = db.session.query(PendingAction).filter_by(action="close_polls").one()
    a.client.post(f"/official/actions/{pending.id}/approve",
                  data={"csrf_token": csrf_token(_text(a.client.get("/official/"))), "confirm": election.slug})
    english = _text(a.client.get("/official/audit?lang=en"))
    assert "Officer A tried to approve their own proposal (test-election): refused." in english
    assert 'class="outcome outcome-refused">Refused<' in english
