"""What needs a user's attention first, for their home page: promotions and purchase
orders awaiting an answer, the CPFR exceptions its side owns, stale feeds, failed
imports and low stock. Governed reads only.

Each item has a stable key and a cause (:mod:`domain.attention`); a user may dismiss an
item or snooze it (:func:`set_aside`, a row of its own in ``attention_set_aside``), and
:func:`shown` leaves out what the user set aside until its cause changes or its snooze
ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain import clock
from domain.attention import SetAside, fingerprint, is_hidden, item_key
from domain.ingest import cadence_label
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.data import insights
from portal.data.access import DataAccess

PROMOTION_FIELDS = [
    "id", "name", "status", "start_date", "end_date", "supplier_comment", "type", "mechanics",
    "expected_uplift_pct",
]  # fmt: skip
#: A promotion's status and terms: a change to any of them is a new cause.
PROMOTION_CAUSE = PROMOTION_FIELDS[1:]
MAX_ITEMS = 10
SET_ASIDE = "attention_set_aside"


@dataclass(frozen=True)
class Item:
    """One thing to look at: ``kind`` says which page resolves it, ``ref`` which record,
    ``cause`` (a fingerprint) what made it an item: an item dismissed or snoozed comes
    back when its cause changes."""

    # promotion-answer | promotion-declined | orders-to-confirm | stale-feed | failed-import
    # | low-stock | exceptions; for a manager (portal.data.reviews) risk-review | plan-actions |
    # kpi-off-target
    kind: str
    title: str
    detail: str
    ref: dict[str, Any]
    cause: str = ""

    @property
    def key(self) -> str:
        return item_key(self.kind, self.ref)


def _promotions(acc: DataAccess, status: str) -> list[dict[str, Any]]:
    return acc.rows(
        "promotions",
        {"status": {"_eq": status}},
        fields=PROMOTION_FIELDS,
        sort=("start_date", "id"),
        limit=MAX_ITEMS,
    )


def _failed_imports(acc: DataAccess, since: str) -> list[dict[str, Any]]:
    """The distributor's own imports that failed since ``since`` (the hub's policy and
    this filter both hold it to its own organization)."""
    rows = acc.hub.read_items(
        "imports",
        filter={"_and": [{"distributor": {"_eq": acc.org}}, {"status": {"_eq": "failed"}},
                         {"created_at": {"_gte": since}}]},
        fields=["id", "filename", "error", "distributor"],
        sort=["-id"],
        limit=MAX_ITEMS,
    )  # fmt: skip
    return [r for r in rows if int(r["distributor"]) == acc.org]


def items(
    acc: DataAccess, stale_after_days: int, cache: insights.ReportCache = insights.NO_CACHE
) -> list[Item]:
    """The user's attention items, most urgent kind first."""
    role = acc.role
    out: list[Item] = []
    if role in (SUPPLIER_USER, ACCOUNT_MANAGER):
        for p in _promotions(acc, "submitted"):
            out.append(Item("promotion-answer", f"Answer the promotion “{p['name']}”",
                            f"runs {str(p['start_date'])[:10]} to {str(p['end_date'])[:10]}",
                            {"promotion": p["id"]}, _promotion_cause(p)))  # fmt: skip
    if role == SUPPLIER_USER:
        waiting = acc.count("purchase-orders", {"status": {"_eq": "open"}})
        if waiting:
            noun = "purchase order" if waiting == 1 else "purchase orders"
            out.append(Item("orders-to-confirm", f"{waiting} {noun} to confirm",
                            "open, awaiting your answer", {"status": "open"},
                            fingerprint(waiting)))  # fmt: skip
    if role in (SUPPLIER_USER, DISTRIBUTOR_USER):
        side = "supplier" if role == SUPPLIER_USER else "distributor"
        mine = {"_and": [{"owner_side": {"_eq": side}},
                         {"status": {"_in": ["open", "acknowledged"]}}]}  # fmt: skip
        owned = acc.count("exceptions", mine)
        if owned:
            late = acc.count(
                "exceptions", {"_and": [mine, {"due_at": {"_lt": clock.now().isoformat()}}]}
            )
            noun = "exception" if owned == 1 else "exceptions"
            out.append(Item("exceptions", f"{owned} {noun} your side owns",
                            f"{late} past due" if late else "none past due",
                            {"owner_side": side}, fingerprint(owned, late)))  # fmt: skip
    if role == DISTRIBUTOR_USER:
        for p in _promotions(acc, "declined"):
            why = p.get("supplier_comment") or "no comment"
            out.append(Item("promotion-declined", f"The supplier declined “{p['name']}”",
                            f"their comment: {why}", {"promotion": p["id"]},
                            _promotion_cause(p)))  # fmt: skip
    names = insights.org_names(acc, cache)
    today = clock.today()
    for feed in insights.feeds_with_staleness(acc, stale_after_days, today):
        if feed["stale"]:
            who = names.get(int(feed["distributor"]), f"#{feed['distributor']}")
            if feed["kind"] == "forecasts":  # it runs weeks ahead: its age is its delivery's
                since = str(feed.get("received_at") or "never")[:10]
                detail = f"last delivered {since}"
            else:
                since = str(feed.get("data_through") or "never")[:10]
                detail = f"data through {since}"
            if feed["expected"] is not None:
                how = f"{cadence_label(feed['cadence'])}, {feed['cadence_source']}"
                detail += f"; expected {feed['expected']} ({how})"
            else:
                detail += f"; stale after {feed['stale_after_days']} days"
            ref = {"distributor": int(feed["distributor"]), "kind": feed["kind"]}
            if role == ACCOUNT_MANAGER:  # its pages show one pair: that distributor's first
                pairs = [
                    p.id for p in acc.scope.pairs.values() if p.distributor == ref["distributor"]
                ]
                ref["pair"] = min(pairs) if pairs else None
            out.append(Item("stale-feed", f"{who}'s {feed['kind']} data is stale", detail, ref,
                            fingerprint(since)))  # fmt: skip
    if role == DISTRIBUTOR_USER:
        week_ago = (today - dt.timedelta(days=7)).isoformat()
        for imp in _failed_imports(acc, week_ago):
            out.append(Item("failed-import", f"Import of {imp['filename']} failed",
                            str(imp.get("error") or ""), {"import": imp["id"]},
                            fingerprint(imp.get("error"))))  # fmt: skip
    if role in (SUPPLIER_USER, DISTRIBUTOR_USER):
        first, last = insights.default_range(today, weeks=4)
        stock = insights.inventory(acc, insights.InsightQuery(first, last), cache, snapshot=today)
        low = [r for r in stock.rows if r.band is not None and r.band.value in ("out", "low")]
        if low:
            out_of_stock = sum(1 for r in low if r.band and r.band.value == "out")
            out.append(Item("low-stock", f"{len(low)} stores are low on stock or out",
                            f"{out_of_stock} out of stock, {len(low) - out_of_stock} under 4 weeks "
                            "of supply", {},
                            fingerprint(sorted(stock.stock_days.items()), len(low),
                                        out_of_stock)))  # fmt: skip
    return out


