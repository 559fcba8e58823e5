"""The purchase-order journey's pages on the real hub: the distributor orders through the
form (exact prices, errors naming the line), the supplier answers line by line, notices
shipments with SSCC-18 cartons and invoices them, and both see the lines, the three-way
match and the timeline; nobody sees or changes another pair's orders, and each side
makes only its own moves.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from directus import HubClient
from domain import clock
from domain.gs1 import with_check_digit
from governance.partners import assign_manager, ensure_partnership
from tests.factories import (
    Member,
    csrf_token,
    make_org,
    make_pair,
    make_sku,
    make_store,
    make_user,
    sign_in,
    unique,
)
from tests.helpers import as_ints


def day(offset: int) -> dt.date:
    """A day relative to today (the clock's, asked each time)."""
    return clock.today() + dt.timedelta(days=offset)


def sscc(serial: int) -> str:
    """A valid SSCC-18 (extension 0, a test prefix, the serial)."""
    return with_check_digit(f"0{8_000_000_000 + serial:010d}{serial:06d}")


def bad_sscc(serial: int) -> str:
    """The same SSCC with a wrong check digit."""
    good = sscc(serial)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


@dataclass
class Pair:
    """A supplier and a distributor paired, with SKUs, a store and a user each; and
    strangers: another distributor of the same supplier, and another supplier of the
    same distributor, each with a user and a pair of its own."""

    admin: HubClient
    pair: int
    supplier: dict[str, Any]
    distributor: dict[str, Any]
    skus: list[dict[str, Any]]
    store: dict[str, Any]
    buyer: Member
    seller: Member
    other_buyer: Member  # a distributor of another pair with the same supplier
    other_seller: Member  # a supplier of another pair with the same distributor
    other_pair: int  # the other supplier with the same distributor

    def order(self, status: str = "open", lines: int = 2, **header: Any) -> dict[str, Any]:
        """A PO written by the admin, as if placed earlier: ``lines`` lines of 10, 20, …
        units at 1.18, 2.36, … USD."""
        number = header.pop("number", unique("PO"))
        row = self.admin.create_item(
            "purchase_orders",
            {
                "number": number,
                "status": status,
                "ordered_on": header.pop("ordered_on", day(-2)).isoformat(),
                "requested_date": day(10).isoformat(),
                "currency": "USD",
                "ship_to": self.store["id"],
                "partnership": self.pair,
                "lines": [
                    {
                        "line_no": n,
                        "sku": self.skus[(n - 1) % len(self.skus)]["id"],
                        "qty_ordered": 10 * n,
                        "unit_cost_minor": 118 * n,
                        "partnership": self.pair,
                    }
                    for n in range(1, lines + 1)
                ],
                **header,
            },
            fields=["id"],
        )
        return self.read(row["id"])

    def read(self, key: Any) -> dict[str, Any]:
        """The order as the hub has it, with its lines (by line number)."""
        (row,) = self.admin.read_items(
            "purchase_orders",
            filter={"id": {"_eq": key}},
            fields=["*", "lines.*"],
        )
        row["lines"] = sorted(row["lines"], key=lambda x: x["line_no"])
        return row

    def shipments(self, key: Any) -> list[dict[str, Any]]:
        return self.admin.read_items(
            "shipments",
            filter={"purchase_order": {"_eq": key}},
            fields=["*", "lines.*"],
            sort=["id"],
        )

    def invoices(self, key: Any) -> list[dict[str, Any]]:
        return self.admin.read_items(
            "invoices",
            filter={"purchase_order": {"_eq": key}},
            fields=["*", "lines.*"],
            sort=["id"],
        )


@pytest.fixture
def world(admin) -> Pair:
    supplier, distributor, pair = make_pair(admin)
    other_distributor = make_org(admin, "distributor")
    ensure_partnership(admin, supplier["id"], other_distributor["id"])
    other_supplier = make_org(admin, "supplier")
    other_pair = ensure_partnership(admin, other_supplier["id"], distributor["id"])
    return Pair(
        admin=admin,
        pair=pair,
        supplier=supplier,
        distributor=distributor,
        skus=[make_sku(admin, supplier, distributor, code) for code in ("OAT-1", "BRAN-2")],
        store=make_store(admin, distributor, "S1"),
        buyer=make_user(admin, "distributor_user", distributor),
        seller=make_user(admin, "supplier_user", supplier),
        other_buyer=make_user(admin, "distributor_user", other_distributor),
        other_seller=make_user(admin, "supplier_user", other_supplier),
        other_pair=other_pair,
    )


@pytest.fixture
def app(hub, make_portal) -> Flask:
    return make_portal(hub)


class Browser:
    """A signed-in browser that sends the session's CSRF token with every form."""

    def __init__(self, app: Flask, member: Member) -> None:
        self.client: FlaskClient = sign_in(app, member)
        self.csrf = csrf_token(self.client, "/account/tokens")

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf}, **kwargs)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def order_form(world: Pair, number: str, *lines: tuple[str, str, str]) -> dict[str, str]:
    form = {
        "partnership": str(world.pair),
        "number": number,
        "ordered_on": day(0).isoformat(),
        "requested_date": day(14).isoformat(),
        "currency": "USD",
        "ship_to": str(world.store["id"]),
    }
    for n, (sku, qty, price) in enumerate(lines, start=1):
        form.update({f"sku-{n}": sku, f"qty-{n}": qty, f"price-{n}": price})
    return form


