"""Whether a delivered row is good, and what it means: codes to ids, text to values.

Shared by the one-process import (:mod:`ingest.pipeline`) and the staging processes of a
large CSV (:mod:`ingest.parallel`), so a row is judged the same way whichever stages it.
Good rows become staged tuples (the natural key, ids, the stored day, exact integers);
bad ones go to the rejects file with their line, field and reason. Quantities and amounts
are read under the mapping's decimal and thousands separators
(:func:`domain.ingest.parse_number`), never guessed at.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from directus.bulk import Lookups, iso_week
from domain.forecasts import first_open_week, frozen_reason, week_start
from domain.gs1 import gtin_problem
from domain.ingest import (
    MAX_MINOR,
    MAX_UNITS,
    check_separators,
    minor_exponent,
    parse_currency,
    parse_day,
    parse_money,
    parse_units,
)

HEADER = ["line", "field", "reason"]


class Rejects:
    """The rejects file, written as rows come (``line,field,reason``)."""

    def __init__(self, path: Path | None, header: bool = True) -> None:
        self.path = path
        self.header = header
        self.count = 0
        self.early = 0  # rejected by the reader (wrong number of cells): not validated
        self._handle: Any = None
        self._writer: Any = None

    def add(self, line: int, field: str, reason: str) -> None:
        self.count += 1
        if self.path is None:
            return
        self.add_header_only()
        self._writer.writerow([line, field, reason])

    def add_early(self, line: int, field: str, reason: str) -> None:
        self.early += 1
        self.add(line, field, reason)

    def absorb(self, part: Path, count: int, early: int) -> None:
        """Append another process's rejects (written without a header) and its counts."""
        if count and self.path is not None:
            self.add_header_only()
            self._handle.flush()
            with open(part, encoding="utf-8", newline="") as source:
                self._handle.write(source.read())
        part.unlink(missing_ok=True)
        self.count += count
        self.early += early

    def add_header_only(self) -> None:
        if self._writer is None and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.writer(self._handle)
            if self.header:
                self._writer.writerow(HEADER)

    def close(self) -> Path | None:
        if self._handle is not None:
            self._handle.close()
            return self.path
        return None


class Bad:
    """Why a value was refused: the field it names and the reason."""

    __slots__ = ("field", "reason")

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason


