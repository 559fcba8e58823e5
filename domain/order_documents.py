"""Purchase orders as EDI documents, and EDI documents as changes to purchase orders.

Pure: rows in (as the hub keeps them), documents or changes out. The outbound side turns
a PO and its lines into the :class:`~domain.edi_orders.Order` an 850/ORDERS carries; the
inbound side turns an answer (855/ORDRSP), a ship notice (856/DESADV) or an invoice
(810/INVOIC) into the hub writes that apply it, by the rules of :mod:`domain.orders`
(promises keep the original commitment, quantities whole, prices exact), or refuses it
with an :class:`~domain.orders.OrderError` naming the line.

A document's line is the PO line whose number it gives (PO101, LIN 1082), or, when it
gives none that the order has, the line whose SKU has the GTIN it names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from domain.edi_orders import (
    Carton,
    Invoice,
    InvoiceLine,
    Item,
    Order,
    OrderLine,
    OrderResponse,
    PackedLine,
    ResponseLine,
    ShipNotice,
)
from domain.ingest import MAX_MINOR
from domain.orders import (
    OrderError,
    answered_status,
    price_major,
    price_minor,
    promise_changes,
    shipped_status,
    sscc_problem,
    whole_units,
)
from domain.ownership import PROMISABLE

Row = Mapping[str, Any]
#: PO status in which a shipment may still be noticed.
SHIPPABLE = frozenset({"open", "acknowledged", "partially_shipped"})
#: PO status in which an invoice may arrive (everything but a refusal or a cancellation).
INVOICEABLE = frozenset({"acknowledged", "partially_shipped", "shipped", "received"})


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def order_document(
    po: Row,
    lines: Sequence[Row],
    gtins: Mapping[int, str],
    *,
    buyer: str = "",
    seller: str = "",
    ship_to: str = "",
    purpose: str = "original",
) -> Order:
    """The order (or its cancellation) as a document: every line with its GTIN, quantity
    and exact price."""
    currency = str(po["currency"])
    return Order(
        number=str(po["number"]),
        purpose=purpose,  # type: ignore[arg-type]
        ordered_on=_day(po.get("ordered_on")),
        requested=_day(po.get("requested_date")),
        currency=currency,
        buyer=buyer,
        seller=seller,
        ship_to=ship_to,
        lines=tuple(
            OrderLine(
                line=str(line["line_no"]),
                item=Item(gtin=gtins.get(int(line["sku"]), "")),
                quantity=Decimal(int(line["qty_ordered"])),
                price=price_major(int(line["unit_cost_minor"]), currency),
                action="delete" if purpose == "cancel" else "",
            )
            for line in sorted(lines, key=lambda r: int(r["line_no"]))
        ),
    )


def digest(document: Order | OrderResponse) -> str:
    """What a document says, as a digest: an order or answer whose digest differs from
    the one sent has changed since (documents are frozen dataclasses: their repr is all
    they say, in a fixed order)."""
    return hashlib.sha256(repr(document).encode()).hexdigest()


def _line_finder(lines: Sequence[Row], gtins: Mapping[int, str]) -> Callable[[str, Item], Row]:
    by_number = {str(int(row["line_no"])): row for row in lines}
    by_gtin: dict[str, list[Row]] = {}
    for row in lines:
        by_gtin.setdefault(gtins.get(int(row["sku"]), ""), []).append(row)

    def find(number: str, item: Item) -> Row:
        digits = number.strip().lstrip("0") or "0"
        row = by_number.get(digits)
        if row is not None:
            gtin = gtins.get(int(row["sku"]), "")
            if item.gtin and gtin and item.gtin.zfill(14) != gtin.zfill(14):
                raise OrderError(f"the order's line {digits} is not GTIN {item.gtin}", number)
            return row
        found = by_gtin.get(item.gtin, []) if item.gtin else []
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise OrderError(f"GTIN {item.gtin} is on several lines; name the line", number)
        raise OrderError("the order has no such line (by number or GTIN)", number)

    return find


def response_changes(
    po: Row, lines: Sequence[Row], gtins: Mapping[int, str], response: OrderResponse, at: str
) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The writes that apply a supplier's answer: the order's (status, promise,
    ``acknowledged_at``) and each line's (promised quantity and date, answer, reason).

    Lines the answer does not mention take its header's status. A line rejected promises
    0; a line accepted promises what was ordered; a changed line what the answer says.
    Dates: the line's, else the answer's, else the date the order requested.
    """
    status = str(po["status"])
    if status not in PROMISABLE:
        raise OrderError(f"order {po['number']} is {status}: it takes no answer")
    find = _line_finder(lines, gtins)
    answered: dict[int, tuple[str, Decimal | None, dt.date | None, str]] = {}
    for line in response.lines:
        row = find(line.line, line.item)
        answered[int(row["id"])] = (line.status, line.quantity, line.date, line.reason)
    default = _day(response.date) or _day(po.get("requested_date"))
    line_changes: dict[int, dict[str, Any]] = {}
    dates: list[dt.date] = []
    kept = 0
    for row in lines:
        answer, quantity, day, reason = answered.get(
            int(row["id"]),
            ("rejected" if response.status == "rejected" else "accepted", None, None, ""),
        )
        number = str(row["line_no"])
        if answer == "rejected":
            promised = 0
        elif answer == "changed" and quantity is not None:
            promised = whole_units(quantity, "the promised quantity", number)
        else:
            promised = int(row["qty_ordered"])
        change: dict[str, Any] = {"qty_promised": promised, "answer": answer}
        change["answer_reason"] = reason or None
        if answer != "rejected":
            kept += 1
            when = day or default
            if when is not None:
                dates.append(when)
                change.update(promise_changes(row, when))
        line_changes[int(row["id"])] = change
    order: dict[str, Any] = {"status": answered_status(c["answer"] for c in line_changes.values())}
    if kept:
        if dates:
            order.update(promise_changes(po, max(dates)))
        if not po.get("acknowledged_at"):
            order["acknowledged_at"] = at
    if order["status"] == status:
        del order["status"]
    return order, line_changes


