"""The purchase-order journey's pages: web EDI between a distributor and its suppliers.

A distributor orders through a form (its supplier, ship-to, up to :data:`MAX_LINES` lines
with prices typed in major units and kept as exact minor units), follows its orders, and
cancels one while the ownership table allows; its suggested orders (a base-stock policy
per location x SKU, :mod:`portal.data.replenishment`) fill the form in one click. A
supplier sees the orders awaiting its answer first, answers each line (accept, change the
quantity or date, reject with a reason), sends ship notices (an SSCC-18 carton per line)
and invoices what shipped. Both
see an order's lines with what shipped, was received and was invoiced, its shipments and
invoices, the three-way match and a timeline of every event and EDI message about it, and
download the lines as Excel. Account managers read their pairs' orders.

Every read and write goes through the data layer as the signed-in user: the write rules
live in :mod:`portal.data.writes`, the page's reads in :mod:`portal.data.orders`, the
order rules in :mod:`domain.orders`. The views here read forms and render.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from domain import clock
from domain import replenishment as replenishment_rules
from domain.orders import OrderError, due_quantity, price_major, price_minor, whole_units
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.auth import role_required
from portal.data import DataAccess, DataError, insights, replenishment
from portal.data import writes as data_writes
from portal.data.orders import OrderFile, line_counts, order_file
from portal.data.registry import INT_KEY
from portal.pages import (
    Choice,
    Errors,
    access,
    add_nav,
    answer_errors_as_pages,
    flat,
    list_filters,
    refusal,
    reports,
)
from portal.schemas.base import CURRENCY_RE, TandemSchema
from portal.schemas.invoices import InvoiceCreate
from portal.schemas.purchase_orders import PurchaseOrderCreate, PurchaseOrderUpdate
from portal.schemas.shipments import ShipmentCreate
from portal.xlsx import xlsx_response

bp = Blueprint("orders", __name__, url_prefix="/orders")
answer_errors_as_pages(bp)

READERS = (DISTRIBUTOR_USER, SUPPLIER_USER, ACCOUNT_MANAGER)
PER_PAGE = 50
#: Lines on the new-order form.
MAX_LINES = 20
STATUS_LABELS = {
    "open": "Open, awaiting the supplier",
    "acknowledged": "Acknowledged",
    "rejected": "Rejected",
    "partially_shipped": "Partially shipped",
    "shipped": "Shipped",
    "received": "Received",
    "cancelled": "Cancelled",
}
ANSWER_LABELS = {"accepted": "Accept", "changed": "Change", "rejected": "Reject"}
ANSWERED = {"accepted": "Accepted", "changed": "Changed", "rejected": "Rejected"}
_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,10})?")
_AMOUNT = re.compile(r"\d{1,15}(\.\d{1,10})?")


def _quantity(text: str, what: str, line: str) -> int | None:
    """A typed quantity as whole units (None when blank); OrderError naming the line."""
    text = text.strip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise OrderError(f"{what} “{text[:20]}” is not a number", line)
    return whole_units(Decimal(text), what, line)


def _price(text: str, currency: str, line: str) -> int:
    """A unit price typed in major units as exact minor units; OrderError naming the line."""
    text = text.strip()
    if not _AMOUNT.fullmatch(text):
        raise OrderError(f"the price “{text[:20]}” is not an amount such as 1.18", line)
    return price_minor(Decimal(text), currency, line)


def _line_errors(
    exc: ValidationError, keys: list[str], numbers: list[str], inputs: Mapping[str, str]
) -> Errors:
    """The schema's messages, each under its form input and naming its line: ``lines``
    messages by index become ``<input>-<key>`` for the line at that index."""
    errors: Errors = {}
    for name, messages in exc.normalized_messages().items():
        if name != "lines" or not isinstance(messages, dict):
            errors.setdefault(name, []).extend(flat(messages))
            continue
        for index, fields in messages.items():
            if not isinstance(index, int) or not isinstance(fields, dict):
                errors.setdefault("lines", []).extend(flat(fields))
                continue
            for field, found in fields.items():
                key = f"{inputs.get(field, field)}-{keys[index]}"
                errors.setdefault(key, []).extend(
                    f"line {numbers[index]}: {m}" for m in flat(found)
                )
    return errors


# -- the list -----------------------------------------------------------------------------


@bp.get("")
@role_required(*READERS)
def index() -> Any:
    """The user's orders, newest first, filtered; for a supplier, the open ones awaiting
    its answer first and the rest below."""
    acc = access()
    query, errors = list_filters("purchase-orders", ("status", "partnership", "page"))
    chosen = {k: v for k, v in query.items() if k in ("status", "partnership")}
    filters = {k: str(v) for k, v in chosen.items()}
    awaiting = None
    where = None
    if acc.role == SUPPLIER_USER and "status" not in chosen:
        waiting = {**chosen, "status": "open", "per_page": PER_PAGE, "sort": "ordered_on"}
        awaiting = acc.list("purchase-orders", waiting)
        where = {"status": {"_neq": "open"}}
    page = acc.list(
        "purchase-orders",
        {**chosen, "page": int(query.get("page", 1)), "per_page": PER_PAGE, "sort": "-ordered_on"},
        where,
    )
    shown = [*(awaiting.rows if awaiting else []), *page.rows]
    return render_template(
        "orders/list.html",
        page=page,
        pages=max(1, -(-page.total // PER_PAGE)),
        awaiting=awaiting,
        counts=line_counts(acc, shown),
        labels=insights.pair_labels(acc, reports()),
        filters=filters,
        errors=errors,
        statuses=STATUS_LABELS,
        export_url=url_for("exports.resource_list", resource="purchase-orders", **filters),
    ), (422 if errors else 200)


# -- the new order (the distributor's) ----------------------------------------------------

HEADER = ("partnership", "number", "ordered_on", "requested_date", "currency", "ship_to")


def _partners(acc: DataAccess) -> dict[int, dict[str, Any]]:
    """The distributor's active pairs: pair id -> supplier id and name."""
    names = insights.org_names(acc, reports())
    return {
        int(p["id"]): {"supplier": int(p["supplier"]), "name": names.get(int(p["supplier"]), "?")}
        for p in acc.iter_rows("partnerships", {"distributor": acc.org, "status": "active"})
    }


