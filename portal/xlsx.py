"""Excel downloads: :func:`xlsx_response` is the one way to answer with a workbook.

Every journey's pages call it for the tables they show; the exports journey
(:mod:`portal.journeys.exports`) calls it for every resource list of the registry.

**Streamed.** A workbook is a zip, and a zip can be written front to back: each entry's
sizes may follow its data (a data descriptor, as Java's ``ZipOutputStream`` writes the
workbooks of Apache POI's streaming writer), and the directory that readers use comes
last. So the answer starts as soon as the first page of rows is read, and the sheets
are compressed into it row by row; the parts that name the sheets (the workbook, its
relationships, the content types) go after them, once their number is known. Strings
are written inline (no shared-strings table, which would grow with every distinct
value), so memory stays flat whatever the row count. openpyxl cannot do this: its
write-only mode keeps each sheet in a temporary file and the shared strings in memory,
and zips them only when the last row is in.

**Sheets.** A sheet holds at most :data:`EXCEL_MAX_ROWS` rows, its header included
(Excel's limit); the rows go on in a second sheet, and so on, each with the header,
named ``<sheet> (2)``, ``<sheet> (3)``. A sheet's XML also stays under 4 GiB (one zip
entry without Zip64).

**Cell types.** Dates are Excel dates, timestamps Excel date-times (UTC), integers
numbers, and :class:`~decimal.Decimal` exact decimal numbers. **Money stays integer minor
units** (e.g. ``net_sales_minor`` = 1250 for 12.50) in its own column next to its
``currency`` column, exactly as the API gives it; it is never turned into a float.
Integers beyond what Excel holds exactly (2^53) are written as text. Every string is a
string cell, so text such as ``=HYPERLINK(...)`` is never a formula (formula injection),
and text that starts with ``=``, ``+``, ``-`` or ``@`` is also quote-prefixed, so
re-typing it in Excel keeps it text.

**Audit.** One ``export`` entry per download, with the row count, written once every
row is out and before the zip's directory: a download whose entry could not be written
is never a readable workbook. A download cut short (the client went away, the hub
failed) is recorded with the rows sent and ``complete: false``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import logging
import math
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from flask import copy_current_request_context, stream_with_context
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from werkzeug.wrappers import Response

from portal.data import DataAccess

log = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@")
EXCEL_MAX_EXACT_INT = 2**53
#: Rows in one sheet, the header included (Excel's limit); past it a new sheet begins.
EXCEL_MAX_ROWS = 1_048_576
#: A sheet's XML stays one zip entry without Zip64 (which some readers warn about).
SHEET_MAX_BYTES = 2**32 - 2**26
#: Hand the client what is compressed so far once this much is waiting.
SEND_BYTES = 64 * 1024
#: zlib's fastest level: about twice the speed of the default for a few % more bytes.
COMPRESS_LEVEL = 1
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ROOT_RELS = (
    f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
    f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
# Cell formats (cellXfs), by index: what each style number in a sheet means.
_PLAIN, _BOLD, _DATE, _DATETIME, _QUOTED, _BOLD_QUOTED = range(6)
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"'
    ' quotePrefix="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews>'
    '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
    ' state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
).encode()
_SHEET_END = b"</sheetData></worksheet>"


def _sheet_title(name: str, n: int = 1) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``; the ``n``-th sheet of
    one table is ``<name> (n)``."""
    base = _SHEET_BAD.sub(" ", name).strip() or "Sheet"
    suffix = f" ({n})" if n > 1 else ""
    return base[: 31 - len(suffix)] + suffix


def _text(value: str) -> str:
    # Control characters are not allowed in the file format.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


#: Text that needs work before it goes in a cell: a control character, or XML's own.
_UNCLEAN = re.compile(r"[\000-\010\013\014\016-\037&<>]")


_T = '<t xml:space="preserve">'


def _string_cell(ref: str, value: str, bold: bool = False) -> str:
    text = escape(_text(value)) if _UNCLEAN.search(value) else value
    quoted = text.startswith(FORMULA_START)
    style = (_BOLD_QUOTED if quoted else _BOLD) if bold else (_QUOTED if quoted else _PLAIN)
    # An inline string is never evaluated, whatever it starts with (formula injection).
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _int_cell(ref: str, value: int) -> str:
    # Excel holds numbers as doubles: larger integers would silently change.
    if -EXCEL_MAX_EXACT_INT < value < EXCEL_MAX_EXACT_INT:
        return f'<c r="{ref}"><v>{value}</v></c>'
    return _string_cell(ref, str(value))


@functools.lru_cache(maxsize=4096)
def _serial(day: dt.date) -> str:
    """A date as Excel's serial number (dates repeat down a column: kept)."""
    return str(to_excel(day))


def _date_cell(ref: str, value: dt.date) -> str:
    return f'<c r="{ref}" s="{_DATE}"><v>{_serial(value)}</v></c>'