def shipment_row(
    po: Row,
    lines: Sequence[Row],
    gtins: Mapping[int, str],
    shipped_before: Mapping[int, int],
    notice: ShipNotice,
    today: dt.date,
) -> tuple[dict[str, Any], str]:
    """The shipment record (with its lines, a line per carton and PO line) a ship notice
    makes, and the order's status after it: ``shipped`` once every line not refused has
    shipped what was promised (or ordered), else ``partially_shipped``."""
    status = str(po["status"])
    if status not in SHIPPABLE:
        raise OrderError(f"order {po['number']} is {status}: nothing more ships against it")
    find = _line_finder(lines, gtins)
    packed: list[dict[str, Any]] = []
    now_shipped: dict[int, int] = {}
    for carton in notice.cartons:
        problem = sscc_problem(carton.sscc) if carton.sscc else None
        if problem:
            raise OrderError(f"carton {carton.sscc}: {problem}")
        for line in carton.lines:
            if line.order and line.order != str(po["number"]):
                raise OrderError(f"the line ships against order {line.order}", line.line)
            row = find(line.line, line.item)
            qty = whole_units(line.quantity, "the shipped quantity", line.line)
            key = int(row["id"])
            now_shipped[key] = now_shipped.get(key, 0) + qty
            packed.append(
                {
                    "po_line": key,
                    "qty_shipped": qty,
                    "sscc": carton.sscc or None,
                    "partnership": po["partnership"],
                }
            )
    if not packed:
        raise OrderError(f"ship notice {notice.number} ships nothing")
    totals = {key: shipped_before.get(key, 0) + now_shipped.get(key, 0)
              for key in {int(row["id"]) for row in lines}}  # fmt: skip
    status = shipped_status(lines, totals)
    shipment = {
        "number": notice.number,
        "status": "shipped",
        "ship_date": (notice.shipped or today).isoformat(),
        "expected_delivery": notice.expected.isoformat() if notice.expected else None,
        "purchase_order": po["id"],
        "partnership": po["partnership"],
        "lines": packed,
    }
    return shipment, status


