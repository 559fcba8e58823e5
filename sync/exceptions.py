"""The ``exceptions.evaluate`` job: every pair's active CPFR criteria, evaluated on what
the pair shares, into exceptions (the rules are :mod:`domain.exceptions`).

**What a pair is evaluated on** is what both its sides may read: its own records (its
commitments and purchase orders) and, of the distributor's data, only what the
distributor's agreements share with the pair's supplier (forecasts, store stock, weekly
POS; the filters are :func:`domain.sharing.row_scope`'s, as the supplier's own policy
is). An exception never tells the supplier a figure it could not read.

**Incrementally.** A criterion on data (forecast vs commitment, in-stock, weeks of
supply, store out of stock) is evaluated again only when its pair's data changed since
the last evaluation: the distributor's feeds, the pair's commitments or criteria, or the
day (open weeks and snapshots move with it). The pair's note ``exceptions_checked``
keeps that digest. A criterion on the clock (an order waiting for its answer) is
evaluated every run, on the pair's open orders only.

Each evaluated criterion's conditions are reconciled with its exceptions
(:func:`domain.exceptions.reconcile`): new ones open (owner side, due time, value and
figures, an ``opened`` event), persisting ones are updated, gone ones are noted cleared
and come back as ``recurred``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from directus import HubClient, HubError
from domain import clock
from domain import exceptions as ex
from domain.forecasts import first_open_week
from domain.sharing import Agreement, row_scope
from sync.runs import JobContext, iso
from sync.scorecards import read_agreements

EXCEPTIONS_JOB = "exceptions.evaluate"
#: The criteria evaluated on the clock, every run.
ON_THE_CLOCK = frozenset({"po_unacknowledged_hours"})
#: Open weeks a forecast vs commitment criterion looks at, from the current one.
PLAN_WEEKS = 13
#: How far back the store-out-of-stock criterion follows a store's empty snapshots.
OUT_OF_STOCK_LOOKBACK_DAYS = 90
CRITERION_FIELDS = ["id", "partnership", "name", "metric", "comparison", "threshold", "upper",
                    "scope", "owner_side", "response_hours", "active", "date_updated"]  # fmt: skip


def evaluate_exceptions(ctx: JobContext) -> None:
    hub, now = ctx.hub, clock.now()
    rows = hub.read_items(
        "exception_criteria", filter={"active": {"_eq": True}}, fields=CRITERION_FIELDS, limit=-1
    )
    by_pair: dict[int, list[ex.Criterion]] = defaultdict(list)
    for row in rows:
        by_pair[int(row["partnership"])].append(ex.Criterion.from_row(row))
    if not by_pair:
        return
    pairs = hub.read_items(
        "partnerships",
        filter={"_and": [{"id": {"_in": sorted(by_pair)}}, {"status": {"_eq": "active"}}]},
        fields=["id", "supplier", "distributor", "exceptions_checked", "escalation"],
        limit=-1,
    )
    agreements = read_agreements(hub, now.date())
    for pair in pairs:
        try:
            evaluate_pair(ctx, pair, by_pair[int(pair["id"])], rows, agreements, now)
        except (ArithmeticError, LookupError, TypeError, ValueError, HubError) as exc:
            ctx.item_failed(f"pair {pair['id']}", exc)  # one pair's bad data fails that pair
    for pair in pairs:  # on the clock: what is past due climbs the pair's levels
        try:
            ctx.counts["exceptions_escalated"] += escalate(hub, pair, now)
        except (LookupError, TypeError, ValueError, HubError) as exc:
            ctx.item_failed(f"pair {pair['id']} escalation", exc)


def evaluate_pair(
    ctx: JobContext,
    pair: Mapping[str, Any],
    criteria: Sequence[ex.Criterion],
    criteria_rows: Sequence[Mapping[str, Any]],
    agreements: Sequence[Agreement],
    now: dt.datetime,
) -> None:
    """One pair's criteria: those on data if its data changed, those on the clock."""
    hub = ctx.hub
    digest = inputs_digest(hub, pair, criteria_rows, agreements, now.date())
    changed = (pair.get("exceptions_checked") or {}).get("digest") != digest
    chosen = [c for c in criteria if changed or c.metric in ON_THE_CLOCK]
    if not chosen:
        ctx.counts["pairs_unchanged"] += 1
        return
    figures = read_figures(hub, pair, chosen, agreements, now)
    found = [condition for c in chosen for condition in ex.evaluate(c, figures)]
    known = read_known(hub, int(pair["id"]), {c.id for c in chosen})
    changes = ex.reconcile(known, found)
    opened = apply_changes(hub, int(pair["id"]), {c.id: c for c in criteria}, changes, now)
    notify_opened(hub, pair, {c.id: c for c in criteria}, opened)
    for change in changes:
        ctx.counts[f"exceptions_{change.kind}"] += 1
    ctx.counts["pairs_evaluated"] += 1
    if changed:
        hub.update_item(
            "partnerships",
            pair["id"],
            {"exceptions_checked": {"digest": digest, "at": iso(now)}},
        )


