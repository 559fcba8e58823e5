"""The sell-through and inventory reports of a supplier (what distributors share with
it), of a distributor (its own stores), and of an account manager (one pair, by that
pair's agreements), assembled from governed reads.

Every figure comes through :class:`~portal.data.DataAccess` with the user's own hub
session: POS from the weekly rollups (``summary``), inventory from the shared
inventory rows, promotions, feeds and names from their resources. The formulas are the
pure functions of :mod:`domain.kpis`. Independent reads run side by side on a small
thread pool, so a page costs about its slowest read, not their sum.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from cachetools import TTLCache

from domain import clock, kpis
from domain.ingest import feed_staleness
from domain.listing import Slice, natural_key, ordered, page_of
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from domain.sharing import Agreement, Coverage, Store, pos_coverage, shared_weeks
from portal.data.access import DataAccess, as_int
from portal.data.errors import NotFound
from portal.data.scope import Filter, all_of

T = TypeVar("T")

BIG_PAGE = 1_000_000
FEED_FIELDS = ["id", "distributor", "kind", "data_through", "received_at", "stale_after_days"]
PROMOTION_FIELDS = ["id", "name", "type", "status", "start_date", "end_date", "partnership"]


@dataclass(frozen=True)
class InsightQuery:
    """What the user asked for; ``first``/``last`` are already whole ISO weeks."""

    first: dt.date
    last: dt.date
    grain: str = "week"  # week | month
    lookback: int = 4
    distributor: int | None = None
    supplier: int | None = None  # a distributor's analysis of one supplier's SKUs
    sku: int | None = None
    category: str | None = None
    region: str | None = None
    location: int | None = None
    pair: int | None = None  # one of the user's pairs (a manager's pair pages)

    @property
    def level(self) -> str:
        """What the table breaks the figures down by: SKUs, a SKU's locations, or weeks."""
        if self.sku is None:
            return "sku"
        if self.location is None:
            return "location"
        return "week"


@dataclass
class Row:
    """One line of the breakdown table (a SKU, or a location of one SKU).

    ``units`` sum the shared weeks of the range. ``previous_units`` is None when the
    previous period and the range are not both wholly shared (a period never shared is
    not a period of no sales), and the stock figures are None when no stock is shared.
    """

    key: int
    label: str
    units: int = 0
    net_sales: dict[str, int] = field(default_factory=dict)
    previous_units: int | None = 0
    store_on_hand: int | None = 0
    in_transit: int | None = 0
    dc_on_hand: int | None = 0
    on_order: int | None = 0
    weekly: dict[dt.date, int] = field(default_factory=dict)
    in_stock: int = 0
    ranged: int = 0
    wos: Decimal | None = None
    wos_pipeline: Decimal | None = None
    band: kpis.Band | None = None
    sell_through: Decimal | None = None
    lookback_shared: bool = True  # every week of the WOS lookback is shared
    pipeline_shared: bool = True  # the same, of the pipeline variant's weeks

    @property
    def change(self) -> int | None:
        return None if self.previous_units is None else self.units - self.previous_units

    @property
    def new(self) -> bool:
        """Sold this period and nothing in the previous one, which was shared."""
        return self.previous_units == 0 and self.units > 0

    @property
    def in_stock_pct(self) -> Decimal | None:
        return kpis.in_stock_pct(self.in_stock, self.ranged)


@dataclass
class Feed:
    """A feed as the data-freshness table shows it: ``cadence`` in days, set or learned
    (``cadence_source``), and the ``expected`` next data-through."""

    distributor: str
    kind: str
    data_through: str | None
    received_at: str | None
    stale: bool
    cadence: int | None = None
    cadence_source: str | None = None
    expected: dt.date | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any], org_names: Mapping[int, str]) -> Feed:
        """A row of :func:`feeds_with_staleness`, under its distributor's name."""
        d = int(row["distributor"])
        return cls(org_names.get(d, f"#{d}"), row["kind"], row.get("data_through"),
                   row.get("received_at"), row["stale"], row.get("cadence"),
                   row.get("cadence_source"), row.get("expected"))  # fmt: skip


class TrendPoint(NamedTuple):
    """A week or a month of the trend. ``units`` is None when none of its weeks is
    shared with the user; ``partial`` when some of them (or some distributors' weeks)
    are not, so the figure is of the shared part only."""

    label: str
    start: dt.date  # its first day
    end: dt.date  # its last day
    units: int | None
    partial: bool = False


@dataclass
class Report:
    query: InsightQuery
    sharing: dict[int, str]  # distributors sharing POS with the user: id -> name
    inventory_sharing: dict[int, str]
    empty: str | None  # why there is nothing to show, in words
    inventory_note: str | None
    points: list[TrendPoint]
    weekly: dict[dt.date, int]  # units per week in the range (the points, before months)
    promotions: list[dict[str, Any]]
    rows: list[Row]
    total: Row
    movers: kpis.Movers[int]
    feeds: list[Feed]
    stock_day: str | None  # the inventory snapshot the stock figures are from
    labels: dict[str, dict[int, str]]  # sku / location / distributor / partners: id -> name
    categories: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    coverage: Coverage = field(default_factory=lambda: Coverage(frozenset(), frozenset()))
    coverage_note: str | None = None  # which weeks are not shared, and why
    sku_suppliers: dict[int, str] = field(default_factory=dict)  # SKU id -> its supplier


