"""Delivered files as rows of text: CSV, XLSX, X12 852/846/830, EDIFACT SLSRPT/INVRPT.

A file's format is told by its content, not its name; a file that claims another
format than its content is refused (:class:`domain.ingest.FileError`), as is one with
the wrong columns or the wrong encoding. Per-row problems are not the readers' business:
they pass the text on and :mod:`ingest.pipeline` rejects the row, naming its line.

CSV and XLSX columns are found through a :class:`ColumnMap`: the distributor's saved
column names, else common header names (``ALIASES``). The map also says how the file is
written: its encoding and delimiter (CSV), its date format and its decimal and thousands
separators (applied by :mod:`ingest.validate`; a workbook's number cells are written out
in the map's decimal separator, so they read back as they were).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from domain import edi_reports
from domain.ingest import FileError, format_number
from ingest.archives import check_zip

FORMATS = ("csv", "xlsx", "x12", "edifact")
#: The most a POS or inventory workbook may unpack to (Excel's 1,048,576 rows fit).
MAX_XLSX_UNPACKED = 1024 * 1024 * 1024
#: openpyxl streams a sheet but reads its shared strings whole: their own cap.
XLSX_MEMBER_CAPS = {"xl/sharedStrings.xml": 32 * 1024 * 1024}
FIELDS = {
    "pos": ("item", "gtin", "store", "gln", "day", "units", "net_sales", "currency"),
    "inventory": ("item", "gtin", "store", "gln", "day", "on_hand", "in_transit", "on_order"),
    "forecasts": ("item", "gtin", "store", "gln", "week", "units", "uom"),
}
REQUIRED = {
    "pos": ("day", "units"),
    "inventory": ("day", "on_hand"),
    "forecasts": ("week", "units"),
}
ALIASES: dict[str, tuple[str, ...]] = {
    "item": ("item", "item_code", "item code", "item number", "item nbr", "item_nbr", "article"),
    "gtin": ("gtin", "upc", "ean", "barcode"),
    "store": ("store", "store_code", "store code", "store number", "store nbr", "location"),
    "gln": ("gln", "store gln", "location gln"),
    "day": ("day", "date", "sales date", "business date", "inventory date", "as of"),
    "week": ("week", "week_start", "week start", "forecast week", "iso week", "week beginning"),
    "units": ("units", "qty", "quantity", "units sold", "sales units", "pos qty"),
    "uom": ("uom", "unit of measure", "unit"),
    "net_sales": ("net_sales", "net sales", "sales", "sales amount", "amount", "dollars"),
    "currency": ("currency", "cur", "currency code"),
    "on_hand": ("on_hand", "on hand", "oh", "on hand qty", "stock", "soh"),
    "in_transit": ("in_transit", "in transit", "intransit"),
    "on_order": ("on_order", "on order", "onorder"),
}
#: Header names a kind's file may use beside the common ones.
KIND_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "forecasts": {"units": ("forecast", "forecast units", "forecast_units", "forecast qty")},
}
#: A CSV's encodings a mapping may name: each decodes a file line by line.
ENCODINGS = ("utf-8", "windows-1252", "iso-8859-1", "iso-8859-15")
#: A CSV's delimiters a mapping may name; "" finds it from the header line.
DELIMITERS = ("", ",", ";", "\t", "|")
Reject = Callable[[int, str, str], None]
EXPORT = "export the data as CSV (UTF-8) or as an Excel workbook (.xlsx) and upload that"


def _ignore(_line: int, _field: str, _reason: str) -> None:
    return None


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds what (canonical field -> the file's header), and how the file
    writes its values; the defaults are the common names, ISO dates, UTF-8, a delimiter
    found from the header, a decimal point and no thousands separator."""

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    encoding: str = "utf-8"
    delimiter: str = ""
    decimal: str = "."
    thousands: str = ""


def sniff(head: bytes) -> str:
    """The format of a file from its first bytes."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    return edi_reports.sniff(head) or "csv"


def check_format(path: Path, claimed: str | None) -> str:
    """The file's real format; a FileError if it is not what it claims to be."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        raise FileError("the file is empty")
    found = sniff(head)
    problem = not_text(head) if found == "csv" else not_a_workbook(path)
    if problem:
        raise FileError(problem)
    if claimed and claimed != found:
        raise FileError(f"the file claims to be {claimed} but its content is {found}")
    return found


def _columns(header: list[str], kind: str, mapping: ColumnMap) -> dict[str, int]:
    """Canonical field -> column index; FileError naming what is missing."""
    names = [h.strip() for h in header]
    lowered = {h.lower(): i for i, h in enumerate(names) if h}
    found: dict[str, int] = {}
    for name in FIELDS[kind]:
        wanted = mapping.columns.get(name)
        if wanted:
            if wanted.strip().lower() not in lowered:
                raise FileError(
                    f"the saved mapping puts {name} in column {wanted!r}, which the header "
                    f"does not have; it has: {', '.join(n for n in names if n)}",
                    1,
                )
            found[name] = lowered[wanted.strip().lower()]
            continue
        for alias in (*ALIASES[name], *KIND_ALIASES.get(kind, {}).get(name, ())):
            if alias in lowered:
                found[name] = lowered[alias]
                break
    missing = [n for n in REQUIRED[kind] if n not in found]
    if "item" not in found and "gtin" not in found:
        missing.append("item or gtin")
    if "store" not in found and "gln" not in found:
        missing.append("store or gln")
    if missing:
        raise FileError(
            f"wrong columns: no {', '.join(missing)} column; the header has: "
            f"{', '.join(n for n in names if n) or 'nothing'}",
            1,
        )
    return found


