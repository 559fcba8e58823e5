"""The promotion journey's pages.

A distributor keeps its promotion calendar: a list with filters, a month calendar, a form
to propose or change a promotion (as a draft, or submitted to the supplier), status
changes, and an Excel round trip: download a template with dropdowns, fill it, upload it,
see every row with its errors, and confirm a clean preview to submit all its promotions
at once. The supplier sees the promotions on its SKUs (never drafts), those awaiting its
answer first, and accepts or declines each with a comment. Both see a promotion's terms,
SKUs, locations and full history.

Every read and write goes through the data layer as the signed-in user; the rules live in
:mod:`domain.promotions`, the file handling in :mod:`portal.workbooks`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from domain import clock
from domain import promotions as rules
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.auth import role_required
from portal.config import Config
from portal.data import DataAccess, DataError, insights
from portal.data import writes as data_writes
from portal.data.access import resource
from portal.data.registry import INT_KEY
from portal.pages import (
    Choice,
    access,
    add_nav,
    answer_errors_as_pages,
    flat,
    list_filters,
    refusal,
    reports,
)
from portal.schemas.promotions import PromotionCreate, PromotionUpdate
from portal.workbooks import (
    MAX_ROWS,
    SHEET,
    TemplateChoices,
    UploadSpool,
    WorkbookError,
    build_template,
    preview,
    read_rows,
)
from portal.xlsx import xlsx_response

bp = Blueprint("promotions", __name__, url_prefix="/promotions")
answer_errors_as_pages(bp)

READERS = (DISTRIBUTOR_USER, SUPPLIER_USER, ACCOUNT_MANAGER)
PER_PAGE = 50
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted, awaiting the supplier",
    "accepted": "Accepted",
    "declined": "Declined",
    "cancelled": "Cancelled",
}
#: The distributor's status buttons: target status -> label.
MOVES = {
    "submitted": "Submit to supplier",
    "draft": "Back to draft",
    "cancelled": "Cancel promotion",
}


def counted(n: int, word: str) -> str:
    """``1 promotion``, ``2 promotions``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _config() -> Config:
    return current_app.extensions["tandem.config"]


# -- reference data, through the data layer ------------------------------------------------


def reference(acc: DataAccess, window: tuple[dt.date, dt.date] | None = None) -> rules.Reference:
    """The distributor's partners, their active SKUs (with its item codes), its active
    stores, and (if a window is given) its promotions booked in that window."""
    names = insights.org_names(acc, reports())
    partners = tuple(
        rules.Partner(int(p["id"]), int(p["supplier"]), names.get(int(p["supplier"]), "?"))
        for p in acc.iter_rows("partnerships", {"distributor": acc.org, "status": "active"})
    )
    suppliers = {p.supplier for p in partners}
    codes = {
        int(c["sku"]): c["item_code"] for c in acc.iter_rows("sku-codes", {"distributor": acc.org})
    }
    skus = tuple(
        rules.Sku(
            int(s["id"]),
            s["gtin"],
            int(s["supplier"]),
            int(s["lead_time_days"] or 0),
            s.get("description") or "",
            codes.get(int(s["id"]), ""),
        )
        for s in acc.iter_rows("skus", {"status": "active", "sort": "gtin"})
        if int(s["supplier"]) in suppliers
    )
    locations = tuple(
        rules.Location(int(x["id"]), x["code"], x.get("name") or "")
        for x in acc.iter_rows(
            "locations", {"distributor": acc.org, "kind": "store", "sort": "ref"}
        )
        if x.get("status", "active") == "active"
    )
    booked = booked_in(acc, *window) if window else ()
    return rules.Reference(partners, skus, locations, booked)


