"""A distributor's suggested orders from one supplier: for each of its locations x each of
the supplier's SKUs, the base-stock suggestion of :mod:`domain.replenishment`, from its
own POS (the weekly rollups), its latest stock snapshot, the pair's measured lead time
and the pair's policy, every input kept beside the number it gives.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from domain import replenishment as rp
from portal.data.access import DataAccess, as_int
from portal.data.scope import Pair

PAGE = 100_000  # rollup rows a read asks for at once
SKU_FIELDS = ("id", "gtin", "description", "case_pack", "cost_minor", "currency",
              "lead_time_days")  # fmt: skip


@dataclass(frozen=True)
class LeadTime:
    """The lead time the suggestions use, in weeks, and where it comes from."""

    weeks: Decimal
    sigma_weeks: Decimal
    source: str


@dataclass(frozen=True)
class Line:
    location: dict[str, Any]
    sku: dict[str, Any]
    lead_time: LeadTime
    inputs: rp.Inputs
    suggestion: rp.Suggestion
    placed: int = 0  # of inputs.on_order: ordered here since the snapshot, not yet in one


@dataclass(frozen=True)
class Plan:
    pair: Pair
    policy: rp.Policy
    first: dt.date  # the demand's first week's Monday
    last: dt.date  # its last week's Sunday
    stock_day: str | None
    measured: LeadTime | None  # the pair's, from its scorecard; else each SKU's catalog
    lines: tuple[Line, ...]

    @property
    def to_order(self) -> dict[int, list[Line]]:
        """The lines with something to order, by location."""
        out: dict[int, list[Line]] = defaultdict(list)
        for line in self.lines:
            if line.suggestion.quantity > 0:
                out[int(line.location["id"])].append(line)
        return dict(out)


def demand_weeks(today: dt.date) -> tuple[dt.date, dt.date]:
    """The demand history: the last whole ISO weeks ended before ``today``."""
    last = today - dt.timedelta(days=today.weekday() + 1)  # last Sunday
    return last - dt.timedelta(days=7 * rp.DEMAND_WEEKS - 1), last


def plan(acc: DataAccess, pair_id: int, today: dt.date) -> Plan:
    """The suggestions for one of the distributor's pairs, as of ``today``."""
    pair = acc.pair(pair_id)
    (row,) = acc.rows("partnerships", {"id": {"_eq": pair.id}}, fields=("id", "planning_settings"))
    policy = rp.Policy.from_settings(row.get("planning_settings"))
    active = {"status": {"_eq": "active"}}  # what the order form takes
    skus = {
        int(s["id"]): s
        for s in acc.rows(
            "skus", {"_and": [{"supplier": {"_eq": pair.supplier}}, active]}, fields=SKU_FIELDS
        )
    }
    places = {
        int(x["id"]): x
        for x in acc.rows(
            "locations",
            {"_and": [{"distributor": {"_eq": pair.distributor}}, active]},
            fields=("id", "name", "code", "kind"),
        )
    }
    first, last = demand_weeks(today)
    mondays = [first + dt.timedelta(days=7 * k) for k in range(rp.DEMAND_WEEKS)]
    sold = _weekly(acc, pair, first, last)
    stock_day, stock = _stock(acc, pair, today)
    placed = _placed_since(acc, pair, stock_day)
    measured = _measured_lead_time(acc, pair.id, today)
    lines = []
    for location, sku in sorted(set(sold) | set(stock) | set(placed)):
        if location not in places or sku not in skus:
            continue
        item = skus[sku]
        lead = measured or LeadTime(
            Decimal(int(item["lead_time_days"])) / 7, Decimal(0), "the SKU's catalog lead time"
        )
        on_hand, in_transit, on_order = stock.get((location, sku), (0, 0, 0))
        since = placed.get((location, sku), 0)
        inputs = rp.Inputs(
            tuple(sold.get((location, sku), {}).get(m, 0) for m in mondays),
            lead.weeks,
            lead.sigma_weeks,
            on_hand,
            in_transit,
            on_order + since,
            case_pack=int(item["case_pack"] or 1),
            service_level=policy.service_level,
            review_weeks=policy.review_weeks,
        )
        lines.append(Line(places[location], item, lead, inputs, rp.suggest(inputs), since))
    lines.sort(key=lambda line: (str(line.location["name"]), str(line.sku["description"])))
    return Plan(pair, policy, first, last, stock_day, measured, tuple(lines))


def lead_days(line: Line) -> int:
    """The lead time in whole days (up), for an order's requested date."""
    return int((line.lead_time.weeks * 7).to_integral_value(rounding=ROUND_CEILING))


