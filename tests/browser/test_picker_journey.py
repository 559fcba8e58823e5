"""The searchable pickers in a real browser, over a catalog of 300 SKUs and 40 stores.

A distributor finds SKUs by its item code, by part of a GTIN and by words of the name,
picks them with the keyboard, removes one chip, picks a store, and saves the promotion;
the listbox lists the first 50 matches and says how many more there are. The order
form's ship-to picks one store the same way. A refused form keeps its chips and names
the SKU by code and name. Each page is looked at 1366 and 390 px wide
(artifacts/screenshots/picker-*.png).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from directus import HubClient
from domain import clock
from domain.gs1 import with_check_digit
from governance.partners import add_partner, ensure_partnership
from tests.browser.conftest import LAPTOP, LivePortal, reads_at_both_widths
from tests.browser.test_journeys import sign_in
from tests.factories import Member, gs1_prefix, make_org, make_user

SKUS = 300
STORES = 40
SHOWN = 50  # the matches a picker lists at most (static/picker.js)
LEAD = 5
FLAVOURS = ("Apple", "Mango", "Lemon", "Cherry", "Peach", "Grape", "Lime", "Berry", "Melon", "Kiwi")


@dataclass
class Catalog:
    """A distributor paired with a supplier of 300 SKUs (each with the distributor's item
    code PK-000 to PK-299), and the distributor's 40 stores P01 to P40."""

    admin: HubClient
    tag: str
    pair: int
    skus: list[dict[str, Any]]  # by number: skus[n] has code PK-<n>
    stores: list[dict[str, Any]]  # stores[n - 1] has code P<n>
    buyer: Member

    def label(self, n: int) -> str:
        """How pages and messages name SKU n."""
        sku = self.skus[n]
        return f"PK-{n:03d} · {sku['gtin']} · {sku['description']}"

    def option(self, n: int) -> str:
        """SKU n as the promotion form's SKU picker offers it."""
        return f"{self.label(n)} (lead time {LEAD} days)"


