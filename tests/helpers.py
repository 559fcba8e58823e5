"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

from directus import HubClient
from directus.bulk import Merged, open_lane, parse_target, storage_value, target_of, write_rows
from directus.process import Hub


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
        assert path is not None, "this hub is not on SQLite: mark the test sqlite_only"
        return path

    @property
    def lane_url(self) -> str:
        """The bulk lane's URL for this hub's database (SQLite or PostgreSQL)."""
        return target_of(self.hub.config.db)

    def admin(self, **kwargs: object) -> HubClient:
        return HubClient.login(self.url, self.admin_email, self.admin_password, **kwargs)

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        """Rows of one read straight from the hub's database, SQLite or PostgreSQL (``?``
        placeholders), with values as Directus stores them in SQLite (dates and times as
        epoch milliseconds), so one assertion holds on both."""
        dialect, where = parse_target(self.lane_url)
        if dialect == "sqlite":
            with contextlib.closing(sqlite3.connect(where)) as conn:
                return conn.execute(query, params).fetchall()
        with psycopg.connect(where) as conn:
            rows = conn.execute(pyformat(query), params).fetchall()
        return [tuple(storage_value(value) for value in row) for row in rows]


def pyformat(query: str) -> str:
    """A ``?``-placeholder query in psycopg's style: ``?`` outside quoted text becomes
    ``%s``, and a literal ``%`` is doubled; a ``?`` inside quotes stays text."""
    parts = query.replace("%", "%%").split("'")
    return "'".join(p if i % 2 else p.replace("?", "%s") for i, p in enumerate(parts))


def as_ints(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """Rows with these fields as ints: on PostgreSQL, Directus sends ``bigint`` columns
    (money in minor units, rollups' sums, control numbers) as strings."""
    return [
        {k: (int(v) if k in names and v is not None else v) for k, v in row.items()} for row in rows
    ]


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
