"""Activation codes and notifications (docs/accounts.md §9–§10): the code format, recovery with
a new code, concurrent use of one code (PostgreSQL too), the pluggable sender, and the
separation from the credential authority's ballot credential."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import ActivationCode, AuditEntry, Election, RollEntry, VoterAccount
from app.services.identity import activation, notify
from crypto.credential import credential_from_data
from tests.support.auth_client import (  # noqa: F401
    PASSWORD,
    accounts_app,
    accounts_app_any,
    browser_for,
    issue_code,
    outbox,
    registered_voter,
    roll,
)

SENT: list[notify.Message] = []


class ListSender:
    """A production-style sender named by ``module:attribute`` (SSBVOTE_NOTIFY_SENDER)."""

    def send(self, message: notify.Message) -> None:
        SENT.append(message)


def test_codes_are_80_bits_of_crockford_base32() -> None:
    codes = {activation.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert activation.normalise(code) == code.replace("-", "")
    assert len(activation.ALPHABET) == 32 and activation.SYMBOLS * 5 == 80
    assert activation.normalise("abcd efgh jkmn pqrs") == "ABCDEFGHJKMNPQRS"
    assert activation.normalise("ABCD-EFGH-JKMN-PQR") is None  # 15 symbols
    assert activation.normalise("ABCD-EFGH-JKMN-PQR#") is None


def test_the_ballot_credential_is_not_an_activation_code(accounts_app: Flask) -> None:
    """The CA's ballot credential (28 symbols, docs/protocol.md §13.1) is refused as an
    activation code before any lookup: the voting server never takes it on a form."""
    credential = credential_from_data("0123456789ABCDEFGHJKMNPQRS")
    assert activation.normalise(credential) is None
    entry = roll("insured")
    response = browser_for(accounts_app).register("insured", entry.voter_key, credential)
    assert response.status_code == 200
    assert credential not in "".join(str(getattr(a, "details", "")) for a in db.session.query(AuditEntry))
    assert db.session.query(VoterAccount).count() == 0


def test_only_the_hash_is_stored(accounts_app: Flask) -> None:
    entry = roll("insured")
    code = issue_code(accounts_app, "insured", entry.voter_key)
    row = db.session.query(ActivationCode).one()
    assert row.code_hash == activation.code_hash(activation.normalise(code) or "")
    assert code.replace("-", "") not in row.code_hash
    audit = db.session.query(AuditEntry).filter_by(action="activation_code_issued").one()
    assert audit.subject == entry.pseudonym and entry.voter_key not in audit.details


def test_recovery_with_a_new_code_replaces_password_and_authenticator(accounts_app: Flask) -> None:
    login_id, old_secret = registered_voter(accounts_app)
    voter = browser_for(accounts_app)
    voter.login("insured", login_id, old_secret)
    assert voter.client.get("/insured/").status_code == 200
    code = issue_code(accounts_app, "insured", login_id, "request")
    other = browser_for(accounts_app)
    assert other.recover("insured", login_id, code, "quite another passphrase").status_code == 302
    assert voter.client.get("/insured/").status_code == 302  # every session ended
    new_secret = other.enrolment_secret("insured")
    assert new_secret != old_secret
    assert other.enrol("insured", new_secret).status_code == 302
    fresh = browser_for(accounts_app)
    fresh.clock.tick()
    assert fresh.password("insured", login_id).status_code == 200  # the old password: refused
    assert [m["kind"] for m in outbox(accounts_app)][-1] == "recovered"
    # The code is spent: it cannot recover the account a second time.
    again = browser_for(accounts_app).recover("insured", login_id, code, "yet another passphrase")
    assert again.status_code == 200


def test_recovery_without_an_account_says_register(accounts_app: Flask) -> None:
    entry = roll("insured")
    code = issue_code(accounts_app, "insured", entry.voter_key)
    response = browser_for(accounts_app).recover("insured", entry.voter_key, code)
    assert "ผู้มีสิทธิรายนี้ยังไม่มีบัญชี" in response.get_data(as_text=True)
    # ... and the code still registers.
    assert browser_for(accounts_app).register("insured", entry.voter_key, code).status_code == 302


def test_one_code_used_twice_at_once_wins_once(accounts_app_any: Flask) -> None:
    """Two concurrent redemptions of one code (two transactions; PostgreSQL row locks or
    SQLite's write lock): the compare-and-set on ``used_at`` lets exactly one through."""
    app = accounts_app_any
    entry_pk = roll("insured").id
    code = issue_code(app, "insured", roll("insured").voter_key)
    db.session.remove()
    barrier = threading.Barrier(4)
    results: list[bool] = []
    lock = threading.Lock()

    def redeem() -> None:
        with app.app_context():
            entry = db.session.get(RollEntry, entry_pk)
            assert entry is not None
            db.session.commit()  # SQLite: BEGIN IMMEDIATE holds the write lock; let it go first
            barrier.wait()
            won = activation.redeem(entry, code, app.config["AUTH_CLOCK"]())
            db.session.commit()
            with lock:
                results.append(won)
            db.session.remove()

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False, False, False, True]


