"""A delivered file that is not text says what it is and how to fix it (issue 11, part 6).

A PDF, an old ``.xls``, a gzip or a UTF-16 export was read as CSV and failed with a
decoding error naming a byte, or a "wrong columns" message about binary garbage; a
zipped CSV failed as a broken workbook. Each is now named from its first bytes (or a
zip's directory) with what to upload instead, and a file in another 8-bit encoding names
the mapping setting that reads it, which the mapping form offers.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from domain.ingest import FileError
from ingest.readers import ColumnMap, check_format, read, undecodable_line
from tests.factories import make_user, sign_in

CSV = "item,store,date,units\nA1,S1,2026-03-02,3\n"


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "what", "fix"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document", "CSV (UTF-8)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "an old Excel workbook (.xls)",
         "Excel Workbook (.xlsx)"),
        (gzip.compress(CSV.encode()), "a gzip archive", "unpack it"),
        (b"\x89PNG\r\n\x1a\n" + bytes(32), "a PNG image", "CSV (UTF-8)"),
        (CSV.encode("utf-16"), "UTF-16 text", "CSV UTF-8"),
        (b"item,store\x00\x00\x01\x02binary", "binary data", "CSV (UTF-8)"),
        (_zip({"pos.csv": CSV}), "a ZIP archive (pos.csv), not an Excel workbook", "unpack it"),
    ],
    ids=["pdf", "xls", "gzip", "png", "utf-16", "nul-bytes", "zipped-csv"],
)  # fmt: skip
def test_a_file_that_is_not_text_says_what_it_is_and_what_to_send(
    tmp_path: Path, content: bytes, what: str, fix: str
):
    path = tmp_path / "pos.csv"
    path.write_bytes(content)
    for claimed in (None, "csv", "xlsx"):
        with pytest.raises(FileError) as refused:
            check_format(path, claimed)
        message = str(refused.value)
        assert what in message, message
        assert fix in message, message


def test_text_and_workbooks_still_pass(tmp_path: Path):
    text = tmp_path / "pos.csv"
    text.write_text("\ufeff" + CSV, encoding="utf-8")
    assert check_format(text, None) == "csv"
    book = tmp_path / "pos.xlsx"
    book.write_bytes(_zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}))
    assert check_format(book, None) == "xlsx"


def test_another_encoding_names_the_mapping_setting_that_reads_it(tmp_path: Path):
    path = tmp_path / "pos.csv"
    path.write_bytes("item,store,date,units\nCafé,S1,2026-03-02,3\n".encode("windows-1252"))
    with pytest.raises(FileError) as refused:
        list(read(path, check_format(path, None), "pos", ColumnMap()))
    message = str(refused.value)
    assert "the file is not utf-8 text (byte 0xE9" in message
    assert "“Encoding (CSV)”" in message
    assert "windows-1252" in message
    rows = list(read(path, "csv", "pos", ColumnMap(encoding="windows-1252")))
    assert rows[0][1] == "Café"


def test_the_encoding_setting_the_message_names_is_on_the_mapping_form(admin, portal):
    """The message sends the distributor to a field; the field must be there, with the
    encodings it names."""
    client = sign_in(portal, make_user(admin, "distributor_user"))
    page = client.get("/uploads").get_data(as_text=True)
    assert ">Encoding (CSV)</label>" in page
    assert 'name="encoding"' in page
    for encoding in ("windows-1252", "iso-8859-1"):
        assert f'<option value="{encoding}"' in page


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_a_byte_the_encoding_cannot_read_is_named_by_its_line(tmp_path, chunk):
    """The text reader decodes ahead of the CSV reader; the line is counted in the bytes."""
    path = tmp_path / "pos.csv"
    rows = "".join(f"A1,S1,2026-03-02,{n},1.00\n" for n in range(40)).encode()
    path.write_bytes(b"item,store,date,units,net_sales\n" + rows + b"A1,S1,2026-03-0\xff,1,1.00\n")
    with pytest.raises(FileError, match="line 42: the file is not utf-8 text"):
        list(read(path, "csv", "pos"))
    assert undecodable_line(path, "utf-8", chunk) == 42
    assert undecodable_line(path, "windows-1252", chunk) == 0  # every byte reads there


@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
def test_the_line_of_a_bad_byte_counts_characters_split_across_chunks(tmp_path, chunk):
    path = tmp_path / "pos.csv"
    path.write_bytes(b"item,store\n" + "Café,Zürich\n".encode() * 3 + b"\xc3\x41,S\n")
    assert undecodable_line(path, "utf-8", chunk) == 5
    path.write_bytes(b"it\xffem,store\r\nA1,S1\r\n")  # in the header, CRLF endings
    assert undecodable_line(path, "utf-8", chunk) == 1
    path.write_bytes(b"item\n" + "é".encode()[:1])  # cut inside its last character
    assert undecodable_line(path, "utf-8", chunk) == 2
    path.write_bytes(b"item,store\rA1,S1\rA2,S\xff\r")  # an old Mac file: CRs alone
    assert undecodable_line(path, "utf-8", chunk) == 3
    path.write_bytes(b"item\r\n\r\nA\xff")  # a CRLF, whichever chunks split it, is one end
    assert undecodable_line(path, "utf-8", chunk) == 3


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_the_line_of_a_bad_utf16_unit_counts_characters_not_bytes(tmp_path, chunk):
    """In UTF-16 a line feed is two bytes, and a character such as U+0A0A holds two 0x0A
    bytes that end no line; a lone low surrogate is what cannot be read."""
    path = tmp_path / "pos.csv"
    text = "item,store\r\n\u0a0a\u0a0a,S1\r\nA2,S2\r\n"
    path.write_bytes(text.encode("utf-16") + b"\x00\xdc" + "x\r\n".encode("utf-16-le"))
    assert undecodable_line(path, "utf-16", chunk) == 4
