"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from directus import HubClient
from directus.bulk import Merged, open_lane, write_rows
from directus.install import HubInstall, default_cache_dir, lock_key
from directus.process import Hub, HubConfig, free_port
from directus.template import Template, copy_database
from migrations import MIGRATIONS_DIR, migrate


@dataclass
class RunningHub:
    hub: Hub
    admin_email: str
    admin_password: str

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def db_path(self) -> Path:
        path = self.hub.config.sqlite_path
        assert path is not None
        return path

    def admin(self, **kwargs: object) -> HubClient:
        return HubClient.login(self.url, self.admin_email, self.admin_password, **kwargs)


def hub_config(folder: Path, db_path: Path, **extra_env: str) -> HubConfig:
    return HubConfig(
        port=free_port(),
        data_dir=folder,
        secret=secrets.token_urlsafe(32),
        db={"DB_CLIENT": "sqlite3", "DB_FILENAME": str(db_path)},
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


def race_imports(lane_url: str, kind: str, rows: list[tuple], imports: int = 2) -> list[Merged]:
    """Import the same rows ``imports`` times at once: each in its own thread and lane,
    all staged first, then merged together (a barrier holds each merge until every
    import is ready to merge)."""
    barrier = threading.Barrier(imports)
    results: list[Merged] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with open_lane(lane_url) as lane:
                merge = lane.merge

                def merge_together(**kwargs: object) -> Merged:
                    barrier.wait(timeout=60)
                    return merge(**kwargs)

                lane.merge = merge_together  # type: ignore[method-assign]
                results.append(write_rows(lane, kind, rows))
        except BaseException as exc:  # the caller raises it
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(imports)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@contextmanager
def serving(
    argv: list[str], url: str, env: Mapping[str, str] | None = None, timeout_s: float = 30
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process started for a test, once ``url`` answers; stopped after."""
    process = subprocess.Popen(
        argv, cwd=Path(__file__).resolve().parents[1], env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
