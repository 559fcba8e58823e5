"""Overlapping, adjacent and nested sharing agreements: every summary a supplier sees
counts each POS row once (issue 11, part 5, "Overlapping agreements").

One distributor may grant one supplier several agreements at once: a whole one and a
region- or store-scoped one in force together, one ending the day before the next
begins, one nested inside another. Every figure made from the weekly rollups (the API's
summary, the sell-through page's totals, chart, table and workbook, the inventory page's
weekly sales, the home page's low-stock count) is compared here with a sum of the raw
``pos_sales`` rows the supplier reads through the hub with its own login.

Summaries cover whole ISO weeks (docs/ARCHITECTURE.md): a store's week counts when it
lies wholly inside one agreement in force that covers the store. The world's agreements
start on Mondays and end on Sundays except ``midweek``'s whole agreement, which starts
on a Wednesday: there the oracle leaves that week's rows of stores it alone covers out.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook

from directus import HubClient
from directus.bulk import open_lane, write_rows
from domain import kpis
from governance import partners, sharing
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal import Config, create_app
from portal.data import DataAccess, insights
from tests.factories import Member, make_org, make_sku, make_user, sign_in
from tests.pinning import module_hub
from tests.world import Who

TODAY = dt.date(2026, 12, 2)  # a Wednesday
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
DAY = dt.timedelta(days=1)


def week(n: int) -> dt.date:
    """The Monday ``n`` weeks from this one (negative: before)."""
    return MONDAY + dt.timedelta(days=7 * n)


def sunday(n: int) -> dt.date:
    return week(n) + 6 * DAY


STORES = {"e1": "east", "e2": "east", "w1": "west"}


@dataclass(frozen=True)
class Spec:
    """One agreement of the world: grantor's name, kinds, scope and validity."""

    grantor: str
    kinds: tuple[str, ...]
    valid_from: dt.date
    valid_to: dt.date | None = None
    regions: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()


SPECS = {
    # a whole agreement and an east one in force together: weeks -10..-7 east only,
    # then every store, each row once
    "overlap-whole": Spec("overlap", ("pos", "inventory"), week(-6)),
    "overlap-east": Spec("overlap", ("pos",), week(-10), regions=("east",)),
    # one ends the day before the next begins: expired whole, current east, future whole
    "adjacent-past": Spec("adjacent", ("pos",), week(-10), sunday(-5)),
    "adjacent-now": Spec("adjacent", ("pos", "inventory"), week(-4), sunday(0), regions=("east",)),
    "adjacent-next": Spec("adjacent", ("pos",), week(1)),
    # nested: a store list inside a region inside a whole agreement
    "nested-whole": Spec("nested", ("pos",), week(-10)),
    "nested-east": Spec("nested", ("pos",), week(-8), regions=("east",)),
    "nested-store": Spec("nested", ("pos",), week(-6), week(1) + 2 * DAY, stores=("e1",)),
    # two scoped agreements overlapping on one store
    "scoped-east": Spec("scoped", ("pos",), week(-10), regions=("east",)),
    "scoped-stores": Spec("scoped", ("pos",), week(-8), stores=("e1", "w1")),
    # a whole agreement from a Wednesday over an east one
    "midweek-whole": Spec("midweek", ("pos",), week(-6) + 2 * DAY),
    "midweek-east": Spec("midweek", ("pos",), week(-10), regions=("east",)),
}
DISTRIBUTORS = sorted({s.grantor for s in SPECS.values()})
WEEKS = range(-12, 0)  # POS on Monday, Thursday and Sunday of each, and this Monday-Tuesday


hub, admin = module_hub(TODAY)


@dataclass
class Overlaps:
    supplier: Member
    orgs: dict[str, int]
    stores: dict[tuple[str, str], int]  # (distributor, store) -> location id
    region: dict[int, str]
    skus: list[int]
    agreements: dict[str, int]
    on_hand: dict[int, int]  # location -> units on hand in the snapshot, per SKU


