"""A throwaway hub for a benchmark, migrated, on a free port: on SQLite a copy of the cached
bootstrapped template; on PostgreSQL a new cluster. Shared by the benchmarks that need one."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from directus import HubClient
from directus.install import ensure_installed
from directus.process import Hub, HubConfig, free_port
from directus.template import copy_database, ensure_template, generate_admin
from migrations import migrate
from tandem.servers import Postgres, ServerUnavailable, postgres_bin_dir

#: A benchmark's calls may take long: a big export page, a big batch.
HUB_TIMEOUT = (3.05, 900.0)


def start_hub(folder: Path, cleanup: list[Callable[[], None]]) -> tuple[Hub, HubClient]:
    """A fresh hub from the cached template, migrated; its stop goes into ``cleanup``."""
    install = ensure_installed()
    template = ensure_template(install)
    db = copy_database(template.db_path, folder / "hub.db")
    hub = Hub(
        install,
        HubConfig(
            port=free_port(),
            data_dir=folder,
            secret=secrets.token_urlsafe(32),
            db={"DB_CLIENT": "sqlite3", "DB_FILENAME": str(db)},
        ),
    )
    cleanup.append(hub.stop)
    hub.start()
    admin = HubClient.login(
        hub.url, template.admin_email, template.admin_password, timeout=HUB_TIMEOUT
    )
    migrate(admin)
    return hub, admin


@dataclass
class PgHub:
    """A hub on a throwaway PostgreSQL cluster, and the bulk lane's URL of its database."""

    hub: Hub
    admin: HubClient
    cluster: Postgres
    lane_url: str


def start_pg_hub(folder: Path, cleanup: list[Callable[[], None]]) -> PgHub:
    """A fresh hub bootstrapped on a new PostgreSQL cluster (byte-order collation, the
    server's default settings), migrated; the hub's and the cluster's stops go into
    ``cleanup``. Needs Debian's PostgreSQL (``initdb`` in PATH or /usr/lib/postgresql)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise ServerUnavailable("PostgreSQL is not installed: apt-get install postgresql")
    # Outside ``folder``: as root the server runs as an unprivileged account that must
    # reach its cluster's folder.
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    cluster = Postgres(bin_dir=bin_dir, root=root, port=free_port())
    cleanup.append(lambda: shutil.rmtree(root, ignore_errors=True))
    cleanup.append(cluster.stop)
    cluster.start()
    lane_url = cluster.create_database("tandem_hub")
    email, password = generate_admin()
    hub = Hub(
        ensure_installed(),
        HubConfig(
            port=free_port(),
            data_dir=folder,
            secret=secrets.token_urlsafe(32),
            db=cluster.directus_db("tandem_hub"),
        ),
    )
    cleanup.append(hub.stop)
    hub.bootstrap(email, password)
    hub.start()
    admin = HubClient.login(hub.url, email, password, timeout=HUB_TIMEOUT)
    migrate(admin)
    return PgHub(hub, admin, cluster, lane_url)
