"""The operator's confirmations in a real browser: revoking an agreement and deactivating
a user each ask first, saying what will be hidden from whom; Cancel changes nothing, and
the confirmation reads at a laptop's width and at a phone's (390 px).
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from directus import HubClient
from governance import sharing
from tests.browser.conftest import Partners, reads_at_both_widths
from tests.browser.test_journeys import sign_in
from tests.factories import make_user


def test_an_operator_revokes_an_agreement_after_reading_whom_it_hides_from(
    page: Page, partners: Partners, admin: HubClient
) -> None:
    p = partners
    north, acme = p.orgs["north"], p.orgs["acme"]
    agreement = next(
        a["id"]
        for a in sharing.list_agreements(admin, acme["id"])
        if a["grantor"] == north["id"] and a["status"] == "active"
    )
    sign_in(page, make_user(admin, "operator_admin"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sharing").click()
    page.get_by_role("link", name=f"Revoke agreement {agreement}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Revoke agreement {agreement}?")
    effects = page.locator("#effects")
    expect(effects).to_contain_text(f"{acme['name']}'s users no longer see {north['name']}'s")
    expect(effects).to_contain_text(p.acme_user.email)
    reads_at_both_widths(page, "operator-confirm-revoke")

    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(f"#agreement-{agreement}")).to_contain_text("active")
    page.get_by_role("link", name=f"Revoke agreement {agreement}", exact=True).click()
    page.get_by_role("button", name=f"Revoke agreement {agreement}", exact=True).click()
    expect(page.locator(".flash")).to_contain_text(f"Agreement {agreement} revoked")
    expect(page.locator(f"#agreement-{agreement}")).to_contain_text("revoked")


def test_an_operator_deactivates_a_user_after_reading_what_it_ends(
    page: Page, partners: Partners, admin: HubClient
) -> None:
    north = partners.orgs["north"]
    person = make_user(admin, "distributor_user", north)
    sign_in(page, make_user(admin, "operator_admin"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Partners and users"
    ).click()
    page.get_by_role("link", name=f"Deactivate {person.email}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Deactivate {person.email}?")
    expect(page.locator("#effects")).to_contain_text(
        f"{person.email} (distributor_user at {north['name']}) is signed out at once"
    )
    reads_at_both_widths(page, "operator-confirm-deactivate")

    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(person.email)
    page.get_by_role("link", name=f"Deactivate {person.email}").click()
    page.get_by_role("button", name=f"Deactivate {person.email}").click()
    expect(page.locator(".flash")).to_contain_text(f"{person.email} is deactivated")
    expect(page.locator(f"#user-{person.id}")).to_contain_text("suspended")
