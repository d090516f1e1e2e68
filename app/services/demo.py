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

from app.extensions import db
from app.services import manifest as manifests
from app.services import roll_import, schema

def build(app: Flask, examples: Path, say: Callable[[str], None]) -> str:
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
    lines.append("=" * 72)
    return "\n".join(lines)
