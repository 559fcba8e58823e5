"""The planning journey's pages: forecast vs commitment vs sales, and the supplier's
commitments.

Both sides of a pair, and its account managers, see one pair at a time (``?pair=``):
per SKU and ISO week the distributor's forecast, the supplier's commitment and the units
sold, frozen weeks (inside the SKU's lead time) marked and locked, commitments further
from the forecast than the pair's tolerance highlighted, and each plan's accuracy (WAPE,
bias) over the past weeks. The supplier answers by form (the open weeks' cells) or by an
Excel round trip (template, upload, preview with every error by row and field, confirm;
nothing is stored until confirmed, and all or nothing then).

Every read and write goes through the data layer as the signed-in user; the rules live in
:mod:`domain.commitments` and :mod:`domain.forecasts`.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping, Sequence
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
from werkzeug.exceptions import RequestEntityTooLarge

from domain import clock
from domain import commitments as rules
from domain.forecasts import week_label
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.auth import role_required
from portal.config import Config
from portal.data import DataAccess, DataError, insights, planning
from portal.data import writes as data_writes
from portal.pages import access, add_nav, answer_errors_as_pages, refusal
from portal.workbooks import (
    COMMITMENTS_SHEET,
    MAX_ROWS,
    UploadSpool,
    WorkbookError,
    build_commitments_template,
    preview,
    read_rows,
)

bp = Blueprint("planning", __name__, url_prefix="/planning")
answer_errors_as_pages(bp)

READERS = (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WHAT = "a commitments workbook"


def _config() -> Config:
    return current_app.extensions["tandem.config"]


def _chosen(labels: Mapping[int, str]) -> int | None:
    """The pair asked for (``?pair=`` or the form's), refused and audited if not the
    user's; else the first by name."""
    asked = request.values.get("pair", "")
    if asked.isdigit():
        if int(asked) not in labels:
            access().deny("partnerships", [asked[:20]], "pair")
        return int(asked)
    return min(labels, key=lambda p: (labels[p], p)) if labels else None


def reference(acc: DataAccess) -> rules.Reference:
    """What the supplier's rows may name: its pairs by distributor name, its SKUs."""
    names = insights.org_names(acc)
    pairs = {
        names.get(p.distributor, str(p.distributor)).casefold(): p.id
        for p in acc.scope.pairs.values()
        if p.supplier == acc.org
    }
    skus = acc.rows(
        "skus",
        {"_and": [{"supplier": {"_eq": acc.org}}, {"status": {"_eq": "active"}}]},
        fields=("id", "gtin", "description", "lead_time_days"),
    )
    return rules.Reference(
        pairs,
        {
            str(s["gtin"]): rules.Sku(int(s["id"]), str(s["gtin"]), str(s["description"]),
                                      int(s["lead_time_days"]))
            for s in skus
        },
    )  # fmt: skip


def _page(
    labels: Mapping[int, str],
    found: planning.Comparison | None,
    *,
    errors: Mapping[str, list[str]] | None = None,
    entered: Mapping[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "planning/comparison.html",
        labels=labels,
        plan=found,
        errors=errors or {},
        entered=entered or {},
        error=error,
        week_label=week_label,
        cell_name=cell_name,
        back=planning.WEEKS_BACK,
        one_week=dt.timedelta(days=7),
        editable=current_user.role == SUPPLIER_USER,
    ), status


@bp.get("")
@role_required(*READERS)
def index() -> Any:
    """One pair's forecast, commitment and sales per SKU and week."""
    labels = insights.pair_labels(access())
    pair = _chosen(labels)
    if pair is None:
        return _page(labels, None)
    return _page(labels, planning.comparison(access(pair), pair, clock.today()))


def cell_name(sku: int, week: dt.date) -> str:
    """The form field of one SKU x week's units."""
    return f"u:{sku}:{week.isoformat()}"


@bp.post("/commitments")
@role_required(SUPPLIER_USER)
def commit() -> Any:
    """The form's commitments: every changed open week's units (and the note given for
    them), checked together; stored all or none."""
    labels = insights.pair_labels(access())
    pair = _chosen(labels)
    if pair is None:
        return redirect(url_for("planning.index"))
    acc = access(pair)
    today = clock.today()
    found = planning.comparison(acc, pair, today)
    ref = reference(acc)
    name = labels[pair]
    note = request.form.get("note", "").strip() or None
    entered: dict[str, str] = {}
    values: list[tuple[str, dict[str, Any]]] = []
    for line in found.lines:
        for cell in line.cells:
            field = cell_name(int(line.sku["id"]), cell.week)
            text = request.form.get(field)
            if text is None:
                continue
            entered[field] = text
            text = text.strip()
            if not text or text == str(cell.commitment if cell.commitment is not None else ""):
                continue  # left empty, or unchanged
            values.append((field, {"distributor": name, "gtin": line.sku["gtin"],
                                   "week": cell.week, "units": text, "note": note}))  # fmt: skip
    errors: dict[str, list[str]] = {}
    items = []
    for field, row in values:
        made, problems = rules.check_row(0, row, ref, today)
        for problem in problems:
            errors.setdefault(field if problem.field != "note" else "note", []).append(
                problem.message
            )
        if made is not None:
            items.append(_as_write(made))
    if errors:
        return _page(labels, found, errors=errors, entered=entered, status=422,
                     error="Some commitments were refused; nothing was saved.")  # fmt: skip
    if not items:
        flash("Nothing changed: no commitment was saved.")
        return redirect(url_for("planning.index", pair=pair))
    try:
        data_writes.set_commitments(acc, items)
    except DataError as exc:
        problems, message = refusal(exc)
        return _page(labels, found, errors=problems, entered=entered, error=message,
                     status=exc.status)  # fmt: skip
    flash(f"{_counted(len(items), 'commitment')} saved for {name}.")
    return redirect(url_for("planning.index", pair=pair))


def _as_write(made: rules.Commitment) -> dict[str, Any]:
    return {"partnership": made.pair, "sku": made.sku, "week_start": made.week,
            "units": made.units, "note": made.note}  # fmt: skip


def _counted(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- the Excel round trip -------------------------------------------------------------------


@bp.get("/template.xlsx")
@role_required(SUPPLIER_USER)
def template() -> Response:
    """The supplier's commitments workbook: one row per distributor, SKU and open week
    shown on the page, with the forecast it may read and its current commitment."""
    labels = insights.pair_labels(access())
    today = clock.today()
    rows: list[Sequence[Any]] = []
    for pair in sorted(labels, key=lambda p: (labels[p], p)):
        found = planning.comparison(access(pair), pair, today)
        for line in found.lines:
            for cell in line.cells:
                if cell.frozen:
                    continue
                rows.append((labels[pair], line.sku["gtin"], line.sku["description"],
                             cell.week, cell.forecast, cell.commitment, cell.note))  # fmt: skip
    access().record("export", "commitments", [], {"template": "commitments", "rows": len(rows)})
    return Response(
        build_commitments_template(rows, today),
        mimetype=XLSX,
        headers={"Content-Disposition": "attachment; filename=commitments.xlsx"},
    )


def spool() -> UploadSpool:
    base = _config().spool_dir or Path(tempfile.gettempdir()) / "tandem-portal"
    return UploadSpool(base, "commitment", str(current_user.id))


def _check_file(path: Path) -> tuple[list[Any], rules.Checked]:
    rows = read_rows(path, sheet=COMMITMENTS_SHEET, columns=rules.COLUMNS,
                     required=rules.REQUIRED, what=WHAT)  # fmt: skip
    checked = rules.check_rows(
        [(r.number, r.values) for r in rows], reference(access()), clock.today()
    )
    return rows, checked


def _upload_page(
    *,
    message: str | None = None,
    error: str | None = None,
    rows: list[Any] | None = None,
    checked: rules.Checked | None = None,
    token: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "planning/upload.html",
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
        sheet=COMMITMENTS_SHEET,
        max_rows=MAX_ROWS,
        max_mb=_config().max_upload_mb,
    ), status


@bp.get("/upload")
@role_required(SUPPLIER_USER)
def upload_form() -> Any:
    return _upload_page()


@bp.post("/upload")
@role_required(SUPPLIER_USER)
def upload() -> Any:
    """Keep the workbook server-side and show its preview; nothing is stored in the hub."""
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_page(error="Choose the workbook (.xlsx) to upload.", status=400)
    token, path = spool().keep(file.save)
    try:
        rows, checked = _check_file(path)
    except WorkbookError as exc:
        path.unlink(missing_ok=True)
        return _upload_page(error=exc.message, status=422)
    if not checked.clean:
        path.unlink(missing_ok=True)  # a fixed file is uploaded again
        return _upload_page(
            rows=rows,
            checked=checked,
            status=422,
            error=f"The workbook has {_counted(len(checked.errors), 'error')}: fix them and "
            "upload it again. Nothing was stored.",
        )
    return _upload_page(
        rows=rows,
        checked=checked,
        token=token,
        message=f"No errors: {_counted(len(checked.commitments), 'commitment')}, ready to "
        "save. Nothing is stored until you confirm.",
    )


@bp.post("/upload/confirm")
@role_required(SUPPLIER_USER)
def confirm() -> Any:
    """Check the kept workbook again against the hub as it is now (a week may have
    frozen since the preview), then store every commitment in it, all or none."""
    path = spool().claim(request.form.get("token", ""))
    if path is None:
        return _upload_page(
            status=409,
            error="This upload was already confirmed, or it waited too long. Nothing more "
            "was stored: upload the workbook again.",
        )
    try:
        rows, checked = _check_file(path)
        if not checked.clean:
            return _upload_page(
                rows=rows,
                checked=checked,
                status=422,
                error="Since the preview, the workbook no longer passes: fix the errors "
                "and upload it again. Nothing was stored.",
            )
        try:
            data_writes.set_commitments(access(), [_as_write(c) for c in checked.commitments])
        except DataError as exc:
            _, message = refusal(exc)
            return _upload_page(rows=rows, checked=checked, error=message, status=exc.status)
    except WorkbookError as exc:
        return _upload_page(error=exc.message, status=422)
    finally:
        path.unlink(missing_ok=True)
    flash(f"{_counted(len(checked.commitments), 'commitment')} saved.")
    return redirect(url_for("planning.index"))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    return _upload_page(
        status=413,
        error=f"The file is larger than the portal takes "
        f"({_config().max_upload_mb} MB). Nothing was stored.",
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "Planning", "planning.index", READERS, 33)
