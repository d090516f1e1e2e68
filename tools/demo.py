"""The demo election behind README command 1: a fresh SQLite database, ready to vote in.

Each step of setting up an election is a service that the demo calls in order, exactly as
officials would through the CLI; the demo only shifts the poll window to start now.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Election
from app.services import manifest as manifests
from app.services import roll_import, schema

#: Demo sign-in: the same password for every demo account, and fixed TOTP secrets so that the
#: README can show how to get a code. Never used outside the demo's own SQLite file.
DEMO_PASSWORD = "ssb-demo-2569"
DEMO_INSURED_ACCOUNTS = 3
DEMO_EMPLOYER_ACCOUNTS = 2
DEMO_OFFICIALS = (
    ("admin", "Demo administrator", "admin", "DEMOOFFICIALADMIN234567ABCDEFGHI"),
    ("officer", "Demo returning officer", "returning-officer", "DEMOOFFICIALRETURNING234567ABCDE"),
)


DEMO_TRUSTEES = (
    ("Trustee A (SSO)", "demo-trustee-A-passphrase"),
    ("Trustee B (Labour Ministry)", "demo-trustee-B-passphrase"),
    ("Trustee C (Election Commission)", "demo-trustee-C-passphrase"),
)


def build(app: Flask, examples: Path, say: Callable[[str], None], key_bits: int = 2048) -> str:
    config = app.config["SSBVOTE"]
    url = config.database_url
    if not url.startswith("sqlite:///"):
        raise RuntimeError("the demo runs on its own SQLite file only")
    db.engine.dispose()
    db_file = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    say("creating the demo database ...")
    schema.upgrade(url)

    manifest = json.loads((examples / "demo-manifest.json").read_text(encoding="utf-8"))
    now = datetime.now(timezone(timedelta(hours=7))).replace(microsecond=0)
    manifest["poll_window"] = {
        "opens": (now - timedelta(minutes=5)).isoformat(),
        "closes": (now + timedelta(days=7)).isoformat(),
    }
    election = manifests.create_election(manifest, actor="demo")
    say(f"election {election.slug} created (id {election.election_id[:16]}...)")
    insured = roll_import.import_roll_file(election, examples / "demo-insured.csv", actor="demo")
    employers = roll_import.import_roll_file(election, examples / "demo-employers.csv", actor="demo")
    say(f"rolls imported: {insured.imported} insured, {employers.imported} employers")

    lines = [
        "",
        "=" * 72,
        f"SSB Vote demo — {election.title_en}",
        f"Database: {db_file}",
    ]
    lines += _demo_accounts(election)
    lines += _demo_key_and_polls(app, election, key_bits, say)
    lines.append("=" * 72)
    return "\n".join(lines)


def demo_totp_secret(electorate: str, index: int) -> str:
    """A fixed base32 secret per demo voter (32 characters of A-Z2-7)."""
    stem = f"DEMO{electorate.upper()}{'ABCDEFGH'[index]}"
    return (stem + "234567QRSTUVWXYZ" * 3)[:32]


def _demo_accounts(election: Election) -> list[str]:
    """Ready accounts: the first insured voters and employers, and two officials."""
    from sqlalchemy import select

    from app.models import RollEntry, VoterAccount
    from app.services import officials, passwords

    password_hash = passwords.hash_password(DEMO_PASSWORD)
    code = 'python -c "import pyotp; print(pyotp.TOTP(\'{}\').now())"'
    lines = ["", f"Demo password for every account below: {DEMO_PASSWORD}",
             "Get the current TOTP code with the command shown, or type the secret into any",
             "authenticator app.", ""]
    for electorate, count, url in (("insured", DEMO_INSURED_ACCOUNTS, "/insured/login"),
                                   ("employer", DEMO_EMPLOYER_ACCOUNTS, "/employer/login")):
        entries = db.session.scalars(
            select(RollEntry).where(RollEntry.election_pk == election.id,
                                    RollEntry.electorate == electorate)
            .order_by(RollEntry.id).limit(count))
        lines.append(f"{electorate} voters — sign in at {url}")
        for index, entry in enumerate(entries):
            secret = demo_totp_secret(electorate, index)
            db.session.add(VoterAccount(roll_entry=entry, password_hash=password_hash,
                                        totp_secret=secret, totp_confirmed=True,
                                        totp_last_step=0, failed_attempts=0, session_epoch=0))
            lines.append(f"  ID {entry.voter_key}  secret {secret}")
            lines.append(f"    {code.format(secret)}")
    db.session.commit()
    lines.append("officials — sign in at /official/login")
    for username, name, role, secret in DEMO_OFFICIALS:
        created = officials.add(username, name, role, DEMO_PASSWORD, actor="demo")
        created.official.totp_secret = secret
        db.session.commit()
        lines.append(f"  {username} ({role})  secret {secret}")
        lines.append(f"    {code.format(secret)}")
    return lines


def _demo_key_and_polls(app: Flask, election: Election, key_bits: int,
                        say: Callable[[str], None]) -> list[str]:
    """Key ceremony with three demo trustees (2 of 3 decrypt), then two officials open polls."""
    from app.models import Official
    from app.models.base import utcnow
    from app.services import approvals, election_keys

    say(f"key ceremony: {key_bits}-bit key, 2 of 3 trustees ...")
    out = Path(app.instance_path) / "trustees"
    result = election_keys.run_ceremony(election, list(DEMO_TRUSTEES), 2, key_bits, out, actor="demo")
    admin = db.session.scalar(select(Official).where(Official.username == "admin"))
    officer = db.session.scalar(select(Official).where(Official.username == "officer"))
    assert admin is not None and officer is not None
    pending = approvals.propose(election, "open_polls", admin, utcnow())
    approvals.approve(pending.id, officer, utcnow())
    say("polls opened by the two demo officials")
    lines = ["", "trustees' encrypted key shares (2 of 3 needed to decrypt the tally):"]
    for (name, passphrase), path in zip(DEMO_TRUSTEES, result.share_files):
        lines.append(f"  {name}: {path}  passphrase {passphrase}")
    lines += ["", "Polls are OPEN. Vote at /insured/login or /employer/login; officials close",
              "the polls at /official/ (one proposes, the other approves)."]
    return lines
