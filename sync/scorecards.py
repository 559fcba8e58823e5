"""The ``scorecards.compute`` job: every pair's scorecard for every week, month and
quarter of the last five quarters, from the orders, ASNs, receipts, invoices and plan
actions in the hub, and from the POS rollups, store stock and promotions the pair's
distributor shares with the pair's supplier (formulas: ``domain.scorecard``).

Every party to a pair reads its scorecards, so their sell-through, weeks of supply,
in-stock and promotion figures come only from what the agreements in force share with
the supplier (the data the supplier and the pair's managers may read themselves): a
week, store or snapshot not shared is never counted, and a figure that would need one
is not given. A grant or revocation asks for a run at once (``governance.scheduler``).

Each run computes every scorecard in memory (a year of a pair's orders is small) and
writes only those whose figures, or the records behind them, changed since they were
stored (their ``digest``), so a scorecard is recomputed when the data under it changes
and left alone otherwise. A pair with no orders, plan actions or shared POS, stock or
promotions in the window has no scorecards. A changed scorecard's values are replaced
first and its digest written last: a run that dies midway leaves an old digest, and
the next run writes that scorecard again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from directus import HubClient
from directus.client import chunk_by_payload
from domain import clock
from domain import scorecard as sc
from domain.sharing import (
    AGREEMENT_FIELDS,
    Agreement,
    Store,
    row_scope,
    shared_weeks,
    shares_whole,
    weekly_parts,
)
from governance.scheduler import SCORECARDS_JOB
from sync.runs import JobContext, iso, run_job

GRAINS = sc.GRAINS
DEFAULT_QUARTERS = 5
#: Orders placed this long before the first period still count in it (late receipts).
LOOKBACK_DAYS = 180


@dataclass(frozen=True)
class PairFacts:
    orders: tuple[sc.Order, ...] = ()
    shipments: tuple[sc.Shipment, ...] = ()
    actions: tuple[sc.Action, ...] = ()
    retail: sc.Retail = field(default_factory=sc.Retail)
    promotions: tuple[sc.Promotion, ...] = ()
    resolutions: tuple[sc.Resolution, ...] = ()


def compute_now(hub: HubClient) -> str:
    """One run of the job now, recorded as the scheduler records its runs (the demo's seed
    fills its scorecards so). Returns the run's status."""
    return run_job(hub, SCORECARDS_JOB, compute_scorecards, {"quarters": DEFAULT_QUARTERS})


