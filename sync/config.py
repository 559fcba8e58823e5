"""The scheduler's configuration, read from the environment in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class SyncConfig:
    hub_url: str
    hub_token: str
    #: What keeps one scheduler: a lock file's path (one host), or a Redis URL (a lease,
    #: across hosts: see :mod:`sync.lease`).
    lock: str
    #: The Redis lease's time to live: a dead holder's standby takes over within it.
    lease_s: int = 30
    #: Where the scheduler serves its Prometheus metrics (``/metrics``); None: nowhere.
    metrics_port: int | None = None
    metrics_addr: str = "127.0.0.1"
    run_retention_days: int = 30
    #: Distributors' drop folders and the bulk lane's database; the drop-folder job runs
    #: only when both are set. Its imports' rejects go to the spool, where the portal
    #: serves an upload's (``<spool>/<import id>/``), so drop folders need one.
    drop_dir: Path | None = None
    lane_url: str | None = None
    spool_dir: Path | None = None
    drop_poll_s: int = 60
    #: How often the EDI exchange reads inboxes and sends what is due.
    edi_poll_s: int = 60
    #: Tandem's AS2 identity (``as2_id``, ``as2_certificate`` and ``as2_key`` paths) and
    #: where partners post asynchronous receipts (``as2_receipt_url``); empty: no AS2.
    as2: Mapping[str, str] | None = None
    #: Where alerts are e-mailed from (``host``, ``port``, ``tls``, ``user``,
    #: ``password``, ``sender``, ``portal_url``); empty: no e-mail, alerts stay in the portal.
    smtp: Mapping[str, str] | None = None

    @property
    def lease_url(self) -> str | None:
        """The Redis URL of the scheduler's lease, if the lock is one."""
        return self.lock if self.lock.startswith(("redis://", "rediss://", "unix://")) else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SyncConfig:
        environ = os.environ if environ is None else environ
        hub_url = environ.get("TANDEM_HUB_URL", "")
        if not hub_url.startswith(("http://", "https://")):
            raise ConfigError(f"TANDEM_HUB_URL must be the hub's http(s) URL, not {hub_url!r}")
        token = environ.get("TANDEM_SYNC_TOKEN", "")
        if not token:
            raise ConfigError("TANDEM_SYNC_TOKEN is not set: the sync service account's token")
        lock = environ.get("TANDEM_SCHEDULER_LOCK", "")
        if not lock:
            raise ConfigError(
                "TANDEM_SCHEDULER_LOCK is not set: the lock file, or the Redis URL of the "
                "lease, that keeps one scheduler"
            )
        raw_lease = environ.get("TANDEM_SCHEDULER_LEASE_SECONDS", "30")
        if not raw_lease.isdigit() or int(raw_lease) < 3:
            raise ConfigError(
                "TANDEM_SCHEDULER_LEASE_SECONDS must be whole seconds, at least 3, "
                f"not {raw_lease!r}"
            )
        raw_metrics = environ.get("TANDEM_SCHEDULER_METRICS_PORT", "")
        if raw_metrics and not (raw_metrics.isdigit() and 0 < int(raw_metrics) < 65536):
            raise ConfigError(
                f"TANDEM_SCHEDULER_METRICS_PORT must be a TCP port number, not {raw_metrics!r}"
            )
        raw_days = environ.get("TANDEM_SYNC_RUN_RETENTION_DAYS", "30")
        if not raw_days.isdigit() or int(raw_days) < 1:
            raise ConfigError(
                f"TANDEM_SYNC_RUN_RETENTION_DAYS must be a whole number of days, not {raw_days!r}"
            )
        raw_poll = environ.get("TANDEM_DROP_POLL_SECONDS", "60")
        if not raw_poll.isdigit() or int(raw_poll) < 1:
            raise ConfigError(f"TANDEM_DROP_POLL_SECONDS must be whole seconds, not {raw_poll!r}")
        raw_edi = environ.get("TANDEM_EDI_POLL_SECONDS", "60")
        if not raw_edi.isdigit() or int(raw_edi) < 1:
            raise ConfigError(f"TANDEM_EDI_POLL_SECONDS must be whole seconds, not {raw_edi!r}")
        drop = environ.get("TANDEM_DROP_DIR")
        spool = environ.get("TANDEM_SPOOL_DIR")
        if drop and not spool:
            raise ConfigError(
                "TANDEM_SPOOL_DIR is not set: drop-folder imports keep their rejects there, "
                "where the portal serves them (the portal's own TANDEM_SPOOL_DIR)"
            )
        return cls(
            as2=as2_settings(environ),
            smtp=smtp_settings(environ),
            hub_url=hub_url.rstrip("/"),
            hub_token=token,
            lock=lock,
            lease_s=int(raw_lease),
            metrics_port=int(raw_metrics) if raw_metrics else None,
            metrics_addr=environ.get("TANDEM_SCHEDULER_METRICS_ADDR") or "127.0.0.1",
            run_retention_days=int(raw_days),
            drop_dir=Path(drop) if drop else None,
            lane_url=environ.get("TANDEM_HUB_DB_URL") or None,
            spool_dir=Path(spool) if spool else None,
            drop_poll_s=int(raw_poll),
            edi_poll_s=int(raw_edi),
        )


