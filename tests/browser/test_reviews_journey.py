"""The account manager's review in a real browser: from the home page's attention list to
the pair's page, a figure's drill-down, and the quarterly business review pack printed by
Chromium (A4 landscape, a page per section), at a laptop's width and at a phone's.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid

import pytest
from playwright.sync_api import Page, expect

from directus import HubClient
from domain import scorecard
from governance.partners import assign_manager
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync.runs import JobContext
from sync.scorecards import compute_scorecards
from tests.browser.conftest import LAPTOP, SCREENSHOTS, Partners
from tests.browser.test_journeys import sign_in
from tests.factories import Member, make_org, make_user

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def review(hub, admin: HubClient, partners: Partners) -> dict:
    """acme/north's manager, an order due in the last whole quarter that arrived short,
    the year's plan with a target it misses, a risk whose review is overdue, and the
    pair's scorecards computed."""
    p = partners
    pid = next(
        int(row["id"])
        for row in admin.read_items("partnerships", filter={"_and": [
            {"supplier": {"_eq": p.orgs["acme"]["id"]}},
            {"distributor": {"_eq": p.orgs["north"]["id"]}}]}, fields=["id"])
    )  # fmt: skip
    manager = make_user(admin, "account_manager", make_org(admin, "operator"))
    assign_manager(admin, manager.id, p.orgs["acme"]["id"], p.orgs["north"]["id"], via="test")
    current = scorecard.period_of(p.today, "quarter")
    last = scorecard.period_of(current.start - dt.timedelta(days=1), "quarter")
    due = last.start + dt.timedelta(days=40)
    number = f"PO-review-{p.tag}"
    po = admin.create_item("purchase_orders", {
        "number": number, "status": "partially_shipped", "currency": "USD",
        "ordered_on": (due - dt.timedelta(days=14)).isoformat(), "requested_date": due.isoformat(),
        "promised_date": due.isoformat(), "partnership": pid,
    })  # fmt: skip
    line = admin.create_item("po_lines", {
        "purchase_order": po["id"], "line_no": 1, "sku": p.skus["oats"]["id"], "qty_ordered": 40,
        "qty_promised": 40, "unit_cost_minor": 100, "partnership": pid,
    })  # fmt: skip
    asn = admin.create_item("shipments", {
        "number": f"ASN-review-{p.tag}", "status": "received", "partnership": pid,
        "ship_date": (due - dt.timedelta(days=3)).isoformat(),
        "received_date": (due - dt.timedelta(days=1)).isoformat(), "purchase_order": po["id"],
    })  # fmt: skip
    admin.create_item("shipment_lines", {"shipment": asn["id"], "po_line": line["id"],
                                         "qty_shipped": 30, "qty_received": 30,
                                         "partnership": pid})  # fmt: skip
    admin.create_item("business_plans", {
        "partnership": pid, "year": last.end.year, "status": "active",
        "targets": {"fill.unit": "95.0", "otif.order.promised": "90.0"},
    })  # fmt: skip
    admin.create_item("risks", {
        "partnership": pid, "title": f"Oats harvest {p.tag}", "category": "supply",
        "likelihood": 3, "impact": 4, "review_date": (p.today - dt.timedelta(days=3)).isoformat(),
        "status": "open",
    })  # fmt: skip
    token = secrets.token_urlsafe(32)
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    compute_scorecards(JobContext(hub=HubClient(hub.url, token=token), job_id="scorecards.compute",
                                  run_id=str(uuid.uuid4()), settings={"pairs": [pid]}))  # fmt: skip
    return {"pair": pid, "manager": manager, "quarter": last.label, "number": number}


def test_the_manager_prepares_and_prints_the_quarterly_review(
    page: Page, partners: Partners, review: dict
) -> None:
    manager: Member = review["manager"]
    sign_in(page, manager)
    # The home page leads with what needs attention: the overdue risk review.
    attention = page.locator("#attention")
    expect(attention).to_contain_text("1 risk review overdue")
    attention.get_by_role("link", name="1 risk review overdue").click()
    expect(page.locator("#risk-table")).to_contain_text(f"Oats harvest {partners.tag}")
    expect(page.locator("svg.heat-map")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews")
    ).to_be_visible()

    # The quarter's scorecard, and the order behind a figure.
    page.get_by_role("link", name="by quarter").click()
    expect(page.locator("#scorecard")).to_contain_text(review["quarter"])
    row = page.locator("#scorecard tr", has_text="Unit fill")
    row.get_by_role("link").last.click()
    expect(page.locator("#figure")).to_contain_text("75.0 %")  # 30 of 40 units
    expect(page.locator("#records")).to_contain_text(review["number"])
    expect(page.locator("#records tr.missed")).to_have_count(1)

    # The pack for the last whole quarter, as a page, then printed by Chromium.
    page.goto(f"/reviews/pairs/{review['pair']}")
    expect(page.get_by_label("Review pack for")).to_have_value(review["quarter"])
    page.get_by_role("button", name="Printable page").click()
    expect(page.locator("h1")).to_contain_text("Quarterly business review")
    expect(page.locator("#summary-kpis")).to_contain_text("Unit fill")
    expect(page.locator("#target-table")).to_contain_text("misses")
    page.screenshot(path=SCREENSHOTS / "review-pack-page.png", full_page=True)
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 7, pages  # one section a page: summary, trends, targets, actions, ...
    (SCREENSHOTS / "review-pack.pdf").write_bytes(pdf)

    # The workbook downloads from the same form.
    page.emulate_media(media="screen")
    page.goto(f"/reviews/pairs/{review['pair']}")
    with page.expect_download() as download:
        page.get_by_role("button", name="Excel workbook").click()
    assert download.value.suggested_filename.endswith(f"{review['quarter']}.xlsx")


def test_the_pair_page_reads_on_a_laptop_and_a_phone(
    page: Page, partners: Partners, review: dict
) -> None:
    sign_in(page, review["manager"])
    for name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"/reviews/pairs/{review['pair']}")
        expect(page.locator("#headline")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"review-pair-{name}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"] + 1, (name, width)  # no sideways scrolling


def test_the_manager_reads_the_pairs_sell_through_and_inventory(
    page: Page, partners: Partners, review: dict
) -> None:
    """From the pair's page to its sell-through and inventory: acme's SKUs at north, as
    north shares them with acme; nothing of brava's SKU sold at the same stores, or of
    south."""
    p = partners
    sign_in(page, review["manager"])
    page.goto(f"/reviews/pairs/{review['pair']}")
    this_pair = page.get_by_role("navigation", name="This pair")
    this_pair.get_by_role("link", name="Sell-through").click()
    expect(page.get_by_label("Pair")).to_have_value(str(review["pair"]))
    expect(page.locator("#figures")).to_contain_text(f"{p.units('oats') + p.units('bran'):,}")
    html = page.content()
    for stranger in (p.skus["cola"]["description"], p.orgs["south"]["name"]):
        assert stranger not in html, f"{stranger!r} is on the manager's sell-through page"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").click()
    expect(page.get_by_label("Pair")).to_have_value(str(review["pair"]))
    expect(page.locator("table")).to_contain_text(p.stores["north-S1"]["name"])
    assert p.stores["south-S1"]["name"] not in page.content()
