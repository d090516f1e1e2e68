"""Identity proofing with ThaiD over OpenID Connect (docs/accounts.md §8).

The relying party is Authlib's Flask client: discovery from the issuer, authorization code
with PKCE (S256), ``state`` and ``nonce`` kept in the signed session, and ID-token validation
(signature against the provider's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``) are Authlib's.
This module adds what is ours: an ID token must be there, ``ial`` must reach the configured
minimum, and ``pid`` must be a national ID on the roll.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from app.models import RollEntry
from app.services.errors import InvalidRequest
from app.services.identity import principals
from app.services.identity.identifiers import national_id_is_valid

NAME = "thaid"
#: What the voter is doing: sign in, register, recover (kept with the state in the session).
PURPOSES = ("login", "register", "recover")
_EXTENSION = "ssbvote_oidc"


class ProofRefused(InvalidRequest):
    """``reason``: provider (error, tampered state/nonce, bad token), no_id_token, low_ial,
    invalid_pid, not_on_roll."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Proof:
    entry_pk: int
    electorate: str
    pseudonym: str


def enabled(app: Flask | None = None) -> bool:
    return bool((app or current_app).config["SSBVOTE"].identity.oidc_issuer)


def init_app(app: Flask) -> None:
    settings = app.config["SSBVOTE"].identity
    if not settings.oidc_issuer:
        return
    oauth = OAuth(app)
    oauth.register(
        NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_basic", "timeout": 10},
    )
    app.extensions[_EXTENSION] = oauth


def _client() -> Any:
    return current_app.extensions[_EXTENSION].create_client(NAME)


def authorization_url(redirect_uri: str) -> str:
    """Where to send the voter: the provider's authorization endpoint.  Authlib makes the
    state, nonce and PKCE verifier and keeps them in the session (as its authorize_redirect)."""
    client = _client()
    made = client.create_authorization_url(redirect_uri)
    client.save_authorize_data(redirect_uri=redirect_uri, **made)
    return str(made["url"])


def finish(now: datetime) -> Proof:
    """The callback: Authlib checks state, exchanges the code and validates the ID token;
    then :func:`check_claims`.  Every failure is :class:`ProofRefused`."""
    try:
        token = _client().authorize_access_token()
    except Exception as exc:  # noqa: BLE001 - Authlib's OAuthError, joserfc's errors, HTTP errors
        # A provider error, a state that is not this session's, a code already used or
        # injected, a PKCE mismatch, a bad signature/issuer/audience/expiry/nonce: one answer.
        current_app.logger.info("OpenID Connect sign-in refused: %s: %s", type(exc).__name__, exc)
        raise ProofRefused("provider") from None
    claims = token.get("userinfo")  # the validated ID token's claims
    if not isinstance(claims, Mapping):
        raise ProofRefused("no_id_token")
    return check_claims(claims)


def check_claims(claims: Mapping[str, Any]) -> Proof:
    """``ial`` ≥ the minimum, ``pid`` a national ID on the roll of an election in draft or open."""
    minimum = float(current_app.config["SSBVOTE"].identity.oidc_min_ial)
    ial = claims.get("ial")
    if isinstance(ial, bool) or not isinstance(ial, (int, float, str)):
        raise ProofRefused("low_ial")
    try:
        level = float(ial)
    except ValueError:
        raise ProofRefused("low_ial") from None
    if not math.isfinite(level) or level < minimum:
        raise ProofRefused("low_ial")
    pid = claims.get("pid")
    if not isinstance(pid, str) or not national_id_is_valid(pid):
        raise ProofRefused("invalid_pid")
    entry: RollEntry | None = principals.roll_entry_for("insured", pid, registering=True)
    if entry is None:
        raise ProofRefused("not_on_roll")
    return Proof(entry.id, entry.electorate, entry.pseudonym)
