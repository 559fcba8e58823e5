"""Weeks, periods and stock that a supplier's agreements do not cover are "not shared",
never 0 (black-box finding: "weeks outside the data-sharing agreement are shown as zero
sales").

The finding's demo: Harbor shares its POS with Brightwell only from Tuesday 2026-11-17,
and no inventory. The sell-through page and its workbook showed every week before as
"0 units" (week 47, 11-16..11-22, too: only its days from the 17th are shared, and
figures are whole weeks), the change against the never-shared previous period as the
whole volume, and Harbor's stock as 0 in the workbook's inventory columns while the page
said Harbor shares no inventory. The rule which weeks an agreement covers is
:func:`domain.sharing.pos_coverage`; the pages and the workbook say "not shared" or
leave the cell empty where it says a week is not covered. Covered weeks keep their
figures, and a distributor's own figures are all covered.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook

from directus.bulk import open_lane, write_rows
from domain import kpis
from domain.sharing import Agreement, Coverage, Store, pos_coverage, shared_weeks
from governance import partners, sharing
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token
from portal import Config, create_app
from portal.data import DataAccess, insights
from tests.factories import Member, make_org, make_sku, make_user, sign_in
from tests.pinning import module_hub
from tests.world import Who

TODAY = dt.date(2026, 12, 2)  # a Wednesday
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
FIRST_POS = dt.date(2026, 8, 3)  # a Monday: POS and stock from here to LAST_POS
LAST_POS = dt.date(2026, 11, 29)  # a Sunday, the last whole week before TODAY's
SNAPSHOT = LAST_POS
HARBOR_FROM = dt.date(2026, 11, 17)  # a Tuesday, inside ISO week 47 (11-16..11-22)
RANGE = {"from": "2026-10-05", "to": "2026-11-29", "grain": "week"}  # 8 weeks
PREVIOUS = (dt.date(2026, 8, 10), dt.date(2026, 10, 4))  # the 8 weeks before RANGE


def mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    out, monday = [], first - dt.timedelta(days=first.weekday())
    while monday <= last:
        out.append(monday)
        monday += WEEK
    return out


# -- the rule, pure --------------------------------------------------------------------


def agreement(**changes: Any) -> Agreement:
    values: dict[str, Any] = {
        "id": 1, "grantor": 4, "grantee": 9, "kinds": ("pos",), "valid_from": HARBOR_FROM,
    }  # fmt: skip
    return Agreement(**{**values, **changes})


def test_weeks_before_an_agreement_starts_are_not_shared():
    weeks = mondays(dt.date(2026, 10, 5), LAST_POS)
    shared = shared_weeks([agreement()], 4, weeks)
    assert shared == {dt.date(2026, 11, 23)}
    assert shared_weeks([agreement()], 5, weeks) == set()  # another grantor's


def test_a_partial_first_and_last_week_are_not_shared():
    weeks = mondays(dt.date(2026, 11, 9), dt.date(2026, 12, 20))
    ended = agreement(valid_to=dt.date(2026, 12, 9))  # a Wednesday
    assert shared_weeks([ended], 4, weeks) == {dt.date(2026, 11, 23), dt.date(2026, 11, 30)}
    monday = agreement(valid_from=dt.date(2026, 11, 16), valid_to=dt.date(2026, 11, 22))
    assert shared_weeks([monday], 4, weeks) == {dt.date(2026, 11, 16)}


def test_only_pos_agreements_at_the_stores_asked_cover_weeks():
    weeks = mondays(dt.date(2026, 11, 23), LAST_POS)
    stock = agreement(kinds=("inventory",))
    aggregated = agreement(granularity="aggregated")
    east = agreement(regions=("east",))
    assert shared_weeks([stock], 4, weeks) == set()
    assert shared_weeks([aggregated], 4, weeks) == set(weeks)
    assert shared_weeks([aggregated], 4, weeks, per_store=True) == set()
    assert shared_weeks([east], 4, weeks, stores=[Store(7, "east")]) == set(weeks)
    assert shared_weeks([east], 4, weeks, stores=[Store(8, "west")]) == set()
    assert shared_weeks([agreement(locations=(8,))], 4, weeks, stores=[Store(8)]) == set(weeks)


def test_coverage_of_several_distributors_is_every_week_all_share_and_some_week_one_shares():
    weeks = mondays(dt.date(2026, 11, 9), LAST_POS)
    early = agreement(id=2, grantor=5, valid_from=dt.date(2026, 11, 9))
    both = pos_coverage([agreement(), early], [4, 5], weeks)
    assert both.every == {dt.date(2026, 11, 23)}
    assert both.some == set(weeks)
    assert not both.covers(weeks)
    assert both.covers([dt.date(2026, 11, 23)])
    assert pos_coverage([agreement(), early], [], weeks).some == set()  # nobody shares
    # a grantor that shares no store's week adds nothing to sums by store: left out
    whole = agreement(id=3, grantor=6, granularity="aggregated", valid_from=FIRST_POS)
    by_store = pos_coverage([agreement(), whole], [4, 6], weeks, per_store=True)
    assert by_store.every == by_store.some == {dt.date(2026, 11, 23)}
    assert Coverage.full(weeks).covers(weeks)


# -- the world: one supplier, three distributors ---------------------------------------


@dataclass
class CoverageWorld:
    supplier: Member
    harbor_user: Member
    orgs: dict[str, int]  # harbor (POS from a Tuesday, no stock), wharf (all), keel
    stores: dict[int, int]  # location -> distributor
    skus: list[int]
    pos: list[tuple[int, int, int, dt.date, int]]  # distributor, location, sku, day, units
    stock: dict[tuple[int, int], int]  # (distributor, sku) -> units on hand at SNAPSHOT


hub, admin = module_hub(TODAY)


@pytest.fixture(scope="module")
def world(hub, admin) -> CoverageWorld:
    supplier = make_user(admin, "supplier_user")
    orgs = {name: make_org(admin, "distributor")["id"] for name in ("harbor", "wharf", "keel")}
    harbor_user = make_user(admin, "distributor_user", {"id": orgs["harbor"]})
    skus = [make_sku(admin, supplier.organization)["id"] for _ in range(2)]
    stores: dict[int, int] = {}
    pos, inventory = [], []
    stock: dict[tuple[int, int], int] = {}
    for name, org in orgs.items():
        partners.ensure_partnership(admin, supplier.organization["id"], org)
        for code, region in (("e1", "east"), ("w1", "west")):
            loc = admin.create_item(
                "locations",
                {"ref": f"{org}:{code}", "code": code, "name": f"{name} {code}", "kind": "store",
                 "region": region, "distributor": org},
            )["id"]  # fmt: skip
            stores[loc] = org
            for n, sku in enumerate(skus):
                day = FIRST_POS
                while day <= LAST_POS:
                    units = 1 + (day.toordinal() * (n + 2) + loc) % 7
                    pos.append((org, loc, sku, day, units))
                    day += DAY
                on_hand = 20 + 3 * n + loc % 5
                inventory.append((org, loc, sku, SNAPSHOT, on_hand, 2, 4))
                stock[(org, sku)] = stock.get((org, sku), 0) + on_hand
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", [(*r, r[4] * 199, "USD") for r in pos])
        write_rows(lane, "inventory", inventory)
    grantee = supplier.organization["id"]
    for grantor, kinds, start in (
        ("harbor", ["pos"], HARBOR_FROM),
        ("wharf", ["pos", "inventory"], FIRST_POS),
        ("keel", ["pos"], HARBOR_FROM),
        ("keel", ["inventory"], FIRST_POS),
    ):
        sharing.grant(admin, orgs[grantor], grantee, kinds, valid_from=start, via="test")
    return CoverageWorld(supplier, harbor_user, orgs, stores, skus, pos, stock)


@pytest.fixture(scope="module")
def app(hub, admin, portal_auth_token):
    set_service_token(admin, PORTAL_AUTH_EMAIL, portal_auth_token)
    app = create_app(
        Config(secret_key="x" * 48, hub_url=hub.url, portal_auth_token=portal_auth_token)
    )
    app.testing = True
    return app


@pytest.fixture(scope="module")
def supplier(app, world):
    return sign_in(app, world.supplier)


def units(w: CoverageWorld, distributor: str, first: dt.date, last: dt.date, **match: int) -> int:
    """The raw POS units of a distributor's days ``first``..``last``."""
    org = w.orgs[distributor]
    return sum(
        u
        for d, loc, sku, day, u in w.pos
        if d == org and first <= day <= last
        and all({"sku": sku, "location": loc}[k] == v for k, v in match.items())
    )  # fmt: skip


