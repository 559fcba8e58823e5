"""A pair's plan side by side: per SKU x ISO week, the distributor's forecast (summed over
its locations), the supplier's commitment and the units sold (the weekly POS rollups),
each as the signed-in user may read it. Weeks inside a SKU's lead time are frozen
(:func:`domain.forecasts.frozen_reason`); a commitment further from the forecast than
the pair's tolerance is flagged; past weeks give each plan's accuracy (WAPE and bias,
:func:`domain.commitments.accuracy`) per SKU and for the pair.

A supplier reads the forecast and sales only as its agreements share them: a week with
nothing readable shows no figure (``None``), never a 0.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain import commitments as rules
from domain.forecasts import HORIZONS, first_open_week
from domain.replenishment import Policy
from portal.data.access import DataAccess, as_int
from portal.data.scope import Pair

#: The weeks the page shows: this many before the current ISO week (for accuracy) ...
WEEKS_BACK = 8
#: ... and this many from it on (the current one included).
WEEKS_AHEAD = 13
PAGE = 100_000  # rollup rows a read asks for at once
SKU_FIELDS = ("id", "gtin", "description", "lead_time_days", "case_pack")


@dataclass(frozen=True)
class Cell:
    week: dt.date
    forecast: int | None
    commitment: int | None
    note: str | None
    sold: int | None
    frozen: bool
    gap: Decimal | None  # the commitment's distance from the forecast, % of the forecast
    over: bool  # beyond the pair's tolerance
    #: horizon -> the forecast and the commitment as they stood that many weeks ahead
    forecast_at: dict[int, int | None]
    commitment_at: dict[int, int | None]


@dataclass(frozen=True)
class ByHorizon:
    """Each plan's accuracy as it stood ``weeks`` ahead of the weeks it planned."""

    weeks: int
    forecast: rules.Accuracy
    commitment: rules.Accuracy


@dataclass(frozen=True)
class Line:
    sku: dict[str, Any]
    opens: dt.date  # the SKU's first open week
    cells: tuple[Cell, ...]
    forecast_accuracy: rules.Accuracy
    commitment_accuracy: rules.Accuracy
    by_horizon: tuple[ByHorizon, ...]


@dataclass(frozen=True)
class Comparison:
    pair: Pair
    policy: Policy
    today: dt.date
    weeks: tuple[dt.date, ...]
    lines: tuple[Line, ...]
    forecast_accuracy: rules.Accuracy
    commitment_accuracy: rules.Accuracy
    by_horizon: tuple[ByHorizon, ...]


def window(today: dt.date) -> tuple[dt.date, ...]:
    """The Mondays the page shows, oldest first."""
    monday = today - dt.timedelta(days=today.weekday())
    return tuple(monday + dt.timedelta(weeks=k) for k in range(-WEEKS_BACK, WEEKS_AHEAD))


def pair_skus(acc: DataAccess, pair: Pair) -> dict[int, dict[str, Any]]:
    """The pair's supplier's active SKUs, by id."""
    where = {"_and": [{"supplier": {"_eq": pair.supplier}}, {"status": {"_eq": "active"}}]}
    return {int(s["id"]): s for s in acc.rows("skus", where, fields=SKU_FIELDS, sort=("gtin",))}


def comparison(acc: DataAccess, pair_id: int, today: dt.date) -> Comparison:
    """The comparison of one of the user's pairs, as of ``today``."""
    pair = acc.pair(pair_id)
    (row,) = acc.rows("partnerships", {"id": {"_eq": pair.id}}, fields=("id", "planning_settings"))
    policy = Policy.from_settings(row.get("planning_settings"))
    weeks = window(today)
    skus = pair_skus(acc, pair)
    first, last = weeks[0], weeks[-1]
    forecast = _forecast(acc, pair, list(skus), first, last)
    committed = _committed(acc, pair, first, last)
    sold = _sold(acc, pair, first, last + dt.timedelta(days=6))
    current = weeks[WEEKS_BACK]
    lines = []
    pair_past: list[Cell] = []
    for sku_id, sku in skus.items():
        opens = first_open_week(today, int(sku["lead_time_days"]))
        cells = []
        for week in weeks:
            f, f_at = forecast.get((sku_id, week), (None, {}))
            c, note, c_at = committed.get((sku_id, week), (None, None, {}))
            gap = rules.gap_pct(f, c)
            over = rules.over_tolerance(gap, policy.tolerance_pct)
            sold_units = sold.get((sku_id, week))
            cells.append(Cell(week, f, c, note, sold_units, week < opens, gap, over, f_at, c_at))
        if not any(x.forecast is not None or x.commitment is not None or x.sold for x in cells):
            continue
        past = [x for x in cells if x.week < current]
        pair_past += past
        lines.append(
            Line(
                sku,
                opens,
                tuple(cells),
                rules.accuracy(_against_sales(past, "forecast")),
                rules.accuracy(_against_sales(past, "commitment")),
                _by_horizon(past),
            )
        )
    return Comparison(
        pair,
        policy,
        today,
        weeks,
        tuple(lines),
        rules.accuracy(_against_sales(pair_past, "forecast")),
        rules.accuracy(_against_sales(pair_past, "commitment")),
        _by_horizon(pair_past),
    )