def invoice_row(
    po: Row, lines: Sequence[Row], gtins: Mapping[int, str], invoice: Invoice, today: dt.date
) -> dict[str, Any]:
    """The invoice record (with its lines) an invoice document makes: quantities whole,
    prices and amounts exact in the order's currency, the total as stated (else the
    lines' sum)."""
    status = str(po["status"])
    if status not in INVOICEABLE:
        raise OrderError(f"order {po['number']} is {status}: it takes no invoice")
    currency = str(po["currency"])
    if invoice.currency and invoice.currency != currency:
        raise OrderError(f"the invoice is in {invoice.currency}; the order in {currency}")
    find = _line_finder(lines, gtins)
    rows = []
    for line in invoice.lines:
        row = find(line.line, line.item)
        qty = whole_units(line.quantity, "the invoiced quantity", line.line)
        unit = price_minor(line.price, currency, line.line)
        if qty * unit > MAX_MINOR:
            raise OrderError(f"the amount {qty} x {line.price} is out of range", line.line)
        rows.append(
            {
                "po_line": int(row["id"]),
                "qty": qty,
                "unit_price_minor": unit,
                "amount_minor": qty * unit,
                "partnership": po["partnership"],
            }
        )
    if not rows:
        raise OrderError(f"invoice {invoice.number} bills nothing")
    summed = sum(r["amount_minor"] for r in rows)
    if summed > MAX_MINOR:
        raise OrderError(f"invoice {invoice.number}'s lines add up to more than Tandem takes")
    # The stated total (taxes and charges included) is kept as stated.
    total = summed if invoice.total is None else price_minor(invoice.total, currency)
    return {
        "number": invoice.number,
        "invoice_date": (invoice.date or today).isoformat(),
        "total_minor": total,
        "currency": currency,
        "status": "open",
        "purchase_order": po["id"],
        "partnership": po["partnership"],
        "lines": rows,
    }


#: Characters that delimit X12 or EDIFACT (and EDIFACT's release character): a person's
#: words carried in a document must not hold them.
DELIMITERS = frozenset("*~>^|+:'?\n\r")


def purchase_order_row(
    order: Order,
    partnership: int,
    skus: Mapping[str, int],
    ship_to: int | None,
    today: dt.date,
    currency: str = "",
) -> dict[str, Any]:
    """The hub's purchase order (open, with its lines) for an order a distributor's own
    system sent (850/ORDERS), as the web's order form makes it; OrderError naming the
    line or field otherwise. ``skus`` are the supplier's SKU ids by GTIN; ``ship_to`` the
    distributor's location its ship-to GLN names (None: none does); ``currency`` the
    distributor's own, for an order that names none (X12's CUR is optional)."""
    if order.purpose != "original":
        raise OrderError(f"an order {order.purpose} for an order Tandem does not hold")
    if not order.number:
        raise OrderError("the order has no number (BEG03/BGM)")
    if ship_to is None:
        raise OrderError(
            f"ship-to {order.ship_to or '(none)'} is none of the distributor's locations"
        )
    currency = order.currency or currency
    if not currency:
        raise OrderError("the order names no currency (CUR), and the distributor has none")
    if not order.lines:
        raise OrderError("the order has no lines")
    lines = []
    seen: set[int] = set()
    for number, line in enumerate(order.lines, 1):
        name = line.line or str(number)
        sku = skus.get(line.item.gtin)
        if sku is None:
            raise OrderError(f"GTIN {line.item.gtin or '(none)'} is none of the supplier's", name)
        if line.price is None:
            raise OrderError("the line has no price", name)
        no = int(line.line) if line.line.isdigit() else number
        if no in seen:
            raise OrderError("a line number twice", name)
        seen.add(no)
        lines.append({
            "line_no": no,
            "sku": sku,
            "qty_ordered": whole_units(line.quantity, "the quantity", name),
            "unit_cost_minor": price_minor(line.price, currency, name),
        })  # fmt: skip
    requested = order.requested or next((x.requested for x in order.lines if x.requested), None)
    return {
        "partnership": partnership,
        "number": order.number,
        "status": "open",
        "ordered_on": str(order.ordered_on or today),
        "requested_date": str(requested) if requested else None,
        "currency": currency,
        "ship_to": ship_to,
        "lines": [{**line, "partnership": partnership} for line in lines],
    }