class Resolver:
    """A distributor's codes to hub ids (as text: the staging table stores them as
    integers), and delivered dates to stored ones. Every answer is cached, refusals too,
    so the hot loop is one dictionary lookup per field. ``decimal`` and ``thousands`` are
    the mapping's separators, which quantities and amounts are read with."""

    MAX_CACHED = 200_000

    def __init__(
        self,
        lookups: Lookups,
        date: Callable[[dt.date], Any],
        date_format: str,
        decimal: str = ".",
        thousands: str = "",
        today: dt.date | None = None,
    ) -> None:
        check_separators(decimal, thousands)
        self.today = today
        self.lk = lookups
        self.date = date
        self.date_format = date_format
        self.decimal = decimal
        self.thousands = thousands
        self.items: dict[str, str | Bad] = {}
        self.stores: dict[str, str | Bad] = {}
        self.days: dict[str, tuple[Any, str, str] | Bad] = {}
        self.currencies: dict[str, str | Bad] = {}
        self.weeks: dict[str, tuple[Any, str, dt.date] | Bad] = {}
        self.opens: dict[str, dt.date] = {}

    def _keep(self, cache: dict[str, Any], key: str, value: Any) -> Any:
        if len(cache) < self.MAX_CACHED:
            cache[key] = value
        return value

    def _cached(
        self,
        cache: dict[str, Any],
        code: str,
        alt: str,
        find: Callable[[str, str], str | Bad],
    ) -> str | Bad:
        """``find``'s answer, cached by the code, or by the alternative (``\0`` first)
        when the row has only that; the hot loops read these caches directly."""
        found = find(code, alt)
        if not alt:
            return self._keep(cache, code, found)
        if not code:
            return self._keep(cache, "\0" + alt, found)
        return found

    def sku(self, item: str, gtin: str) -> str | Bad:
        """The SKU id, or why not: by the distributor's item code, else the GTIN."""
        return self._cached(self.items, item, gtin, self._sku)

    def _sku(self, item: str, gtin: str) -> str | Bad:
        if item:
            found = self.lk.items.get(item.strip())
            if found:
                return str(found)
            if not gtin:
                return Bad("item", f"unknown item code {item.strip()!r}")
        if gtin:
            digits = gtin.strip()
            problem = gtin_problem(digits)
            if problem:
                return Bad("gtin", problem)
            found = self.lk.gtins.get(digits.zfill(14))
            if found:
                return str(found)
            return Bad("gtin", f"{digits} is not a SKU of a supplier this distributor trades with")
        return Bad("item", "no item code or GTIN")

    def place(self, store: str, gln: str) -> str | Bad:
        """The location id, or why not: by the distributor's store code, else the GLN."""
        return self._cached(self.stores, store, gln, self._place)

    def _place(self, store: str, gln: str) -> str | Bad:
        if store:
            found = self.lk.stores.get(store.strip())
            if found:
                return str(found)
            if not gln:
                return Bad("store", f"unknown store code {store.strip()!r}")
        if gln:
            found = self.lk.glns.get(gln.strip())
            if found:
                return str(found)
            return Bad("gln", f"unknown store GLN {gln.strip()!r}")
        return Bad("store", "no store code or GLN")

    def day(self, text: str) -> tuple[Any, str, str] | Bad:
        """(stored day, ISO day, ISO week's Monday), or why not."""
        try:
            day = parse_day(text, self.date_format)
        except ValueError:
            try:  # ISO is always understood, whatever the feed's format
                day = dt.date.fromisoformat(text.strip())
            except ValueError:
                day = None
        if day is None:
            found: tuple[Any, str, str] | Bad = Bad(
                "day", f"{text!r} is not a date ({self.date_format})"
            )
        else:
            found = (self.date(day), day.isoformat(), iso_week(day).start.isoformat())
        return self._keep(self.days, text, found)

    def week(self, text: str) -> tuple[Any, str, dt.date] | Bad:
        """(stored Monday, ISO Monday, Monday) of a delivered forecast week, or why not."""
        try:
            monday = week_start(text, self.date_format)
        except ValueError as exc:
            found: tuple[Any, str, dt.date] | Bad = Bad("week", str(exc))
        else:
            found = (self.date(monday), monday.isoformat(), monday)
        return self._keep(self.weeks, text, found)

    def frozen(self, sku: str, monday: dt.date) -> Bad | None:
        """Why a SKU's week can no longer change (inside its lead time, or past), or None.
        ``sku`` is the id as the caches give it; :attr:`opens` keeps each one's first
        open week for the hot loop."""
        if self.today is None:
            raise ValueError("forecasts are judged against today: give the resolver one")
        lead = self.lk.lead_days.get(int(sku), 0)
        opens = self.opens.get(sku)
        if opens is None:
            opens = self.opens[sku] = first_open_week(self.today, lead)
        reason = None if monday >= opens else frozen_reason(monday, self.today, lead)
        return None if reason is None else Bad("week", reason)

    def currency(self, text: str) -> str | Bad:
        try:
            found: str | Bad = parse_currency(text, self.lk.currency)
        except ValueError as exc:
            found = Bad("currency", str(exc))
        return self._keep(self.currencies, text, found)


def _units(text: str, field: str, decimal: str, thousands: str) -> int | Bad:
    """Whole units: plain ASCII integers fast (``int`` reads them as the rule does, under
    any separators), every other form by :func:`domain.ingest.parse_units`."""
    if text.isascii() and "_" not in text:  # int() reads "1_0" as 10, and other scripts' digits
        try:
            number = int(text)
        except ValueError:
            pass
        else:
            if abs(number) <= MAX_UNITS:
                return number
    try:
        return parse_units(text, field, decimal, thousands)
    except ValueError as exc:
        return Bad(field, str(exc))


