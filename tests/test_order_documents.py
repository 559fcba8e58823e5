"""Hub rows to EDI documents and back (domain.order_documents), on hand-computed cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.edi_orders import (
    Carton,
    Invoice,
    InvoiceLine,
    Item,
    OrderResponse,
    PackedLine,
    ResponseLine,
    ShipNotice,
)
from domain.ingest import MAX_MINOR
from domain.order_documents import (
    digest,
    free_text,
    invoice_row,
    order_document,
    response_changes,
    response_document,
    shipment_row,
)
from domain.orders import OrderError, make_sscc

DAY = dt.date(2026, 12, 31)  # a year's last day: promises run into the next year
PO = {"id": 7, "number": "PO-7", "status": "open", "ordered_on": "2026-12-28",
      "requested_date": "2027-01-04", "currency": "USD", "partnership": 3,
      "promised_date": None, "original_promised_date": None, "acknowledged_at": None}  # fmt: skip
LINES = [
    {"id": 71, "line_no": 1, "sku": 1, "qty_ordered": 48, "unit_cost_minor": 118},
    {"id": 72, "line_no": 2, "sku": 2, "qty_ordered": 12, "unit_cost_minor": 240},
]
GTINS = {1: "00614141000012", 2: "00614141000029"}


def test_an_order_carries_every_line_with_its_gtin_and_exact_price():
    order = order_document(PO, list(reversed(LINES)), GTINS, buyer="B", seller="S")
    assert [(x.line, x.item.gtin, x.quantity, x.price) for x in order.lines] == [
        ("1", GTINS[1], Decimal(48), Decimal("1.18")),
        ("2", GTINS[2], Decimal(12), Decimal("2.40")),
    ]
    assert order.requested == dt.date(2027, 1, 4)
    cancel = order_document(PO, LINES, GTINS, purpose="cancel")
    assert {x.action for x in cancel.lines} == {"delete"}
    # A change of what it says changes its digest; the same order gives the same one.
    assert digest(order) == digest(order_document(PO, LINES, GTINS, buyer="B", seller="S"))
    more = [{**LINES[0], "qty_ordered": 50}, LINES[1]]
    assert digest(order) != digest(order_document(PO, more, GTINS))


def test_an_answer_changes_a_line_and_keeps_the_first_promise():
    promised = DAY + dt.timedelta(days=5)
    answer = OrderResponse(
        "PO-7", status="changed", date=promised,
        lines=(ResponseLine("001", Item(gtin=GTINS[1]), "changed", Decimal(40)),),
    )  # fmt: skip
    order, lines = response_changes(PO, LINES, GTINS, answer, "2026-12-31T10:00:00.000Z")
    assert order == {
        "status": "acknowledged",
        "promised_date": "2027-01-05",
        "original_promised_date": "2027-01-05",
        "acknowledged_at": "2026-12-31T10:00:00.000Z",
    }
    assert lines[71]["qty_promised"] == 40
    assert lines[71]["answer"] == "changed"
    assert lines[72]["qty_promised"] == 12  # not mentioned: as the header says
    assert lines[72]["answer"] == "accepted"
    # Answered again with a later date: the original stays, the revision beside it.
    later = {**PO, "status": "acknowledged", "promised_date": "2027-01-05",
             "original_promised_date": "2027-01-05", "acknowledged_at": "x"}  # fmt: skip
    again = OrderResponse("PO-7", status="accepted", date=DAY + dt.timedelta(days=9))
    order, _ = response_changes(later, LINES, GTINS, again, "y")
    assert order == {"promised_date": "2027-01-09", "revised_date": "2027-01-09"}


def test_an_answer_refusing_every_line_rejects_the_order():
    answer = OrderResponse("PO-7", status="rejected", lines=(
        ResponseLine("2", Item(), "rejected", reason="discontinued"),))  # fmt: skip
    order, lines = response_changes(PO, LINES, GTINS, answer, "t")
    assert order == {"status": "rejected"}
    assert lines[72] == {"qty_promised": 0, "answer": "rejected", "answer_reason": "discontinued"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (ResponseLine("9", Item(gtin="00000000000000"), "accepted"), "no such line"),
        (ResponseLine("1", Item(gtin=GTINS[2]), "accepted"), "is not GTIN"),
        (ResponseLine("1", Item(), "changed", Decimal("2.5")), "not a whole number"),
    ],
)
def test_an_answer_that_does_not_fit_the_order_names_the_line(line, message):
    with pytest.raises(OrderError, match=message):
        response_changes(PO, LINES, GTINS, OrderResponse("PO-7", lines=(line,)), "t")


def test_a_cancelled_order_takes_no_answer():
    with pytest.raises(OrderError, match="cancelled"):
        response_changes({**PO, "status": "cancelled"}, LINES, GTINS, OrderResponse("PO-7"), "t")


def test_a_short_shipment_leaves_the_order_partially_shipped():
    sscc = make_sscc(0, "0614141", 1)
    acked = {**PO, "status": "acknowledged"}
    promised = [{**LINES[0], "qty_promised": 40}, LINES[1]]
    notice = ShipNotice("ASN-1", shipped=DAY, cartons=(
        Carton(sscc, (PackedLine("1", Item(), Decimal(30), order="PO-7"),
                      PackedLine("2", Item(), Decimal(12), order="PO-7"))),))  # fmt: skip
    row, status = shipment_row(acked, promised, GTINS, {}, notice, DAY)
    assert status == "partially_shipped"
    assert [(x["po_line"], x["qty_shipped"], x["sscc"]) for x in row["lines"]] == [
        (71, 30, sscc), (72, 12, sscc)]  # fmt: skip
    # The rest of the promise, later: the order has shipped.
    rest = ShipNotice("ASN-2", cartons=(Carton("", (PackedLine("1", Item(), Decimal(10)),)),))
    _row, status = shipment_row(acked, promised, GTINS, {71: 30, 72: 12}, rest, DAY)
    assert status == "shipped"
    bad = ShipNotice("ASN-3", cartons=(Carton(sscc[:-1] + "0", notice.cartons[0].lines),))
    with pytest.raises(OrderError, match="check digit"):
        shipment_row(acked, promised, GTINS, {}, bad, DAY)


def test_an_invoice_is_exact_and_refuses_a_price_finer_than_its_currency():
    acked = {**PO, "status": "shipped"}
    bill = Invoice("INV-1", "PO-7", currency="USD", total=Decimal("76.08"), lines=(
        InvoiceLine("1", Item(), Decimal(40), Decimal("1.18")),
        InvoiceLine("2", Item(), Decimal(12), Decimal("2.40"))))  # fmt: skip
    row = invoice_row(acked, LINES, GTINS, bill, DAY)
    assert row["total_minor"] == 7608
    assert [x["amount_minor"] for x in row["lines"]] == [4720, 2880]
    finer = Invoice(
        "INV-2", "PO-7", lines=(InvoiceLine("1", Item(), Decimal(1), Decimal("1.185")),)
    )
    with pytest.raises(OrderError, match="more than 2 decimals"):
        invoice_row(acked, LINES, GTINS, finer, DAY)
    with pytest.raises(OrderError, match="EUR"):
        invoice_row(acked, LINES, GTINS, Invoice("INV-3", "PO-7", currency="EUR"), DAY)


def test_an_invoice_beyond_what_the_hub_holds_exactly_is_refused_not_rounded():
    """Directus carries numbers as JavaScript doubles: an amount above 2**53 - 1 minor
    units would be stored rounded. A line's amount, or the lines' sum, beyond it is
    refused, naming the line."""
    acked = {**PO, "status": "shipped"}
    top = Decimal(MAX_MINOR).scaleb(-2)  # 90,071,992,547,409.91 dollars
    one = Invoice("INV-4", "PO-7", lines=(InvoiceLine("1", Item(), Decimal(1), top),))
    assert invoice_row(acked, LINES, GTINS, one, DAY)["total_minor"] == MAX_MINOR
    over = Invoice("INV-5", "PO-7", lines=(InvoiceLine("2", Item(), Decimal(2), top),))
    with pytest.raises(OrderError, match=r"^line 2: the amount 2 x 90071992547409.91 is out of"):
        invoice_row(acked, LINES, GTINS, over, DAY)
    half = Decimal(MAX_MINOR // 2 + 1).scaleb(-2)
    twice = (InvoiceLine("1", Item(), Decimal(1), half), InvoiceLine("2", Item(), Decimal(1), half))
    summed = Invoice("INV-6", "PO-7", lines=twice)
    with pytest.raises(OrderError, match="INV-6's lines add up to more than Tandem takes"):
        invoice_row(acked, LINES, GTINS, summed, DAY)


def test_a_reason_a_person_typed_loses_only_what_a_document_cannot_carry():
    assert free_text("out*of~stock: back 3/1 'soon'?") == "out of stock  back 3/1  soon"
    assert free_text("größe 5€") == "größe 5"
    lines = [{**LINES[0], "answer": "rejected", "qty_promised": 0, "answer_reason": "no*stock"}]
    answer = response_document({**PO, "status": "rejected"}, lines, GTINS)
    assert answer.lines[0].reason == "no stock"
