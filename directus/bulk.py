"""The bulk lane: POS, inventory and forecast rows straight into the hub's own tables.

Directus's REST write path manages 1-3k rows a second; a distributor's daily POS file
has about a million rows. So validated rows are written straight into the tables
Directus itself reads (``pos_sales``, ``inventory_positions``, ``forecasts``: a
forecast's "day" is its week's Monday, stored as ``week_start``), in the exact storage
representation Directus uses, and are visible through its API, with every row rule
applied, as soon as they are committed. The lane never goes around governance on the
*read* side: every reader still goes through the hub.

One import is three steps (see :class:`Lane`):

1. **stage**: rows go into a private staging table as they are parsed (on SQLite a
   scratch database file of its own; on PostgreSQL ``COPY`` text, in 20k-row writes, into
   a temporary table; a large CSV is parsed by one process per core, each into a file of
   its own, which the lane attaches or copies in). Nothing is visible, nothing locked.
2. **merge**, in one transaction: the staged rows are sorted by key, a key delivered
   twice keeps its last line, and each is compared with what is stored: new, changed
   (a restatement replaces, never adds) or unchanged. New and changed rows are written;
   the weekly rollups are updated by the difference each made (its new values, less the
   old ones it replaced), so only the weeks an import touched are visited; the SKU x
   distributor rollups of those weeks are recomputed from the per-location ones; the
   feed's freshness and the import's counts are written in the same transaction.
   Re-importing the same file finds every row unchanged and writes nothing. On
   PostgreSQL the foreign keys' per-row triggers are replaced, where the lane's role
   may, by one check and ``FOR KEY SHARE`` lock per referenced row
   (:meth:`PostgresLane._bulk_writes`).
3. the scratch data is dropped. A file that fails before the merge lands nothing.

Storage representation (``../shared/notes/hub.md``): on SQLite Directus stores ``date``
and ``timestamp`` as epoch milliseconds (integers), parsing dates at midnight in the
hub's time zone, which :mod:`directus.process` pins to UTC; a date stored as ISO text
reads back fine but compares wrongly. On PostgreSQL they are native ``date`` and
``timestamptz``. Money is integer minor units on both.

The per-location rollups of one SKU and week are one primary-key range, the ids starting
``"<d>:<s>:<monday>:"``, which is why their keys are shaped so: the SKU x distributor
rollup of that week is recomputed from that range. On PostgreSQL this needs the
database's collation to be ``C`` (byte order), which :func:`open_lane` checks.

POS rows and rollups are written only by this lane (the hub refuses every other writer,
admins included), so the rollups, kept by difference, stay equal to sums of the rows;
``rebuild_rollups`` recomputes them from the rows as a repair.

Limits: SQLite has one writer at a time. Directus's own writes wait (the
``tandem-integrity`` extension gives its connection a busy timeout) while a merge
commits: a few seconds per million new rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from prometheus_client import Counter, Histogram

from domain import clock
from domain.forecasts import HORIZONS
from domain.ingest import CADENCE_GAPS, learn_cadence

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
POS, INVENTORY, FORECASTS = "pos", "inventory", "forecasts"
_SPANS = {POS: "pos_sales", INVENTORY: "inventory_positions", FORECASTS: "forecasts"}
_VALUES = {
    POS: ("units", "net_sales_minor", "currency"),
    INVENTORY: ("on_hand", "in_transit", "on_order"),
    FORECASTS: ("forecast_units",),
}
#: The stored table's date column of each kind (the stage calls it ``day``).
_DAY = {POS: "day", INVENTORY: "day", FORECASTS: "week_start"}
_KEYS = ("id", "distributor", "location", "sku", "day")
_ROLLUPS = ("pos_week_location", "pos_week_distributor")
_BATCH = 20_000


class LaneError(RuntimeError):
    """The bulk lane cannot be used as configured."""


class ForeignRow(LaneError):
    """A staged key names a stored row that another distributor owns."""


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
    report (its partners' active SKUs), its store codes and GLNs, its currency, the
    codes of its DCs (an 846 that names no location is its one DC's), and its partners'
    SKUs' case packs and lead times."""

    items: Mapping[str, int]
    gtins: Mapping[str, int]
    stores: Mapping[str, int]
    glns: Mapping[str, int]
    currency: str
    dcs: tuple[str, ...] = ()
    #: per SKU id: units in a case, and the lead time in days (forecasts' frozen weeks)
    case_packs: Mapping[int, int] = field(default_factory=dict)
    lead_days: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Merged:
    staged: int
    new: int
    changed: int
    unchanged: int
    data_from: dt.date | None
    data_through: dt.date | None
    weeks: int  # (SKU, location, week, currency) rollups updated