def booked_in(acc: DataAccess, first: dt.date, last: dt.date) -> tuple[rules.Booked, ...]:
    """The user's promotions that hold SKUs and locations on some day of the window."""
    rows = [
        row
        for row in acc.iter_rows("promotions", {"starts_to": last})
        if row["status"] in rules.BOOKING_STATUSES
        and dt.date.fromisoformat(str(row["end_date"])[:10]) >= first
    ]
    keys = [int(row["id"]) for row in rows]
    held: dict[tuple[str, int], set[int]] = defaultdict(set)
    for child, field in (("skus", "sku"), ("locations", "location")):
        for link in acc.children_of("promotions", child, keys):
            held[(child, int(link["promotion"]))].add(int(link[field]))
    return tuple(
        rules.Booked(
            key,
            row["name"],
            dt.date.fromisoformat(str(row["start_date"])[:10]),
            dt.date.fromisoformat(str(row["end_date"])[:10]),
            frozenset(held[("skus", key)]),
            frozenset(held[("locations", key)]),
        )
        for key, row in zip(keys, rows, strict=True)
    )


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


# -- the list and the calendar -----------------------------------------------------------


#: The list's and the calendar's filters (the calendar's month aside).
FILTERS = ("status", "partnership", "starts_from", "starts_to", "page")


def _export_args(query: Mapping[str, Any]) -> dict[str, str]:
    return {
        k: v.isoformat() if isinstance(v, dt.date) else str(v)
        for k, v in query.items()
        if k in ("status", "partnership", "starts_from", "starts_to")
    }


