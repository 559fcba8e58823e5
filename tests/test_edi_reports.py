"""EDI sales and inventory reports: X12 852/846 and EDIFACT SLSRPT/INVRPT, read and written.

There are no public 852, 846 or INVRPT files (../shared/notes/edi.md): those are written
here from the standards, and each reader is tested against its writer and against
hand-written documents. The SLSRPT reader is also tested on a real EANCOM file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from domain import x12
from domain.edi_reports import (
    read_846,
    read_852,
    read_invrpt,
    read_slsrpt,
    sniff,
    write_846,
    write_852,
    write_invrpt,
    write_slsrpt,
)
from domain.ingest import FileError, PosLine, StockLine

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "edi"
CREATED = dt.datetime(2024, 3, 2, 10, 30)
ISA = (
    "ISA*00*          *00*          *ZZ*DIST           *ZZ*SUPP           "
    "*240302*1030*U*00401*000000001*0*P*>~"
)


def sample(relative: str) -> bytes:
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not in ../shared/samples/edi")
    return path.read_bytes()


def x12_file(code: str, body: str, *, se_count: int | None = None) -> str:
    """One interchange, one group, one transaction set; body segments one per line.
    ISA is segment 1, GS 2, ST 3, so the body's first segment is at position 4."""
    segments = [s for s in body.split("\n") if s.strip()]
    count = len(segments) + 2 if se_count is None else se_count
    return (
        f"{ISA}\nGS*XX*DIST*SUPP*20240302*1030*1*X*004010~\nST*{code}*0001~\n"
        + "".join(f"{s}~\n" for s in segments)
        + f"SE*{count}*0001~\nGE*1*1~\nIEA*1*000000001~\n"
    )


def edifact_file(kind: str, body: str, *, unt: str | None = None, unz: str = "1+1") -> str:
    """One interchange with one message; body segments one per line, no terminators.
    UNA is segment 1, UNB 2, UNH 3, so the body's first segment is at position 4."""
    segments = [s for s in body.split("\n") if s.strip()]
    count = str(len(segments) + 2) if unt is None else unt
    return (
        "UNA:+.? '\nUNB+UNOC:3+DIST:ZZZ+SUPP:ZZZ+240302:1030+1'\n"
        f"UNH+1+{kind}:D:96A:UN:EAN004'\n"
        + "".join(f"{s}'\n" for s in segments)
        + f"UNT+{count}+1'\nUNZ+{unz}'\n"
    )


def amounts(rows: list[PosLine]) -> list[PosLine]:
    """Rows with net_sales as normalised numbers: 10/4 written as 2.5 comes back as 10.0."""
    return [
        r._replace(line=0, net_sales=str(Decimal(r.net_sales).normalize()) if r.net_sales else "")
        for r in rows
    ]


def fails(reader, data, message: str, line: int) -> FileError:
    with pytest.raises(FileError, match=message) as caught:
        reader(data)
    assert caught.value.line == line
    return caught.value


SALES = [
    PosLine(0, "SKU-1", "012345678905", "S001", "", "2024-03-01", "5", "12.50", ""),
    PosLine(0, "", "4006381333931", "", "4012345000009", "2024-03-01", "-2", "-5", ""),
    PosLine(0, "SKU-3", "10012345678902", "S002", "", "2024-03-01", "3", "", ""),
    PosLine(0, "SKU-4", "", "S001", "", "2024-03-02", "4", "10", ""),
    *(
        PosLine(0, "SKU-5", "", f"S{n:03d}", "", "2024-03-02", str(n), f"{n * 3}.{n:02d}", "")
        for n in range(1, 14)  # 13 stores: two SDQ segments
    ),
]
STOCK = [
    StockLine(0, "SKU-1", "012345678905", "S001", "", "2024-03-01", "10", "2", "5"),
    StockLine(0, "SKU-3", "", "S001", "", "2024-03-01", "0", "", "12"),
    StockLine(0, "", "4006381333931", "", "4012345000009", "2024-03-01", "7", "", ""),
    StockLine(0, "SKU-1", "012345678905", "S002", "", "2024-03-02", "-1", "3", ""),
]


