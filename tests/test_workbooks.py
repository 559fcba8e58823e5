"""The promotions template and the hostile-file-safe workbook reader (no hub needed)."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from domain.promotions import COLUMNS
from portal.workbooks import (
    INSTRUCTIONS,
    LISTS,
    MAX_ROWS,
    SHEET,
    TemplateChoices,
    WorkbookError,
    build_template,
    check_archive,
    read_rows,
)

TODAY = dt.date(2026, 3, 2)
CHOICES = TemplateChoices(
    partners=["Acme Foods", '=HYPERLINK("x")'],
    skus=[("00000000000017", "Oats", "Acme Foods", 14), ("00000000000024", "Bran", "Acme", 30)],
    locations=[("S-EAST", "East store", "east"), ("S-WEST", "West store", "west")],
)


def save(book: Workbook, path: Path) -> Path:
    book.save(path)
    return path


def workbook(path: Path, rows: list[list[object]], *, sheet: str = SHEET, header=COLUMNS) -> Path:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(row)
    return save(book, path)


def row(**overrides: object) -> list[object]:
    first = ["Acme Foods", "Spring", "tpr", dt.date(2026, 4, 1), "2026-04-07", 15, "20% off"]
    values = dict(zip(COLUMNS, [*first, "00000000000017", "S-EAST"], strict=True))
    values.update(overrides)
    return [values[c] for c in COLUMNS]


# -- the template ----------------------------------------------------------------------------


def test_the_template_has_instructions_data_and_hidden_lists_sheets(tmp_path):
    path = tmp_path / "template.xlsx"
    path.write_bytes(build_template(CHOICES, TODAY))
    book = load_workbook(path)
    assert book.sheetnames == [INSTRUCTIONS, SHEET, LISTS]
    assert book[LISTS].sheet_state == "hidden"
    assert [c.value for c in book[SHEET][1]] == list(COLUMNS)
    instructions = "\n".join(
        str(c.value) for r in book[INSTRUCTIONS].iter_rows() for c in r if c.value
    )
    for column in COLUMNS:
        assert column in instructions
    for words in ("YYYY-MM-DD", "lead time", "overlap", "Example", str(MAX_ROWS), "tpr"):
        assert words in instructions
    lists = book[LISTS]
    values = {c.value for r in lists.iter_rows() for c in r if c.value is not None}
    assert {"Acme Foods", "00000000000017", "00000000000024", "S-EAST", "S-WEST", "bogo"} <= values
    # Text from the hub is written as text, never as a formula.
    injected = next(c for r in lists.iter_rows() for c in r if c.value == '=HYPERLINK("x")')
    assert injected.data_type == "s"


def test_the_template_has_dropdowns_and_date_and_number_validation(tmp_path):
    path = tmp_path / "template.xlsx"
    path.write_bytes(build_template(CHOICES, TODAY))
    ws = load_workbook(path)[SHEET]
    letter = {name: chr(ord("A") + i) for i, name in enumerate(COLUMNS)}
    found = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            found[cell_range.coord.split(":")[0]] = dv
    for name in ("partner", "type", "sku_gtin", "location_code"):
        dv = found[f"{letter[name]}2"]
        assert dv.type == "list"
        assert dv.formula1.startswith(f"={LISTS}!$")
    assert [r.coord for r in found[f"{letter['sku_gtin']}2"].sqref.ranges] == [
        f"H2:H{MAX_ROWS + 1}"
    ]
    for name in ("start_date", "end_date"):
        assert found[f"{letter[name]}2"].type == "date"
    uplift = found[f"{letter['expected_uplift_pct']}2"]
    assert (uplift.type, uplift.formula1, uplift.formula2) == ("whole", "0", "1000")


def test_a_filled_template_reads_back_row_by_row(tmp_path):
    path = tmp_path / "filled.xlsx"
    path.write_bytes(build_template(CHOICES, TODAY))
    book = load_workbook(path)
    ws = book[SHEET]
    for column, value in zip("ABCDEFGHI", row(), strict=True):
        ws[f"{column}2"] = value
    ws["B4"] = "Only a name, two rows down"
    save(book, path)
    rows = read_rows(path)
    assert [r.number for r in rows] == [2, 4]
    assert rows[0].values["start_date"] == dt.datetime(2026, 4, 1)
    assert rows[0].values["sku_gtin"] == "00000000000017"
    assert rows[1].values == {"name": "Only a name, two rows down"}


# -- hostile files ---------------------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "promos.xlsx"
    path.write_text("partner,name\nAcme,Spring\n")
    with pytest.raises(WorkbookError, match=r"not an Excel workbook \(\.xlsx\)"):
        read_rows(path)


def test_a_file_over_the_unpacked_cap_is_not_even_opened(tmp_path):
    path = tmp_path / "huge.xlsx"
    path.write_bytes(b"PK" + b"x" * 2048)
    with pytest.raises(WorkbookError, match="far more than a promotions workbook needs"):
        read_rows(path, max_uncompressed=1024)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "promos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(WorkbookError, match="could not be opened as an Excel workbook"):
        read_rows(path)


def _bomb(path: Path, megabytes: int) -> Path:
    block = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w") as member,
    ):
        for _ in range(megabytes):
            member.write(block)
    return path


def test_a_zip_bomb_is_refused_from_its_directory_before_it_is_unpacked(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx", 51)
    assert path.stat().st_size < 1024 * 1024  # 51 MB of zeros in a few dozen KB
    with pytest.raises(WorkbookError, match="more than 50 MB"):
        read_rows(path)


def test_a_member_compressed_like_a_bomb_is_refused_even_under_the_size_cap(tmp_path):
    path = _bomb(tmp_path / "bomb.xlsx", 3)
    with pytest.raises(WorkbookError, match="zip bomb"):
        check_archive(path)


def test_formulas_are_refused_naming_their_cells(tmp_path):
    bad = row(start_date="=TODAY()+30", expected_uplift_pct="=1+1")
    path = workbook(tmp_path / "f.xlsx", [row(), bad])
    with pytest.raises(WorkbookError) as refused:
        read_rows(path)
    assert "Promotions!D3" in refused.value.message
    assert "Promotions!F3" in refused.value.message
    assert "formulas" in refused.value.message


def test_a_sheet_of_100000_rows_is_refused_at_the_cap_without_reading_it_whole(tmp_path):
    path = tmp_path / "big.xlsx"
    book = Workbook(write_only=True)
    ws = book.create_sheet(SHEET)
    ws.append(list(COLUMNS))
    for n in range(100_000):
        ws.append(["Acme Foods", f"Promo {n}"])
    book.save(path)
    tracemalloc.start()
    try:
        with pytest.raises(WorkbookError, match=f"more than {MAX_ROWS} rows"):
            read_rows(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024, f"reading peaked at {peak // 1024 // 1024} MB"


def test_a_workbook_without_the_promotions_sheet_names_what_it_found(tmp_path):
    path = workbook(tmp_path / "w.xlsx", [row()], sheet="Sheet1")
    with pytest.raises(WorkbookError) as refused:
        read_rows(path)
    assert "no sheet named “Promotions”" in refused.value.message
    assert "“Sheet1”" in refused.value.message


def test_a_header_row_with_missing_or_unknown_columns_is_refused(tmp_path):
    header = [c for c in COLUMNS if c != "sku_gtin"] + ["colour"]
    path = workbook(tmp_path / "w.xlsx", [], header=header)
    with pytest.raises(WorkbookError) as refused:
        read_rows(path)
    assert "lacks the columns sku_gtin" in refused.value.message
    assert "“colour”" in refused.value.message


def test_a_sheet_without_data_rows_is_refused(tmp_path):
    with pytest.raises(WorkbookError, match="no rows of data"):
        read_rows(workbook(tmp_path / "w.xlsx", []))


def test_the_reader_takes_an_open_file_too():
    out = io.BytesIO()
    book = Workbook()
    book.active.title = SHEET
    book.active.append(list(COLUMNS))
    book.active.append(row())
    book.save(out)
    out.seek(0)
    assert read_rows(out)[0].values["name"] == "Spring"