@bp.get("")
@role_required(*READERS)
def index() -> Any:
    """The user's promotions, filtered; for a supplier, those awaiting its answer first."""
    acc = access()
    query, errors = list_filters("promotions", FILTERS)
    labels = insights.pair_labels(acc, reports())
    page_no = int(query.get("page", 1))
    page = acc.list(
        "promotions", {**query, "page": page_no, "per_page": PER_PAGE, "sort": "start_date"}
    )
    awaiting = []
    if acc.role == SUPPLIER_USER and query.get("status") in (None, "submitted"):
        waiting = {k: v for k, v in query.items() if k != "page"}
        awaiting = list(
            acc.iter_rows("promotions", {**waiting, "status": "submitted", "sort": "start_date"})
        )
    filters = _export_args(query)
    return render_template(
        "promotions/list.html",
        rows=page.rows,
        page=page,
        pages=max(1, -(-page.total // PER_PAGE)),
        awaiting=awaiting,
        labels=labels,
        filters=filters,
        errors=errors,
        statuses=STATUS_LABELS,
        export_url=url_for("exports.resource_list", resource="promotions", **filters),
    ), (422 if errors else 200)


def _month() -> tuple[dt.date, str | None]:
    raw = request.args.get("month", "").strip()
    if not raw:
        return clock.today().replace(day=1), None
    match = _MONTH.match(raw)
    if match and 1 <= int(match.group(2)) <= 12 and 1900 < int(match.group(1)) < 3000:
        return dt.date(int(match.group(1)), int(match.group(2)), 1), None
    return clock.today().replace(day=1), f"“{raw[:20]}” is not a month: use YYYY-MM, e.g. 2026-05"


#: Promotions named in one day of the calendar; the rest are counted, and the month's
#: list under the grid names every one.
PER_DAY = 3


@bp.get("/calendar")
@role_required(*READERS)
def calendar_view() -> Any:
    """A month grid, each promotion linked on every day it runs (a few a day, and how many
    more), then the month's promotions listed with their full names and dates."""
    acc = access()
    first, month_error = _month()
    query, errors = list_filters("promotions", FILTERS)
    if month_error:
        errors["month"] = [month_error]
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    filters = {k: v for k, v in query.items() if k in ("status", "partnership")}
    wanted = {filters["status"]} if "status" in filters else rules.BOOKING_STATUSES
    days: dict[dt.date, list[dict[str, Any]]] = {}
    month: list[dict[str, Any]] = []
    for row in acc.iter_rows("promotions", {**filters, "starts_to": last, "sort": "start_date"}):
        start, end = _day(row["start_date"]), _day(row["end_date"])
        if start is None or end is None or end < first or row["status"] not in wanted:
            continue
        month.append(row)
        day = max(start, first)
        while day <= min(end, last):
            days.setdefault(day, []).append(row)
            day += dt.timedelta(days=1)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = last + dt.timedelta(days=1)
    return render_template(
        "promotions/calendar.html",
        first=first,
        weeks=weeks,
        days=days,
        month=month,
        per_day=PER_DAY,
        labels=insights.pair_labels(acc, reports()),
        filters={k: str(v) for k, v in filters.items()},
        errors=errors,
        statuses=STATUS_LABELS,
        previous=previous.strftime("%Y-%m"),
        following=following.strftime("%Y-%m"),
        export_url=url_for(
            "exports.resource_list",
            resource="promotions",
            **_export_args({**filters, "starts_to": last}),
        ),
    ), (422 if errors else 200)


# -- one promotion ------------------------------------------------------------------------


def _history_who(event: Mapping[str, Any], sides: Mapping[str, str]) -> str:
    """Who made a status change: the signed-in user, or the side whose move it is."""
    if str(event.get("actor") or "") == str(current_user.id):
        return f"You ({current_user.display_name})"
    # Only the supplier answers (accepted/declined); every other move is the distributor's.
    return (
        sides["supplier"]
        if event.get("status") in ("accepted", "declined")
        else sides["distributor"]
    )


def _detail_context(acc: DataAccess, key: int) -> dict[str, Any]:
    promotion = acc.get("promotions", key)
    names = insights.org_names(acc, reports())
    pair = acc.scope.pairs.get(int(promotion["partnership"]))  # looked up for the read
    supplier = pair.supplier if pair else None
    distributor = pair.distributor if pair else None
    sku_ids = [int(s["sku"]) for s in promotion["skus"]]
    location_ids = [int(x["location"]) for x in promotion["locations"]]
    seen = insights.visible_names(acc, reports())
    skus = {
        int(s["id"]): s
        for s in seen.skus
        if int(s["id"]) in sku_ids and int(s["supplier"]) == supplier
    }
    places = {
        int(x["id"]): x
        for x in seen.locations
        if int(x["id"]) in location_ids and int(x["distributor"]) == distributor
    }
    # The promotion was just found visible: its history needs no second look at it.
    res = resource("promotions")
    history = acc.children_rows(res, res.child("history"), key, limit=-1, offset=0)
    sides = {
        "supplier": f"{names.get(supplier or 0, 'The supplier')} (supplier)",
        "distributor": f"{names.get(distributor or 0, 'The distributor')} (distributor)",
    }
    shown = [places[i] for i in location_ids if i in places]
    return {
        "promotion": promotion,
        "supplier_name": names.get(supplier or 0, "?"),
        "distributor_name": names.get(distributor or 0, "?"),
        "skus": [(i, skus.get(i)) for i in sku_ids],
        "locations": [(i, places.get(i)) for i in location_ids],
        "regions": rules.by_region(x.get("region") for x in shown),
        "locations_not_shared": len(location_ids) - len(shown),
        "answering": acc.role == SUPPLIER_USER and promotion["status"] == "submitted",
        "history": [(e, _history_who(e, sides)) for e in history],
        "statuses": STATUS_LABELS,
        "types": rules.TYPE_LABELS,
        "moves": {
            s: label
            for s, label in MOVES.items()
            if s in data_writes.DISTRIBUTOR_PROMOTION_MOVES[promotion["status"]]
            and s != promotion["status"]
        },
        "terms_open": promotion["status"] in data_writes.PROMOTION_TERMS_OPEN,
    }


def _detail_page(
    acc: DataAccess,
    key: int,
    *,
    errors: Mapping[str, list[str]] | None = None,
    message: str | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "promotions/detail.html",
        **_detail_context(acc, key),
        errors=errors or {},
        message=message,
        form=form or {},
    ), status


@bp.get(INT_KEY)
@role_required(*READERS)
def detail(key: int) -> Any:
    """A promotion's terms, SKUs, locations and full history, with the user's actions."""
    return _detail_page(access(), key)


NOT_SHARED = "details not shared with you"


def _at(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _detail_table(context: Mapping[str, Any], table: str) -> tuple[list[Any], list[Any]]:
    """One table of a promotion's page: its (key, header) columns and its rows."""
    if table == "skus":
        columns = [("sku", "SKU #"), ("gtin", "GTIN"), ("description", "Description"),
                   ("lead_time_days", "Lead time (days)")]  # fmt: skip
        rows = [
            {"sku": i, "gtin": s["gtin"], "description": s["description"],
             "lead_time_days": s.get("lead_time_days")}
            if s else {"sku": None, "description": NOT_SHARED}  # not even its id
            for i, s in context["skus"]
        ]  # fmt: skip
    elif table == "locations":
        columns = [("location", "Location #"), ("code", "Code"), ("name", "Name"),
                   ("region", "Region")]  # fmt: skip
        rows = [
            {"location": i, "code": x["code"], "name": x["name"], "region": x.get("region")}
            if x else {"location": None, "name": NOT_SHARED}
            for i, x in context["locations"]
        ]  # fmt: skip
    else:
        columns = [("at", "When (UTC)"), ("status", "Status"), ("who", "Who"),
                   ("comment", "Comment")]  # fmt: skip
        rows = [
            {"at": _at(e.get("at")), "status": STATUS_LABELS.get(e["status"], e["status"]),
             "who": who, "comment": e.get("comment")}
            for e, who in context["history"]
        ]  # fmt: skip
    return columns, rows


@bp.get(f"{INT_KEY}/<any(skus, locations, history):table>.xlsx")
@role_required(*READERS)
def detail_export(key: int, table: str) -> Any:
    """One table of a promotion's page (SKUs, locations or history) as Excel.

    The page's own context is read, so a promotion the user may not see is a 404 here too.
    """
    acc = access()
    columns, rows = _detail_table(_detail_context(acc, key), table)
    return xlsx_response(
        acc,
        filename=f"promotion-{key}-{table}.xlsx",
        sheet=f"Promotion {key} {table}",
        columns=columns,
        rows=rows,
        collection="promotions",
        detail={"promotion": key, "table": table},
    )


@bp.post(f"{INT_KEY}/answer")
@role_required(SUPPLIER_USER)
def answer(key: int) -> Any:
    """The supplier accepts or declines a submitted promotion (declining needs a comment)."""
    acc = access()
    form = {"status": request.form.get("status", ""), "comment": request.form.get("comment", "")}
    body = {"status": form["status"]}
    if form["comment"].strip():
        body["comment"] = form["comment"].strip()
    try:
        data = PromotionUpdate(view=SUPPLIER_USER).load(body)
        acc.update("promotions", key, data)
    except ValidationError as exc:
        errors = {k: flat(v) for k, v in exc.normalized_messages().items()}
        return _detail_page(
            acc,
            key,
            errors=errors,
            form=form,
            status=422,
            message="The answer was not sent: see the comment.",
        )
    except DataError as exc:
        if exc.status == 404:
            raise
        errors, message = refusal(exc)
        return _detail_page(acc, key, errors=errors, form=form, message=message, status=exc.status)
    flash("Promotion accepted." if data["status"] == "accepted" else "Promotion declined.")
    return redirect(url_for("promotions.detail", key=key))


@bp.post(f"{INT_KEY}/status")
@role_required(DISTRIBUTOR_USER)
def move(key: int) -> Any:
    """The distributor submits, takes back to draft, or cancels a promotion."""
    acc = access()
    form = {"status": request.form.get("status", ""), "comment": request.form.get("comment", "")}
    body: dict[str, Any] = {"status": form["status"]}
    if form["comment"].strip():
        body["comment"] = form["comment"].strip()
    try:
        data = PromotionUpdate(view=DISTRIBUTOR_USER).load(body)
        if data["status"] == "submitted":
            problems = _check_current(acc, key)
            if problems:
                return _detail_page(
                    acc,
                    key,
                    errors=problems,
                    form=form,
                    status=422,
                    message="The promotion cannot be submitted as it is: change its dates first.",
                )
        acc.update("promotions", key, data)
    except ValidationError as exc:
        errors = {k: flat(v) for k, v in exc.normalized_messages().items()}
        return _detail_page(
            acc, key, errors=errors, form=form, status=422, message="The status was not changed."
        )
    except DataError as exc:
        if exc.status == 404:
            raise
        errors, message = refusal(exc)
        return _detail_page(acc, key, errors=errors, form=form, message=message, status=exc.status)
    flash(f"Promotion is now: {STATUS_LABELS[data['status']].lower()}.")
    return redirect(url_for("promotions.detail", key=key))


def _check_current(acc: DataAccess, key: int) -> dict[str, list[str]]:
    """The rules on a promotion's current terms (before it goes to the supplier)."""
    current = acc.get("promotions", key)
    start, end = _day(current["start_date"]), _day(current["end_date"])
    assert start is not None
    assert end is not None
    ref = reference(acc, (start, end))
    return rules.check_terms(
        start=start,
        end=end,
        today=clock.today(),
        skus=[int(s["sku"]) for s in current["skus"]],
        locations=[int(x["location"]) for x in current["locations"]],
        ref=ref,
        exclude=key,
    )


# -- the form -----------------------------------------------------------------------------

TERMS = ("name", "type", "mechanics", "start_date", "end_date", "expected_uplift_pct")


def _form_values() -> dict[str, Any]:
    """The form as typed, for re-rendering it."""
    return {
        "partnership": request.form.get("partnership", ""),
        **{name: request.form.get(name, "") for name in TERMS},
        "skus": request.form.getlist("skus"),
        "locations": request.form.getlist("locations"),
    }


def _whole(value: str, name: str, errors: dict[str, list[str]]) -> int | None:
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"-?\d{1,9}", value):
        return int(value)
    errors.setdefault(name, []).append(f"“{value[:20]}” is not a whole number")
    return None


def _terms(form: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The typed terms, as the schemas take them (blank optional fields are None)."""
    data: dict[str, Any] = {}
    for name in ("name", "type", "start_date", "end_date"):
        if form[name].strip():
            data[name] = form[name].strip()
    data["mechanics"] = form["mechanics"].strip() or None
    data["expected_uplift_pct"] = _whole(form["expected_uplift_pct"], "expected_uplift_pct", errors)
    return data


def _merge(errors: dict[str, list[str]], exc: ValidationError) -> None:
    """Add the schema's messages for fields the form's own reading found no fault with."""
    for name, messages in exc.normalized_messages().items():
        if name not in errors:
            errors[name] = flat(messages)


def _ids(values: Iterable[str], name: str, errors: dict[str, list[str]]) -> list[int]:
    out = []
    for value in values:
        number = _whole(value, name, errors)
        if number is not None:
            out.append(number)
    return out


def _form_page(
    acc: DataAccess,
    *,
    form: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    promotion: Mapping[str, Any] | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if promotion is not None:
        context = _detail_context(acc, int(promotion["id"]))
        extra = {k: context[k] for k in ("skus", "locations", "supplier_name")}
    else:
        ref = reference(acc)
        extra = {
            "partners": ref.partners,
            "sku_groups": [
                (
                    p.name,
                    [
                        Choice(str(s.id), f"{s.label} (lead time {s.lead_time_days} days)")
                        for s in ref.skus
                        if s.supplier == p.supplier
                    ],
                )
                for p in ref.partners
            ],
            "store_groups": [("", [Choice(str(x.id), x.label) for x in ref.locations])],
        }
    return render_template(
        "promotions/form.html",
        form=form,
        errors=errors,
        message=message,
        types=rules.TYPE_LABELS,
        max_uplift=rules.MAX_UPLIFT_PCT,
        editing=promotion,
        **extra,
        statuses=STATUS_LABELS,
    ), status


@bp.get("/new")
@role_required(DISTRIBUTOR_USER)
def new() -> Any:
    """The form for a new promotion."""
    blank = {
        "partnership": request.args.get("partnership", ""),
        **dict.fromkeys(TERMS, ""),
        "skus": [],
        "locations": [],
    }
    return _form_page(access(), form=blank, errors={})


@bp.post("/new")
@role_required(DISTRIBUTOR_USER)
def create() -> Any:
    """Save a new promotion as a draft, or submit it to the supplier."""
    acc = access()
    form = _form_values()
    errors: dict[str, list[str]] = {}
    data = _terms(form, errors)
    pair_id = _whole(form["partnership"], "partnership", errors)
    if pair_id is None and "partnership" not in errors:
        errors["partnership"] = ["choose the supplier"]
    data["partnership"] = pair_id
    data["skus"] = _ids(form["skus"], "skus", errors)
    data["locations"] = _ids(form["locations"], "locations", errors)
    data["status"] = "submitted" if request.form.get("action") == "submit" else "draft"
    try:
        data = PromotionCreate(view=DISTRIBUTOR_USER).load(data)
    except ValidationError as exc:
        _merge(errors, exc)
    if errors:
        return _form_page(
            acc,
            form=form,
            errors=errors,
            status=422,
            message="The promotion was not saved: see the fields marked below.",
        )
    ref = reference(acc, (data["start_date"], data["end_date"]))
    if _fits(ref, data["partnership"], data["skus"], data["locations"]):
        # Ids that are not the chosen partner's go straight to the data layer, which
        # refuses them and audits the attempt.
        problems = rules.check_terms(
            start=data["start_date"],
            end=data["end_date"],
            today=clock.today(),
            skus=data["skus"],
            locations=data["locations"],
            ref=ref,
        )
        if problems:
            return _form_page(
                acc,
                form=form,
                errors=problems,
                status=422,
                message="The promotion was not saved: see the fields marked below.",
            )
    try:
        created = acc.create("promotions", data)
    except DataError as exc:
        errors, message = refusal(exc)
        return _form_page(acc, form=form, errors=errors, message=message, status=exc.status)
    flash(
        "Promotion submitted to the supplier." if data["status"] == "submitted" else "Draft saved."
    )
    return redirect(url_for("promotions.detail", key=created["id"]))


def _fits(
    ref: rules.Reference, pair_id: int, skus: Iterable[int], locations: Iterable[int]
) -> bool:
    """Whether every id is one the form offered for this partner."""
    partner = next((p for p in ref.partners if p.pair == pair_id), None)
    if partner is None:
        return False
    return all(
        i in ref.skus_by_id and ref.skus_by_id[i].supplier == partner.supplier for i in skus
    ) and all(i in ref.locations_by_id for i in locations)


def _as_form(promotion: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "partnership": str(promotion["partnership"]),
        "name": promotion.get("name") or "",
        "type": promotion.get("type") or "",
        "mechanics": promotion.get("mechanics") or "",
        "start_date": str(promotion.get("start_date") or "")[:10],
        "end_date": str(promotion.get("end_date") or "")[:10],
        "expected_uplift_pct": ""
        if promotion.get("expected_uplift_pct") is None
        else str(promotion["expected_uplift_pct"]),
        "skus": [str(s["sku"]) for s in promotion.get("skus", [])],
        "locations": [str(x["location"]) for x in promotion.get("locations", [])],
    }


@bp.get(f"{INT_KEY}/edit")
@role_required(DISTRIBUTOR_USER)
def edit(key: int) -> Any:
    """The form to change a promotion's terms (while draft, submitted or declined)."""
    acc = access()
    promotion = acc.get("promotions", key)
    return _form_page(acc, form=_as_form(promotion), errors={}, promotion=promotion)


@bp.post(f"{INT_KEY}/edit")
@role_required(DISTRIBUTOR_USER)
def update(key: int) -> Any:
    """Save changed terms; "Save and submit" also sends the promotion to the supplier."""
    acc = access()
    promotion = acc.get("promotions", key)
    before = _as_form(promotion)
    form = {
        **_form_values(),
        "partnership": before["partnership"],
        "skus": before["skus"],
        "locations": before["locations"],
    }
    errors: dict[str, list[str]] = {}
    typed = _terms(form, errors)
    old = _terms(before, {})
    changes = {k: v for k, v in typed.items() if v != old.get(k)}
    for name in ("name", "type", "start_date", "end_date"):
        if name not in typed:
            errors.setdefault(name, []).append("required")
    if request.form.get("action") == "submit" and promotion["status"] != "submitted":
        changes["status"] = "submitted"
    if not errors and not changes:
        flash("Nothing changed.")
        return redirect(url_for("promotions.detail", key=key))
    try:
        changes = PromotionUpdate(view=DISTRIBUTOR_USER).load(changes) if changes else {}
    except ValidationError as exc:
        _merge(errors, exc)
    if errors:
        return _form_page(
            acc,
            form=form,
            errors=errors,
            promotion=promotion,
            status=422,
            message="The changes were not saved: see the fields marked below.",
        )
    start = changes.get("start_date") or _day(promotion["start_date"])
    end = changes.get("end_date") or _day(promotion["end_date"])
    if {"start_date", "end_date"} & set(changes) or changes.get("status") == "submitted":
        problems = rules.check_terms(
            start=start,
            end=end,
            today=clock.today(),
            skus=[int(s) for s in before["skus"]],
            locations=[int(x) for x in before["locations"]],
            ref=reference(acc, (start, end)),
            exclude=key,
        )
        if problems:
            return _form_page(
                acc,
                form=form,
                errors=problems,
                promotion=promotion,
                status=422,
                message="The changes were not saved: see the fields marked below.",
            )
    try:
        acc.update("promotions", key, changes)
    except DataError as exc:
        if exc.status == 404:
            raise
        errors, message = refusal(exc)
        return _form_page(
            acc, form=form, errors=errors, promotion=promotion, message=message, status=exc.status
        )
    flash(
        "Changes saved and submitted to the supplier."
        if changes.get("status") == "submitted"
        else "Changes saved."
    )
    return redirect(url_for("promotions.detail", key=key))


# -- the Excel round trip -------------------------------------------------------------------


@bp.get("/template.xlsx")
@role_required(DISTRIBUTOR_USER)
def template() -> Response:
    """The promotions template with this distributor's suppliers, SKUs and stores."""
    acc = access()
    ref = reference(acc)
    names = {p.supplier: p.name for p in ref.partners}
    choices = TemplateChoices(
        partners=[p.name for p in ref.partners],
        skus=[
            (s.gtin, s.description, names.get(s.supplier, ""), s.lead_time_days) for s in ref.skus
        ],
        locations=[(x.code, x.name, "") for x in ref.locations],
    )
    body = build_template(choices, clock.today())
    acc.record("export", "skus", [], {"template": "promotions", "skus": len(ref.skus)})
    return Response(
        body,
        mimetype=XLSX,
        headers={"Content-Disposition": "attachment; filename=promotions-template.xlsx"},
    )


def spool() -> UploadSpool:
    """This user's workbooks awaiting confirmation (only theirs)."""
    base = _config().spool_dir or Path(tempfile.gettempdir()) / "tandem-portal"
    return UploadSpool(base, "promotion", str(current_user.id))


def _window(rows: Iterable[Any]) -> tuple[dt.date, dt.date] | None:
    """The days a workbook's rows span (readable dates only), for the overlap check."""
    days = []
    for row in rows:
        for name in ("start_date", "end_date"):
            try:
                days.append(rules.parse_date(row.values.get(name)))
            except ValueError:
                continue
    return (min(days), max(days)) if days else None


def _check_file(acc: DataAccess, path: Path) -> tuple[list[Any], rules.Checked]:
    rows = read_rows(path)
    ref = reference(acc, _window(rows))
    return rows, rules.check_rows([(r.number, r.values) for r in rows], ref, clock.today())


def _upload_page(
    *,
    message: str | None = None,
    error: str | None = None,
    rows: Any = None,
    checked: rules.Checked | None = None,
    token: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "promotions/upload.html",
        message=message,
        error=error,
        preview=(
            preview(rows, checked.errors_by_row(), rules.COLUMNS)
            if rows is not None and checked is not None
            else None
        ),
        checked=checked,
        columns=rules.COLUMNS,
        token=token,
        sheet=SHEET,
        max_rows=MAX_ROWS,
        max_mb=_config().max_upload_mb,
    ), status


@bp.get("/upload")
@role_required(DISTRIBUTOR_USER)
def upload_form() -> Any:
    """Upload a filled template."""
    return _upload_page()


@bp.post("/upload")
@role_required(DISTRIBUTOR_USER)
def upload() -> Any:
    """Keep the workbook server-side and show its preview; nothing is stored in the hub."""
    acc = access()
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_page(error="Choose the workbook (.xlsx) to upload.", status=400)
    token, path = spool().keep(file.save)
    try:
        rows, checked = _check_file(acc, path)
    except WorkbookError as exc:
        path.unlink(missing_ok=True)
        return _upload_page(error=exc.message, status=422)
    if not checked.clean:
        path.unlink(missing_ok=True)  # a fixed file is uploaded again
        return _upload_page(
            rows=rows,
            checked=checked,
            status=422,
            error=f"The workbook has {counted(len(checked.errors), 'error')}: fix them and "
            "upload it again. Nothing was stored.",
        )
    return _upload_page(
        rows=rows,
        checked=checked,
        token=token,
        message=f"No errors: {counted(len(checked.promotions), 'promotion')} from "
        f"{counted(len(rows), 'row')}, ready to submit. Nothing is stored until you submit them.",
    )


@bp.post("/upload/confirm")
@role_required(DISTRIBUTOR_USER)
def confirm() -> Any:
    """Check the kept workbook again against the hub as it is now, then submit every
    promotion in it in one hub call (all or none)."""
    acc = access()
    path = spool().claim(request.form.get("token", ""))
    if path is None:
        return _upload_page(
            status=409,
            error="This upload was already submitted, or it waited "
            "too long. Nothing more was stored: upload the workbook again if "
            "it is not on your list.",
        )
    try:
        rows, checked = _check_file(acc, path)
        if not checked.clean:
            return _upload_page(
                rows=rows,
                checked=checked,
                status=422,
                error="Since the preview, the workbook no longer passes: fix the "
                "errors and upload it again. Nothing was stored.",
            )
        items = []
        for plan in checked.promotions:
            try:
                items.append(PromotionCreate(view=DISTRIBUTOR_USER).load(plan.as_create()))
            except ValidationError as exc:
                problems = "; ".join(
                    f"{k}: {', '.join(flat(v))}" for k, v in exc.normalized_messages().items()
                )
                return _upload_page(
                    rows=rows,
                    checked=checked,
                    status=422,
                    error=f"Row {plan.rows[0]}: {problems}. Nothing was stored.",
                )
        try:
            ids = data_writes.create_promotions(acc, resource("promotions"), items)
        except DataError as exc:
            _, message = refusal(exc)
            return _upload_page(rows=rows, checked=checked, error=message, status=exc.status)
    except WorkbookError as exc:
        return _upload_page(error=exc.message, status=422)
    finally:
        path.unlink(missing_ok=True)
    flash(f"{counted(len(ids), 'promotion')} submitted to your suppliers.")
    return redirect(url_for("promotions.index", status="submitted"))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    return _upload_page(
        status=413,
        error=f"The file is larger than the portal takes "
        f"({_config().max_upload_mb} MB). Nothing was stored.",
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "Promotions", "promotions.index", (DISTRIBUTOR_USER,), 30)
    add_nav(app, "Promotions", "promotions.index", (SUPPLIER_USER,), 30)
    add_nav(app, "Promotions", "promotions.index", (ACCOUNT_MANAGER,), 30)
