"""Received order documents applied to the hub with the sending partner's agent.

The agent is a hub user of the partner's own organization and role, so the hub decides
what its documents may change exactly as it does for the partner's web users: an order
it cannot read does not exist for it, and the ownership hook refuses a field or status
move that is not the supplier's. Documents are applied in batches (one read of the
orders they name, one write per kind of change), and a batch the hub refuses is applied
again document by document, so that one bad document is refused alone, with the hub's
reason. Each apply is idempotent: promises are set to values, and a shipment or invoice
whose number the order already has is not created again.

The writes themselves are computed by :mod:`domain.order_documents`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from directus import ForbiddenOrMissing, HubClient, InvalidPayload
from domain.edi_orders import Invoice, Order, OrderResponse, Received, ShipNotice
from domain.order_documents import invoice_row, response_changes, shipment_row
from domain.orders import InvoicedLine, OrderError, shipped_status, three_way_match

PO_FIELDS = ["id", "number", "status", "ordered_on", "requested_date", "currency",
             "partnership", "ship_to", "promised_date", "original_promised_date",
             "revised_date", "acknowledged_at"]  # fmt: skip
LINE_FIELDS = ["id", "line_no", "sku", "qty_ordered", "unit_cost_minor", "qty_promised",
               "promised_date", "original_promised_date", "revised_date", "answer",
               "purchase_order"]  # fmt: skip
#: What the hub answers a write it refuses (its rules, the ownership hook). Anything else
#: (the hub unavailable, a timeout, the agent's token refused) is no answer about the
#: document: it propagates, and the documents stay recorded but unapplied for a later run.
REFUSED = (InvalidPayload, ForbiddenOrMissing)
#: Rows per hub request in a batch read or write.
CHUNK = 200

Row = dict[str, Any]


@dataclass
class Outcome:
    """What applying one received document came to."""

    status: str  # applied | rejected
    error: str | None = None
    counterpart: int | None = None  # the other party of its order: it sees the message
    related: tuple[str, int] | None = None
    number: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def grouped(patches: Iterable[Mapping[str, Any]], size: int = 500) -> list[tuple[list[Any], Row]]:
    """Patches (each with its ``id``) as (keys, the same changes) for the hub's one-request
    update of many records: the hub checks its rules once per request rather than once
    per record, which makes a thousand answered lines ten times faster."""
    groups: dict[str, tuple[list[Any], Row]] = {}
    for patch in patches:
        data = {k: v for k, v in patch.items() if k != "id"}
        groups.setdefault(json.dumps(data, sort_keys=True), ([], data))[0].append(patch["id"])
    return [
        (keys[i : i + size], data)
        for keys, data in groups.values()
        for i in range(0, len(keys), size)
    ]


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def lookup(agent: HubClient, collection: str, ids: Iterable[int], name: str) -> dict[int, Any]:
    """``name`` of each of these rows the agent can read, by id."""
    out: dict[int, Any] = {}
    for chunk in chunks(sorted({i for i in ids if i})):
        for row in agent.read_items(
            collection, filter={"id": {"_in": chunk}}, fields=["id", name], limit=-1
        ):
            out[int(row["id"])] = row.get(name) or ""
    return out


@dataclass
class Orders:
    """The orders a batch of documents names, as the partner's agent reads them."""

    by_number: dict[str, list[Row]]
    lines: dict[int, list[Row]]
    gtins: dict[int, str]
    distributors: dict[int, int]  # partnership -> distributor
    shipped: dict[int, Counter[int]]  # PO -> PO line -> shipped so far
    shipments: dict[int, set[str]]  # PO -> its shipments' numbers
    invoices: dict[int, set[str]]  # PO -> its invoices' numbers


