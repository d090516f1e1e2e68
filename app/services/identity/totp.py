"""Time-based one-time passwords (RFC 6238, 30 s steps, 6 digits) and their QR enrolment.

A code is accepted for the current step ±1 (clock drift), and only for a step later than the
last one accepted for the same principal, so an observed code cannot be replayed.
"""
from __future__ import annotations

import base64
import hmac
import io
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

ISSUER = "SSB Vote"
STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    """A fresh 160-bit base32 secret (pyotp uses ``secrets``)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account_name: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/<issuer>:<account>?secret=…&issuer=…`` URI (Key Uri Format) that
    an authenticator app opens from a link or reads from a QR code.  A colon separates issuer
    and account in the label, so neither may contain one."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name.replace(":", " ").strip(),
                                               issuer_name=issuer.replace(":", " ").strip())


def grouped(secret: str, size: int = 4) -> str:
    """The secret in groups of ``size`` characters, as people type it from the screen
    (authenticator apps ignore the spaces)."""
    return " ".join(secret[i:i + size] for i in range(0, len(secret), size))


def qr_data_uri(uri: str) -> str:
    """The URI as an inline SVG QR code in a ``data:`` URI (CSP allows img data:, no script)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, last_step: int, now: datetime) -> int | None:
    """The time step ``code`` belongs to, if valid now and newer than ``last_step``; else None.

    Constant-time comparison for each candidate step; all candidates are always computed.
    """
    code = "".join(code.split())
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = step_at(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        expected = totp.at(step * STEP_SECONDS)
        if hmac.compare_digest(expected, code) and step > last_step and found is None:
            found = step
    return found


def code_at(secret: str, now: datetime) -> str:
    """The code for ``now`` (demo and tests)."""
    return pyotp.TOTP(secret).at(int(now.timestamp()))
