"""The supplier scorecard: delivery, order-handling and plan KPIs of one pair over one
period, as pure functions over exact integers.

The definitions follow ../shared/notes/kpis.md. There is no single industry OTIF, so
every figure is a :class:`Measure` that names its KPI and the variant that produced it,
keeps its exact numerator and denominator, and lists the records behind it (``basis``)
and those that missed (``misses``), so a page can drill down to them.

Which records a KPI counts, and when they can be judged:

- **Delivery KPIs** (OTIF, perfect order, fill rates) count the orders *due* in the
  period, by the date the variant measures against, once that date has passed (an
  order due today can still arrive). Cancelled orders never count; an order with no
  lines neither. An order the supplier rejected whole was not delivered: it misses in
  every variant, owing what was ordered.
- **The commitment** is the supplier's first promise (``original_promised_date``, kept
  when the supplier re-promises), or the request where it promised nothing. A later
  re-promise replaces it only once the customer agrees to it, which Tandem does not yet
  record: until then the first promise stands, so a late supplier cannot re-promise its
  way to on time. Quantities: a line's ``qty_promised`` (a line the supplier rejected in
  an order it kept owes nothing).
- **Receipts** are shipment lines with a received date; ``qty_received`` above what was
  due is not counted (overages do not make up for lateness).
- **Lead time** counts orders whose last receipt falls in the period; **ASN** KPIs the
  shipments received in the period; **acknowledgement** the orders placed in the period
  (by the hub's own stamp), once 24 h have passed or they were answered; **JBP
  adherence** the actions due in the period, once their date has passed.

Percentages are rounded half-even to one decimal place, days to one; ``value`` is None
when nothing could be counted, which pages show as "no data" rather than a made-up 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from domain import kpis

GRAINS = ("week", "month", "quarter")
BASES = ("promised", "requested")
OTIF_LEVELS = ("order", "unit", "case")
ACK_WITHIN = dt.timedelta(hours=24)
DEFAULT_WINDOW_EARLY_DAYS = 3

ORDERS = "purchase_orders"
SHIPMENTS = "shipments"
ACTIONS = "plan_actions"
EXCEPTIONS = "exceptions"
#: High performers answer an exception within 24-48 hours (../shared/notes/kpis.md).
RESOLVE_WITHIN_HOURS = Decimal(48)

ONE_PLACE = Decimal("0.1")


# -- periods ----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A week (ISO, Monday to Sunday), a month or a quarter; ``end`` is inclusive.
    Quarters follow the pair's fiscal year, which may start in any month (then a
    quarter can cross a calendar year, and the fiscal year is named after the calendar
    year it starts in, as the NRF 4-5-4 calendar does)."""

    start: dt.date
    end: dt.date
    grain: str
    label: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def period_of(day: dt.date, grain: str, fiscal_start_month: int = 1) -> Period:
    """The period of ``grain`` that contains ``day``."""
    if grain == "week":
        start = day - dt.timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        return Period(start, start + dt.timedelta(days=6), grain, f"{year}-W{week:02d}")
    if grain == "month":
        start = day.replace(day=1)
        y, m = _add_months(day.year, day.month, 1)
        return Period(start, dt.date(y, m, 1) - dt.timedelta(days=1), grain, f"{start:%Y-%m}")
    if grain == "quarter":
        if not 1 <= fiscal_start_month <= 12:
            raise ValueError(f"fiscal_start_month: expected 1 to 12, found {fiscal_start_month}")
        offset = (day.month - fiscal_start_month) % 12
        fiscal_year = day.year if day.month >= fiscal_start_month else day.year - 1
        quarter = offset // 3 + 1
        y, m = _add_months(fiscal_year, fiscal_start_month, (quarter - 1) * 3)
        ey, em = _add_months(y, m, 3)
        label = f"{fiscal_year}-Q{quarter}"
        if fiscal_start_month != 1:
            label = f"FY{label}"
        return Period(dt.date(y, m, 1), dt.date(ey, em, 1) - dt.timedelta(days=1), grain, label)
    raise ValueError(f"grain: expected one of {', '.join(GRAINS)}, found {grain!r}")


def periods_between(
    first: dt.date, last: dt.date, grain: str, fiscal_start_month: int = 1
) -> list[Period]:
    """Every period of ``grain`` that overlaps ``first``..``last``, in order."""
    out: list[Period] = []
    day = first
    while day <= last:
        period = period_of(day, grain, fiscal_start_month)
        out.append(period)
        day = period.end + dt.timedelta(days=1)
    return out


