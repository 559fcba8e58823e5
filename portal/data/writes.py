"""The writes each role may make, with their business rules.

Input arrives already validated by the resource's schema (types, enums, field sets per
role). Here: every record the request names must be in the user's scope (the pair, its
supplier's SKUs, its distributor's locations, the PO's own lines), each side writes only
the fields and makes only the status moves the ownership table gives it
(:mod:`domain.ownership`, which the hub's integrity hook enforces too), the first
promised date of a PO is kept as the original commitment, and a PO's status follows the
supplier's answers and shipments (:mod:`domain.orders`). Each successful write leaves
one audit entry naming the records written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from directus import HubClient
from domain import clock, ownership
from domain.commitments import commitment_key
from domain.forecasts import frozen_reason
from domain.ingest import MAX_MINOR
from domain.orders import answered_status, promise_changes, shipped_status
from domain.roles import DISTRIBUTOR_USER, SUPPLIER_USER
from portal.data.errors import Conflict, HubFailed, Invalid
from portal.data.registry import RESOURCES, Child, Resource, Write
from portal.data.scope import Actor, Filter, Pair

Row = dict[str, Any]
T = TypeVar("T")


class WriteAccess(Protocol):
    """What a write rule uses of the data layer. :class:`portal.data.access.DataAccess`
    provides it and calls the rules; naming it here keeps the import one way."""

    actor: Actor
    hub: HubClient

    def get(self, name: str, key: Any) -> Row: ...
    def pair(self, pair_id: int, field: str = "partnership") -> Pair: ...
    def require(
        self, name: str, ids: Sequence[Any], field: str, where: Filter | None = None
    ) -> list[Row]: ...
    def write(self, fn: Callable[[], T], collection: str) -> T: ...
    def write_for(self, name: str, action: str, child_name: str | None = None) -> Write: ...
    def record(
        self, action: str, collection: str, ids: Sequence[Any], detail: Mapping[str, Any]
    ) -> None: ...
    def deny(self, collection: str, ids: Sequence[Any], field: str) -> None: ...
    def child_row(self, res: Resource, child: Child, key: Any) -> Row: ...
    def children_rows(
        self, res: Resource, child: Child, key: Any, *, limit: int, offset: int
    ) -> list[Row]: ...
    def children_of(self, name: str, child_name: str, keys: Sequence[Any]) -> list[Row]: ...
    def rows(
        self,
        name: str,
        where: Filter,
        *,
        fields: Sequence[str] | None = None,
        sort: Sequence[str] = ("id",),
        limit: int = -1,
    ) -> list[Row]: ...


#: Promotion status a distributor may move to, from each status (itself included), as
#: the ownership table says (the promotion page offers these).
DISTRIBUTOR_PROMOTION_MOVES: dict[str, frozenset[str]] = {
    status: ownership.moves_from(DISTRIBUTOR_USER, "promotions", status)
    for status in ownership.PROMOTION_STATUSES
}
#: Promotion status in which a distributor may still change the terms.
PROMOTION_TERMS_OPEN = ownership.TERMS_OPEN
#: PO status in which the supplier may still answer (promise, accept, change, reject).
PO_ANSWERABLE = ownership.PROMISABLE
#: PO status in which the supplier notices a shipment: those it may move on to shipped.
PO_SHIPPABLE = frozenset(
    s
    for s in ownership.PO_STATUSES
    if "shipped" in ownership.moves_from(SUPPLIER_USER, "purchase_orders", s) - {s}
)
#: PO status once something has shipped against it: the supplier may invoice.
PO_INVOICEABLE = frozenset({"partially_shipped", "shipped", "received"})
#: PO status a distributor may cancel from, as the ownership table says.
PO_CANCELLABLE = frozenset(
    s
    for s in ownership.PO_STATUSES
    if ownership.may_move(DISTRIBUTOR_USER, "purchase_orders", s, "cancelled") and s != "cancelled"
)


def check_update(
    acc: WriteAccess, collection: str, status: Any, changes: Mapping[str, Any]
) -> None:
    """409 naming each field the user's role may not change on a record in ``status``
    (its own, or its parent's for a child without one), by the ownership table."""
    refused = ownership.update_refusals(
        acc.actor.role, collection, None if status is None else str(status), changes
    )
    if refused:
        raise Conflict(
            "; ".join(f"{name}: {reason}" for name, reason in refused.items()),
            {name: [reason] for name, reason in refused.items()},
        )


def check_create(acc: WriteAccess, collection: str, status: Any, row: Mapping[str, Any]) -> None:
    """409 naming each field the user's role may not set creating this record, or the
    status it would start in (or its parent's) if the table does not allow it."""
    refused = ownership.create_refusals(
        acc.actor.role, collection, None if status is None else str(status), list(row)
    )
    if refused:
        raise Conflict(
            "; ".join(f"{name}: {reason}" for name, reason in refused.items()),
            {name: [reason] for name, reason in refused.items()},
        )


def to_hub(data: Mapping[str, Any]) -> Row:
    """The payload as the hub takes it: dates as ISO text, in nested lists too (a plan's
    events)."""
    return {k: _hub_value(v) for k, v in data.items()}


def _hub_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_hub_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _hub_value(v) for k, v in value.items()}
    return value


