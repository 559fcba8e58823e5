"""What a pair's review reads: its computed scorecards against its plan's targets, the
records behind a figure, its plan actions and its risk register. Governed reads only:
every row comes through :class:`DataAccess`, in the user's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from directus import HubError
from domain import risks
from domain import scorecard as sc
from domain.attention import fingerprint
from domain.sharing import Store, shares_whole
from portal.data import insights
from portal.data.access import DataAccess
from portal.data.attention import Item
from portal.data.errors import Invalid, NotFound
from portal.data.scope import NOTHING, Filter, Pair

CARD_FIELDS = ["id", "partnership", "grain", "label", "period_start", "period_end", "computed_at"]
VALUE_FIELDS = [
    "id",
    "scorecard",
    "kpi",
    "variant",
    "value",
    "numerator",
    "denominator",
    "unit",
    "collection",
    "basis",
    "misses",
]
OPEN_RISK = ("open", "mitigating")
ACTIONS_DUE_WITHIN = dt.timedelta(days=14)
#: How many periods a scorecard table shows, by grain.
SHOWN = {"week": 13, "month": 13, "quarter": 5}


@dataclass(frozen=True)
class Cell:
    """One KPI figure with its plan target; ``off`` says whether it misses it."""

    kpi: str
    name: str
    value: Decimal | None
    unit: str
    target: Decimal | None = None
    off: bool | None = None
    card: int | None = None


@dataclass(frozen=True)
class PairView:
    id: int
    label: str
    supplier: int
    distributor: int
    settings: sc.Settings
    period: str | None = None
    cells: tuple[Cell, ...] = ()
    overdue_risks: int = 0
    actions_due: int = 0


@dataclass(frozen=True)
class Table:
    """A pair's scorecards of one grain: a row per KPI, a column per period."""

    periods: tuple[dict[str, Any], ...]
    rows: tuple[tuple[str, str, tuple[Cell, ...]], ...]  # kpi, name, a cell per period
    variants: Mapping[str, str] = field(default_factory=dict)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def pair_settings(acc: DataAccess, pair_id: int) -> sc.Settings:
    """The pair's scorecard settings (defaults where it has none, or bad ones)."""
    rows = acc.rows("partnerships", {"id": {"_eq": pair_id}}, limit=1)
    return _settings(rows[0].get("scorecard_settings") if rows else None)


def targets(
    acc: DataAccess, pair_ids: Sequence[int], today: dt.date
) -> dict[int, dict[str, Decimal]]:
    """Each pair's plan targets for ``today``: the year's plan, with its latest quarterly
    revision up to today's quarter laid over it."""
    plans = acc.rows(
        "business-plans",
        {"_and": [{"partnership": {"_in": list(pair_ids)}}, {"year": {"_eq": today.year}}]},
    )
    out: dict[int, dict[str, Decimal]] = {}
    quarter = (today.month - 1) // 3 + 1
    revisions = acc.children_of("business-plans", "revisions", [p["id"] for p in plans])
    for plan in plans:
        merged = dict(plan.get("targets") or {})
        for rev in sorted(revisions, key=lambda r: (int(r["quarter"]), str(r["revised_on"]))):
            if int(rev["plan"]) == int(plan["id"]) and int(rev["quarter"]) <= quarter:
                merged.update(rev.get("targets") or {})
        parsed = {k: _decimal(v) for k, v in merged.items()}
        out[int(plan["partnership"])] = {k: v for k, v in parsed.items() if v is not None}
    return out


def _containing(day: dt.date) -> tuple[Filter, Filter]:
    return {"period_start": {"_lte": day.isoformat()}}, {"period_end": {"_gte": day.isoformat()}}


def _quarter_cards(acc: DataAccess, pair_ids: Sequence[int], *when: Filter) -> list[dict[str, Any]]:
    """The computed quarterly scorecards of these pairs that match ``when``."""
    return acc.rows(
        "scorecards",
        {
            "_and": [
                {"partnership": {"_in": list(pair_ids)}},
                {"source": {"_eq": "computed"}},
                {"grain": {"_eq": "quarter"}},
                *when,
            ]
        },
        fields=CARD_FIELDS,
    )


