"""The bulk lane: POS and inventory rows straight into the hub's own tables, in bulk.

Directus's REST write path manages 1-3k rows a second; a distributor's daily POS file
has about a million rows. So validated rows are written straight into the tables
Directus itself reads (``pos_sales``, ``inventory_positions``), in the exact storage
representation Directus uses, and are visible through its API, with every row rule
applied, as soon as they are committed. The lane never goes around governance on the
*read* side: every reader still goes through the hub.

One import is three steps (see :class:`Lane`):

1. **stage**: rows go into a private, keyed staging table (a temporary table on
   SQLite, ``COPY`` into a temporary table on PostgreSQL). Nothing is visible, nothing
   locked. A key delivered twice in one file keeps its last line.
2. **merge**, in one transaction: the rows that are new or differ from what is stored
   are picked out (a restatement replaces, never adds), written, and counted (new,
   changed, unchanged); the weekly rollups are recomputed for exactly the
   (SKU, location, ISO week) keys those rows touched; the feed's freshness and the
   import's counts are written in the same transaction. Re-importing the same file
   finds no differing row and changes nothing.
3. the staging table is dropped. A file that fails before the merge lands nothing.

Storage representation (``../shared/notes/hub.md``): on SQLite Directus stores ``date``
and ``timestamp`` as epoch milliseconds (integers), parsing dates at midnight in the
hub's time zone, which :mod:`directus.process` pins to UTC; a date stored as ISO text
reads back fine but compares wrongly. On PostgreSQL they are native ``date`` and
``timestamptz``. Money is integer minor units on both.

Rollups are found by primary-key ranges, which is why their keys are shaped as they are:
the daily rows of one SKU at one location in one week are the ids between
``"<d>:<l>:<s>:<monday>"`` and ``"<d>:<l>:<s>:<sunday>"``; the location rollups of one
SKU and week are the ids starting ``"<d>:<s>:<monday>:"``. On PostgreSQL this needs the
database's collation to be ``C`` (byte order), which :func:`open_lane` checks.

Limits: SQLite has one writer at a time. Directus's own writes wait (the
``tandem-integrity`` extension gives its connection a busy timeout) while a merge
commits: about a second per 200,000 new rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
POS, INVENTORY = "pos", "inventory"
_SPANS = {POS: "pos_sales", INVENTORY: "inventory_positions"}
_VALUES = {
    POS: ("units", "net_sales_minor", "currency"),
    INVENTORY: ("on_hand", "in_transit", "on_order"),
}
_KEYS = ("id", "distributor", "location", "sku", "day")
_BATCH = 20_000


class LaneError(RuntimeError):
    """The bulk lane cannot be used as configured."""


def storage_value(value: Any) -> Any:
    """A Python value as Directus stores it in SQLite (dates as epoch milliseconds)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value} has no time zone")
        return (value - _EPOCH) // dt.timedelta(milliseconds=1)
    if isinstance(value, dt.date):
        return (value - _EPOCH.date()).days * 86_400_000
    return value


@dataclass(frozen=True)
class Week:
    """An ISO week: its Monday, its Sunday and its label ("2026-W47")."""

    start: dt.date
    end: dt.date
    label: str


@lru_cache(maxsize=4096)
def iso_week(day: dt.date) -> Week:
    year, week, weekday = day.isocalendar()
    start = day - dt.timedelta(days=weekday - 1)
    return Week(start, start + dt.timedelta(days=6), f"{year}-W{week:02d}")


@dataclass(frozen=True)
class Lookups:
    """What a distributor's codes mean: its item codes and the GTINs of the SKUs it may
    report (its partners' active SKUs), its store codes and GLNs, its currency."""

    items: Mapping[str, int]
    gtins: Mapping[str, int]
    stores: Mapping[str, int]
    glns: Mapping[str, int]
    currency: str


@dataclass(frozen=True)
class Merged:
    staged: int
    new: int
    changed: int
    unchanged: int
    data_from: dt.date | None
    data_through: dt.date | None
    weeks: int  # (SKU, location, week) rollups recomputed