def _by_horizon(past: list[Cell]) -> tuple[ByHorizon, ...]:
    return tuple(
        ByHorizon(
            h,
            rules.accuracy(_against_sales(past, "forecast_at", h)),
            rules.accuracy(_against_sales(past, "commitment_at", h)),
        )
        for h in HORIZONS
    )


def _against_sales(cells: list[Cell], plan: str, horizon: int = 0) -> list[tuple[int, int]]:
    """(planned, sold) of the weeks with both: the forecast's or the commitment's (as it
    stood ``horizon`` weeks ahead, if given)."""
    out = []
    for cell in cells:
        planned = getattr(cell, plan)
        if horizon:
            planned = planned.get(horizon)
        if planned is not None and cell.sold is not None:
            out.append((int(planned), cell.sold))
    return out


def _forecast(
    acc: DataAccess, pair: Pair, skus: list[int], first: dt.date, last: dt.date
) -> dict[tuple[int, dt.date], tuple[int, dict[int, int | None]]]:
    """The distributor's forecast units per (SKU, week), over the locations the user
    reads, and as they stood each horizon ahead."""
    if not skus:
        return {}
    where = {"_and": [
        {"distributor": {"_eq": pair.distributor}},
        {"sku": {"_in": skus}},
        {"week_start": {"_between": [first.isoformat(), last.isoformat()]}},
    ]}  # fmt: skip
    kept = [f"forecast_h{h}" for h in HORIZONS]
    out: dict[tuple[int, dt.date], tuple[int, dict[int, int | None]]] = {}
    for group in acc.sums("forecasts", ["forecast_units", *kept], ["sku", "week_start"], where):
        week = dt.date.fromisoformat(str(group["week_start"])[:10])
        at = {h: group[f"forecast_h{h}"] for h in HORIZONS}
        out[(int(group["sku"]), week)] = (int(group["forecast_units"] or 0), at)
    return out


def _committed(
    acc: DataAccess, pair: Pair, first: dt.date, last: dt.date
) -> dict[tuple[int, dt.date], tuple[int, str | None, dict[int, int | None]]]:
    where = {"_and": [
        {"partnership": {"_eq": pair.id}},
        {"week_start": {"_between": [first.isoformat(), last.isoformat()]}},
    ]}  # fmt: skip
    kept = [f"units_h{h}" for h in HORIZONS]
    out = {}
    for r in acc.rows("commitments", where, fields=("id", "sku", "week_start", "units", "note",
                                                      *kept)):  # fmt: skip
        at = {h: None if r[f"units_h{h}"] is None else as_int(r[f"units_h{h}"], "units")
              for h in HORIZONS}  # fmt: skip
        week = dt.date.fromisoformat(str(r["week_start"])[:10])
        out[(int(r["sku"]), week)] = (as_int(r["units"], "units"), r.get("note"), at)
    return out


def _sold(
    acc: DataAccess, pair: Pair, first: dt.date, last: dt.date
) -> dict[tuple[int, dt.date], int]:
    """Units sold per (SKU, week) at the distributor, of the supplier's SKUs."""
    out: dict[tuple[int, dt.date], int] = defaultdict(int)
    page = 1
    while True:
        query = {"distributor": pair.distributor, "supplier": pair.supplier, "from": first,
                 "to": last, "page": page, "per_page": PAGE}  # fmt: skip
        got = acc.summary("pos-sales", ["week", "sku"], query)
        for r in got.rows:
            out[(int(r["sku"]), dt.date.fromisoformat(r["week_start"]))] += int(r["units"])
        if page * PAGE >= got.total or not got.rows:
            return dict(out)
        page += 1