def _promotion_cause(p: dict[str, Any]) -> str:
    return fingerprint(*(p.get(name) for name in PROMOTION_CAUSE))


def _set_aside(acc: DataAccess) -> dict[str, tuple[int, SetAside]]:
    """The items the user set aside, by key: its row's id and choice. One read, of the
    user's own rows (the hub's policy holds it to them, and so does this filter)."""
    rows = acc.hub.read_items(
        SET_ASIDE, filter={"user": {"_eq": acc.actor.id}},
        fields=["id", "item_key", "cause", "until"], sort=["id"], limit=-1,
    )  # fmt: skip
    return {
        str(r["item_key"]): (int(r["id"]), SetAside(str(r["cause"]), _moment(r.get("until"))))
        for r in rows
    }


def _moment(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def shown(acc: DataAccess, found: list[Item]) -> list[Item]:
    """``found`` less what the user dismissed or snoozed, unless its cause changed or its
    snooze ended (:func:`domain.attention.is_hidden`)."""
    if not found:
        return found
    aside = _set_aside(acc)
    now = clock.now()
    return [i for i in found if not is_hidden(i.cause, aside.get(i.key, (0, None))[1], now)]


def set_aside(acc: DataAccess, key: str, cause: str, until: dt.datetime | None) -> None:
    """Dismiss the user's item ``key`` (``until`` None) or snooze it until ``until``, as
    it stands (``cause``): one row per user and item, made or changed with the user's own
    hub session."""
    mine = _set_aside(acc).get(key)
    change = {"cause": cause, "until": until.isoformat() if until else None}
    if mine is None:
        acc.write(lambda: acc.hub.create_item(SET_ASIDE, {"item_key": key, **change},
                                              fields=["id"]), SET_ASIDE)  # fmt: skip
    else:
        acc.write(lambda: acc.hub.update_item(SET_ASIDE, mine[0], change, fields=["id"]),
                  SET_ASIDE)  # fmt: skip