def last_quarters(as_of: dt.date, count: int, fiscal_start_month: int = 1) -> list[Period]:
    """The quarter of ``as_of`` and the ``count - 1`` before it, oldest first."""
    quarters = [period_of(as_of, "quarter", fiscal_start_month)]
    while len(quarters) < count:
        quarters.insert(
            0, period_of(quarters[0].start - dt.timedelta(days=1), "quarter", fiscal_start_month)
        )
    return quarters


# -- the facts a scorecard reads ----------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """One shipment line of a PO line: what the ASN said and what arrived."""

    shipment: int
    ship_date: dt.date
    qty_shipped: int
    received_date: dt.date | None = None
    qty_received: int | None = None


@dataclass(frozen=True)
class Line:
    id: int
    qty_ordered: int
    qty_promised: int | None = None
    rejected: bool = False
    case_pack: int = 1
    receipts: tuple[Receipt, ...] = ()
    invoiced: int | None = None  # quantity invoiced, None while not invoiced


@dataclass(frozen=True)
class Order:
    id: int
    status: str
    ordered_on: dt.date
    requested_date: dt.date
    promised_date: dt.date | None = None  # the current promise
    placed_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    lines: tuple[Line, ...] = ()
    original_promised_date: dt.date | None = None  # the first promise, kept


@dataclass(frozen=True)
class Shipment:
    id: int
    ship_date: dt.date
    recorded_at: dt.datetime | None  # when the hub received the ASN
    received_date: dt.date | None
    lines: tuple[tuple[int, int | None], ...]  # (qty_shipped, qty_received)


@dataclass(frozen=True)
class Action:
    id: int
    status: str
    due_date: dt.date | None
    completed_on: dt.date | None


@dataclass(frozen=True)
class Settings:
    """A pair's choices: which OTIF variant heads its scorecard, the arrival window,
    and the month its fiscal year starts."""

    otif_level: str = "order"
    otif_basis: str = "promised"
    window_early_days: int = DEFAULT_WINDOW_EARLY_DAYS
    fiscal_start_month: int = 1

    def __post_init__(self) -> None:
        if self.otif_level not in OTIF_LEVELS:
            raise ValueError(f"otif_level: expected one of {', '.join(OTIF_LEVELS)}")
        if self.otif_basis not in BASES:
            raise ValueError(f"otif_basis: expected one of {', '.join(BASES)}")
        if not 0 <= self.window_early_days <= 30:
            raise ValueError("window_early_days: expected 0 to 30")
        if not 1 <= self.fiscal_start_month <= 12:
            raise ValueError("fiscal_start_month: expected 1 to 12")

    @property
    def headline_otif(self) -> str:
        return f"otif.{self.otif_level}.{self.otif_basis}"


