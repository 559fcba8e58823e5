"""Who writes what on a pair's shared records: one table, enforced at every door.

For each pair-bound collection: which role (supplier, distributor, account manager) may
set which fields when it creates a record, which fields it may change in which status,
which status moves it may make, and in which status it may delete. A ``partnership``
never changes once a record exists, whoever asks (the operator's admins aside).

The portal's writes (:mod:`portal.data.writes`) check this table before they call the
hub; the hub checks it again in its integrity hook, so a partner writing through the
hub's REST API with its own login meets the same rules. The hook reads
``directus/extensions/tandem-integrity/ownership.json``, which is this table as JSON
(``python -m domain.ownership`` prints it; a test keeps the two equal). The policies'
field lists (``migrations/``) grant the same fields, and a test compares them too.

A child without a status of its own (a PO line, a promotion's SKU) is gated by its
parent's status: a PO line changes while its order is open, a promotion's SKUs while
its terms are open.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.exceptions import CLOSED as EXCEPTION_CLOSED
from domain.exceptions import MOVES as EXCEPTION_MOVES
from domain.exceptions import STATUSES as EXCEPTION_STATUSES
from domain.forecasts import HORIZONS
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, HUB_ROLE_NAMES, SUPPLIER_USER

#: The fields nobody changes once a record exists.
IMMUTABLE = frozenset({"partnership"})

#: The roles this table gives rights to; any other non-admin caller has none.
PARTIES = (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)

SIDE = {
    SUPPLIER_USER: "the supplier",
    DISTRIBUTOR_USER: "the distributor",
    ACCOUNT_MANAGER: "the account manager",
}


@dataclass(frozen=True)
class Grant:
    """Fields a role may write while the record (or its parent) is in one of ``when``
    (``None``: in any status)."""

    fields: frozenset[str]
    when: frozenset[str] | None = None

    def allows(self, name: str, status: str | None) -> bool:
        return name in self.fields and (self.when is None or status in self.when)


@dataclass(frozen=True)
class Owned:
    """One collection's rules. ``status`` names its own status field; ``parent`` the
    ``(field, collection)`` whose status gates a child that has none. On create, a
    grant's ``when`` lists the statuses a record may start in (its own; ``initial`` when
    the payload has none), or its parent's statuses for a child."""

    statuses: tuple[str, ...] = ()
    status: str | None = None
    initial: str | None = None
    parent: tuple[str, str] | None = None
    create: Mapping[str, Grant] = field(default_factory=dict)
    update: Mapping[str, tuple[Grant, ...]] = field(default_factory=dict)
    moves: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    delete: Mapping[str, frozenset[str] | None] = field(default_factory=dict)

    def fields(self) -> frozenset[str]:
        """Every field some role writes after creation (the status among them)."""
        names = {f for grants in self.update.values() for g in grants for f in g.fields}
        if self.moves:
            names.add(self.status or "status")
        return frozenset(names)


def _set(*names: str) -> frozenset[str]:
    return frozenset(names)


def _moves(**table: Iterable[str]) -> dict[str, frozenset[str]]:
    return {old: frozenset(new) for old, new in table.items()}


S, D, M = SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER

PROMOTION_STATUSES = ("draft", "submitted", "accepted", "declined", "cancelled")
#: A promotion's terms (and its SKUs and locations) change only while it is open.
PROMOTION_TERMS = _set("name", "type", "mechanics", "start_date", "end_date", "expected_uplift_pct")
TERMS_OPEN = _set("draft", "submitted", "declined")

PO_STATUSES = (
    "open",
    "acknowledged",
    "rejected",
    "partially_shipped",
    "shipped",
    "received",
    "cancelled",
)
#: The supplier promises (and re-promises) dates while an order is open or acknowledged.
PROMISABLE = _set("open", "acknowledged")
PROMISE = _set("promised_date", "original_promised_date", "revised_date")

SHIPMENT_STATUSES = ("shipped", "received")
INVOICE_STATUSES = ("open", "paid")
PLAN_STATUSES = ("draft", "active", "closed")
ACTION_STATUSES = ("open", "done", "dropped")
RISK_STATUSES = ("open", "mitigating", "closed")
SCORECARD_SOURCES = ("manual", "computed")


