"""Importing POS and inventory files through the bulk lane into a real hub.

Restatements replace, re-imports change nothing, bad rows are rejected by line while the
good ones land, structurally wrong files land nothing, rollups follow the raw rows, and
the rows are visible (with governance) through the hub's own API at once.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from directus.bulk import open_lane, storage_value
from domain import edi_reports
from domain.ingest import FileError, PosLine, StockLine, check_date_format
from governance.sharing import grant
from ingest import parallel, readers
from ingest.archives import check_zip
from ingest.pipeline import run_import
from ingest.readers import ColumnMap
from tandem.cli import cli
from tests.factories import make_pair, make_sku, make_store, make_user
from tests.helpers import as_ints

MONDAY = dt.date(2026, 3, 2)  # ISO 2026-W10


@dataclass
class World:
    supplier: dict[str, Any]
    distributor: dict[str, Any]
    skus: list[dict[str, Any]]  # item codes "A1", "A2"
    stores: list[dict[str, Any]]  # codes "S1", "S2"
    url: str

    @property
    def d(self) -> int:
        return int(self.distributor["id"])

    def run(self, path: Path, kind: str = "pos", **kwargs: Any) -> Any:
        with open_lane(self.url) as lane:
            return run_import(lane, path, distributor=self.d, kind=kind, **kwargs)


@pytest.fixture
def world(hub, admin) -> World:
    supplier, distributor, _pair = make_pair(admin)
    skus = [make_sku(admin, supplier, distributor, code) for code in ("A1", "A2")]
    stores = [
        make_store(admin, distributor, "S1", "west"),
        make_store(admin, distributor, "S2", "east"),
    ]
    return World(supplier, distributor, skus, stores, hub.lane_url)


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "pos.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


POS = """item,store,date,units,net_sales
A1,S1,2026-03-02,3,7.50
A1,S1,2026-03-03,2,5.00
A2,S1,2026-03-02,1,2.50
A1,S2,2026-03-08,4,10.00
A2,S2,2026-03-09,5,12.50
"""


def _raw(hub, distributor: int) -> dict[str, tuple]:
    rows = hub.sql(
        "SELECT id, day, units, net_sales_minor, currency FROM pos_sales WHERE distributor = ?",
        distributor,
    )
    return {r[0]: r[1:] for r in rows}


def test_a_csv_lands_with_counts_and_directus_storage(hub, admin, world, write_csv):
    result = world.run(write_csv(POS))
    assert (result.rows_read, result.rows_rejected) == (5, 0)
    assert (result.new, result.changed, result.unchanged) == (5, 0, 0)
    assert (result.data_from, result.data_through) == (MONDAY, dt.date(2026, 3, 9))
    s1, a1 = world.stores[0]["id"], world.skus[0]["id"]
    raw = _raw(hub, world.d)
    assert raw[f"{world.d}:{s1}:{a1}:2026-03-02"] == (storage_value(MONDAY), 3, 750, "USD")
    found = admin.read_items(
        "pos_sales",
        filter={"_and": [{"distributor": {"_eq": world.d}}, {"day": {"_lte": "2026-03-03"}}]},
        fields=["day", "units", "net_sales_minor"],
        sort=["day", "units"],
    )
    assert as_ints(found, "net_sales_minor") == [
        {"day": "2026-03-02", "units": 1, "net_sales_minor": 250},
        {"day": "2026-03-02", "units": 3, "net_sales_minor": 750},
        {"day": "2026-03-03", "units": 2, "net_sales_minor": 500},
    ]


def test_reimport_changes_nothing_and_a_restatement_replaces(hub, admin, world, write_csv):
    first = world.run(write_csv(POS))
    again = world.run(write_csv(POS))
    assert (again.new, again.changed, again.unchanged) == (0, 0, 5)
    assert len(_raw(hub, world.d)) == first.new == 5
    restated = POS.replace("A1,S1,2026-03-02,3,7.50", "A1,S1,2026-03-02,-1,-2.50")
    result = world.run(write_csv(restated + "A2,S1,2026-03-04,6,15.00\n", "restated.csv"))
    assert (result.new, result.changed, result.unchanged) == (1, 1, 4)
    week = admin.read_items(
        "pos_week_location",
        filter={"_and": [{"distributor": {"_eq": world.d}}, {"iso_week": {"_eq": "2026-W10"}}]},
        fields=["location", "sku", "units", "net_sales_minor", "days", "week_start", "week_end"],
        sort=["location", "sku"],
    )
    s1, s2 = (s["id"] for s in world.stores)
    a1, a2 = (s["id"] for s in world.skus)
    # W10 = 2026-03-02..08: S1/A1 = -1 + 2 (a return replaced 3), S1/A2 = 1 + 6, S2/A1 = 4
    keys = ("location", "sku", "units", "net_sales_minor", "days")
    assert [tuple(w[k] for k in keys) for w in as_ints(week, "units", "net_sales_minor")] == [
        (s1, a1, 1, 250, 2),
        (s1, a2, 7, 1750, 2),
        (s2, a1, 4, 1000, 1),
    ]
    assert {(w["week_start"], w["week_end"]) for w in week} == {("2026-03-02", "2026-03-08")}
    by_sku = admin.read_items(
        "pos_week_distributor",
        filter={"distributor": {"_eq": world.d}},
        fields=["sku", "iso_week", "units", "days", "locations"],
        sort=["iso_week", "sku"],
    )
    assert as_ints(by_sku, "units") == [
        {"sku": a1, "iso_week": "2026-W10", "units": 5, "days": 3, "locations": 2},
        {"sku": a2, "iso_week": "2026-W10", "units": 7, "days": 2, "locations": 1},
        {"sku": a2, "iso_week": "2026-W11", "units": 5, "days": 1, "locations": 1},
    ]
    del s2


def test_bad_rows_are_rejected_by_line_and_the_good_ones_land(hub, world, write_csv, tmp_path):
    text = (
        "item,store,date,units,net_sales\n"
        "A1,S1,2026-03-02,3,7.50\n"  # line 2: good
        "ZZ,S1,2026-03-02,1,1.00\n"  # 3: unknown item
        "A1,S9,2026-03-02,1,1.00\n"  # 4: unknown store
        "A1,S1,2026-02-30,1,1.00\n"  # 5: bad date
        "A1,S1,2026-03-03,three,1.00\n"  # 6: non-numeric units
        "A2,S2,2026-03-03,-2,-5.00\n"  # 7: a return: good
        "A2,S2,2026-03-04,1,1.005\n"  # 8: more decimals than USD has
    )
    rejects = tmp_path / "rejects.csv"
    result = world.run(write_csv(text), rejects_path=rejects)
    assert (result.rows_read, result.rows_rejected, result.new) == (7, 5, 2)
    lines = rejects.read_text().splitlines()
    assert lines[0] == "line,field,reason"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["3", "item"],
        ["4", "store"],
        ["5", "day"],
        ["6", "units"],
        ["8", "net_sales"],
    ]
    assert "'ZZ'" in lines[1]
    assert "'S9'" in lines[2]
    assert "three" in lines[4]


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ("sku,where,when,qty\nA1,S1,2026-03-02,3\n", None, "wrong columns"),
        ("item,store,date,units\nA1,S1,2026-03-02,3\n".encode("utf-16"), None, "UTF-16"),
        ("item,store,date,units\nA1,S1,2026-03-02,3\n", "xlsx", "claims to be xlsx"),
        ("", None, "empty"),
    ],
)
def test_a_structurally_wrong_file_lands_nothing(hub, world, tmp_path, content, fmt, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(FileError, match=f"(?i){message}"):
        world.run(path, fmt=fmt)
    assert _raw(hub, world.d) == {}


def test_a_zip_bomb_sent_as_pos_is_refused_before_it_is_unpacked(hub, world, tmp_path):
    """Seen: a 3.4 MB zip bomb sent as POS took 39 s and about 1 GB of memory. The
    zip's directory is checked first, as the promotions workbook reader does."""
    path = tmp_path / "pos.xlsx"
    block = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # A workbook's parts, so the file is taken for what it claims to be (a zip without
        # them is refused earlier, as a zip that is not a workbook).
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(64):
                member.write(block)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(FileError, match="zip bomb"):
        world.run(path)
    assert _raw(hub, world.d) == {}