def _catalog(acc: DataAccess, supplier: int | None) -> list[dict[str, Any]]:
    """The supplier's active SKUs, each with the distributor's item code if it has one."""
    if supplier is None:
        return []
    skus = list(acc.iter_rows("skus", {"supplier": supplier, "status": "active", "sort": "gtin"}))
    ids = {int(s["id"]) for s in skus}
    codes = {
        int(c["sku"]): c["item_code"]
        for c in acc.iter_rows("sku-codes", {"distributor": acc.org})
        if int(c["sku"]) in ids
    }
    return [{**s, "item_code": codes.get(int(s["id"]), "")} for s in skus]


def _find_sku(catalog: list[dict[str, Any]], typed: str) -> int | None:
    """The SKU a line names by GTIN (8 to 14 digits, read as GTIN-14), else by the
    distributor's item code."""
    typed = typed.strip()
    if typed.isdigit() and 8 <= len(typed) <= 14:
        by_gtin = [s for s in catalog if s["gtin"] == typed.zfill(14)]
        if by_gtin:
            return int(by_gtin[0]["id"])
    by_code = [s for s in catalog if typed and s["item_code"] == typed]
    return int(by_code[0]["id"]) if by_code else None


LINE_PARTS = ("sku", "qty", "price")


def _order_form() -> dict[str, Any]:
    """The form as typed (line inputs are ``<part>-<line number>``), for re-rendering."""
    source = request.form if request.method == "POST" else request.args
    form: dict[str, Any] = {name: source.get(name, "") for name in HEADER}
    for n in range(1, MAX_LINES + 1):
        form.update({f"{part}-{n}": source.get(f"{part}-{n}", "") for part in LINE_PARTS})
    return form