def read_orders(agent: HubClient, numbers: Iterable[str]) -> Orders:
    by_number: dict[str, list[Row]] = {}
    for chunk in chunks(sorted(set(numbers))):
        for po in agent.read_items(
            "purchase_orders", filter={"number": {"_in": chunk}}, fields=PO_FIELDS, limit=-1
        ):
            by_number.setdefault(str(po["number"]), []).append(po)
    ids = [int(po["id"]) for pos in by_number.values() for po in pos]
    lines: dict[int, list[Row]] = {}
    shipped: dict[int, Counter[int]] = {}
    shipments: dict[int, set[str]] = {}
    invoices: dict[int, set[str]] = {}
    for chunk in chunks(ids):
        within = {"purchase_order": {"_in": chunk}}
        for line in agent.read_items("po_lines", filter=within, fields=LINE_FIELDS, limit=-1):
            lines.setdefault(int(line["purchase_order"]), []).append(line)
        for shipment in agent.read_items(
            "shipments",
            filter=within,
            fields=["purchase_order", "number", "lines.po_line", "lines.qty_shipped"],
            limit=-1,
        ):
            key = int(shipment["purchase_order"])
            shipments.setdefault(key, set()).add(str(shipment["number"]))
            for line in shipment.get("lines") or []:
                shipped.setdefault(key, Counter())[int(line["po_line"])] += int(line["qty_shipped"])
        for invoice in agent.read_items(
            "invoices", filter=within, fields=["purchase_order", "number"], limit=-1
        ):
            invoices.setdefault(int(invoice["purchase_order"]), set()).add(str(invoice["number"]))
    skus = {int(x["sku"]) for rows in lines.values() for x in rows}
    pairs = {int(po["partnership"]) for pos in by_number.values() for po in pos}
    return Orders(
        by_number,
        lines,
        lookup(agent, "skus", skus, "gtin"),
        {k: int(v) for k, v in lookup(agent, "partnerships", pairs, "distributor").items()},
        shipped,
        shipments,
        invoices,
    )


@dataclass
class _Planned:
    """One document's writes, and what applying it will have come to."""

    index: int
    po: Row
    outcome: Outcome
    lines: list[Row] = field(default_factory=list)  # po_lines patches, with ids
    order: list[Row] = field(default_factory=list)  # purchase_orders patches, in order
    create: Row | None = None  # a shipment or an invoice, with its lines
    created: bool = False  # a batch that failed later must not create it again


