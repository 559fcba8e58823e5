"""One delivered file into the hub: read, resolve, validate, stage, merge.

Used alike by the CLI (``tandem import``), the portal's upload (through
:mod:`ingest.worker`) and the scheduler's drop-folder job. Memory stays flat whatever
the file's size: rows stream from the reader through validation into the bulk lane's
staging table, rejects stream into the rejects file.

- A good row becomes a staged row of the natural key (distributor, location, SKU, day).
- A bad row (unknown SKU or store, bad date, non-numeric units, ...) is written to the
  rejects file with its line number, field and reason; the good rows still land.
- A structurally wrong file (:class:`domain.ingest.FileError`) lands nothing, and the
  import is marked failed with the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directus.bulk import Lane, Lookups, iso_week
from domain.gs1 import gtin_problem
from domain.ingest import (
    FileError,
    PosLine,
    StockLine,
    minor_exponent,
    parse_currency,
    parse_day,
    parse_money,
    parse_units,
)
from ingest.readers import ColumnMap, check_format, read

log = logging.getLogger(__name__)
PROGRESS_EVERY = 50_000


@dataclass(frozen=True)
class Progress:
    rows_read: int
    rows_rejected: int
    seconds: float

    @property
    def rows_per_s(self) -> int:
        return int(self.rows_read / self.seconds) if self.seconds > 0 else 0


@dataclass(frozen=True)
class ImportResult:
    import_id: int | None
    format: str
    rows_read: int
    rows_rejected: int
    new: int
    changed: int
    unchanged: int
    data_from: dt.date | None
    data_through: dt.date | None
    seconds: float
    rejects: Path | None

    @property
    def rows_per_s(self) -> int:
        return int(self.rows_read / self.seconds) if self.seconds > 0 else 0


class _Rejects:
    """The rejects file, written as rows come (``line,field,reason``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._handle: Any = None
        self._writer: Any = None

    def add(self, line: int, field: str, reason: str) -> None:
        self.count += 1
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "field", "reason"])
        self._writer.writerow([line, field, reason])

    def close(self) -> Path | None:
        if self._handle is not None:
            self._handle.close()
            return self.path
        return None


class _Resolver:
    """A distributor's codes to hub ids, and delivered dates to stored ones (cached)."""

    def __init__(self, lookups: Lookups, lane: Lane, date_format: str) -> None:
        self.lk = lookups
        self.lane = lane
        self.date_format = date_format
        self.days: dict[str, tuple[Any, str, str] | str] = {}
        self.currencies: dict[str, str] = {}

    def sku(self, item: str, gtin: str) -> int | str:
        """The SKU id, or why not (str)."""
        if item:
            found = self.lk.items.get(item) or self.lk.items.get(item.strip())
            if found:
                return found
            if not gtin:
                return f"item: unknown item code {item.strip()!r}"
        if gtin:
            digits = gtin.strip()
            problem = gtin_problem(digits)
            if problem:
                return f"gtin: {problem}"
            found = self.lk.gtins.get(digits.zfill(14))
            if found:
                return found
            return f"gtin: {digits} is not a SKU of a supplier this distributor trades with"
        return "item: no item code or GTIN"

    def place(self, store: str, gln: str) -> int | str:
        if store:
            found = self.lk.stores.get(store) or self.lk.stores.get(store.strip())
            if found:
                return found
            if not gln:
                return f"store: unknown store code {store.strip()!r}"
        if gln:
            found = self.lk.glns.get(gln.strip())
            if found:
                return found
            return f"gln: unknown store GLN {gln.strip()!r}"
        return "store: no store code or GLN"

    def day(self, text: str) -> tuple[Any, str, str] | str:
        """(stored day, ISO day, ISO week's Monday) or why not (str)."""
        found = self.days.get(text)
        if found is None:
            try:
                day = parse_day(text, self.date_format)
            except ValueError:
                try:  # ISO is always understood, whatever the feed's format
                    day = dt.date.fromisoformat(text.strip())
                except ValueError:
                    day = None
            if day is None:
                found = f"day: {text!r} is not a date ({self.date_format})"
            else:
                found = (self.lane.date(day), day.isoformat(), iso_week(day).start.isoformat())
            if len(self.days) < 100_000:
                self.days[text] = found
        return found

    def currency(self, text: str) -> str:
        found = self.currencies.get(text)
        if found is None:
            try:
                found = parse_currency(text, self.lk.currency)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
            self.currencies[text] = found
        return found


def _minor(text: str, currency: str) -> int:
    """Money in major units as minor units: plain forms fast, every other form exactly."""
    exponent = minor_exponent(currency)
    whole, dot, frac = text.partition(".")
    if whole.lstrip("-").isdigit() and len(frac) <= exponent and (not frac or frac.isdigit()):
        return int(whole + frac.ljust(exponent, "0")) if dot else int(whole) * 10**exponent
    return parse_money(text, currency)