def now() -> str:
    return clock.now().isoformat(timespec="milliseconds")


def created_id(row: Any) -> Any:
    """The id of a row the hub just created (the user can read it back)."""
    if not isinstance(row, dict) or "id" not in row:
        raise HubFailed("the hub created a record the user cannot read back")
    return row["id"]


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


# -- promotions -----------------------------------------------------------------------


def _history_row(acc: WriteAccess, partnership: int, status: str, comment: str | None) -> Row:
    """A promotion_events row, nested in the promotion's own write (one hub transaction)."""
    return {
        "partnership": partnership,
        "status": status,
        "comment": comment,
        "at": now(),
        "actor": acc.actor.id,
    }


def create_promotion(acc: WriteAccess, res: Resource, data: Row) -> Row:
    """A distributor proposes a promotion on its pair's SKUs at its own locations."""
    pair = acc.pair(data["partnership"])
    acc.require("skus", data["skus"], "skus", where={"supplier": {"_eq": pair.supplier}})
    acc.require(
        "locations",
        data["locations"],
        "locations",
        where={"distributor": {"_eq": pair.distributor}},
    )
    terms = {k: v for k, v in data.items() if k not in ("skus", "locations")}
    promotion = {
        **to_hub({**terms, "partnership": pair.id}),
        "skus": [{"partnership": pair.id, "sku": i} for i in data["skus"]],
        "locations": [{"partnership": pair.id, "location": i} for i in data["locations"]],
        "history": [_history_row(acc, pair.id, data["status"], None)],
    }
    check_create(acc, res.collection, data["status"], promotion)
    created = acc.write(
        lambda: acc.hub.create_item(res.collection, promotion, fields=["id"]), res.collection
    )
    promotion = {"id": created_id(created), "partnership": pair.id}
    acc.record(
        "promotions.create",
        res.collection,
        [promotion["id"]],
        {"status": data["status"], "skus": data["skus"], "locations": data["locations"]},
    )
    return acc.get(res.name, promotion["id"])