# -- measures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One KPI value: ``value`` is a percentage (``unit`` "%") or days, None when
    nothing was counted; ``basis`` are the ids (in ``collection``) counted, ``misses``
    those that failed."""

    kpi: str
    variant: str
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None
    unit: str
    collection: str
    basis: tuple[int, ...] = ()
    misses: tuple[int, ...] = field(default=())


def _pct(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator * 100 / denominator).quantize(ONE_PLACE, rounding=ROUND_HALF_EVEN)


def _share(
    kpi: str, variant: str, collection: str, judged: Sequence[tuple[int, Decimal, Decimal]]
) -> Measure:
    """A percentage from (id, numerator part, denominator part) per counted record; a
    record misses when its part falls short."""
    numerator = sum((n for _, n, _ in judged), Decimal(0))
    denominator = sum((d for _, _, d in judged), Decimal(0))
    return Measure(
        kpi,
        variant,
        numerator,
        denominator,
        _pct(numerator, denominator),
        "%",
        collection,
        tuple(i for i, _, _ in judged),
        tuple(i for i, n, d in judged if n < d),
    )


def _binary(ok: bool) -> tuple[Decimal, Decimal]:
    return Decimal(1 if ok else 0), Decimal(1)


def _due_qty(line: Line, basis: str) -> int:
    """What a line owes: under the requested basis what was ordered; under the promised
    basis the promise (an agreed change replaces the original), nothing if rejected."""
    if basis == "requested":
        return line.qty_ordered
    if line.rejected:
        return 0
    return line.qty_ordered if line.qty_promised is None else line.qty_promised


def _due_date(order: Order, basis: str) -> dt.date:
    """The date an order is judged against: the request, or the commitment (the first
    promise; the request where there was none)."""
    if basis == "requested":
        return order.requested_date
    return order.original_promised_date or order.promised_date or order.requested_date


def _received_by(line: Line, last_day: dt.date | None, first_day: dt.date | None = None) -> int:
    """Units of the line received on or before ``last_day`` (and on or after
    ``first_day``); every receipt when ``last_day`` is None."""
    return sum(
        r.qty_received or 0
        for r in line.receipts
        if r.received_date is not None
        and (last_day is None or r.received_date <= last_day)
        and (first_day is None or r.received_date >= first_day)
    )


def _shipped(line: Line, as_of: dt.date) -> int:
    return sum(r.qty_shipped for r in line.receipts if r.ship_date < as_of)


def _due_in(
    orders: Iterable[Order], period: Period, as_of: dt.date, basis: str
) -> list[tuple[Order, dt.date]]:
    """The orders due in the period by ``basis``, whose due date has passed."""
    out = []
    for order in orders:
        if order.status == "cancelled" or not order.lines:
            continue
        due = _due_date(order, basis)
        if due in period and due < as_of:
            out.append((order, due))
    return out


def _variant_basis(basis: str) -> str:
    if basis == "requested":
        return "against the requested date and quantity"
    return "against the supplier's first promise (the request where it promised nothing)"


def otif(
    orders: Iterable[Order], period: Period, as_of: dt.date, level: str, basis: str
) -> Measure:
    """On time in full. ``order``: an order counts 1 only if every line received what it
    owed by its due date. ``unit``/``case``: units (or cases) received by the due date,
    at most what was owed, ÷ units (or cases) owed."""
    judged = []
    for order, due in _due_in(orders, period, as_of, basis):
        if order.status == "rejected":
            judged.append(
                (order.id, *_binary(False))
                if level == "order"
                else (order.id, Decimal(0), _owed(order, "requested", level))
            )
            continue
        if level == "order":
            ok = all(_received_by(line, due) >= _due_qty(line, basis) for line in order.lines)
            judged.append((order.id, *_binary(ok)))
        else:
            got = owed = Decimal(0)
            for line in order.lines:
                due_qty = _due_qty(line, basis)
                got += _in_level(min(_received_by(line, due), due_qty), line, level)
                owed += _in_level(due_qty, line, level)
            judged.append((order.id, got, owed))
    what = {
        "order": "orders on time and in full ÷ orders due",
        "unit": "units received by the due date ÷ units due",
        "case": "cases received by the due date ÷ cases due",
    }[level]
    return _share(f"otif.{level}.{basis}", f"{what}, {_variant_basis(basis)}", ORDERS, judged)


def _in_level(units: int, line: Line, level: str) -> Decimal:
    return Decimal(units) / Decimal(line.case_pack) if level == "case" else Decimal(units)


def _owed(order: Order, basis: str, level: str) -> Decimal:
    return sum((_in_level(_due_qty(line, basis), line, level) for line in order.lines), Decimal(0))


def arrival_window(
    orders: Iterable[Order], period: Period, as_of: dt.date, early_days: int
) -> list[Measure]:
    """The must-arrive-by window (Walmart's OTIF since 2024, case level, reported in two
    parts): the window is the requested date and the ``early_days`` before it.
    On time: cases received inside the window ÷ cases received. In full: cases
    received, at most what was ordered, ÷ cases ordered."""
    on_time, in_full = [], []
    for order, due in _due_in(orders, period, as_of, "requested"):
        first = due - dt.timedelta(days=early_days)
        inside = got = owed = Decimal(0)
        for line in order.lines:
            received = min(_received_by(line, None), line.qty_ordered)
            got += _in_level(received, line, "case")
            inside += _in_level(min(_received_by(line, due, first), received), line, "case")
            owed += _in_level(line.qty_ordered, line, "case")
        on_time.append((order.id, inside, got))
        in_full.append((order.id, got, owed))
    window = f"the requested date and the {early_days} days before it"
    return [
        _share(
            "otif.window.on_time",
            f"cases received inside the window ({window}) ÷ cases received",
            ORDERS,
            on_time,
        ),
        _share(
            "otif.window.in_full",
            "cases received, at most what was ordered ÷ cases ordered",
            ORDERS,
            in_full,
        ),
    ]


def perfect_order(orders: Iterable[Order], period: Period, as_of: dt.date) -> Measure:
    """SCOR RL.1.1: orders whose every line arrived in full by the commit date, in the
    quantity its ASN said (a shortfall against the ASN is damage or loss), and was
    invoiced for what arrived ÷ orders; a rejected order is not perfect."""
    judged = []
    for order, due in _due_in(orders, period, as_of, "promised"):
        ok = order.status != "rejected" and all(_perfect_line(line, due) for line in order.lines)
        judged.append((order.id, *_binary(ok)))
    return _share(
        "perfect_order",
        "orders in full, on time to the first promise, received as the ASN said and "
        "invoiced for what arrived ÷ orders due (cancelled orders excluded; rejected ones "
        "miss)",
        ORDERS,
        judged,
    )


def _perfect_line(line: Line, due: dt.date) -> bool:
    owed = _due_qty(line, "promised")
    if _received_by(line, due) < owed:
        return False
    if any(r.received_date is not None and r.qty_received != r.qty_shipped for r in line.receipts):
        return False
    received = _received_by(line, None)
    return owed == 0 or (line.invoiced is not None and line.invoiced == received)


def fill_rates(orders: Iterable[Order], period: Period, as_of: dt.date) -> list[Measure]:
    """Line, unit and order fill (what shipped, at most what was ordered) and first-time
    unit fill (the first shipment only), of the orders requested in the period."""
    lines, units, whole, first = [], [], [], []
    for order, _ in _due_in(orders, period, as_of, "requested"):
        shipments = sorted(
            {
                (r.ship_date, r.shipment)
                for ln in order.lines
                for r in ln.receipts
                if r.ship_date < as_of
            }
        )
        first_id = shipments[0][1] if shipments else None
        complete = True
        for line in order.lines:
            shipped = min(_shipped(line, as_of), line.qty_ordered)
            firsts = sum(r.qty_shipped for r in line.receipts if r.shipment == first_id)
            lines.append((line.id, *_binary(shipped >= line.qty_ordered)))
            units.append((line.id, Decimal(shipped), Decimal(line.qty_ordered)))
            first.append(
                (line.id, Decimal(min(firsts, line.qty_ordered)), Decimal(line.qty_ordered))
            )
            complete = complete and shipped >= line.qty_ordered
        whole.append((order.id, *_binary(complete and bool(order.lines))))
    return [
        _by_order(
            _share("fill.line", "lines shipped complete ÷ lines ordered", ORDERS, lines),
            orders,
            lines,
        ),
        _by_order(
            _share(
                "fill.unit",
                "units shipped, at most what was ordered ÷ units ordered",
                ORDERS,
                units,
            ),
            orders,
            units,
        ),
        _share("fill.order", "orders shipped complete (no backorder) ÷ orders", ORDERS, whole),
        _by_order(
            _share(
                "fill.first_time",
                "units in the first shipment, at most what was ordered ÷ units ordered",
                ORDERS,
                first,
            ),
            orders,
            first,
        ),
    ]


def _by_order(
    measure: Measure, orders: Iterable[Order], judged: Sequence[tuple[int, Decimal, Decimal]]
) -> Measure:
    """A line-level measure drills down to the orders whose lines it counted."""
    order_of = {line.id: order.id for order in orders for line in order.lines}
    basis = tuple(dict.fromkeys(order_of[i] for i, _, _ in judged))
    misses = tuple(dict.fromkeys(order_of[i] for i, n, d in judged if n < d))
    return Measure(**{**measure.__dict__, "basis": basis, "misses": misses})


def lead_time(orders: Iterable[Order], period: Period) -> list[Measure]:
    """Days from order to its last receipt, for the orders fully received in the period
    (kpis.md): the mean, the population standard deviation and their ratio."""
    days: list[tuple[int, int]] = []
    for order in orders:
        if order.status in ("cancelled", "rejected") or not order.lines:
            continue
        receipts = [r for line in order.lines for r in line.receipts]
        if not receipts or any(r.received_date is None for r in receipts):
            continue
        if any(_received_by(line, None) < _due_qty(line, "promised") for line in order.lines):
            continue
        last = max(r.received_date for r in receipts if r.received_date is not None)
        if last in period:
            days.append((order.id, (last - order.ordered_on).days))
    ids = tuple(i for i, _ in days)
    n = Decimal(len(days))
    total = Decimal(sum(d for _, d in days))
    mean = total / n if days else None
    sigma = cv = None
    if mean is not None:
        with localcontext() as ctx:
            ctx.prec = 28
            sigma = (sum((Decimal(d) - mean) ** 2 for _, d in days) / n).sqrt()
            cv = sigma / mean if mean else None
    what = "days from order to last receipt, orders fully received in the period"
    return [
        Measure("lead_time.mean", f"mean of {what}", total, n, _round(mean), "days", ORDERS, ids),
        Measure(
            "lead_time.sigma",
            f"population standard deviation of {what}",
            sigma if sigma is not None else Decimal(0),
            n,
            _round(sigma),
            "days",
            ORDERS,
            ids,
        ),
        Measure(
            "lead_time.cv",
            f"coefficient of variation (standard deviation ÷ mean) of {what}",
            sigma if sigma is not None else Decimal(0),
            mean or Decimal(0),
            None if cv is None else cv.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN),
            "ratio",
            ORDERS,
            ids,
        ),
    ]


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(ONE_PLACE, rounding=ROUND_HALF_EVEN)


def asn_measures(shipments: Iterable[Shipment], period: Period) -> list[Measure]:
    """Of the shipments received in the period: ASNs recorded before the day the goods
    arrived (those recorded before the hub kept the time are left out), and ASNs whose
    every line's quantity matches what was received."""
    timely, accurate = [], []
    for s in shipments:
        if s.received_date is None or s.received_date not in period:
            continue
        if s.recorded_at is not None:
            timely.append((s.id, *_binary(s.recorded_at.date() < s.received_date)))
        accurate.append((s.id, *_binary(all(shipped == got for shipped, got in s.lines))))
    return [
        _share(
            "asn.timely",
            "ASNs recorded before the day of receipt ÷ shipments received",
            SHIPMENTS,
            timely,
        ),
        _share(
            "asn.accurate",
            "ASNs whose every line matches the quantity received ÷ shipments received",
            SHIPMENTS,
            accurate,
        ),
    ]


