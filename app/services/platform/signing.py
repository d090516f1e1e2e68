"""The server's Ed25519 key: signs board checkpoints, receipts and paper lists (docs/record.md §1).

This module only loads (or, in development, creates) and caches the key; signing and checking
signed objects is :mod:`election.signed`, called here with the server key.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app

from app.services.errors import Misconfigured
from election import signed
from election.signed import verify  # noqa: F401  (re-exported: app's signed-object check)


def load_or_create(path: str, create: bool) -> Ed25519PrivateKey:
    """Load the PEM key; in development/test create it (mode 0600) when missing."""
    key_path = Path(path)
    if not key_path.exists():
        if not create:
            raise Misconfigured(f"signing key {path} is missing")
        key_path.parent.mkdir(parents=True, exist_ok=True)
        new_key = Ed25519PrivateKey.generate()
        pem = new_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        tmp = key_path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp, key_path)  # atomic: never overwrite a key another worker just made
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise Misconfigured(f"signing key {path} is not an Ed25519 key")
    return key


@lru_cache(maxsize=8)
def _cached(path: str, create: bool) -> Ed25519PrivateKey:
    return load_or_create(path, create)


def server_key() -> Ed25519PrivateKey:
    config = current_app.config["SSBVOTE"]
    return _cached(config.signing_key_path, not config.is_production)


def public_key_dict(key: Ed25519PrivateKey | None = None) -> dict[str, str]:
    """The published public key (record.md §1) of ``key``, by default the server's."""
    return signed.public_key_dict(key or server_key())


def sign(obj: dict[str, Any], key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """``obj`` signed by ``key``, by default the server's (obj: a ``type``, no signature)."""
    return signed.sign(obj, key or server_key())