@pytest.fixture(scope="module")
def world(hub, admin) -> Overlaps:
    supplier = make_user(admin, "supplier_user")
    other = make_org(admin, "supplier")
    orgs = {name: make_org(admin, "distributor")["id"] for name in DISTRIBUTORS}
    stores: dict[tuple[str, str], int] = {}
    region: dict[int, str] = {}
    for name, org in orgs.items():
        partners.ensure_partnership(admin, supplier.organization["id"], org)
        for code, reg in STORES.items():
            row = admin.create_item(
                "locations",
                {"ref": f"{org}:{code}", "code": code, "name": f"{name} {code}", "kind": "store",
                 "region": reg, "distributor": org},
            )  # fmt: skip
            stores[(name, code)] = row["id"]
            region[row["id"]] = reg
    mine = [make_sku(admin, supplier.organization)["id"] for _ in range(2)]
    theirs = make_sku(admin, other)["id"]
    pos, inventory = [], []
    on_hand = {}
    n = 0
    days = [week(w) + k * DAY for w in WEEKS for k in (0, 3, 6)] + [MONDAY, MONDAY + DAY]
    for (name, _code), loc in sorted(stores.items()):
        on_hand[loc] = 3 + loc % 7
        for sku in [*mine, theirs]:
            for day in days:
                n += 1
                units = 1 + n % 9
                pos.append((orgs[name], loc, sku, day, units, units * 199, "USD"))
            inventory.append((orgs[name], loc, sku, sunday(-1), on_hand[loc], 2, 4))
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", inventory)
    agreements = {}
    for key, spec in SPECS.items():
        row = sharing.grant(
            admin, orgs[spec.grantor], supplier.organization["id"], list(spec.kinds),
            valid_from=spec.valid_from, valid_to=spec.valid_to, regions=list(spec.regions),
            locations=[stores[(spec.grantor, s)] for s in spec.stores], via="test",
        )  # fmt: skip
        agreements[key] = int(row["id"])
    return Overlaps(supplier, orgs, stores, region, mine, agreements, on_hand)


# -- the oracle: raw rows the supplier reads through the hub --------------------------


def raw_rows(w: Overlaps, client: HubClient) -> list[dict[str, Any]]:
    fields = ["id", "day", "units", "net_sales_minor", "currency", "distributor", "location", "sku"]
    rows = client.read_items("pos_sales", fields=fields, limit=-1)
    return [{**r, "day": dt.date.fromisoformat(str(r["day"])[:10])} for r in rows]


def _covers(w: Overlaps, spec: Spec, row: dict[str, Any], first: dt.date, last: dt.date) -> bool:
    if w.orgs[spec.grantor] != row["distributor"] or "pos" not in spec.kinds:
        return False
    if not (spec.valid_from <= TODAY and (spec.valid_to is None or spec.valid_to >= TODAY)):
        return False  # not in force today
    if spec.regions and w.region[row["location"]] not in spec.regions:
        return False
    if spec.stores and row["location"] not in {w.stores[(spec.grantor, s)] for s in spec.stores}:
        return False
    return spec.valid_from <= first and (spec.valid_to is None or last <= spec.valid_to)


def shared(w: Overlaps, row: dict[str, Any]) -> bool:
    """The row's own day lies inside an agreement in force that covers its store."""
    return any(_covers(w, s, row, row["day"], row["day"]) for s in SPECS.values())


def whole_week(w: Overlaps, row: dict[str, Any]) -> bool:
    """The row's store-week lies wholly inside one agreement in force (what rollups show)."""
    monday = row["day"] - dt.timedelta(days=row["day"].weekday())
    return any(_covers(w, s, row, monday, monday + 6 * DAY) for s in SPECS.values())


def monday_of(day: dt.date) -> str:
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def sums(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
) -> dict[Any, tuple[int, int, int]]:
    """Units, money and row count per key."""
    out: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        group = out[key(r)]
        group[0] += int(r["units"])
        group[1] += int(r["net_sales_minor"])
        group[2] += 1
    return {k: (u, m, c) for k, (u, m, c) in out.items()}