def _minor(text: str, currency: str, decimal: str, thousands: str) -> int | Bad:
    """Money in major units as minor units: the plain forms fast (an integer, or exactly
    the currency's decimals after the mapping's decimal separator), every other one
    exactly by :func:`domain.ingest.parse_money` (or refused: more decimals than the
    currency has are never rounded away)."""
    exponent = minor_exponent(currency)
    if text.isascii() and "_" not in text:
        dot = text.find(decimal)
        try:
            if dot < 0:
                minor = int(text) * 10**exponent
            elif len(text) - dot - 1 == exponent and text[dot + 1 :].isdigit():
                minor = int(text[:dot] + text[dot + 1 :])
            else:
                minor = None
        except ValueError:
            minor = None
        if minor is not None and abs(minor) <= MAX_MINOR:
            return minor
    try:
        return parse_money(text, currency, "net_sales", decimal, thousands)
    except ValueError as exc:
        return Bad("net_sales", str(exc))


Report = Callable[[int], None]


def _placed(res: Resolver, item: str, gtin: str, store: str, gln: str) -> tuple[str, str] | Bad:
    """(SKU id, location id) of a row, from the caches first, or why not."""
    sku = res.items.get(item if not gtin else "\0" + gtin if not item else None)
    sku = sku or res.sku(item, gtin)
    if type(sku) is Bad:
        return sku
    loc = res.stores.get(store if not gln else "\0" + gln if not store else None)
    loc = loc or res.place(store, gln)
    if type(loc) is Bad:
        return loc
    return sku, loc  # type: ignore[return-value]


def pos_rows(
    lines: Iterable[tuple[Any, ...]],
    distributor: int,
    res: Resolver,
    reject: Callable[[int, str, str], None],
    report: Report,
    every: int,
) -> Iterator[tuple[Any, ...]]:
    """Good rows as staged tuples; bad ones to ``reject``. The hot loop of an import."""
    items, stores, days, currencies = res.items, res.stores, res.days, res.currencies
    decimal, thousands = res.decimal, res.thousands
    prefix = f"{distributor}:"
    default = res.lk.currency
    n = 0
    next_report = every
    for line, item, gtin, store, gln, day, units, net, cur in lines:
        n += 1
        if n >= next_report:
            report(n)
            next_report += every
        sku = items.get(item if not gtin else "\0" + gtin if not item else None) or res.sku(
            item, gtin
        )
        if type(sku) is Bad:
            reject(line, sku.field, sku.reason)
            continue
        loc = stores.get(store if not gln else "\0" + gln if not store else None) or res.place(
            store, gln
        )
        if type(loc) is Bad:
            reject(line, loc.field, loc.reason)
            continue
        when = days.get(day) or res.day(day)
        if type(when) is Bad:
            reject(line, when.field, when.reason)
            continue
        count = _units(units, "units", decimal, thousands)
        if type(count) is Bad:
            reject(line, count.field, count.reason)
            continue
        currency = (currencies.get(cur) or res.currency(cur)) if cur else default
        if type(currency) is Bad:
            reject(line, currency.field, currency.reason)
            continue
        minor = _minor(net, currency, decimal, thousands) if net else 0  # type: ignore[arg-type]
        if type(minor) is Bad:
            reject(line, minor.field, minor.reason)
            continue
        stored, iso, wk = when  # type: ignore[misc]
        yield (f"{prefix}{loc}:{sku}:{iso}", distributor, loc, sku, stored, count, minor,
               currency, wk, line)  # fmt: skip
    report(n)