class Applier:
    """Applies one partner's received documents with its agent."""

    def __init__(
        self,
        agent: HubClient,
        partner: str,
        buyer_of: Callable[[Received], int | None],
        *,
        at: str,
        today: dt.date,
    ) -> None:
        self.agent = agent
        self.partner = partner
        self.buyer_of = buyer_of
        self.at = at
        self.today = today

    def apply(self, documents: Sequence[Received]) -> list[Outcome]:
        """An outcome per document, in their order. Answers, then ship notices, then
        invoices: an order answered and shipped in one file is shipped once answered."""
        outcomes: list[Outcome | None] = [None] * len(documents)
        for kind in (OrderResponse, ShipNotice, Invoice):
            batch = [i for i, d in enumerate(documents) if isinstance(d.document, kind)]
            if batch:
                for i, outcome in self._apply_kind(kind, documents, batch).items():
                    outcomes[i] = outcome
        for i, document in enumerate(documents):
            if outcomes[i] is None:
                what = "an order" if isinstance(document.document, Order) else document.code
                outcomes[i] = Outcome(
                    "rejected",
                    f"{self.partner} may not send {what}: its profile's partner sends "
                    "answers, ship notices and invoices to Tandem's buyers",
                )
        return [o for o in outcomes if o is not None]

    def _apply_kind(
        self, kind: type, documents: Sequence[Received], batch: list[int]
    ) -> dict[int, Outcome]:
        orders = read_orders(self.agent, [_order_number(documents[i].document) for i in batch])
        done: dict[int, Outcome] = {}
        plans: list[_Planned] = []
        for i in batch:
            document = documents[i]
            try:
                po = self._order(orders, document)
                plans.append(self._plan(kind, orders, po, i, document.document))
            except OrderError as error:
                done[i] = Outcome("rejected", str(error), number=_number(document.document))
        try:
            self._write(plans)
        except REFUSED:
            for plan in plans:  # the hub refused the batch: find which, one by one
                try:
                    self._write([plan])
                except REFUSED as error:
                    plan.outcome = Outcome(
                        "rejected", f"the hub refused it: {error}", number=plan.outcome.number
                    )
        for plan in plans:
            done[plan.index] = plan.outcome
        if kind is Invoice:
            self._match([p for p in plans if p.outcome.status == "applied"])
        return done

    def _order(self, orders: Orders, document: Received) -> Row:
        """The order a document names, among the partner's own (the envelope's receiver
        telling two buyers' orders of one number apart). The refusal never says whether
        another partner has an order of that number."""
        if isinstance(document.document, ShipNotice) and len(document.document.orders) != 1:
            raise OrderError(
                f"ship notice {document.document.number} ships against "
                f"{len(document.document.orders)} orders; Tandem takes one order per notice"
            )
        number = _order_number(document.document)
        found = orders.by_number.get(number, [])
        buyer = self.buyer_of(document)
        if buyer is not None:
            found = [po for po in found if orders.distributors.get(int(po["partnership"])) == buyer]
        if not found:
            raise OrderError(f"{self.partner} has no order {number}")
        if len(found) > 1:
            raise OrderError(
                f"{self.partner} has several orders {number}; "
                "the envelope's receiver does not say whose"
            )
        return found[0]

    def _plan(self, kind: type, orders: Orders, po: Row, index: int, doc: Any) -> _Planned:
        """The writes of one document, from the orders as the earlier documents of the
        batch leave them (two answers to one order in one file apply in turn)."""
        key = int(po["id"])
        lines = orders.lines.get(key, [])
        outcome = Outcome(
            "applied",
            counterpart=orders.distributors.get(int(po["partnership"])),
            related=("purchase_orders", key),
            number=_number(doc),
        )
        plan = _Planned(index, po, outcome)
        if kind is OrderResponse:
            order, line_changes = response_changes(po, lines, orders.gtins, doc, self.at)
            plan.lines = [{"id": k, **v} for k, v in line_changes.items()]
            plan.order = [order] if order else []
            for line in lines:
                line.update(line_changes.get(int(line["id"]), {}))
            po.update(order)
            outcome.detail = {"status": po["status"]}
        elif kind is ShipNotice:
            if doc.number in orders.shipments.get(key, set()):
                # Created by a run that stopped before moving the order: only the move.
                status = shipped_status(lines, orders.shipped.get(key, Counter()))
                if po["status"] == "open":
                    plan.order.append({"status": "acknowledged", "acknowledged_at": self.at})
                if status != po["status"] and po["status"] in (
                    "open",
                    "acknowledged",
                    "partially_shipped",
                ):
                    plan.order.append({"status": status})
                    po["status"] = status
                return plan
            before = orders.shipped.setdefault(key, Counter())
            plan.create, status = shipment_row(po, lines, orders.gtins, before, doc, self.today)
            for line in plan.create["lines"]:
                before[int(line["po_line"])] += int(line["qty_shipped"])
            orders.shipments.setdefault(key, set()).add(doc.number)
            if po["status"] == "open":  # shipped unanswered: acknowledged by shipping
                plan.order.append({"status": "acknowledged", "acknowledged_at": self.at})
            if status != po["status"]:
                plan.order.append({"status": status})
            po["status"] = status
            outcome.detail = {"status": status}
        else:
            if doc.number in orders.invoices.get(key, set()):
                return plan
            plan.create = invoice_row(po, lines, orders.gtins, doc, self.today)
            orders.invoices.setdefault(key, set()).add(doc.number)
        plan.create = {"kind": kind.__name__, **plan.create} if plan.create else None
        return plan

    def _write(self, plans: Sequence[_Planned]) -> None:
        """The plans' writes, a batch per kind: line patches, then new shipments and
        invoices, then each order's status moves in turn (one hub transaction each).
        Patches set values, so writing them again is harmless; a shipment or invoice is
        never created twice."""
        agent = self.agent
        # A line answered twice in one batch ends as the later answer says: patches are
        # merged per line in document order before the same ones are grouped.
        lines: dict[Any, Row] = {}
        for plan in plans:
            for patch in plan.lines:
                lines.setdefault(patch["id"], {}).update(patch)
        for keys, data in grouped(lines.values()):
            agent.patch("/items/po_lines", {"keys": keys, "data": data}, fields=["id"])
        for collection, name in (("shipments", "ShipNotice"), ("invoices", "Invoice")):
            pending = [p for p in plans if p.create and p.create["kind"] == name and not p.created]
            for chunk in chunks(pending, 100):
                rows = [{k: v for k, v in p.create.items() if k != "kind"} for p in chunk]
                agent.post(f"/items/{collection}", rows, fields=["id"])
                for plan in chunk:
                    plan.created = True
        # Each order's moves in document order, one round per move: an order answered
        # and shipped twice in one batch moves open, acknowledged, partially shipped,
        # shipped, in turn, as the ownership table allows them.
        moves: dict[Any, list[Row]] = {}
        for plan in plans:
            moves.setdefault(plan.po["id"], []).extend(plan.order)
        step = 0
        while True:
            round_ = [{"id": key, **seq[step]} for key, seq in moves.items() if len(seq) > step]
            if not round_:
                break
            for keys, data in grouped(round_):
                agent.patch("/items/purchase_orders", {"keys": keys, "data": data}, fields=["id"])
            step += 1

    def _match(self, plans: Sequence[_Planned]) -> None:
        """Each invoiced order's three-way match, on its outcome's detail."""
        ids = sorted({int(p.po["id"]) for p in plans})
        shipped: dict[int, Counter[int]] = {}
        received: dict[int, Counter[int]] = {}
        billed: dict[int, list[Row]] = {}
        lines: dict[int, list[Row]] = {}
        for chunk in chunks(ids):
            for line in self.agent.read_items(
                "po_lines",
                filter={"purchase_order": {"_in": chunk}},
                fields=LINE_FIELDS,
                limit=-1,
            ):
                lines.setdefault(int(line["purchase_order"]), []).append(line)
            for line in self.agent.read_items(
                "shipment_lines",
                filter={"shipment": {"purchase_order": {"_in": chunk}}},
                fields=["po_line.purchase_order", "po_line.id", "qty_shipped", "qty_received"],
                limit=-1,
            ):
                key, po_line = int(line["po_line"]["purchase_order"]), int(line["po_line"]["id"])
                shipped.setdefault(key, Counter())[po_line] += int(line["qty_shipped"])
                if line.get("qty_received") is not None:
                    received.setdefault(key, Counter())[po_line] += int(line["qty_received"])
            for invoice in self.agent.read_items(
                "invoices",
                filter={"purchase_order": {"_in": chunk}},
                fields=["purchase_order", "lines.po_line", "lines.qty", "lines.unit_price_minor"],
                limit=-1,
            ):
                billed.setdefault(int(invoice["purchase_order"]), []).extend(
                    invoice.get("lines") or []
                )
        for plan in plans:
            plan.outcome.detail = {
                "match": order_match(
                    lines.get(int(plan.po["id"]), []),
                    shipped.get(int(plan.po["id"]), Counter()),
                    received.get(int(plan.po["id"])),
                    billed.get(int(plan.po["id"]), []),
                )
            }


