"""A throwaway hub for a benchmark: a copy of the cached bootstrapped template, migrated,
on a free port, SQLite. Shared by the benchmarks that need one."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from directus import HubClient
from directus.install import ensure_installed
from directus.process import Hub, HubConfig, free_port
from directus.template import copy_database, ensure_template
from migrations import migrate

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