def compute_scorecards(ctx: JobContext) -> None:
    """The job: compute every pair's scorecards and store the changed ones."""
    now = clock.now()
    quarters = int(ctx.settings.get("quarters", DEFAULT_QUARTERS))
    only = ctx.settings.get("pairs")  # some pairs only (a run asked for them), else all
    active = {"status": {"_eq": "active"}}
    pairs = ctx.hub.read_items(
        "partnerships",
        fields=["id", "pair", "supplier", "distributor", "scorecard_settings"],
        filter={"_and": [active, {"id": {"_in": list(only)}}]} if only else active,
        limit=-1,
    )
    settings: dict[int, sc.Settings] = {}
    for pair in pairs:
        try:
            settings[int(pair["id"])] = sc.Settings(**(pair.get("scorecard_settings") or {}))
        except (TypeError, ValueError) as exc:
            ctx.item_failed(f"pair {pair['pair']} settings", exc)
    if not settings:
        return
    first = min(
        sc.last_quarters(now.date(), quarters, s.fiscal_start_month)[0].start
        for s in settings.values()
    )
    facts = read_facts(ctx.hub, first - dt.timedelta(days=LOOKBACK_DAYS), set(settings))
    sides = {int(p["id"]): (int(p["supplier"]), int(p["distributor"])) for p in pairs}
    agreements = read_agreements(ctx.hub, now.date())
    failed: set[int] = set()  # their stored cards stay as they are until a run succeeds
    for pair_id in sorted(settings):
        try:
            retail, promotions = read_shared(
                ctx.hub, pair_id, *sides[pair_id], agreements, first, now.date()
            )
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:  # one pair's
            ctx.item_failed(f"pair {pair_id} shared data", exc)
            failed.add(pair_id)
            continue
        if retail.shared or retail.snapshots or promotions:
            base = facts.get(pair_id, PairFacts())
            facts[pair_id] = replace(base, retail=retail, promotions=promotions)
    stored = {
        row["key"]: row
        for row in ctx.hub.iter_by_key(
            "scorecards",
            filter={
                "_and": [
                    {"source": {"_eq": "computed"}},
                    {"partnership": {"_in": sorted(settings)}},
                ]
            },
            fields=["id", "key", "digest"],
        )
    }
    fresh, changed, produced = [], [], set()
    for pair_id, pair_settings in sorted(settings.items()):
        if ctx.stopping:  # nothing written yet: the next run computes it all again
            ctx.counts["stopped"] += 1
            return
        if pair_id in failed:
            produced |= {key for key in stored if key.startswith(f"{pair_id}:")}
            continue
        pair_facts = facts.get(pair_id)
        if pair_facts is None:  # no orders, plan actions or shared data: nothing to score
            ctx.counts["idle_pairs"] += 1
            continue
        try:
            cards = pair_cards(pair_id, pair_facts, pair_settings, now, quarters)
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:  # one pair's
            ctx.item_failed(f"pair {pair_id}", exc)
            produced |= {key for key in stored if key.startswith(f"{pair_id}:")}
            continue
        for card in cards:
            ctx.counts["computed"] += 1
            produced.add(card["key"])
            old = stored.get(card["key"])
            if old is None:
                fresh.append(card)
            elif old.get("digest") != card["digest"]:
                changed.append({**card, "id": old["id"]})
    # Periods past the window, a pair gone idle or a fiscal year moved leave cards no
    # run makes again: they go, so no page shows two cards for one period.
    stale = [row["id"] for key, row in stored.items() if key not in produced]
    if not store(ctx.hub, fresh, changed, stale, lambda: ctx.stopping):
        ctx.counts["stopped"] += 1
        return
    ctx.counts["created"] += len(fresh)
    ctx.counts["updated"] += len(changed)
    ctx.counts["deleted"] += len(stale)
    ctx.counts["unchanged"] += ctx.counts["computed"] - len(fresh) - len(changed)


def pair_cards(
    pair_id: int, facts: PairFacts, settings: sc.Settings, now: dt.datetime, quarters: int
) -> list[dict[str, Any]]:
    """Every scorecard of one pair, as rows to store (values nested)."""
    first = sc.last_quarters(now.date(), quarters, settings.fiscal_start_month)[0].start
    cards = []
    for grain in GRAINS:
        for period in sc.periods_between(first, now.date(), grain, settings.fiscal_start_month):
            measures = sc.scorecard(
                facts.orders,
                facts.shipments,
                facts.actions,
                period,
                now,
                settings,
                facts.retail,
                facts.promotions,
                facts.resolutions,
            )
            cards.append(
                {
                    "key": f"{pair_id}:{grain}:{period.start.isoformat()}",
                    "partnership": pair_id,
                    "source": "computed",
                    "grain": grain,
                    "period_start": period.start.isoformat(),
                    "period_end": period.end.isoformat(),
                    "label": period.label,
                    "computed_at": iso(now),
                    "digest": sc.digest(measures),
                    "values": [value_row(pair_id, m) for m in measures],
                }
            )
    return cards


def value_row(pair_id: int, m: sc.Measure) -> dict[str, Any]:
    return {
        "partnership": pair_id,
        "kpi": m.kpi,
        "variant": m.variant,
        "value": None if m.value is None else format(m.value, "f"),
        "numerator": _text(m.numerator),
        "denominator": _text(m.denominator),
        "unit": m.unit,
        "collection": m.collection,
        "basis": list(m.basis),
        "misses": list(m.misses),
    }


def _text(value: Decimal) -> str:
    """An exact decimal as plain text; a quotient that does not end is cut at 6 places."""
    if value == value.to_integral_value():
        return str(int(value))
    if int(value.as_tuple().exponent) < -6:
        value = value.quantize(Decimal("0.000001"))
    return format(value, "f")