def acknowledged_in_time(orders: Iterable[Order], period: Period, as_of: dt.datetime) -> Measure:
    """Orders placed in the period and acknowledged within 24 h of being placed ÷ those
    that could be (answered, or placed over 24 h ago); orders placed before the hub
    stamped placement are left out, cancelled ones too, and rejected ones (Tandem keeps
    no time for a rejection, so it cannot say whether it came in time)."""
    judged = []
    for order in orders:
        if order.placed_at is None or order.status in ("cancelled", "rejected"):
            continue
        if order.placed_at.date() not in period:
            continue
        deadline = order.placed_at + ACK_WITHIN
        if order.acknowledged_at is None:
            if deadline < as_of:
                judged.append((order.id, *_binary(False)))
            continue
        judged.append((order.id, *_binary(order.acknowledged_at <= deadline)))
    return _share(
        "ack.24h",
        "orders acknowledged within 24 h of being placed ÷ orders placed (rejected ones left out)",
        ORDERS,
        judged,
    )


def jbp_adherence(actions: Iterable[Action], period: Period, as_of: dt.date) -> Measure:
    """Plan actions completed on time ÷ actions due in the period (dropped actions are
    not due)."""
    judged = []
    for a in actions:
        if a.status == "dropped" or a.due_date is None:
            continue
        if a.due_date in period and a.due_date < as_of:
            ok = a.status == "done" and a.completed_on is not None and a.completed_on <= a.due_date
            judged.append((a.id, *_binary(ok)))
    return _share("jbp.adherence", "plan actions completed on time ÷ actions due", ACTIONS, judged)


