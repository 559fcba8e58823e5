"""Excel workbooks in and out: a hostile-file-safe reader, and the promotions and
commitments templates.

**Reading** (:func:`read_rows`) assumes the file may be hostile. Before openpyxl opens it,
the zip's directory is checked: it must be a zip, with a bounded number of members whose
declared uncompressed sizes add up to at most :data:`MAX_UNCOMPRESSED` and none
compressed suspiciously well (a zip bomb). Python's zipfile never inflates a member past
its declared size, so the declared sizes bound the memory. The sheet is then streamed
(``read_only``) with formulas kept as formulas (``data_only=False``): a formula cell is
refused by name rather than trusted for a value Excel computed, and counting rows stops
at :data:`MAX_ROWS` + 1, so a 100,000-row sheet is never read whole.

**Writing** (:func:`build_template`) makes the promotions template: an Instructions
sheet, the Promotions data sheet with dropdowns and date and number validation, and a
hidden Lists sheet the dropdowns refer to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import secrets
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from domain.commitments import COLUMNS as COMMITMENT_COLUMNS
from domain.promotions import (
    COLUMNS,
    DATE_FORMS,
    MAX_LOCATIONS,
    MAX_SKUS,
    MAX_UPLIFT_PCT,
    REQUIRED,
    TYPE_LABELS,
    TYPES,
)
from ingest.archives import MAX_MEMBERS, MAX_RATIO, ArchiveError, check_zip

SHEET = "Promotions"
INSTRUCTIONS = "Instructions"
LISTS = "Lists"
#: Data rows a promotions workbook may have.
MAX_ROWS = 5000
#: The most a workbook may unpack to, all members together.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
#: Excel's last row: a sheet claiming rows beyond it is not a workbook Excel wrote.
EXCEL_MAX_ROW = 1_048_576
#: Columns read per row: the template's, and room for a few the user added.
MAX_COLUMNS = 30
#: Formula cells named in the refusal, at most.
FORMULAS_NAMED = 10
#: Stray values in date or other cells are shown to the user this long at most.
SHOWN = 60


class WorkbookError(Exception):
    """The file as a whole cannot be read: the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SheetRow:
    """One non-empty data row: its number in the sheet, and column name -> cell value."""

    number: int
    values: dict[str, Any]


# -- reading ------------------------------------------------------------------------------


