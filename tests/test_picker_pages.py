"""The searchable pickers of SKUs and stores on the real hub: the promotion form's SKUs
and stores and the order form's ship-to render as selects marked for static/picker.js,
each option named by code and name, post the same values as before, offer only the
user's own partners' SKUs and its own stores, and the form's errors name a SKU or store
by code and name, never by its id."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from openpyxl import Workbook

from directus import HubClient
from domain import clock
from domain.promotions import COLUMNS
from portal.workbooks import SHEET
from tests.factories import Member, make_org, make_pair, make_sku, make_store, make_user
from tests.test_promotion_pages import Browser, text

LEAD = 7


def day(offset: int) -> dt.date:
    return clock.today() + dt.timedelta(days=offset)


@dataclass
class Shop:
    """A distributor paired with a supplier (two SKUs with the distributor's item codes,
    two stores), and what it must never be offered: another distributor's store, and a
    SKU of a supplier it is not paired with."""

    admin: HubClient
    pair: int
    supplier: dict[str, Any]
    skus: list[dict[str, Any]]
    stores: list[dict[str, Any]]
    foreign_store: dict[str, Any]
    stranger_sku: dict[str, Any]
    buyer: Member


@pytest.fixture
def shop(admin: HubClient) -> Shop:
    supplier, distributor, pair = make_pair(admin)
    skus = [make_sku(admin, supplier, distributor, code) for code in ("PK-OAT", "PK-BRAN")]
    for sku in skus:
        admin.update_item("skus", sku["id"], {"lead_time_days": LEAD})
    return Shop(
        admin=admin,
        pair=pair,
        supplier=supplier,
        skus=skus,
        stores=[make_store(admin, distributor, code) for code in ("PK1", "PK2")],
        foreign_store=make_store(admin, make_org(admin, "distributor"), "PKX"),
        stranger_sku=make_sku(admin, make_org(admin, "supplier")),
        buyer=make_user(admin, "distributor_user", distributor),
    )


@pytest.fixture
def app(hub, make_portal, tmp_path) -> Flask:
    return make_portal(hub, spool_dir=tmp_path / "spool")


def _select(page: str, name: str) -> str:
    match = re.search(rf'<select id="{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select {name}"
    return match.group(1)


def options(page: str, name: str) -> dict[str, str]:
    """The select ``name``'s options: value -> text."""
    found = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', _select(page, name))
    return {value: html.unescape(label) for value, label in found}


def picked(page: str, name: str) -> list[str]:
    """The values the select ``name`` has selected."""
    return re.findall(r'<option value="([^"]*)" selected>', _select(page, name))


def sku_label(sku: dict[str, Any], code: str) -> str:
    return f"{code} · {sku['gtin']} · Test item {code}"


def promotion_form(shop: Shop, **overrides: Any) -> dict[str, Any]:
    return {
        "partnership": str(shop.pair),
        "name": "Picker TPR",
        "type": "tpr",
        "mechanics": "",
        "start_date": day(20).isoformat(),
        "end_date": day(26).isoformat(),
        "expected_uplift_pct": "",
        "skus": [str(s["id"]) for s in shop.skus],
        "locations": [str(shop.stores[1]["id"])],
        "action": "draft",
        **overrides,
    }


def test_the_promotion_form_offers_skus_and_stores_as_searchable_pickers(app, shop):
    page = text(Browser(app, shop.buyer).get("/promotions/new"))
    assert re.search(r'<select id="skus" name="skus" data-picker data-picker-noun="SKU" '
                     r'data-picker-placeholder="Type a code, GTIN or name" multiple size="8" '
                     r'required', page)  # fmt: skip
    assert re.search(r'<select id="locations" name="locations" data-picker '
                     r'data-picker-noun="store" data-picker-placeholder="Type a code or name" '
                     r'multiple size="8"', page)  # fmt: skip
    assert '<script src="/static/picker.js" defer></script>' in page
    skus = options(page, "skus")
    assert skus == {
        str(s["id"]): f"{sku_label(s, code)} (lead time {LEAD} days)"
        for s, code in zip(shop.skus, ("PK-OAT", "PK-BRAN"), strict=True)
    }  # only the partner's SKUs: no SKU of a supplier the distributor is not paired with
    assert options(page, "locations") == {
        str(shop.stores[0]["id"]): "PK1 · Store PK1",
        str(shop.stores[1]["id"]): "PK2 · Store PK2",
    }  # its own stores only
    assert "PKX" not in page
    assert shop.stranger_sku["gtin"] not in page


def test_the_picked_skus_and_stores_post_as_before_and_are_saved(app, shop):
    buyer = Browser(app, shop.buyer)
    made = buyer.post("/promotions/new", promotion_form(shop))
    assert made.status_code == 302, text(made)
    (saved,) = shop.admin.read_items(
        "promotions", filter={"partnership": {"_eq": shop.pair}},
        fields=["name", "skus.sku", "locations.location"],
    )  # fmt: skip
    assert sorted(s["sku"] for s in saved["skus"]) == sorted(s["id"] for s in shop.skus)
    assert [x["location"] for x in saved["locations"]] == [shop.stores[1]["id"]]
    # A failed post comes back with the same choices still picked.
    again = text(buyer.post("/promotions/new", promotion_form(shop, start_date="")))
    assert sorted(picked(again, "skus")) == sorted(str(s["id"]) for s in shop.skus)
    assert picked(again, "locations") == [str(shop.stores[1]["id"])]


