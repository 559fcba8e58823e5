"""A bootstrapped SQLite hub database, cached, so each test session copies it in a second.

Keyed by the npm lockfile (a new Directus means a new schema). The admin login of the
template is generated when it is made and kept beside it, readable by its owner only.
"""

from __future__ import annotations

import fcntl
import json
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from directus.files import write_private_json
from directus.install import HubInstall, default_cache_dir, lock_key
from directus.process import Hub, HubConfig, free_port


@dataclass(frozen=True)
class Template:
    db_path: Path
    admin_email: str
    admin_password: str


def generate_admin() -> tuple[str, str]:
    """A fresh admin login: a random mailbox and a long random password."""
    return f"admin-{secrets.token_hex(4)}@tandem.example.com", secrets.token_urlsafe(24)


def ensure_template(install: HubInstall, cache_dir: Path | None = None) -> Template:
    """Return the cached bootstrapped database, bootstrapping it once if needed."""
    folder = (cache_dir or default_cache_dir()) / f"template-{lock_key()}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "make.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        creds_path = folder / "credentials.json"
        db_path = folder / "hub.db"
        if not (creds_path.exists() and db_path.exists()):
            _make(install, folder, db_path, creds_path)
        creds = json.loads(creds_path.read_text())
    return Template(db_path=db_path, admin_email=creds["email"], admin_password=creds["password"])


def _make(install: HubInstall, folder: Path, db_path: Path, creds_path: Path) -> None:
    scratch = folder / "building"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    email, password = generate_admin()
    building = scratch / "hub.db"
    hub = Hub(
        install,
        HubConfig(
            port=free_port(),
            data_dir=scratch,
            secret=secrets.token_urlsafe(32),
            db={"DB_CLIENT": "sqlite3", "DB_FILENAME": str(building)},
        ),
    )
    hub.bootstrap(email, password)
    building.replace(db_path)
    write_private_json(creds_path, {"email": email, "password": password})
    shutil.rmtree(scratch, ignore_errors=True)


def copy_database(source: Path, dest: Path) -> Path:
    """Copy a hub database consistently (the SQLite backup API, so WAL content comes too)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        src.close()
        dst.close()
    return dest
