"""Messages to voters out of band (letter or SMS) through a pluggable sender (docs/accounts.md §9).

The sender is chosen by ``SSBVOTE_NOTIFY_SENDER``: ``file`` writes each message as a JSON file
into the outbox folder (development, tests, the demo); ``package.module:attribute`` names a
production sender — an object with ``send(message)``, or a callable returning one — that looks
up the voter's postal address or phone number by national ID in the Social Security Office's
own register.  Messages are bilingual (Thai first), since a letter does not know the reader's
language choice.
"""
from __future__ import annotations

import importlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from flask import current_app

from app.models import RollEntry

#: Message kinds and their text (Thai, English). ``{code}`` and ``{expires}`` are filled in.
TEXTS: dict[str, tuple[str, str]] = {
    "activation_code": (
        "รหัสเปิดใช้งานบัญชีผู้มีสิทธิเลือกตั้งกรรมการประกันสังคมของท่าน: {code} "
        "ใช้ได้ครั้งเดียว ถึง {expires} (UTC) ห้ามบอกรหัสนี้แก่ผู้ใด รหัสนี้ไม่ใช่รหัสลงคะแนน",
        "Your SSB election account activation code: {code}. Single use, valid until {expires} "
        "(UTC). Never tell it to anyone. It is not your ballot credential.",
    ),
    "registered": (
        "มีการลงทะเบียนบัญชีในนามของท่านเมื่อ {when} (UTC) หากไม่ใช่ท่าน โปรดติดต่อสำนักงานประกันสังคม",
        "An account was registered in your name on {when} (UTC). If this was not you, "
        "contact the Social Security Office.",
    ),
    "recovered": (
        "มีการตั้งรหัสผ่านและแอปยืนยันตัวตนใหม่ให้บัญชีของท่านเมื่อ {when} (UTC) "
        "หากไม่ใช่ท่าน โปรดติดต่อสำนักงานประกันสังคม",
        "A new password and authenticator were set for your account on {when} (UTC). If this "
        "was not you, contact the Social Security Office.",
    ),
    "released": (
        "เจ้าหน้าที่สองคนได้ปลดบัญชีในนามของท่านเมื่อ {when} (UTC) ท่านลงทะเบียนใหม่ได้ด้วยรหัสเปิดใช้งานฉบับใหม่",
        "Two officials released the account in your name on {when} (UTC). You can register "
        "again with the new activation code.",
    ),
}


@dataclass(frozen=True)
class Message:
    """One message to one voter; the sender finds the address from ``electorate`` + ``voter_key``."""

    kind: str
    electorate: str
    voter_key: str
    pseudonym: str
    text_th: str
    text_en: str
    created_at: str


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class FileSender:
    """Development and tests: each message becomes ``<outbox>/<time>-<kind>-<random>.json``."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: Message) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{time.time_ns():020d}-{message.kind}-{secrets.token_hex(4)}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(message), ensure_ascii=False, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.rename(path)


def message(kind: str, entry: RollEntry, now: datetime, **values: str) -> Message:
    th, en = TEXTS[kind]
    fields = {"when": now.strftime("%Y-%m-%d %H:%M"), **values}
    return Message(kind, entry.electorate, entry.voter_key, entry.pseudonym,
                   th.format(**fields), en.format(**fields), now.isoformat())


def send(kind: str, entry: RollEntry, now: datetime, **values: str) -> None:
    sender().send(message(kind, entry, now, **values))


def sender() -> Sender:
    """The configured sender (``NOTIFY_SENDER`` in the app config; tests may put an object there)."""
    chosen = current_app.config.get("NOTIFY_SENDER") or "file"
    if not isinstance(chosen, str):
        return chosen  # type: ignore[no-any-return]
    if chosen == "file":
        return FileSender(outbox())
    module, _, attribute = chosen.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    # A class or factory is called; an object with ``send`` is the sender itself.
    made = found() if isinstance(found, type) or not hasattr(found, "send") else found
    return made  # type: ignore[no-any-return]


def outbox() -> Path:
    configured = current_app.config.get("NOTIFY_OUTBOX")
    return Path(configured) if configured else Path(current_app.instance_path) / "outbox"


def read_outbox(folder: Path) -> list[dict[str, str]]:
    """The file sink's messages, oldest first (tests, the demo and `ssbvote activation`)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
