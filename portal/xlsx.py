"""Excel downloads: :func:`xlsx_response` is the one way to answer with a workbook.

Every journey's pages call it for the tables they show; the exports journey
(:mod:`portal.journeys.exports`) calls it for every resource list of the registry.

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

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from flask import send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from werkzeug.wrappers import Response

from portal.data import DataAccess

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@")
EXCEL_MAX_EXACT_INT = 2**53
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


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
