"""Excel exports: any table a page shows, and every resource list, as an ``.xlsx`` file.

:func:`xlsx_response` is the one way to answer with a workbook. Pages call it for the
tables they compute; ``/exports/<resource>.xlsx`` calls it for every resource of the
registry, with the API list's filters, walking every page of the user's governed scope.

Cell types: dates are Excel dates, timestamps Excel date-times (UTC), integers numbers,
and :class:`~decimal.Decimal` exact decimal numbers. **Money stays integer minor units**
(e.g. ``net_sales_minor`` = 1250 for 12.50) in its own column next to its ``currency``
column, exactly as the API gives it; it is never turned into a float. Integers beyond
what Excel holds exactly (2^53) are written as text. Every string is a string cell, so
text such as ``=HYPERLINK(...)`` is never a formula (formula injection), and text that
starts with ``=``, ``+``, ``-`` or ``@`` is also quote-prefixed, so re-typing it in
Excel keeps it text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from flask import Blueprint, Flask, send_file
from flask_login import login_required
from marshmallow import Schema, ValidationError, fields
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from werkzeug.wrappers import Response

from domain import clock
from portal.api import load_query
from portal.data import DataAccess
from portal.data.errors import Invalid, NotFound
from portal.data.registry import RESOURCES, Resource
from portal.pages import access, answer_errors_as_pages
from portal.schemas.base import HubDate, HubDateTime

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@")
EXCEL_MAX_EXACT_INT = 2**53
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")

bp = Blueprint("exports", __name__, url_prefix="/exports")
answer_errors_as_pages(bp)


# -- the workbook ----------------------------------------------------------------------


def _sheet_title(name: str) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``."""
    return (_SHEET_BAD.sub(" ", name).strip() or "Sheet")[:31]


def _text(value: str) -> str:
    # Control characters are not allowed in the file format: openpyxl would refuse them.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """One cell of the right Excel type for ``value``."""
    if value is None or isinstance(value, bool | float | Decimal):
        return value
    if isinstance(value, int):
        # Excel holds numbers as doubles: larger integers would silently change.
        return value if abs(value) < EXCEL_MAX_EXACT_INT else str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # Excel has no time zones: write UTC.
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        cell = WriteOnlyCell(ws, value)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, Mapping):
        value = json.dumps(value, sort_keys=True, default=str)
    elif isinstance(value, list | tuple | set | frozenset):
        value = ", ".join(str(v) for v in value)
    text = _text(str(value))
    cell = WriteOnlyCell(ws, text)
    # A string cell is never evaluated, whatever it starts with (formula injection).
    cell.data_type = "s"
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True
    return cell


def _write_workbook(
    out: IO[bytes],
    sheet: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Mapping[str, Any]],
) -> int:
    """Write the rows as one sheet (write-only: memory stays flat); return how many."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(sheet))
    bold = Font(bold=True)
    header = []
    for _key, title in columns:
        cell = _cell(ws, title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    ws.freeze_panes = "A2"
    n = 0
    for row in rows:
        ws.append([_cell(ws, row.get(key)) for key, _title in columns])
        n += 1
    wb.save(out)
    return n


def xlsx_response(
    acc: DataAccess,
    *,
    filename: str,
    sheet: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Mapping[str, Any]],
    collection: str,
    detail: Mapping[str, Any] | None = None,
) -> Response:
    """Answer with the rows as an Excel workbook download, audited as an export.

    ``columns`` are (row key, header) pairs. The workbook is written to a temporary file
    (no row cap, flat memory), one ``export`` audit entry is written with the row count,
    and the file is streamed in chunks; the temporary file is gone once the answer ends.
    ``rows`` may be a generator that reads the hub: a hub failure while writing raises
    before anything is sent. Cell types are described in this module's docstring.
    """
    if not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    handle = tempfile.NamedTemporaryFile(prefix="tandem-export-", suffix=".xlsx")  # noqa: SIM115
    try:
        n = _write_workbook(handle, sheet, columns, rows)
        acc.record("export", collection, [], {"rows": n, "filename": filename, **(detail or {})})
        handle.flush()
        # Closing the temporary file deletes it; this second handle keeps its bytes
        # readable until the answer has been sent (and closes it then).
        reader = open(handle.name, "rb")  # noqa: SIM115
    finally:
        handle.close()
    response = send_file(reader, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
    response.content_length = os.fstat(reader.fileno()).st_size
    response.headers["Cache-Control"] = "no-store"  # partners' data: no shared caches
    return response


# -- every resource list as a workbook ---------------------------------------------------


def _typed_columns(schema: Schema) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The dumped keys, in the schema's order, and a parser for the date-valued ones."""
    columns: list[tuple[str, str]] = []
    parsers: dict[str, Any] = {}
    for name, field in schema.dump_fields.items():
        key = field.data_key or name
        columns.append((key, key))
        if isinstance(field, HubDateTime):
            parsers[key] = dt.datetime.fromisoformat
        elif isinstance(field, HubDate | fields.Date):
            parsers[key] = lambda text: dt.date.fromisoformat(text[:10])
    return columns, parsers


def _typed(row: Mapping[str, Any], parsers: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key, parse in parsers.items():
        if isinstance(out.get(key), str):
            # Not a date after all: the text goes out as the API gives it.
            with contextlib.suppress(ValueError):
                out[key] = parse(out[key])
    return out


def _query(res: Resource) -> dict[str, Any]:
    try:
        query = load_query(res.query_schema()())
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid("the export's filters are not valid", messages) from None
    query.pop("page", None)
    query.pop("per_page", None)
    return query


@bp.get("/<resource>.xlsx")
@login_required
def resource_list(resource: str) -> Response:
    """Every row of a resource list the user may see, with the API list's filters."""
    res = RESOURCES.get(resource)
    if res is None:
        raise NotFound(f"no resource {resource!r}")
    query = _query(res)
    acc = access()
    schema = res.schema(exclude=res.embedded)
    columns, parsers = _typed_columns(schema)
    rows = (_typed(schema.dump(row), parsers) for row in acc.iter_rows(res.name, query))
    filters = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in query.items()}
    return xlsx_response(
        acc,
        filename=f"{res.name}-{clock.today().isoformat()}.xlsx",
        sheet=res.name,
        columns=columns,
        rows=rows,
        collection=res.collection,
        detail={"resource": res.name, "filters": filters},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
