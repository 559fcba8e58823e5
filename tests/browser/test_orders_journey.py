"""The purchase-order journey in a real browser: the distributor orders through the form,
the supplier finds it awaiting its answer, answers line by line and sends a ship notice,
and the order's page reads at a laptop's width and at a phone's (390 px), its tables
scrolling inside their own box rather than the page.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from domain.gs1 import with_check_digit
from tests.browser.conftest import Partners, reads_at_both_widths
from tests.browser.test_journeys import sign_in
from tests.factories import unique


def test_an_order_from_the_form_to_a_short_ship_notice(page: Page, partners: Partners) -> None:
    p = partners
    sign_in(page, p.north_user)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Orders", exact=True
    ).click()
    page.get_by_role("link", name="New order").click()
    page.get_by_label("Supplier").select_option(label=p.orgs["acme"]["name"])
    page.get_by_role("button", name="Continue").click()

    number = unique("PO")
    page.get_by_label("Order number").fill(number)
    page.get_by_label("Requested delivery").fill(str(p.today.replace(day=1).replace(
        year=p.today.year + 1)))  # fmt: skip
    ship_to = page.get_by_role("combobox", name="Ship to")  # the store picker: type, Enter
    ship_to.press_sequentially("s1")
    page.keyboard.press("Enter")
    expect(ship_to).to_have_value(re.compile(r"^S1 · North Main St"))
    page.get_by_label("Line 1 SKU").fill("A1")  # the distributor's own item code
    page.get_by_label("Line 1 quantity").fill("12")
    page.get_by_label("Line 1 unit price").fill("1.18")
    page.get_by_label("Line 2 SKU").fill(p.skus["bran"]["gtin"])
    page.get_by_label("Line 2 quantity").fill("6")
    page.get_by_label("Line 2 unit price").fill("2.5")
    page.get_by_role("button", name="Place the order").click()
    expect(page.locator("#order-status")).to_have_text("Open, awaiting the supplier")
    expect(page.locator("#order-value")).to_have_text("29.16 USD")
    order_url = page.url

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, p.acme_user)
    page.goto("/orders")
    expect(page.locator("#awaiting")).to_contain_text(number)
    page.locator("#awaiting").get_by_role("link", name=number).click()
    page.get_by_role("link", name="Answer the order").click()
    page.get_by_label("Promised delivery of the order").fill(
        str(p.today.replace(day=2).replace(year=p.today.year + 1))
    )
    line2 = page.locator("#answer-line-2")
    line2.get_by_role("radio", name="Change").check()
    line2.get_by_label("New quantity (if changed)").fill("4")
    line2.get_by_label("Reason").fill("Short on bran")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.locator("#order-status")).to_have_text("Acknowledged")
    expect(page.locator("#line-2")).to_contain_text("Changed: Short on bran")

    page.get_by_role("link", name="Send a ship notice").click()
    page.get_by_label("ASN number").fill("ASN-1")
    first_line = page.locator("#ship-line-1")
    first_line.get_by_label(re.compile("SSCC")).fill(with_check_digit("00123456780000001"))
    page.locator("#ship-line-2").get_by_label(re.compile("quantity")).fill("")
    page.get_by_role("button", name="Send the ship notice").click()
    expect(page.locator("#order-status")).to_have_text("Partially shipped")
    expect(page.locator("#timeline")).to_contain_text("Shipped: ship notice ASN-1")

    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(3)
    expect(timeline.nth(1)).to_contain_text("Acknowledged by the supplier")
    expect(timeline.nth(2)).to_contain_text("Shipped: ship notice ASN-1")

    # At a laptop's width and a phone's, the page itself never scrolls sideways; a wide
    # table scrolls inside its own box.
    page.goto(order_url)
    reads_at_both_widths(page, "orders-detail")