def answer_form(order: dict[str, Any], promised: dt.date, **lines: dict[str, str]) -> dict:
    """The answer form: ``line<n>={"answer": ..., "qty": ..., "date": ..., "reason": ...}``
    (lines not named are accepted)."""
    form: dict[str, Any] = {"promised_date": promised.isoformat(), "line": []}
    for line in order["lines"]:
        key = str(line["id"])
        form["line"].append(key)
        given = lines.get(f"line{line['line_no']}", {})
        form[f"answer-{key}"] = given.get("answer", "accepted")
        for part in ("qty", "date", "reason"):
            form[f"{part}-{key}"] = given.get(part, "")
    return form


def ship_form(order: dict[str, Any], number: str, **lines: tuple[str, str]) -> dict:
    """A ship notice: ``line<n>=(quantity, sscc)``; lines not named ship nothing."""
    form: dict[str, Any] = {"number": number, "ship_date": day(0).isoformat(), "line": []}
    for line in order["lines"]:
        key = str(line["id"])
        form["line"].append(key)
        qty, code = lines.get(f"line{line['line_no']}", ("", ""))
        form[f"qty-{key}"], form[f"sscc-{key}"] = qty, code
    return form


def acknowledged(world: Pair, lines: int = 2) -> dict[str, Any]:
    """An order the supplier has acknowledged, promising every line in full."""
    order = world.order(lines=lines)
    for line in order["lines"]:
        world.admin.update_item(
            "po_lines", line["id"], {"qty_promised": line["qty_ordered"], "answer": "accepted"}
        )
    world.admin.update_item(
        "purchase_orders",
        order["id"],
        {"status": "acknowledged", "promised_date": day(9).isoformat(),
         "original_promised_date": day(9).isoformat(), "acknowledged_at": clock.now().isoformat()},
    )  # fmt: skip
    return world.read(order["id"])


# -- the distributor's order form ----------------------------------------------------------


def test_a_distributor_places_an_order_with_prices_kept_as_exact_minor_units(app, world):
    buyer = Browser(app, world.buyer)
    page = buyer.get(f"/orders/new?partnership={world.pair}")
    assert page.status_code == 200
    assert world.skus[0]["gtin"] in text(page)  # the supplier's SKUs are the choices
    number = unique("PO")
    placed = buyer.post(
        "/orders/new",
        order_form(world, number, (world.skus[0]["gtin"], "12", "1.18"), ("BRAN-2", "3", "2.5")),
    )
    assert placed.status_code == 302, text(placed)
    (row,) = world.admin.read_items(
        "purchase_orders", filter={"number": {"_eq": number}}, fields=["*", "lines.*"]
    )
    assert row["status"] == "open"
    lines = sorted(row["lines"], key=lambda x: x["line_no"])
    assert [(x["sku"], x["qty_ordered"], int(x["unit_cost_minor"])) for x in lines] == [
        (world.skus[0]["id"], 12, 118),
        (world.skus[1]["id"], 3, 250),  # found by the distributor's item code
    ]
    shown = text(buyer.get(placed.headers["Location"]))
    assert "1.18" in shown
    assert "2.50" in shown
    assert "BRAN-2" in shown  # the item code, never an internal id alone
    assert "21.66 USD" in shown  # 12 x 1.18 + 3 x 2.50, exactly