def test_shared_strings_read_whole_have_a_cap_of_their_own(tmp_path):
    """openpyxl streams a sheet but loads its shared strings whole: seen, a 590 KB file
    whose strings unpacked to 57 MB at 97 times took 485 MB before being refused."""
    path = tmp_path / "strings.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", secrets.token_hex(40_000))
    check_zip(path, max_uncompressed=10**9)  # no cap of its own: it passes
    with pytest.raises(FileError, match=r"sharedStrings\.xml\) would unpack to more than"):
        check_zip(path, max_uncompressed=10**9, member_caps={"xl/sharedStrings.xml": 64 * 1024})
    assert readers.XLSX_MEMBER_CAPS["xl/sharedStrings.xml"] <= 32 * 1024 * 1024


def test_an_encoding_error_late_in_the_file_lands_nothing(hub, world, tmp_path):
    body = "".join(f"A1,S1,2026-03-{d:02d},1,1.00\n" for d in range(1, 29))
    path = tmp_path / "late.csv"
    path.write_bytes(b"item,store,date,units,net_sales\n" + body.encode() + b"A2,S1,\xff\n")
    with pytest.raises(FileError, match="not utf-8"):
        world.run(path)
    assert _raw(hub, world.d) == {}


def test_a_saved_mapping_reads_the_distributors_own_columns(hub, world, write_csv):
    text = "Store Nbr;Item Nbr;Sold;Business Day\nS1;A1;3;02/03/2026\nS2;A2;4;09/03/2026\n"
    mapping = ColumnMap(
        columns={"store": "Store Nbr", "item": "Item Nbr", "units": "Sold", "day": "Business Day"},
        date_format="%d/%m/%Y",
    )
    result = world.run(write_csv(text), mapping=mapping)
    assert (result.new, result.rows_rejected) == (2, 0)
    assert (result.data_from, result.data_through) == (MONDAY, dt.date(2026, 3, 9))