@pytest.fixture(scope="module")
def catalog(admin: HubClient) -> Catalog:
    tag = secrets.token_hex(3)
    # A ten-digit company prefix holds 100 item references: three of them for 300 SKUs.
    prefixes = [gs1_prefix() for _ in range(SKUS // 100)]
    supplier = add_partner(
        admin, f"Picker Foods {tag}", "supplier", gs1_prefixes=prefixes, via="test"
    )
    distributor = make_org(admin, "distributor", name=f"Picker Mart {tag}")
    pair = ensure_partnership(admin, supplier["id"], distributor["id"])
    admin.create_items(
        "skus",
        [
            {"gtin": with_check_digit(f"{prefixes[n // 100]}{n % 100:02d}").zfill(14),
             "description": f"{FLAVOURS[n % len(FLAVOURS)]} juice {n:03d} {tag}",
             "cost_minor": 100, "list_price_minor": 250, "currency": "USD",
             "lead_time_days": LEAD, "supplier": supplier["id"]}
            for n in range(SKUS)
        ],
    )  # fmt: skip
    skus = admin.read_items("skus", filter={"supplier": {"_eq": supplier["id"]}}, limit=-1)
    assert len(skus) == SKUS
    skus.sort(key=lambda s: int(s["description"].split()[2]))  # by its number
    admin.create_items(
        "sku_codes",
        [
            {"id": f"{distributor['id']}:PK-{n:03d}", "item_code": f"PK-{n:03d}",
             "sku": sku["id"], "distributor": distributor["id"]}
            for n, sku in enumerate(skus)
        ],
    )  # fmt: skip
    admin.create_items(
        "locations",
        [
            {"ref": f"{distributor['id']}:P{n:02d}", "code": f"P{n:02d}",
             "name": f"Picker store {n:02d} {tag}", "kind": "store", "region": "west",
             "distributor": distributor["id"]}
            for n in range(1, STORES + 1)
        ],
    )  # fmt: skip
    stores = admin.read_items(
        "locations", filter={"distributor": {"_eq": distributor["id"]}}, sort=["code"], limit=-1
    )
    return Catalog(
        admin=admin,
        tag=tag,
        pair=pair,
        skus=skus,
        stores=stores,
        buyer=make_user(admin, "distributor_user", distributor),
    )


def pick(page: Page, box: Locator, typed: str, downs: int = 0) -> str:
    """Type into a picker, move down the matches with the arrow key, pick with Enter;
    the text of the option picked."""
    box.fill("")
    box.press_sequentially(typed)
    expect(box).to_have_attribute("aria-expanded", "true")
    for _ in range(downs):
        page.keyboard.press("ArrowDown")
    active = page.locator(f"#{box.get_attribute('aria-activedescendant')}")
    chosen = active.evaluate("item => item.firstChild.textContent")
    page.keyboard.press("Enter")
    expect(box).to_have_attribute("aria-expanded", "false")
    return str(chosen)


def chips(page: Page, name: str, count: int) -> set[str]:
    """The texts of a multiple picker's chips (in the select's order), once there are
    ``count`` of them."""
    found = page.locator(f"#{name}-chips li span")
    expect(found).to_have_count(count)
    return set(found.all_inner_texts())


def test_a_distributor_finds_skus_by_code_gtin_and_name_and_saves_the_promotion(
    page: Page, catalog: Catalog
) -> None:
    c = catalog
    sign_in(page, c.buyer)
    page.goto("/promotions/new")
    page.get_by_label("Partner (supplier)").select_option(str(c.pair))
    page.get_by_label("Name").fill(f"Picker week {c.tag}")
    page.get_by_label("Type").select_option("tpr")
    start = clock.today() + dt.timedelta(days=LEAD + 10)
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("End date").fill((start + dt.timedelta(days=6)).isoformat())

    skus = page.get_by_role("combobox", name=re.compile(r"^SKUs"))
    expect(skus).to_have_attribute("aria-controls", "skus-listbox")
    expect(skus).to_have_attribute("placeholder", "Type a code, GTIN or name")
    expect(page.locator("#skus-select")).to_be_hidden()  # the select stays in the form
    expect(page.get_by_text("hold Ctrl")).to_have_count(0)  # the plain select's hint, gone

    # 300 match the tag: the first 50 are listed, and the rest counted.
    skus.press_sequentially(c.tag)
    listbox = page.get_by_role("listbox", name="SKUs matching")
    expect(listbox.get_by_role("option")).to_have_count(SHOWN)
    expect(page.locator("#skus-more")).to_have_text(
        f"Showing the first {SHOWN} of {SKUS} matches: type more to narrow them."
    )
    reads_at_both_widths(page, "picker-promotion-skus-listbox")

    # By the distributor's item code, by part of a GTIN, by words of the name.
    assert pick(page, skus, "pk-007") == c.option(7)
    gtin = c.skus[142]["gtin"]
    assert pick(page, skus, gtin[-9:]) == c.option(142)
    mango = pick(page, skus, f"mango {c.tag}", downs=2)
    assert mango in {c.option(n) for n in range(1, SKUS, len(FLAVOURS))}  # a Mango juice
    assert chips(page, "skus", 3) == {c.option(7), c.option(142), mango}

    # A chosen SKU is no longer offered; Enter then picks nothing and submits nothing;
    # Escape closes the list, then clears the typing.
    skus.press_sequentially("pk-007")
    expect(page.locator("#skus-more")).to_have_text("No SKU matches “pk-007”.")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/promotions/new$"))
    page.keyboard.press("Escape")
    expect(page.locator("#skus-more")).to_be_hidden()
    expect(skus).to_have_value("pk-007")
    page.keyboard.press("Escape")
    expect(skus).to_have_value("")

    # Remove a chip with the keyboard: its button, then Enter.
    remove = page.get_by_role("button", name=f"Remove {c.option(142)}")
    remove.focus()
    page.keyboard.press("Enter")
    assert chips(page, "skus", 2) == {c.option(7), mango}
    expect(skus).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="Removed")).to_have_text(
        f"Removed {c.option(142)}"
    )

    stores = page.get_by_role("combobox", name=re.compile(r"^Stores"))
    stores.click()  # a click, no typing: every store is listed (40, under the cap)
    expect(page.get_by_role("listbox", name="stores matching").get_by_role("option")).to_have_count(
        STORES
    )
    expect(page.locator("#locations-more")).to_have_text(f"{STORES} matches.")
    assert pick(page, stores, "p12") == f"P12 · Picker store 12 {c.tag}"
    assert chips(page, "locations", 1) == {f"P12 · Picker store 12 {c.tag}"}
    reads_at_both_widths(page, "picker-promotion-form")

    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_url(re.compile(r"/promotions/\d+$"))
    key = int(page.url.rsplit("/", 1)[1])
    saved = c.admin.read_item("promotions", key, fields=["name", "skus.sku", "locations.location"])
    by_label = {c.option(n): sku["id"] for n, sku in enumerate(c.skus)}
    assert sorted(s["sku"] for s in saved["skus"]) == sorted([c.skus[7]["id"], by_label[mango]])
    assert [x["location"] for x in saved["locations"]] == [c.stores[11]["id"]]
    expect(page.locator("main")).to_contain_text(c.skus[7]["description"])