# --- sniff --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "syntax"),
    [
        (ISA.encode(), "x12"),
        (b"\xef\xbb\xbf\r\n  " + ISA.encode(), "x12"),
        (b"UNA:+.? 'UNB+UNOC:3+A+B+240101:1200+1'", "edifact"),
        (b"\n UNB+UNOA:2+A+B+240101:1200+1'", "edifact"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None),
        (b"sku;store;units\n", None),
        (b"ISAAC", None),
        (b"", None),
    ],
)
def test_sniff_tells_x12_from_edifact_from_anything_else(data: bytes, syntax: str | None):
    assert sniff(data) == syntax


# --- X12 852 ------------------------------------------------------------------------------
def test_852_round_trip_returns_every_sales_row():
    """Currency is not part of the 004010 852, so it comes back empty; a line with a GLN is
    written by its GLN; amounts come back as quantity x the written unit price."""
    text = write_852(SALES, sender="DIST", receiver="SUPP", control=42, created=CREATED)
    assert amounts(list(read_852(text))) == amounts(SALES)
    (interchange,) = x12.parse(text)
    assert interchange.control_number == "000000042"
    assert [t.code for _, t in interchange.transactions()] == ["852", "852"]


def test_852_rows_name_the_sdq_that_carries_them():
    text = write_852(SALES[:1], sender="DIST", receiver="SUPP", created=CREATED, newline=True)
    (row,) = read_852(text)
    assert text.splitlines()[row.line - 1] == "SDQ*EA*92*S001*5~"


def test_852_from_the_standard_reads_sold_quantities_per_store():
    text = x12_file(
        "852",
        """XQ*H*20240301*20240301
N9*IA*VENDOR1
LIN**UP*012345678905*IN*SKU1
CTP**RES*2.49
ZA*QS
SDQ*EA*92*0001*4*0002*-1
ZA*QA
SDQ*EA*92*0001*40
LIN**EN*4006381333931
CTP**UCP*1.10
ZA*QS
SDQ*EA*UL*4012345000009*7
CTT*2""",
    )
    assert list(read_852(text.encode())) == [
        PosLine(9, "SKU1", "012345678905", "0001", "", "2024-03-01", "4", "9.96", ""),
        PosLine(9, "SKU1", "012345678905", "0002", "", "2024-03-01", "-1", "-2.49", ""),
        PosLine(15, "", "4006381333931", "", "4012345000009", "2024-03-01", "7", "", ""),
    ]


def test_852_za02_is_sold_at_the_n1_reporting_location_and_cur_gives_the_currency():
    text = x12_file(
        "852",
        """XQ*H*20240301
CUR*SE*CAD
N1*RL*Store 7*92*0007
LIN**IN*SKU1
ZA*QS*3*EA
CTP**RES*1.5""",
    )
    assert list(read_852(text)) == [
        PosLine(8, "SKU1", "", "0007", "", "2024-03-01", "3", "4.5", "CAD")
    ]


def test_852_over_several_days_takes_each_activity_date():
    text = x12_file(
        "852",
        """XQ*H*20240301*20240307
LIN**IN*SKU1
ZA*QS***002*20240305
SDQ*EA*92*0001*2""",
    )
    assert [r.day for r in read_852(text)] == ["2024-03-05"]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("20240301", "20240305", "5 days: not one day nor a week"),
        ("20240301", "20240314", "14 days: not one day nor a week"),
        ("20240307", "20240301", "ending before it starts: not one day nor a week"),
        ("20240301", "2024030X", "not a period of valid dates"),
    ],
)
def test_852_period_neither_one_day_nor_a_week_without_activity_dates_is_refused(
    start: str, end: str, message: str
):
    text = x12_file("852", f"XQ*H*{start}*{end}\nLIN**IN*SKU1\nZA*QS\nSDQ*EA*92*0001*2")
    fails(read_852, text, f"{start} to {end} \\(XQ02-XQ03\\), {message}", 6)