def _any_move(statuses: tuple[str, ...]) -> dict[str, frozenset[str]]:
    return {s: frozenset(statuses) - {s} for s in statuses}


TABLE: dict[str, Owned] = {
    "promotions": Owned(
        statuses=PROMOTION_STATUSES,
        status="status",
        initial="draft",
        create={
            D: Grant(
                PROMOTION_TERMS | _set("status", "partnership", "skus", "locations", "history"),
                _set("draft", "submitted"),
            )
        },
        update={
            # history: a status move and its history row are one hub write.
            D: (Grant(PROMOTION_TERMS, TERMS_OPEN), Grant(_set("history"))),
            S: (Grant(_set("supplier_comment", "history"), _set("submitted")),),
        },
        moves={
            D: _moves(
                draft=("submitted", "cancelled"),
                submitted=("draft", "cancelled"),
                declined=("draft", "submitted", "cancelled"),
                accepted=("cancelled",),
            ),
            S: _moves(submitted=("accepted", "declined")),
        },
        delete={D: _set("draft")},
    ),
    "promotion_skus": Owned(
        parent=("promotion", "promotions"),
        create={D: Grant(_set("sku", "promotion", "partnership"), TERMS_OPEN)},
        update={D: (Grant(_set("sku"), TERMS_OPEN),)},
        delete={D: TERMS_OPEN},
    ),
    "promotion_locations": Owned(
        parent=("promotion", "promotions"),
        create={D: Grant(_set("location", "promotion", "partnership"), TERMS_OPEN)},
        update={D: (Grant(_set("location"), TERMS_OPEN),)},
        delete={D: TERMS_OPEN},
    ),
    "promotion_events": Owned(
        create={
            role: Grant(_set("status", "comment", "at", "actor", "promotion", "partnership"))
            for role in (S, D)
        },
    ),
    "purchase_orders": Owned(
        statuses=PO_STATUSES,
        status="status",
        initial="open",
        create={
            D: Grant(
                _set(
                    "number",
                    "status",
                    "ordered_on",
                    "requested_date",
                    "currency",
                    "ship_to",
                    "partnership",
                    "lines",
                ),
                _set("open"),
            )
        },
        update={
            D: (Grant(_set("requested_date", "ship_to"), _set("open")),),
            S: (Grant(PROMISE | _set("acknowledged_at"), PROMISABLE),),
        },
        moves={
            D: _moves(
                open=("cancelled",),
                acknowledged=("cancelled",),
                rejected=("cancelled",),
                partially_shipped=("cancelled",),
                shipped=("received",),
            ),
            S: _moves(
                open=("acknowledged", "rejected"),
                acknowledged=("rejected", "partially_shipped", "shipped"),
                partially_shipped=("shipped",),
            ),
        },
    ),
    "po_lines": Owned(
        parent=("purchase_order", "purchase_orders"),
        create={
            D: Grant(
                _set(
                    "line_no",
                    "qty_ordered",
                    "unit_cost_minor",
                    "sku",
                    "purchase_order",
                    "partnership",
                ),
                _set("open"),
            )
        },
        update={
            D: (Grant(_set("qty_ordered", "unit_cost_minor"), _set("open")),),
            S: (Grant(PROMISE | _set("qty_promised", "answer", "answer_reason"), PROMISABLE),),
        },
    ),
    "shipments": Owned(
        statuses=SHIPMENT_STATUSES,
        status="status",
        initial="shipped",
        create={
            S: Grant(
                _set(
                    "number",
                    "status",
                    "ship_date",
                    "expected_delivery",
                    "purchase_order",
                    "partnership",
                    "lines",
                ),
                _set("shipped"),
            )
        },
        update={
            S: (Grant(_set("number", "ship_date", "expected_delivery"), _set("shipped")),),
            D: (Grant(_set("received_date"), _set("shipped", "received")),),
        },
        moves={D: _moves(shipped=("received",))},
    ),
    "shipment_lines": Owned(
        parent=("shipment", "shipments"),
        create={
            S: Grant(
                _set("qty_shipped", "sscc", "shipment", "po_line", "partnership"), _set("shipped")
            )
        },
        update={
            S: (Grant(_set("qty_shipped", "sscc"), _set("shipped")),),
            D: (Grant(_set("qty_received"), _set("shipped", "received")),),
        },
    ),
    "invoices": Owned(
        statuses=INVOICE_STATUSES,
        status="status",
        initial="open",
        create={
            S: Grant(
                _set(
                    "number",
                    "invoice_date",
                    "due_date",
                    "total_minor",
                    "currency",
                    "status",
                    "purchase_order",
                    "partnership",
                    "lines",
                ),
                _set("open"),
            )
        },
        update={
            S: (
                Grant(
                    _set("number", "invoice_date", "due_date", "total_minor", "currency"),
                    _set("open"),
                ),
            )
        },
        moves={D: _moves(open=("paid",))},
    ),
    "invoice_lines": Owned(
        parent=("invoice", "invoices"),
        create={
            S: Grant(
                _set(
                    "qty", "unit_price_minor", "amount_minor", "invoice", "po_line", "partnership"
                ),
                _set("open"),
            )
        },
        update={
            S: (Grant(_set("qty", "unit_price_minor", "amount_minor", "po_line"), _set("open")),)
        },
    ),
    "business_plans": Owned(
        statuses=PLAN_STATUSES,
        status="status",
        initial="draft",
        create={
            M: Grant(
                _set("year", "targets", "sponsors", "status", "events", "partnership"),
                _set(*PLAN_STATUSES),
            )
        },
        update={M: (Grant(_set("targets", "sponsors", "events")),)},
        moves={M: _any_move(PLAN_STATUSES)},
        delete={M: None},
    ),
    # A quarterly revision is a version: made once (the hub stamps who and when), never
    # changed or deleted.
    "plan_revisions": Owned(
        create={M: Grant(_set("quarter", "targets", "notes", "revised_on", "plan", "partnership"))},
    ),
    "plan_actions": Owned(
        statuses=ACTION_STATUSES,
        status="status",
        initial="open",
        create={
            M: Grant(
                _set(
                    "title",
                    "owner_side",
                    "owner",
                    "due_date",
                    "status",
                    "completed_on",
                    "plan",
                    "partnership",
                ),
                _set(*ACTION_STATUSES),
            )
        },
        update={
            M: (Grant(_set("title", "owner_side", "owner", "due_date", "completed_on")),),
            # The action's owner, on either side, reports it done (the policies pin the
            # owner); the manager plans it.
            S: (Grant(_set("completed_on")),),
            D: (Grant(_set("completed_on")),),
        },
        moves={
            M: _any_move(ACTION_STATUSES),
            S: _moves(open=("done", "dropped"), done=("open",)),
            D: _moves(open=("done", "dropped"), done=("open",)),
        },
        delete={M: None},
    ),
    "risks": Owned(
        statuses=RISK_STATUSES,
        status="status",
        initial="open",
        create={
            M: Grant(
                _set(
                    "title",
                    "description",
                    "category",
                    "likelihood",
                    "impact",
                    "mitigation",
                    "review_date",
                    "status",
                    "supplier_owner",
                    "distributor_owner",
                    "partnership",
                ),
                _set(*RISK_STATUSES),
            )
        },
        update={
            M: (
                Grant(
                    _set(
                        "title",
                        "description",
                        "category",
                        "likelihood",
                        "impact",
                        "mitigation",
                        "review_date",
                        "supplier_owner",
                        "distributor_owner",
                    )
                ),
            )
        },
        moves={M: _any_move(RISK_STATUSES)},
        delete={M: None},
    ),
    # The scorecards.compute job writes computed scorecards (as a service, outside this
    # table); a manager keeps manual ones, and never writes a computed one or its values.
    "scorecards": Owned(
        statuses=SCORECARD_SOURCES,
        status="source",
        initial="manual",
        create={
            M: Grant(
                _set("period_start", "period_end", "label", "partnership", "values", "source"),
                _set("manual"),
            )
        },
        update={M: (Grant(_set("period_start", "period_end", "label"), _set("manual")),)},
        delete={M: _set("manual")},
    ),
    # A CPFR exception, found by the exceptions job (a service): either side moves it
    # (domain/exceptions.py, MOVES) and says what closed it; the hook stamps when.
    "exceptions": Owned(
        statuses=EXCEPTION_STATUSES,
        status="status",
        initial="open",
        update={role: (Grant(_set("resolution", "events")),) for role in (S, D)},
        moves={role: EXCEPTION_MOVES for role in (S, D)},
    ),
    # Its history: a comment from either side or a manager; a status event with its move.
    "exception_events": Owned(
        parent=("exception", "exceptions"),
        create={
            role: Grant(_set("kind", "status", "comment", "exception", "partnership"))
            for role in (S, D, M)
        },
    ),
    # The supplier's answer to the pair's forecast, per SKU x week (see FROZEN).
    "commitments": Owned(
        create={S: Grant(_set("units", "note", "sku", "week_start", "partnership"))},
        update={S: (Grant(_set("units", "note")),)},
    ),
    "scorecard_values": Owned(
        parent=("scorecard", "scorecards"),
        create={
            M: Grant(
                _set(
                    "kpi",
                    "variant",
                    "value",
                    "numerator",
                    "denominator",
                    "scorecard",
                    "partnership",
                ),
                _set("manual"),
            )
        },
        update={
            M: (Grant(_set("kpi", "variant", "value", "numerator", "denominator"), _set("manual")),)
        },
        delete={M: _set("manual")},
    ),
}


