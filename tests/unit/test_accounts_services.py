"""Account services below the HTTP layer: password policy, TOTP steps, back-off, approvals."""
from __future__ import annotations

import secrets

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEntry, Election, Official, PendingAction, ThrottleCounter
from app.services.administration import approvals, audit
from app.services.identity import accounts, passwords, throttle, totp
from tests.support.auth_client import accounts_app, accounts_app_any, add_official  # noqa: F401

T0 = datetime(2026, 12, 20, 3, 0, 0, tzinfo=timezone.utc)


# --- passwords -------------------------------------------------------------------------------
@pytest.mark.parametrize("password, reason", [
    ("short", "too_short"),
    ("123456789", "too_short"),
    ("x" * 129, "too_long"),
    ("Password123", "common"),
    ("QWERTYUIOP", "common"),
    ("my id 1159450283165 ok", "contains_identifier"),
])
def test_password_policy_refuses(password: str, reason: str) -> None:
    with pytest.raises(passwords.PasswordRejected) as caught:
        passwords.check_policy(password, ("1159450283165",))
    assert caught.value.reason == reason


def test_password_policy_accepts_a_passphrase() -> None:
    passwords.check_policy("ช้างเผือก กินกล้วย", ("1159450283165",))
    passwords.check_policy("correct horse battery")


def test_common_password_list_is_shipped_and_nontrivial() -> None:
    assert passwords.COMMON_PASSWORDS_FILE.is_file()
    assert len(passwords.common_passwords()) >= 50


def test_argon2id_hash_and_verify(accounts_app: Flask) -> None:
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "correct horse batterY")
    assert not passwords.verify_password("not a hash", "x")


def test_production_ignores_lowered_argon2_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import create_app
    from app.config import Config, IdentitySettings

    key = tmp_path / "k.pem"
    key.write_text("x")
    config = Config(env="production", secret_key=secrets.token_hex(20),
                    pseudonym_key=secrets.token_hex(20), workers=1,
                    database_url="postgresql+psycopg://ssb@db.invalid/ssbvote",
                    signing_key_path=str(key), instance_path=str(tmp_path / "i"), ca_key="ab" * 32,
                    identity=IdentitySettings(notify_sender="file"),
                    extra={"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8})
    app = create_app(config)
    with app.app_context():
        assert passwords.hasher() is passwords._PRODUCTION
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# --- TOTP ------------------------------------------------------------------------------------
def test_totp_accepts_one_step_of_drift_and_no_more() -> None:
    secret = totp.new_secret()
    step = totp.step_at(T0)
    for offset in (-1, 0, 1):
        code = pyotp.TOTP(secret).at((step + offset) * 30)
        assert totp.matching_step(secret, code, 0, T0) == step + offset
    for offset in (-2, 2):
        code = pyotp.TOTP(secret).at((step + offset) * 30)
        if code not in {pyotp.TOTP(secret).at((step + o) * 30) for o in (-1, 0, 1)}:
            assert totp.matching_step(secret, code, 0, T0) is None


def test_totp_refuses_the_last_used_step_and_earlier() -> None:
    secret = totp.new_secret()
    step = totp.step_at(T0)
    code = totp.code_at(secret, T0)
    assert totp.matching_step(secret, code, step - 1, T0) == step
    assert totp.matching_step(secret, code, step, T0) is None
    earlier = pyotp.TOTP(secret).at((step - 1) * 30)
    assert totp.matching_step(secret, earlier, step, T0) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_totp_refuses_malformed_codes(code: str) -> None:
    assert totp.matching_step(totp.new_secret(), code, 0, T0) is None


def test_qr_is_an_svg_data_uri() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), "Somchai Jaidee")
    assert uri.startswith("otpauth://totp/SSB%20Vote:Somchai%20Jaidee?")
    # The label's own colon would split issuer and account name: it becomes a space.
    assert totp.provisioning_uri(totp.new_secret(), "a:b").startswith("otpauth://totp/SSB%20Vote:a%20b?")
    assert totp.qr_data_uri(uri).startswith("data:image/svg+xml;base64,")


