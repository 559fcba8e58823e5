"""Distributors' forecasts: weeks, frozen periods, the X12 830, and the import into a hub.

The 830 is the real one in ../shared/samples/edi/x12/830 (Safeway's UCS planning
schedule: cases per store by D-U-N-S+4, Sunday-to-Saturday buckets); its malformed
variants are made from it here, one fault each.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from directus.bulk import Lookups, open_lane, sqlite_date
from domain import edi_profiles, edi_reports
from domain.edi_orders import read
from domain.forecasts import first_open_week, is_frozen, week_label, week_start
from domain.ingest import FileError, ForecastLine, feed_staleness
from governance.partners import set_edi_profile
from ingest import readers
from ingest.pipeline import run_import
from ingest.validate import Resolver, forecast_rows
from sync.drops import poll_drop_folders
from sync.runs import run_job
from tandem.cli import cli
from tests.edi_trade import run
from tests.factories import make_pair, make_sku, make_store
from tests.pinning import pinned
from tests.test_edi_imports import x12_file

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "edi" / "x12" / "830"
SAFEWAY = SAMPLES / "830-004010UCS-bots-safeway.x12"
#: The sample's stores (D-U-N-S+4), its item (purchaser's code) and a store it misspells.
SAFEWAY_STORES = (
    "0091372090501", "0091372091001", "0091372091702", "0091372091922", "0091372092002",
    "0091372092001", "0091372092535", "0091372092735", "0091372092902", "0091372092922",
    "2100988520100", "2100988520101", "2100988520120",
)  # fmt: skip
SAFEWAY_ITEM = "71238654"
MISSPELT = "009137209922"  # SDQ of the week of 2004-11-15: twelve digits, a typo


# --- weeks and frozen periods -----------------------------------------------------------
def test_a_week_is_its_monday_or_its_iso_label():
    assert week_start("2026-12-28") == dt.date(2026, 12, 28)
    assert week_start("2026-W53") == dt.date(2026, 12, 28)  # 2026 has 53 ISO weeks
    assert week_start("2027w01") == dt.date(2027, 1, 4)
    assert week_start("28/12/2026", "%d/%m/%Y") == dt.date(2026, 12, 28)
    assert week_label(dt.date(2027, 1, 4)) == "2027-W01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-01-03", "is a Sunday, not a Monday.*starts 2026-12-28.*2026-W53"),
        ("2027-W53", "2027 has no ISO week 53"),
        ("next week", "is not a week"),
        ("", "is not a week"),
    ],
)
def test_a_week_that_is_not_one_is_refused_saying_which_monday(text, message):
    with pytest.raises(ValueError, match=message):
        week_start(text)


@pytest.mark.parametrize(
    ("today", "lead", "opens"),
    [
        (dt.date(2026, 12, 30), 14, dt.date(2027, 1, 18)),  # across the year's end
        (dt.date(2026, 12, 28), 0, dt.date(2026, 12, 28)),  # a Monday, no lead time
        (dt.date(2026, 12, 27), 1, dt.date(2026, 12, 28)),  # lands on a Monday
        (dt.date(2027, 1, 29), 3, dt.date(2027, 2, 1)),  # across a month's end
        (dt.date(2026, 6, 3), -5, dt.date(2026, 6, 8)),  # a negative lead time is none
    ],
)
def test_the_first_open_week_is_the_first_monday_after_the_lead_time(today, lead, opens):
    assert first_open_week(today, lead) == opens
    assert is_frozen(opens - dt.timedelta(days=7), today, lead)
    assert not is_frozen(opens, today, lead)


@pytest.mark.parametrize(
    ("kind", "through", "received", "today", "own", "stale", "after"),
    [
        # A forecast runs weeks ahead: it ages by its delivery, a week and a day by default.
        ("forecasts", "2027-03-29", "2026-12-24", "2027-01-01", None, False, 8),
        ("forecasts", "2027-03-29", "2026-12-23", "2027-01-01", None, True, 8),
        ("forecasts", "2027-03-29", "2026-12-23", "2027-01-01", 10, False, 10),
        ("forecasts", None, None, "2027-01-01", None, True, 8),
        # Every other feed ages by its data, the portal's default unless it sets its own.
        ("pos", "2026-11-28", "2026-12-01", "2026-12-01", None, False, 3),
        ("pos", "2026-11-27", "2026-12-01", "2026-12-01", None, True, 3),
        ("inventory", "2026-11-20", "2026-12-01", "2026-12-01", 14, False, 14),
    ],
)
def test_a_forecast_feed_ages_by_its_last_delivery(
    kind, through, received, today, own, stale, after
):
    def day(text: str | None) -> dt.date | None:
        return dt.date.fromisoformat(text) if text else None

    found = feed_staleness(kind, day(through), day(received), day(today), own, 3)
    assert (found.stale, found.after_days) == (stale, after)  # no cadence: the old rule


# --- the X12 830 ------------------------------------------------------------------------
def test_the_real_830_reads_as_cases_per_store_and_iso_week():
    rows = list(edi_reports.read_830(SAFEWAY.read_bytes()))
    assert len(rows) == 119  # 10 stores x 10 weeks, 6 in one, 13 in the last
    assert rows[0] == ForecastLine(13, SAFEWAY_ITEM, "001119933024", "0091372090501", "",
                                   "2004-10-04", "75", "CA")  # fmt: skip
    # Sunday 2004-10-03 to Saturday 10-09 is the ISO week of Monday 10-04.
    weeks = sorted({r.week for r in rows})
    assert weeks[0] == "2004-10-04"
    assert weeks[-1] == "2004-12-20"
    assert len(weeks) == 12
    last = [r for r in rows if r.week == "2004-12-20"]
    assert sum(int(r.units) for r in last) == 1025  # FST*1025 split over two SDQ
    assert MISSPELT in {r.store for r in rows}


def _variant(old: str, new: str, *more: tuple[str, str]) -> bytes:
    text = SAFEWAY.read_text(encoding="ascii")
    for was, now in ((old, new), *more):
        assert was in text
        text = text.replace(was, now, 1)
    return text.encode("ascii")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("FST*800*D*X*20041003", "FST*801*D*X*20041003", "add up to 800, not 801"),
        ("FST*800*D*X*20041003*20041009", "FST*800*D*X*20041003*20041102", "31 days"),
        ("FST*800*D*X*20041003*20041009", "FST*800*D*M*20041003", "needs FST05"),
        ("FST*800*D*X*20041003", "FST*800*B*X*20041003", "FST02 'B' is not a forecast"),
        ("FST*800*D*X*20041003*20041009", "FST*800*D*X*20041003*20041309", "not a date"),
        ("SDQ*CA*9*0091372090501", "SDQ*CA*ZZ*0091372090501", "'ZZ' is not a location"),
        ("SDQ*CA*9*0091372090501", "SDQ*PL*9*0091372090501", "SDQ01 'PL'"),
        ("LIN**UA*001119933024*PI*71238654*VN*12307", "LIN**VN*12307", "no GTIN"),
        # One location twice in an FST, a quantity that is not one, a location without
        # its quantity, and two FSTs for one week: which figure to keep is unknown.
        ("SDQ*CA*9*0091372090501*75*0091372091001*75", "SDQ*CA*9*0091372090501*75*"
         "0091372090501*75", "gives 0091372090501 two quantities"),
        ("0091372090501*75", "0091372090501*7X", "SDQ quantity '7X' is not a quantity"),
        ("FST*800*D*X*20041003", "FST*8OO*D*X*20041003", "FST01 '8OO' is not a quantity"),
        ("SDQ*CA*9*0091372090501*75*", "SDQ*CA*9*0091372090501**", "SDQ03 has no SDQ04"),
        ("FST*800*D*X*20041010*20041016", "FST*800*D*X*20041003*20041009",
         "a second FST for the week of 2004-10-04"),
    ],
)  # fmt: skip
def test_a_malformed_830_lands_nothing_and_names_the_segment(old, new, message):
    with pytest.raises(FileError, match=message) as raised:
        list(edi_reports.read_830(_variant(old, new)))
    assert raised.value.line > 0


def test_an_830_whose_unit_changes_within_an_item_is_refused():
    # A UIT of units, then an SDQ of cases: one segment more, so SE01 counts 37.
    text = _variant(
        "LIN**UA*001119933024*PI*71238654*VN*12307~",
        "LIN**UA*001119933024*PI*71238654*VN*12307~UIT*EA~",
        ("SE*36*", "SE*37*"),
    )
    with pytest.raises(FileError, match="SDQ01 'CA' differs from the unit"):
        list(edi_reports.read_830(text))


PLANNING = """BFR*00**PLAN-1*DL*A*20270103*20270130*20261230
LIN**IN*A1
UIT*EA
N1*RL**92*S7
FST*10*D*W*20270118
FST*12*C*W*20270125
LIN**PI*A2
FST*5*D*W*20270118
CTT*2"""


def test_an_830_without_sdq_is_at_its_items_n1_else_at_the_one_dc():
    rows = list(edi_reports.read_830(x12_file("830", PLANNING), dcs=("DC1",)))
    assert [(r.item, r.store, r.week, r.units, r.uom) for r in rows] == [
        ("A1", "S7", "2027-01-18", "10", ""),
        ("A1", "S7", "2027-01-25", "12", ""),
        ("A2", "DC1", "2027-01-18", "5", ""),
    ]
    late = PLANNING.replace("FST*12*C*W*20270125", "FST*12*C*W*20270125\nN1*RL**92*S8")
    with pytest.raises(FileError, match="a location N1 in a LIN loop must come once"):
        list(edi_reports.read_830(x12_file("830", late), dcs=("DC1",)))
    with pytest.raises(FileError, match="has no location"):
        list(edi_reports.read_830(x12_file("830", PLANNING), dcs=("DC1", "DC2")))


def test_an_830_is_not_a_852():
    with pytest.raises(FileError, match="expected X12 830 transaction sets, found a 852"):
        list(edi_reports.read_830(_variant("ST*830*", "ST*852*")))


# --- judging rows (no hub) ---------------------------------------------------------------
def _lookups(**more: Any) -> Lookups:
    return Lookups(
        items={"A1": 1, "A2": 2},
        gtins={},
        stores={"S1": 10, "S2": 11},
        glns={},
        currency="USD",
        case_packs={1: 12, 2: 6},
        lead_days={1: 14, 2: 0},
        **more,
    )


def _judge(lines: list[ForecastLine], today: dt.date) -> tuple[list[tuple], list[tuple]]:
    rejects: list[tuple] = []
    res = Resolver(_lookups(), sqlite_date, "%Y-%m-%d", today=today)
    good = list(forecast_rows(lines, 7, res, lambda *r: rejects.append(r), lambda n: None, 1000))
    return good, rejects


def test_rows_are_whole_units_cases_times_the_pack_and_frozen_weeks_refused():
    today = dt.date(2026, 12, 30)  # A1's lead time opens 2027-W03; A2's 2027-W01
    good, rejects = _judge(
        [
            ForecastLine(2, "A1", "", "S1", "", "2027-W03", "10", ""),
            ForecastLine(3, "A1", "", "S2", "", "2027-01-18", "4", "CA"),
            ForecastLine(4, "A2", "", "S1", "", "2027-01-04", "1,000", ""),
            ForecastLine(5, "A1", "", "S1", "", "2027-W02", "5", ""),
            ForecastLine(6, "A2", "", "S1", "", "2026-12-28", "5", ""),
            ForecastLine(7, "A2", "", "S2", "", "2027-01-05", "3", ""),
            ForecastLine(8, "A2", "", "S2", "", "2027-W01", "-1", ""),
            ForecastLine(9, "A2", "", "S2", "", "2027-W01", "2", "PL"),
            ForecastLine(10, "A2", "", "S2", "", "2027-W01", "2.5", ""),
        ],
        today,
    )
    assert [(g[0], g[5]) for g in good] == [
        ("7:10:1:2027-01-18", 10),
        ("7:11:1:2027-01-18", 48),  # 4 cases of 12
    ]
    assert good[0][4] == sqlite_date(dt.date(2027, 1, 18))
    by_line = {line: (field, reason) for line, field, reason in rejects}
    assert by_line[4][0] == "units"  # "1,000" under a decimal point and no thousands mark
    assert by_line[5][0] == "week"
    assert "2027-W02 is frozen: it starts before 2027-01-18 (14 days' lead time" in by_line[5][1]
    assert "2026-W53 is frozen" in by_line[6][1]
    assert "is a Tuesday, not a Monday" in by_line[7][1]
    assert by_line[8] == ("units", "'-1' is negative: a forecast is a quantity to sell")
    assert by_line[9][0] == "uom"
    assert "not a whole number" in by_line[10][1]


def test_a_resolver_without_a_day_refuses_to_judge_forecasts():
    res = Resolver(_lookups(), sqlite_date, "%Y-%m-%d")
    with pytest.raises(ValueError, match="judged against today"):
        list(
            forecast_rows(
                [ForecastLine(2, "A1", "", "S1", "", "2027-W03", "1", "")],
                7, res, lambda *r: None, lambda n: None, 10,
            )
        )  # fmt: skip


def test_a_forecast_csv_needs_a_week_and_units_column(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("item,store,day,units\nA1,S1,2027-01-18,1\n", encoding="utf-8")
    with pytest.raises(FileError, match="wrong columns: no week column"):
        list(readers.read(path, "csv", "forecasts"))
    path.write_text("item,store,Week Start,Forecast Units\nA1,S1,2027-01-18,1\n")
    assert list(readers.read(path, "csv", "forecasts")) == [
        (2, "A1", "", "S1", "", "2027-01-18", "1", "")
    ]


def test_forecasts_are_not_read_from_edifact_or_a_pos_file(tmp_path):
    path = tmp_path / "f.edi"
    path.write_text("UNA:+.? 'UNB+UNOC:3+1+2+260101:1200+1'UNZ+0+1'", encoding="ascii")
    with pytest.raises(FileError, match="forecasts are read from CSV, XLSX or X12 830"):
        list(readers.read(path, "edifact", "forecasts"))


# --- into a real hub ----------------------------------------------------------------------
def _stored(hub, distributor: int) -> dict[str, tuple]:
    rows = hub.sql(
        "SELECT id, week_start, forecast_units FROM forecasts WHERE distributor = ?", distributor
    )
    return {r[0]: r[1:] for r in rows}


def _import(hub, distributor: int, path: Path, day: dt.date, **kwargs: Any) -> Any:
    with pinned(day), open_lane(hub.lane_url) as lane:
        return run_import(lane, path, distributor=distributor, kind="forecasts", **kwargs)


FORECAST = """item,store,week,forecast
A1,S1,2027-W03,10
A1,S2,2027-01-18,12
A2,S1,2027-01-25,7
A1,S1,2027-01-11,5
A2,S2,2027-01-19,3
"""


def test_a_forecast_csv_lands_and_a_restatement_replaces_it(hub, admin, tmp_path):
    supplier, distributor, _pair = make_pair(admin)
    skus = [make_sku(admin, supplier, distributor, code) for code in ("A1", "A2")]
    for sku in skus:
        admin.update_item("skus", sku["id"], {"lead_time_days": 14, "case_pack": 6})
    stores = [make_store(admin, distributor, c) for c in ("S1", "S2")]
    d, today = int(distributor["id"]), dt.date(2026, 12, 30)
    path = tmp_path / "forecast.csv"
    path.write_text(FORECAST, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    first = _import(hub, d, path, today, rejects_path=rejects)
    assert (first.rows_read, first.rows_rejected, first.new) == (5, 2, 3)
    assert (first.data_from, first.data_through) == (dt.date(2027, 1, 18), dt.date(2027, 1, 25))
    with open(rejects, encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle))[1:] == [
            ["5", "week", "2027-W02 is frozen: it starts before 2027-01-18 (14 days' lead "
             "time from 2026-12-30), so it can no longer change"],
            ["6", "week", "2027-01-19 is a Tuesday, not a Monday: a forecast week is an ISO "
             "week; give its Monday (the week holding 2027-01-19 starts 2027-01-18) or its "
             "label (2027-W03)"],
        ]  # fmt: skip
    key = f"{d}:{stores[0]['id']}:{skus[0]['id']}:2027-01-18"
    assert _stored(hub, d)[key] == (sqlite_date(dt.date(2027, 1, 18)), 10)
    again = _import(hub, d, path, today)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    path.write_text("item,store,week,forecast\nA1,S1,2027-W03,11\n", encoding="utf-8")
    restated = _import(hub, d, path, today)
    assert (restated.new, restated.changed) == (0, 1)
    assert _stored(hub, d)[key] == (sqlite_date(dt.date(2027, 1, 18)), 11)
    # A week later the same week is frozen: the restatement is refused, the figure stays.
    path.write_text("item,store,week,forecast\nA1,S1,2027-W03,40\n", encoding="utf-8")
    late = _import(hub, d, path, dt.date(2027, 1, 6))
    assert (late.rows_rejected, late.changed) == (1, 0)
    assert _stored(hub, d)[key][1] == 11
    # Through the hub's API, as the distributor's rows are read.
    found = admin.read_items(
        "forecasts", filter={"distributor": {"_eq": d}}, fields=["week_start"], limit=-1
    )
    assert sorted({r["week_start"] for r in found}) == ["2027-01-18", "2027-01-25"]


def test_a_forecast_workbook_in_cases_lands_in_units(hub, admin, tmp_path):
    supplier, distributor, _pair = make_pair(admin)
    sku = make_sku(admin, supplier, distributor, "B1")
    admin.update_item("skus", sku["id"], {"lead_time_days": 7, "case_pack": 24})
    store = make_store(admin, distributor, "S9")
    book = Workbook()
    sheet = book.active
    sheet.append(["Item", "Store", "Week", "Units", "UoM"])
    sheet.append(["B1", "S9", dt.datetime(2027, 2, 1), 3, "CA"])
    sheet.append(["B1", "S9", "2027-W06", 30, "EA"])
    sheet.append(["B1", "S9", "2027-W07", 2.5, "CA"])
    path = tmp_path / "forecast.xlsx"
    book.save(path)
    d = int(distributor["id"])
    result = _import(hub, d, path, dt.date(2027, 1, 20))
    assert (result.format, result.rows_read, result.rows_rejected) == ("xlsx", 3, 1)
    stored = _stored(hub, d)
    prefix = f"{d}:{store['id']}:{sku['id']}"
    assert stored[f"{prefix}:2027-02-01"][1] == 72
    assert stored[f"{prefix}:2027-02-08"][1] == 30


def _safeway_distributor(admin) -> int:
    """A distributor with the sample's item (7 days' lead time, cases of 12) and stores."""
    supplier, distributor, _pair = make_pair(admin)
    sku = make_sku(admin, supplier, distributor, SAFEWAY_ITEM)
    admin.update_item("skus", sku["id"], {"lead_time_days": 7, "case_pack": 12})
    for code in SAFEWAY_STORES:
        make_store(admin, distributor, code)
    return int(distributor["id"])


def test_the_real_830_lands_in_units_with_its_misspelt_store_rejected(hub, admin, tmp_path):
    d = _safeway_distributor(admin)
    rejects = tmp_path / "rejects.csv"
    # 2004-09-27: every week of the schedule is still open.
    result = _import(hub, d, SAFEWAY, dt.date(2004, 9, 27), rejects_path=rejects)
    assert (result.format, result.rows_read, result.rows_rejected) == ("x12", 119, 1)
    assert result.new == 118
    assert f"unknown store code '{MISSPELT}'" in rejects.read_text()
    stored = _stored(hub, d)
    cases = 6 * 800 + 465 + 2800 + 2 * 1300 + 500 + 1025 - 135  # the FSTs, less the typo's
    assert sum(units for _w, units in stored.values()) == 12 * cases
    # A week later the first two weeks are frozen: 20 more refusals, nothing changes.
    again = _import(hub, d, SAFEWAY, dt.date(2004, 10, 6), rejects_path=rejects)
    assert (again.rows_rejected, again.new, again.changed) == (21, 0, 0)


def test_the_cli_imports_forecasts_and_names_the_frozen_rows(hub, admin, tmp_path):
    supplier, distributor, _pair = make_pair(admin)
    sku = make_sku(admin, supplier, distributor, "C1")
    admin.update_item("skus", sku["id"], {"lead_time_days": 14})
    make_store(admin, distributor, "S1")
    path = tmp_path / "forecast.csv"
    path.write_text("item,store,week,units\nC1,S1,2027-W03,8\nC1,S1,2027-W02,8\n")
    env = {
        "TANDEM_HUB_ADMIN_EMAIL": hub.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": hub.admin_password,
        "TANDEM_HUB_DB_URL": hub.lane_url,
    }
    args = ["import", "forecasts", str(path), "--distributor", str(distributor["id"]),
            "--hub-url", hub.url]  # fmt: skip
    with pinned(dt.date(2026, 12, 30)):
        result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "2 rows read" in result.output
    assert "1 new, 0 changed, 0 unchanged, 1 rejected" in result.output
    assert "2027-W02 is frozen" in (tmp_path / "forecast.csv.rejects.csv").read_text()


# --- by EDI -------------------------------------------------------------------------------
def test_a_forecast_is_received_in_x12_only_and_never_sent():
    base = {"transport": "folder", "address": "/srv/mailbox", "sends": ["forecast"]}
    x12 = {"standard": "x12", "isa_qualifier": "08", "isa_id": "9251750000", "gs_code": "80"}
    profile, problems = edi_profiles.check({**base, **x12})
    assert problems == {}
    assert profile["sends"] == ["forecast"]
    _, problems = edi_profiles.check(
        {**base, "standard": "edifact", "unb_qualifier": "14", "unb_id": "5412345000013"}
    )
    assert problems == {"sends": ["forecasts are read as X12 830 only: EDIFACT DELFOR is not read"]}
    _, problems = edi_profiles.check({**base, **x12, "expects": ["forecast", "sales_report"]})
    assert problems == {
        "expects": [
            "Tandem receives sales reports, forecasts from distributors; it never sends them"
        ]
    }


def test_the_real_830_by_edi_is_acknowledged_and_imported_as_a_dropped_file_is(
    hub, admin, sync_hub, tmp_path
):
    d = _safeway_distributor(admin)
    mailbox, drop, spool = tmp_path / "mailbox", tmp_path / "drop", tmp_path / "spool"
    (mailbox / "inbox").mkdir(parents=True)
    # The profile names the sample's own envelope: ISA 08/9251750000, GS 8019721193.
    set_edi_profile(
        admin, d,
        {"standard": "x12", "isa_qualifier": "08", "isa_id": "9251750000",
         "gs_code": "8019721193", "transport": "folder", "address": str(mailbox),
         "sends": ["forecast"], "acknowledgements": True},
        via="test",
    )  # fmt: skip
    shutil.copy(SAFEWAY, mailbox / "inbox" / "planning.x12")
    counts = run(sync_hub, drop_dir=str(drop))
    assert counts["forwarded_830"] == 1
    (handed,) = (drop / str(d) / "forecasts").iterdir()
    (ack,) = [doc for p in (mailbox / "outbox").iterdir() for doc in read(p.read_bytes())]
    assert (ack.code, ack.document.status) == ("997", "accepted")
    # Imported on 2004-09-27, when every week of the schedule was still open; the file
    # was left there a minute before, as the drop folders' settling asks.
    with pinned(dt.date(2004, 9, 27)):
        left = time.time() - 60  # clock-ok: pinned by time-machine, as the job's clock is
        os.utime(handed, (left, left))
        settings = {"drop_dir": str(drop), "lane_url": hub.lane_url,
                    "spool_dir": str(spool), "settle_s": 0}  # fmt: skip
        assert run_job(sync_hub, "test.830.drops", poll_drop_folders, settings) == "succeeded"
    (imported,) = admin.read_items(
        "imports", filter={"distributor": {"_eq": d}},
        fields=["kind", "filename", "status", "rows_new", "rows_rejected"],
    )  # fmt: skip
    assert imported == {"kind": "forecasts", "filename": handed.name, "status": "done",
                        "rows_new": 118, "rows_rejected": 1}  # fmt: skip
