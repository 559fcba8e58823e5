"""The portal's configuration, read from the environment in this one place.

Parsed strictly when the app is created: a missing secret or hub URL stops the start
with a message naming the variable. There are no default secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
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


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be above 0, not {raw!r}")
    return value


@dataclass(frozen=True)
class Config:
    """Settings of one portal process."""

    secret_key: str
    hub_url: str
    hub_timeout_s: float = 10.0
    cookie_secure: bool = True

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
        return cls(
            secret_key=secret_key,
            hub_url=hub_url.rstrip("/"),
            hub_timeout_s=_positive_float(environ, "TANDEM_HUB_TIMEOUT", 10.0),
            cookie_secure=_bool(environ, "TANDEM_COOKIE_SECURE", True),
        )

    def flask_settings(self) -> dict[str, Any]:
        return {
            "SECRET_KEY": self.secret_key,
            "SESSION_COOKIE_SECURE": self.cookie_secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.cookie_secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
        }
