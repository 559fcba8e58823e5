"""The portal's configuration, read from the environment in this one place.

Parsed strictly when the app is created: a missing secret or hub URL stops the start
with a message naming the variable. There are no default secrets.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _non_negative_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be above 0, not {raw!r}")
    return value


@dataclass(frozen=True)
class Config:
    """Settings of one portal process."""

    secret_key: str
    hub_url: str
    #: Static token of the hub's "portal token verifier" service user: it reads personal
    #: API token rows and updates their sealed session, nothing else.
    portal_auth_token: str
    hub_timeout_s: float = 10.0
    cookie_secure: bool = True
    #: A signed-in session ends after this many hours without a request.
    session_hours: float = 12.0
    #: Where sign-in throttling counts failures; shared by every worker and replica
    #: (``redis://…``). ``memory://`` counts per process: for one-process use only.
    ratelimit_storage: str = "memory://"
    #: How many reverse proxies in front of the portal set X-Forwarded-For/-Proto.
    trusted_proxies: int = 0
    #: The hub's database for the bulk lane (``sqlite:///…`` / ``postgresql://…``);
    #: uploads are refused (503) without it.
    hub_db_url: str | None = None
    #: Where uploaded files wait for their import, and rejects files are kept.
    spool_dir: Path | None = None
    #: The largest upload accepted, in MB.
    max_upload_mb: int = 1024
    #: A feed whose data is older than this many days is flagged stale (unless the feed
    #: has its own setting).
    stale_after_days: int = 3
    #: How long a computed sell-through or inventory report may be reused, in seconds
    #: (0: never). It is reused only for the same organization, the same agreements in
    #: force and the same feed deliveries, so a revocation or an import shows at once.
    report_cache_s: int = 300
    #: How many MB of the hub's answers each portal process keeps between the hub's
    #: writes (0: none), and for how many seconds at most (:mod:`directus.reads`). Only a
    #: hub on PostgreSQL keeps the write generation this needs: on SQLite nothing is kept.
    read_cache_mb: int = 64
    read_cache_s: int = 60
    #: Who may read ``/metrics``: a bearer of this token; unset, this machine only.
    metrics_token: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read ``TANDEM_*`` variables; raise :class:`ConfigError` on anything missing or bad."""
        environ = os.environ if environ is None else environ
        secret_key = environ.get("TANDEM_SECRET_KEY", "")
        if not secret_key:
            raise ConfigError(
                "TANDEM_SECRET_KEY is not set: the portal will not start without a secret key "
                "(`make run` generates one into .state/)"
            )
        if len(secret_key) < 32:
            raise ConfigError("TANDEM_SECRET_KEY is too short: use at least 32 random characters")
        hub_url = environ.get("TANDEM_HUB_URL", "")
        if not hub_url.startswith(("http://", "https://")):
            raise ConfigError(f"TANDEM_HUB_URL must be the hub's http(s) URL, not {hub_url!r}")
        portal_auth_token = environ.get("TANDEM_PORTAL_AUTH_TOKEN", "")
        if not portal_auth_token:
            raise ConfigError(
                "TANDEM_PORTAL_AUTH_TOKEN is not set: the portal verifies personal API tokens "
                "with the hub's portal-auth service account (`make run` generates one)"
            )
        return cls(
            secret_key=secret_key,
            hub_url=hub_url.rstrip("/"),
            portal_auth_token=portal_auth_token,
            hub_timeout_s=_positive_float(environ, "TANDEM_HUB_TIMEOUT", 10.0),
            cookie_secure=_bool(environ, "TANDEM_COOKIE_SECURE", True),
            session_hours=_positive_float(environ, "TANDEM_SESSION_HOURS", 12.0),
            ratelimit_storage=environ.get("TANDEM_RATELIMIT_STORAGE") or "memory://",
            trusted_proxies=_non_negative_int(environ, "TANDEM_TRUSTED_PROXIES", 0),
            hub_db_url=environ.get("TANDEM_HUB_DB_URL") or None,
            spool_dir=Path(environ["TANDEM_SPOOL_DIR"])
            if environ.get("TANDEM_SPOOL_DIR")
            else None,
            max_upload_mb=_non_negative_int(environ, "TANDEM_MAX_UPLOAD_MB", 1024),
            stale_after_days=_non_negative_int(environ, "TANDEM_STALE_DAYS", 3),
            report_cache_s=_non_negative_int(environ, "TANDEM_REPORT_CACHE_S", 300),
            read_cache_mb=_non_negative_int(environ, "TANDEM_READ_CACHE_MB", 64),
            read_cache_s=_non_negative_int(environ, "TANDEM_READ_CACHE_S", 60),
            metrics_token=environ.get("TANDEM_METRICS_TOKEN") or None,
        )

    @property
    def session_lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=self.session_hours)

    def flask_settings(self) -> dict[str, Any]:
        return {
            "SECRET_KEY": self.secret_key,
            "SESSION_COOKIE_SECURE": self.cookie_secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "PERMANENT_SESSION_LIFETIME": self.session_lifetime,
            # Checked by portal.auth, which exempts only bearer-token API calls.
            "WTF_CSRF_CHECK_DEFAULT": False,
            # A form's token lives as long as the session it belongs to.
            "WTF_CSRF_TIME_LIMIT": None,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage,
            "RATELIMIT_HEADERS_ENABLED": True,
            "MAX_CONTENT_LENGTH": self.max_upload_mb * 1024 * 1024,
        }