def test_a_price_with_more_decimals_than_the_currency_is_refused_naming_the_line(app, world):
    buyer = Browser(app, world.buyer)
    number = unique("PO")
    refused = buyer.post(
        "/orders/new",
        order_form(
            world,
            number,
            (world.skus[0]["gtin"], "12", "1.18"),
            (world.skus[1]["gtin"], "2.5", "1.185"),
            ("0000000000000", "1", "1"),
        ),
    )
    assert refused.status_code == 422
    page = text(refused)
    assert "line 2: the price 1.185 has more than 2 decimals for USD" in page
    assert "line 2: the quantity 2.5 is not a whole number of units" in page
    assert "line 3: “0000000000000” is not a SKU of" in page
    assert 'id="price-2-error"' in page
    assert 'value="1.185"' in page
    assert world.admin.read_items("purchase_orders", filter={"number": {"_eq": number}}) == []


# -- the lists -----------------------------------------------------------------------------


def test_the_suppliers_list_shows_the_orders_awaiting_its_answer_first(app, world):
    done = world.order("acknowledged", ordered_on=day(-1))
    waiting = world.order("open", ordered_on=day(-5))
    page = text(Browser(app, world.seller).get("/orders"))
    awaiting = page.index('id="awaiting"')
    others = page.index("Other orders")
    assert awaiting < page.index(waiting["number"]) < others < page.index(done["number"])
    assert page.count(waiting["number"]) == 1  # not listed again below
    assert world.distributor["name"] in page  # the partner is the other side
    filtered = text(Browser(app, world.seller).get("/orders?status=acknowledged"))
    assert done["number"] in filtered
    assert waiting["number"] not in filtered
    assert "/exports/purchase-orders.xlsx?status=acknowledged" in filtered


def test_the_distributors_list_is_newest_first_with_a_new_order_button(app, world):
    old = world.order(ordered_on=day(-9))
    new = world.order(ordered_on=day(-1), lines=3)
    page = text(Browser(app, world.buyer).get("/orders"))
    assert 'id="new-order"' in page
    assert page.index(new["number"]) < page.index(old["number"])
    row = re.search(rf'<tr id="orders-{new["id"]}">(.*?)</tr>', page, re.S)
    assert row
    assert '<td class="num">3</td>' in row.group(1)
    assert world.supplier["name"] in page


def test_the_supplier_home_counts_the_orders_to_confirm(app, world):
    world.order()
    world.order()
    world.order("acknowledged")
    page = text(Browser(app, world.seller).get("/supplier"))
    assert "2 purchase orders to confirm" in page
    assert "/orders?status=open" in page


# -- the supplier's answer -----------------------------------------------------------------


