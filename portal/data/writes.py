"""The writes each role may make, with their business rules.

Input arrives already validated by the resource's schema (types, enums, field sets per
role). Here: every record the request names must be in the user's scope (the pair, its
supplier's SKUs, its distributor's locations, the PO's own lines), each side writes only
the fields and makes only the status moves the ownership table gives it
(:mod:`domain.ownership`, which the hub's integrity hook enforces too), and the first
promised date of a PO is kept as the original commitment. Each successful write leaves
one audit entry naming the records written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from directus import HubClient
from domain import clock, ownership
from domain.orders import promise_changes
from domain.roles import DISTRIBUTOR_USER
from portal.data.errors import Conflict, HubFailed, Invalid
from portal.data.registry import Child, Resource, Write
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


#: Promotion status a distributor may move to, from each status (itself included), as
#: the ownership table says (the promotion page offers these).
DISTRIBUTOR_PROMOTION_MOVES: dict[str, frozenset[str]] = {
    status: ownership.moves_from(DISTRIBUTOR_USER, "promotions", status)
    for status in ownership.PROMOTION_STATUSES
}
#: Promotion status in which a distributor may still change the terms.
PROMOTION_TERMS_OPEN = ownership.TERMS_OPEN


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
    """The payload as the hub takes it: dates as ISO text."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()}


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


def acknowledge_purchase_order(acc: WriteAccess, res: Resource, current: Row, data: Row) -> Row:
    """The supplier acknowledges (or rejects) a PO, promising a date per order and line."""
    status = data.get("status")
    promised: dt.date | None = data.get("promised_date")
    first = current.get("original_promised_date") is None and current.get("promised_date") is None
    if status == "acknowledged" and promised is None and first:
        raise Invalid(
            "acknowledging an order needs a promised date",
            {"promised_date": ["required to acknowledge"]},
        )
    if status == "rejected" and (promised is not None or data.get("lines")):
        raise Invalid("a rejection promises nothing", {"status": ["reject without promises"]})
    changes: Row = {}
    if promised is not None:
        changes.update(promise_changes(current, promised))
    if status and status != current["status"]:
        changes["status"] = status
    if status == "acknowledged" and not current.get("acknowledged_at"):
        changes["acknowledged_at"] = now()
    check_update(acc, res.collection, current["status"], changes)

    line_changes: dict[int, Row] = {}
    if data.get("lines"):
        lines = res.child("lines")
        assert lines is not None
        own = {
            int(r["id"]): r
            for r in acc.children_rows(res, lines, current["id"], limit=-1, offset=0)
        }
        unknown = [line["id"] for line in data["lines"] if int(line["id"]) not in own]
        if unknown:
            acc.deny("po_lines", unknown, "lines")
        for line in data["lines"]:
            row = own[int(line["id"])]
            change: Row = {}
            if "qty_promised" in line:
                change["qty_promised"] = line["qty_promised"]
            if line.get("promised_date") is not None:
                change.update(promise_changes(row, line["promised_date"]))
            if change:
                check_update(acc, "po_lines", current["status"], change)
                line_changes[int(line["id"])] = change
    if not changes and not line_changes:
        return acc.get(res.name, current["id"])
    if changes:
        acc.write(
            lambda: acc.hub.update_item(res.collection, current["id"], changes, fields=["id"]),
            res.collection,
        )
    for line_id, change in line_changes.items():
        acc.write(
            lambda i=line_id, c=change: acc.hub.update_item("po_lines", i, c, fields=["id"]),
            "po_lines",
        )
    acc.record(
        "purchase_orders.acknowledge",
        res.collection,
        [current["id"]],
        {"changes": changes, "lines": {str(k): v for k, v in line_changes.items()}},
    )
    return acc.get(res.name, current["id"])


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
        gate = parent.get("status") if rules.parent else None
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