#: collection -> the fields the hook stamps when a record's status closes (when, and the
#: hours from detection) and clears when it reopens; no side writes them.
STAMPED: dict[str, tuple[str, str]] = {"exceptions": ("closed_at", "hours_to_close")}

#: collection -> (its week field, its SKU field, its units field): a record for a week
#: inside the SKU's lead time (domain.forecasts.frozen_reason) is neither made nor changed
#: by a partner. The hook also keeps its units as they stood each of HORIZONS weeks before
#: its week (``<units>_h<n>``), which no partner writes.
FROZEN: dict[str, tuple[str, str, str]] = {"commitments": ("week_start", "sku", "units")}


# -- the rules, as the portal asks them (the hook asks the same of ownership.json) -------


def owners(collection: str, name: str) -> list[str]:
    """The roles that may ever change this field of a record of the collection."""
    rules = TABLE[collection]
    if name == rules.status and rules.moves:
        return [r for r in PARTIES if r in rules.moves]
    return [r for r in PARTIES if any(name in g.fields for g in rules.update.get(r, ()))]


def may_move(role: str, collection: str, old: str, new: str) -> bool:
    """Whether ``role`` may move a record from status ``old`` to ``new`` (staying put is
    no move)."""
    return old == new or new in TABLE[collection].moves.get(role, {}).get(old, frozenset())