AS2_VARIABLES = {"as2_id": "TANDEM_AS2_ID", "as2_certificate": "TANDEM_AS2_CERT",
                 "as2_key": "TANDEM_AS2_KEY"}  # fmt: skip


def as2_settings(environ: Mapping[str, str]) -> dict[str, str] | None:
    """Tandem's AS2 identity as the exchange and the receiver take it: its id and the
    paths of its certificate and key (all three, or none: no AS2), and the URL partners
    post asynchronous receipts to (``TANDEM_AS2_RECEIPT_URL``, the receiver's
    ``/as2/receipts`` as partners reach it)."""
    given = {name: environ.get(variable, "") for name, variable in AS2_VARIABLES.items()}
    if not any(given.values()):
        return None
    missing = [AS2_VARIABLES[name] for name, value in given.items() if not value]
    if missing:
        raise ConfigError(f"{', '.join(missing)} not set: AS2 needs an id, a certificate and a key")
    for name in ("as2_certificate", "as2_key"):
        if not Path(given[name]).is_file():
            raise ConfigError(f"{AS2_VARIABLES[name]}: no file {given[name]}")
    return {**given, "as2_receipt_url": environ.get("TANDEM_AS2_RECEIPT_URL", "")}


SMTP_TLS = ("starttls", "ssl", "none")


def smtp_settings(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The mail server alerts go through: ``TANDEM_SMTP_HOST`` (none: no e-mail),
    ``TANDEM_SMTP_PORT`` (587), ``TANDEM_SMTP_TLS`` (starttls, ssl or none),
    ``TANDEM_SMTP_USER`` and ``TANDEM_SMTP_PASSWORD_FILE`` (a login, if the server wants
    one), ``TANDEM_SMTP_FROM`` (the sender), and ``TANDEM_PORTAL_URL`` (the portal's
    address, for the links in a message)."""
    host = environ.get("TANDEM_SMTP_HOST", "")
    if not host:
        return None
    port = environ.get("TANDEM_SMTP_PORT", "587")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"TANDEM_SMTP_PORT must be a port number, not {port!r}")
    tls = environ.get("TANDEM_SMTP_TLS", "starttls")
    if tls not in SMTP_TLS:
        raise ConfigError(f"TANDEM_SMTP_TLS must be one of {', '.join(SMTP_TLS)}, not {tls!r}")
    sender = environ.get("TANDEM_SMTP_FROM", "")
    if "@" not in sender:
        raise ConfigError("TANDEM_SMTP_FROM must be the alerts' sender address")
    password = ""
    secret = environ.get("TANDEM_SMTP_PASSWORD_FILE", "")
    if secret:
        if not Path(secret).is_file():
            raise ConfigError(f"TANDEM_SMTP_PASSWORD_FILE: no file {secret}")
        password = Path(secret).read_text(encoding="utf-8").strip()
    return {"host": host, "port": port, "tls": tls, "user": environ.get("TANDEM_SMTP_USER", ""),
            "password": password, "sender": sender,
            "portal_url": environ.get("TANDEM_PORTAL_URL", "").rstrip("/")}  # fmt: skip
