"""Many rows into the hub at once: straight into its SQLite file, or through its import API.

The hub's REST API writes about 1-3k rows a second, too slow for a year of POS. On a
local SQLite hub :func:`write_rows` writes straight into the hub's own table, in large
transactions, and the rows are visible through the API (with its row rules) at once.
Elsewhere (a remote hub, PostgreSQL) :func:`import_rows` upserts through
``/utils/import``, at REST speed. Both upsert on the primary key, so writing the same
rows again changes nothing.

This is the small first cut: a later issue grows it into the full bulk lane (staging
and merge, PostgreSQL ``COPY``).

Written straight into SQLite, a value must have exactly the representation Directus
gives it. Directus 11 on SQLite stores ``date`` and ``timestamp`` values as epoch
milliseconds (integers), and turns a filter value into epoch milliseconds before
comparing. A date stored as ISO text reads back fine but compares wrongly (SQLite
orders all text above all numbers). Directus parses a date at midnight in the hub
process's time zone, which :mod:`directus.process` pins to UTC.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from directus.client import HubClient

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def storage_value(value: Any) -> Any:
    """A Python value as Directus stores it in SQLite (dates as epoch milliseconds)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value} has no time zone")
        return (value - _EPOCH) // dt.timedelta(milliseconds=1)
    if isinstance(value, dt.date):
        return (value - _EPOCH.date()).days * 86_400_000
    return value


def _batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _check_names(collection: str, columns: Sequence[str]) -> None:
    for name in (collection, *columns):
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a plain collection or field name")
    if "id" not in columns:
        raise ValueError("the rows need their primary key, id")


def write_rows(
    db_path: Path,
    collection: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    batch: int = 50_000,
) -> int:
    """Upsert rows (tuples in ``columns`` order) into a SQLite hub's table, by ``id``.

    Each batch is one transaction: short enough that the running hub is never kept
    waiting long, large enough to be fast. Foreign keys are checked. Returns how many
    rows were written.
    """
    _check_names(collection, columns)
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
    sql = (
        f'INSERT INTO "{collection}" ({names}) VALUES ({marks}) '  # noqa: S608 - names checked
        f"ON CONFLICT(id) DO UPDATE SET {updates}"
    )
    dates: dict[Any, Any] = {}

    def stored(value: Any) -> Any:
        if type(value) is dt.date:  # few distinct dates, many rows: convert each once
            if value not in dates:
                dates[value] = storage_value(value)
            return dates[value]
        return storage_value(value)

    written = 0
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        for chunk in _batches(rows, batch):
            with conn:
                conn.executemany(sql, ([stored(v) for v in row] for row in chunk))
            written += len(chunk)
    finally:
        conn.close()
    return written


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def import_rows(
    admin: HubClient,
    collection: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    batch: int = 5_000,
) -> int:
    """Upsert rows through the hub's ``/utils/import`` (one transaction per batch).

    Slow (REST speed), but works on any hub the admin can reach. Returns how many rows
    were written.
    """
    _check_names(collection, columns)
    written = 0
    for chunk in _batches(rows, batch):
        body = json.dumps(
            [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in chunk],
            separators=(",", ":"),
        )
        admin.request(
            "POST",
            f"/utils/import/{collection}",
            files={"file": (f"{collection}.json", body, "application/json")},
            idempotent=True,  # an upsert by primary key
        )
        written += len(chunk)
    return written
