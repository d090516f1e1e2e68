"""The credential authority's public key, as the server was *configured* with it
(``SSBVOTE_CA_KEY``, docs/record.md §2.0): the opening object, the credential list and the
revocations are checked with it, and the ballot page checks the opening with it before
encrypting.  Never read from the database: a database insider must not be able to swap it.

The setting is 64 hex digits or the path of a file holding the key (app/config.py
:func:`~app.config.read_ca_key`); a file is read again when it changes, so that the demo and
the test scenario, which make their CA key after the app has started, are picked up.
"""
from __future__ import annotations

import os

from flask import current_app

from app.config import ConfigError, read_ca_key
from app.services.errors import Misconfigured

_cache: dict[tuple[str, int, int], str] = {}


def configured() -> str | None:
    """The configured CA public key (64 lowercase hex), or None if it cannot be had (in
    development: the instance's CA key has not been made yet)."""
    try:
        return required()
    except Misconfigured:
        return None


def required() -> str:
    """The configured CA public key (64 lowercase hex); :class:`Misconfigured` if the setting
    does not give one."""
    value = str(current_app.config["SSBVOTE"].ca_key or "")
    if not value:
        raise Misconfigured("SSBVOTE_CA_KEY is not set: the credential authority's public key is needed")
    try:
        stat = os.stat(value)
    except (OSError, ValueError):
        stamp = (value, 0, 0)
    else:
        stamp = (value, stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(stamp)
    if cached is not None:
        return cached
    try:
        key = read_ca_key(value)
    except ConfigError as exc:
        raise Misconfigured(str(exc)) from None
    if len(_cache) > 64:
        _cache.clear()
    _cache[stamp] = key
    return key