@dataclass(frozen=True)
class Resolution:
    """A CPFR exception as its time to resolution needs it."""

    id: int
    status: str
    closed_at: dt.datetime | None
    hours: Decimal | None  # from detection to close


def exception_response(resolutions: Iterable[Resolution], period: Period) -> list[Measure]:
    """Exceptions resolved in the period: the mean hours from detection to resolution,
    and the share resolved within 48 h (dismissed ones are not resolutions)."""
    done = [
        r
        for r in resolutions
        if r.status == "resolved"
        and r.closed_at is not None
        and r.hours is not None
        and r.closed_at.date() in period
    ]
    total = sum((r.hours for r in done if r.hours is not None), Decimal(0))
    mean = (total / len(done)).quantize(ONE_PLACE, rounding=ROUND_HALF_EVEN) if done else None
    return [
        Measure(
            "exceptions.hours_to_resolve",
            "mean hours from detection to resolution of the exceptions resolved in the period "
            "(dismissed ones left out)",
            total,
            Decimal(len(done)),
            mean,
            "hours",
            EXCEPTIONS,
            tuple(r.id for r in done),
        ),
        _share(
            "exceptions.within_48h",
            "exceptions resolved within 48 h of detection ÷ exceptions resolved",
            EXCEPTIONS,
            [
                (r.id, *_binary(r.hours is not None and r.hours <= RESOLVE_WITHIN_HOURS))
                for r in done
            ],
        ),
    ]


