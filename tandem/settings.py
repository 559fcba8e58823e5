"""Settings of the operator commands (``tandem run``, ``tandem migrate``), from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from directus.bulk import target_of
from directus.install import default_cache_dir

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting is malformed; the message names the variable."""


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name} must be a TCP port number, not {raw!r}")
    return int(raw)


def _ports(environ: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = environ.get(name) or ",".join(map(str, default))
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) < 2:
        raise SettingsError(f"{name} must list two or more ports, comma-separated, not {raw!r}")
    return tuple(_port({name: part}, name, 0) for part in parts)


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    if not raw.isdigit():
        raise SettingsError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class StackSettings:
    state_dir: Path
    cache_dir: Path
    host: str
    hub_port: int
    portal_port: int
    #: Directus ``DB_*`` settings when the operator gives ``DB_CLIENT``; None means SQLite in state.
    external_db: Mapping[str, str] | None
    #: Days of POS the demo gets when ``make run`` seeds it (0: no demo).
    demo_days: int = 365
    #: Where the receiver takes HTTPS and AS2 partners' posts.
    edi_port: int = 8070
    #: Where the demo's AS2 partner (tandem/station.py) takes what Tandem sends it.
    station_port: int = 8071
    #: The production topology's own servers (``tandem run --production``): PostgreSQL,
    #: Redis, and the hub instances behind the load balancer (which takes ``hub_port``).
    pg_port: int = 5433
    redis_port: int = 6380
    hub_instance_ports: tuple[int, ...] = (8056, 8057)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackSettings:
        environ = os.environ if environ is None else environ
        external = None
        if environ.get("DB_CLIENT"):
            external = {k: v for k, v in environ.items() if k.startswith("DB_")}
        return cls(
            state_dir=Path(environ.get("TANDEM_STATE_DIR") or REPO_ROOT / ".state"),
            cache_dir=Path(environ["TANDEM_CACHE_DIR"])
            if environ.get("TANDEM_CACHE_DIR")
            else default_cache_dir(),
            host=environ.get("TANDEM_HOST") or "127.0.0.1",
            hub_port=_port(environ, "TANDEM_HUB_PORT", 8055),
            portal_port=_port(environ, "TANDEM_PORTAL_PORT", 8000),
            external_db=external,
            demo_days=_count(environ, "TANDEM_DEMO_DAYS", 365),
            edi_port=_port(environ, "TANDEM_EDI_PORT", 8070),
            station_port=_port(environ, "TANDEM_STATION_PORT", 8071),
            pg_port=_port(environ, "TANDEM_PG_PORT", 5433),
            redis_port=_port(environ, "TANDEM_REDIS_PORT", 6380),
            hub_instance_ports=_ports(environ, "TANDEM_HUB_INSTANCE_PORTS", (8056, 8057)),
        )

    @property
    def hub_url(self) -> str:
        return f"http://{self.host}:{self.hub_port}"

    @property
    def portal_url(self) -> str:
        return f"http://{self.host}:{self.portal_port}"

    @property
    def sqlite_path(self) -> Path | None:
        """The hub's SQLite file, or None when the hub is on another database."""
        if self.external_db is None:
            return self.state_dir / "hub" / "hub.db"
        if self.external_db.get("DB_CLIENT") == "sqlite3" and self.external_db.get("DB_FILENAME"):
            return Path(self.external_db["DB_FILENAME"])
        return None

    @property
    def lane_url(self) -> str:
        """The bulk lane's database URL: the hub's own database."""
        return target_of(self.hub_db())

    @property
    def spool_dir(self) -> Path:
        """Uploaded files waiting for (or being) imported, and their rejects files."""
        return self.state_dir / "spool"

    @property
    def receiver_url(self) -> str:
        return f"http://{self.host}:{self.edi_port}"

    @property
    def as2_files(self) -> tuple[Path, Path]:
        """Tandem's AS2 certificate (to give partners) and key, made on the first run."""
        return self.state_dir / "as2" / "tandem.crt", self.state_dir / "as2" / "tandem.key"

    @property
    def drop_dir(self) -> Path:
        """Distributors' drop folders: ``<drop>/<distributor id>/{pos,inventory}/``."""
        return self.state_dir / "drop"

    def hub_db(self) -> dict[str, str]:
        if self.external_db is not None:
            return dict(self.external_db)
        return {"DB_CLIENT": "sqlite3", "DB_FILENAME": str(self.sqlite_path)}