def test_voters_registering_at_once_all_get_their_account_and_one_audit_chain(
        accounts_app_any: Flask) -> None:
    """Every registration is audited (pseudonym only). Six voters registering at the same moment
    (gunicorn threads, PostgreSQL) used to link their audit entries to the same predecessor:
    all but one failed with a 500 on ``uq_audit_entry_prev_hash``. Appends are serialised now."""
    from app.services.administration import audit
    from app.services.identity import accounts
    from app.services.identity.throttle import Limits

    app = accounts_app_any
    voters = [(roll("insured", n).voter_key,) for n in range(6)]
    codes = [issue_code(app, "insured", key) for (key,) in voters]
    db.session.remove()
    barrier = threading.Barrier(len(voters))
    failures: list[str] = []

    def register(key: str, code: str) -> None:
        with app.app_context():
            try:
                barrier.wait()
                accounts.register("insured", key, code, "a long passphrase for voting 2569",
                                  Limits(), app.config["AUTH_CLOCK"]())
            except Exception as exc:  # reported below
                failures.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(key, code))
               for (key,), code in zip(voters, codes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    assert db.session.query(VoterAccount).count() == len(voters)
    registered = db.session.query(AuditEntry).filter_by(action="voter_registered").count()
    assert registered == len(voters) and audit.verify_chain() == []


def test_a_configured_sender_gets_every_message(accounts_app: Flask, monkeypatch: Any) -> None:
    SENT.clear()
    monkeypatch.setitem(accounts_app.config, "NOTIFY_SENDER", f"{__name__}:ListSender")
    entry = roll("insured")
    b = browser_for(accounts_app)
    b.signup("insured", entry.voter_key)
    assert [m.kind for m in SENT] == ["activation_code", "registered"]
    assert all(m.text_th and m.text_en and m.pseudonym == entry.pseudonym for m in SENT)
    assert not Path(accounts_app.config["NOTIFY_OUTBOX"]).exists()


def test_messages_are_bilingual_and_name_no_secret_but_the_code(accounts_app: Flask) -> None:
    entry = roll("insured")
    code = issue_code(accounts_app, "insured", entry.voter_key)
    letter = outbox(accounts_app)[0]
    assert code in letter["text_th"] and code in letter["text_en"]
    assert "ไม่ใช่รหัสลงคะแนน" in letter["text_th"] and "not your ballot credential" in letter["text_en"]
    assert letter["voter_key"] == entry.voter_key  # the sender needs it to find the address


@pytest.mark.parametrize("electorate", ["insured", "employer"])
def test_cli_issues_letters_for_everyone_without_an_account(accounts_app: Flask, electorate: str) -> None:
    registered_voter(accounts_app, electorate)
    election = db.session.query(Election).one()
    issued = activation.issue_for_election(election.id, accounts_app.config["AUTH_CLOCK"](), "cli")
    on_roll = db.session.query(RollEntry).count()
    assert len(issued) == on_roll - 1  # the registered voter gets none
    again = activation.issue_for_election(election.id, accounts_app.config["AUTH_CLOCK"](), "cli")
    assert len(again) == on_roll - 1
    # At most three open codes per voter, however often letters are sent.
    for _ in range(3):
        activation.issue_for_election(election.id, accounts_app.config["AUTH_CLOCK"](), "cli")
    assert max(activation.open_codes(e, accounts_app.config["AUTH_CLOCK"]())
               for e in db.session.query(RollEntry)) == activation.MAX_OPEN