# A week (Sunday 3 to Saturday 9 March 2024) reported by a chain that names itself by its
# D-U-N-S+4 number and its stores in the SDQ pairs: sales (QS), consumer returns (QU),
# on hand (QA, not a sale). Store 0002 sold fewer than came back (a negative QS); store
# 0004 only had a return.
WEEKLY_852 = """XQ*H*20240303*20240309
N9*IA*VENDOR1
N1*RL*Corner Markets*9*0123456780001
LIN**UP*012345678905*IN*SKU1
CTP**RES*2.50
ZA*QS
SDQ*EA*92*0001*12*0002*-2*0003*5
ZA*QU
SDQ*EA*92*0001*1*0003*2
ZA*QA
SDQ*EA*92*0001*40*0002*8
LIN**IN*SKU2
ZA*QS
SDQ*EA*92*0002*3
ZA*QU
SDQ*EA*92*0004*1
CTT*2"""


def test_852_weekly_multi_store_with_returns_is_stored_on_the_weeks_last_day():
    rows = list(read_852(x12_file("852", WEEKLY_852)))
    assert rows == [
        PosLine(10, "SKU1", "012345678905", "0001", "", "2024-03-09", "11", "27.50", ""),
        PosLine(10, "SKU1", "012345678905", "0002", "", "2024-03-09", "-2", "-5.00", ""),
        PosLine(10, "SKU1", "012345678905", "0003", "", "2024-03-09", "3", "7.50", ""),
        PosLine(17, "SKU2", "", "0002", "", "2024-03-09", "3", "", ""),
        PosLine(19, "SKU2", "", "0004", "", "2024-03-09", "-1", "", ""),
    ]


def test_852_weekly_restated_gives_the_same_keys_with_the_new_figures():
    restated = WEEKLY_852.replace("SDQ*EA*92*0001*12*0002*-2*0003*5", "SDQ*EA*92*0001*9")
    keys = {(r.item, r.store, r.day): r.units for r in read_852(x12_file("852", restated))}
    assert keys[("SKU1", "0001", "2024-03-09")] == "8"


def test_852_returns_priced_on_one_side_only_are_a_file_error():
    text = x12_file(
        "852",
        "XQ*H*20240301\nLIN**IN*SKU1\nZA*QS\nCTP**RES*2\nSDQ*EA*92*0001*4\nZA*QU\nSDQ*EA*92*0001*1",
    )
    fails(read_852, text, r"ZA\*QU\) and the sales .*CTP\*RES\) on one side only", 10)


@pytest.mark.parametrize("qualifier", ["1", "9"])
def test_852_reporting_party_by_duns_with_stores_in_sdq(qualifier: str):
    text = x12_file(
        "852",
        f"""XQ*H*20240301
N1*RL*Corner Markets*{qualifier}*012345678
LIN**IN*SKU1
ZA*QS
SDQ*EA*92*0001*4*0002*1
ZA*QA*40*EA""",
    )
    assert [(r.store, r.units) for r in read_852(text)] == [("0001", "4"), ("0002", "1")]


def test_852_reporting_party_by_duns_then_its_store_by_code():
    text = x12_file(
        "852",
        "XQ*H*20240301\nN1*RL*Corner Markets*1*012345678\nN1*SN*Store 7*92*0007\n"
        "LIN**IN*SKU1\nZA*QS*3*EA",
    )
    assert [(r.store, r.units) for r in read_852(text)] == [("0007", "3")]


def test_852_reporting_party_by_duns_where_a_quantity_needs_its_location_is_refused():
    text = x12_file(
        "852", "XQ*H*20240301\nN1*RL*Corner Markets*9*0123456780001\nLIN**IN*SKU1\nZA*QS*3*EA"
    )
    error = fails(read_852, text, r"ZA\*QS carries a quantity \(ZA02\) for the reporting", 7)
    assert "N1*RL (segment 5) names '0123456780001' by N103 '9' (D-U-N-S+4)" in str(error)
    assert "give the quantities per store in SDQ, or name the location with 92 or UL" in str(error)