def order_match(
    lines: Sequence[Mapping[str, Any]],
    shipped: Mapping[int, int],
    received: Mapping[int, int] | None,
    billed: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """An order's three-way match (order x receipt, or what shipped until the buyer
    records a receipt, x invoice) as its flags per PO line number."""
    number = {int(x["id"]): str(x["line_no"]) for x in lines}
    ordered = [(str(x["line_no"]), int(x["qty_ordered"]), int(x["unit_cost_minor"])) for x in lines]
    invoiced = [
        InvoicedLine(number.get(int(x["po_line"]), "?"), int(x["qty"]), int(x["unit_price_minor"]))
        for x in billed
    ]
    by_line = {number[k]: v for k, v in shipped.items() if k in number}
    receipt = {number[k]: v for k, v in (received or {}).items() if k in number}
    result = three_way_match(ordered, receipt, invoiced, shipped=by_line)
    return [
        {"line": m.line, "ordered": m.ordered, "received": m.received,
         "invoiced": m.invoiced, "flags": list(m.flags)}
        for m in result
    ]  # fmt: skip


def _order_number(doc: Any) -> str:
    if isinstance(doc, ShipNotice):
        numbers = doc.orders
        return numbers[0] if len(numbers) == 1 else ""
    return str(getattr(doc, "order", ""))


def _number(doc: Any) -> str:
    return str(getattr(doc, "number", "") or getattr(doc, "order", ""))
