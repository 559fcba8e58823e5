"""A distributor analyses its own sell-through and stock in a real browser: every
supplier's SKUs at its own stores, narrowed to one supplier, drilled down to a SKU's
stores, and its inventory by the same filter; nothing of another distributor's stores.
Both pages read at a laptop's width and at a phone's (390 px).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Partners, reads_at_both_widths
from tests.browser.test_journeys import sign_in


def test_a_distributor_reads_its_own_sell_through_by_supplier_and_drills_down(
    page: Page, partners: Partners
) -> None:
    p = partners
    sign_in(page, p.north_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell-through").click()
    expect(page).to_have_url(re.compile(r"/sell-through$"))
    breakdown = page.locator("#breakdown")
    every = sum(p.units(sku, store) for sku in ("oats", "bran", "cola")
                for store in ("north-S1", "north-S2"))  # fmt: skip
    expect(page.locator("#figures")).to_contain_text(f"{every:,}")
    for sku, supplier in (("oats", "acme"), ("bran", "acme"), ("cola", "brava")):
        row = breakdown.locator("tbody tr", has_text=p.skus[sku]["description"])
        expect(row).to_contain_text(p.orgs[supplier]["name"])
    html = page.content()
    for stranger in (p.orgs["south"]["name"], p.stores["south-S1"]["name"]):
        assert stranger not in html, f"{stranger!r} is on north's sell-through page"
    reads_at_both_widths(page, "sellthrough-distributor")

    page.get_by_label("Supplier").select_option(label=p.orgs["acme"]["name"])
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"[?&]supplier={p.orgs['acme']['id']}(&|$)"))
    expect(breakdown).not_to_contain_text(p.skus["cola"]["description"])
    acme = sum(p.units(sku, store) for sku in ("oats", "bran")
               for store in ("north-S1", "north-S2"))  # fmt: skip
    expect(page.locator("#figures")).to_contain_text(f"{acme:,}")

    breakdown.get_by_role("link", name=p.skus["oats"]["description"]).click()
    expect(breakdown.locator("thead")).to_contain_text("Location")
    for store in ("north-S1", "north-S2"):
        row = breakdown.locator("tbody tr", has_text=p.stores[store]["name"])
        expect(row.locator("td").first).to_have_text(f"{p.units('oats', store):,}")

    # Back to every SKU from the picker: empty it, Enter (no SKU is taken), then Apply.
    sku = page.get_by_role("combobox", name="SKU", exact=True)
    sku.fill("")
    page.keyboard.press("Enter")
    expect(page.locator("select[name=sku]")).to_have_value("")
    expect(sku).to_have_value("")  # the placeholder says what to type
    page.get_by_role("button", name="Apply").click()
    expect(page).not_to_have_url(re.compile(r"[?&]sku=\d"))
    expect(breakdown.locator("thead")).to_contain_text("SKU")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").click()
    page.get_by_label("Supplier").select_option(label=p.orgs["brava"]["name"])
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"[?&]supplier={p.orgs['brava']['id']}(&|$)"))
    table = page.locator("#inventory")
    expect(table).to_contain_text(p.stores["north-S1"]["name"])
    assert p.stores["south-S1"]["name"] not in page.content()
    reads_at_both_widths(page, "inventory-distributor")
