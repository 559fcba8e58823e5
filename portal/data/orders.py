"""What the purchase-order pages show, from governed reads only: one order's file (its
lines with what shipped, was received and was invoiced against each, its shipments and
invoices, the three-way match, and a timeline of every event and EDI message about it),
and the line counts of a page of orders.

The rules (what a match flags, what a status means) are :mod:`domain.orders`'; this
module gathers the rows they apply to, as the signed-in user may see them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.orders import FLAG_WORDS, InvoicedLine, MatchLine, price_major, three_way_match
from portal.data import insights
from portal.data.access import DataAccess, as_int

Row = dict[str, Any]

#: The fields of an EDI message the timeline shows (never its payload).
EDI_FIELDS = [
    "id",
    "direction",
    "standard",
    "message_type",
    "status",
    "received_at",
    "error",
    "document_number",
]


@dataclass(frozen=True)
class Sku:
    """How a page names a SKU: the distributor's item code (if the user sees it), its
    GTIN and description; never its internal id alone."""

    gtin: str
    description: str
    item_code: str = ""

    @property
    def label(self) -> str:
        code = f"{self.item_code} · " if self.item_code else ""
        return f"{code}{self.gtin} {self.description}".strip()


UNKNOWN_SKU = Sku("", "details not shared with you")


@dataclass(frozen=True)
class OrderLine:
    """A PO line with what shipped, was received (None: no receipt recorded) and was
    invoiced against it, and its three-way match."""

    row: Row
    sku: Sku
    shipped: int
    received: int | None
    invoiced: int
    match: MatchLine | None

    @property
    def number(self) -> str:
        return str(self.row["line_no"])

    @property
    def flags(self) -> list[str]:
        """The match's flags in words."""
        return [FLAG_WORDS.get(f, f) for f in self.match.flags] if self.match else []


@dataclass(frozen=True)
class Event:
    """One entry of an order's timeline. ``at`` is a day or a UTC timestamp; ``kind``
    says what it is (order, acknowledged, shipment, received, invoice, edi)."""

    at: dt.date | dt.datetime
    kind: str
    title: str
    detail: str = ""

    @property
    def sort_key(self) -> tuple[dt.date, int, str]:
        """By day; within a day, the order first, then what has a time (messages, the
        acknowledgement) by its time, then what has only a day (shipments, receipts,
        invoices), which follows the messages and answers that led to it."""
        if isinstance(self.at, dt.datetime):
            return self.at.date(), 1, self.at.time().isoformat()
        return self.at, 0 if self.kind == "order" else 2, ""


@dataclass(frozen=True)
class OrderFile:
    """Everything an order's page shows."""

    order: Row
    supplier: str
    distributor: str
    ship_to: Row | None
    lines: list[OrderLine]
    shipments: list[Row]  # each with its "lines"
    invoices: list[Row]  # each with its "lines"
    unmatched: list[MatchLine]  # invoice lines naming no line of the order
    timeline: list[Event]

    @property
    def currency(self) -> str:
        return str(self.order["currency"])

    def line(self, key: Any) -> OrderLine | None:
        """The order's line with this id (a shipment's or invoice's ``po_line``)."""
        return next((x for x in self.lines if str(x.row["id"]) == str(key)), None)

    def money(self, minor: int | None) -> Decimal | None:
        """Minor units as the exact amount in the order's currency."""
        return None if minor is None else price_major(int(minor), self.currency)

    @property
    def ordered_total(self) -> Decimal | None:
        return self.money(
            sum(int(x.row["qty_ordered"]) * int(x.row["unit_cost_minor"]) for x in self.lines)
        )


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _instant(value: Any) -> dt.datetime | None:
    """A hub timestamp as an aware UTC datetime (a naive one is UTC, as the hub keeps it)."""
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def skus_named(acc: DataAccess, ids: Sequence[int], distributor: int | None) -> dict[int, Sku]:
    """The SKUs with these ids the user may see, with the distributor's item codes."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = acc.rows("skus", {"id": {"_in": ids}}, fields=["id", "gtin", "description"])
    codes: dict[int, str] = {}
    if distributor is not None:
        where = {"_and": [{"sku": {"_in": ids}}, {"distributor": {"_eq": distributor}}]}
        for code in acc.rows("sku-codes", where, fields=["id", "sku", "item_code", "distributor"]):
            codes.setdefault(as_int(code["sku"], "sku"), str(code["item_code"]))
    return {
        int(r["id"]): Sku(
            str(r["gtin"]), str(r.get("description") or ""), codes.get(int(r["id"]), "")
        )
        for r in rows
    }


def _with_lines(acc: DataAccess, name: str, order_id: int, sort: str) -> list[Row]:
    """An order's shipments or invoices, oldest first, each with its lines."""
    rows = acc.rows(name, {"purchase_order": {"_eq": order_id}}, sort=(sort, "id"))
    children: dict[int, list[Row]] = {int(r["id"]): [] for r in rows}
    parent = "shipment" if name == "shipments" else "invoice"
    for line in acc.children_of(name, "lines", list(children)):
        children[as_int(line[parent], parent)].append(line)
    return [{**r, "lines": children[int(r["id"])]} for r in rows]