def scorecard(
    orders: Sequence[Order],
    shipments: Sequence[Shipment],
    actions: Sequence[Action],
    period: Period,
    now: dt.datetime,
    settings: Settings | None = None,
    retail: Retail | None = None,
    promotions: Sequence[Promotion] = (),
    resolutions: Sequence[Resolution] = (),
) -> list[Measure]:
    """Every KPI of one pair over one period, judged as of ``now``. ``retail`` and
    ``promotions`` hold only what the distributor shares with the pair's supplier."""
    settings = settings or Settings()
    as_of = now.date()
    measures = [
        otif(orders, period, as_of, level, basis) for level in OTIF_LEVELS for basis in BASES
    ]
    measures += arrival_window(orders, period, as_of, settings.window_early_days)
    measures.append(perfect_order(orders, period, as_of))
    measures += fill_rates(orders, period, as_of)
    measures += lead_time(orders, period)
    measures += asn_measures(shipments, period)
    measures.append(acknowledged_in_time(orders, period, now))
    measures.append(jbp_adherence(actions, period, as_of))
    measures += retail_measures(retail or Retail(), period, as_of)
    measures += promotion_measures(promotions, period, as_of)
    measures += exception_response(resolutions, period)
    return measures


def digest(measures: Iterable[Measure]) -> str:
    """A fingerprint of a scorecard's figures and the records behind them: the job
    rewrites a stored scorecard only when it changes."""
    text = json.dumps([_plain(m) for m in measures], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(m: Measure) -> dict[str, Any]:
    return {**m.__dict__, "basis": list(m.basis), "misses": list(m.misses)}


# -- how the figures are read -----------------------------------------------------------

#: Each KPI's name on pages and in the review pack, in the order they are shown.
KPI_NAMES = {
    "otif.order.promised": "OTIF, orders, to commitment",
    "otif.order.requested": "OTIF, orders, to request",
    "otif.unit.promised": "OTIF, units, to commitment",
    "otif.unit.requested": "OTIF, units, to request",
    "otif.case.promised": "OTIF, cases, to commitment",
    "otif.case.requested": "OTIF, cases, to request",
    "otif.window.on_time": "Arrival window: on time",
    "otif.window.in_full": "Arrival window: in full",
    "perfect_order": "Perfect order",
    "fill.line": "Line fill",
    "fill.unit": "Unit fill",
    "fill.order": "Order fill",
    "fill.first_time": "First-time fill",
    "lead_time.mean": "Lead time, mean",
    "lead_time.sigma": "Lead time, standard deviation",
    "lead_time.cv": "Lead time, coefficient of variation",
    "asn.timely": "ASN before receipt",
    "asn.accurate": "ASN accuracy",
    "ack.24h": "Acknowledged within 24 h",
    "jbp.adherence": "JBP adherence",
    "sell_through": "Sell-through",
    "wos": "Weeks of supply, on hand",
    "in_stock": "In-stock",
    "promo.uplift": "Promotion uplift",
    "promo.on_plan": "Promotions at or above plan",
    "exceptions.hours_to_resolve": "Exception resolution, mean hours",
    "exceptions.within_48h": "Exceptions resolved within 48 h",
}
#: Where a smaller figure is the better one.
LOWER_IS_BETTER = frozenset(
    {"lead_time.mean", "lead_time.sigma", "lead_time.cv", "exceptions.hours_to_resolve"}
)


def headline(settings: Settings) -> tuple[str, ...]:
    """The KPIs a pair's summary leads with: its own OTIF variant first."""
    return (settings.headline_otif, "fill.unit", "perfect_order", "ack.24h", "lead_time.mean")


def off_target(kpi: str, value: Decimal | None, target: Decimal | None) -> bool | None:
    """Whether a value misses its plan target (None: no value or no target)."""
    if value is None or target is None:
        return None
    return value > target if kpi in LOWER_IS_BETTER else value < target


# -- promotion performance ----------------------------------------------------------------

BASELINE_WEEKS = 4
UPLIFT_VARIANT = (
    "average weekly units of the promoted SKU-stores in the promotion's weeks against their "
    f"average over the {BASELINE_WEEKS} whole weeks before it"
)


@dataclass(frozen=True)
class Uplift:
    """A promotion's lift: ``baseline`` and ``during`` are average weekly units; ``pct``
    the lift in percent and ``vs_plan`` its difference from the planned lift, in points
    (None when there is no baseline, or no plan)."""

    baseline: Decimal | None
    during: Decimal | None
    pct: Decimal | None
    vs_plan: Decimal | None


def promotion_weeks(start: dt.date, end: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """The Mondays of the ISO weeks a promotion runs in, and of the baseline weeks."""
    first = start - dt.timedelta(days=start.weekday())
    during = []
    monday = first
    while monday <= end:
        during.append(monday)
        monday += dt.timedelta(days=7)
    baseline = [first - dt.timedelta(days=7 * k) for k in range(BASELINE_WEEKS, 0, -1)]
    return during, baseline


def uplift(
    weekly: Mapping[dt.date, int], start: dt.date, end: dt.date, planned_pct: int | None
) -> Uplift:
    """A promotion's lift from the weekly units of its SKU-stores (by the week's Monday;
    a week with no row sold nothing)."""
    during_weeks, baseline_weeks = promotion_weeks(start, end)
    baseline = Decimal(sum(weekly.get(w, 0) for w in baseline_weeks)) / len(baseline_weeks)
    during = Decimal(sum(weekly.get(w, 0) for w in during_weeks)) / len(during_weeks)
    if baseline <= 0:
        return Uplift(_round(baseline), _round(during), None, None)
    pct = ((during - baseline) * 100 / baseline).quantize(ONE_PLACE, rounding=ROUND_HALF_EVEN)
    vs_plan = None if planned_pct is None else pct - planned_pct
    return Uplift(_round(baseline), _round(during), pct, vs_plan)


def quarter_named(label: str, fiscal_start_month: int = 1) -> Period:
    """The quarter a label names: ``2026-Q4``, or ``FY2026-Q4`` in a fiscal year that
    starts in another month (the year it starts in)."""
    text = label.strip().upper()
    head, sep, tail = text.removeprefix("FY").partition("-Q")
    if not (sep and head.isdigit() and len(head) == 4 and tail in ("1", "2", "3", "4")):
        raise ValueError(f"quarter: expected YYYY-Qn (e.g. 2026-Q4), found {label!r}")
    y, m = _add_months(int(head), fiscal_start_month, (int(tail) - 1) * 3)
    return period_of(dt.date(y, m, 1), "quarter", fiscal_start_month)


# -- sell-through, weeks of supply, in-stock: from the weekly POS rollups ---------------

#: Where the rows behind these figures are read: the sell-through page of the pair.
SALES = "pos_week_location"
WOS_LOOKBACK_WEEKS = 4
SELL_THROUGH_VARIANT = (
    f"{kpis.SELL_THROUGH_VARIANT}: the period's ISO weeks ended so far (a week is in the "
    "period of its Thursday) and its last store snapshot"
)
WOS_VARIANT = (
    "store on hand at the period's last snapshot ÷ average weekly units sold over the "
    f"{WOS_LOOKBACK_WEEKS} ISO weeks ending with the period's last"
)
IN_STOCK_VARIANT = "store-SKU-days with on hand > 0 ÷ all store-SKU-days in the period's snapshots"
SHARED_NOTE = "; POS and stock as the distributor shares them with the pair's supplier"


@dataclass(frozen=True)
class Snapshot:
    """A day's store stock of the pair's SKUs: units on hand, store-SKU rows, and how
    many of those have stock."""

    on_hand: int
    positions: int
    in_stock: int


@dataclass(frozen=True)
class Retail:
    """A pair's POS and store stock, only as the distributor shares them with the pair's
    supplier: units sold per shared ISO week (by its Monday; a shared week with no row
    sold nothing), the Mondays shared, and the shared store snapshots by day."""

    weekly: Mapping[dt.date, int] = field(default_factory=dict)
    shared: frozenset[dt.date] = frozenset()
    snapshots: Mapping[dt.date, Snapshot] = field(default_factory=dict)


def period_weeks(period: Period) -> list[dt.date]:
    """The Mondays of the ISO weeks in a period: those whose Thursday falls in it (as
    :func:`domain.kpis.retail_month` gives a week its month)."""
    monday = period.start - dt.timedelta(days=period.start.weekday())
    if monday + dt.timedelta(days=3) < period.start:  # its Thursday is before the period
        monday += dt.timedelta(days=7)
    weeks = []
    while monday + dt.timedelta(days=3) <= period.end:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def _none(kpi: str, variant: str, unit: str) -> Measure:
    return Measure(kpi, variant, Decimal(0), Decimal(0), None, unit, SALES)


def retail_measures(retail: Retail, period: Period, as_of: dt.date) -> list[Measure]:
    """Sell-through, weeks of supply on hand and in-stock for one period, to date (its
    weeks ended before ``as_of``): each is None unless every week (and a snapshot) it
    needs is shared, never a figure over weeks not shared taken as 0."""
    weeks = [w for w in period_weeks(period) if w + dt.timedelta(days=6) < as_of]
    days = sorted(d for d in retail.snapshots if d in period)
    # The stock that goes with the sales: the last snapshot by the end of the last
    # week counted (a later one has the current week's sales taken off already).
    upto = weeks[-1] + dt.timedelta(days=6) if weeks else period.start - dt.timedelta(days=1)
    closing = [d for d in days if d <= upto]
    last = retail.snapshots[closing[-1]] if closing else None
    sold_known = bool(weeks) and all(w in retail.shared for w in weeks)
    sold = sum(retail.weekly.get(w, 0) for w in weeks)
    through = _none("sell_through", SELL_THROUGH_VARIANT + SHARED_NOTE, "%")
    if sold_known and last is not None:
        through = Measure(
            "sell_through",
            through.variant,
            Decimal(sold),
            Decimal(sold + last.on_hand),
            kpis.sell_through_pct(sold, last.on_hand),
            "%",
            SALES,
        )
    supply = _none("wos", WOS_VARIANT + SHARED_NOTE, "weeks")
    if weeks and last is not None:
        lookback = [weeks[-1] - dt.timedelta(days=7 * k) for k in range(WOS_LOOKBACK_WEEKS)]
        if all(w in retail.shared for w in lookback):
            units = [retail.weekly.get(w, 0) for w in lookback]
            average = kpis.average_weekly(units) or Decimal(0)
            supply = Measure(
                "wos",
                supply.variant,
                Decimal(last.on_hand),
                average,
                kpis.weeks_of_supply(last.on_hand, units),
                "weeks",
                SALES,
            )
    ranged = sum(retail.snapshots[d].positions for d in days)
    stocked = sum(retail.snapshots[d].in_stock for d in days)
    in_stock = Measure(
        "in_stock",
        IN_STOCK_VARIANT + SHARED_NOTE,
        Decimal(stocked),
        Decimal(ranged),
        kpis.in_stock_pct(stocked, ranged) if ranged else None,
        "%",
        SALES,
    )
    return [through, supply, in_stock]


# -- promotion performance, per period ----------------------------------------------------

PROMOTIONS = "promotions"
#: The statuses of a promotion that ran (was agreed by both sides).
PROMOTIONS_RAN = ("accepted",)


@dataclass(frozen=True)
class Promotion:
    """A promotion that ran, with the weekly units of its SKU-stores (None when the
    distributor does not share every week and store of its baseline and run, or its
    last week has not ended)."""

    id: int
    start: dt.date
    end: dt.date
    planned_pct: int | None
    weekly: Mapping[dt.date, int] | None


def _averages(p: Promotion) -> tuple[Decimal, Decimal]:
    """Exact average weekly units of the baseline weeks and of the promotion's weeks."""
    assert p.weekly is not None
    during, baseline = promotion_weeks(p.start, p.end)
    return (
        Decimal(sum(p.weekly.get(w, 0) for w in baseline)) / len(baseline),
        Decimal(sum(p.weekly.get(w, 0) for w in during)) / len(during),
    )


def promotion_measures(
    promotions: Iterable[Promotion], period: Period, as_of: dt.date
) -> list[Measure]:
    """The promotions that ended in the period (before ``as_of``) with their POS shared
    whole: their uplift together (the extra average weekly units over the baselines'
    sum), and how many met their planned uplift. One with no baseline sales has no
    lift and is left out of both."""
    lifted = []
    for p in sorted(promotions, key=lambda p: p.id):
        if p.weekly is None or p.end not in period or p.end >= as_of:
            continue
        baseline, during = _averages(p)
        if baseline > 0:
            lifted.append((p, baseline, during))
    base = sum((b for _, b, _ in lifted), Decimal(0))
    extra = sum((d - b for _, b, d in lifted), Decimal(0))
    together = Measure(
        "promo.uplift",
        UPLIFT_VARIANT + ", summed over the promotions that ended in the period" + SHARED_NOTE,
        extra,
        base,
        _pct(extra, base),
        "%",
        PROMOTIONS,
        tuple(p.id for p, _, _ in lifted),
        tuple(p.id for p, b, d in lifted if d <= b),
    )
    planned = [
        (p.id, *_binary((_pct(d - b, b) or Decimal(0)) >= p.planned_pct))
        for p, b, d in lifted
        if p.planned_pct is not None
    ]
    on_plan = _share(
        "promo.on_plan",
        "promotions whose uplift reached the planned uplift ÷ promotions with a plan" + SHARED_NOTE,
        PROMOTIONS,
        planned,
    )
    return [together, on_plan]