def test_852_n103_outside_004010_is_a_file_error():
    text = x12_file("852", "XQ*H*20240301\nN1*RL**Q7*X\nLIN**IN*SKU1\nZA*QS\nSDQ*EA*92*1*2")
    fails(read_852, text, "N103 'Q7' is not an X12 004010 identification code qualifier", 5)


def test_852_quantity_with_no_location_in_scope_is_a_file_error():
    text = x12_file("852", "XQ*H*20240301\nLIN**IN*SKU1\nZA*QS*3*EA")
    fails(read_852, text, "ZA.QS carries a quantity .* no location is in scope", 6)


def test_852_quantity_with_no_item_in_scope_is_a_file_error():
    text = x12_file("852", "XQ*H*20240301\nLIN**VN*V-1\nZA*QS\nSDQ*EA*92*0001*2")
    fails(read_852, text, "LIN has no GTIN .* nor buyer's item number", 7)


def test_852_unknown_location_qualifier_is_a_file_error():
    text = x12_file("852", "XQ*H*20240301\nLIN**IN*SKU1\nZA*QS\nSDQ*EA*9*123456789*2")
    fails(read_852, text, "SDQ02 '9' is not a location qualifier", 7)


def test_852_bad_values_pass_through_for_the_validator():
    """A bad date or quantity rejects one row downstream, not the file."""
    text = x12_file(
        "852",
        "XQ*H*20240231*20240231\nLIN**IN*SKU1\nCTP**RES*2.00\nZA*QS\nSDQ*EA*92*0001*4x*0002*1",
    )
    assert [(r.day, r.units, r.net_sales) for r in read_852(text)] == [
        ("20240231", "4x", ""),
        ("20240231", "1", "2.00"),
    ]


def test_an_850_given_to_read_852_names_what_it_found():
    text = x12_file("850", "BEG*00*SA*PO1**20240301\nPO1*1*5*EA*2.5**UP*012345678905")
    fails(read_852, text, "expected X12 852 transaction sets, found a 850", 3)


def test_a_real_850_given_to_read_852_names_what_it_found():
    data = sample("x12/850/850-004010-bots-02.x12")
    with pytest.raises(FileError, match="found a 850"):
        read_852(data)


def test_852_wrong_segment_count_in_se_is_a_file_error():
    text = x12_file("852", "XQ*H*20240301\nLIN**IN*SKU1\nZA*QS\nSDQ*EA*92*0001*2", se_count=5)
    fails(read_852, text, "SE01 says '5' segments but there are 6", 8)


def test_852_several_interchanges_in_one_file():
    first = write_852(SALES[:3], sender="DIST", receiver="SUPP", control=1, created=CREATED)
    second = write_852(SALES[3:], sender="DIST", receiver="SUPP", control=2, created=CREATED)
    assert amounts(list(read_852(first + "\n" + second))) == amounts(SALES)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x01garbage\xff", "not an X12 file .*does not start with ISA"),
        (b"UNA:+.? 'UNB+UNOC:3+A+B+240101:1200+1'", "this is an EDIFACT file, but an X12 852"),
    ],
)
def test_852_of_something_else_is_a_file_error(data: bytes, message: str):
    fails(read_852, data, message, 0)


def test_852_writer_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="not 3 x an exact unit price"):
        write_852([SALES[0]._replace(units="3", net_sales="10")], sender="D", receiver="S")
    with pytest.raises(ValueError, match="contains an X12 delimiter"):
        write_852([SALES[0]._replace(item="A*B")], sender="D", receiver="S")
    with pytest.raises(ValueError, match="needs a store or a gln"):
        write_852([SALES[0]._replace(store="")], sender="D", receiver="S")


# --- X12 846 ------------------------------------------------------------------------------
def test_846_round_trip_returns_every_stock_row():
    text = write_846(STOCK, sender="DIST", receiver="SUPP", control=7, created=CREATED)
    assert [r._replace(line=0) for r in read_846(text)] == STOCK
    (interchange,) = x12.parse(text)
    assert [t.code for _, t in interchange.transactions()] == ["846"] * 3