def create_promotions(acc: WriteAccess, res: Resource, items: list[Row]) -> list[Any]:
    """A distributor proposes several promotions at once (a workbook): all or none.

    Each item passes :func:`create_promotion`'s checks (its pair, the pair's supplier's
    SKUs, the distributor's locations); then one hub call creates them all, which Directus
    runs in one transaction. Never chunked: a batch over the hub's payload limit is
    refused instead. Returns the new promotions' ids.
    """
    acc.write_for(res.name, "create")
    pairs = {key: acc.pair(key) for key in dict.fromkeys(d["partnership"] for d in items)}
    for key, pair in pairs.items():
        skus = [i for d in items if d["partnership"] == key for i in d["skus"]]
        locations = [i for d in items if d["partnership"] == key for i in d["locations"]]
        acc.require("skus", skus, "skus", where={"supplier": {"_eq": pair.supplier}})
        acc.require(
            "locations", locations, "locations", where={"distributor": {"_eq": pair.distributor}}
        )
    payload = []
    for data in items:
        pair = pairs[data["partnership"]]
        terms = {k: v for k, v in data.items() if k not in ("skus", "locations")}
        payload.append(
            {
                **to_hub({**terms, "partnership": pair.id}),
                "skus": [{"partnership": pair.id, "sku": i} for i in data["skus"]],
                "locations": [{"partnership": pair.id, "location": i} for i in data["locations"]],
                "history": [_history_row(acc, pair.id, data["status"], None)],
            }
        )
        check_create(acc, res.collection, data["status"], payload[-1])
    if not payload:
        return []
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    if size > acc.hub.max_payload_bytes:
        raise Invalid(
            "these promotions are too many to create in one go; split them into smaller files",
            {"_schema": [f"{len(payload)} promotions make {size} bytes, over the hub's limit"]},
        )
    created = acc.write(
        lambda: acc.hub.post(f"/items/{res.collection}", payload, fields=["id"]), res.collection
    )
    if not isinstance(created, list) or len(created) != len(payload):
        raise HubFailed("the hub created promotions the user cannot read back")
    ids = [created_id(row) for row in created]
    acc.record(
        "promotions.create",
        res.collection,
        ids,
        {"status": sorted({d["status"] for d in items}), "batch": len(ids)},
    )
    return ids