def text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def figure(page: str, name: str) -> str:
    match = re.search(rf"<dt>{name}[^<]*(?:<small>[^<]*</small>)?</dt><dd[^>]*>([^<]+)</dd>", page)
    assert match, f"no figure {name}"
    return match.group(1).strip()


def trend(page: str) -> dict[str, str]:
    """The chart's table: each week's (or month's) label and what it shows."""
    table = page[page.index('id="trend"') :]
    table = table[: table.index("</table>")]
    return dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td></tr>", table))


def workbook(browser, **query: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    answer = browser.get("/sell-through.xlsx", query_string=query)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    data = answer.get_data()
    answer.close()
    lines = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    return [str(h) for h in lines[0]], lines[1:]


def column(header: list[str], body: list[tuple[Any, ...]], title: str) -> list[Any]:
    i = next(k for k, h in enumerate(header) if h.startswith(title))
    return [line[i] if i < len(line) else None for line in body]  # empty cells may end a row


def harbor(w: CoverageWorld, **more: Any) -> dict[str, Any]:
    return {**RANGE, "distributor": w.orgs["harbor"], **more}


# -- the pages -------------------------------------------------------------------------


def test_weeks_before_an_agreement_starts_show_as_not_shared_never_zero(world, supplier):
    page = text(supplier.get("/sell-through", query_string=harbor(world)))
    shown = trend(page)
    weeks = [m.isoformat() for m in mondays(dt.date(2026, 10, 5), LAST_POS)]
    assert list(shown) == weeks
    for monday in weeks[:-1]:
        assert shown[monday] == "not shared", monday
    last = dt.date(2026, 11, 23)
    assert shown[last.isoformat()] == f"{units(world, 'harbor', last, LAST_POS):,}"
    # the total is the covered week's, as before
    assert figure(page, "Units") == f"{units(world, 'harbor', last, LAST_POS):,}"
    assert "shares POS data with you from 2026-11-17" in page


def test_a_partial_first_week_is_not_shared_and_a_month_of_no_shared_week_neither(world, supplier):
    """Week 47 (11-16..11-22) holds six shared days, but figures are whole weeks: the
    week says so instead of showing 0; October, wholly before the agreement, too."""
    page = text(supplier.get("/sell-through", query_string=harbor(world)))
    assert trend(page)["2026-11-16"] == "not shared"
    assert "whole weeks" in page
    months = trend(text(supplier.get("/sell-through", query_string=harbor(world, grain="month"))))
    assert months["2026-10"] == "not shared"
    november = units(world, "harbor", dt.date(2026, 11, 23), LAST_POS)
    assert months["2026-11"].startswith(f"{november:,}")  # its one shared week
    assert "part" in months["2026-11"]  # and says it is part of the month


def test_change_is_na_when_the_previous_period_was_not_shared(world, supplier):
    page = text(supplier.get("/sell-through", query_string=harbor(world)))
    assert figure(page, "Change vs previous period") == "n/a"
    assert "Rising" not in page  # no movers against a period never shared
    table = page[page.index('id="breakdown"') :]
    assert "+" not in re.sub(r"<[^>]+>", "", table.split("</table>")[0])
    header, body = workbook(supplier, **harbor(world))
    assert len(body) == len(world.skus)
    assert column(header, body, "Units, previous period") == [None] * len(body)
    assert column(header, body, "Change") == [None] * len(body)
    assert sum(column(header, body, "Units 2")) == units(
        world, "harbor", dt.date(2026, 11, 23), LAST_POS
    )


def test_change_is_as_before_when_the_previous_period_was_wholly_shared(world, supplier):
    query = {**RANGE, "distributor": world.orgs["wharf"]}
    now = units(world, "wharf", dt.date(2026, 10, 5), LAST_POS)
    before = units(world, "wharf", *PREVIOUS)
    page = text(supplier.get("/sell-through", query_string=query))
    assert figure(page, "Units") == f"{now:,}"
    assert figure(page, "Change vs previous period") == f"{now - before:+,} units"
    assert "not shared" not in trend(page).values()
    header, body = workbook(supplier, **query)
    assert None not in column(header, body, "Change")
    assert sum(column(header, body, "Units, previous period")) == before
    assert sum(column(header, body, "Change")) == now - before
    # stock shared: the inventory columns hold the snapshot's figures
    on_hand = sum(v for (d, _), v in world.stock.items() if d == world.orgs["wharf"])
    assert sum(column(header, body, "Store on hand")) == on_hand


def test_inventory_not_shared_leaves_the_stock_columns_empty(world, supplier):
    header, body = workbook(supplier, **harbor(world))
    for title in ("Store on hand", "In transit", "DC on hand", "On order"):
        assert column(header, body, title) == [None] * len(body), title
    page = text(supplier.get("/sell-through", query_string=harbor(world)))
    assert "has not shared inventory with you" in page
    table = page[page.index('id="breakdown"') :].split("</table>")[0]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", table, re.S)
    assert len(rows) == len(world.skus)
    for row in rows:
        values = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert values[3] == "not shared", values  # store on hand


def test_the_inventory_page_says_weekly_sales_not_shared_rather_than_none(world, supplier):
    """Keel shares stock since August but POS only from 11-17: its stores' average weekly
    sales over the lookback are not known, so neither are their weeks of supply."""
    query = {"to": "2026-11-29", "from": "2026-11-02", "distributor": world.orgs["keel"]}
    page = text(supplier.get("/inventory", query_string=query))
    table = page[page.index('id="inventory"') :].split("</table>")[0]
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S)
    assert len(rows) == 2
    for row in rows:
        values = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert values[3:5] == ["not shared", "n/a"], values  # avg weekly units, WOS
        assert "band-" not in row
    # wharf shares both: figures as before
    query = {**query, "distributor": world.orgs["wharf"]}
    page = text(supplier.get("/inventory", query_string=query))
    assert "not shared" not in page[page.index('id="inventory"') :]