@pytest.fixture(scope="module")
def raw(world, hub) -> list[dict[str, Any]]:
    """The supplier's rows through the hub, checked against the agreements first."""
    rows = raw_rows(world, world.supplier.login(hub.url))
    assert rows, "the supplier reads no row at all"
    assert all(r["sku"] in world.skus for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(shared(world, r) for r in rows)
    return rows


@pytest.fixture(scope="module")
def counted(world, raw) -> list[dict[str, Any]]:
    """The rows summaries count: those in whole store-weeks of one agreement."""
    rows = [r for r in raw if whole_week(world, r)]
    cut = {(r["distributor"], r["location"]) for r in raw if not whole_week(world, r)}
    midweek = world.orgs["midweek"]
    # only midweek's west store, in the week its whole agreement starts on a Wednesday
    assert cut == {(midweek, world.stores[("midweek", "w1")])}
    return rows


# -- the portal ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(hub, admin, portal_auth_token):
    set_service_token(admin, PORTAL_AUTH_EMAIL, portal_auth_token)
    app = create_app(
        Config(secret_key="x" * 48, hub_url=hub.url, portal_auth_token=portal_auth_token)
    )
    app.testing = True
    return app


@pytest.fixture(scope="module")
def browser(app, world):
    return sign_in(app, world.supplier)


def access(w: Overlaps, hub) -> DataAccess:
    m = w.supplier
    who = Who("supplier", m.id, m.email, m.role, int(m.organization["id"]))
    return DataAccess(who, m.login(hub.url))


def api_summary(browser, **query: Any) -> list[dict[str, Any]]:
    out, page = [], 1
    while True:
        body = browser.get(
            "/api/v1/pos-sales/summary", query_string={**query, "per_page": 500, "page": page}
        )
        assert body.status_code == 200, body.get_data(as_text=True)
        data = body.get_json()
        out += data["data"]
        if page * 500 >= data["meta"]["total"]:
            assert len(out) == data["meta"]["total"]
            return out
        page += 1


GROUPINGS = [
    "week", "sku", "distributor", "location", "sku,week", "distributor,week",
    "location,week", "sku,distributor", "sku,distributor,week", "sku,location,week",
    "sku,distributor,location,week",
]  # fmt: skip


def _key(keys: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(monday_of(r["day"]) if k == "week" else r[k] for k in keys)

    return key


def _api_key(keys: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(str(r["week_start"])[:10] if k == "week" else r[k] for k in keys)

    return key


def _in(first: dt.date, last: dt.date) -> Callable[[dict[str, Any]], bool]:
    return lambda r: first <= r["day"] - dt.timedelta(days=r["day"].weekday()) <= last - 6 * DAY


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_api_summaries_count_each_row_once(world, counted, browser, group_by):
    keys = [k for k in ("sku", "distributor", "location", "week") if k in group_by.split(",")]
    span = {"from": week(-12).isoformat(), "to": sunday(-1).isoformat()}
    within = _in(week(-12), sunday(-1))
    cases: list[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
        ({}, lambda r: True),
        (span, within),
        ({**span, "region": "east"}, lambda r: within(r) and world.region[r["location"]] == "east"),
    ]
    for name in DISTRIBUTORS:
        org = world.orgs[name]
        cases.append(
            ({**span, "distributor": org}, lambda r, o=org: within(r) and r["distributor"] == o)
        )
        e1 = world.stores[(name, "e1")]
        cases.append(({"location": e1}, lambda r, s=e1: r["location"] == s))
    for query, keep in cases:
        expected = sums((r for r in counted if keep(r)), _key(keys))
        got = api_summary(browser, group_by=group_by, **query)
        found = {_api_key(keys)(g): (g["units"], g["net_sales_minor"], g["rows"]) for g in got}
        assert len(found) == len(got), (query, "a group twice")
        assert found == expected, query


def _report(w: Overlaps, hub, **query: Any) -> insights.Report:
    q = insights.InsightQuery(**query)
    return insights.sell_through(access(w, hub), q, 7)


def figure(page: str, name: str) -> str:
    match = re.search(rf"<dt>{name}[^<]*(?:<small>[^<]*</small>)?</dt><dd[^>]*>([^<]+)</dd>", page)
    assert match, f"no figure {name}"
    return match.group(1).strip()


def _check_report(report: insights.Report, rows: list[dict[str, Any]], by: str | None) -> None:
    q = report.query
    inside = [r for r in rows if _in(q.first, q.last)(r)]
    weekly = sums(inside, lambda r: monday_of(r["day"]))
    assert report.total.units == sum(u for u, _, _ in weekly.values())
    assert report.total.net_sales == (
        {"USD": sum(m for _, m, _ in weekly.values())} if inside else {}
    )
    assert {w.isoformat(): u for w, u in report.weekly.items() if u} == {
        k: u for k, (u, _, _) in weekly.items()
    }
    assert sum(p.units or 0 for p in report.points) == report.total.units  # the chart
    # No agreement here starts before week -10, so the period before a 13-week range is
    # not shared: its units, and the change, are unknown (None), not 0.
    previous_first, _ = kpis.previous_range(q.first, q.last)
    assert previous_first < week(-10)
    assert report.total.previous_units is None
    assert report.total.change is None
    if by is not None:
        table = {r.key: r.units for r in report.rows if r.units}
        assert table == {k: u for k, (u, _, _) in sums(inside, lambda r: r[by]).items()}


def test_the_sell_through_page_counts_each_row_once(world, counted, hub, browser):
    first, last = insights.default_range(TODAY)
    # the default range, from the cached cube, on the page and in its workbook
    page = browser.get("/sell-through")
    assert page.status_code == 200
    report = _report(world, hub, first=first, last=last)
    _check_report(report, counted, "sku")
    assert figure(page.get_data(as_text=True), "Units") == f"{report.total.units:,}"
    book = load_workbook(io.BytesIO(browser.get("/sell-through.xlsx").data), read_only=True)
    lines = list(book.active.iter_rows(values_only=True))
    assert sum(line[1] for line in lines[1:]) == report.total.units
    # months, each distributor, a region (read from the hub per query), a SKU's stores,
    # one store's weeks
    _check_report(_report(world, hub, first=first, last=last, grain="month"), counted, "sku")
    for name in DISTRIBUTORS:
        org = world.orgs[name]
        mine = [r for r in counted if r["distributor"] == org]
        _check_report(_report(world, hub, first=first, last=last, distributor=org), mine, "sku")
    east = [r for r in counted if world.region[r["location"]] == "east"]
    _check_report(_report(world, hub, first=first, last=last, region="east"), east, "sku")
    sku = world.skus[0]
    of_sku = [r for r in counted if r["sku"] == sku]
    _check_report(_report(world, hub, first=first, last=last, sku=sku), of_sku, "location")
    e1 = world.stores[("nested", "e1")]
    one = [r for r in of_sku if r["location"] == e1]
    _check_report(_report(world, hub, first=first, last=last, sku=sku, location=e1), one, None)
    page = browser.get("/sell-through", query_string={"distributor": world.orgs["overlap"]})
    mine = [r for r in counted if r["distributor"] == world.orgs["overlap"]]
    units = sum(r["units"] for r in mine if _in(first, last)(r))
    assert figure(page.get_data(as_text=True), "Units") == f"{units:,}"


def test_the_inventory_and_home_pages_count_each_row_once(world, counted, hub, browser):
    first, last = insights.default_range(TODAY, weeks=4)
    stock = insights.inventory(access(world, hub), insights.InsightQuery(first, last))
    lookback = [week(n).isoformat() for n in range(-4, 0)]
    per_week = sums(counted, lambda r: (r["location"], monday_of(r["day"])))
    low = 0
    assert stock.rows
    for row in stock.rows:
        sold = [per_week.get((row.location, wk), (0, 0, 0))[0] for wk in lookback]
        average = kpis.average_weekly(sold)
        assert row.weekly_units == (int(average) if average is not None else 0), row.label
        assert row.wos == kpis.weeks_of_supply(row.on_hand, sold)
        low += kpis.band(row.wos, row.on_hand).value in ("out", "low")
    page = browser.get("/supplier").get_data(as_text=True)
    if low:
        assert f"{low} stores are low on stock or out" in page
    else:
        assert "stores are low on stock" not in page


@pytest.mark.parametrize("collection", ["pos_sales", "pos_week_location", "pos_week_distributor"])
def test_the_hubs_own_aggregates_count_each_row_once(world, hub, collection):
    """A partner summing through the hub's REST API gets the sum of the rows it reads."""
    client = world.supplier.login(hub.url)
    rows = client.read_items(collection, fields=["id", "units"], limit=-1)
    assert rows
    got = client.aggregate(collection, {"sum": ["units"], "count": ["*"]})[0]
    assert (int(got["sum"]["units"]), int(got["count"])) == (
        sum(int(r["units"]) for r in rows),
        len(rows),
    )