def test_846_from_the_standard_maps_the_quantity_qualifiers():
    text = x12_file(
        "846",
        """BIA*00*DD*INV-1*20240301
N1*RL*DC North*UL*4012345000009
LIN*1*UP*012345678905*IN*SKU1
QTY*33*8*EA
QTY*IQ*2*EA
QTY*63*6*EA
LIN*2*IN*SKU2
QTY*17*3*EA
QTY*33*1*EA
N1*RL**92*0042
CTT*2""",
    )
    assert list(read_846(text)) == [
        StockLine(7, "SKU1", "012345678905", "", "4012345000009", "2024-03-01", "8", "2", "6"),
        StockLine(11, "SKU2", "", "0042", "", "2024-03-01", "3", "", ""),
    ]


def test_846_quantity_with_no_location_in_scope_is_a_file_error():
    text = x12_file("846", "BIA*00*DD*INV-1*20240301\nLIN*1*IN*SKU1\nQTY*17*3*EA")
    fails(read_846, text, "QTY.17 has no location in scope", 6)


NO_LOCATION_846 = """BIA*00*DD*INV-1*20240301
N1*SU*Acme Supply*9*0987654320001
LIN*1*IN*SKU1
QTY*17*3*EA
LIN*2*IN*SKU2
QTY*17*5*EA
QTY*63*2*EA
CTT*2"""


def test_846_with_no_location_loop_is_the_distributors_one_dc():
    rows = list(read_846(x12_file("846", NO_LOCATION_846), dcs=("DC1",)))
    assert rows == [
        StockLine(7, "SKU1", "", "DC1", "", "2024-03-01", "3", "", ""),
        StockLine(9, "SKU2", "", "DC1", "", "2024-03-01", "5", "", "2"),
    ]


def test_846_reporting_party_by_duns_is_the_distributors_one_dc():
    text = x12_file("846", "BIA*00*DD*I*20240301\nN1*RL*Dist*1*012345678\nLIN*1*IN*S\nQTY*17*3")
    assert [r.store for r in read_846(text, dcs=["DC1"])] == ["DC1"]


def test_846_an_n1_that_names_a_location_wins_over_the_one_dc():
    text = x12_file("846", "BIA*00*DD*I*20240301\nN1*WH**92*0042\nLIN*1*IN*S\nQTY*17*3")
    assert [r.store for r in read_846(text, dcs=["DC1"])] == ["0042"]


def test_846_with_no_location_and_two_dcs_says_which_n1_is_missing():
    error = fails(
        lambda data: read_846(data, dcs=("DC1", "DC2")),
        x12_file("846", NO_LOCATION_846),
        "QTY.17 has no location in scope: no N1.RL or N1.WH names one",
        7,
    )
    assert "the distributor has 2 DCs (DC1, DC2), so the 846 must say which" in str(error)
    assert "add N1*WH**92*<DC code> (or N1*RL, or N103 UL and the GLN)" in str(error)


def test_846_reporting_party_by_duns_and_two_dcs_names_that_n1():
    text = x12_file("846", "BIA*00*DD*I*20240301\nN1*RL*Dist*9*0123456780001\nLIN*1*IN*S\nQTY*17*3")
    error = fails(lambda data: read_846(data, dcs=("DC1", "DC2")), text, "QTY.17 has no", 7)
    assert "N1*RL (segment 5) names '0123456780001' by N103 '9' (D-U-N-S+4)" in str(error)


def test_846_repeated_quantity_is_a_file_error():
    text = x12_file(
        "846", "BIA*00*DD*I*20240301\nN1*RL**92*1\nLIN*1*IN*SKU1\nQTY*17*3*EA\nQTY*17*4*EA"
    )
    fails(read_846, text, "QTY.17 twice in one LIN loop", 8)


def test_an_852_given_to_read_846_names_what_it_found():
    text = write_852(SALES[:1], sender="DIST", receiver="SUPP", created=CREATED)
    fails(read_846, text, "expected X12 846 transaction sets, found a 852", 3)