def _pos(
    lines: Iterable[PosLine],
    distributor: int,
    res: _Resolver,
    rejects: _Rejects,
    counter: list[int],
) -> Iterator[tuple[Any, ...]]:
    sku_of, place_of, day_of, currency_of = res.sku, res.place, res.day, res.currency
    reject = rejects.add
    for line, item, gtin, store, gln, day, units, net, cur in lines:
        counter[0] += 1
        sku = sku_of(item, gtin)
        if type(sku) is str:
            field, _, reason = sku.partition(": ")
            reject(line, field, reason)
            continue
        loc = place_of(store, gln)
        if type(loc) is str:
            field, _, reason = loc.partition(": ")
            reject(line, field, reason)
            continue
        when = day_of(day)
        if type(when) is str:
            reject(line, "day", when.partition(": ")[2])
            continue
        try:
            n = int(units)
        except ValueError:
            try:
                n = parse_units(units)
            except ValueError as exc:
                reject(line, "units", str(exc))
                continue
        try:
            currency = currency_of(cur) if cur else res.lk.currency
            minor = _minor(net, currency) if net else 0
        except ValueError as exc:
            field = "currency" if str(exc).startswith("currency") else "net_sales"
            reject(line, field, str(exc))
            continue
        stored, iso, wk = when  # type: ignore[misc]
        yield (f"{distributor}:{loc}:{sku}:{iso}", distributor, loc, sku, stored, n, minor,
               currency, wk, line)  # fmt: skip


def _inventory(
    lines: Iterable[StockLine],
    distributor: int,
    res: _Resolver,
    rejects: _Rejects,
    counter: list[int],
) -> Iterator[tuple[Any, ...]]:
    reject = rejects.add
    for line, item, gtin, store, gln, day, on_hand, in_transit, on_order in lines:
        counter[0] += 1
        sku = res.sku(item, gtin)
        if type(sku) is str:
            field, _, reason = sku.partition(": ")
            reject(line, field, reason)
            continue
        loc = res.place(store, gln)
        if type(loc) is str:
            field, _, reason = loc.partition(": ")
            reject(line, field, reason)
            continue
        when = res.day(day)
        if type(when) is str:
            reject(line, "day", when.partition(": ")[2])
            continue
        try:
            values = [
                parse_units(on_hand, "on_hand"),
                parse_units(in_transit, "in_transit") if in_transit.strip() else 0,
                parse_units(on_order, "on_order") if on_order.strip() else 0,
            ]
        except ValueError as exc:
            reject(line, str(exc).split(" ", 1)[0], str(exc))
            continue
        stored, iso, wk = when  # type: ignore[misc]
        yield (f"{distributor}:{loc}:{sku}:{iso}", distributor, loc, sku, stored, *values, wk, line)


def run_import(
    lane: Lane,
    source: Path,
    *,
    distributor: int,
    kind: str,
    fmt: str | None = None,
    mapping: ColumnMap | None = None,
    import_id: int | None = None,
    rejects_path: Path | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> ImportResult:
    """Import one file; see the module's docstring. Raises FileError (after marking the
    import failed) if the file is structurally wrong: then nothing landed."""
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    mapping = mapping or ColumnMap()
    rejects = _Rejects(rejects_path)
    counter = [0]
    if import_id is not None:
        lane.update_import(import_id, {"status": "running", "started_at": now})
    try:
        found = check_format(source, fmt)
        if import_id is not None:
            lane.update_import(import_id, {"format": found})
        lookups = lane.lookups(distributor)
        res = _Resolver(lookups, lane, mapping.date_format)
        lines = read(source, found, kind, mapping)
        rows = (_pos if kind == "pos" else _inventory)(lines, distributor, res, rejects, counter)

        def reporting(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
            next_report = PROGRESS_EVERY
            for row in rows:
                yield row
                if counter[0] >= next_report:
                    next_report = counter[0] + PROGRESS_EVERY
                    state = Progress(counter[0], rejects.count, time.monotonic() - started)
                    if import_id is not None:
                        lane.update_import(
                            import_id,
                            {
                                "rows_read": state.rows_read,
                                "rows_rejected": state.rows_rejected,
                                "rows_per_s": state.rows_per_s,
                            },
                        )
                    if progress:
                        progress(state)

        lane.stage(kind, reporting(rows))
    except FileError as exc:
        lane.discard()
        path = rejects.close()
        if path:
            path.unlink(missing_ok=True)
        if import_id is not None:
            lane.update_import(
                import_id,
                {
                    "status": "failed",
                    "error": str(exc),
                    "finished_at": dt.datetime.now(dt.UTC),
                    "rows_read": 0,
                    "rows_rejected": 0,
                },
            )
        raise
    except BaseException:
        lane.discard()
        rejects.close()
        raise
    path = rejects.close()
    seconds = time.monotonic() - started
    merged = lane.merge(
        import_id=import_id,
        received_at=now,
        finish={
            "status": "done",
            "rows_read": counter[0],
            "rows_rejected": rejects.count,
            "rows_per_s": int(counter[0] / seconds) if seconds > 0 else 0,
            "finished_at": dt.datetime.now(dt.UTC),
            "rejects": path.name if path else None,
        },
    )
    seconds = time.monotonic() - started
    if progress:
        progress(Progress(counter[0], rejects.count, seconds))
    return ImportResult(
        import_id,
        found,
        counter[0],
        rejects.count,
        merged.new,
        merged.changed,
        merged.unchanged,
        merged.data_from,
        merged.data_through,
        seconds,
        path,
    )