def edit_promotion(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """A distributor changes a promotion's terms or moves its status."""
    status = data.pop("status", current["status"])
    comment = data.pop("comment", None)
    check_update(acc, res.collection, current["status"], {**data, "status": status})
    start = data.get("start_date") or dt.date.fromisoformat(_day(current["start_date"]) or "")
    end = data.get("end_date") or dt.date.fromisoformat(_day(current["end_date"]) or "")
    if end < start:
        raise Invalid("the promotion would end before it starts", {"end_date": ["before start"]})
    changes = to_hub(data)
    if status != current["status"]:
        changes["status"] = status
    if not changes:
        raise Invalid("nothing to change", {"_schema": ["nothing to change"]})
    write = dict(changes)
    if "status" in changes:
        event = _history_row(acc, current["partnership"], status, comment)
        write["history"] = {"create": [event], "update": [], "delete": []}
    acc.write(
        lambda: acc.hub.update_item(res.collection, current["id"], write, fields=["id"]),
        res.collection,
    )
    acc.record("promotions.update", res.collection, [current["id"]], {"changes": changes})
    return acc.get(res.name, current["id"])


def answer_promotion(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """The supplier accepts or declines a submitted promotion, with a comment."""
    status, comment = data["status"], data.get("comment")
    event = _history_row(acc, current["partnership"], status, comment)
    answer = {
        "status": status,
        "supplier_comment": comment,
        "history": {"create": [event], "update": [], "delete": []},
    }
    check_update(acc, res.collection, current["status"], answer)
    acc.write(
        lambda: acc.hub.update_item(res.collection, current["id"], answer, fields=["id"]),
        res.collection,
    )
    acc.record("promotions.answer", res.collection, [current["id"]], {"status": status})
    return acc.get(res.name, current["id"])


# -- purchase orders ------------------------------------------------------------------


def create_purchase_order(acc: WriteAccess, res: Resource, data: Row) -> Row:
    """A distributor orders from its pair's supplier, shipped to one of its own locations."""
    pair = acc.pair(data["partnership"])
    acc.require(
        "locations", [data["ship_to"]], "ship_to", where={"distributor": {"_eq": pair.distributor}}
    )
    lines = data.pop("lines")
    acc.require(
        "skus", [line["sku"] for line in lines], "lines", where={"supplier": {"_eq": pair.supplier}}
    )
    order = to_hub({**data, "partnership": pair.id, "status": "open"})
    order["lines"] = [to_hub({**line, "partnership": pair.id}) for line in lines]
    check_create(acc, res.collection, order["status"], order)
    created = acc.write(
        lambda: acc.hub.create_item(res.collection, order, fields=["id"]), res.collection
    )
    order_id = created_id(created)
    acc.record(
        "purchase_orders.create",
        res.collection,
        [order_id],
        {"number": data["number"], "lines": len(lines)},
    )
    return acc.get(res.name, order_id)


def change_purchase_order(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """A distributor cancels its PO, or changes the requested date or ship-to while open."""
    check_update(acc, res.collection, current["status"], data)
    if "ship_to" in data:
        pair = acc.pair(current["partnership"])
        acc.require(
            "locations",
            [data["ship_to"]],
            "ship_to",
            where={"distributor": {"_eq": pair.distributor}},
        )
    changes = to_hub(data)
    acc.write(
        lambda: acc.hub.update_item(res.collection, current["id"], changes, fields=["id"]),
        res.collection,
    )
    acc.record("purchase_orders.change", res.collection, [current["id"]], {"changes": changes})
    return acc.get(res.name, current["id"])


def _order_lines(acc: WriteAccess, order_id: Any) -> dict[int, Row]:
    """A PO's lines by id (the order was just found visible)."""
    orders = RESOURCES["purchase-orders"]
    lines = orders.child("lines")
    assert lines is not None
    rows = acc.children_rows(orders, lines, order_id, limit=-1, offset=0)
    return {int(r["id"]): r for r in rows}


def _line_answer(row: Row, line: Row, promised: dt.date | None) -> Row:
    """A PO line's changes for the supplier's answer to it (see
    :func:`acknowledge_purchase_order`); ``promised`` is the order's promised date."""
    number = str(row["line_no"])
    change: Row = {"answer": line["answer"], "answer_reason": line.get("answer_reason")}
    if change["answer_reason"] is not None:
        change["answer_reason"] = change["answer_reason"].strip() or None
    if line["answer"] == "rejected":
        change["qty_promised"] = 0
        return change
    ordered = int(row["qty_ordered"])
    before = row.get("qty_promised")
    default = ordered if line["answer"] == "accepted" or before is None else int(before)
    qty = line.get("qty_promised", default)
    if line["answer"] == "accepted" and qty != ordered:
        raise Invalid(
            f"line {number}: an accepted line promises what was ordered ({ordered}); "
            f"answer “changed” to promise {qty}",
            {"lines": [f"line {number}: accepted, yet promises {qty} of {ordered}"]},
        )
    change["qty_promised"] = qty
    day = line.get("promised_date") or promised
    if day is None:
        raise Invalid(
            f"line {number}: give the date it is promised for",
            {"promised_date": [f"required: line {number} is {line['answer']}"]},
        )
    change.update(promise_changes(row, day))
    return change


def acknowledge_purchase_order(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """The supplier acknowledges (or rejects) a PO, promising a date per order and line,
    and answers it line by line.

    An ``accepted`` line promises what was ordered, a ``changed`` one another quantity or
    date, a ``rejected`` one nothing (0, for a reason); a line answered without a date of
    its own takes the order's. Once lines are answered, the order is ``rejected`` if every
    line is, else ``acknowledged``. The first promise of the order and of each line is
    kept as the original (:func:`domain.orders.promise_changes`). The lines are written
    before the order's status, which closes them to further answers once rejected.
    """
    status = data.get("status")
    promised: dt.date | None = data.get("promised_date")
    asked = data.get("lines") or []
    own = _order_lines(acc, current["id"]) if asked else {}
    unknown = [line["id"] for line in asked if int(line["id"]) not in own]
    if unknown:
        acc.deny("po_lines", unknown, "lines")
    answers = {key: row.get("answer") for key, row in own.items()}
    answers.update({int(x["id"]): x["answer"] for x in asked if "answer" in x})
    if any("answer" in line for line in asked):
        outcome = answered_status(answers.values())
        if status is not None and status != outcome:
            raise Invalid(
                f"the lines' answers make the order {outcome}, not {status}",
                {"status": [f"the answers make it {outcome}"]},
            )
        status = outcome
    first = current.get("original_promised_date") is None and current.get("promised_date") is None
    dates = [line["promised_date"] for line in asked if line.get("promised_date")]
    if promised is None and first and status == "acknowledged" and dates:
        promised = max(dates)  # the order is due when its last line is
    if status == "acknowledged" and promised is None and first:
        raise Invalid(
            "acknowledging an order needs a promised date",
            {"promised_date": ["required to acknowledge"]},
        )
    if status == "rejected" and (
        promised is not None or any(line.get("answer") != "rejected" for line in asked)
    ):
        raise Invalid("a rejection promises nothing", {"status": ["reject without promises"]})
    changes: Row = {}
    if promised is not None:
        changes.update(promise_changes(current, promised))
    if status and status != current["status"]:
        changes["status"] = status
    if status == "acknowledged" and not current.get("acknowledged_at"):
        changes["acknowledged_at"] = now()
    check_update(acc, res.collection, current["status"], changes)

    before = _day(current.get("promised_date"))
    day = promised or (dt.date.fromisoformat(before) if before else None)
    line_changes: dict[int, Row] = {}
    for line in asked:
        row = own[int(line["id"])]
        change: Row = {}
        if "answer" in line:
            change = _line_answer(row, line, day)
        else:  # a promise alone
            if "qty_promised" in line:
                change["qty_promised"] = line["qty_promised"]
            if line.get("promised_date") is not None:
                change.update(promise_changes(row, line["promised_date"]))
        change = {k: v for k, v in change.items() if row.get(k) != v}
        if change:
            check_update(acc, "po_lines", current["status"], change)
            line_changes[int(line["id"])] = change
    if not changes and not line_changes:
        return acc.get(res.name, current["id"])
    for line_id, change in line_changes.items():
        acc.write(
            lambda i=line_id, c=change: acc.hub.update_item("po_lines", i, c, fields=["id"]),
            "po_lines",
        )
    if changes:
        acc.write(
            lambda: acc.hub.update_item(res.collection, current["id"], changes, fields=["id"]),
            res.collection,
        )
    acc.record(
        "purchase_orders.acknowledge",
        res.collection,
        [current["id"]],
        {"changes": changes, "lines": {str(k): v for k, v in line_changes.items()}},
    )
    return acc.get(res.name, current["id"])


# -- shipments and invoices (the supplier's, against its orders) ------------------------


def _order_for(acc: WriteAccess, data: Row, allowed: frozenset[str], what: str) -> Row:
    """The order a shipment or invoice names, in the user's scope (else 403, audited),
    and in a status that takes it (else 409)."""
    (order,) = acc.require("purchase-orders", [data["purchase_order"]], "purchase_order")
    status = str(order["status"])
    if status not in allowed:
        raise Conflict(
            f"order {order['number']} is {status}: {what}",
            {"purchase_order": [f"the order is {status}"]},
        )
    return order


def _lines_named(
    acc: WriteAccess, order: Row, asked: Sequence[Row], document: str
) -> dict[int, Row]:
    """The order's lines, once every line ``asked`` names one of them (else 403, audited)
    and they are not more than the order has (else 422)."""
    own = _order_lines(acc, order["id"])
    if len(asked) > len(own):
        raise Invalid(
            f"the {document} has more lines than order {order['number']}",
            {"lines": [f"{len(asked)} lines; the order has {len(own)}"]},
        )
    unknown = [line["po_line"] for line in asked if int(line["po_line"]) not in own]
    if unknown:
        acc.deny("po_lines", unknown, "lines")
    return own


def _unused_number(
    acc: WriteAccess, name: str, order: Row, number: str, document: str
) -> list[Row]:
    """The order's earlier shipments or invoices (409 if one has this number already)."""
    earlier = acc.rows(name, {"purchase_order": {"_eq": order["id"]}}, fields=["id", "number"])
    if any(str(row["number"]) == number for row in earlier):
        raise Conflict(
            f"{document} {number} exists already on order {order['number']}",
            {"number": ["already used on this order"]},
        )
    return earlier


def create_shipment(acc: WriteAccess, res: Resource, data: Row) -> Row:
    """The supplier notices a shipment against one of its acknowledged orders: a carton
    (SSCC-18) per line shipped, whole units, no line of another order, no rejected line,
    one number per order. The order then becomes ``shipped`` once every line not
    rejected has shipped what it owes, else ``partially_shipped``."""
    order = _order_for(acc, data, PO_SHIPPABLE, "it ships once acknowledged")
    pair = acc.pair(order["partnership"])
    own = _lines_named(acc, order, data["lines"], "ship notice")
    refused = [
        str(own[int(x["po_line"])]["line_no"])
        for x in data["lines"]
        if own[int(x["po_line"])].get("answer") == "rejected"
    ]
    if refused:
        raise Invalid(
            f"line {', '.join(refused)}: rejected by you, it does not ship",
            {"lines": [f"line {n}: rejected" for n in refused]},
        )
    earlier = _unused_number(acc, "shipments", order, data["number"], "ship notice")
    shipped: Counter[int] = Counter()
    for line in acc.children_of("shipments", "lines", [row["id"] for row in earlier]):
        shipped[int(line["po_line"])] += int(line["qty_shipped"])
    for line in data["lines"]:
        shipped[int(line["po_line"])] += line["qty_shipped"]
    after = shipped_status(own.values(), shipped)
    header = {k: v for k, v in data.items() if k != "lines"}
    shipment = to_hub({**header, "status": "shipped", "partnership": pair.id})
    shipment["lines"] = [{**x, "partnership": pair.id} for x in data["lines"]]
    check_create(acc, res.collection, "shipped", shipment)
    for line in shipment["lines"]:
        check_create(acc, "shipment_lines", "shipped", line)
    move = {"status": after} if after != order["status"] else {}
    check_update(acc, "purchase_orders", order["status"], move)
    created = acc.write(
        lambda: acc.hub.create_item(res.collection, shipment, fields=["id"]), res.collection
    )
    key = created_id(created)
    if move:
        acc.write(
            lambda: acc.hub.update_item("purchase_orders", order["id"], move, fields=["id"]),
            "purchase_orders",
        )
    acc.record(
        "shipments.create",
        res.collection,
        [key],
        {
            "purchase_order": order["id"],
            "number": data["number"],
            "lines": len(shipment["lines"]),
            "order_status": after,
        },
    )
    return acc.get(res.name, key)


def create_invoice(acc: WriteAccess, res: Resource, data: Row) -> Row:
    """The supplier invoices one of its orders once something has shipped: in the order's
    currency, each line's amount its quantity times its unit price, the total their sum,
    all exact integers of minor units; no line of another order, one number per order."""
    order = _order_for(acc, data, PO_INVOICEABLE, "it is invoiced once something has shipped")
    pair = acc.pair(order["partnership"])
    own = _lines_named(acc, order, data["lines"], "invoice")
    _unused_number(acc, "invoices", order, data["number"], "invoice")
    lines = []
    for x in data["lines"]:
        amount = x["qty"] * x["unit_price_minor"]
        if amount > MAX_MINOR:
            number = own[int(x["po_line"])]["line_no"]
            raise Invalid(f"line {number}: the amount is out of range", {"lines": ["too large"]})
        lines.append({**x, "amount_minor": amount, "partnership": pair.id})
    total = sum(line["amount_minor"] for line in lines)
    if total > MAX_MINOR:
        raise Invalid("the invoice's total is out of range", {"lines": ["too large"]})
    header = {k: v for k, v in data.items() if k != "lines"}
    currency = str(order["currency"])
    invoice = to_hub(
        {
            **header,
            "total_minor": total,
            "currency": currency,
            "status": "open",
            "partnership": pair.id,
        }
    )
    invoice["lines"] = lines
    check_create(acc, res.collection, "open", invoice)
    for line in lines:
        check_create(acc, "invoice_lines", "open", line)
    created = acc.write(
        lambda: acc.hub.create_item(res.collection, invoice, fields=["id"]), res.collection
    )
    key = created_id(created)
    acc.record(
        "invoices.create",
        res.collection,
        [key],
        {"purchase_order": order["id"], "number": data["number"], "total_minor": total},
    )
    return acc.get(res.name, key)


# -- what account managers keep for their pairs (plans, risks, scorecards) -------------


def create_managed(acc: WriteAccess, res: Resource, data: Row) -> Row:
    pair = acc.pair(data["partnership"])
    row = to_hub({**data, "partnership": pair.id})
    rules = ownership.TABLE[res.collection]
    check_create(acc, res.collection, row.get(rules.status or "", rules.initial), row)
    created = acc.write(
        lambda: acc.hub.create_item(res.collection, row, fields=["id"]),
        res.collection,
    )
    key = created_id(created)
    acc.record(f"{res.collection}.create", res.collection, [key], {"pair": pair.id})
    return acc.get(res.name, key)


def update_managed(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    acc.pair(current["partnership"])
    changes = to_hub(data)
    status = ownership.TABLE[res.collection].status
    check_update(acc, res.collection, current.get(status) if status else None, changes)
    acc.write(
        lambda: acc.hub.update_item(res.collection, current["id"], changes, fields=["id"]),
        res.collection,
    )
    acc.record(
        f"{res.collection}.update", res.collection, [current["id"]], {"fields": sorted(changes)}
    )
    return acc.get(res.name, current["id"])


def add_child(acc: WriteAccess, res: Resource, child: Child, parent: Row, data: Row) -> Row:
    """A row under a parent of the user's pair: the parent and pair are the parent's own."""
    pair = acc.pair(parent["partnership"])
    row = to_hub({**data, child.parent_field: parent["id"], "partnership": pair.id})
    rules = ownership.TABLE[child.collection]
    if rules.status:
        gate = row.get(rules.status, rules.initial)
    else:
        # The parent's own status field gates it (a scorecard's is its ``source``).
        parent_status = ownership.TABLE[rules.parent[1]].status if rules.parent else None
        gate = parent.get(parent_status) if parent_status else None
    check_create(acc, child.collection, gate, row)
    created = acc.write(
        lambda: acc.hub.create_item(child.collection, row, fields=["id"]), child.collection
    )
    key = created_id(created)
    acc.record(
        f"{child.collection}.create",
        child.collection,
        [key],
        {"parent": parent["id"], "pair": pair.id},
    )
    return acc.child_row(res, child, key)


add_plan_child = add_child
add_scorecard_value = add_child


#: The side of a pair each partner role reports plan actions for.
ACTION_SIDE = {SUPPLIER_USER: "supplier", DISTRIBUTOR_USER: "distributor"}


def report_plan_action(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """A partner reports progress on an action of its own side (or naming it as owner):
    done (on the day it says, today by default), dropped, or open again. What else an
    action says is the account manager's to plan."""
    acc.pair(current["partnership"])
    mine = current.get("owner_side") == ACTION_SIDE.get(acc.actor.role)
    if not mine and str(current.get("owner") or "") != str(acc.actor.id):
        acc.deny(res.collection, [current["id"]], "owner_side")
    changes = to_hub(data)
    if changes.get("status") == "done" and not changes.get("completed_on"):
        changes["completed_on"] = clock.today().isoformat()
    if changes.get("status") == "open":
        changes["completed_on"] = None
    check_update(acc, res.collection, current.get("status"), changes)
    acc.write(
        lambda: acc.hub.update_item(res.collection, current["id"], changes, fields=["id"]),
        res.collection,
    )
    acc.record(
        f"{res.collection}.update", res.collection, [current["id"]], {"fields": sorted(changes)}
    )
    return acc.get(res.name, current["id"])


# -- a supplier's commitments per SKU x week ----------------------------------------------


def _commitment_rows(acc: WriteAccess, items: Sequence[Row]) -> list[Row]:
    """The hub rows of these commitments, checked: the user's pairs, each pair's
    supplier's SKUs, open weeks only (422 naming ``week_start``), one per SKU x week."""
    today = clock.today()
    rows: list[Row] = []
    seen: set[str] = set()
    for item in items:
        pair = acc.pair(item["partnership"])
        (sku,) = acc.require("skus", [item["sku"]], "sku", {"supplier": {"_eq": pair.supplier}})
        week = item["week_start"]
        if week.weekday() != 0:
            raise Invalid(
                f"week_start: {week} is a {week:%A}; a week is given by its Monday",
                {"week_start": [f"{week} is not a Monday"]},
            )
        reason = frozen_reason(week, today, int(sku["lead_time_days"]))
        if reason:
            raise Conflict(f"week_start: {reason}", {"week_start": [reason]})
        key = commitment_key(pair.id, int(sku["id"]), week)
        if key in seen:
            raise Invalid(
                f"week_start: SKU {sku['gtin']} · {sku['description']}: the week of {week} "
                "is given twice",
                {"week_start": ["given twice"]},
            )
        seen.add(key)
        row = to_hub({"partnership": pair.id, "sku": int(sku["id"]), "week_start": week,
                      "units": item["units"], "note": item.get("note")})  # fmt: skip
        check_create(acc, "commitments", None, row)
        rows.append({"id": key, **row})
    return rows


def set_commitments(acc: WriteAccess, items: Sequence[Row]) -> list[str]:
    """Make or change commitments, all or none; returns their keys.

    The hub makes a batch of new rows in one transaction and changes a batch of existing
    ones in another: the changes go first, and if the new rows are then refused, the
    changed rows are put back as they were."""
    rows = _commitment_rows(acc, items)
    keys = [r["id"] for r in rows]
    before = {
        str(r["id"]): r
        for r in acc.rows("commitments", {"id": {"_in": keys}}, fields=("id", "units", "note"))
    }
    changes = [
        {"id": r["id"], "units": r["units"], "note": r["note"]}
        for r in rows
        if r["id"] in before
        and (before[r["id"]]["units"], before[r["id"]]["note"]) != (r["units"], r["note"])
    ]
    new = [{k: v for k, v in r.items() if k != "id"} for r in rows if r["id"] not in before]
    if changes:
        acc.write(lambda: acc.hub.patch("/items/commitments", changes), "commitments")
    try:
        if new:
            acc.write(lambda: acc.hub.post("/items/commitments", new), "commitments")
    except Exception:
        if changes:
            undo = [{"id": c["id"], **{f: before[c["id"]][f] for f in ("units", "note")}}
                    for c in changes]  # fmt: skip
            acc.write(lambda: acc.hub.patch("/items/commitments", undo), "commitments")
        raise
    written = [c["id"] for c in changes] + [
        commitment_key(r["partnership"], r["sku"], dt.date.fromisoformat(r["week_start"]))
        for r in new
    ]
    if written:
        acc.record("commitments.set", "commitments", written,
                   {"new": len(new), "changed": len(changes)})  # fmt: skip
    return keys


def set_commitment(acc: WriteAccess, res: Resource, data: Row) -> Row:
    """One commitment (the API's create): made, or changed if its week has one."""
    (key,) = set_commitments(acc, [data])
    return acc.get(res.name, key)


def update_commitment(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    week = dt.date.fromisoformat(str(current["week_start"])[:10])
    merged = {**current, **data, "week_start": week, "note": data.get("note", current["note"])}
    (key,) = set_commitments(acc, [merged])
    return acc.get(res.name, key)


# -- CPFR exceptions ------------------------------------------------------------------------


def move_exception(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """Either side moves one of its pair's exceptions, with its status event in the same
    hub write; a dismissal says why. The hub stamps when it closed."""
    acc.pair(current["partnership"])
    status, resolution = data["status"], (data.get("resolution") or "").strip() or None
    if status == "dismissed" and resolution is None:
        raise Invalid("resolution: a dismissed exception says why", {"resolution": ["say why"]})
    event = {"partnership": current["partnership"], "kind": "status", "status": status,
             "comment": resolution}  # fmt: skip
    change: Row = {"status": status, "events": {"create": [event], "update": [], "delete": []}}
    if resolution is not None:
        change["resolution"] = resolution
    check_update(acc, res.collection, current["status"], change)
    acc.write(
        lambda: acc.hub.update_item(res.collection, current["id"], change, fields=["id"]),
        res.collection,
    )
    acc.record("exceptions.move", res.collection, [current["id"]], {"status": status})
    return acc.get(res.name, current["id"])


def comment_on_exception(
    acc: WriteAccess, res: Resource, child: Child, parent: Row, data: Row
) -> Row:
    """A comment on one of the user's pairs' exceptions, from either side or a manager."""
    return add_child(acc, res, child, parent, {"kind": "comment", "comment": data["comment"]})


def mark_notification(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """The user marks one of its notifications read, or unread again."""
    read_at = now() if data["read"] else None
    acc.write(
        lambda: acc.hub.update_item(res.collection, current["id"], {"read_at": read_at},
                                    fields=["id"]),
        res.collection,
    )  # fmt: skip
    return acc.get(res.name, current["id"])
