"""CPFR exceptions: the criteria a pair agrees, evaluated on its figures; pure rules.

A pair agrees its exception criteria as data (``exception_criteria``): a metric, a
comparison with one threshold (or two, for ``outside``), an optional scope (some SKUs,
some locations), the side that owns what a criterion finds, and the hours it has to
respond (see ../shared/notes/kpis.md, "Exception management": both sides evaluate the
same criteria; each exception gets an owner and a status; the time from detection to
resolution is itself a KPI).

Evaluating a criterion on the pair's figures gives **conditions**, one per subject (a
SKU x week, a SKU, a store x SKU, a purchase order), each with the value and the figures
behind it. :func:`reconcile` turns them into changes of the pair's exceptions: a new
condition opens an exception, due ``response_hours`` later; one that persists updates its
figures (never a second exception); one that is gone is noted as cleared, and noted
again if it comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.commitments import gap_pct


@dataclass(frozen=True)
class Metric:
    label: str
    meaning: str
    unit: str
    per: str  # what one condition is about: sku_week | sku | store_sku | order


METRICS: dict[str, Metric] = {
    "forecast_commitment_gap_pct": Metric(
        "Forecast vs commitment",
        "how far the supplier's commitment is from the distributor's forecast for an open "
        "week, in % of the forecast (either way)",
        "%",
        "sku_week",
    ),
    "in_stock_pct": Metric(
        "In-stock",
        "the share of the distributor's store x SKU positions with stock on hand in its "
        "latest snapshot",
        "%",
        "sku",
    ),
    "weeks_of_supply": Metric(
        "Weeks of supply",
        "the stores' stock on hand in the latest snapshot over the average units sold a "
        "week in the 4 weeks before it",
        "weeks",
        "sku",
    ),
    "po_unacknowledged_hours": Metric(
        "PO not acknowledged",
        "hours an open purchase order has waited for the supplier's answer",
        "h",
        "order",
    ),
    "store_out_of_stock_days": Metric(
        "Store out of stock",
        "days a store has had none of a SKU: from the first of its snapshots in a row with "
        "nothing on hand to the latest",
        "days",
        "store_sku",
    ),
}
COMPARISONS = ("above", "below", "outside")
SIDES = ("supplier", "distributor")
STATUSES = ("open", "acknowledged", "resolved", "dismissed")
#: Status moves either side of the pair makes (the owner side is whom it is for; both
#: sides may acknowledge, resolve, dismiss with a reason, or reopen a closed one).
MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "resolved", "dismissed"}),
    "acknowledged": frozenset({"resolved", "dismissed"}),
    "resolved": frozenset({"open"}),
    "dismissed": frozenset({"open"}),
}
CLOSED = frozenset({"resolved", "dismissed"})
#: The weeks of POS the weeks-of-supply criterion averages.
SUPPLY_WEEKS = 4


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name}: not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name}: not a number: {value!r}")
    return number


@dataclass(frozen=True)
class Criterion:
    """One agreed criterion of a pair."""

    id: int
    pair: int
    metric: str
    comparison: str
    threshold: Decimal
    upper: Decimal | None = None  # for ``outside``: the range is [threshold, upper]
    skus: frozenset[int] = frozenset()  # empty: every SKU
    locations: frozenset[int] = frozenset()  # empty: every location
    owner_side: str = "supplier"
    response_hours: int = 48
    name: str = ""

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric: one of {', '.join(METRICS)}, not {self.metric!r}")
        if self.comparison not in COMPARISONS:
            raise ValueError(f"comparison: one of {', '.join(COMPARISONS)}")
        if (self.comparison == "outside") != (self.upper is not None):
            raise ValueError("upper: given with the comparison outside, and only then")
        if self.upper is not None and self.upper < self.threshold:
            raise ValueError("upper: at least the threshold")
        if self.owner_side not in SIDES:
            raise ValueError(f"owner_side: one of {', '.join(SIDES)}")
        if not 1 <= self.response_hours <= 24 * 90:
            raise ValueError("response_hours: from 1 to 2160 (90 days)")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Criterion:
        scope = row.get("scope") or {}
        upper = row.get("upper")
        return cls(
            id=int(row["id"]),
            pair=int(row["partnership"]),
            metric=str(row["metric"]),
            comparison=str(row["comparison"]),
            threshold=_decimal(row["threshold"], "threshold"),
            upper=None if upper in (None, "") else _decimal(upper, "upper"),
            skus=frozenset(int(s) for s in scope.get("skus") or ()),
            locations=frozenset(int(x) for x in scope.get("locations") or ()),
            owner_side=str(row.get("owner_side") or "supplier"),
            response_hours=int(row.get("response_hours") or 48),
            name=str(row.get("name") or ""),
        )

    def breached(self, value: Decimal) -> bool:
        if self.comparison == "above":
            return value > self.threshold
        if self.comparison == "below":
            return value < self.threshold
        assert self.upper is not None
        return value < self.threshold or value > self.upper

    def covers(self, sku: int | None = None, location: int | None = None) -> bool:
        return (not self.skus or sku is None or sku in self.skus) and (
            not self.locations or location is None or location in self.locations
        )

    def describe(self) -> str:
        metric = METRICS[self.metric]
        if self.comparison == "outside":
            return f"{metric.label} outside {self.threshold}-{self.upper} {metric.unit}"
        return f"{metric.label} {self.comparison} {self.threshold} {metric.unit}"


@dataclass(frozen=True)
class Condition:
    """A criterion breached for one subject, with the figures that show it."""

    criterion: int
    subject: str
    value: Decimal
    figures: dict[str, str] = field(default_factory=dict)
    sku: int | None = None
    location: int | None = None
    week: dt.date | None = None
    purchase_order: int | None = None


# -- the figures a pair's criteria are evaluated on -----------------------------------------


@dataclass(frozen=True)
class Order:
    id: int
    number: str
    ordered_at: dt.datetime
    status: str


@dataclass(frozen=True)
class Figures:
    """One pair's figures, as of ``now``. Keys are ids; weeks are Mondays."""

    now: dt.datetime
    #: (SKU, week) -> (forecast units summed over locations, committed units), open weeks
    plan: Mapping[tuple[int, dt.date], tuple[int | None, int | None]] = field(default_factory=dict)
    #: (store, SKU) -> units on hand in the distributor's latest snapshot
    on_hand: Mapping[tuple[int, int], int] = field(default_factory=dict)
    #: (store, SKU) -> units sold a week over the SUPPLY_WEEKS weeks before the snapshot
    sold: Mapping[tuple[int, int], int] = field(default_factory=dict)
    #: (store, SKU) -> the first day of its latest run of snapshots with nothing on hand
    out_since: Mapping[tuple[int, int], dt.date] = field(default_factory=dict)
    snapshot: dt.date | None = None  # the latest snapshot's day
    orders: Sequence[Order] = ()