def test_the_supplier_answers_line_by_line_and_keeps_its_first_promise(app, world):
    order = world.order(lines=3)
    seller = Browser(app, world.seller)
    assert seller.get(f"/orders/{order['id']}/answer").status_code == 200
    promised = day(12)
    changed = {"answer": "changed", "qty": "15"}
    no_reason = answer_form(order, promised, line2=changed, line3={"answer": "rejected"})
    refused = seller.post(f"/orders/{order['id']}/answer", no_reason)
    assert refused.status_code == 422
    assert "line 3: say why the line is rejected" in text(refused)
    assert world.read(order["id"])["status"] == "open"  # nothing was written

    answered = answer_form(
        order, promised, line2=changed, line3={"answer": "rejected", "reason": "Discontinued"}
    )
    assert seller.post(f"/orders/{order['id']}/answer", answered).status_code == 302
    after = world.read(order["id"])
    assert after["status"] == "acknowledged"
    assert after["promised_date"] == after["original_promised_date"] == promised.isoformat()
    assert after["acknowledged_at"]
    lines = after["lines"]
    assert [(x["answer"], x["qty_promised"], x["answer_reason"]) for x in lines] == [
        ("accepted", 10, None),
        ("changed", 15, None),
        ("rejected", 0, "Discontinued"),
    ]
    assert lines[0]["original_promised_date"] == promised.isoformat()
    assert lines[2]["promised_date"] is None  # a rejected line promises no date

    later = day(16)
    again = answer_form(
        after, later, line2=changed, line3={"answer": "rejected", "reason": "Discontinued"}
    )
    assert seller.post(f"/orders/{order['id']}/answer", again).status_code == 302
    revised = world.read(order["id"])
    assert revised["original_promised_date"] == promised.isoformat()  # the commitment stays
    assert revised["promised_date"] == revised["revised_date"] == later.isoformat()
    assert revised["lines"][0]["original_promised_date"] == promised.isoformat()
    assert revised["lines"][0]["revised_date"] == later.isoformat()
    page = text(seller.get(f"/orders/{order['id']}"))
    assert "Rejected</span>: Discontinued" in page
    assert f"first promised {promised.isoformat()}" in page


def test_an_order_whose_every_line_is_rejected_is_rejected(app, world):
    order = world.order(lines=2)
    form = answer_form(
        order,
        day(12),
        line1={"answer": "rejected", "reason": "No stock"},
        line2={"answer": "rejected", "reason": "No stock"},
    )
    assert Browser(app, world.seller).post(f"/orders/{order['id']}/answer", form).status_code == 302
    after = world.read(order["id"])
    assert after["status"] == "rejected"
    assert after["promised_date"] is None
    assert after["acknowledged_at"] is None


# -- ship notices and invoices -------------------------------------------------------------


def test_a_ship_notice_with_a_bad_check_digit_is_refused_naming_the_line(app, world):
    order = acknowledged(world)
    seller = Browser(app, world.seller)
    form = ship_form(order, "ASN-1", line1=("10", sscc(1)), line2=("20", bad_sscc(2)))
    refused = seller.post(f"/orders/{order['id']}/ship", form)
    assert refused.status_code == 422
    assert re.search(r"line 2: the SSCC's check digit should be \d", text(refused))
    assert world.shipments(order["id"]) == []
    assert world.read(order["id"])["status"] == "acknowledged"


def test_a_short_ship_notice_leaves_the_order_partially_shipped(app, world):
    order = acknowledged(world)
    seller = Browser(app, world.seller)
    form = ship_form(order, "ASN-1", line1=("10", sscc(11)), line2=("5", sscc(12)))
    assert seller.post(f"/orders/{order['id']}/ship", form).status_code == 302
    assert world.read(order["id"])["status"] == "partially_shipped"
    (shipment,) = world.shipments(order["id"])
    assert shipment["status"] == "shipped"
    assert sorted((x["qty_shipped"], x["sscc"]) for x in shipment["lines"]) == [
        (5, sscc(12)),
        (10, sscc(11)),
    ]
    again = seller.post(
        f"/orders/{order['id']}/ship", ship_form(order, "ASN-1", line2=("15", sscc(13)))
    )
    assert again.status_code == 409
    assert "already used on this order" in text(again)
    rest = ship_form(order, "ASN-2", line2=("15", sscc(13)))
    assert seller.post(f"/orders/{order['id']}/ship", rest).status_code == 302
    assert world.read(order["id"])["status"] == "shipped"
    page = text(seller.get(f"/orders/{order['id']}"))
    assert sscc(12) in page
    assert "ASN-2" in page