def _cells(
    values: Sequence[Mapping[str, Any]], kpis: Sequence[str], goals: Mapping[str, Decimal]
) -> tuple[Cell, ...]:
    by_kpi = {v["kpi"]: v for v in values}
    cells = []
    for kpi in kpis:
        row = by_kpi.get(kpi, {})
        value, target = _decimal(row.get("value")), goals.get(kpi)
        cells.append(
            Cell(
                kpi,
                sc.KPI_NAMES.get(kpi, kpi),
                value,
                row.get("unit") or "%",
                target,
                sc.off_target(kpi, value, target),
                row.get("scorecard"),
            )
        )
    return tuple(cells)


def pairs(
    acc: DataAccess, today: dt.date, cache: insights.ReportCache = insights.NO_CACHE
) -> list[PairView]:
    """The user's pairs, each with its quarter-to-date headline KPIs against the plan,
    and how many risk reviews are overdue and plan actions due soon."""
    labels = insights.pair_labels(acc, cache)
    ids = sorted(acc.scope.pairs)
    if not ids:
        return []
    settings = {
        int(p["id"]): _settings(p.get("scorecard_settings"))
        for p in acc.rows("partnerships", {"id": {"_in": ids}})
    }
    cards = _quarter_cards(acc, ids, *_containing(today))
    card_of = {int(c["partnership"]): c for c in cards}
    values = acc.children_of("scorecards", "values", [c["id"] for c in cards])
    by_card: dict[int, list[dict[str, Any]]] = {}
    for v in values:
        by_card.setdefault(int(v["scorecard"]), []).append(v)
    goals = targets(acc, ids, today)
    overdue = _count_by_pair(
        acc.rows(
            "risks",
            {
                "_and": [
                    {"status": {"_in": list(OPEN_RISK)}},
                    {"review_date": {"_lt": today.isoformat()}},
                ]
            },
            fields=["id", "partnership"],
        )
    )
    soon = (today + ACTIONS_DUE_WITHIN).isoformat()
    due = _count_by_pair(
        [
            a
            for a in _actions(acc, ids)
            if a["status"] == "open" and a.get("due_date") and str(a["due_date"])[:10] <= soon
        ]
    )
    out = []
    for pid in ids:
        pair = acc.scope.pairs[pid]
        card = card_of.get(pid)
        pair_set = settings.get(pid, sc.Settings())
        cells = _cells(
            by_card.get(int(card["id"]), []) if card else [],
            sc.headline(pair_set),
            goals.get(pid, {}),
        )
        out.append(
            PairView(
                pid,
                labels.get(pid, str(pid)),
                pair.supplier,
                pair.distributor,
                pair_set,
                card["label"] if card else None,
                cells,
                overdue.get(pid, 0),
                due.get(pid, 0),
            )
        )
    return out