def inventory_rows(
    lines: Iterable[tuple[Any, ...]],
    distributor: int,
    res: Resolver,
    reject: Callable[[int, str, str], None],
    report: Report,
    every: int,
) -> Iterator[tuple[Any, ...]]:
    n = 0
    next_report = every
    decimal, thousands = res.decimal, res.thousands
    for line, item, gtin, store, gln, day, on_hand, in_transit, on_order in lines:
        n += 1
        if n >= next_report:
            report(n)
            next_report += every
        placed = _placed(res, item, gtin, store, gln)
        if type(placed) is Bad:
            reject(line, placed.field, placed.reason)
            continue
        sku, loc = placed  # type: ignore[misc]
        when = res.days.get(day) or res.day(day)
        if type(when) is Bad:
            reject(line, when.field, when.reason)
            continue
        values = [
            _units(on_hand, "on_hand", decimal, thousands),
            _units(in_transit, "in_transit", decimal, thousands) if in_transit.strip() else 0,
            _units(on_order, "on_order", decimal, thousands) if on_order.strip() else 0,
        ]
        bad = next((v for v in values if type(v) is Bad), None)
        if bad is not None:
            reject(line, bad.field, bad.reason)  # type: ignore[union-attr]
            continue
        stored, iso, wk = when  # type: ignore[misc]
        yield (f"{distributor}:{loc}:{sku}:{iso}", distributor, loc, sku, stored, *values, wk,
               line)  # fmt: skip
    report(n)


def forecast_rows(
    lines: Iterable[tuple[Any, ...]],
    distributor: int,
    res: Resolver,
    reject: Callable[[int, str, str], None],
    report: Report,
    every: int,
) -> Iterator[tuple[Any, ...]]:
    """Forecast lines as staged rows (the week's Monday as the day, units counted whole;
    cases times the SKU's case pack); a week inside the SKU's lead time is refused."""
    n = 0
    next_report = every
    decimal, thousands = res.decimal, res.thousands
    packs, opens_of = res.lk.case_packs, res.opens
    for line, item, gtin, store, gln, week, units, uom in lines:
        n += 1
        if n >= next_report:
            report(n)
            next_report += every
        placed = _placed(res, item, gtin, store, gln)
        if type(placed) is Bad:
            reject(line, placed.field, placed.reason)
            continue
        sku, loc = placed  # type: ignore[misc]
        when = res.weeks.get(week) or res.week(week)
        if type(when) is Bad:
            reject(line, when.field, when.reason)
            continue
        stored, iso, monday = when  # type: ignore[misc]
        opens = opens_of.get(sku)  # type: ignore[call-overload]
        if opens is None or monday < opens:
            frozen = res.frozen(sku, monday)  # type: ignore[arg-type]
            if frozen is not None:
                reject(line, frozen.field, frozen.reason)
                continue
        count = _units(units, "units", decimal, thousands)
        if type(count) is Bad:
            reject(line, count.field, count.reason)
            continue
        if uom:
            unit = uom.strip().upper()
            if unit == "CA":
                count = count * packs.get(int(sku), 1)  # type: ignore[operator,arg-type]
                if abs(count) > MAX_UNITS:
                    reject(line, "units", f"{units} cases is out of range in units")
                    continue
            elif unit not in ("", "EA", "UN"):
                reject(
                    line, "uom", f"{uom!r} is not a unit read here: EA or UN (units), CA (cases)"
                )
                continue
        if count < 0:  # type: ignore[operator]
            reject(line, "units", f"{units!r} is negative: a forecast is a quantity to sell")
            continue
        yield (f"{distributor}:{loc}:{sku}:{iso}", distributor, loc, sku, stored, count, iso,
               line)  # fmt: skip
    report(n)


def validator(kind: str) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The row judge of a data kind: :func:`pos_rows`, :func:`inventory_rows` or
    :func:`forecast_rows`."""
    return {"pos": pos_rows, "inventory": inventory_rows, "forecasts": forecast_rows}[kind]