def test_an_invoice_is_exact_and_the_page_shows_the_three_way_match(app, world):
    order = acknowledged(world)
    seller = Browser(app, world.seller)
    shipped = ship_form(order, "ASN-1", line1=("10", sscc(21)), line2=("5", sscc(22)))
    assert seller.post(f"/orders/{order['id']}/ship", shipped).status_code == 302
    form = seller.get(f"/orders/{order['id']}/invoice")
    assert form.status_code == 200
    assert 'value="1.18"' in text(form)  # prefilled at the order's price
    one, two = (str(x["id"]) for x in order["lines"])
    invoice = {
        "number": "INV-1",
        "invoice_date": day(0).isoformat(),
        "line": [one, two],
        f"qty-{one}": "10",
        f"price-{one}": "1.18",
        f"qty-{two}": "5",
        f"price-{two}": "2.40",  # the order says 2.36
    }
    assert seller.post(f"/orders/{order['id']}/invoice", invoice).status_code == 302
    (row,) = world.invoices(order["id"])
    assert (int(row["total_minor"]), row["currency"], row["status"]) == (2380, "USD", "open")
    money = as_ints(row["lines"], "unit_price_minor", "amount_minor")
    assert sorted((x["qty"], x["unit_price_minor"], x["amount_minor"]) for x in money) == [
        (5, 240, 1200),
        (10, 118, 1180),
    ]
    page = text(Browser(app, world.buyer).get(f"/orders/{order['id']}"))
    assert "23.80 USD" in page
    match_one = re.search(r'<tr id="match-1"[^>]*>(.*?)</tr>', page, re.S)
    match_two = re.search(r'<tr id="match-2"[^>]*>(.*?)</tr>', page, re.S)
    assert match_one
    assert "matched" in match_one.group(1)
    assert match_two
    assert "received less than ordered" in match_two.group(1)
    assert "invoice price differs from the order" in match_two.group(1)

    three = seller.post(
        f"/orders/{order['id']}/invoice",
        {**invoice, "number": "INV-2", f"price-{one}": "1.185", f"qty-{two}": ""},
    )
    assert three.status_code == 422
    assert "line 1: the price 1.185 has more than 2 decimals for USD" in text(three)


def test_the_timeline_shows_the_orders_edi_messages_in_time_order(app, world):
    order = acknowledged(world)
    mine = {
        "direction": "out",
        "standard": "x12",
        "message_type": "850",
        "status": "sent",
        "received_at": (clock.now() - dt.timedelta(days=1)).isoformat(),
        "sender": world.distributor["id"],
        "receiver": world.supplier["id"],
        "related_collection": "purchase_orders",
        "related_id": str(order["id"]),
        "document_number": order["number"],
    }
    world.admin.create_item("edi_messages", mine)
    world.admin.create_item(
        "edi_messages",
        {**mine, "message_type": "855", "direction": "in", "status": "failed",
         "error": "ISA13 repeats", "received_at": clock.now().isoformat()},
    )  # fmt: skip
    world.admin.create_item(
        "edi_messages", {**mine, "message_type": "810", "related_id": str(order["id"] + 10**6)}
    )
    for who in (world.buyer, world.seller):
        page = text(Browser(app, who).get(f"/orders/{order['id']}"))
        timeline = page[page.index('id="timeline"') :]
        assert "EDI 850 sent" in timeline
        assert "EDI 855 received" in timeline
        assert "ISA13 repeats" in timeline
        assert "EDI 810" not in timeline  # another order's
        assert timeline.index("Ordered") < timeline.index("EDI 850 sent")
        assert timeline.index("EDI 850 sent") < timeline.index("EDI 855 received")
        assert "Acknowledged by the supplier" in timeline


def test_the_lines_download_as_excel(app, world):
    order = acknowledged(world)
    answer = Browser(app, world.buyer).get(f"/orders/{order['id']}/lines.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Line", "Item code", "GTIN", "Description", "Ordered")
    assert [(r[0], r[1], r[4], r[5], r[6]) for r in rows[1:]] == [
        (1, "OAT-1", 10, 118, "USD"),
        (2, "BRAN-2", 20, 236, "USD"),
    ]