def _count(n: int, word: str) -> str:
    """``1 line``, ``2 lines``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _timeline(
    order: Row,
    lines: int,
    shipments: Sequence[Row],
    invoices: Sequence[Row],
    messages: Sequence[Row],
) -> list[Event]:
    events = []
    ordered = _day(order.get("ordered_on"))
    if ordered:
        events.append(Event(ordered, "order", f"Ordered {order['number']}", _count(lines, "line")))
    acknowledged = _instant(order.get("acknowledged_at"))
    if acknowledged:
        promise = order.get("original_promised_date") or order.get("promised_date")
        detail = f"promised for {str(promise)[:10]}" if promise else ""
        events.append(Event(acknowledged, "acknowledged", "Acknowledged by the supplier", detail))
    for s in shipments:
        units = sum(int(x["qty_shipped"]) for x in s["lines"])
        expected = s.get("expected_delivery")
        detail = f"{_count(units, 'unit')} on {_count(len(s['lines']), 'line')}" + (
            f"; expected {str(expected)[:10]}" if expected else ""
        )
        shipped = _day(s.get("ship_date"))
        if shipped:
            events.append(Event(shipped, "shipment", f"Shipped: ship notice {s['number']}", detail))
        received = _day(s.get("received_date"))
        if received:
            events.append(Event(received, "received", f"Received: ship notice {s['number']}"))
    for i in invoices:
        day = _day(i.get("invoice_date"))
        if day:
            total = (
                f"total {price_major(int(i['total_minor']), str(i['currency']))} {i['currency']}"
            )
            events.append(Event(day, "invoice", f"Invoiced: {i['number']}", total))
    for m in messages:
        at = _instant(m.get("received_at"))
        if at is None:
            continue
        way = "received" if m.get("direction") == "in" else "sent"
        title = f"EDI {m.get('message_type') or '?'} {way}"
        parts = [str(m.get("status") or "")]
        if m.get("document_number"):
            parts.append(f"document {m['document_number']}")
        if m.get("error"):
            parts.append(str(m["error"]))
        events.append(Event(at, "edi", title, "; ".join(p for p in parts if p)))
    return sorted(events, key=lambda e: e.sort_key)


def order_file(
    acc: DataAccess, key: int, cache: insights.ReportCache = insights.NO_CACHE
) -> OrderFile:
    """One order as its page shows it; 404 (audited) if the user may not see it."""
    order = acc.get("purchase-orders", key)
    pair = acc.scope.pairs.get(int(order["partnership"]))
    names = insights.org_names(acc, cache)
    supplier = names.get(pair.supplier, "?") if pair else "?"
    distributor = names.get(pair.distributor, "?") if pair else "?"
    rows = sorted(order["lines"], key=lambda r: (int(r["line_no"]), int(r["id"])))
    skus = skus_named(acc, [int(r["sku"]) for r in rows], pair.distributor if pair else None)
    ship_to = None
    if order.get("ship_to"):
        found = acc.rows(
            "locations", {"id": {"_eq": order["ship_to"]}}, fields=["id", "code", "name"]
        )
        ship_to = found[0] if found else None
    shipments = _with_lines(acc, "shipments", key, "ship_date")
    invoices = _with_lines(acc, "invoices", key, "invoice_date")
    about = [{"related_collection": {"_eq": "purchase_orders"}}, {"related_id": {"_eq": str(key)}}]
    messages = acc.rows(
        "edi-messages", {"_and": about}, fields=EDI_FIELDS, sort=("received_at", "id")
    )

    number = {int(r["id"]): str(r["line_no"]) for r in rows}
    shipped: Counter[int] = Counter()
    received: Counter[int] = Counter()
    receipt: set[int] = set()
    for s in shipments:
        for x in s["lines"]:
            line = as_int(x["po_line"], "po_line")
            shipped[line] += as_int(x["qty_shipped"], "qty_shipped")
            if x.get("qty_received") is not None:
                receipt.add(line)
                received[line] += as_int(x["qty_received"], "qty_received")
    invoiced: Counter[int] = Counter()
    billed = []
    for i in invoices:
        for x in i["lines"]:
            line = as_int(x["po_line"], "po_line") if x.get("po_line") is not None else 0
            invoiced[line] += as_int(x["qty"], "qty")
            price = as_int(x["unit_price_minor"], "unit_price_minor")
            billed.append(InvoicedLine(number.get(line, "?"), as_int(x["qty"], "qty"), price))
    # As the EDI path matches: against receipts once the distributor records any, else
    # against what the ship notices say left.
    match = three_way_match(
        [(number[int(r["id"])], int(r["qty_ordered"]), int(r["unit_cost_minor"])) for r in rows],
        {number[k]: v for k, v in received.items() if k in number} if receipt else {},
        billed,
        shipped={number[k]: v for k, v in shipped.items() if k in number},
    )
    by_line = {m.line: m for m in match}
    lines = [
        OrderLine(
            r,
            skus.get(int(r["sku"]), UNKNOWN_SKU),
            shipped[int(r["id"])],
            received[int(r["id"])] if int(r["id"]) in receipt else None,
            invoiced[int(r["id"])],
            by_line.get(str(r["line_no"])),
        )
        for r in rows
    ]
    return OrderFile(
        order=order,
        supplier=supplier,
        distributor=distributor,
        ship_to=ship_to,
        lines=lines,
        shipments=shipments,
        invoices=invoices,
        unmatched=[m for m in match if "not_on_order" in m.flags],
        timeline=_timeline(order, len(rows), shipments, invoices, messages),
    )


def line_counts(acc: DataAccess, orders: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """How many lines each of these orders has (one read for the page)."""
    return acc.child_counts("purchase-orders", "lines", [int(o["id"]) for o in orders])