def field_getter(header: list[str], kind: str, mapping: ColumnMap) -> Callable[[list[Any]], Any]:
    """For rows of cells + line number + one empty cell: a C-level getter of the tuple
    (line, *fields in the order of the kind's line: :class:`PosLine`, ...)."""
    cols = _columns(header, kind, mapping)
    width = len(header)
    return itemgetter(width, *(cols.get(name, width + 1) for name in FIELDS[kind]))


def fields_of(
    rows: Iterable[list[Any]], getter: Callable[[list[Any]], Any], width: int, reject: Reject
) -> Iterator[tuple[Any, ...]]:
    """Rows (each a list of cells with its line number appended) as field tuples; a row
    with the wrong number of cells is rejected, a blank one skipped. The hot path."""
    pad = width + 1
    for row in rows:
        if len(row) != pad:
            if not any(str(cell).strip() for cell in row[:-1]):
                continue  # a blank line
            reject(row[-1], "row", f"has {len(row) - 1} cells; the header has {width}")
            continue
        row.append("")
        yield getter(row)


def _records(
    rows: Iterator[list[Any]], kind: str, mapping: ColumnMap, reject: Reject
) -> Iterator[tuple[Any, ...]]:
    try:
        header = next(rows)[:-1]
    except StopIteration:
        raise FileError("the file has no header row") from None
    yield from fields_of(rows, field_getter(header, kind, mapping), len(header), reject)


def csv_header(first: str, delimiter: str = "") -> tuple[str, list[str]]:
    """The delimiter (the mapping's, else found from the line) and the header cells of a
    CSV file's first line."""
    first = first.removeprefix("\ufeff")
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(first, delimiters="".join(DELIMITERS)).delimiter
        except csv.Error:
            delimiter = ","
    return delimiter, next(csv.reader([first], delimiter=delimiter), [])


#: What a file that is not text is, by its first bytes, and what to send instead.
NOT_TEXT = (
    (b"%PDF", "a PDF document", EXPORT),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls) or another Office 97-2003 file",
     "save it from Excel as “Excel Workbook (.xlsx)” or “CSV UTF-8” and upload that"),
    (b"\x1f\x8b", "a gzip archive", "unpack it and upload the CSV inside"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "unpack it and upload the CSV inside"),
    (b"Rar!", "a RAR archive", "unpack it and upload the CSV inside"),
    (b"\x89PNG", "a PNG image", EXPORT),
    (b"\xff\xd8\xff", "a JPEG image", EXPORT),
    (b"GIF8", "a GIF image", EXPORT),
    (b"\xff\xfe", "UTF-16 text", "save it as “CSV UTF-8” and upload that"),
    (b"\xfe\xff", "UTF-16 text", "save it as “CSV UTF-8” and upload that"),
)  # fmt: skip


def not_text(head: bytes) -> str | None:
    """Why a file that is neither a workbook nor EDI cannot be read as CSV, from its
    first bytes (what it looks like and what to send instead), or None."""
    for magic, what, fix in NOT_TEXT:
        if head.startswith(magic):
            return f"this file is not text: it looks like {what}; {fix}"
    if b"\x00" in head:
        return f"this file is not text (it has NUL bytes): it is binary data; {EXPORT}"
    return None