def moves_from(role: str, collection: str, old: str) -> frozenset[str]:
    """The statuses ``role`` may move a record to from ``old`` (``old`` itself included)."""
    return frozenset({old}) | TABLE[collection].moves.get(role, {}).get(old, frozenset())


def targets(role: str, collection: str) -> frozenset[str]:
    """Every status ``role`` ever moves a record of the collection to."""
    return frozenset(s for news in TABLE[collection].moves.get(role, {}).values() for s in news)


def writable_in(role: str, collection: str, name: str) -> frozenset[str] | None:
    """The statuses in which ``role`` may change the field (``None``: any; empty: never)."""
    grants = [g for g in TABLE[collection].update.get(role, ()) if name in g.fields]
    if any(g.when is None for g in grants):
        return None
    return frozenset(s for g in grants for s in g.when or ())


def _where(collection: str, status: str | None) -> str:
    rules = TABLE[collection]
    if rules.parent and status is not None:
        return f"while its {rules.parent[0].replace('_', ' ')} is {status}"
    return f"while it is {status}" if status is not None else ""


def update_refusals(
    role: str, collection: str, status: str | None, changes: Mapping[str, object]
) -> dict[str, str]:
    """Why ``role`` may not make these changes to a record whose status (or parent's
    status) is ``status``: field -> reason; empty if it may."""
    rules = TABLE[collection]
    noun = collection.removesuffix("s").replace("_", " ")
    refused: dict[str, str] = {}
    for name, value in changes.items():
        if name in IMMUTABLE:
            refused[name] = "never changes once the record exists"
        elif name == rules.status and rules.moves:
            if not may_move(role, collection, str(status), str(value)):
                refused[name] = (
                    f"{SIDE.get(role, role)} may not move a {noun} from {status} to {value}"
                )
        elif not any(g.allows(name, status) for g in rules.update.get(role, ())):
            who = owners(collection, name)
            if role in who:
                refused[name] = f"fixed {_where(collection, status)}".strip()
            elif who:
                refused[name] = f"written by {' or '.join(SIDE[r] for r in who)} only"
            else:
                refused[name] = "fixed once the record exists"
    return refused


