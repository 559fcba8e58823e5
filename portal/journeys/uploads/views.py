"""The distributor's data-uploads pages: upload a POS, inventory or forecast file, follow its
import, download its rejects, keep the column mappings, and see the feeds' freshness.

An upload goes through the same service as ``POST /api/v1/imports``
(:func:`portal.data.imports.start_upload`): the file is spooled and a separate
``python -m ingest`` process imports it; this web worker never parses it. The import's
page polls ``GET /api/v1/imports/<id>`` with ``static/uploads.js`` while it runs (and
refreshes itself without JavaScript), then shows the result. Only the distributor's own
imports are shown: another organization's import id is a 404, audited as a denial.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from domain import clock
from domain.ingest import DATE_FORMATS, KINDS, cadence_label
from domain.roles import DISTRIBUTOR_USER
from ingest.readers import FIELDS, FORMATS
from portal.auth import role_required
from portal.config import Config
from portal.data import DataAccess, DataError
from portal.data.imports import (
    count_imports,
    distributor_of,
    imports_of,
    iter_imports,
    mapping_of,
    own_import,
    rejects_path,
    save_column_mapping,
    set_cadence,
    start_upload,
)
from portal.data.insights import feeds_with_staleness
from portal.data.registry import INT_KEY
from portal.pages import access, add_nav, answer_errors_as_pages
from portal.schemas.imports import CadenceFormSchema
from portal.xlsx import xlsx_response

bp = Blueprint("uploads", __name__, url_prefix="/uploads")
answer_errors_as_pages(bp)

PER_PAGE = 20
RUNNING = ("queued", "running")
KIND_LABELS = {"pos": "POS sales", "inventory": "Inventory", "forecasts": "Forecasts"}
FORMAT_LABELS = {
    "csv": "CSV",
    "xlsx": "Excel (.xlsx)",
    "x12": "X12 852, 846 or 830",
    "edifact": "EDIFACT SLSRPT / INVRPT",
}
FIELD_LABELS = {
    "item": "Item code",
    "gtin": "GTIN",
    "store": "Store code",
    "gln": "Store GLN",
    "day": "Date",
    "units": "Units sold",
    "net_sales": "Net sales",
    "currency": "Currency",
    "on_hand": "On hand",
    "in_transit": "In transit",
    "on_order": "On order",
    "week": "Week",
    "uom": "Unit of measure",
}
#: Labels that differ for one kind of file.
KIND_FIELD_LABELS = {"forecasts": {"units": "Units forecast"}}
#: The choices of a mapping's file settings, each with how a person would know it.
SETTING_CHOICES = {
    "encoding": {
        "utf-8": "UTF-8",
        "windows-1252": "Windows-1252 (Western European; Excel's CSV on Windows)",
        "iso-8859-1": "ISO-8859-1 (Latin-1)",
        "iso-8859-15": "ISO-8859-15 (Latin-9, with the euro sign)",
    },
    "delimiter": {
        "": "Found from the header line",
        ",": "Comma ( , )",
        ";": "Semicolon ( ; )",
        "\t": "Tab",
        "|": "Vertical bar ( | )",
    },
    "decimal_separator": {".": "Point: 1234.56", ",": "Comma: 1234,56"},
    "thousands_separator": {
        "": "None: 1234567",
        ".": "Point: 1.234.567",
        ",": "Comma: 1,234,567",
        " ": "Space: 1 234 567",
        "'": "Apostrophe: 1'234'567",
    },
}
#: The date formats offered, as a person writes them.
DATE_FORMAT_LABELS = {
    "%Y-%m-%d": "yyyy-mm-dd",
    "%Y%m%d": "yyyymmdd",
    "%d/%m/%Y": "dd/mm/yyyy",
    "%m/%d/%Y": "mm/dd/yyyy",
    "%d.%m.%Y": "dd.mm.yyyy",
}
HISTORY_COLUMNS = [
    ("id", "Import"),
    ("filename", "File"),
    ("kind", "Kind"),
    ("format", "Format"),
    ("source", "Source"),
    ("status", "Status"),
    ("rows_read", "Rows read"),
    ("rows_new", "New"),
    ("rows_changed", "Changed"),
    ("rows_unchanged", "Unchanged"),
    ("rows_rejected", "Rejected"),
    ("rows_per_s", "Rows per second"),
    ("data_from", "Data from"),
    ("data_through", "Data through"),
    ("created_at", "Received (UTC)"),
    ("finished_at", "Finished (UTC)"),
    ("error", "Failure reason"),
]


def _config() -> Config:
    return current_app.extensions["tandem.config"]


def _page_number() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else 1


def _uploads_page(
    acc: DataAccess,
    *,
    upload_errors: Mapping[str, list[str]] | None = None,
    upload_message: str | None = None,
    mapping_errors: Mapping[str, Mapping[str, list[str]]] | None = None,
    mapping_forms: Mapping[str, Mapping[str, Any]] | None = None,
    cadence_errors: Mapping[str, list[str]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The uploads page: the form, the feeds, the history and the mappings."""
    org = distributor_of(acc.actor)
    config = _config()
    page = _page_number()
    total = count_imports(acc.hub, org)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(page, pages)
    history = imports_of(acc.hub, org, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    mappings = {kind: mapping_of(acc.hub, org, kind) for kind in KINDS}
    for kind, posted in (mapping_forms or {}).items():
        mappings[kind] = {**mappings[kind], **posted}
    return render_template(
        "uploads/index.html",
        kinds=KINDS,
        kind_labels=KIND_LABELS,
        formats=FORMATS,
        format_labels=FORMAT_LABELS,
        field_labels={k: {**FIELD_LABELS, **KIND_FIELD_LABELS.get(k, {})} for k in KINDS},
        fields=FIELDS,
        enabled=bool(config.hub_db_url and config.spool_dir),
        form=request.form if request.method == "POST" else {},
        upload_errors=upload_errors or {},
        upload_message=upload_message,
        feeds=feeds_with_staleness(acc, config.stale_after_days),
        cadence_errors=cadence_errors or {},
        history=history,
        page=page,
        pages=pages,
        total=total,
        mappings=mappings,
        mapping_errors=mapping_errors or {},
        setting_choices=SETTING_CHOICES,
        date_formats=[(f, DATE_FORMAT_LABELS[f]) for f in DATE_FORMATS],
        running=RUNNING,
    ), status


@bp.get("")
@role_required(DISTRIBUTOR_USER)
def index() -> tuple[str, int]:
    """Upload form, feed freshness, upload history (paged) and column mappings."""
    return _uploads_page(access())


@bp.post("")
@role_required(DISTRIBUTOR_USER)
def upload() -> Any:
    """Start importing the file in the background, then show its import's page."""
    acc = access()
    try:
        row = start_upload(
            acc,
            _config(),
            kind=request.form.get("kind"),
            fmt=request.form.get("format"),
            upload=request.files.get("file"),
            source="portal",
        )
    except DataError as exc:
        status = 422 if exc.status == 400 else exc.status
        return _uploads_page(
            acc, upload_errors=exc.errors, upload_message=exc.message, status=status
        )
    return redirect(url_for("uploads.detail", key=row["id"]), 303)


@bp.get(INT_KEY)
@role_required(DISTRIBUTOR_USER)
def detail(key: int) -> Any:
    """One import: its progress while it runs, then its counts (or why it failed)."""
    row = own_import(access(), key)
    return render_template(
        "uploads/detail.html",
        row=row,
        running=row["status"] in RUNNING,
        kind_labels=KIND_LABELS,
    )


@bp.get(f"{INT_KEY}/rejects")
@role_required(DISTRIBUTOR_USER)
def rejects(key: int) -> Response:
    """The import's rejected rows as CSV: line, field, reason."""
    path = rejects_path(own_import(access(), key), _config())
    return send_file(
        path, mimetype="text/csv", as_attachment=True, download_name=f"import-{key}-rejects.csv"
    )


@bp.post("/mappings/<kind>")
@role_required(DISTRIBUTOR_USER)
def save_mapping(kind: str) -> Any:
    """Save which header of the distributor's files holds which field, and how the files
    are written (date format, encoding, delimiter, decimal and thousands separators)."""
    acc = access()
    org = distributor_of(acc.actor)
    if kind not in KINDS:
        raise DataError("unknown data kind", {"kind": [f"must be one of {', '.join(KINDS)}"]})
    # An empty box means "not mapped": the common header names are tried for that field.
    columns = {
        name: request.form[f"column-{name}"].strip()
        for name in FIELDS[kind]
        if request.form.get(f"column-{name}", "").strip()
    }
    # An empty date format box is the default format; the settings are chosen from lists.
    date_format = request.form.get("date_format", "").strip()
    posted = {name: request.form.get(name) for name in SETTING_CHOICES}
    try:
        save_column_mapping(
            acc.hub, org, kind, {"columns": columns, "date_format": date_format or None, **posted}
        )
    except DataError as exc:
        return _uploads_page(
            acc,
            mapping_errors={kind: exc.errors or {"_schema": [exc.message]}},
            mapping_forms={kind: {"columns": columns, "date_format": date_format, **posted}},
            status=422 if exc.status == 400 else exc.status,
        )
    flash(f"The {KIND_LABELS[kind]} column mapping is saved; the next upload uses it.")
    return redirect(url_for("uploads.index", _anchor=f"mapping-{kind}"), 303)


@bp.post("/cadence")
@role_required(DISTRIBUTOR_USER)
def save_cadence() -> Any:
    """Set how often one of the distributor's feeds comes (its staleness follows it), or
    clear it so the cadence learned from its deliveries counts."""
    acc = access()
    org = distributor_of(acc.actor)
    try:
        loaded = CadenceFormSchema().load(request.form.to_dict())
        set_cadence(acc.hub, org, loaded.get("kind"), loaded["cadence_days"])
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _uploads_page(acc, cadence_errors=messages, status=422)
    except DataError as exc:
        return _uploads_page(acc, cadence_errors=exc.errors, status=exc.status)
    days, label = loaded["cadence_days"], KIND_LABELS[loaded["kind"]]
    if days:
        flash(f"The {label} feed is expected {cadence_label(days)}; its staleness follows that.")
    else:
        flash(f"The {label} feed's cadence is learned from its deliveries again.")
    return redirect(url_for("uploads.index", _anchor="freshness-heading"), 303)


def _typed(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """History rows with real dates and timestamps, for Excel."""
    for row in rows:
        out = dict(row)
        for key in ("data_from", "data_through"):
            if isinstance(out.get(key), str):
                with contextlib.suppress(ValueError):
                    out[key] = dt.date.fromisoformat(out[key][:10])
        for key in ("created_at", "started_at", "finished_at"):
            if isinstance(out.get(key), str):
                with contextlib.suppress(ValueError):
                    out[key] = dt.datetime.fromisoformat(out[key])
        yield out


@bp.get("/history.xlsx")
@role_required(DISTRIBUTOR_USER)
def history_xlsx() -> Response:
    """Every import of the distributor (no cap), as an Excel workbook."""
    acc = access()
    org = distributor_of(acc.actor)
    today = clock.today().isoformat()
    return xlsx_response(
        acc,
        filename=f"uploads-{today}.xlsx",
        sheet="Uploads",
        columns=HISTORY_COLUMNS,
        rows=_typed(iter_imports(acc.hub, org)),
        collection="imports",
        detail={"table": "upload history", "distributor": org},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(cadence_label, "cadence")
    add_nav(app, "Data uploads", "uploads.index", (DISTRIBUTOR_USER,), 20)
