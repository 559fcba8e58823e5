"""Sell-through and inventory KPIs, as pure functions over exact integers.

The definitions, and the variant each one names, follow ../shared/notes/kpis.md:

- **Sell-through %**: units sold ÷ (units sold + on hand at the end of the range).
- **Weeks of supply, on hand** (Crisp): store on hand ÷ average weekly units sold over a
  lookback the user picks.
- **Weeks of supply, pipeline** (SupplyPike): (store on hand + in transit + DC on hand +
  on order) ÷ average weekly units sold over the last 4 weeks.
- **In-stock %**: store-SKU snapshots with on hand > 0 ÷ all store-SKU snapshots ranged.
- **Banding**: 0 weeks is out of stock, under 4 low, 4-13 healthy, over 13 excess.

Every ratio is a :class:`~decimal.Decimal` (never a float) or ``None`` when its
denominator is zero, which the pages show as "no data" rather than a made-up 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

SELL_THROUGH_VARIANT = "units sold ÷ (units sold + store on hand at the end of the range)"
WOS_ON_HAND_VARIANT = "store on hand ÷ average weekly units sold over the lookback"
WOS_PIPELINE_VARIANT = (
    "(store on hand + in transit + DC on hand + on order) ÷ average weekly units sold "
    "over the last 4 weeks"
)
IN_STOCK_VARIANT = "store-SKU snapshots with on hand > 0 ÷ all store-SKU snapshots in the range"
PIPELINE_WEEKS = 4
LOOKBACKS = (4, 8, 13, 26)
LOW_BELOW = Decimal(4)
EXCESS_ABOVE = Decimal(13)


class Band(StrEnum):
    """Weeks-of-supply bands (kpis.md: 0 out, < 4 low, 4-13 healthy, > 13 excess)."""

    OUT = "out"
    LOW = "low"
    HEALTHY = "healthy"
    EXCESS = "excess"


def ratio(numerator: int, denominator: int, places: int = 4) -> Decimal | None:
    """``numerator ÷ denominator`` rounded half-even to ``places``; None if the
    denominator is zero."""
    if denominator == 0:
        return None
    exact = Decimal(numerator) / Decimal(denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def percent(numerator: int, denominator: int, places: int = 1) -> Decimal | None:
    """A ratio as a percentage, rounded half-even to ``places``."""
    if denominator == 0:
        return None
    exact = Decimal(numerator) * 100 / Decimal(denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def sell_through_pct(units_sold: int, on_hand: int) -> Decimal | None:
    """Units sold ÷ (units sold + on hand), in percent. Returns (negative net sales)
    or negative stock make the measure meaningless: None."""
    if units_sold < 0 or on_hand < 0:
        return None
    return percent(units_sold, units_sold + on_hand)


def average_weekly(weekly_units: Sequence[int]) -> Decimal | None:
    """Average units per week over the given weeks (weeks with no sales count as 0)."""
    if not weekly_units:
        return None
    return Decimal(sum(weekly_units)) / Decimal(len(weekly_units))


def weeks_of_supply(stock: int, weekly_units: Sequence[int]) -> Decimal | None:
    """Stock ÷ average weekly units, to one decimal place.

    No stock is 0 weeks (out). Stock with no demand over the lookback has no finite
    cover: None (the banding calls it excess).
    """
    if stock <= 0:
        return Decimal("0.0")
    average = average_weekly(weekly_units)
    if average is None or average <= 0:
        return None
    return (Decimal(stock) / average).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def band(wos: Decimal | None, stock: int) -> Band:
    """The weeks-of-supply band of a position."""
    if stock <= 0 or (wos is not None and wos == 0):
        return Band.OUT
    if wos is None:
        return Band.EXCESS
    if wos < LOW_BELOW:
        return Band.LOW
    if wos > EXCESS_ABOVE:
        return Band.EXCESS
    return Band.HEALTHY


def pipeline_stock(store_on_hand: int, in_transit: int, dc_on_hand: int, on_order: int) -> int:
    """The pipeline variant's numerator."""
    return store_on_hand + in_transit + dc_on_hand + on_order


def in_stock_pct(in_stock: int, ranged: int) -> Decimal | None:
    """Store-SKU snapshots with stock ÷ all store-SKU snapshots ranged, in percent."""
    return percent(in_stock, ranged)


@dataclass(frozen=True)
class Mover(Generic[K]):
    key: K
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def change_pct(self) -> Decimal | None:
        return percent(self.change, self.previous) if self.previous > 0 else None


@dataclass(frozen=True)
class Movers(Generic[K]):
    """Period on period: the keys that rose most, those that fell most, and those new
    this period (units now, none the period before)."""

    rising: list[Mover[K]]
    falling: list[Mover[K]]
    new: list[Mover[K]]
    compared: int = 0  # how many keys sold in the previous period (rising, falling or flat)


def movers(current: Mapping[K, int], previous: Mapping[K, int], n: int = 5) -> Movers[K]:
    """The ``n`` keys whose units rose most and the ``n`` that fell most, period on
    period, among those that sold in the previous period: from nothing, any sale would
    be the biggest rise, so a key with no units then is new this period instead (the
    ``n`` with most units). Ties break by key so the lists are stable; a key is in at
    most one list."""
    keys = set(current) | set(previous)
    rows = [Mover(k, current.get(k, 0), previous.get(k, 0)) for k in keys]
    new = sorted((m for m in rows if m.previous == 0 and m.current > 0),
                 key=lambda m: (-m.current, str(m.key)))[:n]  # fmt: skip
    compared = sorted((m for m in rows if m.previous > 0), key=lambda m: (-m.change, str(m.key)))
    top = [m for m in compared[:n] if m.change > 0]
    bottom = [m for m in reversed(compared) if m.change < 0 and m not in top][:n]
    return Movers(top, bottom, new, len(compared))


def retail_month(week_start: dt.date) -> str:
    """The month (``YYYY-MM``) a whole ISO week belongs to: the month of its Thursday,
    as the ISO week-year takes the year of it. Months are thus whole weeks, 4 or 5."""
    thursday = week_start + dt.timedelta(days=3 - week_start.weekday())
    return f"{thursday.year:04d}-{thursday.month:02d}"


def previous_range(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The range of the same length just before ``first``..``last``."""
    length = (last - first).days + 1
    return first - dt.timedelta(days=length), first - dt.timedelta(days=1)


def sum_by(rows: Iterable[Mapping[str, int]], key: str, value: str) -> dict[int, int]:
    """Totals of ``value`` per ``key`` over rows."""
    out: dict[int, int] = {}
    for row in rows:
        out[row[key]] = out.get(row[key], 0) + row[value]
    return out