def _cell(ref: str, value: Any) -> str:
    """One cell of the right Excel type for ``value`` (nothing for no value)."""
    if value is None:
        return ""
    exact = _BY_TYPE.get(type(value))  # the common types, at once
    if exact is not None:
        return exact(ref, value)
    if isinstance(value, str):
        return _string_cell(ref, value)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return _int_cell(ref, value)
    if isinstance(value, Decimal | float) and math.isfinite(value):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # Excel has no time zones: write UTC.
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return f'<c r="{ref}" s="{_DATETIME}"><v>{to_excel(value)!r}</v></c>'
    if isinstance(value, dt.date):
        return _date_cell(ref, value)
    if isinstance(value, Mapping):
        return _string_cell(ref, json.dumps(value, sort_keys=True, default=str))
    if isinstance(value, list | tuple | set | frozenset):
        return _string_cell(ref, ", ".join(str(v) for v in value))
    return _string_cell(ref, str(value))


_BY_TYPE: dict[type, Callable[[str, Any], str]] = {
    str: _string_cell,
    int: _int_cell,
    dt.date: _date_cell,
}


class StreamedWorkbook:
    """A workbook of one table written front to back: :meth:`append` rows, :meth:`take`
    the bytes ready so far, and :meth:`finish` for the rest (see the module docstring).

    The table continues on a new sheet, under the same header, when a sheet is full:
    ``max_rows`` rows with the header (Excel's limit unless given), or ``max_bytes``.
    """

    def __init__(
        self,
        sheet: str,
        headers: Sequence[str],
        *,
        max_rows: int = EXCEL_MAX_ROWS,
        max_bytes: int = SHEET_MAX_BYTES,
    ) -> None:
        if max_rows < 2:
            raise ValueError("a sheet holds the header and at least one row")
        self._name = sheet
        self._letters = [get_column_letter(n) for n in range(1, len(headers) + 1)]
        self._header = "".join(
            _string_cell(f"{c}1", str(h), bold=True)
            for c, h in zip(self._letters, headers, strict=True)
        )
        self._max_rows, self._max_bytes = max_rows, max_bytes
        self._out: list[bytes] = []
        self._waiting = 0
        # Entries are stamped with the time from the clock the stdlib reads (tests pin it).
        self._zip = zipfile.ZipFile(self, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self._part("_rels/.rels", _ROOT_RELS)
        self._part("xl/styles.xml", _STYLES)
        self.titles: list[str] = []
        self._sheet: Any = None
        self._row = 0
        self._sheet_bytes = 0
        self._pending: list[bytes] = []
        self.rows = 0

    # The zip writes here (a stream that cannot seek: entries get data descriptors).
    def write(self, data: bytes) -> int:
        self._out.append(bytes(data))
        self._waiting += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: :meth:`take` hands the bytes on."""

    def _part(self, name: str, text: str) -> None:
        self._zip.writestr(name, text.encode())

    def _open_sheet(self) -> None:
        n = len(self.titles) + 1
        self.titles.append(_sheet_title(self._name, n))
        self._sheet = self._zip.open(f"xl/worksheets/sheet{n}.xml", "w")
        head = _SHEET_START + f'<row r="1">{self._header}</row>'.encode()
        self._sheet.write(head)
        self._row, self._sheet_bytes = 1, len(head) + len(_SHEET_END)

    def _close_sheet(self) -> None:
        self._drain()
        self._sheet.write(_SHEET_END)
        self._sheet.close()
        self._sheet = None

    def _drain(self) -> None:
        if self._pending:
            self._sheet.write(b"".join(self._pending))
            self._pending.clear()

    def _row_xml(self, r: int, values: Sequence[Any]) -> bytes:
        # The common cells written here, the rest by _cell: an export writes millions.
        cells = [f'<row r="{r}">']
        for c, v in zip(self._letters, values, strict=True):
            kind = type(v)
            if kind is int and -EXCEL_MAX_EXACT_INT < v < EXCEL_MAX_EXACT_INT:
                cells.append(f'<c r="{c}{r}"><v>{v}</v></c>')
            elif kind is str and not _UNCLEAN.search(v) and not v.startswith(FORMULA_START):
                cells.append(f'<c r="{c}{r}" t="inlineStr"><is>{_T}{v}</t></is></c>')
            elif kind is dt.date:
                cells.append(f'<c r="{c}{r}" s="{_DATE}"><v>{_serial(v)}</v></c>')
            elif v is not None:
                cells.append(_cell(f"{c}{r}", v))
        cells.append("</row>")
        return "".join(cells).encode()

    def append(self, values: Sequence[Any]) -> None:
        """One row, a value per header (None leaves the cell empty)."""
        if self._sheet is not None and self._row >= self._max_rows:
            self._close_sheet()
        if self._sheet is None:
            self._open_sheet()
        xml = self._row_xml(self._row + 1, values)
        if self._row > 1 and self._sheet_bytes + len(xml) > self._max_bytes:
            self._close_sheet()
            self._open_sheet()
            xml = self._row_xml(2, values)
        self._pending.append(xml)
        self._row, self._sheet_bytes, self.rows = (
            self._row + 1,
            self._sheet_bytes + len(xml),
            self.rows + 1,
        )
        if len(self._pending) >= 512:
            self._drain()

    @property
    def waiting(self) -> int:
        """Bytes ready to send."""
        return self._waiting

    def take(self) -> bytes:
        """The bytes ready so far (the zip's front part), handed on once."""
        out = b"".join(self._out)
        self._out.clear()
        self._waiting = 0
        return out

    def close_sheets(self) -> None:
        """No more rows: end the last sheet (an empty table still has its header)."""
        if self._sheet is None and not self.titles:
            self._open_sheet()
        if self._sheet is not None:
            self._close_sheet()

    def finish(self) -> bytes:
        """The parts that name the sheets, then the zip's directory: the rest of the file."""
        self.close_sheets()
        n = len(self.titles)
        sheets = "".join(
            f'<sheet name={quoteattr(t)} sheetId="{i}" r:id="rId{i}"/>'
            for i, t in enumerate(self.titles, 1)
        )
        self._part(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/>'
            f"</bookViews><sheets>{sheets}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        self._part(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{rels}<Relationship Id="rId{n + 1}" '
            f'Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        self._part(
            "[Content_Types].xml",
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
            f"{overrides}</Types>",
        )
        self._zip.close()
        return self.take()

    def discard(self) -> None:
        """Give up: close the zip and drop what was not sent (it is never whole)."""
        if self._sheet is not None:
            self._sheet.close()
            self._sheet = None
        self._zip.close()
        self.take()


_DONE = object()
#: Rows handed over at once by the reading thread, and how many such batches it may
#: hold ready: a bound on memory whatever the export's size. Up to one of the hub
#: client's largest pages (50,000 rows): the reader fetches the next page while the
#: writer works through the last.
READ_AHEAD_BATCH = 1000
READ_AHEAD_DEPTH = 50


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _read_ahead(rows: Iterator[Any]) -> Iterator[Any]:
    """Iterate ``rows`` in a thread of their own, a few batches ahead.

    The hub is another process: while this thread writes and compresses one page, the
    hub reads the next. The thread stops when the consumer does (the client went away),
    and a failure in it is raised here, in order, after the rows read before it.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=READ_AHEAD_DEPTH)
    stop = threading.Event()

    def hand(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def pull() -> None:
        try:
            batch: list[Any] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= READ_AHEAD_BATCH:
                    if not hand(batch):
                        return
                    batch = []
            if hand(batch):
                hand(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            hand(_Failed(exc))

    # The thread reads with the user's hub client, whose refreshed tokens go into the
    # request's session: it runs in a copy of the request's context.
    reader = threading.Thread(target=copy_current_request_context(pull), daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield from item
    finally:
        stop.set()


def _stream(
    acc: DataAccess,
    book: StreamedWorkbook,
    convert: Callable[[Any], Sequence[Any]],
    rows: Iterable[Any],
    collection: str,
    detail: Mapping[str, Any],
) -> Iterator[bytes]:
    recorded = finished = False
    try:
        yield book.take()
        for row in _read_ahead(iter(rows)):
            book.append(convert(row))
            if book.waiting >= SEND_BYTES:
                yield book.take()
        book.close_sheets()
        recorded = True
        acc.record("export", collection, [], {**detail, "rows": book.rows})
        rest = book.finish()
        finished = True
        yield rest
    finally:
        if not finished:
            book.discard()
        if not recorded:
            # Cut short (the client went away, or a read failed): what left is recorded.
            try:
                acc.record(
                    "export", collection, [], {**detail, "rows": book.rows, "complete": False}
                )
            except Exception:
                log.exception("could not record the cut-short export of %s", collection)


def xlsx_response(
    acc: DataAccess,
    *,
    filename: str,
    sheet: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Any],
    collection: str,
    detail: Mapping[str, Any] | None = None,
    convert: Callable[[Any], Sequence[Any]] | None = None,
) -> Response:
    """Answer with the rows as an Excel workbook download, streamed and audited.

    ``columns`` are (row key, header) pairs; ``convert`` makes a row's cells (by default,
    the row's value under each key), in the writing thread: the reading thread only
    fetches, so the hub serves the next page meanwhile. ``rows`` may be a generator that reads the
    hub: its first row is read before the answer starts, so a failure there (the hub, the
    user's session, the query) is an error page; a failure after that cuts the download
    short (no zip directory: never a readable, silently shorter workbook). Sheets, cell
    types and the audit entry are described in this module's docstring.
    """
    if not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    source = iter(rows)
    first = list(itertools.islice(source, 1))
    book = StreamedWorkbook(sheet, [title for _key, title in columns], max_rows=EXCEL_MAX_ROWS)
    if convert is None:
        keys = [key for key, _title in columns]

        def convert(row: Any) -> list[Any]:
            return [row.get(key) for key in keys]

    body = _stream(
        acc,
        book,
        convert,
        itertools.chain(first, source),
        collection,
        {"filename": filename, **(detail or {})},
    )
    response = Response(stream_with_context(body), mimetype=XLSX_MIMETYPE)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"  # partners' data: no shared caches
    return response