def test_inventory_lands_and_feeds_show_freshness(hub, admin, world, write_csv):
    text = "gtin,store,date,on_hand,in_transit\n" + "".join(
        f"{world.skus[0]['gtin']},S1,2026-03-0{d},{10 - d},2\n" for d in (2, 3, 4)
    )
    result = world.run(write_csv(text, "inv.csv"), kind="inventory")
    assert (result.new, result.rows_rejected) == (3, 0)
    feeds = admin.read_items(
        "feeds", filter={"distributor": {"_eq": world.d}}, fields=["id", "kind", "data_through"]
    )
    assert feeds == [
        {"id": f"{world.d}:inventory", "kind": "inventory", "data_through": "2026-03-04"}
    ]


def test_imported_rows_follow_the_share_policy_at_once(hub, admin, world, write_csv):
    grant(admin, world.d, world.supplier["id"], ["pos"], valid_from=MONDAY, via="test")
    member = make_user(admin, "supplier_user", world.supplier)
    client = member.login(hub.url)
    world.run(write_csv(POS))
    seen = client.read_items("pos_sales", fields=["units"], limit=-1)
    assert sorted(r["units"] for r in seen) == [1, 2, 3, 4, 5]
    weeks = client.read_items("pos_week_distributor", fields=["iso_week", "units"], limit=-1)
    assert sorted((w["iso_week"], int(w["units"])) for w in weeks) == [
        ("2026-W10", 1),
        ("2026-W10", 9),
        ("2026-W11", 5),
    ]


