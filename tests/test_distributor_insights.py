"""A distributor's own sell-through and inventory (issue 16): the supplier's pages over the
distributor's own stores, filtered by supplier, SKU, category, region and store, with the
same figures, drill-downs and downloads, and nothing of another distributor's.

The world (tests/world.py): north sells acme's oats and bran and brava's cola at its two
stores; south's stores are never north's to see.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.pinning import pinned_hub
from tests.test_sellthrough_pages import _app, browser, figure, span, text
from tests.world import World, expected, world_for

#: A month's last Monday, and the Sunday that ends ISO 2026-W53 (the year's end).
DAYS = ("2026-11-30", "2027-01-03")


@pytest.fixture(scope="module", params=DAYS)
def hub(request, start_migrated_hub):
    with pinned_hub(start_migrated_hub, dt.date.fromisoformat(request.param)) as running:
        yield running


@pytest.fixture(scope="module")
def admin(hub):
    return hub.admin()


@pytest.fixture(scope="module")
def world(hub, admin) -> World:
    return world_for(hub, admin)


@pytest.fixture(scope="module")
def app(hub, admin, portal_auth_token):
    return _app(hub, admin, portal_auth_token)


def _units(w: World, **match: Any) -> int:
    rows = w.rows["pos_sales"]
    keys = expected(w, "north", "pos-weekly")
    return sum(rows[k]["units"] for k in keys if all(rows[k][f] == v for f, v in match.items()))


def _breakdown(page: str) -> str:
    return page[page.index('id="breakdown"') : page.index("</table>", page.index('id="breakdown"'))]


def test_a_distributor_sees_its_own_sell_through_by_sku_with_each_supplier(app, world):
    north = world.orgs["north"]
    for query in (span(world), {}):  # the range asked for, and the default weeks
        page = text(browser(app, world, "north").get("/sell-through", query_string=query))
        assert figure(page, "Units") == f"{_units(world, distributor=north):,}"
        table = _breakdown(page)
        for sku in ("oats", "bran", "cola"):  # both suppliers' SKUs
            assert f"{sku} {world.tag}" in table
        assert f"Acme {world.tag}" in table
        assert f"Brava {world.tag}" in table
        assert 'name="supplier"' in page
        assert 'name="distributor"' not in page  # a distributor reads its own only
    assert world.rows["pos_sales"]  # the world has south's rows too, never shown
    assert _units(world) == _units(world, distributor=north)


def test_the_supplier_filter_keeps_that_suppliers_skus_and_its_promotions(app, world):
    acme = world.orgs["acme"]
    client = browser(app, world, "north")
    page = text(client.get("/sell-through", query_string={**span(world), "supplier": acme}))
    mine = {world.skus["oats"], world.skus["bran"]}
    units = sum(_units(world, sku=s) for s in mine)
    assert figure(page, "Units") == f"{units:,}"
    table = _breakdown(page)
    assert f"cola {world.tag}" not in table
    assert f'<option value="{acme}" selected>' in page
    inventory = text(client.get("/inventory", query_string={**span(world), "supplier": acme}))
    rows = inventory[inventory.index('id="inventory"') :]
    # 40 on hand of each of acme's two SKUs at each north store (brava's cola left out)
    assert len(re.findall(r'<td class="num">80</td>', rows)) == 2
    assert "north-east store" in rows
    assert "south-east" not in rows


def test_region_and_drill_down_read_the_distributors_own_stores(app, world):
    client = browser(app, world, "north")
    oats, east = world.skus["oats"], world.stores["north-east"]
    page = text(client.get("/sell-through", query_string={**span(world), "region": "east"}))
    assert figure(page, "Units") == f"{_units(world, location=east):,}"
    page = text(client.get("/sell-through", query_string={**span(world), "sku": oats}))
    for name in ("sku", "location"):  # searchable pickers, the SKU asked for chosen
        assert f'<select id="{name}" name="{name}" data-picker' in page
    assert f'<option value="{oats}" selected>oats {world.tag}' in page
    shown = {int(x) for x in re.findall(r"location=(\d+)", _breakdown(page))}
    assert shown == {world.stores["north-east"], world.stores["north-west"]}
    page = text(
        client.get("/sell-through", query_string={**span(world), "sku": oats, "location": east})
    )
    assert figure(page, "Units") == f"{_units(world, sku=oats, location=east):,}"


@pytest.mark.parametrize(
    "forged",
    [
        {"location": "south-east"},  # another distributor's store
        {"supplier": "south"},  # an organization that is no supplier of north's
        {"distributor": "south"},  # asking for another distributor outright
        {"supplier": 2_000_000_000},  # no organization at all
    ],
)
def test_forged_filters_show_nothing_of_another_distributor(app, world, forged):
    ((name, value),) = forged.items()
    value = world.stores.get(value) or world.orgs.get(value) or value  # type: ignore[arg-type]
    client = browser(app, world, "north")
    page = text(client.get("/sell-through", query_string={**span(world), name: value}))
    assert "south-east store" not in page
    assert "south-west store" not in page
    assert 'id="breakdown"' not in page or not re.findall(r"sku=\d+", _breakdown(page))
    answer = client.get("/sell-through.xlsx", query_string={**span(world), name: value})
    assert answer.status_code == 200
    rows = list(load_workbook(io.BytesIO(answer.get_data()), read_only=True).active.values)
    answer.close()
    assert rows[1:] == []


def test_the_download_has_the_pages_rows_and_their_supplier(app, world):
    client = browser(app, world, "north")
    answer = client.get("/sell-through.xlsx", query_string=span(world))
    assert answer.status_code == 200
    rows = list(load_workbook(io.BytesIO(answer.get_data()), read_only=True).active.values)
    answer.close()
    header, body = rows[0], rows[1:]
    assert header[:2] == ("SKU", "Supplier")
    units = header.index(next(h for h in header if str(h).startswith("Units 2")))
    assert sum(r[units] for r in body) == _units(world)
    suppliers = {str(r[0]).split(" ")[0]: r[1] for r in body}
    assert suppliers == {
        "oats": f"Acme {world.tag}",
        "bran": f"Acme {world.tag}",
        "cola": f"Brava {world.tag}",
    }


def test_the_distributors_navigation_offers_its_sell_through(app, world):
    page = text(browser(app, world, "north").get("/distributor"))
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert 'href="/sell-through"' in nav
