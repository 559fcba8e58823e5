"""The planning journey in a real browser: the supplier opens one distributor's plan,
finds the frozen weeks locked and the past weeks' sales, commits two open weeks through
the grid with a note, and the distributor then reads those commitments (and cannot
change them).
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from domain.forecasts import first_open_week, week_label
from tests.browser.conftest import Partners
from tests.browser.test_journeys import sign_in


def test_the_supplier_commits_open_weeks_and_the_distributor_reads_them(
    page: Page, partners: Partners
) -> None:
    p = partners
    oats = p.skus["oats"]
    opens = first_open_week(p.today, 14)  # the catalog's default lead time
    later = opens + dt.timedelta(weeks=1)
    sign_in(page, p.acme_user)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Planning", exact=True
    ).click()
    page.get_by_label("Distributor").select_option(label=p.orgs["north"]["name"])
    page.get_by_role("button", name="Show").click()
    # No forecast is shared with acme yet: accuracy says why it has no figures.
    expect(page.locator("#no-accuracy")).to_contain_text("No past week has both a plan")
    grid = page.locator(f"#sku-{oats['id']}")
    # The week before the first open one is frozen: no box to type in.
    frozen = grid.locator(
        f'td[data-week="{opens - dt.timedelta(weeks=1)}"][data-figure="commitment"]'
    )
    expect(frozen).to_have_class("n frozen")
    expect(frozen.locator("input")).to_have_count(0)
    # Last week's sales, as the agreement shares them: 17 + 12 at the two stores.
    last_week = p.today - dt.timedelta(days=p.today.weekday() + 7)
    expect(grid.locator(f'td[data-week="{last_week}"][data-figure="sold"]')).to_have_text("29")

    description = oats["description"]
    page.get_by_label(f"{description}, commitment for {week_label(opens)}").fill("30")
    page.get_by_label(f"{description}, commitment for {week_label(later)}").fill("0")
    page.get_by_label("Note for the commitments you change (optional)").fill("Plant shutdown")
    page.get_by_role("button", name="Save commitments").click()
    expect(page.get_by_role("status").filter(has_text="2 commitments saved")).to_be_visible()
    expect(page.get_by_label(f"{description}, commitment for {week_label(opens)}")).to_have_value(
        "30"
    )

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, p.north_user)
    page.goto("/planning")
    page.get_by_label("Supplier").select_option(label=p.orgs["acme"]["name"])
    page.get_by_role("button", name="Show").click()
    cell = page.locator(f'#sku-{oats["id"]} td[data-week="{opens}"][data-figure="commitment"]')
    expect(cell).to_have_text("30")
    expect(cell).to_have_attribute("title", "Plant shutdown")
    expect(page.locator("#plan input")).to_have_count(0)
