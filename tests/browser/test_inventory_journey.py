"""The inventory journey in a real browser, at a chain's scale: the supplier opens its
stock at north's 60 stores, sorts by store (S2 before S10), keeps the low band, pages
through, drills into a store's SKUs and goes back to an older snapshot. Screenshots of the
page at a laptop's and a phone's width: artifacts/screenshots/inventory-*.png.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from directus import HubClient
from directus.bulk import open_lane, write_rows
from tests.browser.conftest import Partners, reads_at_both_widths
from tests.browser.test_journeys import sign_in
from tests.helpers import RunningHub

COVER = {0: 0, 1: 2, 2: 8, 3: 20}  # store number % 4 -> weeks of oats on hand, latest


@pytest.fixture(scope="module")
def chain(hub: RunningHub, admin: HubClient, partners: Partners) -> dict[str, Any]:
    """North grows to 60 stores (S3..S60 besides the partners' S1 and S2), selling 10 oats
    a week each; the latest snapshot holds 0, 2, 8 or 20 weeks of them by store number,
    one a week older holds 10 weeks at every north store."""
    p = partners
    north = p.orgs["north"]
    oats = p.skus["oats"]["id"]
    monday = p.today - dt.timedelta(days=p.today.weekday())
    latest, older = monday - dt.timedelta(days=1), monday - dt.timedelta(days=8)
    stores = {
        n: admin.create_item(
            "locations",
            {"ref": f"{north['id']}:S{n}", "code": f"S{n}", "name": f"North S{n} {p.tag}",
             "kind": "store", "region": "east", "distributor": north["id"]},
        )["id"]
        for n in range(3, 61)
    }  # fmt: skip
    pos, stock = [], []
    for n, where in stores.items():
        for week in range(1, 9):
            wednesday = monday - dt.timedelta(weeks=week) + dt.timedelta(days=2)
            pos.append((north["id"], where, oats, wednesday, 10, 2500, "USD"))
        stock.append((north["id"], where, oats, latest, COVER[n % 4] * 10, 0, 0))
    for where in [*stores.values(), p.stores["north-S1"]["id"], p.stores["north-S2"]["id"]]:
        stock.append((north["id"], where, oats, older, 100, 0, 0))
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", stock)
    return {"latest": latest, "older": older}


def codes(page: Page) -> list[str]:
    labels = page.locator("#inventory tbody th").all_inner_texts()
    return [re.sub(r".*\((.*)\)$", r"\1", label.strip()) for label in labels]


def test_the_supplier_sorts_filters_pages_and_drills_into_its_stock(
    page: Page, partners: Partners, chain: dict[str, Any]
) -> None:
    p = partners
    sign_in(page, p.acme_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("heading", name="Inventory by location")).to_be_visible()
    table = page.locator("#inventory")
    expect(table.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 1 of 2")
    # Worst first: the stores out of stock head the table.
    expect(table.locator("tbody tr").first.locator(".band")).to_have_text("out")
    snapshot = page.get_by_label("Snapshot")
    expect(snapshot).to_have_value("")  # "Latest": whatever arrives next, not a fixed day
    expect(snapshot.locator("option:checked")).to_have_text(f"Latest ({chain['latest']})")
    assert p.skus["cola"]["description"] not in page.content()
    reads_at_both_widths(page, "inventory-list")

    # Sort by store: natural order, then reversed.
    table.get_by_role("link", name="Location").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    header = table.locator("th", has=page.locator('a[data-sort="name"]'))
    expect(header).to_have_attribute("aria-sort", "ascending")
    # S1 and S2 are "North Harbour" and "North Main St": before "North S3" by name.
    assert codes(page)[:14] == ["S2", "S1", *(f"S{n}" for n in range(3, 15))]
    table.get_by_role("link", name="Location").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert codes(page)[0] == "S60"

    # The low band only, from its count; one page of them.
    page.locator("ul.bands").get_by_role("link", name=re.compile(r"^low: \d+")).click()
    expect(page).to_have_url(re.compile(r"band=low"))
    low = sum(1 for n in range(3, 61) if n % 4 == 1)  # S1 and S2 are healthy
    expect(page.locator("#inventory .band")).to_have_text(["low"] * low)
    expect(page.get_by_role("navigation", name="Pages")).to_have_count(0)
    reads_at_both_widths(page, "inventory-band-low")

    # All bands again, sorted by store: the second page keeps the sort.
    page.locator("ul.bands").get_by_role("link", name="All bands").click()
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 2 of 2")
    expect(table.locator("tbody tr")).to_have_count(10)

    # Drill into a store: its SKUs at the snapshot, acme's only.
    store = p.stores["north-S1"]["name"]
    page.goto("/inventory?sort=name")
    table.get_by_role("link", name=re.compile(re.escape(store))).click()
    expect(page.get_by_role("heading", name=f"Inventory at {store} (S1)")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)
    for sku in ("oats", "bran"):
        expect(table).to_contain_text(p.skus[sku]["description"])
    assert p.skus["cola"]["description"] not in page.content()
    reads_at_both_widths(page, "inventory-store")

    # The older snapshot: 100 oats at the store, nothing of bran then.
    page.get_by_label("Snapshot").select_option(chain["older"].isoformat())
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"snapshot={chain['older']}"))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr td.num").first).to_have_text("100")
    page.get_by_role("link", name="All locations").click()
    expect(page.get_by_label("Snapshot")).to_have_value(chain["older"].isoformat())
    expect(page.locator("ul.bands")).to_contain_text("healthy: 60")