def _pct(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def evaluate(c: Criterion, f: Figures) -> list[Condition]:
    """The conditions a criterion finds in a pair's figures, in subject order."""
    out: list[Condition] = []
    if c.metric == "forecast_commitment_gap_pct":
        for (sku, week), (forecast, committed) in sorted(f.plan.items()):
            gap = gap_pct(forecast, committed)
            if gap is None or not c.covers(sku) or not c.breached(abs(gap)):
                continue
            out.append(Condition(c.id, f"sku:{sku}:week:{week}", abs(gap),
                                 {"forecast": str(forecast), "commitment": str(committed),
                                  "gap_pct": str(gap)}, sku=sku, week=week))  # fmt: skip
    elif c.metric in ("in_stock_pct", "weeks_of_supply"):
        stocked: dict[int, list[int]] = {}
        for (store, sku), units in f.on_hand.items():
            if c.covers(sku, store):
                stocked.setdefault(sku, []).append(units)
        for sku, units in sorted(stocked.items()):
            if c.metric == "in_stock_pct":
                value = _pct(sum(1 for u in units if u > 0), len(units))
                figures = {"positions": str(len(units)),
                           "in_stock": str(sum(1 for u in units if u > 0))}  # fmt: skip
            else:
                # Sales of the same stores as the stock (those with a shared snapshot).
                weekly = sum(
                    n
                    for (store, s), n in f.sold.items()
                    if s == sku and (store, sku) in f.on_hand and c.covers(sku, store)
                )
                if weekly == 0:
                    continue  # nothing sold: weeks of supply is not a number
                value = (Decimal(sum(units)) / (Decimal(weekly) / SUPPLY_WEEKS)).quantize(
                    Decimal("0.1")
                )
                figures = {"on_hand": str(sum(units)), "sold_4_weeks": str(weekly)}
            if c.breached(value):
                figures["snapshot"] = str(f.snapshot)
                out.append(Condition(c.id, f"sku:{sku}", value, figures, sku=sku))
    elif c.metric == "po_unacknowledged_hours":
        for order in sorted(f.orders, key=lambda o: o.id):
            if order.status != "open":
                continue
            hours = Decimal((f.now - order.ordered_at).total_seconds()) / 3600
            hours = hours.quantize(Decimal("0.1"))
            if c.breached(hours):
                out.append(Condition(c.id, f"po:{order.id}", hours,
                                     {"number": order.number,
                                      "ordered_at": order.ordered_at.isoformat()},
                                     purchase_order=order.id))  # fmt: skip
    elif c.metric == "store_out_of_stock_days" and f.snapshot is not None:
        for (store, sku), since in sorted(f.out_since.items()):
            days = Decimal((f.snapshot - since).days + 1)
            if c.covers(sku, store) and c.breached(days):
                out.append(Condition(c.id, f"store:{store}:sku:{sku}", days,
                                     {"since": str(since), "snapshot": str(f.snapshot)},
                                     sku=sku, location=store))  # fmt: skip
    return out


# -- conditions into exceptions ------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """An exception as stored: its subject, status and whether it is cleared."""

    id: int
    criterion: int
    subject: str
    status: str
    cleared: bool


@dataclass(frozen=True)
class Change:
    """What the job does: ``open`` a new exception, ``update`` a persisting one's figures,
    note one ``cleared`` or ``recurred``."""

    kind: str
    condition: Condition | None = None
    known: Known | None = None


def reconcile(known: Iterable[Known], found: Iterable[Condition]) -> list[Change]:
    """The changes that bring a pair's exceptions in line with what its criteria find
    now. There is one exception per (criterion, subject) while its condition lasts: a
    persisting condition updates it, a gone one is noted cleared and a returning one
    recurs. Once closed (resolved, or dismissed with a reason) it stays closed while its
    condition lasts; only a condition that cleared and came back opens a new one.
    ``known`` holds the open exceptions and the closed ones not yet cleared."""
    latest: dict[tuple[int, str], Known] = {}
    extra: list[Known] = []  # a second live one (a closed one reopened): noted cleared
    for k in sorted(known, key=lambda k: (k.status in CLOSED, -k.id)):
        key = (k.criterion, k.subject)
        if key not in latest:
            latest[key] = k
        elif k.status not in CLOSED and not k.cleared:
            extra.append(k)
    seen: set[tuple[int, str]] = set()
    changes: list[Change] = [Change("cleared", None, k) for k in extra]
    for condition in found:
        key = (condition.criterion, condition.subject)
        if key in seen:
            continue
        seen.add(key)
        current = latest.get(key)
        if current is None or (current.status in CLOSED and current.cleared):
            changes.append(Change("open", condition))
        elif current.status in CLOSED:
            continue  # closed by a person while the condition lasts: left closed
        elif current.cleared:
            changes.append(Change("recurred", condition, current))
        else:
            changes.append(Change("update", condition, current))
    for key, current in sorted(latest.items()):
        if key not in seen and not current.cleared:
            changes.append(Change("cleared", None, current))
    return changes


def due(opened: dt.datetime, response_hours: int) -> dt.datetime:
    return opened + dt.timedelta(hours=response_hours)


def hours_to_resolve(opened: dt.datetime, closed: dt.datetime) -> Decimal:
    """Detection to resolution, in hours (to a tenth)."""
    return (Decimal((closed - opened).total_seconds()) / 3600).quantize(Decimal("0.1"))


def may_move(old: str, new: str) -> bool:
    return new in MOVES.get(old, frozenset())


# -- escalation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    user: str  # the user's id
    side: str  # supplier | distributor | manager
    name: str = ""  # as the pair agreed it, for the other side to read


@dataclass(frozen=True)
class Level:
    """One level of a pair's escalation protocol: an exception still open this many hours
    past its due time reaches it, and its contacts (on both sides) are told."""

    level: int
    after_hours: int
    contacts: tuple[Contact, ...]


def escalation_levels(rows: Sequence[Mapping[str, Any]]) -> tuple[Level, ...]:
    """A pair's protocol as stored (``partnerships.escalation["levels"]``), checked: levels
    1, 2, ... in order, each reached no sooner than the one before, each with a contact."""
    levels = []
    for n, row in enumerate(rows, 1):
        try:
            after = int(row["after_hours"])
            contacts = tuple(
                Contact(str(c["user"]), str(c["side"]), str(c.get("name") or ""))
                for c in row["contacts"]
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"level {n}: after_hours and contacts (user, side)") from None
        if int(row.get("level", n)) != n:
            raise ValueError(f"level {n}: levels are numbered 1, 2, ... in order")
        if after < 0 or (levels and after < levels[-1].after_hours):
            raise ValueError(f"level {n}: after_hours from 0, no sooner than the level before")
        if not contacts:
            raise ValueError(f"level {n}: at least one contact")
        if any(c.side not in (*SIDES, "manager") for c in contacts):
            raise ValueError(f"level {n}: a contact's side is supplier, distributor or manager")
        levels.append(Level(n, after, contacts))
    return tuple(levels)


def escalation_level(due_at: dt.datetime, now: dt.datetime, levels: Sequence[Level]) -> int:
    """The level an exception still open at ``now`` has reached (0: not past due, or no
    protocol)."""
    if now <= due_at:
        return 0
    late = now - due_at
    return max((lv.level for lv in levels if late >= dt.timedelta(hours=lv.after_hours)), default=0)