def check_archive(
    source: Path | IO[bytes],
    *,
    what: str = "a promotions workbook",
    max_uncompressed: int = MAX_UNCOMPRESSED,
    max_ratio: int = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Refuse a file that is not a zip, or whose members would unpack too big."""
    try:
        check_zip(
            source,
            max_uncompressed=max_uncompressed,
            max_ratio=max_ratio,
            max_members=max_members,
            what=what,
        )
    except ArchiveError as exc:
        raise WorkbookError(str(exc)) from None


def _cell_name(sheet: str, row: int, column: int) -> str:
    return f"{sheet}!{get_column_letter(column)}{row}"


def _header(
    cells: Sequence[Any], columns: Sequence[str], required: Sequence[str], sheet: str = SHEET
) -> dict[int, str]:
    """Column index -> name, from the header row; refuse missing, unknown or repeated ones."""
    found: dict[int, str] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, cell in enumerate(cells):
        value = getattr(cell, "value", None)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        name = str(value).strip().lower().replace(" ", "_")
        if name not in columns:
            unknown.append(f"{get_column_letter(index + 1)}1 “{str(value)[:SHOWN]}”")
        elif name in found.values():
            repeated.append(name)
        else:
            found[index] = name
    missing = [c for c in required if c not in found.values()]
    problems = []
    if missing:
        problems.append(f"it lacks the columns {', '.join(missing)}")
    if unknown:
        problems.append(f"it has columns this upload does not know: {', '.join(unknown)}")
    if repeated:
        problems.append(f"it repeats the columns {', '.join(repeated)}")
    if problems:
        raise WorkbookError(
            f"Row 1 of the “{sheet}” sheet must hold the column names "
            f"({', '.join(columns)}), but {'; '.join(problems)}. Start from the template."
        )
    return found


def read_rows(
    source: Path | IO[bytes],
    *,
    sheet: str = SHEET,
    columns: Sequence[str] = COLUMNS,
    required: Sequence[str] = REQUIRED,
    max_rows: int = MAX_ROWS,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    what: str = "a promotions workbook",
) -> list[SheetRow]:
    """The non-empty data rows of ``sheet``, or :class:`WorkbookError` for the whole file.

    Values are as the cells hold them: text, numbers, and datetimes for date cells.
    """
    if isinstance(source, Path) and source.stat().st_size > max_uncompressed:
        raise WorkbookError(
            f"The file is over {max_uncompressed // (1024 * 1024)} MB, far more than "
            f"{what} needs. It was not opened."
        )
    check_archive(source, what=what, max_uncompressed=max_uncompressed)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (styles, extensions); not the user's concern.
            warnings.simplefilter("ignore")
            book = load_workbook(source, read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises anything from KeyError to its own errors
        raise WorkbookError(
            "The file could not be opened as an Excel workbook (.xlsx): it is damaged or "
            "another kind of file. Save it from Excel as “Excel Workbook (.xlsx)”."
        ) from None
    try:
        if sheet not in book.sheetnames:
            found = ", ".join(f"“{name[:SHOWN]}”" for name in book.sheetnames) or "none"
            raise WorkbookError(
                f"The workbook has no sheet named “{sheet}”; it has {found}. Put the rows on "
                f"a sheet named “{sheet}” (as in the template)."
            )
        worksheet = book[sheet]
        worksheet.reset_dimensions()  # the file's own size claim is not trusted
        return _rows(worksheet, sheet, columns, required, max_rows)
    except WorkbookError:
        raise
    except Exception:
        raise WorkbookError(
            f"The “{sheet}” sheet could not be read: the file is damaged. Save it from Excel "
            "as “Excel Workbook (.xlsx)” and upload it again."
        ) from None
    finally:
        book.close()


def _rows(
    worksheet: Any, sheet: str, columns: Sequence[str], required: Sequence[str], max_rows: int
) -> list[SheetRow]:
    rows = worksheet.iter_rows(max_col=MAX_COLUMNS)
    try:
        return _data_rows(rows, sheet, columns, required, max_rows)
    finally:
        # The generator holds the sheet's part open: close it before the workbook.
        rows.close()


def _data_rows(
    rows: Any, sheet: str, columns: Sequence[str], required: Sequence[str], max_rows: int
) -> list[SheetRow]:
    first = next(rows, None)
    if first is None:
        raise WorkbookError(f"The “{sheet}” sheet is empty: start from the template.")
    formulas = [
        _cell_name(sheet, 1, i + 1)
        for i, c in enumerate(first)
        if getattr(c, "data_type", "") == "f"
    ]
    header = _header(first, columns, required, sheet)
    out: list[SheetRow] = []
    for number, cells in enumerate(rows, start=2):
        if number > EXCEL_MAX_ROW:
            raise WorkbookError(
                f"The “{sheet}” sheet claims rows beyond Excel's last row ({EXCEL_MAX_ROW})."
            )
        values: dict[str, Any] = {}
        filled = False
        for index, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if value is None:
                continue
            if getattr(cell, "data_type", "") == "f":
                formulas.append(_cell_name(sheet, number, index + 1))
                if len(formulas) >= FORMULAS_NAMED:
                    break
            if isinstance(value, str) and not value.strip():
                continue
            filled = True
            if index in header:
                values[header[index]] = value
        if len(formulas) >= FORMULAS_NAMED:
            break
        if not filled:
            continue
        if len(out) >= max_rows:
            raise WorkbookError(
                f"The “{sheet}” sheet has more than {max_rows} rows of data; the most one "
                f"upload takes is {max_rows}. Split it into several workbooks."
            )
        out.append(SheetRow(number, values))
    if formulas:
        more = " and more" if len(formulas) >= FORMULAS_NAMED else ""
        raise WorkbookError(
            f"Cells hold formulas, which an upload does not accept: {', '.join(formulas)}{more}. "
            "Type the values themselves (or paste them as values) and upload again."
        )
    if not out:
        raise WorkbookError(f"The “{sheet}” sheet has no rows of data under its header row.")
    return out


# -- the preview of an upload ---------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:200]


def preview(
    rows: Sequence[SheetRow],
    errors_by_row: Mapping[int, Mapping[str, list[str]]],
    columns: Sequence[str],
) -> list[dict[str, Any]]:
    """Each row as the preview shows it (``_macros.html``, ``workbook_preview``): its
    number, each column's value as text with that cell's errors, and the row's errors."""
    return [
        {
            "number": r.number,
            "cells": [
                (c, _shown(r.values.get(c)), errors_by_row.get(r.number, {}).get(c, []))
                for c in columns
            ],
            "errors": errors_by_row.get(r.number, {}),
        }
        for r in rows
    ]


# -- the promotions template ---------------------------------------------------------------


@dataclass(frozen=True)
class TemplateChoices:
    """What the template's dropdowns offer: the user's own partners, SKUs and locations."""

    partners: Sequence[str]
    #: (GTIN, description, supplier name, lead time in days)
    skus: Sequence[tuple[str, str, str, int]]
    #: (code, name, region)
    locations: Sequence[tuple[str, str, str]]


HELP = {
    "partner": "The supplier, as named in the list (one of your partner suppliers).",
    "name": "The promotion's name. Rows with the same partner, name and dates form one promotion.",
    "type": "One of: " + "; ".join(f"{k} = {v}" for k, v in TYPE_LABELS.items()) + ".",
    "start_date": f"First day of the promotion: {DATE_FORMS}.",
    "end_date": f"Last day of the promotion (on or after the start): {DATE_FORMS}.",
    "expected_uplift_pct": f"Optional. Expected sales uplift, a whole number of per cent, "
    f"0 to {MAX_UPLIFT_PCT}.",
    "mechanics": "Optional. How the promotion works (price, display, flyer page...).",
    "sku_gtin": "The SKU's GTIN, from the list (the supplier's SKUs only).",
    "location_code": "The store or DC code, from the list (your own locations).",
}

RULES = (
    "One row per SKU and location. A promotion covers every SKU and every location its rows name.",
    "Type, uplift and mechanics belong to the promotion: give them on its first row; "
    "later rows may leave them empty but may not differ.",
    "The start date may not be in the past, nor inside the supplier's lead time for any of "
    "the promotion's SKUs (today plus the SKU's lead time, shown in the Lists sheet).",
    "The end date may not be before the start date.",
    "A promotion may not overlap another one of yours (draft, submitted or accepted) for the "
    "same SKU at the same location, nor another promotion in the same workbook.",
    f"At most {MAX_ROWS} rows, {MAX_SKUS} SKUs and {MAX_LOCATIONS} locations per promotion. "
    "No formulas: type the values.",
    "Upload the file: you see every row with its errors first. Nothing is sent to the "
    "supplier until you confirm a preview without errors; then every promotion is "
    "submitted to its supplier at once.",
)

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")


def build_template(choices: TemplateChoices, today: dt.date) -> bytes:
    """The promotions template for one user, as .xlsx bytes."""
    book = Workbook()
    instructions = book.active
    assert instructions is not None
    instructions.title = INSTRUCTIONS
    data = book.create_sheet(SHEET)
    lists = book.create_sheet(LISTS)

    ranges = _fill_lists(lists, choices)
    lists.sheet_state = "hidden"
    _fill_data_sheet(data, ranges)
    _fill_instructions(instructions, choices, today)

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill_lists(ws: Any, choices: TemplateChoices) -> dict[str, str]:
    """Write the dropdowns' lists; return column name -> the range a list validation uses."""
    blocks = {
        "partner": (["partner"], [(p,) for p in choices.partners]),
        "type": (["type", "meaning"], [(t, TYPE_LABELS[t]) for t in TYPES]),
        "sku_gtin": (
            ["sku_gtin", "description", "supplier", "lead_time_days"],
            [tuple(s) for s in choices.skus],
        ),
        "location_code": (
            ["location_code", "name", "region"],
            [tuple(x) for x in choices.locations],
        ),
    }
    ranges: dict[str, str] = {}
    column = 1
    for key, (heads, rows) in blocks.items():
        for offset, head in enumerate(heads):
            cell = ws.cell(row=1, column=column + offset, value=head)
            cell.font = _BOLD
        for r, row in enumerate(rows, start=2):
            for offset, value in enumerate(row):
                # Text as text: a GTIN or code must never turn into a number or a formula.
                cell = ws.cell(row=r, column=column + offset, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                    cell.number_format = "@"
        letter = get_column_letter(column)
        last = max(len(rows) + 1, 2)
        ranges[key] = f"{LISTS}!${letter}$2:${letter}${last}"
        for offset in range(len(heads)):
            ws.column_dimensions[get_column_letter(column + offset)].width = 22
        column += len(heads) + 1
    return ranges


def _fill_data_sheet(ws: Any, ranges: dict[str, str]) -> None:
    last = MAX_ROWS + 1
    for index, name in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index, value=name)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        ws.column_dimensions[get_column_letter(index)].width = 24 if name != "mechanics" else 40
    ws.freeze_panes = "A2"
    letter = {name: get_column_letter(i) for i, name in enumerate(COLUMNS, start=1)}

    def area(name: str) -> str:
        return f"{letter[name]}2:{letter[name]}{last}"

    for name in ("partner", "type", "sku_gtin", "location_code"):
        dv = DataValidation(
            type="list",
            formula1=f"={ranges[name]}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=f"Unknown {name}",
            error=f"Pick a {name} from the list.",
            promptTitle=name,
            prompt=HELP[name][:250],
            showInputMessage=True,
        )
        dv.add(area(name))
        ws.add_data_validation(dv)
    for name in ("start_date", "end_date"):
        dv = DataValidation(
            type="date",
            operator="between",
            formula1="DATE(2000,1,1)",
            formula2="DATE(2100,12,31)",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not a date",
            error=f"Type a date, e.g. 2026-03-31 ({DATE_FORMS}).",
        )
        dv.add(area(name))
        ws.add_data_validation(dv)
    uplift = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2=str(MAX_UPLIFT_PCT),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Uplift out of range",
        error=f"A whole number of per cent from 0 to {MAX_UPLIFT_PCT}.",
    )
    uplift.add(area("expected_uplift_pct"))
    ws.add_data_validation(uplift)
    # Formats for the first rows people fill: dates shown as dates, GTINs kept as text.
    for row in range(2, 502):
        for name in ("start_date", "end_date"):
            ws[f"{letter[name]}{row}"].number_format = "yyyy-mm-dd"
        for name in ("sku_gtin", "location_code"):
            ws[f"{letter[name]}{row}"].number_format = "@"