def _actions(acc: DataAccess, pair_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The plan actions of the pairs' plans, every year's."""
    plans = acc.rows("business-plans", {"partnership": {"_in": list(pair_ids)}}, fields=["id"])
    return acc.children_of("business-plans", "actions", [p["id"] for p in plans])


def _settings(raw: Any) -> sc.Settings:
    try:
        return sc.Settings(**(raw or {}))
    except (TypeError, ValueError):
        return sc.Settings()


def _count_by_pair(rows: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for row in rows:
        out[int(row["partnership"])] = out.get(int(row["partnership"]), 0) + 1
    return out


def table(acc: DataAccess, pair_id: int, grain: str, today: dt.date) -> Table:
    """The pair's last scorecards of ``grain`` (oldest first), every KPI against the
    plan's targets."""
    acc.pair(pair_id)
    cards = acc.rows(
        "scorecards",
        {
            "_and": [
                {"partnership": {"_eq": pair_id}},
                {"source": {"_eq": "computed"}},
                {"grain": {"_eq": grain}},
                {"period_start": {"_lte": today.isoformat()}},
            ]
        },
        fields=CARD_FIELDS,
        sort=("-period_start",),
        limit=SHOWN[grain],
    )
    cards.reverse()
    values = acc.children_of("scorecards", "values", [c["id"] for c in cards])
    by_card: dict[int, list[dict[str, Any]]] = {}
    variants: dict[str, str] = {}
    for v in values:
        by_card.setdefault(int(v["scorecard"]), []).append(v)
        variants[v["kpi"]] = v["variant"]
    goals = targets(acc, [pair_id], today).get(pair_id, {})
    kpis = list(sc.KPI_NAMES)
    columns = [_cells(by_card.get(int(c["id"]), []), kpis, goals) for c in cards]
    rows = tuple(
        (kpi, sc.KPI_NAMES[kpi], tuple(col[i] for col in columns)) for i, kpi in enumerate(kpis)
    )
    return Table(tuple(cards), rows, variants)


@dataclass(frozen=True)
class Drill:
    """The records behind one figure: each with whether it missed."""

    card: dict[str, Any]
    value: dict[str, Any]
    name: str
    collection: str
    records: tuple[tuple[dict[str, Any], bool], ...]

    @property
    def weeks(self) -> tuple[dt.date, dt.date] | None:
        """The first and last day of the ISO weeks the period's POS figures count (a
        week is in the period of its Thursday), for the pages that show those rows."""
        card = self.card
        period = sc.Period(
            dt.date.fromisoformat(str(card["period_start"])[:10]),
            dt.date.fromisoformat(str(card["period_end"])[:10]),
            str(card["grain"]),
            str(card["label"]),
        )
        weeks = sc.period_weeks(period)
        return (weeks[0], weeks[-1] + dt.timedelta(days=6)) if weeks else None


#: Units a figure is a length of time in.
TIMES = ("days", "weeks", "hours")
DRILL_FIELDS = {
    "purchase_orders": ["id", "number", "status", "ordered_on", "requested_date", "promised_date"],
    "shipments": ["id", "number", "ship_date", "received_date", "purchase_order"],
    "promotions": ["id", "name", "start_date", "end_date", "expected_uplift_pct", "status"],
    "exceptions": ["id", "subject", "status", "opened_at", "closed_at", "hours_to_close"],
}
DRILL_RESOURCES = {
    "purchase_orders": "purchase-orders",
    "shipments": "shipments",
    "promotions": "promotions",
    "exceptions": "exceptions",
}


def drill(acc: DataAccess, card_id: int, kpi: str) -> Drill:
    """The orders, shipments or plan actions one stored figure counted, read in the
    user's scope (a figure of a pair the user is not party to is not found)."""
    cards = acc.rows(
        "scorecards",
        {"_and": [{"id": {"_eq": card_id}}, {"source": {"_eq": "computed"}}]},
        fields=CARD_FIELDS,
        limit=1,
    )
    if not cards:
        raise NotFound("no such scorecard")
    values = [v for v in acc.children_of("scorecards", "values", [card_id]) if v["kpi"] == kpi]
    if not values:
        raise NotFound(f"the scorecard has no {kpi}")
    value = values[0]
    basis = [int(i) for i in value.get("basis") or []]
    misses = {int(i) for i in value.get("misses") or []}
    collection = value["collection"]
    if not basis:
        rows: list[dict[str, Any]] = []
    elif collection == "plan_actions":
        wanted = set(basis)
        pair = int(cards[0]["partnership"])
        rows = [a for a in _actions(acc, [pair]) if int(a["id"]) in wanted]
    else:  # a quarter's figure can count thousands: read them a slice at a time
        name = DRILL_RESOURCES[collection]
        rows = [
            row
            for start in range(0, len(basis), 200)
            for row in acc.rows(
                name, {"id": {"_in": basis[start : start + 200]}}, fields=DRILL_FIELDS[collection]
            )
        ]
    return Drill(
        cards[0],
        value,
        sc.KPI_NAMES.get(kpi, kpi),
        collection,
        tuple((r, int(r["id"]) in misses) for r in rows),
    )


@dataclass(frozen=True)
class Register:
    """A pair's risks, highest score first, each with its score, band and whether its
    review is overdue; ``heat`` counts the open ones by (likelihood, impact)."""

    rows: tuple[dict[str, Any], ...]
    heat: Mapping[tuple[int, int], int]
    overdue: int


def risk_register(acc: DataAccess, pair_id: int, today: dt.date) -> Register:
    acc.pair(pair_id)
    rows = []
    heat: dict[tuple[int, int], int] = {}
    for row in acc.rows("risks", {"partnership": {"_eq": pair_id}}):
        likelihood, impact = int(row["likelihood"]), int(row["impact"])
        score = risks.score(likelihood, impact)
        review = (
            dt.date.fromisoformat(str(row["review_date"])[:10]) if row.get("review_date") else None
        )
        overdue = risks.review_overdue(row["status"], review, today)
        rows.append({**row, "score": score, "band": risks.band(score), "overdue": overdue})
        if row["status"] in risks.OPEN:
            heat[(likelihood, impact)] = heat.get((likelihood, impact), 0) + 1
    rows.sort(key=lambda r: (r["status"] not in risks.OPEN, -r["score"], int(r["id"])))
    return Register(tuple(rows), heat, sum(1 for r in rows if r["overdue"]))


@dataclass(frozen=True)
class PlanView:
    """The pair's plan for the year: its targets (with the latest revision) against the
    quarter's scorecard, its revisions and its actions (overdue ones flagged)."""

    plan: dict[str, Any] | None
    cells: tuple[Cell, ...]
    other_targets: Mapping[str, Decimal]
    revisions: tuple[dict[str, Any], ...]
    actions: tuple[dict[str, Any], ...]


def versions(
    acc: DataAccess, base: Mapping[str, Any], revisions: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The plan's revisions in the order they were made, each with who made it (where the
    reader may see them) and what it changed: ``changes`` as (target, before, after)."""
    people = _names_of_users(acc, {str(r["revised_by"]) for r in revisions if r.get("revised_by")})
    targets = dict(base)
    out = []
    for rev in sorted(revisions, key=lambda r: (str(r.get("created_at") or ""), int(r["id"]))):
        after = {**targets, **(rev.get("targets") or {})}
        changes = [
            (k, targets.get(k), v)
            for k, v in (rev.get("targets") or {}).items()
            if targets.get(k) != v
        ]
        who = people.get(str(rev.get("revised_by")), "the account manager")
        out.append({**rev, "who": who, "changes": changes})
        targets = after
    return out


def _names_of_users(acc: DataAccess, ids: set[str]) -> dict[str, str]:
    """Names of the users the reader may see (the hub decides: a manager its colleagues)."""
    if not ids:
        return {}
    try:
        rows = acc.hub.read_items(
            "directus_users",
            filter={"id": {"_in": sorted(ids)}},
            fields=["id", "first_name", "last_name"],
            limit=-1,
        )
    except HubError:
        return {}
    return {
        str(r["id"]): " ".join(p for p in (r.get("first_name"), r.get("last_name")) if p)
        for r in rows
        if str(r["id"]) in ids
    }


def plan(acc: DataAccess, pair_id: int, today: dt.date) -> PlanView:
    acc.pair(pair_id)
    plans = acc.rows(
        "business-plans",
        {"_and": [{"partnership": {"_eq": pair_id}}, {"year": {"_eq": today.year}}]},
        limit=1,
    )
    if not plans:
        return PlanView(None, (), {}, (), ())
    current = plans[0]
    goals = targets(acc, [pair_id], today).get(pair_id, {})
    cards = _quarter_cards(acc, [pair_id], *_containing(today))[:1]
    values = acc.children_of("scorecards", "values", [c["id"] for c in cards])
    scored = [k for k in sc.KPI_NAMES if k in goals]
    revisions = versions(
        acc,
        current.get("targets") or {},
        acc.children_of("business-plans", "revisions", [current["id"]]),
    )
    actions = []
    for a in sorted(
        acc.children_of("business-plans", "actions", [current["id"]]),
        key=lambda a: (str(a.get("due_date") or "9999"), int(a["id"])),
    ):
        due = str(a.get("due_date") or "")[:10]
        actions.append(
            {**a, "overdue": a["status"] == "open" and bool(due) and due < today.isoformat()}
        )
    return PlanView(
        current,
        _cells(values, scored, goals),
        {k: v for k, v in goals.items() if k not in sc.KPI_NAMES},
        tuple(revisions),
        tuple(actions),
    )


def attention(views: Sequence[PairView]) -> list[Item]:
    """What a manager's home leads with, pair by pair: overdue risk reviews, plan actions
    due soon and headline KPIs that miss the plan's target."""
    out = []
    for view in views:
        if view.overdue_risks:
            noun = "review" if view.overdue_risks == 1 else "reviews"
            out.append(
                Item(
                    "risk-review",
                    f"{view.overdue_risks} risk {noun} overdue",
                    view.label,
                    {"pair": view.id},
                    fingerprint(view.overdue_risks),
                )
            )
        if view.actions_due:
            noun = "action" if view.actions_due == 1 else "actions"
            out.append(
                Item(
                    "plan-actions",
                    f"{view.actions_due} plan {noun} due within 14 days",
                    view.label,
                    {"pair": view.id},
                    fingerprint(view.actions_due),
                )
            )
        for cell in view.cells:
            if cell.off:
                unit = " %" if cell.unit == "%" else f" {cell.unit}" if cell.unit in TIMES else ""
                out.append(
                    Item(
                        "kpi-off-target",
                        f"{cell.name}: {cell.value}{unit}",
                        f"{view.label}, target {cell.target}{unit}, {view.period}",
                        {"pair": view.id, "card": cell.card, "kpi": cell.kpi},
                        fingerprint(cell.value, cell.target, view.period),
                    )
                )
    return out


# -- the quarterly business review pack ---------------------------------------------------

PACK_QUARTERS = 5


@dataclass(frozen=True)
class PromotionResult:
    row: dict[str, Any]
    skus: int
    locations: int  # 0: every store
    lift: sc.Uplift
    not_shared: str | None = None  # why there is no lift: POS the reader may not read whole


@dataclass(frozen=True)
class Pack:
    """What a pair's quarterly business review holds, read as the user reads it."""

    pair: int
    label: str
    quarter: sc.Period
    quarters: tuple[sc.Period, ...]
    settings: sc.Settings
    trends: tuple[tuple[str, str, str, tuple[Decimal | None, ...]], ...]  # kpi, name, unit
    cells: tuple[Cell, ...]  # the quarter's every KPI against its target
    other_targets: Mapping[str, Decimal]
    plan: dict[str, Any] | None
    actions: tuple[dict[str, Any], ...]
    register: Register
    promotions: tuple[PromotionResult, ...]
    escalations: tuple[dict[str, Any], ...]  # the quarter's escalated exceptions
    definitions: tuple[tuple[str, str, str], ...]  # kpi, name, variant
    generated_at: dt.datetime
    generated_by: str


def pack(
    acc: DataAccess,
    pair_id: int,
    quarter: str,
    now: dt.datetime,
    by: str,
    cache: insights.ReportCache = insights.NO_CACHE,
) -> Pack:
    """A pair's review pack for a quarter (its label, e.g. ``2026-Q4``): the last five
    quarters' scorecards, the plan's targets against the quarter, the plan's actions,
    the risk register, the quarter's promotions with their lift, and its escalations."""
    acc.pair(pair_id)  # the pair in scope, or not found
    settings = pair_settings(acc, pair_id)
    period = sc.quarter_named(quarter, settings.fiscal_start_month)
    quarters = tuple(sc.last_quarters(period.start, PACK_QUARTERS, settings.fiscal_start_month))
    starts = [q.start.isoformat() for q in quarters]
    cards = _quarter_cards(acc, [pair_id], {"period_start": {"_in": starts}})
    card_of = {str(c["period_start"])[:10]: c for c in cards}
    values = acc.children_of("scorecards", "values", [c["id"] for c in cards])
    by_card: dict[int, dict[str, dict[str, Any]]] = {}
    variants: dict[str, str] = {}
    for v in values:
        by_card.setdefault(int(v["scorecard"]), {})[v["kpi"]] = v
        variants[v["kpi"]] = v["variant"]
    columns = [
        by_card.get(int(card_of[q.start.isoformat()]["id"]), {})
        if q.start.isoformat() in card_of
        else {}
        for q in quarters
    ]
    units = {k: v["unit"] for col in columns for k, v in col.items()}
    trends = tuple(
        (
            kpi,
            name,
            units.get(kpi, "%"),
            tuple(_decimal(col.get(kpi, {}).get("value")) for col in columns),
        )
        for kpi, name in sc.KPI_NAMES.items()
    )
    goals = targets(acc, [pair_id], period.end).get(pair_id, {})
    current = list(columns[-1].values())
    plans = acc.rows(
        "business-plans",
        {"_and": [{"partnership": {"_eq": pair_id}}, {"year": {"_eq": period.end.year}}]},
        limit=1,
    )
    actions: tuple[dict[str, Any], ...] = ()
    if plans:
        actions = tuple(
            sorted(
                acc.children_of("business-plans", "actions", [plans[0]["id"]]),
                key=lambda a: (str(a.get("due_date") or "9999"), int(a["id"])),
            )
        )
    labels = insights.pair_labels(acc, cache)
    return Pack(
        pair_id,
        labels.get(pair_id, str(pair_id)),
        period,
        quarters,
        settings,
        trends,
        _cells(current, list(sc.KPI_NAMES), goals),
        {k: v for k, v in goals.items() if k not in sc.KPI_NAMES},
        plans[0] if plans else None,
        actions,
        risk_register(acc, pair_id, now.date()),  # the register as it stands today
        promotion_results(acc, pair_id, period),
        escalations(acc, pair_id, period),
        tuple((k, n, variants.get(k, "")) for k, n in sc.KPI_NAMES.items()),
        now,
        by,
    )


def escalations(acc: DataAccess, pair_id: int, period: sc.Period) -> tuple[dict[str, Any], ...]:
    """The pair's exceptions that went past due and climbed its escalation levels in the
    quarter: what, whose, the level reached, when, and how it ended."""
    first = dt.datetime.combine(period.start, dt.time(), tzinfo=dt.UTC).isoformat()
    last = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = acc.rows(
        "exceptions",
        {"_and": [{"partnership": {"_eq": pair_id}}, {"level": {"_gt": 0}},
                  {"escalated_at": {"_gte": first}},
                  {"escalated_at": {"_lt": last.isoformat()}}]},
        fields=("id", "criterion", "subject", "owner_side", "value", "opened_at", "due_at",
                "level", "escalated_at", "status", "hours_to_close"),
        sort=("escalated_at", "id"),
    )  # fmt: skip
    criteria = acc.rows(
        "exception-criteria", {"partnership": {"_eq": pair_id}}, fields=("id", "name")
    )
    names = {int(c["id"]): str(c["name"]) for c in criteria}
    return tuple({**r, "criterion_name": names.get(int(r["criterion"]), "?")} for r in rows)


def promotion_results(
    acc: DataAccess, pair_id: int, period: sc.Period
) -> tuple[PromotionResult, ...]:
    """The pair's promotions that ran in the quarter, each with its lift from the POS the
    user may read (a supplier's or a manager's: what the distributor shares). A lift is
    given only if every week of its baseline and run is shared at every store it covers
    (every store of the distributor when it names none): a week not shared is unknown,
    and counting it as 0 would make a lift of nothing."""
    rows = acc.rows(
        "promotions",
        {
            "_and": [
                {"partnership": {"_eq": pair_id}},
                {"status": {"_in": list(sc.PROMOTIONS_RAN)}},
                {"start_date": {"_lte": period.end.isoformat()}},
                {"end_date": {"_gte": period.start.isoformat()}},
            ]
        },
        sort=("start_date", "id"),
    )
    if not rows:
        return ()
    ids = [r["id"] for r in rows]
    skus: dict[int, list[int]] = {}
    for s in acc.children_of("promotions", "skus", ids):
        skus.setdefault(int(s["promotion"]), []).append(int(s["sku"]))
    places: dict[int, set[int]] = {}
    for loc in acc.children_of("promotions", "locations", ids):
        places.setdefault(int(loc["promotion"]), set()).add(int(loc["location"]))
    regions = _regions(acc, {x for stores in places.values() for x in stores})
    pair = acc.scope.pairs[pair_id]
    out = []
    for row in rows:
        key = int(row["id"])
        stores = places.get(key, set())
        start = dt.date.fromisoformat(str(row["start_date"])[:10])
        end = dt.date.fromisoformat(str(row["end_date"])[:10])
        during, baseline = sc.promotion_weeks(start, end)
        why = _lift_not_shared(acc, pair, [*baseline, *during], stores, regions)
        if why is not None:
            none = sc.Uplift(None, None, None, None)
            out.append(PromotionResult(row, len(skus.get(key, [])), len(stores), none, why))
            continue
        weekly: dict[dt.date, int] = {}
        for sku in skus.get(key, []):
            query = {
                "distributor": pair.distributor,
                "sku": sku,
                "from": baseline[0],
                "to": during[-1] + dt.timedelta(days=6),
                "per_page": 100_000,
            }
            by = ["week", "location"] if stores else ["week"]
            for r in acc.summary("pos-sales", by, query).rows:
                if not stores or int(r["location"]) in stores:
                    week = dt.date.fromisoformat(r["week_start"])
                    weekly[week] = weekly.get(week, 0) + int(r["units"])
        planned = row.get("expected_uplift_pct")
        lift = sc.uplift(weekly, start, end, None if planned is None else int(planned))
        out.append(PromotionResult(row, len(skus.get(key, [])), len(stores), lift))
    return tuple(out)


def _regions(acc: DataAccess, locations: set[int]) -> dict[int, str | None]:
    """The region of each of these locations the user may read."""
    if not locations:
        return {}
    found = acc.rows("locations", {"id": {"_in": sorted(locations)}}, fields=("id", "region"))
    return {int(r["id"]): r.get("region") for r in found}


def _lift_not_shared(
    acc: DataAccess,
    pair: Pair,
    mondays: list[dt.date],
    stores: set[int],
    regions: Mapping[int, str | None],
) -> str | None:
    """Why a promotion's lift cannot be read whole by this user, or None if it can (by
    the agreements between the pair's two sides only: a manager of another pair of the
    same distributor reads by that pair's agreements too)."""
    if not any(part is not NOTHING for part in acc.scope.rollup_parts()):
        return "POS not readable by you here: no lift"
    if not acc.scope.reads_by_agreement:  # a distributor's own POS: every week, every store
        return None
    if stores - set(regions):  # a store the user may not even read
        return NOT_WHOLE
    at = [Store(x, regions[x]) for x in sorted(stores)]
    between = [a for a in acc.scope.agreements_in_force if a.grantee == pair.supplier]
    if shares_whole(between, pair.distributor, mondays, at):
        return None
    return NOT_WHOLE


NOT_WHOLE = "POS not shared for every week and store of its baseline and run: no lift"


def default_quarter(settings: sc.Settings, today: dt.date) -> str:
    """The quarter a review looks back on: the last whole one before today's."""
    current = sc.period_of(today, "quarter", settings.fiscal_start_month)
    return sc.period_of(
        current.start - dt.timedelta(days=1), "quarter", settings.fiscal_start_month
    ).label


def review_pack(
    acc: DataAccess,
    pair_id: int,
    quarter: str | None,
    now: dt.datetime,
    by: str,
    fmt: str,
    cache: insights.ReportCache = insights.NO_CACHE,
) -> Pack:
    """The pack a user asks for (``fmt``: html, xlsx or pdf), its quarter checked and the
    request audited."""
    acc.pair(pair_id)
    settings = pair_settings(acc, pair_id)
    label = quarter or default_quarter(settings, now.date())
    try:
        sc.quarter_named(label, settings.fiscal_start_month)
    except ValueError as exc:
        raise Invalid(str(exc), {"quarter": [str(exc)]}) from exc
    built = pack(acc, pair_id, label, now, by, cache)
    acc.record(
        "review_pack.export",
        "scorecards",
        [pair_id],
        {"quarter": built.quarter.label, "format": fmt},
    )
    return built


# -- reading a plan and a risk register's forms -------------------------------------------


def parse_targets(
    form: Mapping[str, str], extra: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The targets a plan form gives: one input per scorecard KPI (``target-<kpi>``), and
    other metrics as ``name = value`` lines; exact decimals, each error naming its input
    or line."""
    targets: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for kpi in sc.KPI_NAMES:
        text = (form.get(f"target-{kpi}") or "").strip()
        if text:
            value = _decimal(text)
            if value is None or not value.is_finite():
                errors[f"target-{kpi}"] = [f"{sc.KPI_NAMES[kpi]}: “{text[:20]}” is not a number"]
            else:
                targets[kpi] = text
    for n, line in enumerate(extra.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, text = line.partition("=")
        value = _decimal(text.strip())
        if not sep or not name.strip() or value is None or not value.is_finite():
            errors.setdefault("extra_targets", []).append(
                f"line {n}: expected name = number, found “{line.strip()[:40]}”"
            )
        else:
            targets[name.strip()[:64]] = text.strip()
    return targets, errors


def parse_events(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """A plan's events from lines of ``YYYY-MM-DD | kind | title``; errors name the line."""
    events, errors = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|", 2)]
        if len(parts) != 3 or not all(parts):
            errors.append(f"line {n}: expected date | kind | title, found “{line.strip()[:40]}”")
            continue
        events.append({"date": parts[0], "kind": parts[1], "title": parts[2]})
    return events, errors


def events_text(events: Sequence[Mapping[str, Any]] | None) -> str:
    return "\n".join(f"{e.get('date')} | {e.get('kind')} | {e.get('title')}" for e in events or [])