class Lane:
    """One connection to the hub's database, for one import at a time.

    Subclasses give the dialect: :class:`SqliteLane` and :class:`PostgresLane`.
    """

    placeholder = "?"
    differs = "IS NOT"

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._staged: str | None = None

    # -- values -----------------------------------------------------------------------

    def date(self, day: dt.date) -> Any:
        """``day`` as this database stores a Directus ``date``."""
        raise NotImplementedError

    def timestamp(self, moment: dt.datetime) -> Any:
        raise NotImplementedError

    def _read_date(self, value: Any) -> dt.date | None:
        raise NotImplementedError

    # -- plumbing -----------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), params)
        return cur

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(sql, params).fetchall())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Lane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookups --------------------------------------------------------------------------

    def lookups(self, distributor: int) -> Lookups:
        """The codes a distributor's files may use, read once per import."""
        partner_skus = (
            "SELECT s.id FROM skus s JOIN partnerships p ON p.supplier = s.supplier "
            "WHERE p.distributor = ? AND p.status = 'active' AND s.status = 'active'"
        )
        items = dict(
            self._rows(
                f"SELECT item_code, sku FROM sku_codes WHERE distributor = ? "  # noqa: S608
                f"AND sku IN ({partner_skus})",
                (distributor, distributor),
            )
        )
        gtins = {
            str(g): int(i)
            for g, i in self._rows(
                "SELECT s.gtin, s.id FROM skus s JOIN partnerships p ON p.supplier = s.supplier "
                "WHERE p.distributor = ? AND p.status = 'active' AND s.status = 'active'",
                (distributor,),
            )
        }
        places = self._rows(
            "SELECT code, gln, id FROM locations WHERE distributor = ? AND status = 'active'",
            (distributor,),
        )
        found = self._rows("SELECT currency FROM organizations WHERE id = ?", (distributor,))
        if not found:
            raise LaneError(f"organization {distributor} does not exist")
        return Lookups(
            items={str(k): int(v) for k, v in items.items()},
            gtins=gtins,
            stores={str(code): int(i) for code, _gln, i in places},
            glns={str(gln): int(i) for _code, gln, i in places if gln},
            currency=found[0][0] or "USD",
        )

    # -- staging ------------------------------------------------------------------------

    def _create_stage(self, kind: str) -> None:
        raise NotImplementedError

    def _stage_rows(self, kind: str, rows: Iterable[Sequence[Any]]) -> int:
        raise NotImplementedError

    def stage(self, kind: str, rows: Iterable[Sequence[Any]]) -> int:
        """Stage rows for :meth:`merge`: ``(id, distributor, location, sku, day, *values,
        week_start_iso, line)`` with ``day`` from :meth:`date` and values in the order of
        :data:`_VALUES`. May be called several times. Returns the rows taken."""
        if kind not in _SPANS:
            raise ValueError(f"unknown kind {kind!r}")
        if self._staged is None:
            self._create_stage(kind)
            self._staged = kind
        elif self._staged != kind:
            raise ValueError("one kind per import")
        return self._stage_rows(kind, rows)

    def discard(self) -> None:
        """Forget what was staged (nothing of it was written)."""
        if self._staged is not None:
            self.execute("DROP TABLE IF EXISTS stage")
            self._staged = None

    # -- merge ---------------------------------------------------------------------------

    def merge(
        self,
        *,
        import_id: int | None,
        received_at: dt.datetime,
        finish: Mapping[str, Any] | None = None,
    ) -> Merged:
        """Write what was staged, in one transaction; see the module's docstring.

        ``finish`` are more fields of the import row, written in the same transaction
        (its status, rate, rejects).
        """
        kind = self._staged
        if kind is None:
            raise ValueError("nothing staged")
        table = _SPANS[kind]
        values = _VALUES[kind]
        cols = [*_KEYS, *values]
        changed_when = " OR ".join(f"p.{v} {self.differs} s.{v}" for v in values)
        with self.transaction():
            self.execute("DROP TABLE IF EXISTS delta")
            self.execute(
                f"CREATE TEMP TABLE delta AS SELECT s.*, "  # noqa: S608 - fixed names
                f"CASE WHEN p.id IS NULL THEN 1 ELSE 0 END AS is_new "
                f"FROM stage s LEFT JOIN {table} p ON p.id = s.id "
                f"WHERE p.id IS NULL OR {changed_when}"
            )
            staged, first, last = self._rows("SELECT count(*), min(day), max(day) FROM stage")[0]
            delta, new = self._rows("SELECT count(*), coalesce(sum(is_new), 0) FROM delta")[0]
            names = ", ".join(cols)
            updates = ", ".join(f"{v} = excluded.{v}" for v in values)
            self.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM delta WHERE 1 = 1 "  # noqa: S608
                f"ON CONFLICT (id) DO UPDATE SET {updates}"
            )
            weeks = self._rollup() if kind == POS else 0
            data_from, data_through = self._read_date(first), self._read_date(last)
            for distributor, last in self._rows(
                "SELECT distributor, max(day) FROM stage GROUP BY distributor"
            ):
                self._feed(int(distributor), kind, self._read_date(last), received_at, import_id)
            counts = {
                "rows_new": int(new),
                "rows_changed": int(delta) - int(new),
                "rows_unchanged": int(staged) - int(delta),
            }
            if import_id is not None:
                self.update_import(
                    import_id,
                    {
                        **counts,
                        "data_from": data_from,
                        "data_through": data_through,
                        **(finish or {}),
                    },
                    commit=False,
                )
            self.execute("DROP TABLE delta")
        self.discard()
        return Merged(
            int(staged),
            counts["rows_new"],
            counts["rows_changed"],
            counts["rows_unchanged"],
            data_from,
            data_through,
            weeks,
        )

    def _rollup(self) -> int:
        """Recompute the weekly rollups of every (SKU, location, week) the delta touched,
        and of every (SKU, week) at distributor level above them."""
        self.execute("DROP TABLE IF EXISTS touched")
        self.execute("DROP TABLE IF EXISTS touched_sku")
        self.execute("DROP TABLE IF EXISTS weeks")
        self.execute(
            "CREATE TEMP TABLE weeks (wk TEXT PRIMARY KEY, wk_end TEXT, start_v "
            f"{self._date_type}, end_v {self._date_type}, label TEXT)"
        )
        wks = [r[0] for r in self._rows("SELECT DISTINCT wk FROM delta")]
        for wk in wks:
            week = iso_week(dt.date.fromisoformat(wk))
            self.execute(
                "INSERT INTO weeks VALUES (?, ?, ?, ?, ?)",
                (wk, week.end.isoformat(), self.date(week.start), self.date(week.end), week.label),
            )
        self.execute(
            "CREATE TEMP TABLE touched AS SELECT DISTINCT distributor AS d, location AS l, "
            "sku AS s, wk FROM delta"
        )
        (count,) = self._rows("SELECT count(*) FROM touched")[0]
        key = "t.d || ':' || t.s || ':' || t.wk || ':' || t.l || ':'"
        self.execute(
            f"DELETE FROM pos_week_location WHERE id IN (SELECT w.id FROM touched t "  # noqa: S608
            f"JOIN pos_week_location w ON w.id >= {key} AND w.id < {key} || '~')"
        )
        self.execute(
            f"INSERT INTO pos_week_location (id, distributor, location, sku, week_start, "  # noqa: S608
            f"week_end, iso_week, currency, units, net_sales_minor, days) "
            f"SELECT {key} || p.currency, t.d, t.l, t.s, k.start_v, k.end_v, k.label, "
            f"p.currency, sum(p.units), sum(p.net_sales_minor), count(*) "
            f"FROM touched t JOIN weeks k ON k.wk = t.wk JOIN pos_sales p "
            f"ON p.id >= t.d || ':' || t.l || ':' || t.s || ':' || t.wk "
            f"AND p.id <= t.d || ':' || t.l || ':' || t.s || ':' || k.wk_end "
            f"GROUP BY t.d, t.l, t.s, t.wk, k.start_v, k.end_v, k.label, p.currency"
        )
        self.execute("CREATE TEMP TABLE touched_sku AS SELECT DISTINCT d, s, wk FROM touched")
        prefix = "t.d || ':' || t.s || ':' || t.wk || ':'"
        self.execute(
            f"DELETE FROM pos_week_distributor WHERE id IN (SELECT w.id FROM touched_sku t "  # noqa: S608
            f"JOIN pos_week_distributor w ON w.id >= {prefix} AND w.id < {prefix} || '~')"
        )
        self.execute(
            f"INSERT INTO pos_week_distributor (id, distributor, sku, week_start, week_end, "  # noqa: S608
            f"iso_week, currency, units, net_sales_minor, days, locations) "
            f"SELECT {prefix} || w.currency, t.d, t.s, k.start_v, k.end_v, k.label, "
            f"w.currency, sum(w.units), sum(w.net_sales_minor), sum(w.days), count(*) "
            f"FROM touched_sku t JOIN weeks k ON k.wk = t.wk JOIN pos_week_location w "
            f"ON w.id >= {prefix} AND w.id < {prefix} || '~' "
            f"GROUP BY t.d, t.s, t.wk, k.start_v, k.end_v, k.label, w.currency"
        )
        for name in ("touched", "touched_sku", "weeks"):
            self.execute(f"DROP TABLE {name}")
        return int(count)

    def _feed(
        self,
        distributor: int,
        kind: str,
        through: dt.date | None,
        received_at: dt.datetime,
        import_id: int | None,
    ) -> None:
        key = f"{distributor}:{kind}"
        found = self._rows("SELECT data_through FROM feeds WHERE id = ?", (key,))
        if found:
            before = self._read_date(found[0][0])
            if before is not None and (through is None or before > through):
                through = before  # a restatement of older days does not move it back
            self.execute(
                "UPDATE feeds SET data_through = ?, received_at = ?, last_import = ? WHERE id = ?",
                (
                    self.date(through) if through else None,
                    self.timestamp(received_at),
                    import_id,
                    key,
                ),
            )
        else:
            self.execute(
                "INSERT INTO feeds (id, distributor, kind, data_through, received_at, "
                "last_import) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key,
                    distributor,
                    kind,
                    self.date(through) if through else None,
                    self.timestamp(received_at),
                    import_id,
                ),
            )

    # -- import rows ----------------------------------------------------------------------

    def update_import(self, import_id: int, fields: Mapping[str, Any], commit: bool = True) -> None:
        """Set fields of an ``imports`` row (progress, status) straight in the table."""
        if not fields:
            return
        for name in fields:
            if not re.fullmatch(r"[a-z_]+", name):
                raise ValueError(f"bad field name {name!r}")
        values = [self._stored(v) for v in fields.values()]
        sql = f"UPDATE imports SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?"  # noqa: S608
        if commit:
            with self.transaction():
                self.execute(sql, [*values, import_id])
        else:
            self.execute(sql, [*values, import_id])

    def _stored(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return self.timestamp(value)
        if isinstance(value, dt.date):
            return self.date(value)
        return value

    _date_type = "INTEGER"


class SqliteLane(Lane):
    """The hub's SQLite file, in WAL mode with a busy timeout."""

    def __init__(self, path: Path, busy_timeout_s: float = 300) -> None:
        if not Path(path).exists():
            raise LaneError(f"no hub database at {path}")
        conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise LaneError(f"cannot switch {path} to WAL mode (it is in {mode} mode)")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB, whatever the file's size
        conn.execute("PRAGMA temp_store = FILE")
        super().__init__(conn)

    def date(self, day: dt.date) -> int:
        return (day - _EPOCH.date()).days * 86_400_000

    def timestamp(self, moment: dt.datetime) -> int:
        return storage_value(moment)

    def _read_date(self, value: Any) -> dt.date | None:
        if value is None:
            return None
        return (_EPOCH + dt.timedelta(milliseconds=int(value))).date()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _create_stage(self, kind: str) -> None:
        values = ", ".join(f"{v} {'TEXT' if v == 'currency' else 'INTEGER'}" for v in _VALUES[kind])
        self.conn.execute("DROP TABLE IF EXISTS temp.stage")
        self.conn.execute(
            f"CREATE TEMP TABLE stage (id TEXT PRIMARY KEY, distributor INTEGER, "
            f"location INTEGER, sku INTEGER, day INTEGER, {values}, wk TEXT, line INTEGER) "
            f"WITHOUT ROWID"
        )

    def _stage_rows(self, kind: str, rows: Iterable[Sequence[Any]]) -> int:
        marks = ", ".join("?" for _ in range(len(_KEYS) + len(_VALUES[kind]) + 2))
        sql = f"INSERT OR REPLACE INTO stage VALUES ({marks})"  # noqa: S608
        taken = 0
        iterator = iter(rows)
        while batch := list(islice(iterator, _BATCH)):
            self.conn.execute("BEGIN")
            try:
                self.conn.executemany(sql, batch)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            taken += len(batch)
        return taken


class PostgresLane(Lane):
    """A PostgreSQL hub database, staged through ``COPY``."""

    placeholder = "%s"
    differs = "IS DISTINCT FROM"
    _date_type = "DATE"

    def __init__(self, dsn: str) -> None:
        import psycopg  # only where PostgreSQL is configured

        conn = psycopg.connect(dsn, autocommit=True)
        collation = conn.execute(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        if collation not in ("C", "POSIX"):
            conn.close()
            raise LaneError(
                f"the hub database's collation is {collation!r}; the bulk lane's key ranges "
                "need byte order: create it with LC_COLLATE 'C' (see docs/ARCHITECTURE.md)"
            )
        super().__init__(conn)

    def date(self, day: dt.date) -> dt.date:
        return day

    def timestamp(self, moment: dt.datetime) -> dt.datetime:
        return moment

    def _read_date(self, value: Any) -> dt.date | None:
        return value

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def _create_stage(self, kind: str) -> None:
        values = ", ".join(f"{v} {'TEXT' if v == 'currency' else 'BIGINT'}" for v in _VALUES[kind])
        self.execute("DROP TABLE IF EXISTS stage")
        self.execute(
            f"CREATE TEMP TABLE stage (id TEXT, distributor INTEGER, location INTEGER, "
            f"sku INTEGER, day DATE, {values}, wk TEXT, line INTEGER)"
        )

    def _stage_rows(self, kind: str, rows: Iterable[Sequence[Any]]) -> int:
        names = ", ".join([*_KEYS, *_VALUES[kind], "wk", "line"])
        taken = 0
        with self.conn.cursor() as cur, cur.copy(f"COPY stage ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                taken += 1
        return taken

    def merge(self, **kwargs: Any) -> Merged:
        # COPY keeps every line; the last line of a key wins, as on SQLite.
        self.execute("DELETE FROM stage a USING stage b WHERE a.id = b.id AND a.line < b.line")
        self.execute("CREATE INDEX ON stage (id)")
        self.execute("ANALYZE stage")
        return super().merge(**kwargs)


def parse_target(url: str) -> tuple[str, str]:
    """``sqlite:////abs/path.db`` or ``postgresql://…`` as (dialect, path or DSN)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not path:
            raise LaneError(f"{url!r} names no SQLite file")
        return "sqlite", path
    if parts.scheme in ("postgresql", "postgres"):
        return "postgresql", url
    raise LaneError(f"{url!r} is not a sqlite:// or postgresql:// database URL")


def target_of(db: Mapping[str, str]) -> str:
    """The bulk lane's database URL from a hub's Directus ``DB_*`` settings."""
    client = db.get("DB_CLIENT")
    if client == "sqlite3":
        return f"sqlite:///{Path(db['DB_FILENAME']).resolve()}"
    if client in ("pg", "postgres", "postgresql"):
        if db.get("DB_CONNECTION_STRING"):
            return db["DB_CONNECTION_STRING"]
        return (
            f"postgresql://{db.get('DB_USER', '')}:{db.get('DB_PASSWORD', '')}@"
            f"{db.get('DB_HOST', 'localhost')}:{db.get('DB_PORT', '5432')}/{db['DB_DATABASE']}"
        )
    raise LaneError(f"no bulk lane for DB_CLIENT={client!r}")


def open_lane(url: str) -> Lane:
    dialect, where = parse_target(url)
    if dialect == "sqlite":
        return SqliteLane(Path(where))
    return PostgresLane(where)


def write_rows(
    lane: Lane,
    kind: str,
    rows: Iterable[tuple[Any, ...]],
    *,
    received_at: dt.datetime | None = None,
) -> Merged:
    """Stage and merge rows already resolved: ``(distributor, location, sku, day,
    *values)`` with ``day`` a :class:`datetime.date`. For the demo and tests; files go
    through :mod:`ingest.pipeline`."""
    dates: dict[dt.date, tuple[Any, str, str]] = {}

    def staged() -> Iterator[tuple[Any, ...]]:
        for n, (d, loc, sku, day, *values) in enumerate(rows, 1):
            if day not in dates:
                dates[day] = (lane.date(day), day.isoformat(), iso_week(day).start.isoformat())
            stored, iso, wk = dates[day]
            yield (f"{d}:{loc}:{sku}:{iso}", d, loc, sku, stored, *values, wk, n)

    lane.stage(kind, staged())
    return lane.merge(
        import_id=None,
        received_at=received_at or dt.datetime.now(dt.UTC),
    )