def _fill_instructions(ws: Any, choices: TemplateChoices, today: dt.date) -> None:
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100
    wrap = Alignment(wrap_text=True, vertical="top")
    lines: list[tuple[str, str]] = [
        ("Promotions workbook", ""),
        ("", f"Fill in the “{SHEET}” sheet, one row per SKU and location, and upload it on "
         "the portal's Promotions page (Upload a workbook)."),
        ("", ""),
        ("Column", "Meaning and accepted values"),
    ]  # fmt: skip
    for name in COLUMNS:
        required = "required" if name in REQUIRED else "optional"
        lines.append((name, f"({required}) {HELP[name]}"))
    lines += [("", ""), ("Dates", f"Accepted: {DATE_FORMS}. Not accepted: 01/02/2026, "
                         "2 Jan 2026 or any other text.")]  # fmt: skip
    lines += [("", ""), ("Rules", "")]
    lines += [("", f"• {rule}") for rule in RULES]
    lines += [("", ""), ("Example", "Two SKUs at two stores: four rows, one promotion.")]
    start = today + dt.timedelta(days=30)
    end = start + dt.timedelta(days=6)
    partner = choices.partners[0] if choices.partners else "Acme Foods"
    gtins = [s[0] for s in choices.skus[:2]] or ["00012345678905", "00012345678912"]
    codes = [x[0] for x in choices.locations[:2]] or ["S001", "S002"]
    example_head = ", ".join(COLUMNS)
    lines.append(("", example_head))
    for n, (gtin, code) in enumerate((g, c) for g in gtins for c in codes):
        first = n == 0
        lines.append(
            (
                "",
                ", ".join(
                    [
                        partner,
                        "Spring TPR",
                        "tpr",
                        start.isoformat(),
                        end.isoformat(),
                        "15" if first else "",
                        "20% off shelf price" if first else "",
                        gtin,
                        code,
                    ]
                ),
            )
        )
    for r, (a, b) in enumerate(lines, start=1):
        ws.cell(row=r, column=1, value=a).alignment = wrap
        cell = ws.cell(row=r, column=2, value=b)
        cell.alignment = wrap
        cell.data_type = "s"  # never a formula, whatever the text
        if a in ("Promotions workbook", "Column", "Rules", "Example", "Dates"):
            ws.cell(row=r, column=1).font = _BOLD
            if a == "Column":
                cell.font = _BOLD
    ws["A1"].font = Font(bold=True, size=14)