def create_refusals(
    role: str, collection: str, status: str | None, names: Iterable[str]
) -> dict[str, str]:
    """Why ``role`` may not create a record with these fields, starting in (or under a
    parent in) ``status``: field -> reason; empty if it may."""
    rules = TABLE[collection]
    grant = rules.create.get(role)
    names = list(names)
    if grant is None:
        return {names[0] if names else "id": f"{SIDE.get(role, role)} does not create these"}
    refused = {
        n: f"written by {' or '.join(SIDE[r] for r in owners(collection, n)) or 'nobody'} only"
        for n in names
        if n not in grant.fields
    }
    if grant.when is not None and status not in grant.when:
        gate = rules.status or (rules.parent[0] if rules.parent else "status")
        if rules.status:
            refused[gate] = (
                f"a {collection.removesuffix('s')} starts as {' or '.join(sorted(grant.when))}"
            )
        else:
            refused[gate] = f"fixed {_where(collection, status)}".strip()
    return refused


def delete_refusal(role: str, collection: str, status: str | None) -> str | None:
    """Why ``role`` may not delete a record in (or under a parent in) ``status``."""
    rules = TABLE[collection]
    if role not in rules.delete:
        return f"{SIDE.get(role, role)} does not delete these"
    when = rules.delete[role]
    if when is not None and status not in when:
        return f"kept {_where(collection, status)}".strip()
    return None


def as_data() -> dict[str, object]:
    """The table as plain JSON data, for the hub's hook."""

    def grant(g: Grant) -> dict[str, object]:
        return {"fields": sorted(g.fields), "when": None if g.when is None else sorted(g.when)}

    return {
        "immutable": sorted(IMMUTABLE),
        "roles": {HUB_ROLE_NAMES[r]: r for r in PARTIES},
        "sides": {r: SIDE[r] for r in PARTIES},
        "frozen": {name: list(fields) for name, fields in sorted(FROZEN.items())},
        "horizons": list(HORIZONS),
        "closed": {
            name: {"statuses": sorted(EXCEPTION_CLOSED), "stamps": list(stamps)}
            for name, stamps in sorted(STAMPED.items())
        },
        "collections": {
            name: {
                "statuses": list(o.statuses),
                "status": o.status,
                "initial": o.initial,
                "parent": list(o.parent) if o.parent else None,
                "create": {r: grant(g) for r, g in sorted(o.create.items())},
                "update": {r: [grant(g) for g in gs] for r, gs in sorted(o.update.items())},
                "moves": {
                    r: {old: sorted(new) for old, new in sorted(m.items())}
                    for r, m in sorted(o.moves.items())
                },
                "delete": {
                    r: None if w is None else sorted(w) for r, w in sorted(o.delete.items())
                },
            }
            for name, o in sorted(TABLE.items())
        },
    }


def as_json() -> str:
    """The text of ``directus/extensions/tandem-integrity/ownership.json``."""
    return json.dumps(as_data(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(as_json(), end="")