def _form_page(
    acc: DataAccess,
    form: Mapping[str, Any],
    *,
    errors: Errors | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    partners = _partners(acc)
    chosen = partners.get(int(form["partnership"])) if form["partnership"].isdigit() else None
    locations = [
        x
        for x in acc.iter_rows("locations", {"distributor": acc.org, "sort": "ref"})
        if x.get("status", "active") == "active"
    ]
    ship_to = [
        Choice(str(x["id"]), f"{x['code']} · {x['name']} ({x['kind']})", x.get("gln") or "")
        for x in locations
    ]
    return render_template(
        "orders/form.html",
        form=form,
        errors=errors or {},
        message=message,
        partners=partners,
        chosen=chosen,
        catalog=_catalog(acc, chosen["supplier"] if chosen else None),
        ship_to_groups=[("", ship_to)],
        max_lines=MAX_LINES,
    ), status


@bp.get("/new")
@role_required(DISTRIBUTOR_USER)
def new() -> Any:
    """The order form: the supplier first (its SKUs are the lines' choices), then the rest."""
    acc = access()
    form = _order_form()
    form["ordered_on"] = form["ordered_on"] or clock.today().isoformat()
    form["currency"] = form["currency"] or "USD"
    if not form["partnership"]:
        partners = _partners(acc)
        if len(partners) == 1:
            form["partnership"] = str(next(iter(partners)))
    return _form_page(acc, form)


def _typed_order(
    form: Mapping[str, Any], partner: Mapping[str, Any] | None, catalog: list[dict[str, Any]]
) -> tuple[dict[str, Any], Errors]:
    """The order as :class:`PurchaseOrderCreate` takes it, and the form's own errors:
    each line's SKU (the supplier's), whole quantity and exact price, naming the line.
    A line with an error of its own is left out of the order the schema checks."""
    errors: Errors = {}
    data: dict[str, Any] = {k: form[k].strip() for k in HEADER if form[k].strip()}
    for name in ("partnership", "ship_to"):
        if name in data and data[name].isdigit():
            data[name] = int(data[name])
    currency = data.get("currency", "").upper()
    if currency:
        data["currency"] = currency
    if partner is None:
        errors["partnership"] = ["choose the supplier"]
    lines, typed = [], False
    for n in range(1, MAX_LINES + 1):
        values = {part: form[f"{part}-{n}"].strip() for part in LINE_PARTS}
        if not any(values.values()):
            continue
        typed = True
        line: dict[str, Any] = {"line_no": n, "sku": _find_sku(catalog, values["sku"])}
        if line["sku"] is None:
            who = partner["name"] if partner else "the supplier"
            errors[f"sku-{n}"] = [
                f"line {n}: “{values['sku'][:30]}” is not a SKU of {who}"
                if values["sku"]
                else f"line {n}: give a SKU of {who}"
            ]
        try:
            line["qty_ordered"] = _quantity(values["qty"], "the quantity", str(n))
            if not line["qty_ordered"]:
                raise OrderError("order at least 1 unit", str(n))
        except OrderError as exc:
            errors[f"qty-{n}"] = [str(exc)]
        if CURRENCY_RE.match(currency):  # else the currency's error says why
            try:
                line["unit_cost_minor"] = _price(values["price"], currency, str(n))
            except OrderError as exc:
                errors[f"price-{n}"] = [str(exc)]
        if not any(f"{part}-{n}" in errors for part in LINE_PARTS):
            lines.append(line)
    if not typed:
        errors["lines"] = ["add at least one line"]
    data["lines"] = lines
    return data, errors


@bp.post("/new")
@role_required(DISTRIBUTOR_USER)
def create() -> Any:
    """Place the order: all of it, or nothing with every error named."""
    acc = access()
    form = _order_form()
    partners = _partners(acc)
    partner = partners.get(int(form["partnership"])) if form["partnership"].isdigit() else None
    catalog = _catalog(acc, partner["supplier"] if partner else None)
    data, errors = _typed_order(form, partner, catalog)
    numbers = [str(line["line_no"]) for line in data["lines"]]
    try:
        data = PurchaseOrderCreate(view=DISTRIBUTOR_USER).load(data)
    except ValidationError as exc:
        found = _line_errors(
            exc,
            numbers,
            numbers,
            {"sku": "sku", "qty_ordered": "qty", "unit_cost_minor": "price", "line_no": "sku"},
        )
        if not numbers:
            found.pop("lines", None)  # no line passed the form's own checks: they say why
        for key, messages in found.items():
            errors.setdefault(key, messages)
    if errors:
        return _form_page(
            acc,
            form,
            errors=errors,
            status=422,
            message="The order was not placed: see the fields marked below.",
        )
    try:
        created = acc.create("purchase-orders", data)
    except DataError as exc:
        errors, message = refusal(exc)
        return _form_page(acc, form, errors=errors, message=message, status=exc.status)
    flash(f"Order {created['number']} sent to {partner['name'] if partner else 'the supplier'}.")
    return redirect(url_for("orders.detail", key=created["id"]))


# -- one order ----------------------------------------------------------------------------


def _actions(acc: DataAccess, order: Mapping[str, Any]) -> dict[str, bool]:
    """What the user may do with the order now, by role and the order's status."""
    status = str(order["status"])
    supplier = acc.role == SUPPLIER_USER
    return {
        "cancel": acc.role == DISTRIBUTOR_USER and status in data_writes.PO_CANCELLABLE,
        "answer": supplier and status in data_writes.PO_ANSWERABLE,
        "ship": supplier and status in data_writes.PO_SHIPPABLE,
        "invoice": supplier and status in data_writes.PO_INVOICEABLE,
    }


def _page(
    template: str,
    file: OrderFile,
    acc: DataAccess,
    *,
    status: int = 200,
    errors: Errors | None = None,
    message: str | None = None,
    **extra: Any,
) -> tuple[str, int]:
    return render_template(
        template,
        file=file,
        order=file.order,
        actions=_actions(acc, file.order),
        statuses=STATUS_LABELS,
        answered=ANSWERED,
        errors=errors or {},
        message=message,
        **extra,
    ), status


@bp.get(INT_KEY)
@role_required(*READERS)
def detail(key: int) -> Any:
    """An order's header, lines, shipments, invoices, three-way match and timeline."""
    acc = access()
    return _page("orders/detail.html", order_file(acc, key, reports()), acc)


def _lines_table(file: OrderFile) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    columns = [
        ("line", "Line"),
        ("item_code", "Item code"),
        ("gtin", "GTIN"),
        ("description", "Description"),
        ("qty_ordered", "Ordered"),
        ("unit_cost_minor", "Unit price (minor units)"),
        ("currency", "Currency"),
        ("qty_promised", "Promised"),
        ("answer", "Answer"),
        ("answer_reason", "Reason"),
        ("promised_date", "Promised date"),
        ("original_promised_date", "Original promise"),
        ("revised_date", "Revised date"),
        ("shipped", "Shipped"),
        ("received", "Received"),
        ("invoiced", "Invoiced"),
        ("match", "Three-way match"),
    ]
    rows = []
    for line in file.lines:
        row = line.row
        rows.append(
            {
                "line": int(row["line_no"]),
                "item_code": line.sku.item_code or None,
                "gtin": line.sku.gtin or None,
                "description": line.sku.description,
                "qty_ordered": int(row["qty_ordered"]),
                "unit_cost_minor": int(row["unit_cost_minor"]),
                "currency": file.currency,
                "qty_promised": row.get("qty_promised"),
                "answer": ANSWERED.get(row.get("answer") or ""),
                "answer_reason": row.get("answer_reason"),
                **{
                    name: dt.date.fromisoformat(str(row[name])[:10]) if row.get(name) else None
                    for name in ("promised_date", "original_promised_date", "revised_date")
                },
                "shipped": line.shipped,
                "received": line.received,
                "invoiced": line.invoiced,
                "match": "; ".join(line.flags) or "matched",
            }
        )
    return columns, rows


@bp.get(f"{INT_KEY}/lines.xlsx")
@role_required(*READERS)
def lines_export(key: int) -> Any:
    """The order's lines table as Excel (a 404 here too for an order the user may not see)."""
    acc = access()
    file = order_file(acc, key, reports())
    columns, rows = _lines_table(file)
    return xlsx_response(
        acc,
        filename=f"order-{key}-lines.xlsx",
        sheet=f"Order {file.order['number']}",
        columns=columns,
        rows=rows,
        collection="purchase_orders",
        detail={"purchase_order": key, "table": "lines"},
    )


@bp.post(f"{INT_KEY}/cancel")
@role_required(DISTRIBUTOR_USER)
def cancel(key: int) -> Any:
    """The distributor cancels its order, where the ownership table allows it."""
    acc = access()
    if not _actions(acc, acc.get("purchase-orders", key))["cancel"]:
        return _not_now(acc, order_file(acc, key, reports()), "it cannot be cancelled now")
    try:
        data = PurchaseOrderUpdate(view=DISTRIBUTOR_USER).load({"status": "cancelled"})
        acc.update("purchase-orders", key, data)
    except DataError as exc:
        if exc.status == 404:
            raise
        errors, message = refusal(exc)
        file = order_file(acc, key, reports())
        return _page(
            "orders/detail.html", file, acc, errors=errors, message=message, status=exc.status
        )
    flash("Order cancelled.")
    return redirect(url_for("orders.detail", key=key))


def _not_now(acc: DataAccess, file: OrderFile, what: str) -> tuple[str, int]:
    """The order's page, saying it takes no such form in its status (409)."""
    status = STATUS_LABELS.get(file.order["status"], file.order["status"]).lower()
    return _page(
        "orders/detail.html", file, acc, status=409, message=f"This order is {status}: {what}."
    )


# -- the supplier's answer ------------------------------------------------------------


def _answer_form(file: OrderFile) -> dict[str, Any]:
    """The answer form as the order stands (its current answers, else accept all)."""
    order = file.order
    form: dict[str, Any] = {
        "promised_date": str(order.get("promised_date") or order.get("requested_date") or "")[:10]
    }
    for line in file.lines:
        row, key = line.row, line.row["id"]
        form[f"answer-{key}"] = row.get("answer") or "accepted"
        promised = row.get("qty_promised")
        form[f"qty-{key}"] = str(row["qty_ordered"] if promised is None else promised)
        form[f"date-{key}"] = str(row.get("promised_date") or "")[:10]
        form[f"reason-{key}"] = row.get("answer_reason") or ""
    return form


@bp.get(f"{INT_KEY}/answer")
@role_required(SUPPLIER_USER)
def answer_form(key: int) -> Any:
    """The supplier's answer, line by line."""
    acc = access()
    file = order_file(acc, key, reports())
    if not _actions(acc, file.order)["answer"]:
        return _not_now(acc, file, "it takes no answer now")
    return _page("orders/answer.html", file, acc, form=_answer_form(file), answers=ANSWER_LABELS)


def _typed_answer(numbers: Mapping[str, str]) -> tuple[dict[str, Any], Errors, list[str]]:
    """The answer as :class:`PurchaseOrderUpdate` takes it, the form's own errors, and the
    line keys in the order sent. ``numbers`` names each line key's line for messages."""
    errors: Errors = {}
    lines, keys = [], []
    for key in request.form.getlist("line"):
        if not key.isdigit():
            continue
        answer = request.form.get(f"answer-{key}", "")
        line: dict[str, Any] = {"id": int(key), "answer": answer}
        reason = request.form.get(f"reason-{key}", "").strip()
        if reason:
            line["answer_reason"] = reason
        if answer == "changed":
            number = numbers.get(key, key)
            try:
                qty = _quantity(request.form.get(f"qty-{key}", ""), "the quantity", number)
                if qty is not None:
                    line["qty_promised"] = qty
            except OrderError as exc:
                errors[f"qty-{key}"] = [str(exc)]
            day = request.form.get(f"date-{key}", "").strip()
            if day:
                line["promised_date"] = day
        lines.append(line)
        keys.append(key)
    data: dict[str, Any] = {"lines": lines}
    day = request.form.get("promised_date", "").strip()
    if any(line["answer"] != "rejected" for line in lines):
        if day:
            data["promised_date"] = day
        else:
            errors["promised_date"] = ["give the date the order is promised for"]
    return data, errors, keys


@bp.post(f"{INT_KEY}/answer")
@role_required(SUPPLIER_USER)
def answer(key: int) -> Any:
    """Send the supplier's answer: every line accepted, changed or rejected (with a
    reason); the order is rejected if every line is, else acknowledged."""
    acc = access()
    file = order_file(acc, key, reports())
    form = dict(request.form)
    numbers = {str(x.row["id"]): x.number for x in file.lines}
    data, errors, keys = _typed_answer(numbers)
    try:
        data = PurchaseOrderUpdate(view=SUPPLIER_USER).load(data)
    except ValidationError as exc:
        found = _line_errors(
            exc,
            keys,
            [numbers.get(k, k) for k in keys],
            {
                "answer": "answer",
                "answer_reason": "reason",
                "qty_promised": "qty",
                "promised_date": "date",
                "id": "answer",
            },
        )
        for name, messages in found.items():
            errors.setdefault(name, messages)
    if errors:
        return _page(
            "orders/answer.html",
            file,
            acc,
            form=form,
            answers=ANSWER_LABELS,
            errors=errors,
            status=422,
            message="The answer was not sent: see the lines marked below.",
        )
    try:
        after = acc.update("purchase-orders", key, data)
    except DataError as exc:
        if exc.status == 404:
            raise
        errors, message = refusal(exc)
        return _page(
            "orders/answer.html",
            file,
            acc,
            form=form,
            answers=ANSWER_LABELS,
            errors=errors,
            message=message,
            status=exc.status,
        )
    flash(f"Answer sent: the order is {STATUS_LABELS[after['status']].lower()}.")
    return redirect(url_for("orders.detail", key=key))


# -- the supplier's documents against an order's lines: ship notices and invoices ------


@dataclass(frozen=True)
class _LineDocument:
    """A document the supplier sends against an order's lines: a ship notice or an
    invoice. Their forms differ only in what is declared here, so :func:`_document_form`
    and :func:`_send` show, read, check and send either, and ``orders/_lines_form.html``
    frames both pages.

    Each line of the form has two inputs: ``qty-<line id>`` (blank or 0: the line is not
    on this document), read into the line's ``qty`` field, and ``<extra>-<line id>``,
    which ``read(typed, currency, line number)`` turns into its ``field`` (or raises an
    :class:`OrderError` naming the line).
    """

    action: str  # the order's action (see _actions), its URL, form and template
    noun: str  # how the page and its messages name it
    closed: str  # why the order takes none in another status
    resource: str  # the data layer's resource it is created as
    schema: type[TandemSchema]
    header: tuple[str, ...]  # the header's inputs, each named after its field
    qty: str
    extra: str
    field: str
    read: Callable[[str, str, str], Any]
    blank: Callable[[OrderFile], dict[str, Any]]  # a new one's form for the order
    #: The confirmation once sent, from the user's data access, the order's file, the
    #: document as loaded and the row created.
    sent: Callable[[DataAccess, OrderFile, Mapping[str, Any], Mapping[str, Any]], str]

    @property
    def template(self) -> str:
        """The page, ``orders/<action>.html``, which extends ``orders/_lines_form.html``."""
        return f"orders/{self.action}.html"


def _document_form(key: int, document: _LineDocument) -> Any:
    """A new document's form for the order, or the order's page saying it takes none now."""
    acc = access()
    file = order_file(acc, key, reports())
    if not _actions(acc, file.order)[document.action]:
        return _not_now(acc, file, document.closed)
    return _page(document.template, file, acc, form=document.blank(file), document=document)


def _typed_document(
    document: _LineDocument, key: int, file: OrderFile
) -> tuple[dict[str, Any], Errors]:
    """The document as the form sends it, loaded by its schema, and every error by input:
    the form's own first (a line whose quantity or other input does not read is left out
    of what the schema checks), then the schema's."""
    numbers = {str(x.row["id"]): x.number for x in file.lines}
    errors: Errors = {}
    data: dict[str, Any] = {"purchase_order": key}
    for name in document.header:
        if request.form.get(name, "").strip():
            data[name] = request.form[name].strip()
    lines, keys = [], []
    for line_key in request.form.getlist("line"):
        number = numbers.get(line_key, line_key)
        try:
            qty = _quantity(request.form.get(f"qty-{line_key}", ""), "the quantity", number)
        except OrderError as exc:
            errors[f"qty-{line_key}"] = [str(exc)]
            continue
        if not qty:
            continue  # not on this document
        typed = request.form.get(f"{document.extra}-{line_key}", "")
        try:
            value = document.read(typed, file.currency, number)
        except OrderError as exc:
            errors[f"{document.extra}-{line_key}"] = [str(exc)]
            continue
        lines.append(
            {
                "po_line": int(line_key) if line_key.isdigit() else line_key,
                document.qty: qty,
                document.field: value,
            }
        )
        keys.append(line_key)
    if not lines and not errors:
        errors["lines"] = [f"{document.action} at least one line"]
    data["lines"] = lines
    try:
        data = document.schema(view=SUPPLIER_USER).load(data)
    except ValidationError as exc:
        found = _line_errors(
            exc,
            keys,
            [numbers.get(k, k) for k in keys],
            {document.qty: "qty", document.field: document.extra, "po_line": "qty"},
        )
        for name, messages in found.items():
            errors.setdefault(name, messages)
    return data, errors


def _send(key: int, document: _LineDocument) -> Any:
    """Send the supplier's document against the order: all of it, or nothing with every
    error named next to its input."""
    acc = access()
    file = order_file(acc, key, reports())
    form = dict(request.form)
    data, errors = _typed_document(document, key, file)
    if errors:
        return _page(
            document.template,
            file,
            acc,
            form=form,
            document=document,
            errors=errors,
            status=422,
            message=f"The {document.noun} was not sent: see the fields marked below.",
        )
    try:
        created = acc.create(document.resource, data)
    except DataError as exc:
        errors, message = refusal(exc)
        return _page(
            document.template,
            file,
            acc,
            form=form,
            document=document,
            errors=errors,
            message=message,
            status=exc.status,
        )
    flash(document.sent(acc, file, data, created))
    return redirect(url_for("orders.detail", key=key))


# -- the supplier's ship notice -------------------------------------------------------


def _ship_form(file: OrderFile) -> dict[str, Any]:
    """A new ship notice: today, and each line's quantity still owed."""
    form: dict[str, Any] = {
        "number": "",
        "ship_date": clock.today().isoformat(),
        "expected_delivery": "",
    }
    for line in file.lines:
        owed = max(0, due_quantity(line.row) - line.shipped)
        form[f"qty-{line.row['id']}"] = str(owed) if owed else ""
        form[f"sscc-{line.row['id']}"] = ""
    return form


def _sscc(typed: str, currency: str, line: str) -> str:
    """A carton's SSCC as typed (its schema checks the digits)."""
    return typed.strip()


def _ship_sent(
    acc: DataAccess, file: OrderFile, data: Mapping[str, Any], created: Mapping[str, Any]
) -> str:
    """The ship notice's confirmation, with the status it moved the order to."""
    after = acc.get("purchase-orders", file.order["id"])["status"]
    return f"Ship notice {data['number']} sent: the order is {STATUS_LABELS[after].lower()}."


SHIP_NOTICE = _LineDocument(
    action="ship",
    noun="ship notice",
    closed="it ships once acknowledged",
    resource="shipments",
    schema=ShipmentCreate,
    header=("number", "ship_date", "expected_delivery"),
    qty="qty_shipped",
    extra="sscc",
    field="sscc",
    read=_sscc,
    blank=_ship_form,
    sent=_ship_sent,
)


@bp.get(f"{INT_KEY}/ship")
@role_required(SUPPLIER_USER)
def ship_form(key: int) -> Any:
    """The supplier's ship notice (ASN): a carton's SSCC-18 per line shipped."""
    return _document_form(key, SHIP_NOTICE)


@bp.post(f"{INT_KEY}/ship")
@role_required(SUPPLIER_USER)
def ship(key: int) -> Any:
    """Send the ship notice; the order becomes partially shipped or shipped."""
    return _send(key, SHIP_NOTICE)


# -- the supplier's invoice -----------------------------------------------------------


def _invoice_form(file: OrderFile) -> dict[str, Any]:
    """A new invoice: today, and per line what shipped and is not invoiced yet, at the
    order's price."""
    form: dict[str, Any] = {"number": "", "invoice_date": clock.today().isoformat(), "due_date": ""}
    for line in file.lines:
        key = line.row["id"]
        due = max(0, line.shipped - line.invoiced)
        form[f"qty-{key}"] = str(due) if due else ""
        form[f"price-{key}"] = str(price_major(int(line.row["unit_cost_minor"]), file.currency))
    return form


def _invoice_sent(
    acc: DataAccess, file: OrderFile, data: Mapping[str, Any], created: Mapping[str, Any]
) -> str:
    """The invoice's confirmation, with its total as the hub computed it."""
    total = price_major(int(created["total_minor"]), file.currency)
    return f"Invoice {created['number']} sent: {total} {file.currency}."


INVOICE = _LineDocument(
    action="invoice",
    noun="invoice",
    closed="it is invoiced once something has shipped",
    resource="invoices",
    schema=InvoiceCreate,
    header=("number", "invoice_date", "due_date"),
    qty="qty",
    extra="price",
    field="unit_price_minor",
    read=_price,
    blank=_invoice_form,
    sent=_invoice_sent,
)


@bp.get(f"{INT_KEY}/invoice")
@role_required(SUPPLIER_USER)
def invoice_form(key: int) -> Any:
    """The supplier's invoice for what shipped."""
    return _document_form(key, INVOICE)


@bp.post(f"{INT_KEY}/invoice")
@role_required(SUPPLIER_USER)
def invoice(key: int) -> Any:
    """Send the invoice: exact amounts in the order's currency."""
    return _send(key, INVOICE)


@bp.get("/suggestions")
@role_required(DISTRIBUTOR_USER)
def suggestions() -> Any:
    """Suggested orders from one supplier (``?pair=``, else the first by name): each
    location x SKU's base-stock suggestion with the inputs behind it, and per location
    (and currency) the links that fill the order form with them, to check and place."""
    acc = access()
    partners = _partners(acc)
    chosen = request.args.get("pair", "")
    if chosen.isdigit():
        pair_id: int | None = int(chosen)
        if pair_id not in partners:  # not its own, or not trading: refused and audited
            acc.deny("partnerships", [pair_id], "pair")
    else:
        pair_id = min(partners, key=lambda p: (partners[p]["name"], p)) if partners else None
    today = clock.today()
    found = replenishment.plan(acc, pair_id, today) if pair_id is not None else None
    orders: list[dict[str, Any]] = []
    if found is not None:
        for lines in found.to_order.values():
            links = _order_links(found.pair.id, lines, today)
            orders += [
                {"place": lines[0].location, "query": query, "lines": count,
                 "part": n, "parts": len(links)}
                for n, (query, count) in enumerate(links, 1)
            ]  # fmt: skip
    return render_template(
        "orders/suggestions.html",
        plan=found,
        partners=partners,
        orders=orders,
        formula=replenishment_rules.FORMULA,
    )


@bp.get("/suggestions.xlsx")
@role_required(DISTRIBUTOR_USER)
def suggestions_export() -> Any:
    """The suggestions of one supplier (``?pair=``) as Excel, every input beside each
    number, typed cells (quantities as integers, the rest as exact decimals)."""
    acc = access()
    chosen = request.args.get("pair", "")
    if not chosen.isdigit() or int(chosen) not in _partners(acc):
        acc.deny("partnerships", [chosen[:20]], "pair")
    found = replenishment.plan(acc, int(chosen), clock.today())
    rows = [
        {
            "location": insights.location_label(x.location),
            "gtin": x.sku["gtin"], "sku": x.sku["description"], "demand": x.suggestion.demand,
            "demand_sigma": x.suggestion.demand_sigma, "lead_time": x.lead_time.weeks,
            "lead_time_sigma": x.lead_time.sigma_weeks, "z": x.suggestion.z,
            "safety_stock": x.suggestion.safety_stock, "base_stock": x.suggestion.base_stock,
            "on_hand": x.inputs.on_hand, "in_transit": x.inputs.in_transit,
            "on_order": x.inputs.on_order, "placed": x.placed,
            "position": x.suggestion.position, "case_pack": x.inputs.case_pack,
            "cases": x.suggestion.cases, "quantity": x.suggestion.quantity,
            "lead_time_source": x.lead_time.source,
        }
        for x in found.lines
    ]  # fmt: skip
    columns = [
        ("location", "Location"), ("gtin", "GTIN"), ("sku", "SKU"),
        ("demand", "d: units a week"), ("demand_sigma", "sigma_d: units a week"),
        ("lead_time", "LT: weeks"), ("lead_time_sigma", "sigma_LT: weeks"), ("z", "z"),
        ("safety_stock", "Safety stock"), ("base_stock", "Base stock"),
        ("on_hand", "On hand"), ("in_transit", "In transit"),
        ("on_order", "On order"), ("placed", "Of which ordered here since the snapshot"),
        ("position", "Position"), ("case_pack", "Case pack"), ("cases", "Cases"),
        ("quantity", "Suggested units"), ("lead_time_source", "Lead time from"),
    ]  # fmt: skip
    return xlsx_response(
        acc,
        filename=f"suggested-orders-{found.pair.id}-{clock.today().isoformat()}.xlsx",
        sheet="Suggested orders",
        columns=columns,
        rows=rows,
        collection="inventory_positions",
        detail={"pair": found.pair.id, "formula": replenishment_rules.FORMULA},
    )


def _order_links(
    pair: int, lines: list[replenishment.Line], today: dt.date
) -> list[tuple[dict[str, str], int]]:
    """The new-order form's query strings for one location's suggestions, with their
    line counts: a form per currency and per :data:`MAX_LINES` lines, requested for when
    the slowest line's lead time brings it."""
    by_currency: dict[str, list[replenishment.Line]] = {}
    for line in lines:
        by_currency.setdefault(str(line.sku["currency"]), []).append(line)
    links = []
    for currency, same in sorted(by_currency.items()):
        for start in range(0, len(same), MAX_LINES):
            chunk = same[start : start + MAX_LINES]
            due = today + dt.timedelta(days=max(replenishment.lead_days(x) for x in chunk))
            query = {"partnership": str(pair), "ship_to": str(chunk[0].location["id"]),
                     "ordered_on": today.isoformat(), "requested_date": due.isoformat(),
                     "currency": currency}  # fmt: skip
            for n, line in enumerate(chunk, 1):
                query[f"sku-{n}"] = str(line.sku["gtin"])
                query[f"qty-{n}"] = str(line.suggestion.quantity)
                query[f"price-{n}"] = str(price_major(int(line.sku["cost_minor"]), currency))
            links.append((query, len(chunk)))
    return links


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "Orders", "orders.index", (DISTRIBUTOR_USER, SUPPLIER_USER, ACCOUNT_MANAGER), 35)
    add_nav(app, "Suggested orders", "orders.suggestions", (DISTRIBUTOR_USER,), 36)