# -- the commitments template --------------------------------------------------------------

COMMITMENTS_SHEET = "Commitments"
COMMITMENTS_HELP = (
    "Your commitments to your distributors, per SKU and ISO week (its Monday).",
    "Fill in units (whole units; 0 commits nothing) and, if you like, a note. Leave units "
    "empty, or delete the row, for a week you do not answer.",
    "distributor, gtin and week name the commitment; description and forecast_units (the "
    "distributor's forecast as you may read it, summed over its locations) are for "
    "reference and are not stored.",
    "Weeks inside a SKU's lead time are frozen and not listed: a row for one is refused.",
    "Upload the workbook on the planning page: you see every row with its errors, and "
    "nothing is stored until you confirm.",
)


def build_commitments_template(rows: Sequence[Sequence[Any]], today: dt.date) -> bytes:
    """The commitments workbook: an Instructions sheet and the Commitments sheet with
    one row per (distributor, GTIN, description, week, forecast, units, note)."""
    book = Workbook()
    instructions = book.active
    assert instructions is not None
    instructions.title = INSTRUCTIONS
    instructions.append([f"Tandem commitments, made {today.isoformat()}"])
    instructions["A1"].font = _BOLD
    for line in COMMITMENTS_HELP:
        instructions.append([line])
    instructions.column_dimensions["A"].width = 110
    data = book.create_sheet(COMMITMENTS_SHEET)
    data.append(list(COMMITMENT_COLUMNS))
    for cell in data[1]:
        cell.font, cell.fill = _BOLD, _HEAD_FILL
    for row in rows:
        data.append(list(row))
    for index, width in enumerate((24, 16, 36, 12, 16, 10, 40), start=1):
        data.column_dimensions[get_column_letter(index)].width = width
    for cell in data["B"][1:]:
        cell.number_format = "@"  # a GTIN keeps its leading zeros
    for cell in data["D"][1:]:
        cell.number_format = "yyyy-mm-dd"
    units = DataValidation(type="whole", operator="between", formula1="0", formula2="100000000",
                           allow_blank=True, showErrorMessage=True,
                           error="Whole units, 0 or more")  # fmt: skip
    data.add_data_validation(units)
    units.add(f"F2:F{max(len(rows) + 1, 2) + 1000}")
    data.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- uploads waiting for their confirmation ------------------------------------------------

