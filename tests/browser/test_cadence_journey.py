"""A feed's cadence in a real browser (issue 16): a distributor sets how often its POS
feed comes, its freshness then follows it (the expected date, the cadence and where it
comes from), and its supplier reads the same on the sell-through page; both pages read
at a laptop's width and at a phone's (390 px)."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page, expect

from directus import HubClient
from tests.browser.conftest import Partners, reads_at_both_widths
from tests.browser.test_journeys import sign_in


def test_a_distributor_sets_its_feeds_cadence_and_the_supplier_sees_it(
    page: Page, partners: Partners, admin: HubClient
) -> None:
    p = partners
    feed = admin.read_item("feeds", f"{p.orgs['north']['id']}:pos")
    expected = dt.date.fromisoformat(feed["data_through"][:10]) + dt.timedelta(days=7)
    sign_in(page, p.north_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data uploads").click()
    row = page.locator("#feed-pos")
    expect(row).to_contain_text("not known yet")  # no delivery recorded as an import yet

    form = page.locator("#cadence-form")
    form.get_by_label("Feed").select_option(label="POS sales")
    form.get_by_label(re.compile("Days between deliveries")).fill("7")
    form.get_by_role("button", name="Save cadence").click()
    expect(page.locator(".flash")).to_contain_text("The POS sales feed is expected weekly")
    expect(row).to_contain_text("weekly (set)")
    expect(row).to_contain_text(expected.isoformat())
    reads_at_both_widths(page, "cadence-uploads")

    page.context.clear_cookies()
    sign_in(page, p.acme_user)
    page.goto(f"/sell-through?distributor={p.orgs['north']['id']}")
    freshness = page.locator("section.freshness tbody tr", has_text="pos")
    expect(freshness).to_contain_text("weekly (set)")
    expect(freshness).to_contain_text(expected.isoformat())
    # The page's breakdown table is wider than a phone; the freshness table scrolls in its box.
    reads_at_both_widths(page, "cadence-sell-through", "section.freshness")