# --- EDIFACT SLSRPT -----------------------------------------------------------------------
def test_the_real_eancom_slsrpt_reads_cleanly():
    """bots' slsrpt01.edi: two interchanges, one message each, 196 sales lines per message.
    Its PRI looks like an extended amount (LIN 20 and LIN 22 are the same GTIN at 13.5 x 1
    and 27 x 2), but PRI is a unit price in EANCOM, so it is read as one."""
    data = sample("edifact/SLSRPT/slsrpt-d96a-ean004-bots.edi")
    rows = list(read_slsrpt(data))
    assert len(rows) == 392
    assert rows[0] == PosLine(
        15, "", "8712345275208", "", "8712345001472", "2008-03-31", "2", "54", "EUR"
    )
    assert rows[6] == PosLine(
        35, "", "8712345275208", "", "8712345000345", "2008-03-31", "-1", "-19.95", "EUR"
    )
    # The second interchange is a copy whose heading period says 2006-07-31; its sales
    # dates (DTM+356 per LOC) still say 2008-03-31, and those are what date the rows.
    assert rows[196] == rows[0]._replace(line=718)
    assert sum(int(r.units) for r in rows) == 552  # the QTY+153 of the file, summed by grep
    lines = data.decode("latin-1").splitlines()
    assert all(lines[r.line - 1].startswith("QTY+153:") for r in rows)


def test_slsrpt_round_trip_across_currencies_and_interchanges():
    """Each currency is its own message; two writes concatenated are two interchanges."""
    sales = [
        *SALES[:4],
        PosLine(0, "SKU?+:'x", "", "S9", "", "2024-03-01", "1", "9.99", "EUR"),
        PosLine(0, "SKU-6", "", "S9", "", "2024-03-03", "-1", "-9.99", "EUR"),
    ]
    first = write_slsrpt(sales, sender="DIST", receiver="SUPP", control=5, created=CREATED)
    second = write_slsrpt(SALES[4:], sender="DIST", receiver="SUPP", control=6, created=CREATED)
    rows = list(read_slsrpt((first + second).encode("latin-1")))
    assert [r._replace(line=0) for r in rows] == sales + SALES[4:]
    assert "UNH+2+SLSRPT" in first
    assert "SKU???+?:?'x" in first


def test_slsrpt_decodes_bytes_by_the_unb_syntax_identifier():
    sold = [PosLine(0, "Käse-Ω", "", "Zürich", "", "2024-03-01", "1", "", "")]
    utf8 = write_slsrpt(sold, sender="D", receiver="S", created=CREATED, syntax="UNOY")
    assert [r.item for r in read_slsrpt(utf8.encode("utf-8"))] == ["Käse-Ω"]
    latin = write_slsrpt([sold[0]._replace(item="Käse")], sender="D", receiver="S", created=CREATED)
    assert [r.store for r in read_slsrpt(latin.encode("latin-1"))] == ["Zürich"]
    with pytest.raises(ValueError, match="cannot be written in UNOC"):
        write_slsrpt(sold, sender="D", receiver="S", created=CREATED)


def test_slsrpt_from_the_standard_prices_amounts_and_dates():
    """MOA+203 wins over PRI; PRI is divided by its unit price basis; a comma decimal mark,
    YYMMDD (101) and a one-day period (718) are understood; a heading CUX is the currency."""
    text = edifact_file(
        "SLSRPT",
        """BGM+73E+R1+9
DTM+137:20240302:102
CUX+2:EUR:10
LOC+162+0001::92
DTM+356:240301:101
LIN+1++4006381333931:EN
PIA+1+SKU1:IN+V-9:SA
PRI+AAA:12,50::RTP:10
QTY+153:4
LIN+2
PIA+5+SKU2:IN
MOA+203:7.5:CHF
PRI+AAA:2.4
QTY+153:3
LOC+162+4012345000009::9
DTM+356:20240305-20240305:718
LIN+3++4006381333948:SRV
QTY+153:-2,0""",
    )
    assert list(read_slsrpt(text)) == [
        PosLine(12, "SKU1", "4006381333931", "0001", "", "2024-03-01", "4", "5.00", "EUR"),
        PosLine(17, "SKU2", "", "0001", "", "2024-03-01", "3", "7.5", "CHF"),
        PosLine(21, "", "4006381333948", "", "4012345000009", "2024-03-05", "-2.0", "", "EUR"),
    ]