def _parallel(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=min(4, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _pos_filters(q: InsightQuery) -> dict[str, Any]:
    return {
        "distributor": q.distributor,
        "supplier": q.supplier,
        "sku": q.sku,
        "category": q.category,
        "region": q.region,
        "location": q.location,
    }


def _inventory_where(q: InsightQuery) -> list[Filter]:
    rules: list[Filter] = []
    for name in ("distributor", "sku", "location"):
        value = getattr(q, name)
        if value is not None:
            rules.append({name: {"_eq": value}})
    if q.region is not None:
        rules.append({"location": {"region": {"_eq": q.region}}})
    if q.category is not None:
        rules.append({"sku": {"category": {"_eq": q.category}}})
    if q.supplier is not None:
        rules.append({"sku": {"supplier": {"_eq": q.supplier}}})
    return rules


def _store(kind: str) -> Filter:
    return {"location": {"kind": {"_eq": kind}}}


def sku_label(sku: Mapping[str, Any]) -> str:
    """How the pages name a SKU: its description and GTIN."""
    return f"{sku.get('description') or 'SKU'} ({sku['gtin']})"


def location_label(location: Mapping[str, Any]) -> str:
    """How the pages name a location: its name and code."""
    return f"{location.get('name') or 'Location'} ({location['code']})"


def _names(
    rows: Sequence[Mapping[str, Any]], label: Callable[[Mapping[str, Any]], str]
) -> dict[int, str]:
    return {int(r["id"]): label(r) for r in rows}


def default_range(today: dt.date, weeks: int = 13) -> tuple[dt.date, dt.date]:
    """The last ``weeks`` whole ISO weeks before this one."""
    last = _monday(today) - dt.timedelta(days=1)
    return last - dt.timedelta(days=7 * weeks - 1), last


class ReportCache:
    """Computed reports, reused while nothing they depend on has changed.

    A key holds the user's organization and role, the agreements in force and the
    partnerships (so a grant, a revocation or an expiry misses at once), every feed's
    last delivery (so an import misses at once), the day, and the query. Entries also
    expire after ``ttl_s``, which bounds how stale a report can be after a write that
    bypasses the feeds (an inventory row changed through the REST API).
    """

    def __init__(self, ttl_s: int, maxsize: int = 512) -> None:
        self._cache: TTLCache[Hashable, Any] | None = (
            TTLCache(maxsize=maxsize, ttl=ttl_s) if ttl_s > 0 else None
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if self._cache is None:
            return make()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            self._cache[key] = value
        return value


NO_CACHE = ReportCache(0)


def _scope_key(acc: DataAccess) -> tuple[Hashable, ...]:
    """What the user may see depends on: role, organization, day, agreements, pairs."""
    scope = acc.scope
    return (
        acc.role,
        acc.org,
        scope.today,
        tuple(sorted(scope.agreements_in_force, key=lambda a: a.id)),
        tuple(sorted(scope.pairs.items())),
    )


def _fingerprint(acc: DataAccess, feeds: Sequence[Mapping[str, Any]]) -> Hashable:
    """The scope, and every feed's last delivery: what a report's figures depend on."""
    return (
        *_scope_key(acc),
        tuple(sorted((int(f["distributor"]), f["kind"], f.get("received_at"),
                      f.get("data_through")) for f in feeds)),
    )  # fmt: skip


def visible_names(acc: DataAccess, cache: ReportCache = NO_CACHE) -> Names:
    """The organizations, SKUs and locations the user may see, read once per scope."""
    _warm_scope(acc)
    return cache.get(("names", _scope_key(acc)), lambda: _names_of(acc))


def org_names(acc: DataAccess, cache: ReportCache = NO_CACHE) -> dict[int, str]:
    """The names of the organizations the user may see, by id."""
    return {int(o["id"]): o["name"] for o in visible_names(acc, cache).orgs}


def pair_labels(acc: DataAccess, cache: ReportCache = NO_CACHE) -> dict[int, str]:
    """Each partnership the user sees, named by the other side (both for a manager), as
    the pages' partner filters and columns show it."""
    names = org_names(acc, cache)
    labels = {}
    for p in acc.scope.pairs.values():
        supplier = names.get(p.supplier, f"supplier {p.supplier}")
        distributor = names.get(p.distributor, f"distributor {p.distributor}")
        if acc.role == DISTRIBUTOR_USER:
            labels[p.id] = supplier
        elif acc.role == SUPPLIER_USER:
            labels[p.id] = distributor
        else:
            labels[p.id] = f"{supplier} / {distributor}"
    return labels


def _warm_scope(acc: DataAccess) -> None:
    """Look the user's pairs and agreements up once, before reads fan out to threads."""
    acc.scope.agreements_in_force  # noqa: B018 - cached property
    acc.scope.pairs  # noqa: B018 - the same


def sell_through(
    acc: DataAccess, q: InsightQuery, stale_after_days: int, cache: ReportCache = NO_CACHE
) -> Report:
    """The whole report for one supplier user (or manager's pair) and one query.

    Promotions are read on every request; the figures are reused from ``cache`` while
    the scope and the deliveries are unchanged.
    """
    _warm_scope(acc)
    promotions, feeds = _parallel(
        lambda: _promotions(acc, q), lambda: feeds_with_staleness(acc, stale_after_days)
    )
    fingerprint = _fingerprint(acc, feeds)
    names = visible_names(acc, cache)
    weeks = replace(q, grain="week")  # months are summed from weeks: one entry for both

    def make() -> Report:
        today = acc.scope.today
        if _fits_cube(weeks, today):
            cube = cache.get(("cube", fingerprint), lambda: _cube(acc, today))
            inputs = _from_cube(cube, weeks, names)
        else:
            inputs = _read_inputs(acc, weeks)
        return _sell_through(acc, weeks, feeds, inputs, names)

    report = cache.get(("sell-through", fingerprint, weeks), make)
    points = _points(report.weekly, q, report.coverage)
    return replace(report, query=q, points=points, promotions=promotions)


@dataclass(frozen=True)
class Names:
    """Organizations, SKUs and locations the user may see (for labels and filters)."""

    orgs: list[dict[str, Any]]
    skus: list[dict[str, Any]]
    locations: list[dict[str, Any]]


@dataclass(frozen=True)
class Inputs:
    """What a report is assembled from: POS by week (and SKU or location), each
    distributor's latest snapshot day, stock by SKU or location at it, and in-stock
    counts."""

    pos: list[dict[str, Any]]
    latest: dict[int, str]
    stores: list[dict[str, Any]]
    dcs: list[dict[str, Any]]
    in_stock: list[dict[str, Any]]
    ranged: list[dict[str, Any]]


@dataclass(frozen=True)
class Cube:
    """A year of a user's figures at the grain of a SKU and a distributor, read once per
    scope and delivery: POS by week, stock by SKU and location at each distributor's
    latest snapshot, and store in-stock counts by SKU, day and distributor. Every
    report by SKU or in total over its weeks (any distributor or category) is then
    filtered and summed here, with no further hub read."""

    first: dt.date
    last: dt.date
    pos: list[dict[str, Any]]
    latest: dict[int, str]
    stock: list[dict[str, Any]]
    in_stock: list[dict[str, Any]]
    ranged: list[dict[str, Any]]


CUBE_WEEKS = 53
STOCK_FIELDS = ["on_hand", "in_transit", "on_order"]


def _names_of(acc: DataAccess) -> Names:
    orgs, skus, locations = _parallel(*_reference_reads(acc))
    return Names(orgs, skus, locations)


def _fetch_range(q: InsightQuery) -> tuple[dt.date, dt.date, dt.date]:
    """The first day of the weeks the report reads, the lookback's and the previous
    range's first days."""
    lookback_first = q.last - dt.timedelta(days=7 * q.lookback - 1)
    previous_first, _ = kpis.previous_range(q.first, q.last)
    pipeline_first = q.last - dt.timedelta(days=7 * kpis.PIPELINE_WEEKS - 1)
    return min(previous_first, lookback_first, pipeline_first), lookback_first, previous_first


def _cube_window(today: dt.date) -> tuple[dt.date, dt.date]:
    return default_range(today, weeks=CUBE_WEEKS)


def _fits_cube(q: InsightQuery, today: dt.date) -> bool:
    first, last = _cube_window(today)
    fetch_first, _, _ = _fetch_range(q)
    return (
        q.level == "sku" and q.region is None and q.location is None
        and q.last == last and fetch_first >= first
    )  # fmt: skip


def _cube(acc: DataAccess, today: dt.date) -> Cube:
    first, last = _cube_window(today)
    inv_day = {"day": {"_between": [first.isoformat(), last.isoformat()]}}
    pos_query = {"from": first, "to": last, "per_page": BIG_PAGE}
    pos, latest, in_stock, ranged = _parallel(
        lambda: acc.summary("pos-sales", ["week", "sku", "distributor"], pos_query).rows,
        lambda: acc.latest(
            "inventory-positions", "day", "distributor", {"day": {"_lte": last.isoformat()}}
        ),
        lambda: acc.sums("inventory-positions", [], ["sku", "day", "distributor"],
                         all_of(_store("store"), {"on_hand": {"_gt": 0}}, inv_day)),
        lambda: acc.sums("inventory-positions", [], ["sku", "day", "distributor"],
                         all_of(_store("store"), inv_day)),
    )  # fmt: skip
    stock = (
        acc.sums("inventory-positions", STOCK_FIELDS, ["sku", "location"], _snapshots(latest))
        if latest
        else []
    )
    return Cube(first, last, pos, latest, stock, in_stock, ranged)


def _snapshots(latest: Mapping[int, str]) -> Filter:
    """Each distributor's latest snapshot (a day per distributor)."""
    return {"_or": [{"_and": [{"distributor": {"_eq": d}}, {"day": {"_eq": day}}]}
                    for d, day in latest.items()]}  # fmt: skip


def _from_cube(cube: Cube, q: InsightQuery, names: Names) -> Inputs:
    """The inputs of a report by SKU, filtered and summed from the cube."""
    fetch_first, _, _ = _fetch_range(q)
    category = {int(s["id"]): s.get("category") for s in names.skus}
    supplier = {int(s["id"]): s.get("supplier") for s in names.skus}
    places = {int(x["id"]): x for x in names.locations}

    def wanted(sku: Any, distributor: Any) -> bool:
        if q.distributor is not None and int(distributor) != q.distributor:
            return False
        if q.supplier is not None and supplier.get(int(sku)) != q.supplier:
            return False
        return q.category is None or category.get(int(sku)) == q.category

    pos = [
        r for r in cube.pos
        if wanted(r["sku"], r["distributor"]) and fetch_first <= _day(r["week_start"]) <= q.last
    ]  # fmt: skip
    stores: dict[tuple[str, int], dict[str, Any]] = {}
    stocked: set[int] = set()  # distributors with a snapshot row the filters keep
    for r in cube.stock:
        place = places.get(int(r["location"]))
        if place is None or not wanted(r["sku"], place["distributor"]):
            continue
        stocked.add(int(place["distributor"]))
        kind = "store" if place.get("kind") == "store" else "dc"
        group = stores.setdefault((kind, int(r["sku"])), {"sku": int(r["sku"]),
                                  **dict.fromkeys(STOCK_FIELDS, 0)})  # fmt: skip
        for f in STOCK_FIELDS:
            group[f] += r[f]

    def counts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: dict[int, int] = defaultdict(int)
        for g in groups:
            if wanted(g["sku"], g["distributor"]) and q.first <= _day(g["day"]) <= q.last:
                out[int(g["sku"])] += g["count"]
        return [{"sku": k, "count": v} for k, v in out.items()]

    return Inputs(
        pos=pos,
        latest={d: day for d, day in cube.latest.items() if d in stocked},
        stores=[g for (kind, _), g in stores.items() if kind == "store"],
        dcs=[g for (kind, _), g in stores.items() if kind == "dc"],
        in_stock=counts(cube.in_stock),
        ranged=counts(cube.ranged),
    )


def _read_inputs(acc: DataAccess, q: InsightQuery) -> Inputs:
    """The inputs of any report, read from the hub for this query alone."""
    fetch_first, _, _ = _fetch_range(q)
    by_location = q.level == "location"
    group = ["week", "location"] if by_location else ["week", "sku"]
    pos_query = {**_pos_filters(q), "from": fetch_first, "to": q.last, "per_page": BIG_PAGE}
    inv_where = _inventory_where(q)
    pos, latest = _parallel(
        lambda: acc.summary("pos-sales", group, pos_query).rows,
        lambda: acc.latest(
            "inventory-positions",
            "day",
            "distributor",
            all_of(*inv_where, {"day": {"_lte": q.last.isoformat()}}),
        ),
    )
    stock_where = [_snapshots(latest)] if latest else []
    key_field = "location" if by_location else "sku"
    week_first = q.first.isoformat()
    stores, dcs, in_stock, ranged = _parallel(
        lambda: acc.sums("inventory-positions", STOCK_FIELDS,
                         [key_field], all_of(*inv_where, *stock_where, _store("store")))
        if latest else [],
        lambda: acc.sums("inventory-positions", STOCK_FIELDS,
                         ["sku"], all_of(*inv_where, *stock_where, _store("dc")))
        if latest and not by_location else [],
        lambda: acc.sums("inventory-positions", [], [key_field], all_of(
            *inv_where, _store("store"), {"on_hand": {"_gt": 0}},
            {"day": {"_between": [week_first, q.last.isoformat()]}})),
        lambda: acc.sums("inventory-positions", [], [key_field], all_of(
            *inv_where, _store("store"), {"day": {"_between": [week_first, q.last.isoformat()]}})),
    )  # fmt: skip
    return Inputs(pos, latest, stores, dcs, in_stock, ranged)


def _sell_through(
    acc: DataAccess,
    q: InsightQuery,
    feeds: list[dict[str, Any]],
    inputs: Inputs,
    names: Names,
) -> Report:
    in_force = acc.scope.agreements_in_force
    sharing_ids, inventory_ids = _sources(acc, "pos"), _sources(acc, "inventory")
    _, lookback_first, previous_first = _fetch_range(q)
    by = {"sku": "sku", "location": "location", "week": None}[q.level]
    orgs, skus = names.orgs, names.skus
    locations = [x for x in names.locations if q.distributor in (None, int(x["distributor"]))]
    pos, latest, stores, dcs = inputs.pos, inputs.latest, inputs.stores, inputs.dcs
    in_stock, ranged = inputs.in_stock, inputs.ranged
    org_names = _names(orgs, lambda r: str(r["name"]))
    sku_names = _names(skus, sku_label)
    location_names = _names(locations, location_label)
    key_field = "location" if by == "location" else "sku"
    fetch_first, _, _ = _fetch_range(q)
    coverage, coverage_of = _pos_coverage(acc, q, names, fetch_first, sharing_ids)
    current_weeks = _weeks(q.first, q.last)
    compared = [*_weeks(previous_first, q.first - dt.timedelta(days=1)), *current_weeks]

    rows: dict[int, Row] = {}

    def row_of(key: int) -> Row:
        if key not in rows:
            if by == "location":
                rows[key] = Row(key, location_names.get(key, "a location you do not see"))
            else:
                rows[key] = Row(key, sku_names.get(key, "a SKU you do not see"))
        return rows[key]

    total = Row(0, "Total")

    def targets(key: int) -> tuple[Row, ...]:
        """The rows a figure adds to: its line of the table and the total."""
        return (row_of(key), total) if by else (total,)

    for r in pos:
        week = _day(r["week_start"])
        units = as_int(r["units"], "units")
        money = as_int(r["net_sales_minor"], "money")
        for row in targets(int(r[key_field])):
            row.weekly[week] = row.weekly.get(week, 0) + units
            if q.first <= week <= q.last:
                row.units += units
                row.net_sales[r["currency"]] = row.net_sales.get(r["currency"], 0) + money
            elif previous_first <= week < q.first:
                row.previous_units += units
    for group in stores:
        for row in targets(int(group[key_field])):
            row.store_on_hand += group["on_hand"]
            row.in_transit += group["in_transit"]
            row.on_order += group["on_order"]
    for group in dcs:
        for row in targets(int(group["sku"])):
            row.dc_on_hand += group["on_hand"]
            row.in_transit += group["in_transit"]
            row.on_order += group["on_order"]
    for groups, attr in ((in_stock, "in_stock"), (ranged, "ranged")):
        for group in groups:
            for row in targets(int(group[key_field])):
                setattr(row, attr, getattr(row, attr) + group["count"])

    lookback_weeks = _weeks(lookback_first, q.last)
    pipeline_weeks = _weeks(q.last - dt.timedelta(days=7 * kpis.PIPELINE_WEEKS - 1), q.last)
    has_stock = bool(latest)
    for row in [*rows.values(), total]:
        shared = coverage_of(row.key) if by == "location" and row is not total else coverage
        if not shared.covers(compared):
            row.previous_units = None
        _figures(row, lookback_weeks, pipeline_weeks, has_stock, shared, current_weeks)

    listed = sorted(rows.values(), key=lambda r: (-r.units, r.label))
    comparable = {k: r for k, r in rows.items() if r.previous_units is not None}
    movers = kpis.movers(
        {k: r.units for k, r in comparable.items()},
        {k: r.previous_units or 0 for k, r in comparable.items()},
    ) if by else kpis.Movers([], [], [])  # fmt: skip
    weekly = {w: u for w, u in total.weekly.items() if q.first <= w <= q.last}
    points = _points(weekly, q, coverage)
    report = Report(
        query=q,
        sharing={d: org_names.get(d, f"#{d}") for d in sharing_ids},
        inventory_sharing={d: org_names.get(d, f"#{d}") for d in inventory_ids},
        empty=None,
        inventory_note=None,
        points=points,
        weekly=weekly,
        promotions=[],
        rows=listed,
        total=total,
        movers=movers,
        feeds=[
            Feed.of(f, org_names)
            for f in feeds if not q.distributor or int(f["distributor"]) == q.distributor
        ],
        stock_day=max(latest.values()) if latest else None,
        labels={"sku": sku_names, "location": location_names, "distributor": org_names,
                "partners": partner_labels(acc, org_names)},
    )  # fmt: skip
    report.sku_suppliers = {int(r["id"]): org_names.get(int(r["supplier"]), "")
                            for r in skus if r.get("supplier")}  # fmt: skip
    report.categories = sorted({str(r["category"]) for r in skus if r.get("category")})
    report.regions = sorted({str(r["region"]) for r in locations if r.get("region")})
    report.coverage = coverage
    whom = _whom(acc)
    report.empty = _why_empty(report, org_names, in_force, whom)
    report.coverage_note = _coverage_note(report, org_names, in_force, compared, whom)
    report.inventory_note = _inventory_note(report, org_names, whom)
    return report


def _sources(acc: DataAccess, kind: str) -> list[int]:
    """The distributors whose ``kind`` of data the report holds: those whose agreements
    in force share it with the user, or a distributor's own."""
    if not acc.scope.reads_by_agreement:
        return [acc.org] if acc.role == DISTRIBUTOR_USER and acc.org is not None else []
    return sorted({a.grantor for a in acc.scope.agreements_in_force if kind in a.kinds})


def partner_labels(acc: DataAccess, org_names: Mapping[int, str]) -> dict[int, str]:
    """The other side of a partner's pairs, by name, for its partner filter: a
    distributor's suppliers, a supplier's distributors (not every organization it may
    name); nothing for a manager, who picks a pair."""
    if acc.role == DISTRIBUTOR_USER:
        ids = {p.supplier for p in acc.scope.pairs.values()}
    elif acc.role == SUPPLIER_USER:
        ids = {p.distributor for p in acc.scope.pairs.values()}
    else:
        return {}
    named = ((i, org_names.get(i, "a partner you do not see")) for i in ids)
    return dict(sorted(named, key=lambda kv: kv[1]))


def _stores(locations: Sequence[Mapping[str, Any]], **match: Any) -> dict[int, list[Store]]:
    """The stores among ``locations`` (those the user may see) that match, by distributor."""
    out: dict[int, list[Store]] = defaultdict(list)
    for x in locations:
        if all(x.get(k) == v for k, v in match.items()):
            out[int(x["distributor"])].append(Store(int(x["id"]), x.get("region")))
    return out


def _pos_coverage(
    acc: DataAccess,
    q: InsightQuery,
    names: Names,
    first: dt.date,
    grantors: Sequence[int],
) -> tuple[Coverage, Callable[[int], Coverage]]:
    """Which weeks from ``first`` to the end of the range the report's POS covers
    (:func:`domain.sharing.pos_coverage`), in total and for one location's line. The
    reads answer per store (the per-store rollup only) when a store or region is asked
    or the lines are locations. A distributor's (or an operator's) own data is whole."""
    mondays = _weeks(first, q.last)
    if not acc.scope.reads_by_agreement:
        full = Coverage.full(mondays)
        return full, lambda _location: full
    agreements = acc.scope.agreements_in_force
    per_store = q.level == "location" or q.region is not None or q.location is not None
    stores: dict[int, list[Store]] | None = None
    if q.location is not None:
        stores = _stores(names.locations, id=q.location)
    elif q.region is not None:
        stores = _stores(names.locations, region=q.region)
    wanted = [g for g in grantors if q.distributor in (None, g)]
    total = pos_coverage(agreements, wanted, mondays, stores=stores, per_store=per_store)
    places = {int(x["id"]): x for x in names.locations}

    def of_location(location: int) -> Coverage:
        place = places.get(location)
        if place is None:
            return Coverage(frozenset(), frozenset())
        store = Store(location, place.get("region"))
        weeks = shared_weeks(agreements, int(place["distributor"]), mondays, stores=[store])
        return Coverage(weeks, weeks)

    return total, of_location


def _reference_reads(acc: DataAccess) -> list[Callable[[], Any]]:
    """The reads of names every report needs: organizations, SKUs, locations."""
    return [
        lambda: acc.rows("organizations", {}, fields=["id", "name", "kind"]),
        lambda: acc.rows(
            "skus",
            {},
            fields=["id", "gtin", "description", "category", "lead_time_days", "supplier"],
        ),
        lambda: acc.rows(
            "locations", {}, fields=["id", "code", "name", "region", "kind", "distributor"]
        ),
    ]


def _weeks(first: dt.date, last: dt.date) -> list[dt.date]:
    monday = _monday(first)
    out = []
    while monday <= last:
        out.append(monday)
        monday += dt.timedelta(days=7)
    return out


def _figures(
    row: Row,
    lookback: list[dt.date],
    pipeline: list[dt.date],
    has_stock: bool,
    shared: Coverage,
    current: list[dt.date],
) -> None:
    """A line's stock figures and the KPIs made of them. With no stock shared they are
    None, not 0; a KPI over weeks that are not all shared is unknown (None) too."""
    if not has_stock:
        row.store_on_hand = row.in_transit = row.dc_on_hand = row.on_order = None
        return
    on_hand = row.store_on_hand or 0
    row.lookback_shared = shared.covers(lookback)
    row.pipeline_shared = shared.covers(pipeline)
    if row.lookback_shared:
        row.wos = kpis.weeks_of_supply(on_hand, [row.weekly.get(w, 0) for w in lookback])
        row.band = kpis.band(row.wos, on_hand)
    elif on_hand <= 0:
        row.band = kpis.Band.OUT  # no stock is out whatever it sold
    if row.pipeline_shared:
        stock = kpis.pipeline_stock(
            on_hand, row.in_transit or 0, row.dc_on_hand or 0, row.on_order or 0
        )
        row.wos_pipeline = kpis.weeks_of_supply(stock, [row.weekly.get(w, 0) for w in pipeline])
    if shared.covers(current):
        row.sell_through = kpis.sell_through_pct(row.units, on_hand)


def _points(weekly: Mapping[dt.date, int], q: InsightQuery, shared: Coverage) -> list[TrendPoint]:
    """The trend by week or month: a week no agreement shares is not shared (None), never
    0; a month or a week of several distributors sums its shared part, and says so."""
    weeks = _weeks(q.first, q.last)
    groups: dict[str, list[dt.date]] = {}
    for w in weeks:
        label = kpis.retail_month(w) if q.grain == "month" else w.isoformat()
        groups.setdefault(label, []).append(w)
    out = []
    for label, ws in groups.items():
        seen = [w for w in ws if w in shared.some]
        units = sum(weekly.get(w, 0) for w in seen) if seen else None
        partial = bool(seen) and not shared.covers(ws)
        out.append(TrendPoint(label, ws[0], ws[-1] + dt.timedelta(days=6), units, partial))
    return out


def _promotions(acc: DataAccess, q: InsightQuery) -> list[dict[str, Any]]:
    rules: list[Filter] = [
        {"start_date": {"_lte": q.last.isoformat()}},
        {"end_date": {"_gte": q.first.isoformat()}},
        {"status": {"_in": ["submitted", "accepted"]}},
    ]
    if q.distributor is not None:
        rules.append({"partnership": {"distributor": {"_eq": q.distributor}}})
    if q.supplier is not None:
        rules.append({"partnership": {"supplier": {"_eq": q.supplier}}})
    if q.sku is not None:
        rules.append({"skus": {"sku": {"_eq": q.sku}}})
    if q.location is not None:
        rules.append({"_or": [{"locations": {"location": {"_eq": q.location}}},
                              {"locations": {"_null": True}}]})  # fmt: skip
    return acc.rows(
        "promotions", all_of(*rules), fields=PROMOTION_FIELDS, sort=("start_date", "id")
    )


def feeds_with_staleness(
    acc: DataAccess, stale_after_days: int, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """The feeds the user may see, each with its ``stale`` flag and threshold, its
    ``cadence`` (days), where that comes from (``cadence_source``: set or learned) and the
    ``expected`` next data-through (:func:`domain.ingest.feed_staleness`)."""
    today = today or clock.today()
    out = []
    for row in acc.feeds():
        through = _day(row["data_through"]) if row.get("data_through") else None
        received = _day(row["received_at"]) if row.get("received_at") else None
        found = feed_staleness(
            row["kind"], through, received, today, row.get("stale_after_days"), stale_after_days,
            row.get("cadence_days"), row.get("cadence_learned"),
        )  # fmt: skip
        out.append(
            {**row, "stale": found.stale, "stale_after_days": found.after_days,
             "cadence": found.cadence_days, "cadence_source": found.cadence_source,
             "expected": found.expected}
        )  # fmt: skip
    return out


def _whom(acc: DataAccess) -> str:
    """Whom the agreements share with, as the reader is told: a manager reads by the
    pair's supplier's agreements (a distributor asking for another's data is told that
    it was not shared with it)."""
    return "the pair's supplier" if acc.role == ACCOUNT_MANAGER else "you"


def _why_empty(
    report: Report, org_names: Mapping[int, str], in_force: Sequence[Agreement], whom: str
) -> str | None:
    q = report.query
    if not report.sharing:
        return f"No distributor shares POS data with {whom} at the moment."
    if q.distributor is not None and q.distributor not in report.sharing:
        name = org_names.get(q.distributor, "This distributor")
        return f"{name} has not shared POS data with {whom}."
    if report.total.units == 0 and not any(p[3] for p in report.points) and not report.rows:
        why = (
            f"No sales in this range (weeks {q.first.isoformat()} to {q.last.isoformat()})"
            " for the filters chosen."
        )
        late = sorted(
            (a.valid_from, a.grantor) for a in in_force
            if "pos" in a.kinds and a.valid_from > q.first
            and (q.distributor is None or a.grantor == q.distributor)
        )  # fmt: skip
        for start, grantor in late:
            name = org_names.get(grantor, f"#{grantor}")
            why += f" {name} shares POS data with {whom} from {start.isoformat()}"
            why += "; figures cover only whole weeks inside an agreement."
        return why
    return None


def _coverage_note(
    report: Report,
    org_names: Mapping[int, str],
    in_force: Sequence[Agreement],
    compared: Sequence[dt.date],
    whom: str,
) -> str | None:
    """Which distributors' weeks in the range (or the period it is compared with) are
    not shared, and from when they are."""
    if report.empty is not None or report.coverage.covers(compared):
        return None
    q = report.query
    starts: dict[int, dt.date] = {}
    for a in in_force:
        if "pos" in a.kinds and q.distributor in (None, a.grantor) and a.grantor in report.sharing:
            starts[a.grantor] = min(starts.get(a.grantor, a.valid_from), a.valid_from)
    said = "; ".join(
        f"{org_names.get(g, f'#{g}')} shares POS data with {whom} from {day.isoformat()}"
        for g, day in sorted(starts.items(), key=lambda item: (item[1], item[0]))
        if day > compared[0]
    )
    return (
        (f"{said}. " if said else "")
        + "Figures cover only whole weeks inside an agreement: weeks outside one are "
        "not shared (not 0), and a change against a period not wholly shared is n/a."
    )


def _inventory_note(report: Report, org_names: Mapping[int, str], whom: str) -> str | None:
    q = report.query
    if q.distributor is not None and q.distributor not in report.inventory_sharing:
        name = org_names.get(q.distributor, "This distributor")
        return f"{name} has not shared inventory with {whom}."
    if not report.inventory_sharing:
        return f"No distributor shares inventory with {whom}, so stock figures are not shown."
    if report.stock_day is None:
        return "No inventory snapshot on or before the end of this range."
    return None


@dataclass
class StockRow:
    """A line of the inventory table: a location, or (drilling into one) a SKU there."""

    location: int
    label: str
    kind: str
    region: str | None
    distributor: str
    on_hand: int = 0
    in_transit: int = 0
    on_order: int = 0
    weekly_units: int | None = 0  # average over the lookback, whole units; None: not shared
    wos: Decimal | None = None
    band: kpis.Band | None = None
    sku: int | None = None  # the SKU of a drill-down's line


@dataclass
class StockReport:
    query: InsightQuery
    rows: list[StockRow]
    bands: dict[str, int]  # band -> how many stores (SKUs, in a drill-down)
    stock_days: dict[str, str]  # distributor name -> snapshot day
    empty: str | None
    labels: dict[str, dict[int, str]]
    categories: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    snapshot: dt.date | None = None  # the newest snapshot shown (each distributor's own day)
    days: list[dt.date] = field(default_factory=list)  # snapshot days to pick, newest first
    place: str | None = None  # the location drilled into, by name


#: How far back the snapshot picker lists days from the day asked for.
SNAPSHOT_WEEKS = 53


def _cover(row: StockRow) -> Decimal | None:
    """Weeks of supply to sort by: stock that sold nothing over the lookback has no finite
    cover (more than any), and a line whose sales are not shared has none known."""
    if row.wos is None and row.band is kpis.Band.EXCESS:
        return Decimal("Infinity")
    return row.wos


#: How the inventory table sorts: by band (worst first, then fewest weeks of supply), by
#: weeks of supply, by name (natural order: S2 before S10), or by units on hand.
STOCK_SORTS: dict[str, Callable[[StockRow], Any]] = {
    "band": lambda r: (list(kpis.Band).index(r.band), r.wos is None, r.wos or 0,
                       natural_key(r.label)) if r.band else None,
    "wos": _cover,
    "name": lambda r: natural_key(r.label),
    "on_hand": lambda r: r.on_hand,
}  # fmt: skip


def stock_page(
    report: StockReport,
    sort: str = "band",
    descending: bool = False,
    band: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Slice:
    """One page of the report's lines, of one band if asked, sorted: lines without the
    figure sorted by (a DC has no band) come last both ways."""
    rows = [r for r in report.rows if band is None or (r.band and r.band.value == band)]
    return page_of(ordered(rows, STOCK_SORTS[sort], descending), page, per_page)


def inventory(
    acc: DataAccess,
    q: InsightQuery,
    cache: ReportCache = NO_CACHE,
    snapshot: dt.date | None = None,
) -> StockReport:
    """On hand, in transit and on order by location (by SKU when ``q.location`` is one)
    at each distributor's latest snapshot on or before ``snapshot`` (the end of the
    range if none), with each store's weeks of supply over the lookback of whole weeks
    ending on or before the snapshot day (no sale after the count; no later than the end
    of the range).

    A location the user may not see is a 404 (audited), not an empty page.
    """
    _warm_scope(acc)
    fingerprint = _fingerprint(acc, acc.feeds())
    names = visible_names(acc, cache)
    if q.location is not None and all(int(x["id"]) != q.location for x in names.locations):
        acc.record("denied", "locations", [q.location], {"reason": "not visible"})
        raise NotFound(f"no location {q.location}")
    as_of = snapshot or q.last
    last = min(as_of - dt.timedelta(days=(as_of.weekday() + 1) % 7), q.last)  # a Sunday
    # The range's first day plays no part: pages of any range share one entry.
    key = replace(q, first=last, last=last, grain="week")
    return cache.get(
        ("inventory", fingerprint, key, as_of), lambda: _inventory(acc, key, as_of, names)
    )


def _inventory(acc: DataAccess, q: InsightQuery, as_of: dt.date, names: Names) -> StockReport:
    in_force = acc.scope.agreements_in_force
    inv_where = _inventory_where(q)
    by = "location" if q.location is None else "sku"
    lookback_first = q.last - dt.timedelta(days=7 * q.lookback - 1)
    pos_query = {**_pos_filters(q), "from": lookback_first, "to": q.last, "per_page": BIG_PAGE}
    orgs, skus = names.orgs, names.skus
    locations = [x for x in names.locations if q.distributor in (None, int(x["distributor"]))]
    since = {"day": {"_gte": (as_of - dt.timedelta(weeks=SNAPSHOT_WEEKS)).isoformat()}}
    day_groups, pos = _parallel(
        lambda: acc.sums("inventory-positions", [], ["distributor", "day"],
                         all_of(*inv_where, since)),
        lambda: acc.summary("pos-sales", ["week", by], pos_query).rows,
    )  # fmt: skip
    days: dict[int, set[dt.date]] = defaultdict(set)
    for g in day_groups:
        days[int(g["distributor"])].add(_day(g["day"]))
    latest = {
        d: max(x for x in ds if x <= as_of).isoformat()
        for d, ds in days.items()
        if any(x <= as_of for x in ds)
    }
    org_names = _names(orgs, lambda r: str(r["name"]))
    sku_names = _names(skus, sku_label)
    places = {int(r["id"]): r for r in names.locations}
    groups = (
        acc.sums("inventory-positions", STOCK_FIELDS, [by], all_of(*inv_where, _snapshots(latest)))
        if latest
        else []
    )
    per_week: dict[tuple[int, dt.date], int] = defaultdict(int)
    for r in pos:
        per_week[(int(r[by]), _day(r["week_start"]))] += as_int(r["units"], "units")
    lookback = _weeks(lookback_first, q.last)
    weekly = {k: [per_week.get((k, w), 0) for w in lookback] for k in {k[0] for k in per_week}}

    def sales_shared(loc: int, place: Mapping[str, Any]) -> bool:
        """Whether every week of the lookback is shared at this store (always, for the
        distributor's own): otherwise its weekly sales are not known, not 0."""
        if not acc.scope.reads_by_agreement:
            return True
        store = Store(loc, place.get("region"))
        grantor = int(place.get("distributor") or 0)
        return shared_weeks(in_force, grantor, lookback, stores=[store]) == set(lookback)

    rows = []
    bands: dict[str, int] = {b.value: 0 for b in kpis.Band}
    for g in groups:
        key = int(g[by])
        loc = key if by == "location" else int(q.location or 0)
        place = places.get(loc, {})
        row = StockRow(
            location=loc,
            label=(
                (location_label(place) if place else "a location you do not see")
                if by == "location"
                else sku_names.get(key, "a SKU you do not see")
            ),
            kind=str(place.get("kind", "store")),
            region=place.get("region"),
            distributor=org_names.get(int(place.get("distributor") or 0), ""),
            on_hand=g["on_hand"],
            in_transit=g["in_transit"],
            on_order=g["on_order"],
            sku=key if by == "sku" else None,
        )
        if row.kind == "store" and not sales_shared(loc, place):
            row.weekly_units = None
            if row.on_hand <= 0:  # no stock is out, and 0 weeks, whatever it sold
                row.wos, row.band = Decimal("0.0"), kpis.Band.OUT
                bands[row.band.value] += 1
        elif row.kind == "store":
            sold = weekly.get(key, [0] * len(lookback))
            average = kpis.average_weekly(sold)
            row.weekly_units = int(average) if average is not None else 0
            row.wos = kpis.weeks_of_supply(row.on_hand, sold)
            row.band = kpis.band(row.wos, row.on_hand)
            bands[row.band.value] += 1
        rows.append(row)
    # Lines with no band (a DC; a store whose sales are not shared) last: stores first,
    # each in natural order.
    rows = sorted(rows, key=lambda r: (r.kind != "store", natural_key(r.label)))
    rows = ordered(rows, STOCK_SORTS["band"])
    place = places.get(q.location) if q.location is not None else None
    empty = None
    if acc.scope.reads_by_agreement:
        sharing = {a.grantor for a in in_force if "inventory" in a.kinds}
        whom = _whom(acc)
        asked = q.distributor if place is None else int(place["distributor"])
        if not sharing:
            empty = f"No distributor shares inventory with {whom} at the moment."
        elif asked is not None and asked not in sharing:
            name = org_names.get(asked, "This distributor")
            empty = f"{name} has not shared inventory with {whom}."
    if empty is None and not rows:
        empty = f"No inventory snapshot on or before {as_of.isoformat()} for the filters chosen."
    return StockReport(
        query=q,
        rows=rows,
        bands=bands,
        stock_days={org_names.get(d, f"#{d}"): day for d, day in latest.items()},
        empty=empty,
        labels={
            "sku": sku_names,
            "location": _names(locations, location_label),
            "distributor": org_names,
            "partners": partner_labels(acc, org_names),
        },
        categories=sorted({str(r["category"]) for r in skus if r.get("category")}),
        regions=sorted({str(r["region"]) for r in locations if r.get("region")}),
        snapshot=dt.date.fromisoformat(max(latest.values())) if latest else None,
        days=sorted(set().union(*days.values()), reverse=True),
        place=location_label(place) if place else None,
    )
