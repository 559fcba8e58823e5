"""Personal API tokens: a signed-in user mints and revokes their own.

A token reads ``tdm_<id>_<secret>``. Its hub row (``api_tokens``) holds the SHA-256 of
the secret and ``sealed``: a hub session opened with the password the user re-entered
to mint it, sealed (:mod:`portal.sealing`) under a key derived from the secret. So the
row alone, or the portal's keys alone, cannot act as the user; only the token can.

On an API request with ``Authorization: Bearer tdm_…`` (flask-login's request loader,
registered here; API views just use ``@login_required`` and :func:`portal.auth.current_hub`):
the portal-auth service account reads the row; the hash is compared in constant time;
a revoked or expired token stops there; the session is unsealed and used as the user
(refreshed when due, and then sealed again into the row); the user and organization must
still be active, as for a browser session. A token therefore carries exactly its user's
rights, and a revocation applies from the next request.

This module is the service (mint, list, revoke, authenticate); the API's routes are
:mod:`portal.api.tokens`, the pages :mod:`portal.journeys.account`.

A token's hub session lasts the hub's SESSION_COOKIE_TTL from its last refresh, and a
token in use is refreshed past half of that; a token left unused longer stops working.

Revoking a token ends its hub session at once, whichever door revokes it (a page, the
API, or the user's own login at the hub): the session is opened and refreshed under the
user agent :func:`session_agent` names, and the hub's integrity extension deletes the
user's sessions of that agent in the transaction that sets ``revoked_at``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask, Request
from marshmallow import EXCLUDE, Schema, fields, validate

from directus import AuthFailed, ForbiddenOrMissing, HubClient, HubError, Tokens
from domain import clock
from governance import audit
from portal.auth import (
    THROTTLED,
    PortalUser,
    account_throttled,
    bearer_token,
    count_password_failure,
    hub_unreachable,
    identify,
    login_manager,
    use_hub,
)
from portal.hub import hub
from portal.sealing import derive_fernet, seal, unseal

log = logging.getLogger(__name__)


TOKEN_PATTERN = re.compile(r"tdm_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")
#: Every token expires: after DEFAULT_DAYS unless its user chooses, at most MAX_DAYS (as
#: GitLab's personal tokens); a leaked token stops working without anyone noticing it.
DEFAULT_DAYS, MAX_DAYS = 90, 365
LIST_FIELDS = ["id", "name", "created_at", "last_used_at", "expires_at", "revoked_at"]
#: ``last_used_at`` is written at most this often per token (it costs a hub write).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Minted:
    """A new token: the secret string, shown once, and its row."""

    token: str
    row: dict[str, Any]


class TokenCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=100, error="Give the token a name (up to 100 characters)."
        ),
        error_messages={"required": "Give the token a name."},
    )
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, error="Enter your password."),
        error_messages={"required": "Enter your password."},
    )
    expires_in_days = fields.Integer(
        load_default=DEFAULT_DAYS,
        validate=validate.Range(min=1, max=MAX_DAYS, error=f"Between 1 and {MAX_DAYS} days."),
        metadata={"description": f"days until it expires ({DEFAULT_DAYS} if left out)"},
    )


class TokenError(Exception):
    """Minting refused: per-field messages and the HTTP status to answer."""

    def __init__(self, status: int, errors: dict[str, list[str]], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors
        self.message = message


# -- the domain of a token --------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _fernet(token_id: str, secret: str) -> Fernet:
    return derive_fernet(
        secret.encode(), salt=token_id.encode(), purpose=b"personal api token: hub session v1"
    )


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def session_agent(token_id: str) -> str:
    """The user agent a token's hub session is opened and refreshed with.

    The tandem-integrity extension ends the sessions of this agent when the token is
    revoked (it spells the same prefix)."""
    return f"tandem-token/{token_id}"


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def mint(
    client: HubClient,
    user: PortalUser,
    name: str,
    password: str,
    expires_in_days: int = DEFAULT_DAYS,
) -> Minted:
    """Mint a token for ``user``, who proves it is them with their password."""
    if account_throttled(user.email):
        raise TokenError(429, {}, THROTTLED)
    token_id, secret = secrets.token_hex(16), secrets.token_urlsafe(32)
    try:
        token_session = hub.login(user.email, password, user_agent=session_agent(token_id))
    except AuthFailed:
        count_password_failure(user.email)
        raise TokenError(401, {"password": ["Wrong password."]}, "Wrong password.") from None
    except HubError as exc:
        if exc.status == 429:  # the hub's own throttle: direct attempts on this account
            raise TokenError(429, {}, THROTTLED) from None
        raise
    now = clock.now()
    expires = now + dt.timedelta(days=expires_in_days)
    try:
        row = client.create_item(
            "api_tokens",
            {
                "id": token_id,
                "user": user.id,
                "name": name,
                "token_hash": _hash(secret),
                "sealed": seal(_fernet(token_id, secret), user.id, token_session.tokens),  # type: ignore[arg-type]
                "created_at": _iso(now),
                "expires_at": _iso(expires),
            },
            fields=LIST_FIELDS,
        )
    except HubError:
        token_session.logout()
        raise
    audit.record(
        client,
        "token.create",
        "api_tokens",
        [token_id],
        detail={"name": name},
        via=_via(user),
        actor=user.id,
        organization=user.organization_id,
    )
    return Minted(f"tdm_{token_id}_{secret}", row)


def list_tokens(client: HubClient, user: PortalUser) -> list[dict[str, Any]]:
    """The user's own tokens, newest first; never their secret, hash or session."""
    return client.read_items(
        "api_tokens",
        filter={"user": {"_eq": user.id}},
        fields=LIST_FIELDS,
        sort=["-created_at"],
        limit=-1,
    )