def test_slsrpt_heading_period_of_one_day_dates_a_location_without_dtm():
    text = edifact_file(
        "SLSRPT",
        "BGM+73E+R1+9\nDTM+90:20240301:102\nDTM+91:20240301:102\n"
        "LOC+162+0001::92\nLIN+1++4006381333931:EN\nQTY+153:1",
    )
    assert [r.day for r in read_slsrpt(text)] == ["2024-03-01"]


def test_slsrpt_bad_values_pass_through_for_the_validator():
    text = edifact_file(
        "SLSRPT",
        "BGM+73E+R1+9\nLOC+162+0001::92\nDTM+356:20241301:102\n"
        "LIN+1++4006381333931:EN\nPRI+AAA:2\nQTY+153:abc\nLIN+2++4006381333948:EN\nQTY+153:",
    )
    assert [(r.day, r.units, r.net_sales) for r in read_slsrpt(text)] == [
        ("20241301", "abc", ""),
        ("20241301", "", ""),
    ]


def test_slsrpt_period_of_several_days_is_not_daily():
    text = edifact_file(
        "SLSRPT",
        "BGM+73E+R1+9\nLOC+162+0001::92\nDTM+356:20240301-20240307:718\n"
        "LIN+1++4006381333931:EN\nQTY+153:1",
    )
    fails(read_slsrpt, text, "spans several days", 6)


def test_slsrpt_quantity_with_no_location_in_scope_is_a_file_error():
    text = edifact_file(
        "SLSRPT", "BGM+73E+R1+9\nDTM+356:20240301:102\nLIN+1++4006381333931:EN\nQTY+153:1"
    )
    fails(read_slsrpt, text, "QTY.153 has no location in scope", 7)


def test_slsrpt_quantity_with_no_date_in_scope_is_a_file_error():
    text = edifact_file(
        "SLSRPT", "BGM+73E+R1+9\nLOC+162+0001::92\nLIN+1++4006381333931:EN\nQTY+153:1"
    )
    fails(read_slsrpt, text, "QTY.153 has no date in scope", 7)


@pytest.mark.parametrize(
    ("unt", "unz", "message", "line"),
    [
        ("6", "1+1", "UNT says '6' segments but there are 5", 7),
        ("5+9", "1+1", "UNT reference '9' does not match UNH's '1'", 7),
        ("5", "1+2", "UNZ reference '2' does not match UNB's '1'", 8),
        ("5", "2+1", "UNZ says '2' messages but there are 1", 8),
    ],
)
def test_slsrpt_envelope_errors_name_the_trailer(unt: str, unz: str, message: str, line: int):
    """pydifact accepts all of these; the reader does not."""
    body = "BGM+73E+R1+9\nLOC+162+0001::92\nDTM+356:20240301:102"
    fails(read_slsrpt, edifact_file("SLSRPT", body, unt=unt, unz=unz), message, line)


def test_slsrpt_with_its_own_una_separators_and_release_character():
    text = (
        "UNA|*,# !UNB*UNOC|3*DIST*SUPP*240302|1030*1!UNH*1*SLSRPT|D|96A|UN|EAN004!"
        "LOC*162*0001||92!DTM*356|20240301|102!LIN*1**4006381333931|EN!"
        "PIA*5*A#*B#!C##D#|E|IN!QTY*153|2,5!UNT*7*1!UNZ*1*1!"
    )
    assert list(read_slsrpt(text)) == [
        PosLine(8, "A*B!C#D|E", "4006381333931", "0001", "", "2024-03-01", "2.5", "", "")
    ]