def test_the_cli_imports_with_a_saved_mapping_and_shows_the_counts(hub, admin, world, write_csv):
    env = {
        "TANDEM_HUB_ADMIN_EMAIL": hub.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": hub.admin_password,
        "TANDEM_HUB_DB_URL": world.url,
    }
    text = "Store Nbr,Item Nbr,Sold,Day\nS1,A1,3,02/03/2026\nS9,A1,1,02/03/2026\n"
    args = ["import", "pos", str(write_csv(text)), "--distributor", str(world.d)]
    args += ["--hub-url", hub.url, "--column", "store=Store Nbr", "--column", "item=Item Nbr"]
    args += ["--column", "units=Sold", "--date-format", "%d/%m/%Y"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "2 rows read" in result.output
    assert "1 new, 0 changed, 0 unchanged, 1 rejected" in result.output
    saved = admin.read_item("column_mappings", f"{world.d}:pos")
    assert saved["columns"] == {"store": "Store Nbr", "item": "Item Nbr", "units": "Sold"}
    # next time, the saved mapping is used without any option
    again = CliRunner().invoke(cli, [*args[:5], "--hub-url", hub.url], env=env)
    assert again.exit_code == 0, again.output
    assert "0 new, 0 changed, 1 unchanged, 1 rejected" in again.output
    imports = admin.read_items(
        "imports", filter={"distributor": {"_eq": world.d}}, fields=["status", "source", "rows_new"]
    )
    assert imports == [
        {"status": "done", "source": "cli", "rows_new": 1},
        {"status": "done", "source": "cli", "rows_new": 0},
    ]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Store Nbr,Item Nbr,Sold,Day\nS9,A1,1,02/03/2026\nS8,A1,2,02/03/2026\n",
         "every one of its 2 rows was rejected"),
        ("Store Nbr,Item Nbr,Sold,Day\n", "the file holds no rows"),
    ],
    ids=["all-rejected", "no-rows"],
)  # fmt: skip
def test_the_cli_fails_when_nothing_landed(hub, world, write_csv, text, why):
    """A script running `tandem import` learns from its exit code that no row landed."""
    env = {
        "TANDEM_HUB_ADMIN_EMAIL": hub.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": hub.admin_password,
        "TANDEM_HUB_DB_URL": world.url,
    }
    args = ["import", "pos", str(write_csv(text)), "--distributor", str(world.d)]
    # the mapping the test above saves, whichever runs first
    args += ["--hub-url", hub.url, "--column", "store=Store Nbr", "--column", "item=Item Nbr"]
    args += ["--column", "units=Sold", "--date-format", "%d/%m/%Y"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1, result.output
    assert f"nothing landed: {why}" in result.output


def test_the_cli_says_why_a_wrong_file_landed_nothing(hub, world, write_csv):
    env = {
        "TANDEM_HUB_ADMIN_EMAIL": hub.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": hub.admin_password,
        "TANDEM_HUB_DB_URL": world.url,
    }
    path = write_csv("a,b\n1,2\n")
    args = ["import", "inventory", str(path), "--distributor", str(world.d), "--hub-url", hub.url]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert "wrong columns" in result.output


# -- every delivered format -------------------------------------------------------------


def _pos_lines(world: World) -> list[PosLine]:
    g1, g2 = (s["gtin"] for s in world.skus)
    return [
        PosLine(0, "", g1, "S1", "", "2026-03-02", "3", "7.50", "USD"),
        PosLine(0, "", g1, "S2", "", "2026-03-02", "-1", "-2.50", "USD"),  # a return
        PosLine(0, "", g2, "S1", "", "2026-03-03", "2", "5.00", "USD"),
    ]


@pytest.mark.parametrize("writer", ["x12", "edifact"])
def test_edi_sales_reports_land_like_csv(hub, admin, world, tmp_path, writer):
    lines = _pos_lines(world)
    if writer == "x12":
        text = edi_reports.write_852(lines, sender="DIST", receiver="SUPP", control=7)
    else:
        text = edi_reports.write_slsrpt(lines, sender="DIST", receiver="SUPP", control=7)
    path = tmp_path / f"sales.{writer}"
    path.write_text(text, encoding="latin-1")
    result = world.run(path)
    assert (result.format, result.rows_read, result.rows_rejected) == (writer, 3, 0)
    assert (result.new, result.changed, result.unchanged) == (3, 0, 0)
    sums = admin.read_items(
        "pos_week_distributor",
        filter={"distributor": {"_eq": world.d}},
        fields=["sku", "units", "net_sales_minor"],
        sort=["sku"],
    )
    a1, a2 = (s["id"] for s in world.skus)
    assert as_ints(sums, "units", "net_sales_minor") == [
        {"sku": a1, "units": 2, "net_sales_minor": 500},
        {"sku": a2, "units": 2, "net_sales_minor": 500},
    ]
    assert world.run(path).unchanged == 3


@pytest.mark.parametrize("writer", ["x12", "edifact"])
def test_edi_inventory_reports_land(hub, admin, world, tmp_path, writer):
    g1 = world.skus[0]["gtin"]
    lines = [StockLine(0, "", g1, "S1", "", "2026-03-04", "12", "3", "5")]
    write = edi_reports.write_846 if writer == "x12" else edi_reports.write_invrpt
    path = tmp_path / f"stock.{writer}"
    path.write_text(write(lines, sender="DIST", receiver="SUPP"), encoding="latin-1")
    result = world.run(path, kind="inventory")
    assert (result.new, result.rows_rejected) == (1, 0)
    stored = admin.read_items(
        "inventory_positions",
        filter={"distributor": {"_eq": world.d}},
        fields=["day", "on_hand", "in_transit", "on_order"],
    )
    assert stored == [{"day": "2026-03-04", "on_hand": 12, "in_transit": 3, "on_order": 5}]


def test_an_edi_file_with_a_broken_envelope_lands_nothing(hub, world, tmp_path):
    text = edi_reports.write_852(_pos_lines(world), sender="DIST", receiver="SUPP")
    path = tmp_path / "broken.x12"
    path.write_text(text.replace("SE*", "SE*9", 1), encoding="latin-1")
    with pytest.raises(FileError, match="SE"):
        world.run(path)
    assert _raw(hub, world.d) == {}


def test_an_xlsx_lands_with_dates_numbers_and_formulas_rejected(hub, world, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Item", "Store", "Date", "Units", "Net Sales"])
    sheet.append(["A1", "S1", dt.datetime(2026, 3, 2), 3, 7.5])
    sheet.append(["A2", "S2", dt.date(2026, 3, 3), 2.0, "5.00"])
    sheet.append(["A1", "S2", dt.datetime(2026, 3, 4), "=1+2", 1])  # a formula: rejected
    path = tmp_path / "pos.xlsx"
    book.save(path)
    result = world.run(path, rejects_path=tmp_path / "rejects.csv")
    assert (result.format, result.new, result.rows_rejected) == ("xlsx", 2, 1)
    assert "4,units" in (tmp_path / "rejects.csv").read_text()
    s1, a1 = world.stores[0]["id"], world.skus[0]["id"]
    assert _raw(hub, world.d)[f"{world.d}:{s1}:{a1}:2026-03-02"][1:3] == (3, 750)


def test_a_file_that_is_not_a_workbook_is_refused(hub, world, tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(FileError, match=r"not an Excel workbook \(\.xlsx\)\. Save it from Excel"):
        world.run(path)


def _rollups(hub, distributor: int) -> dict[str, set]:
    return {
        table: set(
            hub.sql(
                f"SELECT id, week_start, week_end, iso_week, currency, units, "  # noqa: S608
                f"net_sales_minor, days{extra} FROM {table} WHERE distributor = ?",
                distributor,
            )
        )
        for table, extra in (("pos_week_location", ""), ("pos_week_distributor", ", locations"))
    }


def test_rollups_kept_by_difference_equal_a_rebuild_from_the_rows(hub, world, write_csv):
    world.run(write_csv(POS))
    # a restatement that changes values, a currency, adds a day and sends a return
    world.run(
        write_csv(
            "item,store,date,units,net_sales,currency\n"
            "A1,S1,2026-03-02,5,12.50,USD\n"
            "A1,S1,2026-03-03,2,5.00,EUR\n"
            "A2,S2,2026-03-10,-3,-7.50,USD\n"
            "A2,S2,2026-03-09,0,0,USD\n",
            "restated.csv",
        )
    )
    kept = _rollups(hub, world.d)
    assert any(row[4] == "EUR" for row in kept["pos_week_location"])
    with open_lane(world.url) as lane:
        rebuilt = lane.rebuild_rollups(world.d)
    assert rebuilt == len(kept["pos_week_location"])
    assert _rollups(hub, world.d) == kept
    # and both equal the sums of the daily rows
    sums: dict[tuple, list[int]] = {}
    for key, (_day, units, money, currency) in _raw(hub, world.d).items():
        d, loc, sku, iso = key.split(":")
        monday = dt.date.fromisoformat(iso) - dt.timedelta(
            days=dt.date.fromisoformat(iso).weekday()
        )
        bucket = sums.setdefault((d, sku, monday.isoformat(), loc, currency), [0, 0, 0])
        bucket[0] += units
        bucket[1] += money
        bucket[2] += 1
    assert {(":".join(k), *v) for k, v in sums.items()} == {
        (row[0], row[5], row[6], row[7]) for row in kept["pos_week_location"]
    }


def test_a_key_delivered_twice_keeps_its_last_line(hub, world, write_csv):
    text = POS + "A1,S1,2026-03-02,9,22.50\n"
    result = world.run(write_csv(text))
    assert (result.rows_read, result.new) == (6, 5)
    s1, a1 = world.stores[0]["id"], world.skus[0]["id"]
    assert _raw(hub, world.d)[f"{world.d}:{s1}:{a1}:2026-03-02"][1:3] == (9, 2250)


# -- a large CSV staged by several processes ----------------------------------------------


def _many_lines(n: int) -> list[str]:
    days = [f"2026-03-{d:02d}" for d in range(2, 16)]
    return [
        f"A{1 + i % 2},S{1 + (i // 2) % 2},{days[(i // 4) % len(days)]},{i % 7 - 1},1.00\n"
        for i in range(n)
    ]


def test_several_processes_stage_exactly_what_one_does(hub, world, tmp_path):
    """Same rows, same counts, same rejects (by the file's own line numbers), and the last
    line of a key wins across the ranges the processes took."""
    lines = _many_lines(56)  # every key exactly once
    lines[10] = "ZZ,S1,2026-03-02,1,1.00\n"  # line 12: unknown item
    lines[40] = "A1,S1,2026-03-02\n"  # line 42: too few cells
    lines.append("A1,S1,2026-03-02,9,1.00\n")  # line 58: restates line 2's key, last wins
    path = tmp_path / "big.csv"
    path.write_text("item,store,date,units,net_sales\n" + "".join(lines))
    rejects = tmp_path / "rejects.csv"
    result = world.run(path, rejects_path=rejects, workers=2, parallel_min_bytes=0)
    assert (result.rows_read, result.rows_rejected) == (57, 2)
    assert result.new == 54  # 56 keys, less the two rejected lines' (one of them A1/S1/03-02)
    assert [r.split(",")[:2] for r in rejects.read_text().splitlines()] == [
        ["line", "field"],
        ["12", "item"],
        ["42", "row"],
    ]
    s1, a1 = world.stores[0]["id"], world.skus[0]["id"]
    assert _raw(hub, world.d)[f"{world.d}:{s1}:{a1}:2026-03-02"][1] == 9
    again = world.run(path, workers=2, parallel_min_bytes=0)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 54)


def test_a_bad_byte_in_a_later_range_lands_nothing_and_names_its_line(hub, world, tmp_path):
    path = tmp_path / "big.csv"
    body = "".join(_many_lines(40)).encode() + b"A1,S1,2026-03-0\xff,1,1.00\n"
    path.write_bytes(b"item,store,date,units,net_sales\n" + body)
    with pytest.raises(FileError, match="line 42: the file is not utf-8"):
        world.run(path, workers=2, parallel_min_bytes=0)
    assert _raw(hub, world.d) == {}


def test_a_file_with_quotes_is_never_cut(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('item,store,date,units\n"A1","S1",2026-03-02,1\n' * 10)
    assert parallel.workers_for(path, 2, 0) == 1
    path.write_text("item,store,date,units\nA1,S1,2026-03-02,1\n" * 10)
    assert parallel.workers_for(path, 2, 0) == 2


def test_an_import_that_stops_midway_is_marked_failed_and_lands_nothing(
    hub, admin, world, write_csv, monkeypatch
):
    record = admin.create_item(
        "imports",
        {"kind": "pos", "format": "csv", "filename": "x.csv", "distributor": world.d},
        fields=["id"],
    )

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    with open_lane(world.url) as lane:
        monkeypatch.setattr(lane, "_rollup", broken)
        with pytest.raises(OSError, match="disk full"):
            run_import(
                lane, write_csv(POS), distributor=world.d, kind="pos", import_id=record["id"]
            )
    row = admin.read_item("imports", record["id"], fields=["status", "error", "rows_new"])
    assert row == {"status": "failed", "error": "the import stopped: OSError", "rows_new": 0}
    assert _raw(hub, world.d) == {}


@pytest.mark.parametrize(
    "date_format",
    [
        "%Y-%m-%d",
        "%d/%m/%Y",
        "%m/%d/%y",
        "%d.%m.%Y",
        "%Y%m%d",
        "%d %b %Y",
        "%Y%j",
        "%Y-%m-%d %H:%M:%S",
    ],
)
def test_a_date_format_that_reads_a_whole_date_is_accepted(date_format):
    check_date_format(date_format)


@pytest.mark.parametrize(
    ("date_format", "says"),
    [
        ("dd/mm/yyyy", "does not name a whole date"),  # seen: saved, then every day 1900-01-01
        ("%d/%m", "does not name a whole date"),  # no year
        ("%Y-%d", "does not name a whole date"),  # no month
        ("%%Y-%m-%d", "does not name a whole date"),  # a literal %Y
        ("%d/%m/%Y %z", "%z is not part of a date"),
        ("%d/%Q/%Y", "%Q is not part of a date"),
    ],
)
def test_a_date_format_that_is_not_a_whole_date_is_refused_naming_the_accepted_ones(
    date_format, says
):
    with pytest.raises(ValueError, match=re.escape(says)) as refused:
        check_date_format(date_format)
    assert "%Y-%m-%d, %Y%m%d, %d/%m/%Y, %m/%d/%Y, %d.%m.%Y" in str(refused.value)