#: How long an uploaded workbook waits for its confirmation.
UPLOAD_TTL_S = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class UploadSpool:
    """Workbooks one user uploaded, kept server-side between the preview and the
    confirmation (``<base>/<kind>-uploads/<user hash>/<token>.xlsx``), each claimed at
    most once and only within :data:`UPLOAD_TTL_S`."""

    base: Path
    kind: str
    user: str

    @property
    def folder(self) -> Path:
        user = hashlib.sha256(self.user.encode()).hexdigest()[:24]
        folder = self.base / f"{self.kind}-uploads" / user
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def keep(self, save: Any) -> tuple[str, Path]:
        """A new token and the path ``save(path)`` wrote the upload to; older uploads of
        this user that waited too long are removed first."""
        folder = self.folder
        limit = time.time() - UPLOAD_TTL_S
        for path in folder.iterdir():
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
            except FileNotFoundError:
                pass
        token = secrets.token_urlsafe(24)
        path = folder / f"{token}.xlsx"
        save(path)
        return token, path

    def claim(self, token: str) -> Path | None:
        """Take the waiting upload for this token, once: a second claim finds nothing."""
        if not _TOKEN.match(token):
            return None
        folder = self.folder
        waiting = folder / f"{token}.xlsx"
        claimed = folder / f"{token}.{secrets.token_hex(8)}.claimed.xlsx"  # openpyxl wants .xlsx
        try:
            # rename is atomic: of two confirmations racing, exactly one gets the file.
            os.rename(waiting, claimed)
        except FileNotFoundError:
            return None
        if claimed.stat().st_mtime < time.time() - UPLOAD_TTL_S:
            claimed.unlink(missing_ok=True)
            return None
        return claimed