def _weekly(
    acc: DataAccess, pair: Pair, first: dt.date, last: dt.date
) -> dict[tuple[int, int], dict[dt.date, int]]:
    """Units sold per (location, SKU) and week, of the supplier's SKUs."""
    out: dict[tuple[int, int], dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    page = 1
    while True:
        query = {"distributor": pair.distributor, "supplier": pair.supplier, "from": first,
                 "to": last, "page": page, "per_page": PAGE}  # fmt: skip
        got = acc.summary("pos-sales", ["week", "location", "sku"], query)
        for r in got.rows:
            week = dt.date.fromisoformat(r["week_start"])
            out[(int(r["location"]), int(r["sku"]))][week] += int(r["units"])
        if page * PAGE >= got.total or not got.rows:
            return out
        page += 1


def _stock(
    acc: DataAccess, pair: Pair, today: dt.date
) -> tuple[str | None, dict[tuple[int, int], tuple[int, int, int]]]:
    """The distributor's latest snapshot on or before today, of the supplier's SKUs:
    (on hand, in transit, on order) per (location, SKU)."""
    own = {"distributor": {"_eq": pair.distributor}}
    theirs = {"sku": {"supplier": {"_eq": pair.supplier}}}
    latest = acc.latest(
        "inventory-positions", "day", "distributor",
        {"_and": [own, theirs, {"day": {"_lte": today.isoformat()}}]},
    )  # fmt: skip
    day = latest.get(pair.distributor)
    if day is None:
        return None, {}
    rows = acc.rows(
        "inventory-positions",
        {"_and": [own, theirs, {"day": {"_eq": day}}]},
        fields=("location", "sku", "on_hand", "in_transit", "on_order"),
    )
    stock = {
        (int(r["location"]), int(r["sku"])): (
            as_int(r["on_hand"], "on_hand"),
            as_int(r.get("in_transit") or 0, "in_transit"),
            as_int(r.get("on_order") or 0, "on_order"),
        )
        for r in rows
    }
    return day, stock


def _placed_since(acc: DataAccess, pair: Pair, stock_day: str | None) -> dict[tuple[int, int], int]:
    """Units on the pair's orders placed here after the snapshot and not yet answered
    with a shipment (open or acknowledged; rejected lines left out), per (ship-to, SKU):
    the snapshot's on-order cannot hold them yet, and the page must not suggest them
    twice."""
    rules: list[dict[str, Any]] = [
        {"partnership": {"_eq": pair.id}},
        {"status": {"_in": ["open", "acknowledged"]}},
    ]
    if stock_day is not None:
        rules.append({"ordered_on": {"_gt": stock_day}})
    orders = {
        int(o["id"]): int(o["ship_to"])
        for o in acc.rows("purchase-orders", {"_and": rules}, fields=("id", "ship_to"))
        if o.get("ship_to") is not None
    }
    out: dict[tuple[int, int], int] = defaultdict(int)
    if not orders:
        return out
    for line in acc.children_of("purchase-orders", "lines", sorted(orders)):
        if line.get("answer") == "rejected":
            continue
        promised = line.get("qty_promised")
        units = as_int(promised if promised is not None else line["qty_ordered"], "qty")
        out[(orders[int(line["purchase_order"])], int(line["sku"]))] += units
    return out


def _measured_lead_time(acc: DataAccess, pair_id: int, today: dt.date) -> LeadTime | None:
    """The pair's lead time, in weeks, from the latest of its last three quarterly
    scorecards (the current quarter's included) that measured one: the mean and
    standard deviation of the days from order to receipt."""
    cards = acc.rows(
        "scorecards",
        {"_and": [{"partnership": {"_eq": pair_id}}, {"source": {"_eq": "computed"}},
                  {"grain": {"_eq": "quarter"}},
                  {"period_start": {"_lte": today.isoformat()}}]},
        fields=("id", "label", "period_start"),
        sort=("-period_start",),
        limit=3,
    )  # fmt: skip
    if not cards:
        return None
    values: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for v in acc.children_of("scorecards", "values", [c["id"] for c in cards]):
        values[int(v["scorecard"])][v["kpi"]] = v
    for card in cards:
        got = values.get(int(card["id"]), {})
        mean, sigma = got.get("lead_time.mean"), got.get("lead_time.sigma")
        if mean and sigma and mean.get("value") is not None and sigma.get("value") is not None:
            return LeadTime(
                Decimal(str(mean["value"])) / 7,
                Decimal(str(sigma["value"])) / 7,
                f"measured over {card['label']}: {mean['value']} days, "
                f"standard deviation {sigma['value']} days ({mean['denominator']} orders)",
            )
    return None