def store(
    hub: HubClient,
    fresh: Sequence[dict[str, Any]],
    changed: Sequence[dict[str, Any]],
    stale: Sequence[int] = (),
    stopping: Callable[[], bool] = lambda: False,
) -> bool:
    """Write the run's cards so that a run killed at any point is finished by the next.

    A changed card's digest is cleared first, so until its new values and digest are
    written the next run sees it as changed; a new card is created with no digest, its
    values next, its digest last. Values go in batches of their own (a quarter's card
    can carry thousands of ids). Stale cards go with their values. When ``stopping``
    says so between batches, it stops there and answers False (the next run finishes).
    """
    if changed:
        _patch(hub, [{"id": card["id"], "digest": None} for card in changed])
    _delete_values(hub, [card["id"] for card in changed] + list(stale))
    for start in range(0, len(stale), 500):
        hub.delete_items("scorecards", list(stale[start : start + 500]))
    heads = [{k: v for k, v in card.items() if k not in ("values", "digest")} for card in fresh]
    hub.create_items("scorecards", heads)
    ids = {card["key"]: card["id"] for card in changed}
    keys = [card["key"] for card in fresh]
    for start in range(0, len(keys), 200):
        for row in hub.read_items(
            "scorecards",
            filter={
                "_and": [
                    {"source": {"_eq": "computed"}},
                    {"key": {"_in": keys[start : start + 200]}},
                ]
            },
            fields=["id", "key"],
            limit=-1,
        ):
            ids[row["key"]] = row["id"]
    written = [*fresh, *changed]
    values = (
        {**value, "scorecard": ids[card["key"]]} for card in written for value in card["values"]
    )
    for chunk in chunk_by_payload(values, hub.max_payload_bytes):
        if stopping():
            return False
        hub.request("POST", "/items/scorecard_values", json=chunk)
    _patch(
        hub,
        [
            {
                "id": ids[card["key"]],
                "digest": card["digest"],
                "computed_at": card["computed_at"],
                "label": card["label"],
                "period_end": card["period_end"],
            }
            for card in written
        ],
    )
    return True