# -- what changed ---------------------------------------------------------------------------


def inputs_digest(
    hub: HubClient, pair: Mapping[str, Any], criteria_rows: Iterable[Mapping[str, Any]],
    agreements: Sequence[Agreement], today: dt.date,
) -> str:  # fmt: skip
    """A digest of what a pair's data criteria read: the distributor's latest deliveries,
    the pair's latest commitment change, its criteria, the agreements in force between
    its sides, and the day."""
    feeds = hub.aggregate(
        "feeds", {"max": ["received_at"]}, group_by=["kind"],
        filter={"distributor": {"_eq": pair["distributor"]}},
    )  # fmt: skip
    commitments = hub.aggregate(
        "commitments", {"max": ["updated_at"], "count": ["id"]},
        filter={"partnership": {"_eq": pair["id"]}},
    )  # fmt: skip
    mine = sorted(
        (str(r["id"]), str(r.get("date_updated"))) for r in criteria_rows
        if int(r["partnership"]) == int(pair["id"])
    )  # fmt: skip
    facts = {
        "feeds": sorted(
            (str(g["kind"]), str((g.get("max") or {}).get("received_at"))) for g in feeds
        ),
        "commitments": [str(g.get("max")) + str(g.get("count")) for g in commitments],
        "criteria": mine,
        "agreements": sorted(
            repr(a)
            for a in agreements
            if (a.grantor, a.grantee) == (int(pair["distributor"]), int(pair["supplier"]))
        ),
        "day": today.isoformat(),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


# -- the figures ------------------------------------------------------------------------------


def _any(clauses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return dict(clauses[0]) if len(clauses) == 1 else {"_or": list(clauses)}


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def _shared(
    agreements: Sequence[Agreement], pair: Mapping[str, Any], kind: str, date_field: str
) -> list[dict[str, Any]]:
    """The row filters of the agreements in force that share ``kind`` with the supplier."""
    return [
        row_scope(a, date_field, live=False)
        for a in agreements
        if (a.grantor, a.grantee) == (int(pair["distributor"]), int(pair["supplier"]))
        and kind in a.kinds
        and a.granularity == "store_day"
    ]


def read_figures(
    hub: HubClient,
    pair: Mapping[str, Any],
    criteria: Sequence[ex.Criterion],
    agreements: Sequence[Agreement],
    now: dt.datetime,
) -> ex.Figures:
    """What the criteria need of one pair, as its supplier may read it."""
    metrics = {c.metric for c in criteria}
    today = now.date()
    plan: dict[tuple[int, dt.date], tuple[int | None, int | None]] = {}
    if "forecast_commitment_gap_pct" in metrics:
        plan = _plan(hub, pair, agreements, today)
    snapshot, on_hand, sold, out_since = None, {}, {}, {}
    if metrics & {"in_stock_pct", "weeks_of_supply", "store_out_of_stock_days"}:
        snapshot, on_hand, sold, out_since = _stock(hub, pair, agreements, today, metrics)
    orders: list[ex.Order] = []
    if "po_unacknowledged_hours" in metrics:
        for row in hub.read_items(
            "purchase_orders",
            filter={"_and": [{"partnership": {"_eq": pair["id"]}}, {"status": {"_eq": "open"}}]},
            fields=["id", "number", "status", "ordered_on", "placed_at"],
            limit=-1,
        ):
            placed = row.get("placed_at")
            at = (
                dt.datetime.fromisoformat(str(placed).replace("Z", "+00:00"))
                if placed
                else dt.datetime.combine(_day(row["ordered_on"]), dt.time(), tzinfo=dt.UTC)
            )
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
            orders.append(ex.Order(int(row["id"]), str(row["number"]), at, str(row["status"])))
    return ex.Figures(now, plan, on_hand, sold, out_since, snapshot, orders)


def _plan(
    hub: HubClient, pair: Mapping[str, Any], agreements: Sequence[Agreement], today: dt.date
) -> dict[tuple[int, dt.date], tuple[int | None, int | None]]:
    """(SKU, open week) -> (forecast summed over the shared locations, commitment)."""
    monday = today - dt.timedelta(days=today.weekday())
    last = monday + dt.timedelta(weeks=PLAN_WEEKS - 1)
    weeks = {"week_start": {"_between": [monday.isoformat(), last.isoformat()]}}
    opens = {
        int(s["id"]): first_open_week(today, int(s["lead_time_days"]))
        for s in hub.read_items(
            "skus", filter={"supplier": {"_eq": pair["supplier"]}},
            fields=["id", "lead_time_days"], limit=-1,
        )
    }  # fmt: skip
    forecast: dict[tuple[int, dt.date], int] = {}
    clauses = _shared(agreements, pair, "forecasts", "week_start")
    if clauses:
        for g in hub.aggregate(
            "forecasts", {"sum": ["forecast_units"]}, group_by=["sku", "week_start"],
            filter={"_and": [_any(clauses), weeks]},
        ):  # fmt: skip
            forecast[(int(g["sku"]), _day(g["week_start"]))] = int(g["sum"]["forecast_units"] or 0)
    committed = {
        (int(r["sku"]), _day(r["week_start"])): int(r["units"])
        for r in hub.read_items(
            "commitments", filter={"_and": [{"partnership": {"_eq": pair["id"]}}, weeks]},
            fields=["sku", "week_start", "units"], limit=-1,
        )
    }  # fmt: skip
    return {
        key: (forecast.get(key), committed.get(key))
        for key in sorted(set(forecast) | set(committed))
        if key[0] in opens and key[1] >= opens[key[0]]
    }


def _stock(
    hub: HubClient,
    pair: Mapping[str, Any],
    agreements: Sequence[Agreement],
    today: dt.date,
    metrics: set[str],
) -> tuple[
    dt.date | None,
    dict[tuple[int, int], int],
    dict[tuple[int, int], int],
    dict[tuple[int, int], dt.date],
]:
    """The latest shared store snapshot on or before today: units on hand per (store,
    SKU), units sold in the 4 weeks before it, and since when each empty one is empty."""
    clauses = _shared(agreements, pair, "inventory", "day")
    if not clauses:
        return None, {}, {}, {}
    stores = {"location": {"kind": {"_eq": "store"}}}
    scoped = {"_and": [_any(clauses), stores, {"day": {"_lte": today.isoformat()}}]}
    days = sorted(
        (_day(g["day"]) for g in hub.aggregate(
            "inventory_positions", {"count": ["id"]}, group_by=["day"],
            filter={"_and": [scoped, {"day": {"_gte": (today - dt.timedelta(
                days=OUT_OF_STOCK_LOOKBACK_DAYS)).isoformat()}}]},
        )),
        reverse=True,
    )  # fmt: skip
    if not days:
        return None, {}, {}, {}
    snapshot = days[0]
    on_hand = {
        (int(r["location"]), int(r["sku"])): int(r["on_hand"])
        for r in hub.read_items(
            "inventory_positions",
            filter={"_and": [scoped, {"day": {"_eq": snapshot.isoformat()}}]},
            fields=["location", "sku", "on_hand"], limit=-1,
        )
    }  # fmt: skip
    sold: dict[tuple[int, int], int] = {}
    pos = _shared(agreements, pair, "pos", "week_start")
    if "weeks_of_supply" in metrics and pos:
        monday = snapshot - dt.timedelta(days=snapshot.weekday())
        first = monday - dt.timedelta(weeks=ex.SUPPLY_WEEKS)
        for g in hub.aggregate(
            "pos_week_location", {"sum": ["units"]}, group_by=["location", "sku"],
            filter={"_and": [_any(pos), {"week_start": {"_gte": first.isoformat()}},
                             {"week_start": {"_lt": monday.isoformat()}}]},
        ):  # fmt: skip
            sold[(int(g["location"]), int(g["sku"]))] = int(g["sum"]["units"] or 0)
    out_since: dict[tuple[int, int], dt.date] = {}
    empty = [key for key, units in on_hand.items() if units == 0]
    if "store_out_of_stock_days" in metrics and empty:
        zeros: dict[tuple[int, int], set[dt.date]] = defaultdict(set)
        for r in hub.read_items(
            "inventory_positions",
            filter={"_and": [scoped, {"on_hand": {"_eq": 0}},
                             {"day": {"_gte": days[-1].isoformat()}},
                             {"location": {"_in": sorted({k[0] for k in empty})}}]},
            fields=["location", "sku", "day"], limit=-1,
        ):  # fmt: skip
            zeros[(int(r["location"]), int(r["sku"]))].add(_day(r["day"]))
        for key in empty:
            since = snapshot
            for day in days:  # newest first: the run of empty snapshots up to the latest
                if day not in zeros[key]:
                    break
                since = day
            out_since[key] = since
    return snapshot, on_hand, sold, out_since


# -- the pair's exceptions ---------------------------------------------------------------------


def read_known(hub: HubClient, pair: int, criteria: set[int]) -> list[ex.Known]:
    rows = hub.read_items(
        "exceptions",
        filter={"_and": [{"partnership": {"_eq": pair}}, {"criterion": {"_in": sorted(criteria)}},
                         {"_or": [{"status": {"_nin": sorted(ex.CLOSED)}},
                                  {"cleared_at": {"_null": True}}]}]},
        fields=["id", "criterion", "subject", "status", "cleared_at"],
        limit=-1,
    )  # fmt: skip
    return [
        ex.Known(int(r["id"]), int(r["criterion"]), str(r["subject"]), str(r["status"]),
                 r.get("cleared_at") is not None)
        for r in rows
    ]  # fmt: skip


def _event(pair: int, kind: str, value: Any = None) -> dict[str, Any]:
    return {"partnership": pair, "kind": kind, "value": None if value is None else str(value)}


def apply_changes(
    hub: HubClient,
    pair: int,
    criteria: Mapping[int, ex.Criterion],
    changes: Sequence[ex.Change],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Open, update, clear and note recurrences in two hub batches (each one transaction).
    Returns the exceptions opened."""
    created, updated = [], []
    for change in changes:
        c = change.condition
        if change.kind == "open" and c is not None:
            criterion = criteria[c.criterion]
            created.append({
                "partnership": pair, "criterion": c.criterion, "subject": c.subject,
                "status": "open", "owner_side": criterion.owner_side, "value": str(c.value),
                "figures": c.figures, "sku": c.sku, "location": c.location,
                "purchase_order": c.purchase_order,
                "week_start": None if c.week is None else c.week.isoformat(),
                "opened_at": iso(now), "due_at": iso(ex.due(now, criterion.response_hours)),
                "last_seen_at": iso(now),
                "events": {"create": [_event(pair, "opened", c.value)], "update": [],
                           "delete": []},
            })  # fmt: skip
        elif change.known is not None:
            row: dict[str, Any] = {"id": change.known.id}
            if change.kind == "cleared":
                row |= {"cleared_at": iso(now),
                        "events": {"create": [_event(pair, "cleared")], "update": [],
                                   "delete": []}}  # fmt: skip
            elif c is not None:
                row |= {"value": str(c.value), "figures": c.figures, "last_seen_at": iso(now)}
                if change.kind == "recurred":
                    row |= {"cleared_at": None,
                            "events": {"create": [_event(pair, "recurred", c.value)],
                                       "update": [], "delete": []}}  # fmt: skip
            updated.append(row)
    if updated:
        hub.patch("/items/exceptions", updated)
    if not created:
        return []
    made = hub.post("/items/exceptions", created, fields="id,criterion,subject,owner_side")
    return list(made) if isinstance(made, list) else [made]


# -- who is told ----------------------------------------------------------------------------


def _levels(pair: Mapping[str, Any]) -> tuple[ex.Level, ...]:
    return ex.escalation_levels(((pair.get("escalation") or {}).get("levels")) or [])


def _notices(
    users: Iterable[str], pair: int, exception: int, kind: str, title: str
) -> list[dict[str, Any]]:
    return [
        {"user": user, "partnership": pair, "exception": exception, "kind": kind,
         "title": title, "body": f"/exceptions/{exception}"}
        for user in sorted(set(users))
    ]  # fmt: skip


def notify_opened(
    hub: HubClient,
    pair: Mapping[str, Any],
    criteria: Mapping[int, ex.Criterion],
    opened: Sequence[Mapping[str, Any]],
) -> None:
    """Tell the first level's contacts on the owning side of each new exception."""
    levels = _levels(pair)
    if not levels or not opened:
        return
    rows = []
    for made in opened:
        criterion = criteria[int(made["criterion"])]
        owners = [c.user for c in levels[0].contacts if c.side == made["owner_side"]]
        title = f"New exception for your side: {criterion.name} ({made['subject']})"
        rows += _notices(owners, int(pair["id"]), int(made["id"]), "opened", title)
    if rows:
        hub.post("/items/notifications", rows)


def escalate(hub: HubClient, pair: Mapping[str, Any], now: dt.datetime) -> int:
    """Move the pair's exceptions past due up its levels, telling each level reached;
    returns how many moved."""
    levels = _levels(pair)
    if not levels:
        return 0
    late = hub.read_items(
        "exceptions",
        filter={"_and": [{"partnership": {"_eq": pair["id"]}},
                         {"status": {"_in": ["open", "acknowledged"]}},
                         {"due_at": {"_lt": iso(now)}}]},
        fields=["id", "due_at", "level", "subject", "criterion.name"],
        limit=-1,
    )  # fmt: skip
    moved, notices = [], []
    for row in late:
        due_at = dt.datetime.fromisoformat(str(row["due_at"]).replace("Z", "+00:00"))
        reached = ex.escalation_level(due_at, now, levels)
        was = int(row.get("level") or 0)
        if reached <= was:
            continue
        moved.append({"id": row["id"], "level": reached, "escalated_at": iso(now),
                      "events": {"create": [_event(int(pair["id"]), "escalated", reached)],
                                 "update": [], "delete": []}})  # fmt: skip
        title = (
            f"Exception escalated to level {reached}: {row['criterion']['name']} ({row['subject']})"
        )
        for level in levels[was:reached]:
            notices += _notices([c.user for c in level.contacts], int(pair["id"]), int(row["id"]),
                                "escalated", title)  # fmt: skip
    if moved:
        hub.patch("/items/exceptions", moved)
    if notices:
        hub.post("/items/notifications", notices)
    return len(moved)