#: Rows the lane merged, by kind (pos, inventory, forecasts) and outcome, and how long
#: each merge's transaction took.
BULK_ROWS = Counter("tandem_bulk_rows_total", "Rows merged by the bulk lane", ["kind", "outcome"])
BULK_SECONDS = Histogram(
    "tandem_bulk_merge_seconds",
    "Bulk lane merge time (one transaction)",
    ["kind"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)


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
        skus = self._rows(
            "SELECT s.gtin, s.id, s.case_pack, s.lead_time_days FROM skus s "
            "JOIN partnerships p ON p.supplier = s.supplier "
            "WHERE p.distributor = ? AND p.status = 'active' AND s.status = 'active'",
            (distributor,),
        )
        gtins = {str(g): int(i) for g, i, _pack, _lead in skus}
        places = self._rows(
            "SELECT code, gln, id, kind FROM locations WHERE distributor = ? "
            "AND status = 'active' ORDER BY code",
            (distributor,),
        )
        found = self._rows("SELECT currency FROM organizations WHERE id = ?", (distributor,))
        if not found:
            raise LaneError(f"organization {distributor} does not exist")
        return Lookups(
            items={str(k): int(v) for k, v in items.items()},
            gtins=gtins,
            stores={str(code): int(i) for code, _gln, i, _kind in places},
            glns={str(gln): int(i) for _code, gln, i, _kind in places if gln},
            currency=found[0][0] or "USD",
            dcs=tuple(str(code) for code, _gln, _i, kind in places if kind == "dc"),
            case_packs={int(i): int(pack or 1) for _g, i, pack, _lead in skus},
            lead_days={int(i): int(lead or 0) for _g, i, _pack, lead in skus},
        )

    # -- staging ------------------------------------------------------------------------

    #: where the scratch tables live: "scratch." (an attached file) or "" (temporary)
    scratch = ""

    def _create_stage(self, kind: str) -> None:
        raise NotImplementedError

    def _stage_rows(self, kind: str, rows: Iterable[Sequence[Any]]) -> int:
        raise NotImplementedError

    def _scratch_table(self, name: str, select: str, params: Sequence[Any] = ()) -> None:
        """A scratch table made from a query."""
        raise NotImplementedError

    def _last_lines(self, kind: str) -> str:
        """A relation of the staged rows, one per key (the last line of it), by key."""
        raise NotImplementedError

    def _drop_scratch(self) -> None:
        raise NotImplementedError

    def stage_file(self, kind: str, name: str) -> Path:
        """Where another process may write staged rows for this import (a file of the
        dialect's own form); :meth:`adopt` them once written."""
        raise NotImplementedError

    def adopt(self, paths: Sequence[Path]) -> None:
        """Merge will read the staged rows in these files too."""
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
            self._staged = None
            self._drop_scratch()

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
        started = time.perf_counter()
        try:
            with self.transaction():
                merged = self._merge(kind, import_id, received_at, finish or {})
        finally:
            self.discard()
        BULK_SECONDS.labels(kind).observe(time.perf_counter() - started)
        for outcome in ("new", "changed", "unchanged"):
            BULK_ROWS.labels(kind, outcome).inc(getattr(merged, outcome))
        return merged

    def _merge(
        self, kind: str, import_id: int | None, received_at: dt.datetime, finish: Mapping[str, Any]
    ) -> Merged:
        self._serialize()
        x = self.scratch
        table, values = _SPANS[kind], _VALUES[kind]
        cols = ", ".join([*_KEYS, *values])
        olds = ", ".join(f"p.{v} AS old_{v}" for v in values)
        changed = " OR ".join(f"p.{v} {self.differs} s.{v}" for v in values)
        # One row per key (its last line), compared with what is stored:
        # state 0 new, 1 changed, 2 unchanged.
        with self._lookups_by_key():
            self._scratch_table(
                "delta",
                f"SELECT s.id, s.distributor, s.location, s.sku, s.day, "  # noqa: S608
                f"{', '.join(f's.{v}' for v in values)}, s.wk, {olds}, p.distributor AS owner, "
                f"CASE WHEN p.id IS NULL THEN 0 WHEN {changed} THEN 1 ELSE 2 END AS state "
                f"FROM {self._last_lines(kind)} s LEFT JOIN {table} p ON p.id = s.id",
            )
        # A stored row under one of these keys that another distributor owns was not
        # written by the lane (which makes keys from the import's own distributor): refuse
        # to fill it with this import's figures, and land nothing.
        for (key,) in self._rows(
            f"SELECT id FROM {x}delta WHERE owner <> distributor LIMIT 1"  # noqa: S608
        ):
            raise ForeignRow(
                f"row {key} is stored for another distributor, so it was not written by "
                "this lane: nothing was imported; report it to the operator"
            )
        counts = {0: 0, 1: 0, 2: 0}
        first: Any = None
        last: Any = None
        through: dict[int, Any] = {}
        for distributor, state, n, low, high in self._rows(
            f"SELECT distributor, state, count(*), min(day), max(day) FROM {x}delta "  # noqa: S608
            f"GROUP BY distributor, state"
        ):
            counts[int(state)] += int(n)
            first = low if first is None or low < first else first
            last = high if last is None or high > last else last
            d = int(distributor)
            through[d] = high if d not in through or high > through[d] else through[d]
        # Each stored column written from the new row ``{new}``: its value, or for the
        # forecast as it stood h weeks ahead this delivery's, for the weeks at least h
        # whole weeks after the day it arrived, else what was kept.
        updates = [f"{v} = {{new}}.{v}" for v in values]
        stored = [*_KEYS[:-1], _DAY[kind], *values]
        selected = [cols]
        params: list[Any] = []
        if kind == FORECASTS:
            for h in HORIZONS:
                stored.append(f"forecast_h{h}")
                selected.append(f"CASE WHEN day >= ? THEN forecast_units END AS forecast_h{h}")
                params.append(self.date(received_at.date() + dt.timedelta(weeks=h)))
                updates.append(
                    f"forecast_h{h} = COALESCE({{new}}.forecast_h{h}, {table}.forecast_h{h})"
                )
        written = [table, *(_ROLLUPS if kind == POS else ())]
        with self._bulk_writes(written):
            self._upsert(table, stored, selected, updates, params, counts[0], counts[1])
            weeks = self._rollup() if kind == POS and counts[0] + counts[1] else 0
        for distributor, high in sorted(through.items()):
            self._feed(distributor, kind, self._read_date(high), received_at, import_id)
        staged = sum(counts.values())
        data_from, data_through = self._read_date(first), self._read_date(last)
        if import_id is not None:
            self.update_import(
                import_id,
                {
                    "rows_new": counts[0],
                    "rows_changed": counts[1],
                    "rows_unchanged": counts[2],
                    "data_from": data_from,
                    "data_through": data_through,
                    **finish,
                },
                commit=False,
            )
        return Merged(staged, counts[0], counts[1], counts[2], data_from, data_through, weeks)

    def _upsert(
        self,
        table: str,
        stored: Sequence[str],
        selected: Sequence[str],
        updates: Sequence[str],
        params: Sequence[Any],
        new: int,
        changed: int,
    ) -> None:
        """Write the ``new`` and ``changed`` rows of ``delta`` (how many of each):
        ``selected`` (with ``params``) into the ``stored`` columns, a changed row's by
        ``updates``."""
        if not new + changed:
            return
        self.execute(
            f"INSERT INTO {table} ({', '.join(stored)}) "  # noqa: S608
            f"SELECT {', '.join(selected)} FROM {self.scratch}delta WHERE state < 2 "
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(updates).format(new='excluded')}",
            params,
        )

    @contextlib.contextmanager
    def _lookups_by_key(self) -> Iterator[None]:
        """Around the comparison of the staged rows with the stored ones (SQLite looks
        each up by its primary key)."""
        yield

    def _serialize(self) -> None:
        """Wait for any other merge of the same distributors to commit. SQLite's
        ``BEGIN IMMEDIATE`` already lets one writer in at a time."""

    @contextlib.contextmanager
    def _bulk_writes(self, tables: Sequence[str]) -> Iterator[None]:
        """Around the merge's writes of the staged rows into ``tables``: the database's
        own checks, row by row (SQLite's foreign keys are index lookups)."""
        yield

    def _rollup(self) -> int:
        """Add each new or changed row's difference to its week's rollups; then recompute
        the SKU x distributor rollups of those weeks from the per-location ones."""
        x = self.scratch
        key = "d || ':' || s || ':' || wk || ':' || l || ':' || cur"
        self._scratch_table(
            "wdelta",
            f"SELECT {key} AS key, d, l, s, wk, cur, sum(du) AS du, sum(dn) AS dn, "  # noqa: S608
            f"sum(dd) AS dd FROM ("
            f"SELECT distributor AS d, location AS l, sku AS s, wk, currency AS cur, "
            f"units AS du, net_sales_minor AS dn, 1 AS dd FROM {x}delta WHERE state < 2 "
            f"UNION ALL SELECT distributor, location, sku, wk, old_currency, -old_units, "
            f"-old_net_sales_minor, -1 FROM {x}delta WHERE state = 1"
            f") moves GROUP BY d, l, s, wk, cur",
        )
        weeks = [
            iso_week(dt.date.fromisoformat(wk))
            for (wk,) in self._rows(f"SELECT DISTINCT wk FROM {x}wdelta")  # noqa: S608
        ]
        if not weeks:
            return 0
        # A VALUES list: unlike UNION ALL, SQLite puts no limit on its rows.
        row = (
            f"(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS {self._date_type}), "
            f"CAST(? AS {self._date_type}), CAST(? AS TEXT))"
        )
        rows = ", ".join(row for _ in weeks)
        self._scratch_table(
            "weeks",
            f"SELECT column1 AS wk, column2 AS wk_end, column3 AS start_v, "  # noqa: S608
            f"column4 AS end_v, column5 AS label FROM (VALUES {rows}) AS v",
            [
                value
                for w in weeks
                for value in (
                    w.start.isoformat(),
                    w.end.isoformat(),
                    self.date(w.start),
                    self.date(w.end),
                    w.label,
                )
            ],
        )
        (count,) = self._rows(f"SELECT count(*) FROM {x}wdelta")[0]  # noqa: S608
        self.execute(
            f"INSERT INTO pos_week_location (id, distributor, location, sku, week_start, "  # noqa: S608
            f"week_end, iso_week, currency, units, net_sales_minor, days) "
            f"SELECT w.key, w.d, w.l, w.s, k.start_v, k.end_v, k.label, w.cur, w.du, w.dn, w.dd "
            f"FROM {x}wdelta w JOIN {x}weeks k ON k.wk = w.wk "
            f"WHERE w.du <> 0 OR w.dn <> 0 OR w.dd <> 0 "
            f"ON CONFLICT (id) DO UPDATE SET "
            f"units = pos_week_location.units + excluded.units, "
            f"net_sales_minor = pos_week_location.net_sales_minor + excluded.net_sales_minor, "
            f"days = pos_week_location.days + excluded.days"
        )
        self.execute(
            f"DELETE FROM pos_week_location WHERE days <= 0 AND id IN "  # noqa: S608
            f"(SELECT key FROM {x}wdelta WHERE dd < 0)"
        )
        self._scratch_table("touched_sku", f"SELECT DISTINCT d, s, wk FROM {x}wdelta")  # noqa: S608
        prefix = "t.d || ':' || t.s || ':' || t.wk || ':'"
        self.execute(
            f"DELETE FROM pos_week_distributor WHERE id IN (SELECT w.id FROM "  # noqa: S608
            f"{x}touched_sku t JOIN pos_week_distributor w "
            f"ON w.id >= {prefix} AND w.id < {prefix} || '~')"
        )
        self.execute(
            f"INSERT INTO pos_week_distributor (id, distributor, sku, week_start, week_end, "  # noqa: S608
            f"iso_week, currency, units, net_sales_minor, days, locations) "
            f"SELECT {prefix} || w.currency, t.d, t.s, k.start_v, k.end_v, k.label, "
            f"w.currency, sum(w.units), sum(w.net_sales_minor), sum(w.days), count(*) "
            f"FROM {x}touched_sku t JOIN {x}weeks k ON k.wk = t.wk JOIN pos_week_location w "
            f"ON w.id >= {prefix} AND w.id < {prefix} || '~' "
            f"GROUP BY t.d, t.s, t.wk, k.start_v, k.end_v, k.label, w.currency"
        )
        return int(count)

    def rebuild_rollups(self, distributor: int) -> int:
        """Recompute a distributor's weekly rollups from its daily POS rows (a repair;
        imports keep them up to date). Returns the per-location rollups written."""
        self._create_stage(POS)
        self._staged = POS
        x = self.scratch
        try:
            self.execute(
                f"INSERT INTO {x}stage SELECT id, distributor, location, sku, day, units, "  # noqa: S608
                f"net_sales_minor, currency, {self._monday('id')}, 0 FROM pos_sales "
                f"WHERE distributor = ?",
                (distributor,),
            )
            with self.transaction():
                for table in ("pos_week_location", "pos_week_distributor"):
                    self.execute(f"DELETE FROM {table} WHERE distributor = ?", (distributor,))  # noqa: S608
                self._scratch_table(
                    "delta",
                    f"SELECT *, 0 AS old_units, 0 AS old_net_sales_minor, "  # noqa: S608
                    f"'' AS old_currency, 0 AS state FROM {x}stage",
                )
                return self._rollup()
        finally:
            self.discard()

    def _monday(self, id_column: str) -> str:
        """SQL: the ISO week's Monday (``YYYY-MM-DD``) of a daily row, from its id."""
        raise NotImplementedError

    def _feed(
        self,
        distributor: int,
        kind: str,
        through: dt.date | None,
        received_at: dt.datetime,
        import_id: int | None,
    ) -> None:
        """Move the feed's freshness forward and relearn its cadence from its deliveries:
        the data-through dates of its last finished imports, then this one's."""
        key = f"{distributor}:{kind}"
        delivered = self._rows(
            "SELECT data_through FROM imports WHERE distributor = ? AND kind = ? "
            "AND status = 'done' AND data_through IS NOT NULL ORDER BY id DESC LIMIT ?",
            (distributor, kind, CADENCE_GAPS + 1),
        )
        learned = learn_cadence([*(self._read_date(d) for (d,) in reversed(delivered)), through])
        found = self._rows("SELECT data_through FROM feeds WHERE id = ?", (key,))
        if found:
            before = self._read_date(found[0][0])
            if before is not None and (through is None or before > through):
                through = before  # a restatement of older days does not move it back
            self.execute(
                "UPDATE feeds SET data_through = ?, received_at = ?, last_import = ?, "
                "cadence_learned = COALESCE(?, cadence_learned) WHERE id = ?",
                (
                    self.date(through) if through else None,
                    self.timestamp(received_at),
                    import_id,
                    learned,
                    key,
                ),
            )
        else:
            self.execute(
                "INSERT INTO feeds (id, distributor, kind, data_through, received_at, "
                "last_import, cadence_learned) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    distributor,
                    kind,
                    self.date(through) if through else None,
                    self.timestamp(received_at),
                    import_id,
                    learned,
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
            # Progress comes while the main connection stages (in another thread, or in
            # a COPY): it goes through a connection of its own, committed at once.
            self._side_update(self._sql(sql), [*values, import_id])
        else:
            self.execute(sql, [*values, import_id])

    def _side_update(self, sql: str, params: Sequence[Any]) -> None:
        raise NotImplementedError

    def _stored(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return self.timestamp(value)
        if isinstance(value, dt.date):
            return self.date(value)
        return value

    _date_type = "INTEGER"


def _stage_columns(kind: str, integer: str) -> str:
    values = ", ".join(f"{v} {'TEXT' if v == 'currency' else integer}" for v in _VALUES[kind])
    return (
        f"id TEXT, distributor {integer}, location {integer}, sku {integer}, "
        f"day {{day}}, {values}, wk TEXT, line INTEGER"
    )


class SqliteLane(Lane):
    """The hub's SQLite file, in WAL mode with a busy timeout; scratch tables in files of
    their own (no journal: they are thrown away), which other processes may write too
    (:meth:`stage_file`, :meth:`adopt`)."""

    scratch = "scratch."

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
        self._path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._folder: str | None = None
        self._parts: list[str] = []
        self._side: sqlite3.Connection | None = None

    def _side_update(self, sql: str, params: Sequence[Any]) -> None:
        if self._side is None:
            self._side = sqlite3.connect(
                self._path, timeout=self._busy_timeout_s, isolation_level=None
            )
            self._side.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        self._side.execute(sql, params)

    def _monday(self, id_column: str) -> str:
        return f"date(substr({id_column}, -10), 'weekday 0', '-6 days')"

    def close(self) -> None:
        self._drop_scratch()
        if self._side is not None:
            self._side.close()
        super().close()

    def date(self, day: dt.date) -> int:
        return sqlite_date(day)

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
        self._drop_scratch()
        self._folder = tempfile.mkdtemp(prefix="tandem-lane-")
        path = Path(self._folder) / "stage.db"
        open_stage_file(path, kind).close()
        self.conn.execute("ATTACH DATABASE ? AS scratch", (str(path),))
        self.conn.execute("PRAGMA scratch.journal_mode = OFF")
        self.conn.execute("PRAGMA scratch.synchronous = OFF")
        self.conn.execute("PRAGMA scratch.cache_size = -32768")
        self._parts: list[str] = []

    def stage_file(self, kind: str, name: str) -> Path:
        """Where another process may write staged rows (:func:`open_stage_file`) for this
        import; :meth:`adopt` them once written."""
        if self._staged is None:
            self.stage(kind, ())
        assert self._folder is not None
        return Path(self._folder) / f"{name}.db"

    def adopt(self, paths: Sequence[Path]) -> None:
        """Merge will read the staged rows in these files too."""
        for path in paths:
            alias = f"part{len(self._parts)}"
            self.conn.execute(f"ATTACH DATABASE ? AS {alias}", (str(path),))
            self._parts.append(alias)

    def _scratch_table(self, name: str, select: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS scratch.{name}")
        self.conn.execute(f"CREATE TABLE scratch.{name} AS {select}", params)

    def _last_lines(self, kind: str) -> str:
        # A sorted copy into a keyed table: the later line of a key replaces the earlier
        # one. About four times faster here than a window function over the stage.
        columns = _stage_columns(kind, "INTEGER").format(day="INTEGER")
        columns = columns.replace("id TEXT,", "id TEXT PRIMARY KEY,", 1)
        sources = " UNION ALL ".join(
            f"SELECT * FROM {alias}.stage"  # noqa: S608 - our own aliases
            for alias in ("scratch", *self._parts)
        )
        self.conn.execute("DROP TABLE IF EXISTS scratch.keyed")
        self.conn.execute(f"CREATE TABLE scratch.keyed ({columns}) WITHOUT ROWID")
        self.conn.execute(
            f"INSERT OR REPLACE INTO scratch.keyed SELECT * FROM ({sources}) ORDER BY id, line"  # noqa: S608
        )
        return "scratch.keyed"

    def _drop_scratch(self) -> None:
        if self._folder is None:
            return
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        for alias in ("scratch", *self._parts):
            with contextlib.suppress(sqlite3.OperationalError):
                self.conn.execute(f"DETACH DATABASE {alias}")
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None
        self._parts = []

    def _stage_rows(self, kind: str, rows: Iterable[Sequence[Any]]) -> int:
        return stage_into(self.conn, kind, rows, "scratch.stage")


def sqlite_date(day: dt.date) -> int:
    """A ``date`` as Directus stores it on SQLite: epoch milliseconds at UTC midnight."""
    return (day - _EPOCH.date()).days * 86_400_000


def open_stage_file(path: Path, kind: str) -> sqlite3.Connection:
    """A scratch SQLite file with an empty stage table, for :func:`stage_into`."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    columns = _stage_columns(kind, "INTEGER").format(day="INTEGER")
    conn.execute(f"CREATE TABLE IF NOT EXISTS stage ({columns})")
    return conn


def stage_into(
    conn: sqlite3.Connection, kind: str, rows: Iterable[Sequence[Any]], table: str = "stage"
) -> int:
    """Insert staged rows in 20k-row transactions; returns how many."""
    marks = ", ".join("?" for _ in range(len(_KEYS) + len(_VALUES[kind]) + 2))
    sql = f"INSERT INTO {table} VALUES ({marks})"  # noqa: S608
    taken = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, _BATCH)):
        conn.execute("BEGIN")
        try:
            conn.executemany(sql, batch)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        taken += len(batch)
    return taken


def copy_lines(kind: str, rows: Iterable[Sequence[Any]]) -> Iterator[tuple[str, int]]:
    """Staged rows as blocks of PostgreSQL ``COPY`` text (tab-separated, 20k rows a
    block), each with its number of rows. A staged value is the lane's own: an integer, a
    date, or text made of digits, letters, ``:`` and ``-`` (ids, codes, ISO dates), so
    nothing needs escaping; a block that would (a tab, a line break, a backslash, a
    ``None``) is refused rather than staged wrong."""
    tabs = len(_KEYS) + len(_VALUES[kind]) + 1
    iterator = iter(rows)
    while batch := list(islice(iterator, _BATCH)):
        block = "\n".join(["\t".join(map(str, row)) for row in batch]) + "\n"
        n = len(batch)
        if (
            block.count("\t") != tabs * n
            or block.count("\n") != n
            or "\\" in block
            or "\r" in block
            or "None" in block
        ):
            raise LaneError("a staged value holds a tab, a line break, a backslash or None")
        yield block, n


def write_copy_file(path: Path, kind: str, rows: Iterable[Sequence[Any]]) -> int:
    """Write staged rows as ``COPY`` text into a file (:meth:`PostgresLane.adopt` reads
    it); returns how many."""
    taken = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        for block, n in copy_lines(kind, rows):
            out.write(block)
            taken += n
    return taken


#: The advisory-lock class of the lane's merges on PostgreSQL ("tand"), keyed by distributor.
MERGE_LOCK = 0x74616E64


class PostgresLane(Lane):
    """A PostgreSQL hub database, staged through ``COPY`` into temporary tables."""

    placeholder = "%s"
    differs = "IS DISTINCT FROM"
    _date_type = "DATE"

    def __init__(self, dsn: str) -> None:
        import psycopg  # only where PostgreSQL is configured

        conn = psycopg.connect(dsn, autocommit=True)
        # The lane's statements are few and large, so PostgreSQL compiles each (JIT):
        # seen taking 0.16 s of the comparison of a day's file with 10M stored rows,
        # which ran 0.3 s faster without it.
        conn.execute("SET jit = off")
        # From PostgreSQL 15 the default collation may come from ICU ('i') or, from 17,
        # the builtin provider ('b'): datcollate then keeps the template's 'C' while ICU
        # sorts '~' below letters and digits. Only libc's C is byte order.
        provider = "datlocprovider::text" if conn.info.server_version >= 150000 else "'c'"
        collation, provider = conn.execute(
            f"SELECT datcollate, {provider} FROM pg_database "  # noqa: S608 - fixed text
            "WHERE datname = current_database()"
        ).fetchone()
        if provider != "c" or collation not in ("C", "POSIX"):
            conn.close()
            how = "" if provider == "c" else f" from locale provider {provider!r}"
            raise LaneError(
                f"the hub database's collation is {collation!r}{how}; the bulk lane's key "
                "ranges need byte order: create it with LC_COLLATE 'C' and the libc locale "
                "provider (see docs/ARCHITECTURE.md)"
            )
        # Whether this role may set session_replication_role (a superuser, or from
        # PostgreSQL 15 one granted SET ON PARAMETER): see :meth:`_bulk_writes`.
        may = (
            "has_parameter_privilege('session_replication_role', 'SET')"
            if conn.info.server_version >= 150000
            else "false"
        )
        self._may_replicate = bool(
            conn.execute(f"SELECT current_setting('is_superuser') = 'on' OR {may}").fetchone()[0]
        )
        super().__init__(conn)
        self._dsn = dsn
        self._scratch: list[str] = []
        self._folder: str | None = None
        self._side: Any = None
        self._generation: bool | None = None

    def _side_update(self, sql: str, params: Sequence[Any]) -> None:
        import psycopg

        if self._side is None:
            self._side = psycopg.connect(self._dsn, autocommit=True)
        with self._side.transaction():
            self._side.execute(sql, params)
            self._move_generation(self._side)

    def _monday(self, id_column: str) -> str:
        return f"to_char(date_trunc('week', right({id_column}, 10)::date), 'YYYY-MM-DD')"

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
        super().close()

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
            self._move_generation(self.conn)

    def _move_generation(self, conn: Any) -> None:
        """Move the hub's write generation (migration 0030) in the transaction that
        writes: a reader keeping reads by it (:mod:`directus.reads`) sees the rows and
        the new number at once. Last in the transaction, so the one row is locked for
        the commit only, not while an import merges."""
        if self._generation is None:
            found = conn.execute("SELECT to_regclass('tandem_generation')").fetchone()[0]
            self._generation = found is not None
        if self._generation:
            conn.execute("UPDATE tandem_generation SET n = n + 1 WHERE id = 1")

    def _serialize(self) -> None:
        """Two imports of one distributor at once would both class the same rows new
        and add them to the rollups twice: each merge takes a transaction-scoped lock
        per distributor it stages (in id order, so two never wait on each other), and
        classes its rows only once the other has committed (READ COMMITTED sees it)."""
        for (distributor,) in self._rows("SELECT DISTINCT distributor FROM stage ORDER BY 1"):
            self.execute("SELECT pg_advisory_xact_lock(%s, %s)", (MERGE_LOCK, int(distributor)))

    @contextlib.contextmanager
    def _lookups_by_key(self) -> Iterator[None]:
        """The planner would hash the whole stored table to compare a day's file with it
        (seen: 3.6 s for 100,000 rows against 10M stored, growing with the table); looked
        up by primary key, the comparison grows with the file instead (1.7 s there)."""
        self.execute("SET LOCAL enable_hashjoin = off")
        self.execute("SET LOCAL enable_mergejoin = off")
        yield
        self.execute("SET LOCAL enable_hashjoin = on")
        self.execute("SET LOCAL enable_mergejoin = on")

    def _upsert(
        self,
        table: str,
        stored: Sequence[str],
        selected: Sequence[str],
        updates: Sequence[str],
        params: Sequence[Any],
        new: int,
        changed: int,
    ) -> None:
        """New rows by a plain ``INSERT`` and changed ones by an ``UPDATE``: here ``ON
        CONFLICT`` costs a speculative insertion per row, about a fifth of the insert.
        No other merge can add these keys meanwhile: a key is its distributor's, whose
        merges :meth:`_serialize` takes one at a time (a stored key of another
        distributor was found in ``delta``)."""
        rows = ", ".join(selected)
        if new:
            self.execute(
                f"INSERT INTO {table} ({', '.join(stored)}) "  # noqa: S608
                f"SELECT {rows} FROM delta WHERE state = 0",
                params,
            )
        if changed:
            self.execute(
                f"UPDATE {table} SET {', '.join(updates).format(new='n')} "  # noqa: S608
                f"FROM (SELECT {rows} FROM delta WHERE state = 1) n WHERE {table}.id = n.id",
                params,
            )

    @contextlib.contextmanager
    def _bulk_writes(self, tables: Sequence[str]) -> Iterator[None]:
        """A foreign key's trigger checks each inserted row on its own, locking the row it
        names ``FOR KEY SHARE``: three checks per POS row, most of a large merge's time.
        Where this role may, the merge does the same once per referenced row instead: it
        locks every row the staged rows name ``FOR KEY SHARE`` (so none can be deleted or
        rekeyed before this transaction ends, as the triggers would ensure), refuses the
        import if one is missing, and writes with ``session_replication_role = replica``,
        which skips the per-row triggers. Only where the tables' foreign keys are all on
        the staged key columns, no foreign key names these tables (the merge deletes
        rollups) and the tables have no triggers of their own (which ``replica`` would
        skip too); else the triggers check each row."""
        keys = self._rows(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, "
            "f.attname, array_length(c.conkey, 1) FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1] "
            "WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])",
            (list(tables),),
        )
        own, referenced = self._rows(
            "SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[]) "
            "AND NOT tgisinternal), (SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid = ANY(%s::regclass[]))",
            (list(tables), list(tables)),
        )[0]
        if (
            not self._may_replicate
            or own
            or referenced
            or any(n != 1 or column not in _KEYS[1:4] for _t, column, _p, _c, n in keys)
        ):
            yield
            return
        self._scratch_table(
            "refs", "SELECT DISTINCT distributor, location, sku FROM delta WHERE state < 2"
        )
        for column, parent, parent_column in sorted({(c, p, pc) for _t, c, p, pc, _n in keys}):
            named = {v for (v,) in self._rows(f"SELECT DISTINCT {column} FROM refs")}  # noqa: S608
            locked = {
                v
                for (v,) in self._rows(
                    f"SELECT p.{parent_column} FROM {parent} p WHERE p.{parent_column} IN "  # noqa: S608
                    f"(SELECT {column} FROM refs) FOR KEY SHARE OF p"
                )
            }
            missing = sorted(named - locked)
            if missing:
                raise LaneError(f"{column} {missing[0]} is not in {parent}: nothing was imported")
        self.execute("SET LOCAL session_replication_role = replica")
        yield
        self.execute("SET LOCAL session_replication_role = origin")

    def _create_stage(self, kind: str) -> None:
        self._drop_scratch()
        columns = _stage_columns(kind, "BIGINT").format(day="DATE")
        self.execute(f"CREATE TEMP TABLE stage ({columns})")
        self._scratch.append("stage")

    def _scratch_table(self, name: str, select: str, params: Sequence[Any] = ()) -> None:
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMP TABLE {name} AS {select}", params)
        self.execute(f"ANALYZE {name}")
        self._scratch.append(name)

    def _last_lines(self, kind: str) -> str:
        self.execute("ANALYZE stage")  # staged by COPY, from this process or others' files
        return "(SELECT DISTINCT ON (id) * FROM stage ORDER BY id, line DESC)"

    def _drop_scratch(self) -> None:
        for name in reversed(self._scratch):
            with contextlib.suppress(Exception):
                self.execute(f"DROP TABLE IF EXISTS {name}")
        self._scratch = []
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _stage_rows(self, kind: str, rows: Iterable[Sequence[Any]]) -> int:
        taken = 0
        with self.conn.cursor() as cur, cur.copy("COPY stage FROM STDIN") as copy:
            for block, n in copy_lines(kind, rows):
                copy.write(block)
                taken += n
        return taken

    def stage_file(self, kind: str, name: str) -> Path:
        """Where another process may write staged rows (:func:`write_copy_file`) for this
        import; :meth:`adopt` them once written."""
        if self._staged is None:
            self.stage(kind, ())
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="tandem-lane-")
        return Path(self._folder) / f"{name}.copy"

    def adopt(self, paths: Sequence[Path]) -> None:
        """``COPY`` the staged rows of these files into the stage, a megabyte at a time."""
        with self.conn.cursor() as cur, cur.copy("COPY stage FROM STDIN") as copy:
            for path in paths:
                with open(path, "rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)


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
        received_at=received_at or clock.now(),
    )
