"""Where the test hubs keep their data: SQLite (the default) or PostgreSQL.

``TANDEM_TEST_DB=postgres`` runs every hub the fixtures start (``hub``,
``start_migrated_hub``, ``start_hub`` and everything built on them) on PostgreSQL: one
throwaway cluster per test process (:class:`tests.pg.PgCluster`, C collation), a
database bootstrapped by Directus once, a copy of it with every migration applied, and
each hub on its own ``CREATE DATABASE … TEMPLATE`` copy of one of the two, as each SQLite
hub runs on its own copy of a cached file. ``TANDEM_TEST_DB=sqlite`` (or unset) is the
default. The README's "Tests" section says how CI runs both.

Tests that read a hub's SQLite file itself, or start hubs of their own on SQLite
(process and file-lock behaviour), are marked ``sqlite_only`` and skip on PostgreSQL,
saying so; the bulk lane's PostgreSQL-only cases are marked ``postgres`` and run in
either pass.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import os
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from directus import HubClient
from directus.install import HubInstall, default_cache_dir, lock_key
from directus.process import Hub, HubConfig, free_port
from directus.template import Template, copy_database, generate_admin
from migrations import MIGRATIONS_DIR, migrate
from tests.pg import PgCluster

#: The switch: ``sqlite`` (default) or ``postgres``.
SWITCH = "TANDEM_TEST_DB"
KINDS = ("sqlite", "postgres")


def chosen() -> str:
    """The database kind this run's hubs use, from ``TANDEM_TEST_DB``."""
    kind = os.environ.get(SWITCH, "").strip().lower() or "sqlite"
    if kind not in KINDS:
        raise ValueError(f"{SWITCH}={kind!r}: expected one of {', '.join(KINDS)}")
    return kind


@dataclass(frozen=True)
class HubDatabase:
    """One hub's own database: Directus's ``DB_*`` settings."""

    db: Mapping[str, str]


class Databases(Protocol):
    """Makes each test hub its own database, fresh (bootstrapped) or migrated."""

    admin_email: str
    admin_password: str

    def new(self, folder: Path, *, migrated: bool) -> HubDatabase: ...


def hub_config(folder: Path, db: Path | Mapping[str, str], **extra_env: str) -> HubConfig:
    """A hub on a free port, its files in ``folder``, on ``db`` (a SQLite file or
    Directus's ``DB_*`` settings)."""
    settings = {"DB_CLIENT": "sqlite3", "DB_FILENAME": str(db)} if isinstance(db, Path) else db
    return HubConfig(
        port=free_port(),
        data_dir=folder,
        secret=secrets.token_urlsafe(32),
        db=settings,
        extra_env=extra_env,
    )


STALE_TEMPLATE_S = 3600


def migrations_key() -> str:
    """A hash of the migrations' code: a change in any of them means a new template."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_migrated(install: HubInstall, template: Template) -> Path:
    """The bootstrapped template with all migrations applied, made once and cached.

    Migrating a fresh hub takes about 25 s, so each test session copies this instead.
    Older migrated templates are removed when a new one is made.
    """
    cache = default_cache_dir()
    folder = cache / f"migrated-{lock_key()}-{migrations_key()}"
    db_path = folder / "hub.db"
    with open(cache / "migrated.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if db_path.exists():
            return db_path
        building = cache / f"building-{folder.name}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        copy_database(template.db_path, building / "hub.db")
        with Hub(install, hub_config(building, building / "hub.db")) as hub:
            migrate(HubClient.login(hub.url, template.admin_email, template.admin_password))
        # Another session may still be copying a recent template: remove only stale ones.
        for old in cache.glob("migrated-*"):
            # clock-ok: a file's age on disk, against the wall clock that stamped it
            if time.time() - old.stat().st_mtime > STALE_TEMPLATE_S:  # clock-ok: file ages
                shutil.rmtree(old, ignore_errors=True)
        folder.mkdir(parents=True)
        copy_database(building / "hub.db", db_path)
        shutil.rmtree(building, ignore_errors=True)
    return db_path


class SqliteDatabases:
    """Copies of the cached bootstrapped file, or of the cached migrated one."""

    def __init__(self, install: HubInstall, template: Template) -> None:
        self.install = install
        self.template = template
        self.admin_email = template.admin_email
        self.admin_password = template.admin_password

    def new(self, folder: Path, *, migrated: bool) -> HubDatabase:
        source = ensure_migrated(self.install, self.template) if migrated else self.template.db_path
        path = copy_database(source, folder / "hub.db")
        return HubDatabase({"DB_CLIENT": "sqlite3", "DB_FILENAME": str(path)})


class PostgresDatabases:
    """Databases of one cluster, each a ``TEMPLATE`` copy of a bootstrapped or migrated one.

    The two templates are made once per cluster (about a minute: Directus's bootstrap, then
    every migration); a copy takes a fraction of a second.
    """

    FRESH = "template_fresh"
    MIGRATED = "template_migrated"

    def __init__(self, install: HubInstall, cluster: PgCluster, folder: Path) -> None:
        self.cluster = cluster
        self.admin_email, self.admin_password = generate_admin()
        self._numbers = itertools.count(1)
        cluster.create_database(self.FRESH)
        fresh = hub_config(folder / "fresh", cluster.directus_db(self.FRESH))
        Hub(install, fresh).bootstrap(self.admin_email, self.admin_password)
        cluster.create_database(self.MIGRATED, f"TEMPLATE {self.FRESH}")
        migrating = hub_config(folder / "migrated", cluster.directus_db(self.MIGRATED))
        with Hub(install, migrating) as hub:
            migrate(HubClient.login(hub.url, self.admin_email, self.admin_password))

    def new(self, folder: Path, *, migrated: bool) -> HubDatabase:
        name = f"hub_{next(self._numbers)}"
        self.cluster.create_database(name, f"TEMPLATE {self.MIGRATED if migrated else self.FRESH}")
        return HubDatabase(self.cluster.directus_db(name))