def test_a_distributors_own_figures_are_all_covered(world, hub):
    """Negative control: Harbor itself sees every week of its own POS, a change against
    the previous period, and its stores' weekly sales."""
    m = world.harbor_user
    acc = DataAccess(Who("harbor", m.id, m.email, m.role, world.orgs["harbor"]), m.login(hub.url))
    first, last = dt.date(2026, 10, 5), LAST_POS
    report = insights.sell_through(acc, insights.InsightQuery(first, last), 7)
    assert [p[3] for p in report.points] == [
        units(world, "harbor", monday, monday + 6 * DAY) for monday in mondays(first, last)
    ]
    assert report.total.previous_units == units(world, "harbor", *PREVIOUS)
    assert report.total.change == report.total.units - report.total.previous_units
    stock = insights.inventory(acc, insights.InsightQuery(dt.date(2026, 11, 2), last))
    assert len(stock.rows) == 2
    for row in stock.rows:
        sold = [
            units(world, "harbor", monday, monday + 6 * DAY, location=row.location)
            for monday in mondays(dt.date(2026, 11, 2), last)
        ]
        average = kpis.average_weekly(sold)
        assert average is not None
        assert row.weekly_units == int(average)
        assert row.wos == kpis.weeks_of_supply(row.on_hand, sold)