def test_an_account_manager_reads_its_pairs_orders_and_acts_on_none(app, admin, world):
    order = acknowledged(world)
    manager = make_user(admin, "account_manager")
    assign_manager(admin, manager.id, world.supplier["id"], world.distributor["id"], via="test")
    browser = Browser(app, manager)
    listed = text(browser.get("/orders"))
    assert order["number"] in listed
    assert f"{world.supplier['name']} / {world.distributor['name']}" in listed
    page = text(browser.get(f"/orders/{order['id']}"))
    assert 'id="lines"' in page
    assert 'id="actions-heading"' not in page
    assert browser.post(f"/orders/{order['id']}/cancel").status_code == 403


# -- each side's moves, and nobody else's orders ----------------------------------------


def test_a_distributor_cancels_its_order_and_a_supplier_cannot(app, world):
    order = world.order()
    seller = Browser(app, world.seller)
    assert seller.post(f"/orders/{order['id']}/cancel").status_code == 403
    assert world.read(order["id"])["status"] == "open"
    buyer = Browser(app, world.buyer)
    assert 'id="cancel-form"' in text(buyer.get(f"/orders/{order['id']}"))
    assert buyer.post(f"/orders/{order['id']}/cancel").status_code == 302
    assert world.read(order["id"])["status"] == "cancelled"
    again = buyer.post(f"/orders/{order['id']}/cancel")
    assert again.status_code == 409
    assert "This order is cancelled: it cannot be cancelled now" in text(again)


def test_a_distributor_cannot_answer_ship_or_invoice(app, world):
    order = acknowledged(world)
    buyer = Browser(app, world.buyer)
    for path in ("answer", "ship", "invoice"):
        assert buyer.get(f"/orders/{order['id']}/{path}").status_code == 403
    form = ship_form(order, "ASN-X", line1=("10", sscc(31)))
    assert buyer.post(f"/orders/{order['id']}/ship", form).status_code == 403
    answered = answer_form(order, day(12))
    assert buyer.post(f"/orders/{order['id']}/answer", answered).status_code == 403
    assert world.shipments(order["id"]) == []


def test_another_pairs_partners_get_404_on_the_order_and_its_forms(app, world):
    order = acknowledged(world)
    other_buyer = Browser(app, world.other_buyer)
    assert other_buyer.get(f"/orders/{order['id']}").status_code == 404
    assert other_buyer.get(f"/orders/{order['id']}/lines.xlsx").status_code == 404
    assert other_buyer.post(f"/orders/{order['id']}/cancel").status_code == 404
    assert order["number"] not in text(other_buyer.get("/orders"))
    other_seller = Browser(app, world.other_seller)
    for path in ("", "/answer", "/ship", "/invoice"):
        assert other_seller.get(f"/orders/{order['id']}{path}").status_code == 404, path
    form = ship_form(order, "ASN-X", line1=("10", sscc(41)))
    assert other_seller.post(f"/orders/{order['id']}/ship", form).status_code == 404
    answered = answer_form(order, day(12))
    assert other_seller.post(f"/orders/{order['id']}/answer", answered).status_code == 404
    assert world.read(order["id"])["status"] == "acknowledged"
    assert world.shipments(order["id"]) == []


def test_forged_line_ids_of_another_order_are_refused(app, world):
    order = world.order()
    other = acknowledged(world)
    seller = Browser(app, world.seller)
    forged = answer_form(order, day(12))
    foreign = str(other["lines"][0]["id"])
    forged["line"][0] = foreign
    forged[f"answer-{foreign}"] = "changed"
    forged[f"qty-{foreign}"] = "1"
    refused = seller.post(f"/orders/{order['id']}/answer", forged)
    assert refused.status_code == 403
    assert "not yours" in text(refused)
    assert world.read(order["id"])["status"] == "open"
    assert world.read(other["id"])["lines"][0]["qty_promised"] == 10  # untouched

    shipping = acknowledged(world)
    ship = ship_form(shipping, "ASN-F", line1=("1", sscc(51)))
    ship["line"] = [foreign]  # the other order's line, on this order's notice
    ship[f"qty-{foreign}"], ship[f"sscc-{foreign}"] = "1", sscc(51)
    refused = seller.post(f"/orders/{shipping['id']}/ship", ship)
    assert refused.status_code == 403
    assert "not yours" in text(refused)
    assert world.shipments(shipping["id"]) == []
    assert world.shipments(other["id"]) == []