def test_a_clash_names_the_sku_and_store_by_code_and_name_never_by_id(app, shop):
    buyer = Browser(app, shop.buyer)
    first = promotion_form(shop, skus=[str(shop.skus[0]["id"])], action="submit")
    assert buyer.post("/promotions/new", first).status_code == 302
    clash = buyer.post("/promotions/new", promotion_form(shop, name="Second", action="submit"))
    assert clash.status_code == 422
    page = html.unescape(text(clash))
    expected = (
        f"overlaps promotion “Picker TPR” ({day(20)} to {day(26)}) for SKU "
        f"{sku_label(shop.skus[0], 'PK-OAT')} at store PK2 · Store PK2"
    )
    assert expected in page
    message = page[page.index("overlaps promotion") :].split("<", 1)[0]
    assert "#" not in message


def test_a_workbook_clash_names_the_sku_and_store_by_code_and_name(app, shop):
    buyer = Browser(app, shop.buyer)
    booked = promotion_form(shop, skus=[str(shop.skus[0]["id"])], action="submit")
    assert buyer.post("/promotions/new", booked).status_code == 302
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    row = {"partner": shop.supplier["name"], "name": "From Excel", "type": "tpr",
           "start_date": day(22).isoformat(), "end_date": day(24).isoformat(),
           "sku_gtin": shop.skus[0]["gtin"], "location_code": "PK2"}  # fmt: skip
    sheet.append([row.get(c) for c in COLUMNS])
    body = io.BytesIO()
    book.save(body)
    page = html.unescape(text(buyer.upload(body.getvalue())))
    assert (
        f"Row 2, start_date: overlaps promotion “Picker TPR” ({day(20)} to {day(26)}) for SKU "
        f"{sku_label(shop.skus[0], 'PK-OAT')} at store PK2 · Store PK2"
    ) in page
    assert 'name="token"' not in page  # nothing to confirm


def test_a_start_inside_the_lead_time_names_the_sku_by_code_and_name(app, shop):
    refused = Browser(app, shop.buyer).post(
        "/promotions/new", promotion_form(shop, start_date=day(3).isoformat())
    )
    assert refused.status_code == 422
    assert (
        f"{day(3)} is inside the supplier's lead time for SKU "
        f"{sku_label(shop.skus[1], 'PK-BRAN')} ({LEAD} days): start on or after {day(LEAD)}"
    ) in html.unescape(text(refused))


def test_a_forged_store_of_another_distributor_is_refused_and_not_named(app, shop):
    refused = Browser(app, shop.buyer).post(
        "/promotions/new", promotion_form(shop, locations=[str(shop.foreign_store["id"])])
    )
    assert refused.status_code in (403, 422)
    assert "PKX" not in text(refused)  # the other distributor's store stays unnamed
    assert shop.admin.read_items("promotions", filter={"partnership": {"_eq": shop.pair}}) == []


def test_the_order_form_picks_its_ship_to_with_a_picker_and_places_the_order(app, shop):
    buyer = Browser(app, shop.buyer)
    page = text(buyer.get(f"/orders/new?partnership={shop.pair}"))
    assert re.search(r'<select id="ship_to" name="ship_to" data-picker '
                     r'data-picker-noun="location" data-picker-placeholder="Type a code or name" '
                     r'required', page)  # fmt: skip
    assert '<script src="/static/picker.js" defer></script>' in page
    assert options(page, "ship_to") == {
        "": "Choose a location",
        str(shop.stores[0]["id"]): "PK1 · Store PK1 (store)",
        str(shop.stores[1]["id"]): "PK2 · Store PK2 (store)",
    }
    form = {
        "partnership": str(shop.pair), "number": f"PK-{shop.pair}",
        "ordered_on": day(0).isoformat(), "requested_date": day(10).isoformat(),
        "currency": "USD", "ship_to": str(shop.stores[1]["id"]),
        "sku-1": "PK-OAT", "qty-1": "4", "price-1": "1.25",
    }  # fmt: skip
    placed = buyer.post("/orders/new", form)
    assert placed.status_code == 302, text(placed)
    (order,) = shop.admin.read_items(
        "purchase_orders", filter={"number": {"_eq": f"PK-{shop.pair}"}}, fields=["ship_to"]
    )
    assert order["ship_to"] == shop.stores[1]["id"]
    again = text(buyer.post("/orders/new", {**form, "number": ""}))
    assert picked(again, "ship_to") == [str(shop.stores[1]["id"])]


def test_the_picker_script_is_served(app, shop):
    with Browser(app, shop.buyer).get("/static/picker.js") as served:
        assert served.status_code == 200
        assert 'role", "combobox"' in served.get_data(as_text=True)
