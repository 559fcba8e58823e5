"""The exceptions journey's pages.

Both sides of a pair and its account managers see the pair's exceptions, the open ones
first by due time, with filters (partner, status, owner side, criterion); each one's
criterion, the figures that triggered it, whether its condition has cleared, and its
history. Either side moves it (acknowledge, resolve, dismiss with a reason, reopen); each
of them and the pair's managers comment. The rules are :mod:`domain.exceptions` and the
ownership table; every read and write goes through the data layer as the signed-in user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from domain import clock
from domain import exceptions as rules
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.auth import role_required
from portal.data import DataAccess, DataError, alerts, insights
from portal.data.registry import INT_KEY
from portal.pages import access, add_nav, answer_errors_as_pages, flat, list_filters, refusal
from portal.schemas.exceptions import ExceptionComment, ExceptionMove

bp = Blueprint("exceptions", __name__, url_prefix="/exceptions")
answer_errors_as_pages(bp)

READERS = (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
MOVERS = (SUPPLIER_USER, DISTRIBUTOR_USER)
PER_PAGE = 50
STATUS_LABELS = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "dismissed": "Dismissed",
}
MOVE_LABELS = {
    "acknowledged": "Acknowledge",
    "resolved": "Resolve",
    "dismissed": "Dismiss",
    "open": "Reopen",
}
SIDE = {SUPPLIER_USER: "supplier", DISTRIBUTOR_USER: "distributor"}


def _at(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _names(acc: DataAccess, rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[int, str]]:
    """The criteria, SKUs, stores and orders the rows name, by id, as the user reads them:
    a SKU by its name and GTIN, a store by its name and code."""
    rows = list(rows)

    def read(
        res: str, name: str, fields: tuple[str, ...], label: Callable[[Mapping[str, Any]], str]
    ) -> dict[int, str]:
        keys = sorted({int(r[name]) for r in rows if r.get(name) is not None})
        if not keys:
            return {}
        found = acc.rows(res, {"id": {"_in": keys}}, fields=("id", *fields))
        return {int(r["id"]): label(r) for r in found}

    return {
        "criterion": read("exception-criteria", "criterion", ("name",), lambda r: r["name"]),
        "sku": read("skus", "sku", ("description", "gtin"), insights.sku_label),
        "location": read("locations", "location", ("name", "code"), insights.location_label),
        "purchase_order": read(
            "purchase-orders", "purchase_order", ("number",), lambda r: r["number"]
        ),
    }


def overdue(row: Mapping[str, Any], now: dt.datetime) -> bool:
    """Still to be answered, and past its due time."""
    due = _at(row.get("due_at"))
    return row["status"] not in rules.CLOSED and due is not None and due < now


def describe(row: Mapping[str, Any], names: Mapping[str, Mapping[int, str]]) -> str:
    """What an exception is about, in words."""
    parts = []
    if row.get("sku") is not None:
        parts.append(names["sku"].get(int(row["sku"]), "a SKU you no longer see"))
    if row.get("week_start"):
        parts.append(f"week of {str(row['week_start'])[:10]}")
    if row.get("location") is not None:
        parts.append(names["location"].get(int(row["location"]), "a store you no longer see"))
    if row.get("purchase_order") is not None:
        order = int(row["purchase_order"])
        parts.append(f"order {names['purchase_order'].get(order, order)}")
    return ", ".join(parts) or str(row["subject"])


@bp.get("")
@role_required(*READERS)
def index() -> Any:
    """The pair's exceptions: by default those still open or acknowledged, soonest due
    first; the filters narrow them."""
    acc = access()
    keys = ("status", "partnership", "owner_side", "criterion", "page")
    query, errors = list_filters("exceptions", keys)
    chosen = {k: v for k, v in query.items() if k != "page"}
    where = None if "status" in chosen else {"status": {"_in": ["open", "acknowledged"]}}
    page = acc.list(
        "exceptions",
        {**chosen, "page": int(query.get("page", 1)), "per_page": PER_PAGE, "sort": "due_at"},
        where,
    )
    now = clock.now()
    names = _names(acc, page.rows)
    shown = [
        {**r, "about": describe(r, names), "overdue": overdue(r, now),
         "criterion_name": names["criterion"].get(int(r["criterion"]), "?")}
        for r in page.rows
    ]  # fmt: skip
    criteria = {
        int(c["id"]): str(c["name"])
        for c in acc.rows("exception-criteria", {}, fields=("id", "name"))
    }
    unread = acc.count("notifications", {"read_at": {"_null": True}})
    return render_template(
        "exceptions/list.html",
        rows=shown,
        page=page,
        pages=max(1, -(-page.total // PER_PAGE)),
        labels=insights.pair_labels(acc),
        filters={k: str(v) for k, v in chosen.items()},
        criteria=criteria,
        errors=errors,
        statuses=STATUS_LABELS,
        mine=SIDE.get(acc.role),
        unread=unread,
    ), (422 if errors else 200)


def _detail(key: int, *, errors: Mapping[str, list[str]] | None = None,
            error: str | None = None, status: int = 200) -> tuple[str, int]:  # fmt: skip
    acc = access()
    row = acc.get("exceptions", key)
    names = _names(acc, [row])
    (criterion,) = acc.rows("exception-criteria", {"id": {"_eq": row["criterion"]}}) or [None]
    described = rules.Criterion.from_row(criterion).describe() if criterion else ""
    (pair,) = acc.rows("partnerships", {"id": {"_eq": row["partnership"]}},
                       fields=("id", "escalation"))  # fmt: skip
    levels = rules.escalation_levels(((pair.get("escalation") or {}).get("levels")) or [])
    moves = (
        sorted(rules.MOVES.get(row["status"], ()), key=list(MOVE_LABELS).index)
        if acc.role in MOVERS
        else []
    )
    return render_template(
        "exceptions/detail.html",
        row=row,
        about=describe(row, names),
        criterion=criterion,
        described=described,
        label=insights.pair_labels(acc).get(int(row["partnership"]), ""),
        moves=[(m, MOVE_LABELS[m]) for m in moves],
        statuses=STATUS_LABELS,
        events=sorted(row.get("events") or [], key=lambda e: (str(e.get("at")), e["id"])),
        errors=errors or {},
        error=error,
        overdue=overdue(row, clock.now()),
        levels=levels,
    ), status


@bp.get(INT_KEY)
@role_required(*READERS)
def detail(key: int) -> Any:
    return _detail(key)


def _loaded(schema: type, view: str) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    try:
        form = {k: v for k, v in request.form.items() if k != "csrf_token"}
        return schema(view=view).load(form), {}
    except ValidationError as exc:
        messages = exc.normalized_messages()
        return None, {k: flat(v) for k, v in messages.items()}


@bp.post(f"{INT_KEY}/status")
@role_required(*MOVERS)
def move(key: int) -> Any:
    """Move the exception (the form's ``status``), with what closed it."""
    acc = access()
    data, errors = _loaded(ExceptionMove, acc.role)
    if data is None:
        return _detail(key, errors=errors, error="The move was refused; nothing was saved.",
                       status=422)  # fmt: skip
    try:
        acc.update("exceptions", key, data)
    except DataError as exc:
        problems, message = refusal(exc)
        return _detail(key, errors=problems, error=message, status=exc.status)
    flash(f"Exception {STATUS_LABELS[data['status']].lower()}.")
    return redirect(url_for("exceptions.detail", key=key))


@bp.post(f"{INT_KEY}/comment")
@role_required(*READERS)
def comment(key: int) -> Any:
    acc = access()
    data, errors = _loaded(ExceptionComment, acc.role)
    if data is None:
        return _detail(key, errors=errors, error="The comment was refused; nothing was saved.",
                       status=422)  # fmt: skip
    try:
        acc.create_child("exceptions", key, "events", data)
    except DataError as exc:
        problems, message = refusal(exc)
        return _detail(key, errors=problems, error=message, status=exc.status)
    flash("Comment added.")
    return redirect(url_for("exceptions.detail", key=key))


@bp.get("/notifications")
@role_required(*READERS)
def notifications() -> Any:
    """What the user has been told, unread first, newest first."""
    acc = access()
    page = acc.list("notifications", {"page": int(request.args.get("page", 1) or 1),
                                      "per_page": PER_PAGE, "sort": "-created_at"})  # fmt: skip
    rows = sorted(page.rows, key=lambda r: r.get("read_at") is not None)
    return render_template("exceptions/notifications.html", rows=rows, page=page,
                           pages=max(1, -(-page.total // PER_PAGE)),
                           alerting=alerts.settings(acc))  # fmt: skip


@bp.post("/notifications/alerts")
@role_required(*READERS)
def choose_alerts() -> Any:
    """The user's choice: no e-mail, each notification as it comes, or a daily digest."""
    choice = request.form.get("alerts", "")
    try:
        if choice == "off":
            alerts.choose(access(), False, alerts.settings(access())["digest"], current_user.email)
        else:
            alerts.choose(access(), True, choice, current_user.email)
    except DataError as exc:
        _, message = refusal(exc)
        flash(message)
        return redirect(url_for("exceptions.notifications"))
    flash("Your alert choice is saved.")
    return redirect(url_for("exceptions.notifications"))


@bp.post(f"/notifications{INT_KEY}/read")
@role_required(*READERS)
def read(key: int) -> Any:
    """Mark a notification read, then open what it is about."""
    acc = access()
    row = acc.update("notifications", key, {"read": True})
    if row.get("exception"):
        return redirect(url_for("exceptions.detail", key=int(row["exception"])))
    return redirect(url_for("exceptions.notifications"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "Exceptions", "exceptions.index", READERS, 34)
