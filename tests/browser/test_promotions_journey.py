"""The promotion pages in a real browser, at a laptop's width and a phone's.

A supplier answers a promotion of 75 stores: the form first, the stores counted by
region, the full list a keyboard press away. A distributor reads a month of 40
promotions: nothing overlaps, and a name cut short in the grid shows whole on hover and
on focus. The supplier's sell-through by month shades each promotion over its own weeks,
with labels that do not collide. Screenshots of each page at both widths go to
``artifacts/screenshots/`` (promotion-*, calendar-*, sellthrough-month-*).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from playwright.sync_api import Locator, Page, expect

from directus import HubClient
from governance.partners import ensure_partnership
from portal.data.insights import default_range
from tests.browser.conftest import LAPTOP, PHONE, Partners, reads_at_both_widths
from tests.browser.test_journeys import sign_in, tab_to

Box = dict[str, float]


def _pair(admin: HubClient, partners: Partners) -> int:
    return ensure_partnership(admin, partners.orgs["acme"]["id"], partners.orgs["north"]["id"])


def _promotion(
    admin: HubClient, partners: Partners, name: str, start: dt.date, end: dt.date, **more: Any
) -> dict[str, Any]:
    pair = _pair(admin, partners)
    return {
        "name": name,
        "type": "feature",
        "status": "accepted",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "partnership": pair,
        "skus": [{"sku": partners.skus["oats"]["id"], "partnership": pair}],
        **more,
    }


def _boxes(items: Locator) -> list[Box]:
    return [b for b in (items.nth(i).bounding_box() for i in range(items.count())) if b]


def _overlaps(a: Box, b: Box) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


def _collisions(boxes: list[Box]) -> list[tuple[int, int]]:
    return [(i, j) for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2)
            if _overlaps(a, b)]  # fmt: skip


# -- a promotion of 75 stores ------------------------------------------------------------


def test_supplier_answers_a_75_store_promotion_from_the_top_and_opens_its_store_list(
    page: Page, partners: Partners, admin: HubClient
) -> None:
    p = partners
    north = p.orgs["north"]
    regions = ["west"] * 40 + ["east"] * 25 + ["north"] * 8
    admin.create_items(
        "locations",
        [{"ref": f"{north['id']}:P{i}", "code": f"P{i}", "name": f"North store P{i} {p.tag}",
          "kind": "store", "region": region, "distributor": north["id"]}
         for i, region in enumerate(regions)],
    )  # fmt: skip
    stores = admin.read_items(
        "locations", filter={"distributor": {"_eq": north["id"]}}, fields=["id"], limit=-1
    )
    assert len(stores) == 75  # with S1 (west) and S2 (east)
    pair = _pair(admin, p)
    start = p.today + dt.timedelta(days=30)
    name = f"Seventy-five store feature {p.tag}"
    admin.create_item(
        "promotions",
        _promotion(admin, p, name, start, start + dt.timedelta(days=13), status="submitted",
                   locations=[{"location": s["id"], "partnership": pair} for s in stores]),
    )  # fmt: skip

    sign_in(page, p.acme_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Promotions").click()
    page.locator("#awaiting").get_by_role("link", name=name).click()
    answer = page.locator("#answer-form")
    for size in (LAPTOP, PHONE):  # no scrolling past the detail to answer
        page.set_viewport_size(size)
        expect(answer).to_be_in_viewport()
    expect(page.locator("#answer-summary")).to_contain_text("on 1 SKU at 75 locations")
    form_box, terms_box = answer.bounding_box(), page.locator("#terms").bounding_box()
    assert form_box
    assert terms_box
    assert form_box["y"] < terms_box["y"]

    regions_table = page.locator("#location-regions")
    expect(regions_table).to_contain_text("75 locations by region")
    counts = [
        tuple(row.locator("th, td").all_inner_texts())
        for row in regions_table.locator("tbody tr").all()
    ]
    assert counts == [("west", "41"), ("east", "26"), ("north", "8")]
    full_list = page.locator("#promotion-locations")
    expect(full_list).not_to_be_visible()  # 75 rows wait behind their summary
    reads_at_both_widths(page, "promotion")

    # The keyboard opens it: Tab to the summary, Enter.
    summary = page.locator("#location-list summary")
    tab_to(page, summary, limit=120)
    page.keyboard.press("Enter")
    expect(full_list).to_be_visible()
    expect(full_list.locator("tbody tr")).to_have_count(75)
    expect(full_list).to_contain_text(f"North store P72 {p.tag}")
    reads_at_both_widths(page, "promotion-locations-open")


# -- a month of 40 promotions -------------------------------------------------------------


def test_distributor_reads_a_month_of_40_promotions_without_overlaps_and_full_names(
    page: Page, partners: Partners, admin: HubClient
) -> None:
    p = partners
    # Three months ahead: no other journey's promotion runs then.
    first = (p.today.replace(day=1) + dt.timedelta(days=95)).replace(day=1)
    names = [f"Promotion {k:02d} {p.tag}: end-cap display with flyer and coupon" for k in range(40)]
    admin.create_items(
        "promotions",
        [_promotion(admin, p, n, first + dt.timedelta(days=k % 26),
                    first + dt.timedelta(days=k % 26 + k % 7)) for k, n in enumerate(names)],
    )  # fmt: skip

    sign_in(page, p.north_user)
    page.goto(f"/promotions/calendar?month={first:%Y-%m}")
    month = page.locator("#month-list > li")
    expect(month).to_have_count(40)
    assert sorted(page.locator("#month-list > li > a").all_inner_texts()) == names
    assert _collisions(_boxes(month)) == []

    # Each day's entries stay in their cell and off each other.
    for cell in page.locator("#calendar td[id^=day-]").all():
        entries = cell.locator("li")
        boxes = _boxes(entries)
        assert _collisions(boxes) == [], cell.get_attribute("id")
        box = cell.bounding_box()
        assert box
        for b in boxes:
            assert box["x"] <= b["x"]
            assert b["x"] + b["width"] <= box["x"] + box["width"] + 0.5
            assert b["y"] + b["height"] <= box["y"] + box["height"] + 0.5
    reads_at_both_widths(page, "calendar")

    # A name cut short in its cell shows whole under the keyboard's focus and the pointer.
    entry = page.locator(f"#day-{first.isoformat()} li").first
    link = entry.locator("a")
    expect(link).to_have_attribute("title", names[0] + " (Accepted, Acme " + p.tag + ")")
    clipped = "el => el.scrollWidth > el.clientWidth + 1"
    assert entry.evaluate(clipped), "the name was expected to be cut short in its cell"
    tab_to(page, link, limit=120)
    assert not entry.evaluate(clipped)
    assert entry.inner_text().startswith(names[0])
    day_entries = page.locator(f"#day-{first.isoformat()} li")
    assert _collisions(_boxes(day_entries)) == []
    page.locator("h1").click()  # the focus leaves it
    other = page.locator(f"#day-{(first + dt.timedelta(days=1)).isoformat()} li").last
    assert other.evaluate(clipped)
    other.hover()
    assert not other.evaluate(clipped)

    # A phone: the grid counts, the list names; nothing overlaps or scrolls sideways.
    page.set_viewport_size(PHONE)
    expect(page.locator(f"#day-{first.isoformat()} .day-count")).to_be_visible()
    expect(page.locator(f"#day-{first.isoformat()} ul")).to_be_hidden()
    assert _collisions(_boxes(month)) == []


# -- sell-through by month -----------------------------------------------------------------


def test_supplier_sees_promotions_shaded_over_their_weeks_by_month_with_apart_labels(
    page: Page, partners: Partners, admin: HubClient
) -> None:
    p = partners
    first, _ = default_range(p.today)
    week = first + dt.timedelta(weeks=5)  # a Monday inside the default range
    day = dt.timedelta(days=1)
    spans = {
        f"One-week flyer {p.tag}": (week, week + 6 * day),
        f"Overlapping display {p.tag}": (week, week + 20 * day),
        f"Overlapping coupon drop {p.tag}": (week + 7 * day, week + 13 * day),
    }
    admin.create_items("promotions", [_promotion(admin, p, n, a, b) for n, (a, b) in spans.items()])

    sign_in(page, p.acme_user)
    page.goto("/sell-through?grain=month")
    chart = page.locator("#trend svg.chart")
    expect(chart).to_be_visible()
    points = chart.locator("circle.dot").count() or 1
    plot = chart.locator("line.grid").first.bounding_box()
    assert plot
    band = plot["width"] / points  # one month's band, as drawn
    one_week = chart.locator("g.promo", has_text=f"One-week flyer {p.tag}").locator("rect")
    drawn = one_week.bounding_box()
    assert drawn
    assert drawn["width"] < band / 3, "a one-week promotion shaded (most of) a month"

    labels = chart.locator("text.promo-label")
    expect(labels).to_have_count(3)
    boxes = [
        labels.nth(i).evaluate(
            "t => { const b = t.getBoundingClientRect();"
            " return {x: b.x, y: b.y, width: b.width, height: b.height}; }"
        )
        for i in range(3)
    ]
    assert _collisions(boxes) == [], boxes
    reads_at_both_widths(page, "sellthrough-month")
    # A phone: the chart keeps a readable size, scrolling in its own box.
    page.set_viewport_size(PHONE)
    whole = chart.bounding_box()
    assert whole
    assert whole["width"] >= 640
    assert _collisions(_boxes(labels)) == []