def test_slsrpt_groups_and_a_missing_final_terminator_are_understood():
    text = (
        "UNB+UNOA:2+DIST+SUPP+240302:1030+REF1'UNG+SLSRPT+DIST+SUPP+240302:1030+G1+UN+D:96A'"
        "UNH+M1+SLSRPT:D:96A:UN:EAN004'LOC+162+0001::92'DTM+356:20240301:102'"
        "LIN+1++4006381333931:EN'QTY+153:2'UNT+6+M1'UNE+1+G1'UNZ+1+REF1"
    )
    assert [(r.line, r.units) for r in read_slsrpt(text)] == [(7, "2")]


def test_an_orders_given_to_read_slsrpt_names_what_it_found():
    text = edifact_file("ORDERS", "BGM+220+PO1+9\nLIN+1++4006381333931:EN\nQTY+21:5")
    fails(read_slsrpt, text, "expected SLSRPT messages, found ORDERS", 3)


def test_a_real_orders_given_to_read_slsrpt_names_what_it_found():
    data = sample("edifact/ORDERS/orders-pydifact.edi")
    fails(read_slsrpt, data, "expected SLSRPT messages, found ORDERS", 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x01garbage\xff", "not an EDIFACT file .*does not start with UNA or UNB"),
        (ISA.encode(), "this is an X12 file, but an EDIFACT SLSRPT"),
    ],
)
def test_slsrpt_of_something_else_is_a_file_error(data: bytes, message: str):
    fails(read_slsrpt, data, message, 0)


def test_slsrpt_broken_syntax_is_a_file_error():
    fails(read_slsrpt, b"UNB+UNOZ:3+A+B+240101:1200+1'", "syntax identifier 'UNOZ'", 0)
    text = edifact_file("SLSRPT", "BGM+73E+R1+9\nlin+1")
    fails(read_slsrpt, text, "'lin' is not a segment tag", 5)


# --- EDIFACT INVRPT -----------------------------------------------------------------------
def test_invrpt_round_trip_returns_every_stock_row():
    text = write_invrpt(STOCK, sender="DIST", receiver="SUPP", control=3, created=CREATED)
    assert [r._replace(line=0) for r in read_invrpt(text)] == STOCK
    assert text.count("UNH+") == 2


def test_invrpt_eancom_simple_report_takes_the_reporting_party_and_the_total():
    """EANCOM's simple report has no LOC: the NAD+GY party is the stock location; a total
    (QTY+145:300) is broken down into sub-quantities with the same qualifier."""
    text = edifact_file(
        "INVRPT",
        """BGM+35+INVR21599+9
DTM+137:19970201:102
DTM+366:19970129:102
NAD+GY+5410738100050::9
NAD+CO+5410738100005::9
LIN+1++5412345100102:EN
QTY+145:300
QTY+145:150
CPS+1
QTY+145:100
QTY+198:40
QTY+73:12""",
    )
    assert list(read_invrpt(text)) == [
        StockLine(10, "", "5412345100102", "", "5410738100050", "1997-01-29", "300", "40", "12")
    ]


def test_invrpt_locations_and_dates_per_quantity_group():
    text = edifact_file(
        "INVRPT",
        """BGM+35+R+9
DTM+137:20240302:102
LIN+1++4006381333931:EN
PIA+1+SKU1:IN
LOC+18+0001::92
QTY+145:5
QTY+145:9
LOC+18+0002::92
DTM+366:20240301:102
INV+2
QTY+21:4""",
    )
    assert list(read_invrpt(text)) == [
        StockLine(9, "SKU1", "4006381333931", "0001", "", "2024-03-02", "5", "", "4"),
        StockLine(10, "SKU1", "4006381333931", "0002", "", "2024-03-01", "9", "", ""),
    ]


def test_invrpt_quantity_with_no_location_in_scope_is_a_file_error():
    text = edifact_file(
        "INVRPT", "BGM+35+R+9\nDTM+366:20240301:102\nLIN+1++4006381333931:EN\nQTY+145:5"
    )
    fails(read_invrpt, text, "QTY.145 has no location in scope", 7)


def test_a_slsrpt_given_to_read_invrpt_names_what_it_found():
    text = write_slsrpt(SALES[:1], sender="DIST", receiver="SUPP", created=CREATED)
    fails(read_invrpt, text, "expected INVRPT messages, found SLSRPT", 3)