def test_a_refused_promotion_keeps_its_chips_and_names_the_sku_by_code_and_name(
    page: Page, catalog: Catalog
) -> None:
    c = catalog
    sign_in(page, c.buyer)
    page.goto("/promotions/new")
    page.get_by_label("Partner (supplier)").select_option(str(c.pair))
    page.get_by_label("Name").fill(f"Too soon {c.tag}")
    page.get_by_label("Type").select_option("display")
    soon = clock.today() + dt.timedelta(days=1)  # inside the SKUs' lead time
    page.get_by_label("Start date").fill(soon.isoformat())
    page.get_by_label("End date").fill((soon + dt.timedelta(days=3)).isoformat())
    skus = page.get_by_role("combobox", name=re.compile(r"^SKUs"))
    pick(page, skus, "pk-250")
    page.get_by_role("button", name="Save as draft").click()

    expect(page.locator("#form-message")).to_contain_text("The promotion was not saved")
    earliest = clock.today() + dt.timedelta(days=LEAD)
    expect(page.locator("#start_date-error")).to_have_text(
        f"{soon} is inside the supplier's lead time for SKU {c.label(250)} ({LEAD} days): "
        f"start on or after {earliest}"
    )
    assert chips(page, "skus", 1) == {c.option(250)}  # the choice survived
    reads_at_both_widths(page, "picker-promotion-refused")


def test_a_distributor_picks_the_orders_ship_to_store_by_typing(
    page: Page, catalog: Catalog
) -> None:
    c = catalog
    sign_in(page, c.buyer)
    page.goto(f"/orders/new?partnership={c.pair}")
    ship_to = page.get_by_role("combobox", name="Ship to")
    expect(ship_to).to_have_value("")
    ship_to.press_sequentially("p2")
    expect(page.locator("#ship_to-more")).to_have_text("10 matches.")  # P20 to P29
    reads_at_both_widths(page, "picker-order-ship-to-listbox")
    # The option the keyboard points at is the one marked selected (ARIA 1.2).
    page.keyboard.press("ArrowDown")
    pointed = page.locator(f"#{ship_to.get_attribute('aria-activedescendant')}")
    expect(pointed).to_have_attribute("aria-selected", "true")
    expect(page.locator("#ship_to-listbox [aria-selected=true]")).to_have_count(1)
    # Placing the order with no store chosen is stopped in the page, naming the field.
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Place the order").click()
    expect(page).to_have_url(re.compile(r"/orders/new"))
    assert ship_to.evaluate("box => box.validationMessage") == "Choose a location."
    chosen = pick(page, ship_to, "p27")
    assert chosen == f"P27 · Picker store 27 {c.tag} (store)"
    expect(ship_to).to_have_value(chosen)
    # Typing something else and leaving puts the chosen store back.
    ship_to.fill("nothing like it")
    page.get_by_label("Order number").focus()
    expect(ship_to).to_have_value(chosen)

    number = f"PK-{c.tag}"
    page.get_by_label("Order number").fill(number)
    page.get_by_label("Requested delivery").fill(
        (clock.today() + dt.timedelta(days=14)).isoformat()
    )
    page.get_by_label("Line 1 SKU").fill("PK-003")
    page.get_by_label("Line 1 quantity").fill("6")
    page.get_by_label("Line 1 unit price").fill("1.10")
    reads_at_both_widths(page, "picker-order-ship-to")
    page.get_by_role("button", name="Place the order").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    (order,) = c.admin.read_items(
        "purchase_orders", filter={"number": {"_eq": number}}, fields=["ship_to"]
    )
    assert order["ship_to"] == c.stores[26]["id"]


def test_without_javascript_the_plain_selects_still_save_the_promotion(
    browser: Browser, live_portal: LivePortal, catalog: Catalog
) -> None:
    """The picker only enhances: with scripts off, the same form posts the same values."""
    c = catalog
    context = browser.new_context(
        viewport=LAPTOP, base_url=live_portal.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, c.buyer)
        page.goto("/promotions/new")
        expect(page.get_by_role("combobox")).to_have_count(2)  # partner and type, no picker
        expect(page.get_by_text("(hold Ctrl or ⌘ to pick several)")).to_have_count(2)
        page.get_by_label("Partner (supplier)").select_option(str(c.pair))
        page.get_by_label("Name").fill(f"No script {c.tag}")
        page.get_by_label("Type").select_option("feature")
        start = clock.today() + dt.timedelta(days=LEAD + 30)
        page.get_by_label("Start date").fill(start.isoformat())
        page.get_by_label("End date").fill((start + dt.timedelta(days=2)).isoformat())
        page.get_by_label(re.compile(r"^SKUs")).select_option(
            [str(c.skus[n]["id"]) for n in (3, 299)]
        )
        page.get_by_label(re.compile(r"^Stores")).select_option(str(c.stores[39]["id"]))
        reads_at_both_widths(page, "picker-promotion-form-without-javascript")
        page.get_by_role("button", name="Save as draft").click()
        expect(page).to_have_url(re.compile(r"/promotions/\d+$"))
        key = int(page.url.rsplit("/", 1)[1])
        saved = c.admin.read_item("promotions", key, fields=["skus.sku", "locations.location"])
        assert sorted(s["sku"] for s in saved["skus"]) == sorted(
            [c.skus[3]["id"], c.skus[299]["id"]]
        )
        assert [x["location"] for x in saved["locations"]] == [c.stores[39]["id"]]
    finally:
        context.close()
