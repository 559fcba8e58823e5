"""Setting attention items aside in a real browser (issue 16): a supplier snoozes a stale
feed's item for a week and it comes back when the feed's data moves, then dismisses it;
the home page reads at a laptop's width and at a phone's (390 px)."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from directus import HubClient
from domain import clock
from tests.browser.conftest import Partners, reads_at_both_widths
from tests.browser.test_journeys import sign_in


def test_a_supplier_snoozes_a_stale_feed_sees_it_return_then_dismisses_it(
    page: Page, partners: Partners, admin: HubClient
) -> None:
    p = partners
    feed = f"{p.orgs['north']['id']}:pos"
    ten_days_ago = clock.today() - dt.timedelta(days=10)
    admin.update_item("feeds", feed, {"data_through": ten_days_ago.isoformat()})
    sign_in(page, p.acme_user)
    stale = page.locator("li.attention-stale-feed", has_text="'s pos data")
    expect(stale).to_contain_text(f"{p.orgs['north']['name']}'s pos data is stale")
    expect(stale).to_contain_text(f"data through {ten_days_ago}")
    reads_at_both_widths(page, "attention-home")

    stale.get_by_role("button", name="Snooze 1 week").click()
    expect(page.locator(".flash")).to_contain_text("snoozed for a week until")
    expect(stale).to_have_count(0)
    reads_at_both_widths(page, "attention-snoozed")

    # A newer delivery, still stale: a new cause, so the item is back before the week ends.
    admin.update_item(
        "feeds", feed, {"data_through": (ten_days_ago + dt.timedelta(days=3)).isoformat()}
    )
    page.reload()
    expect(stale).to_contain_text(f"data through {ten_days_ago + dt.timedelta(days=3)}")

    stale.get_by_role("button", name="Dismiss").click()
    expect(page.locator(".flash")).to_contain_text("dismissed")
    expect(stale).to_have_count(0)
    page.reload()
    expect(stale).to_have_count(0)