# --- back-off --------------------------------------------------------------------------------
class _State:
    failed_attempts = 0
    failure_window_start = None
    locked_until = None


def test_backoff_grows_and_hard_limit_holds_for_the_hour() -> None:
    limits = throttle.Limits(max_per_window=10, free=3, max_backoff_seconds=60)
    state = _State()
    now = T0
    for _ in range(3):
        throttle.record_failure(state, limits, now)  # type: ignore[arg-type]
        assert throttle.locked_until(state, now) is None  # type: ignore[arg-type]
    delays = []
    for _ in range(6):
        throttle.record_failure(state, limits, now)  # type: ignore[arg-type]
        until = throttle.locked_until(state, now)  # type: ignore[arg-type]
        assert until is not None
        delays.append((until - now).total_seconds())
        now = until
    assert delays == [2, 4, 8, 16, 32, 60]
    throttle.record_failure(state, limits, now)  # type: ignore[arg-type]  # the 10th
    assert throttle.locked_until(state, now) == T0 + timedelta(hours=1)  # type: ignore[arg-type]
    throttle.record_success(state)  # type: ignore[arg-type]
    assert throttle.locked_until(state, now) is None  # type: ignore[arg-type]


def test_failure_window_restarts_after_an_hour() -> None:
    limits = throttle.Limits(max_per_window=100, free=5, max_backoff_seconds=60)
    state = _State()
    throttle.record_failure(state, limits, T0)  # type: ignore[arg-type]
    throttle.record_failure(state, limits, T0 + timedelta(hours=1, seconds=1))  # type: ignore[arg-type]
    assert state.failed_attempts == 1


# --- failure counters per identifier ---------------------------------------------------------
def test_counter_keys_are_keyed_hashes_per_purpose_and_kind(accounts_app: Flask) -> None:
    key = throttle.counter_key("signin", "insured", "1159450283165")
    assert len(key) == 64 and "1159450283165" not in key
    assert key != throttle.counter_key("register", "insured", "1159450283165")
    assert key != throttle.counter_key("signin", "employer", "1159450283165")
    config = accounts_app.config["SSBVOTE"]
    accounts_app.config["SSBVOTE"] = replace(config, pseudonym_key="another key " * 4)
    try:
        assert key != throttle.counter_key("signin", "insured", "1159450283165")
    finally:
        accounts_app.config["SSBVOTE"] = config
    with pytest.raises(ValueError):
        throttle.counter_key("guess", "insured", "1159450283165")
    # Per client: its own counter, under the identifier's tag (an official's unlock finds it).
    mine = throttle.counter_key("signin", "insured", "1159450283165", "address:192.0.2.7")
    assert mine != key and mine[:24] == key[:24] and len(mine) == 64
    assert mine != throttle.counter_key("signin", "insured", "1159450283165", "address:192.0.2.8")


def test_counter_rows_are_pruned_after_their_window_and_lock(accounts_app: Flask) -> None:
    limits = throttle.Limits(max_per_window=3, free=3)
    for n in range(3):
        throttle.record_counter_failure("a" * 64, limits, T0)  # locked until T0 + 1 h
    throttle.record_counter_failure("b" * 64, limits, T0)
    db.session.commit()
    assert db.session.query(ThrottleCounter).count() == 2
    throttle.record_counter_failure("c" * 64, limits, T0 + timedelta(minutes=59))
    db.session.commit()
    assert db.session.query(ThrottleCounter).count() == 3
    throttle.record_counter_failure("c" * 64, limits, T0 + timedelta(hours=1))
    db.session.commit()
    assert {row.key[0] for row in db.session.query(ThrottleCounter)} == {"c"}