def free_text(text: str) -> str:
    """Words a person typed (a reason), as a document may carry them: each delimiter, and
    anything not in ISO-8859-1, becomes a space. Never refused: the words still go."""
    return "".join(
        " " if ch in DELIMITERS or ord(ch) > 0xFF or not ch.isprintable() else ch for ch in text
    ).strip()


def _item(line: Row, gtins: Mapping[int, str]) -> Item:
    return Item(gtin=gtins.get(int(line["sku"]), ""))


def response_document(po: Row, lines: Sequence[Row], gtins: Mapping[int, str]) -> OrderResponse:
    """The supplier's answer to an order as an 855/ORDRSP, line by line: each line's
    answer, the quantity and date it promises, and why a line was refused."""
    ordered = sorted(lines, key=lambda r: int(r["line_no"]))
    answers = [
        str(line.get("answer") or "")
        or (
            "changed" if line.get("qty_promised") not in (None, line["qty_ordered"]) else "accepted"
        )
        for line in ordered
    ]
    status = (
        "rejected"
        if po["status"] == "rejected"
        else "changed"
        if any(a != "accepted" for a in answers)
        else "accepted"
    )
    return OrderResponse(
        order=str(po["number"]),
        number=str(po["number"]),
        status=status,  # type: ignore[arg-type]
        date=_day(po.get("promised_date")),
        lines=tuple(
            ResponseLine(
                line=str(line["line_no"]),
                item=_item(line, gtins),
                status=answer,  # type: ignore[arg-type]
                quantity=None if line.get("qty_promised") is None
                else Decimal(int(line["qty_promised"])),
                date=_day(line.get("promised_date")) or _day(po.get("promised_date")),
                reason=free_text(str(line.get("answer_reason") or "")),
                ordered=Decimal(int(line["qty_ordered"])),
            )
            for line, answer in zip(ordered, answers, strict=True)
        ),
    )  # fmt: skip


def ship_notice_document(
    po: Row, shipment: Row, lines: Sequence[Row], gtins: Mapping[int, str]
) -> ShipNotice:
    """A shipment as an 856/DESADV: its cartons (by SSCC) and what each holds."""
    by_id = {int(line["id"]): line for line in lines}
    cartons: dict[str, list[PackedLine]] = {}
    for packed in shipment.get("lines") or []:
        line = by_id[int(packed["po_line"])]
        cartons.setdefault(str(packed.get("sscc") or ""), []).append(
            PackedLine(
                line=str(line["line_no"]),
                item=_item(line, gtins),
                quantity=Decimal(int(packed["qty_shipped"])),
                order=str(po["number"]),
            )
        )
    return ShipNotice(
        number=str(shipment["number"]),
        shipped=_day(shipment.get("ship_date")),
        expected=_day(shipment.get("expected_delivery")),
        cartons=tuple(Carton(sscc, tuple(packed)) for sscc, packed in cartons.items()),
    )


def invoice_document(
    po: Row, invoice: Row, lines: Sequence[Row], gtins: Mapping[int, str]
) -> Invoice:
    """An invoice as an 810/INVOIC, prices and total exact in the order's currency."""
    by_id = {int(line["id"]): line for line in lines}
    currency = str(invoice.get("currency") or po["currency"])
    billed = []
    for row in invoice.get("lines") or []:
        line = by_id[int(row["po_line"])]
        billed.append(
            InvoiceLine(
                line=str(line["line_no"]),
                item=_item(line, gtins),
                quantity=Decimal(int(row["qty"])),
                price=price_major(int(row["unit_price_minor"]), currency),
            )
        )
    return Invoice(
        number=str(invoice["number"]),
        order=str(po["number"]),
        date=_day(invoice.get("invoice_date")),
        currency=currency,
        lines=tuple(billed),
        total=price_major(int(invoice["total_minor"]), currency),
    )
