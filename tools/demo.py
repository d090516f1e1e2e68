"""The demo election behind README command 1: a fresh SQLite database, ready to vote in.

The election is set up by the shared scenario (tools/scenario.py), through the same services
officials use; the demo only shifts the poll window to start now and uses fixed demo sign-ins.
The credential authority's step runs with a CA key made in the instance folder (the demo
server is configured with its public key), and writes the printable credential letters there.
"""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import RollEntry
from app.services.platform import schema
from ca import keys as ca_keys
from tools import scenario

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


#: The demo's election rules (``ssbvote demo --rules``): manifest and rolls in examples/.
RULES = {
    # today's rule: up to 7 of 228 insured candidates, 7 of 65 employers (manifest format 1)
    "current": ("demo-manifest.json", "demo-insured.csv", "demo-employers.csv"),
    # the 2026 draft: one vote, seats by insured section 33/39/40, and the employers (format 2,
    # docs/manifest.md §4); the insured roll carries a ``section`` column
    "sections": ("sections-manifest.json", "sections-insured.csv", "sections-employers.csv"),
}


def build(app: Flask, examples: Path, say: Callable[[str], None], key_bits: int = 2048,
          rules: str = "current") -> str:
    config = app.config["SSBVOTE"]
    url = config.database_url
    if not url.startswith("sqlite:///"):
        raise RuntimeError("the demo runs on its own SQLite file only")
    db.engine.dispose()
    db_file = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    ca_folder = Path(app.instance_path) / "ca"
    if ca_folder.exists():  # a fresh CA too: its folder of the last demo holds that election's issue
        shutil.rmtree(ca_folder)
    shutil.rmtree(app.config["NOTIFY_OUTBOX"], ignore_errors=True)  # the last demo's letters
    say("creating the demo database ...")
    schema.upgrade(url)

    now = datetime.now(timezone(timedelta(hours=7))).replace(microsecond=0)
    manifest_file, insured_roll, employer_roll = RULES[rules]
    manifest = scenario.with_poll_window(scenario.load_manifest(examples / manifest_file),
                                         now - timedelta(minutes=5), now + timedelta(days=7))
    setup = scenario.set_up(scenario.Scenario(
        manifest=manifest,
        rolls=(examples / insured_roll, examples / employer_roll),
        officials=tuple(scenario.OfficialSpec(username, name, role, secret)
                        for username, name, role, secret in DEMO_OFFICIALS),
        official_password=DEMO_PASSWORD,
        trustees=DEMO_TRUSTEES, threshold=2, key_bits=key_bits,
        trustee_dir=Path(app.instance_path) / "trustees",
        accounts={"insured": DEMO_INSURED_ACCOUNTS, "employer": DEMO_EMPLOYER_ACCOUNTS},
        account_password=DEMO_PASSWORD, account_secret=demo_totp_secret,
        actor="demo", letters=True), say)
    assert setup.ceremony is not None and setup.authority is not None
    ca = setup.authority

    lines = [
        "",
        "=" * 72,
        f"SSB Vote demo — {setup.election.title_en}",
        f"Database: {db_file}",
    ]
    lines += [f"Credential authority key: {ca.ca_public_key}",
              f"  (fingerprint {ca_keys.fingerprint(ca.ca_public_key)}; the server's SSBVOTE_CA_KEY,",
              f"   the verifier's --ca-key; private key {Path(app.instance_path) / 'ca' / 'ca-key.pem'})",
              f"Credential letters (private; one per voter): {ca.ca_dir / 'letters'}"]
    lines += _demo_accounts(setup)
    lines += _activation_letters(app, setup)
    lines += ["", "trustees' encrypted key shares (2 of 3 needed to decrypt the tally):"]
    for (name, passphrase), path in zip(DEMO_TRUSTEES, setup.ceremony.share_files):
        lines.append(f"  {name}: {path}  passphrase {passphrase}")
    lines += ["", "Polls are OPEN. Vote at /insured/login or /employer/login; officials close",
              "the polls at /official/ (one proposes, the other approves)."]
    lines.append("=" * 72)
    return "\n".join(lines)


def _activation_letters(app: Flask, setup: scenario.ElectionSetup) -> list[str]:
    """Every voter without a ready account gets an activation letter (docs/accounts.md §9),
    which the development sender writes to the outbox folder; a few codes are printed."""
    from app.services.identity import activation

    codes = activation.issue_for_election(setup.election.id, datetime.now(timezone.utc), "demo")
    outbox = app.config["NOTIFY_OUTBOX"]
    lines = ["", f"Activation letters ({len(codes)}; each message is a JSON file in {outbox}):",
             "  register at /insured/register or /employer/register with the ID and the code,",
             "  then choose a password and set up an authenticator app. For example:"]
    shown: dict[str, int] = {}
    for entry_key, code in codes.items():
        electorate = "employer" if len(entry_key) == 10 else "insured"
        if shown.get(electorate, 0) < 2:
            shown[electorate] = shown.get(electorate, 0) + 1
            lines.append(f"  {electorate:8} ID {entry_key}  activation code {code}")
    return lines


def demo_totp_secret(electorate: str, index: int) -> str:
    """A fixed base32 secret per demo voter (32 characters of A-Z2-7)."""
    stem = f"DEMO{electorate.upper()}{'ABCDEFGH'[index]}"
    return (stem + "234567QRSTUVWXYZ" * 3)[:32]


def _demo_accounts(setup: scenario.ElectionSetup) -> list[str]:
    """The sign-ins of the ready accounts: the first insured voters and employers, two officials."""
    code = 'python -c "import pyotp; print(pyotp.TOTP(\'{}\').now())"'
    lines = ["", f"Demo password for every account below: {DEMO_PASSWORD}",
             "Get the current TOTP code with the command shown, or type the secret into any",
             "authenticator app.", ""]
    for electorate, url in (("insured", "/insured/login"), ("employer", "/employer/login")):
        lines.append(f"{electorate} voters — sign in at {url}; sign the ballot with the credential")
        for account in setup.accounts[electorate]:
            entry = db.session.scalar(select(RollEntry).where(RollEntry.pseudonym == account.pseudonym))
            route = f"  contest {entry.contest.code}" if entry is not None and entry.contest else ""
            lines.append(f"  ID {account.voter_key}  secret {account.totp_secret}  credential "
                         f"{account.credential}{route}")
            lines.append(f"    {code.format(account.totp_secret)}")
    lines.append("officials — sign in at /official/login; the credential signs the paper-vote list")
    for username, _, role, secret in DEMO_OFFICIALS:
        lines.append(f"  {username} ({role})  secret {secret}  credential "
                     f"{setup.official_credentials.get(username, '')}")
        lines.append(f"    {code.format(secret)}")
    return lines