def test_concurrent_attempts_are_counted_one_by_one(accounts_app_any: Flask) -> None:
    """reserve counts under the counter's row lock: of 8 simultaneous attempts, 3 pass."""
    limits = throttle.Limits(max_per_window=3, free=3)
    key = throttle.counter_key("register", "insured", "1159450283165")
    db.session.rollback()  # SQLite: leave the write lock to the threads

    def attempt(_: int) -> bool:
        with accounts_app_any.app_context():
            try:
                return throttle.reserve([(key, limits)], T0) is None
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count(True) == 3
    assert db.session.get(ThrottleCounter, key).failed_attempts == 3


# --- registration data -----------------------------------------------------------------------
@pytest.mark.parametrize("typed, expected", [
    ("1987-04-27", "1987-04-27"),
    ("27/04/2530", "1987-04-27"),  # Buddhist Era, as on Thai ID cards
    ("27/4/1987", "1987-04-27"),
    ("1987-02-30", None),
    ("yesterday", None),
])
def test_date_of_birth_forms(typed: str, expected: str | None) -> None:
    assert accounts.normalise_date_of_birth(typed) == expected


# --- four-eyes approvals (SQLite and PostgreSQL) ---------------------------------------------
def _officials() -> tuple[Official, Official]:
    """alice and bob, and the credential authority's opening that pins their keys (polls open
    only with it, docs/record.md §2.0)."""
    from tests.support import election_setup

    add_official("alice", "admin")
    add_official("bob")
    election_setup.authorize(db.session.query(Election).one())
    alice = db.session.query(Official).filter_by(username="alice").one()
    bob = db.session.query(Official).filter_by(username="bob").one()
    return alice, bob


def test_two_officials_open_and_close_polls(accounts_app_any: Flask) -> None:
    alice, bob = _officials()
    election = db.session.query(Election).one()
    assert election.status == "draft"
    pending = approvals.propose(election, "open_polls", alice, T0)
    with pytest.raises(approvals.ApprovalRefused) as caught:
        approvals.approve(pending.id, alice, T0)
    assert caught.value.reason == "self_approval"
    assert election.status == "draft"
    approvals.approve(pending.id, bob, T0)
    assert db.session.get(Election, election.id).status == "open"
    with pytest.raises(approvals.ApprovalRefused):
        approvals.approve(pending.id, bob, T0)  # spent
    closing = approvals.propose(election, "close_polls", bob, T0)
    approvals.approve(closing.id, alice, T0)
    assert db.session.get(Election, election.id).status == "closed"
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert {"propose_open_polls", "self_approval_refused", "approve_open_polls",
            "propose_close_polls", "approve_close_polls"} <= set(actions)
    assert audit.verify_chain() == []