def revoke(client: HubClient, user: PortalUser, token_id: str) -> dict[str, Any] | None:
    """Revoke one of the user's own tokens; None if they have no such token."""
    rows = client.read_items(
        "api_tokens",
        filter={"_and": [{"id": {"_eq": token_id}}, {"user": {"_eq": user.id}}]},
        fields=LIST_FIELDS,
        limit=1,
    )
    if not rows:
        return None
    if rows[0]["revoked_at"]:
        return rows[0]

    def record() -> None:
        audit.record(
            client,
            "token.revoke",
            "api_tokens",
            [token_id],
            via=_via(user),
            actor=user.id,
            organization=user.organization_id,
        )

    # A token revoking itself loses its hub session in the update: audit first.
    itself = user.token_id == token_id
    if itself:
        record()
    row = client.update_item(
        "api_tokens", token_id, {"revoked_at": _iso(clock.now())}, fields=LIST_FIELDS
    )
    if not itself:
        record()
    return row


def authenticate(token: str) -> PortalUser | None:
    """The user a bearer token acts for, with their hub client in use; None if it may not."""
    match = TOKEN_PATTERN.fullmatch(token)
    if match is None:
        return None
    token_id, secret = match.groups()
    verifier = hub.token_verifier()
    try:
        row = verifier.read_item(
            "api_tokens",
            token_id,
            fields=["user", "token_hash", "sealed", "expires_at", "revoked_at", "last_used_at"],
        )
    except ForbiddenOrMissing:
        return None
    except HubError as exc:
        log.warning("hub unreachable while checking token %s: %s", token_id, exc)
        hub_unreachable()
        return None
    if not hmac.compare_digest(row["token_hash"], _hash(secret)) or row["revoked_at"]:
        return None
    now = clock.now()
    expires = parse_time(row["expires_at"])
    if expires is not None and expires <= now:
        return None
    fernet = _fernet(token_id, secret)
    opened = unseal(fernet, row["sealed"])
    if opened is None or opened.user_id != row["user"]:
        return None

    def reseal(tokens: Tokens) -> None:
        verifier.update_item("api_tokens", token_id, {"sealed": seal(fernet, row["user"], tokens)})

    client = hub.as_user(opened.tokens, on_tokens=reseal, user_agent=session_agent(token_id))
    try:
        user = identify(client, token_id=token_id)
        last_used = parse_time(row["last_used_at"])
        if user is not None and (last_used is None or now - last_used >= LAST_USED_RESOLUTION):
            verifier.update_item("api_tokens", token_id, {"last_used_at": _iso(now)})
    except HubError as exc:
        log.warning("hub unreachable while using token %s: %s", token_id, exc)
        hub_unreachable()
        return None
    if user is None or user.id != row["user"]:
        return None
    use_hub(client)
    return user


def _via(user: PortalUser) -> str:
    return f"api:{user.token_id}" if user.token_id else "portal"


def _load_token_user(_request: Request) -> PortalUser | None:
    token = bearer_token()
    return authenticate(token) if token else None


def init_app(app: Flask) -> None:
    """Accept ``Authorization: Bearer tdm_…`` as the signed-in user on every request."""
    login_manager.request_loader(_load_token_user)