def _patch(hub: HubClient, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in chunk_by_payload(rows, hub.max_payload_bytes):
        hub.request("PATCH", "/items/scorecards", json=chunk)


def _delete_values(hub: HubClient, cards: Sequence[int]) -> None:
    for start in range(0, len(cards), 200):
        old = hub.read_items(
            "scorecard_values",
            filter={"scorecard": {"_in": list(cards[start : start + 200])}},
            fields=["id"],
            limit=-1,
        )
        keys = [row["id"] for row in old]
        for at in range(0, len(keys), 500):
            hub.delete_items("scorecard_values", keys[at : at + 500])


# -- reading the facts ------------------------------------------------------------------


def read_agreements(hub: HubClient, today: dt.date) -> list[Agreement]:
    """Every sharing agreement in force today."""
    rows = hub.read_items(
        "share_agreements",
        filter={"status": {"_eq": "active"}},
        fields=AGREEMENT_FIELDS,
        limit=-1,
    )
    return [a for a in map(Agreement.from_row, rows) if a.in_force(today)]


def _any(clauses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return dict(clauses[0]) if len(clauses) == 1 else {"_or": list(clauses)}


def _units(value: Any) -> int:
    return int(Decimal(str(value or 0)))


def read_shared(
    hub: HubClient,
    pair_id: int,
    supplier: int,
    distributor: int,
    agreements: Sequence[Agreement],
    first: dt.date,
    today: dt.date,
) -> tuple[sc.Retail, tuple[sc.Promotion, ...]]:
    """What the distributor shares with the supplier, from the first period on: weekly
    units (from the weekly rollups), store stock by snapshot day, and the pair's
    promotions with their SKU-stores' weekly units where every week and store of them
    is shared. Weeks count once they have ended."""
    between = [a for a in agreements if (a.grantor, a.grantee) == (distributor, supplier)]
    if not between:
        return sc.Retail(), ()
    first -= dt.timedelta(days=first.weekday())  # the first week's Monday
    start = first - dt.timedelta(days=7 * sc.WOS_LOOKBACK_WEEKS)
    mondays = []
    monday = start
    while monday + dt.timedelta(days=6) < today:
        mondays.append(monday)
        monday += dt.timedelta(days=7)
    weekly: dict[dt.date, int] = defaultdict(int)
    whole, scoped = weekly_parts(between, by_location=False)
    ended = [{"week_start": {"_gte": start.isoformat()}}, {"week_end": {"_lt": today.isoformat()}}]
    for collection, clauses in (("pos_week_distributor", whole), ("pos_week_location", scoped)):
        if not clauses:
            continue
        for group in hub.aggregate(
            collection,
            {"sum": ["units"]},
            group_by=["week_start"],
            filter={"_and": [_any(clauses), *ended]},
        ):
            weekly[dt.date.fromisoformat(str(group["week_start"])[:10])] += _units(
                group["sum"]["units"]
            )
    retail = sc.Retail(
        dict(weekly),
        shared_weeks(between, distributor, mondays),
        _snapshots(hub, between, first, today),
    )
    return retail, _promotions(hub, pair_id, supplier, distributor, between, first, today)


def _snapshots(
    hub: HubClient, between: Sequence[Agreement], first: dt.date, today: dt.date
) -> dict[dt.date, sc.Snapshot]:
    """Store stock of the supplier's SKUs per snapshot day, as the agreements share it."""
    clauses = [
        row_scope(a, "day", live=False)
        for a in between
        if "inventory" in a.kinds and a.granularity == "store_day"
    ]
    if not clauses:
        return {}
    where = {
        "_and": [
            _any(clauses),
            {"day": {"_gte": first.isoformat()}},
            {"day": {"_lte": today.isoformat()}},
            {"location": {"kind": {"_eq": "store"}}},
        ]
    }
    totals = hub.aggregate(
        "inventory_positions", {"sum": ["on_hand"], "count": ["id"]}, group_by=["day"], filter=where
    )
    stocked = {
        str(g["day"])[:10]: _units(g["count"]["id"])
        for g in hub.aggregate(
            "inventory_positions",
            {"count": ["id"]},
            group_by=["day"],
            filter={"_and": [where, {"on_hand": {"_gt": 0}}]},
        )
    }
    return {
        dt.date.fromisoformat(str(g["day"])[:10]): sc.Snapshot(
            _units(g["sum"]["on_hand"]),
            _units(g["count"]["id"]),
            stocked.get(str(g["day"])[:10], 0),
        )
        for g in totals
    }


def _promotions(
    hub: HubClient,
    pair_id: int,
    supplier: int,
    distributor: int,
    between: Sequence[Agreement],
    first: dt.date,
    today: dt.date,
) -> tuple[sc.Promotion, ...]:
    """The pair's promotions that ran, ending from the first period on and before
    today; each with its SKU-stores' weekly units if they are shared whole."""
    rows = hub.read_items(
        "promotions",
        filter={
            "_and": [
                {"partnership": {"_eq": pair_id}},
                {"status": {"_in": list(sc.PROMOTIONS_RAN)}},
                {"end_date": {"_gte": first.isoformat()}},
                {"end_date": {"_lt": today.isoformat()}},
            ]
        },
        fields=["id", "start_date", "end_date", "expected_uplift_pct"],
        limit=-1,
    )
    if not rows:
        return ()
    ids = [int(r["id"]) for r in rows]
    skus: dict[int, list[int]] = defaultdict(list)
    for r in hub.read_items(
        "promotion_skus", filter={"promotion": {"_in": ids}}, fields=["promotion", "sku"], limit=-1
    ):
        skus[int(r["promotion"])].append(int(r["sku"]))
    stores: dict[int, list[int]] = defaultdict(list)
    for r in hub.read_items(
        "promotion_locations",
        filter={"promotion": {"_in": ids}},
        fields=["promotion", "location"],
        limit=-1,
    ):
        stores[int(r["promotion"])].append(int(r["location"]))
    places = sorted({x for at in stores.values() for x in at})
    regions = {
        int(r["id"]): r.get("region")
        for r in (
            hub.read_items(
                "locations",
                filter={"_and": [{"id": {"_in": places}}, {"distributor": {"_eq": distributor}}]},
                fields=["id", "region"],
                limit=-1,
            )
            if places
            else []
        )
    }
    out = []
    for row in rows:
        key = int(row["id"])
        start = dt.date.fromisoformat(str(row["start_date"])[:10])
        end = dt.date.fromisoformat(str(row["end_date"])[:10])
        during, baseline = sc.promotion_weeks(start, end)
        at = [Store(x, regions[x]) for x in sorted(stores.get(key, [])) if x in regions]
        whole = (
            during[-1] + dt.timedelta(days=6) < today
            and len(at) == len(stores.get(key, []))
            and shares_whole(between, distributor, [*baseline, *during], at)
        )
        planned = row.get("expected_uplift_pct")
        weekly = None
        if whole:
            weekly = _promotion_weeks(
                hub, supplier, distributor, skus.get(key, []), at, baseline[0], during[-1]
            )
        out.append(sc.Promotion(key, start, end, None if planned is None else int(planned), weekly))
    return tuple(out)


def _promotion_weeks(
    hub: HubClient,
    supplier: int,
    distributor: int,
    skus: Sequence[int],
    stores: Sequence[Store],
    first: dt.date,
    last: dt.date,
) -> dict[dt.date, int]:
    """Weekly units of a promotion's SKUs at its stores (every store if none)."""
    if not skus:
        return {}
    rules: list[dict[str, Any]] = [
        {"distributor": {"_eq": distributor}},
        {"sku": {"_in": sorted(skus)}},
        {"sku": {"supplier": {"_eq": supplier}}},
        {"week_start": {"_gte": first.isoformat()}},
        {"week_start": {"_lte": last.isoformat()}},
    ]
    if stores:
        rules.append({"location": {"_in": [s.id for s in stores]}})
    groups = hub.aggregate(
        "pos_week_location" if stores else "pos_week_distributor",
        {"sum": ["units"]},
        group_by=["week_start"],
        filter={"_and": rules},
    )
    return {
        dt.date.fromisoformat(str(g["week_start"])[:10]): _units(g["sum"]["units"]) for g in groups
    }


def read_facts(hub: HubClient, since: dt.date, pairs: set[int]) -> dict[int, PairFacts]:
    """Each pair's orders placed since ``since`` (with their lines, receipts and
    invoiced quantities), their shipments, the pair's plan actions, and its CPFR
    exceptions closed since then."""
    placed = {"ordered_on": {"_gte": since.isoformat()}}
    in_pairs = {"partnership": {"_in": sorted(pairs)}}
    orders = list(
        hub.iter_by_key(
            "purchase_orders",
            filter={"_and": [in_pairs, placed]},
            fields=[
                "id",
                "partnership",
                "status",
                "ordered_on",
                "requested_date",
                "promised_date",
                "original_promised_date",
                "placed_at",
                "acknowledged_at",
            ],
        )
    )
    of_orders = {"purchase_order": placed}
    lines = list(
        hub.iter_by_key(
            "po_lines",
            filter={"_and": [in_pairs, of_orders]},
            fields=["id", "purchase_order", "sku", "qty_ordered", "qty_promised", "answer"],
        )
    )
    shipments = list(
        hub.iter_by_key(
            "shipments",
            filter={"_and": [in_pairs, of_orders]},
            fields=["id", "purchase_order", "ship_date", "received_date", "recorded_at"],
        )
    )
    shipment_lines = list(
        hub.iter_by_key(
            "shipment_lines",
            filter={"_and": [in_pairs, {"shipment": of_orders}]},
            fields=["id", "shipment", "po_line", "qty_shipped", "qty_received"],
        )
    )
    invoiced = _sum_by(
        hub.iter_by_key(
            "invoice_lines",
            filter={"_and": [in_pairs, {"po_line": of_orders}]},
            fields=["id", "po_line", "qty"],
        ),
        "po_line",
        "qty",
    )
    skus = {int(line["sku"]) for line in lines}
    case_pack = {
        int(row["id"]): int(row["case_pack"] or 1)
        for start in range(0, len(skus), 500)
        for row in hub.read_items(
            "skus",
            filter={"id": {"_in": sorted(skus)[start : start + 500]}},
            fields=["id", "case_pack"],
            limit=-1,
        )
    }
    actions = list(
        hub.iter_by_key(
            "plan_actions",
            filter=in_pairs,
            fields=["id", "partnership", "status", "due_date", "completed_on"],
        )
    )
    facts = assemble(orders, lines, shipments, shipment_lines, invoiced, case_pack, actions)
    closed: dict[int, list[sc.Resolution]] = defaultdict(list)
    for row in hub.iter_by_key(
        "exceptions",
        filter={"_and": [in_pairs, {"closed_at": {"_gte": since.isoformat()}}]},
        fields=["id", "partnership", "status", "closed_at", "hours_to_close"],
    ):
        hours = row.get("hours_to_close")
        closed[int(row["partnership"])].append(sc.Resolution(
            int(row["id"]), str(row["status"]), _instant(row.get("closed_at")),
            None if hours in (None, "") else Decimal(str(hours)),
        ))  # fmt: skip
    for pair, resolutions in closed.items():
        base = facts.get(pair, PairFacts())
        facts[pair] = replace(base, resolutions=tuple(resolutions))
    return facts


def _sum_by(rows: Iterable[Mapping[str, Any]], key: str, value: str) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for row in rows:
        if row.get(key) is not None:
            out[int(row[key])] += int(row[value])
    return dict(out)


def assemble(
    orders: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    shipments: Sequence[Mapping[str, Any]],
    shipment_lines: Sequence[Mapping[str, Any]],
    invoiced: Mapping[int, int],
    case_pack: Mapping[int, int],
    actions: Sequence[Mapping[str, Any]],
) -> dict[int, PairFacts]:
    """The hub's rows as the scorecard's facts, per pair."""
    shipment_of = {int(s["id"]): s for s in shipments}
    receipts: dict[int, list[sc.Receipt]] = defaultdict(list)
    asn_lines: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for row in shipment_lines:
        shipment = shipment_of.get(int(row["shipment"]))
        if shipment is None:
            continue
        received = _day(shipment.get("received_date"))
        qty_received = None if row.get("qty_received") is None else int(row["qty_received"])
        receipts[int(row["po_line"])].append(
            sc.Receipt(
                int(shipment["id"]),
                _day(shipment["ship_date"]) or dt.date.min,
                int(row["qty_shipped"]),
                received,
                qty_received if received is not None else None,
            )
        )
        asn_lines[int(shipment["id"])].append((int(row["qty_shipped"]), qty_received))
    by_order: dict[int, list[sc.Line]] = defaultdict(list)
    for row in lines:
        by_order[int(row["purchase_order"])].append(
            sc.Line(
                int(row["id"]),
                int(row["qty_ordered"]),
                None if row.get("qty_promised") is None else int(row["qty_promised"]),
                row.get("answer") == "rejected",
                case_pack.get(int(row["sku"]), 1),
                tuple(receipts.get(int(row["id"]), ())),
                invoiced.get(int(row["id"])),
            )
        )
    pair_of: dict[int, int] = {}
    per_pair: dict[int, tuple[list[sc.Order], list[sc.Shipment], list[sc.Action]]] = defaultdict(
        lambda: ([], [], [])
    )
    for row in orders:
        pair = int(row["partnership"])
        pair_of[int(row["id"])] = pair
        per_pair[pair][0].append(
            sc.Order(
                int(row["id"]),
                str(row["status"]),
                _day(row["ordered_on"]) or dt.date.min,
                _day(row["requested_date"]) or dt.date.min,
                _day(row.get("promised_date")),
                _instant(row.get("placed_at")),
                _instant(row.get("acknowledged_at")),
                tuple(sorted(by_order.get(int(row["id"]), ()), key=lambda line: line.id)),
                _day(row.get("original_promised_date")),
            )
        )
    for row in shipments:
        pair = pair_of.get(int(row["purchase_order"]))
        if pair is not None:
            per_pair[pair][1].append(
                sc.Shipment(
                    int(row["id"]),
                    _day(row["ship_date"]) or dt.date.min,
                    _instant(row.get("recorded_at")),
                    _day(row.get("received_date")),
                    tuple(asn_lines.get(int(row["id"]), ())),
                )
            )
    for row in actions:
        per_pair[int(row["partnership"])][2].append(
            sc.Action(
                int(row["id"]),
                str(row["status"]),
                _day(row.get("due_date")),
                _day(row.get("completed_on")),
            )
        )
    return {pair: PairFacts(tuple(o), tuple(s), tuple(a)) for pair, (o, s, a) in per_pair.items()}


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _instant(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