def test_database_refuses_self_approval_even_without_the_service(accounts_app_any: Flask) -> None:
    alice, _ = _officials()
    election = db.session.query(Election).one()
    db.session.add(PendingAction(election=election, action="open_polls", state="approved",
                                 proposer_pk=alice.id, decider_pk=alice.id, proposed_at=T0,
                                 decided_at=T0, expires_at=T0 + timedelta(hours=1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_wrong_status_and_duplicate_proposals_are_refused(accounts_app: Flask) -> None:
    alice, bob = _officials()
    election = db.session.query(Election).one()
    with pytest.raises(approvals.ApprovalRefused) as caught:
        approvals.propose(election, "close_polls", alice, T0)
    assert caught.value.reason == "wrong_status"
    approvals.propose(election, "open_polls", alice, T0)
    with pytest.raises(approvals.ApprovalRefused) as caught:
        approvals.propose(election, "open_polls", bob, T0)
    assert caught.value.reason == "already_proposed"


def test_close_polls_hook_runs_in_the_same_transaction(accounts_app: Flask) -> None:
    alice, bob = _officials()
    election = db.session.query(Election).one()
    election.status = "open"
    db.session.commit()
    seen: list[str] = []

    def failing_hook(e: Election, pending: PendingAction) -> None:
        seen.append(e.status)
        raise RuntimeError("board head could not be signed")

    def good_hook(e: Election, pending: PendingAction) -> None:
        seen.append(f"ok:{e.status}")

    approvals.register_hook("close_polls", failing_hook)
    try:
        pending = approvals.propose(election, "close_polls", alice, T0)
        with pytest.raises(RuntimeError):
            approvals.approve(pending.id, bob, T0)
        assert db.session.get(Election, election.id).status == "open"
        assert db.session.get(PendingAction, pending.id).state == "pending"
    finally:
        approvals.unregister_hook("close_polls", failing_hook)
    approvals.register_hook("close_polls", good_hook)
    try:
        approvals.approve(pending.id, bob, T0)
    finally:
        approvals.unregister_hook("close_polls", good_hook)
    assert seen == ["closed", "ok:closed"]
    assert db.session.get(Election, election.id).status == "closed"


# --- proposals expire --------------------------------------------------------------------------
def test_an_expired_proposal_cannot_be_approved(accounts_app_any: Flask) -> None:
    alice, bob = _officials()
    election = db.session.query(Election).one()
    pending = approvals.propose(election, "open_polls", alice, T0)
    assert pending.expires_at == T0 + timedelta(hours=24)
    for _ in range(2):  # the refusal, and the same answer when asked again
        with pytest.raises(approvals.ApprovalRefused) as caught:
            approvals.approve(pending.id, bob, T0 + timedelta(hours=24))
        assert caught.value.reason == "expired"
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "draft"
    stored = db.session.get(PendingAction, pending.id)
    assert stored.state == "expired" and stored.decider_pk is None
    expiries = db.session.query(AuditEntry).filter_by(action="expire_open_polls").all()
    assert [(e.actor, e.subject) for e in expiries] == [("system", election.slug)]
    assert '"proposer":"alice"' in expiries[0].details
    # It does not block a new proposal, which can be approved within its own lifetime.
    fresh = approvals.propose(election, "open_polls", bob, T0 + timedelta(hours=25))
    approvals.approve(fresh.id, alice, T0 + timedelta(hours=48, minutes=59))
    assert db.session.get(Election, election.id).status == "open"
    assert audit.verify_chain() == []


def test_lifetime_comes_from_the_configuration(accounts_app: Flask) -> None:
    alice, bob = _officials()
    election = db.session.query(Election).one()
    accounts_app.config["APPROVAL_LIFETIME_HOURS"] = 2
    pending = approvals.propose(election, "open_polls", alice, T0)
    assert pending.expires_at == T0 + timedelta(hours=2)
    assert approvals.expire_due(T0 + timedelta(minutes=119)) == []
    assert [p.id for p in approvals.expire_due(T0 + timedelta(hours=2))] == [pending.id]
    assert approvals.expire_due(T0 + timedelta(hours=3)) == []  # recorded once
    assert approvals.pending_for(election) == []
    assert [p.id for p in approvals.expired_for(election)] == [pending.id]
    with pytest.raises(approvals.ApprovalRefused) as caught:
        approvals.cancel(pending.id, alice, T0 + timedelta(hours=3))
    assert caught.value.reason == "expired"
    assert db.session.query(AuditEntry).filter_by(action="expire_open_polls").count() == 1
    # Once proposed again, the old expired proposal is no longer shown.
    approvals.propose(election, "open_polls", bob, T0 + timedelta(hours=3))
    assert approvals.expired_for(election) == []


def test_database_refuses_an_approval_after_expiry(accounts_app_any: Flask) -> None:
    alice, bob = _officials()
    election = db.session.query(Election).one()
    db.session.add(PendingAction(election=election, action="open_polls", state="approved",
                                 proposer_pk=alice.id, decider_pk=bob.id, proposed_at=T0,
                                 decided_at=T0 + timedelta(hours=2),
                                 expires_at=T0 + timedelta(hours=1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