def not_a_workbook(path: Path) -> str | None:
    """Why a zip file is not an Excel workbook (a zipped CSV, say), from its directory
    alone, or None. A zip that cannot even be listed is left to :func:`check_zip`."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "xl/workbook.xml" in names:
        return None
    inside = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"this file is a ZIP archive ({inside or 'empty'}), not an Excel workbook (.xlsx); "
        "unpack it and upload the CSV or workbook inside"
    )


def not_decodable(exc: UnicodeDecodeError, encoding: str, line: int = 0) -> FileError:
    byte = exc.object[exc.start : exc.start + 1]
    return FileError(
        f"the file is not {encoding} text (byte 0x{byte.hex().upper()} cannot be read as "
        f"{encoding}); if it is Windows or Latin-1 text, set “Encoding (CSV)” in "
        "the column mapping on the Uploads page ('encoding' in the API) to windows-1252 "
        "or iso-8859-1, or save the file as “CSV UTF-8”",
        line,
    )


def _csv_rows(path: Path, mapping: ColumnMap) -> Iterator[list[Any]]:
    try:
        codecs.lookup(mapping.encoding)
    except LookupError:
        raise FileError(f"unknown encoding {mapping.encoding!r}") from None
    with open(path, encoding=mapping.encoding, newline="") as text:
        try:
            yield from _csv_text(text, mapping)
        except UnicodeDecodeError as exc:
            line = undecodable_line(path, mapping.encoding)
            raise not_decodable(exc, mapping.encoding, line) from None


def undecodable_line(path: Path, encoding: str, chunk: int = 1 << 20) -> int:
    """The 1-based line of the first byte ``encoding`` cannot read (0 if none can be
    found). The text reader decodes ahead of the CSV reader, so its position is not the
    row's: this reads the file again, a chunk at a time, counting line ends in the decoded
    text as the CSV reader ends lines (CRLF, LF or a lone CR), so a UTF-16 file's bytes or
    an old Mac file's CRs count as the lines they are."""
    decoder = codecs.getincrementaldecoder(encoding)()
    counter = _LineEnds()
    with open(path, "rb") as raw:
        while block := raw.read(chunk):
            state = decoder.getstate()
            try:
                counter.feed(decoder.decode(block))
            except UnicodeDecodeError as exc:
                # exc.start counts from what the decoder held back from the last block
                held = len(exc.object) - len(block)
                decoder.setstate(state)
                counter.feed(decoder.decode(block[: max(exc.start - held, 0)]))
                return counter.lines
        try:
            counter.feed(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            return counter.lines
    return 0


class _LineEnds:
    """The line a stream of decoded text has reached: 1 plus its line ends, a CRLF split
    between two pieces counted once."""

    def __init__(self) -> None:
        self.lines = 1
        self._after_cr = False

    def feed(self, text: str) -> None:
        if not text:
            return
        ends = text.count("\n") + text.count("\r") - text.count("\r\n")
        if self._after_cr and text.startswith("\n"):
            ends -= 1  # the LF of a CRLF whose CR ended the last piece
        self.lines += ends
        self._after_cr = text.endswith("\r")


def _csv_text(text: IO[str], mapping: ColumnMap) -> Iterator[list[Any]]:
    try:
        delimiter, header = csv_header(text.readline(), mapping.delimiter)
        header.append(1)
        yield header
        reader = csv.reader(text, delimiter=delimiter)
        for row in reader:
            row.append(reader.line_num + 1)  # + the header line, read apart
            yield row
    except csv.Error as exc:
        raise FileError(f"not a readable CSV file: {exc}") from None


def _cell(value: Any, decimal: str) -> str:
    """A workbook cell as text; a number in the mapping's decimal separator (its
    shortest exact form: 12.5, never 12.4999…), so the mapping reads it back as it is."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return format_number(Decimal(repr(value)), decimal)
    if isinstance(value, str) and value.startswith("="):
        return value  # a formula: rejected as not a number / not a date
    return str(value)


def _xlsx_rows(path: Path, mapping: ColumnMap) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    # From the zip's directory, before anything is unpacked: a bomb is refused at once.
    check_zip(
        path,
        max_uncompressed=MAX_XLSX_UNPACKED,
        member_caps=XLSX_MEMBER_CAPS,
        what="a sales, inventory or forecast workbook",
    )
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except FileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileError(f"not a readable XLSX workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        for n, row in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = [_cell(v, mapping.decimal) for v in row]
            cells.append(n)
            yield cells
    finally:
        book.close()


def read(
    path: Path,
    fmt: str,
    kind: str,
    mapping: ColumnMap | None = None,
    reject: Reject | None = None,
    dcs: Sequence[str] = (),
) -> Iterator[Any]:
    """The file's rows as tuples in the order of :class:`PosLine`, :class:`StockLine` or
    :class:`ForecastLine` (line first), streamed. A CSV or XLSX row with the wrong number
    of cells goes to ``reject`` (line, field, reason) instead. ``dcs`` are the
    distributor's DC codes (an X12 846 or 830 that names no location is its one DC's)."""
    mapping = mapping or ColumnMap()
    reject = reject or _ignore
    if fmt == "csv":
        yield from _records(_csv_rows(path, mapping), kind, mapping, reject)
    elif fmt == "xlsx":
        yield from _records(_xlsx_rows(path, mapping), kind, mapping, reject)
    elif fmt in ("x12", "edifact"):
        data = path.read_bytes()
        readers: dict[tuple[str, str], Callable[[bytes], Iterator[Any]]] = {
            ("x12", "pos"): edi_reports.read_852,
            ("x12", "inventory"): lambda raw: edi_reports.read_846(raw, dcs=dcs),
            ("edifact", "pos"): edi_reports.read_slsrpt,
            ("edifact", "inventory"): edi_reports.read_invrpt,
            ("x12", "forecasts"): lambda raw: edi_reports.read_830(raw, dcs=dcs),
        }
        if (fmt, kind) not in readers:
            raise FileError(f"forecasts are read from CSV, XLSX or X12 830, not {fmt}")
        yield from readers[(fmt, kind)](data)
    else:
        raise FileError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
