"""Forecast vs commitment vs sales, and the supplier's commitments, on a real hub pinned to
Wednesday 2 December 2026.

The SKU's lead time is 14 days: an order placed today arrives Wednesday 16 December, so
the weeks of 30 November, 7 and 14 December are frozen and 21 December (2026-W52) is the
first open one. The rules by hand first, then the hub's own refusals through REST with
each partner's login (the same words as the portal's), then the page, the form, the Excel
round trip and the API.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal as D

import pytest
from flask import Flask
from openpyxl import load_workbook

from directus import HubClient
from directus.bulk import open_lane, write_rows
from directus.errors import ForbiddenOrMissing, HubError, InvalidPayload
from domain import commitments as rules
from domain.forecasts import first_open_week, frozen_reason, horizons_ahead
from governance.partners import assign_manager, ensure_partnership, set_planning_settings
from governance.sharing import grant
from portal.data import Invalid
from portal.data.writes import set_commitments
from tests.factories import (
    csrf_token,
    governed_access,
    make_org,
    make_sku,
    make_store,
    make_user,
    sign_in,
)
from tests.pinning import module_hub

TODAY = dt.date(2026, 12, 2)
hub, admin = module_hub(TODAY)
OPEN = dt.date(2026, 12, 21)  # 2026-W52, the first open week of a 14-day SKU
FROZEN = dt.date(2026, 12, 14)
PAST = (dt.date(2026, 11, 2), dt.date(2026, 11, 9))


# -- the rules, by hand ----------------------------------------------------------------------


def test_the_first_open_week_across_week_month_and_year_ends():
    assert first_open_week(TODAY, 14) == OPEN  # Wednesday + 14 days: the Monday after
    assert first_open_week(dt.date(2026, 11, 30), 0) == dt.date(2026, 11, 30)  # a Monday
    assert first_open_week(dt.date(2026, 11, 29), 0) == dt.date(2026, 11, 30)  # a Sunday
    assert first_open_week(dt.date(2026, 12, 28), 7) == dt.date(2027, 1, 4)  # 2027-W01
    assert frozen_reason(FROZEN, TODAY, 14) == (
        "2026-W51 is frozen: it starts before 2026-12-21 (14 days' lead time from "
        "2026-12-02), so it can no longer change"
    )
    assert frozen_reason(OPEN, TODAY, 14) is None


REF = rules.Reference({"north": 7}, {"00000000000017": rules.Sku(3, "00000000000017", "Oats", 14)})


def test_a_workbooks_rows_are_checked_together_each_error_by_row_and_column():
    rows = [
        (2, {"distributor": "North", "gtin": 17.0, "week": "2026-W52", "units": 30.0}),
        (3, {"distributor": "north", "gtin": "00000000000017", "week": OPEN, "units": 5}),
        (4, {"distributor": "South", "gtin": "00000000000099", "week": "2026-12-22",
             "units": "1.5"}),
        (5, {"distributor": "north", "gtin": 17, "week": FROZEN, "units": -1}),
        (6, {"gtin": 17, "week": dt.datetime(2027, 1, 4), "units": 2, "note": "x" * 501}),
    ]  # fmt: skip
    checked = rules.check_rows(rows, REF, TODAY)
    assert checked.commitments == []  # all or nothing
    assert checked.errors_by_row() == {
        3: {"week": ["2026-W52 of this SKU is already committed on row 2: give each SKU and "
                     "week once"]},
        4: {"distributor": ["“South” is not one of your distributors"],
            "gtin": ["00000000000099 is not one of your SKUs"],
            "units": ["“1.5” is not a whole number"],
            "week": ["2026-12-22 is a Tuesday, not a Monday: a forecast week is an ISO week; "
                     "give its Monday (the week holding 2026-12-22 starts 2026-12-21) or its "
                     "label (2026-W52)"]},
        5: {"units": ["-1 is not a number of units (0 to 100,000,000)"],
            "week": [frozen_reason(FROZEN, TODAY, 14)]},
        6: {"distributor": ["required"], "note": ["501 characters; a note takes at most 500"]},
    }  # fmt: skip
    good = rules.check_rows(rows[:1], REF, TODAY)
    assert good.commitments == [rules.Commitment(2, 7, 3, OPEN, 30, None)]
    assert good.commitments[0].key == "7:3:2026-12-21"


def test_gaps_tolerance_and_accuracy_by_hand():
    assert rules.gap_pct(50, 30) == D("-40.0")
    assert rules.gap_pct(40, 44) == D("10.0")
    assert rules.gap_pct(0, 0) is None
    assert rules.gap_pct(0, 5) == D(100)
    assert rules.gap_pct(None, 5) is None
    assert rules.over_tolerance(D("-40.0"), D(20))
    assert not rules.over_tolerance(D("20.0"), D(20))  # beyond, not at
    # Forecast 20 and 24 against 18 and 30 sold: |2| + |6| = 8 of 48 sold.
    forecast = rules.accuracy([(20, 18), (24, 30)])
    assert (forecast.wape, forecast.accuracy, forecast.bias) == (D("0.1667"), D("0.8333"),
                                                                 D("2.00"))  # fmt: skip
    committed = rules.accuracy([(20, 18), (25, 30)])
    assert (committed.wape, committed.bias) == (D("0.1458"), D("1.50"))
    assert rules.accuracy([(5, 0)]).wape is None  # nothing sold: no WAPE
    assert rules.accuracy([]).bias is None


# -- a pair with forecasts, sales and commitments ----------------------------------------------


@pytest.fixture
def app(hub, make_portal) -> Flask:
    return make_portal(hub)


@pytest.fixture(scope="module")
def world(hub, admin) -> dict:
    supplier, other = make_org(admin, "supplier"), make_org(admin, "supplier")
    distributor, rival = make_org(admin, "distributor"), make_org(admin, "distributor")
    pid = ensure_partnership(admin, supplier["id"], distributor["id"])
    rival_pair = ensure_partnership(admin, supplier["id"], rival["id"])
    other_pair = ensure_partnership(admin, other["id"], distributor["id"])
    oats = make_sku(admin, supplier)
    admin.update_item("skus", oats["id"], {"lead_time_days": 14, "case_pack": 6})
    cola = make_sku(admin, other)
    e1, e2 = (make_store(admin, distributor, c, "east") for c in ("E1", "E2"))
    far = make_store(admin, rival, "R1", "east")
    d, r, o = distributor["id"], rival["id"], oats["id"]
    # The past weeks' forecast, first delivered five and six weeks ahead (16 and 24),
    # then the first week's restated a week ahead (20): at 1 week ahead it stood at 20
    # and 24, at 2 and 4 weeks ahead at 16 and 24, at 8 weeks ahead at nothing.
    early = [
        (d, e1["id"], o, PAST[0], 8), (d, e2["id"], o, PAST[0], 8),
        (d, e1["id"], o, PAST[1], 12), (d, e2["id"], o, PAST[1], 12),
    ]  # fmt: skip
    restated = [(d, e1["id"], o, PAST[0], 10), (d, e2["id"], o, PAST[0], 10)]
    forecasts = [
        (d, e1["id"], o, OPEN, 30), (d, e2["id"], o, OPEN, 20),
        (d, e1["id"], o, OPEN + dt.timedelta(weeks=1), 40),
        (d, e1["id"], cola["id"], OPEN, 999),  # another supplier's SKU
        (r, far["id"], o, OPEN, 700),  # the rival's, shared with nobody
    ]  # fmt: skip
    pos = [
        (d, e1["id"], o, PAST[0] + dt.timedelta(days=2), 10, 1000, "USD"),
        (d, e2["id"], o, PAST[0] + dt.timedelta(days=3), 8, 800, "USD"),
        (d, e1["id"], o, PAST[1] + dt.timedelta(days=1), 30, 3000, "USD"),
        (r, far["id"], o, PAST[1], 500, 500, "USD"),
    ]
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "forecasts", early, received_at=at(dt.date(2026, 9, 28)))
        write_rows(lane, "forecasts", restated, received_at=at(dt.date(2026, 10, 26)))
        write_rows(lane, "forecasts", forecasts)
        write_rows(lane, "pos", pos)
    grant(admin, d, supplier["id"], ["pos", "forecasts"], valid_from=dt.date(2026, 1, 1))
    # The supplier's answers for weeks now past or frozen (an admin's writes are not
    # bound), with what the past ones stood at 1 and 2 weeks ahead (as the hook keeps it).
    for week, units, kept in (
        (PAST[0], 20, {"units_h1": 20, "units_h2": 22}),
        (PAST[1], 25, {"units_h1": 25, "units_h2": 25}),
        (FROZEN, 9, {}),
    ):
        row = {"partnership": pid, "sku": o, "week_start": week.isoformat(), "units": units}
        admin.create_item("commitments", {**row, **kept})
    manager = make_user(admin, "account_manager")
    assign_manager(admin, manager.id, supplier["id"], distributor["id"])
    return {
        "pid": pid, "rival_pair": rival_pair, "other_pair": other_pair, "oats": oats,
        "cola": cola, "supplier": supplier, "distributor": distributor, "rival": rival,
        "seller": make_user(admin, "supplier_user", supplier),
        "stranger": make_user(admin, "supplier_user", other),
        "buyer": make_user(admin, "distributor_user", distributor),
        "rival_buyer": make_user(admin, "distributor_user", rival),
        "manager": manager, "outsider": make_user(admin, "account_manager"),
    }  # fmt: skip


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)


def login(hub, member) -> HubClient:
    return HubClient.login(hub.url, member.email, member.password)


def stored(admin, world) -> dict[str, tuple[int, str | None]]:
    rows = admin.read_items("commitments", filter={"partnership": {"_eq": world["pid"]}},
                            fields=["id", "units", "note"], limit=-1)  # fmt: skip
    return {r["id"]: (r["units"], r["note"]) for r in rows}


def key(world, week: dt.date) -> str:
    return f"{world['pid']}:{world['oats']['id']}:{week.isoformat()}"


# -- the hub's own rules, through REST with each partner's login ---------------------------------


def test_a_week_given_twice_is_refused_naming_the_sku_by_gtin_and_name(hub, admin, world):
    acc = governed_access(hub, world["seller"])
    week = OPEN + dt.timedelta(weeks=5)
    item = {"partnership": world["pid"], "sku": world["oats"]["id"], "week_start": week,
            "units": 4}  # fmt: skip
    with pytest.raises(Invalid) as refused:
        set_commitments(acc, [item, {**item, "units": 5}])
    oats = world["oats"]
    assert refused.value.message == (
        f"week_start: SKU {oats['gtin']} · {oats['description']}: the week of {week} is given twice"
    )
    assert key(world, week) not in stored(admin, world)


def test_the_supplier_commits_an_open_week_and_the_hub_makes_its_key(hub, admin, world):
    seller = login(hub, world["seller"])
    week = OPEN + dt.timedelta(weeks=3)
    row = {"partnership": world["pid"], "sku": world["oats"]["id"], "units": 12}
    made = seller.create_item("commitments", {**row, "week_start": week.isoformat()})
    assert made["id"] == key(world, week)
    seller.update_item("commitments", made["id"], {"units": 14, "note": "a line down"})
    assert stored(admin, world)[key(world, week)] == (14, "a line down")
    # 2027-01-11 is 40 days, 5 whole weeks, ahead: the hub keeps it at 1, 2 and 4 weeks.
    kept = admin.read_item("commitments", made["id"], fields=["units_h1", "units_h2",
                                                             "units_h4", "units_h8"])  # fmt: skip
    assert kept == {"units_h1": 14, "units_h2": 14, "units_h4": 14, "units_h8": None}
    with pytest.raises(InvalidPayload, match="units_h1"):  # nobody writes its history
        seller.update_item("commitments", made["id"], {"units_h1": 1})
    # Naming the stored value, which the ownership rule lets through, changes nothing:
    # the hub writes its own figures.
    seller.update_item("commitments", made["id"], {"units": 15, "units_h8": None})
    kept = admin.read_item("commitments", made["id"], fields=["units_h1", "units_h4"])
    assert kept == {"units_h1": 15, "units_h4": 15}
    with pytest.raises(HubError):  # the lead time that freezes weeks is the operator's
        seller.update_item("skus", world["oats"]["id"], {"lead_time_days": 0})
    assert admin.read_item("skus", world["oats"]["id"])["lead_time_days"] == 14
    other = seller.create_item(
        "commitments", {**row, "week_start": (week + dt.timedelta(weeks=1)).isoformat()}
    )
    both = {"keys": [made["id"], other["id"]], "data": {"units": 3}}
    with pytest.raises(InvalidPayload, match="one record's units at a time"):
        seller.patch("/items/commitments", both)
    again = {**row, "week_start": week.isoformat(), "id": f"{world['rival_pair']}:1:x"}
    with pytest.raises(ForbiddenOrMissing):  # a key of its own choosing
        seller.create_item("commitments", again)
    with pytest.raises(ForbiddenOrMissing):  # nobody deletes one: 0 withdraws it
        seller.delete_item("commitments", made["id"])


def test_the_hub_refuses_a_frozen_week_in_the_portals_words(hub, admin, world):
    seller = login(hub, world["seller"])
    base = {"partnership": world["pid"], "sku": world["oats"]["id"], "units": 3}
    with pytest.raises(InvalidPayload) as refused:
        seller.create_item("commitments", {**base, "week_start": FROZEN.isoformat()})
    assert f"week_start: {frozen_reason(FROZEN, TODAY, 14)}" in str(refused.value)
    with pytest.raises(InvalidPayload, match="week_start: 2026-12-22 is not a Monday"):
        seller.create_item("commitments", {**base, "week_start": "2026-12-22"})
    with pytest.raises(InvalidPayload, match="2026-W51 is frozen"):  # a change is refused too
        seller.update_item("commitments", key(world, FROZEN), {"units": 10})
    with pytest.raises(InvalidPayload, match="sku: SKU"):  # another supplier's SKU
        seller.create_item("commitments", {**base, "sku": world["cola"]["id"],
                                           "week_start": OPEN.isoformat()})  # fmt: skip
    assert stored(admin, world)[key(world, FROZEN)] == (9, None)


def test_only_the_pairs_supplier_writes_and_only_its_pair_reads(hub, admin, world):
    row = {"partnership": world["pid"], "sku": world["oats"]["id"], "units": 1,
           "week_start": (OPEN + dt.timedelta(weeks=5)).isoformat()}  # fmt: skip
    for who in ("buyer", "stranger", "manager"):
        with pytest.raises(HubError):
            login(hub, world[who]).create_item("commitments", row)
    with pytest.raises(ForbiddenOrMissing):  # another supplier's update, as for a missing key
        login(hub, world["stranger"]).update_item("commitments", key(world, PAST[0]), {"units": 1})
    with pytest.raises(HubError):  # the distributor reads, never writes
        login(hub, world["buyer"]).update_item("commitments", key(world, PAST[0]), {"units": 1})
    assert key(world, (OPEN + dt.timedelta(weeks=5))) not in stored(admin, world)
    keys = {key(world, w) for w in (*PAST, FROZEN)}
    for who in ("buyer", "manager", "seller"):
        seen = {r["id"] for r in login(hub, world[who]).read_items("commitments", limit=-1)}
        assert keys <= seen, who
    for who in ("rival_buyer", "stranger", "outsider"):
        assert login(hub, world[who]).read_items("commitments", limit=-1) == [], who
        # nor through a relational filter on the SKU
        client = login(hub, world[who])
        try:
            probed = client.read_items(
                "commitments", filter={"sku": {"gtin": {"_eq": world["oats"]["gtin"]}}}
            )
        except HubError:
            probed = []
        assert probed == [], who


# -- the page -----------------------------------------------------------------------------------


def cell(page: str, week: dt.date, figure: str) -> str:
    pattern = rf'<td class="([^"]*)" data-week="{week}" data-figure="{figure}"[^>]*>(.*?)</td>'
    match = re.search(pattern, page, re.S)
    assert match, (week, figure)
    return match.group(1) + "|" + match.group(2)


def shown(found: str) -> str:
    """The figure a cell shows (before any marker or input)."""
    return found.split("|", 1)[1].split("<", 1)[0].strip()


def test_both_sides_see_forecast_commitment_and_sales_with_frozen_weeks_locked(app, world):
    seller = sign_in(app, world["seller"], remote_addr="10.15.0.1")
    page = seller.get(f"/planning?pair={world['pid']}").get_data(as_text=True)
    assert shown(cell(page, PAST[0], "forecast")) == "20"  # E1 10 + E2 10
    assert shown(cell(page, PAST[0], "sold")) == "18"
    assert shown(cell(page, PAST[0], "commitment")) == "20"
    assert shown(cell(page, OPEN, "forecast")) == "50"  # never the rival's 700, nor cola's
    assert "frozen" in cell(page, FROZEN, "commitment")
    assert 'name="u:' not in cell(page, FROZEN, "commitment")  # locked
    assert f'name="u:{world["oats"]["id"]}:{OPEN.isoformat()}"' in cell(page, OPEN, "commitment")
    # Accuracy over the two past weeks, by hand (test_gaps_tolerance_and_accuracy_by_hand).
    assert re.search(r'id="accuracy-forecast">.*?16\.7 %.*?83\.3 %.*?\+2\.00', page, re.S)
    assert re.search(r'id="accuracy-commitment">.*?14\.6 %.*?\+1\.50', page, re.S)
    # By horizon: 1 week ahead 20 and 24 (16.7 %, +2.00); 2 weeks ahead 16 and 24
    # (8 of 48: 16.7 %, +4.00); the commitment 2 weeks ahead 22 and 25 (9 of 48: 18.8 %,
    # +0.50); nothing 8 weeks ahead.
    assert re.search(r'id="horizon-1">.*?16\.7 %.*?\+2\.00.*?14\.6 %.*?\+1\.50', page, re.S)
    assert re.search(r'id="horizon-2">.*?16\.7 %.*?\+4\.00.*?18\.8 %.*?\+0\.50', page, re.S)
    none = "\N{EN DASH}"
    assert re.search(
        rf'id="horizon-4">.*?16\.7 %.*?\+4\.00.*?{none}.*?{none}</td></tr>', page, re.S
    )
    assert re.search(r'id="horizon-8"><th scope="row">8</th><td class="n">0</td>', page)
    buyer = sign_in(app, world["buyer"], remote_addr="10.15.0.2")
    theirs = buyer.get(f"/planning?pair={world['pid']}").get_data(as_text=True)
    assert shown(cell(theirs, OPEN, "forecast")) == "50"
    assert 'name="u:' not in theirs  # the distributor reads commitments only
    manager = sign_in(app, world["manager"], remote_addr="10.15.0.3")
    managed = manager.get(f"/planning?pair={world['pid']}").get_data(as_text=True)
    assert shown(cell(managed, PAST[1], "commitment")) == "25"
    # The rival shares nothing with the supplier: its forecast is not there, not a 0.
    rival = seller.get(f"/planning?pair={world['rival_pair']}").get_data(as_text=True)
    assert 'id="no-lines"' in rival
    figures = re.findall(r'data-figure="[^"]*"[^>]*>(.*?)</td>', rival, re.S)
    assert not any("700" in f for f in figures)  # a figure's, not a random org name's
    assert not re.search(r">\s*700\s*<", rival)
    assert seller.get(f"/planning?pair={world['other_pair']}").status_code == 403
    outsider = sign_in(app, world["outsider"], remote_addr="10.15.0.4")
    assert outsider.get(f"/planning?pair={world['pid']}").status_code == 403


def test_the_form_saves_open_weeks_all_or_none_and_flags_the_gap(app, admin, world):
    seller = sign_in(app, world["seller"], remote_addr="10.15.0.5")
    o = world["oats"]["id"]
    token = csrf_token(seller, "/planning")
    later = OPEN + dt.timedelta(weeks=1)
    refused = seller.post("/planning/commitments", data={
        "csrf_token": token, "pair": world["pid"], f"u:{o}:{OPEN}": "30",
        f"u:{o}:{FROZEN}": "15",  # a forged cell for a frozen week
    })  # fmt: skip
    assert refused.status_code == 422
    assert "2026-W51 is frozen" in refused.get_data(as_text=True)
    assert key(world, OPEN) not in stored(admin, world)  # nothing saved
    bad = seller.post("/planning/commitments", data={"csrf_token": token, "pair": world["pid"],
                                                     f"u:{o}:{OPEN}": "1,5"})  # fmt: skip
    assert bad.status_code == 422
    assert "“1,5” is not a whole number" in bad.get_data(as_text=True)
    saved = seller.post("/planning/commitments", data={
        "csrf_token": token, "pair": world["pid"], f"u:{o}:{OPEN}": "30",
        f"u:{o}:{later}": "44", "note": "capacity",
    })  # fmt: skip
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert stored(admin, world)[key(world, OPEN)] == (30, "capacity")
    assert stored(admin, world)[key(world, later)] == (44, "capacity")
    page = seller.get(f"/planning?pair={world['pid']}").get_data(as_text=True)
    assert "over" in cell(page, OPEN, "commitment")  # 30 against 50: -40 %, beyond 20 %
    assert "-40 %" in cell(page, OPEN, "commitment")
    assert "over" not in cell(page, later, "commitment").split("|")[0]  # 44 against 40: +10 %
    set_planning_settings(admin, world["supplier"]["id"], world["distributor"]["id"],
                          {"tolerance_pct": "50"})  # fmt: skip
    wider = seller.get(f"/planning?pair={world['pid']}").get_data(as_text=True)
    assert "over" not in cell(wider, OPEN, "commitment").split("|")[0]
    set_planning_settings(admin, world["supplier"]["id"], world["distributor"]["id"], {})
    buyer = sign_in(app, world["buyer"], remote_addr="10.15.0.6")
    forged = buyer.post("/planning/commitments", data={
        "csrf_token": csrf_token(buyer, "/planning"), "pair": world["pid"], f"u:{o}:{OPEN}": "1"
    })  # fmt: skip
    assert forged.status_code == 403
    assert stored(admin, world)[key(world, OPEN)] == (30, "capacity")


# -- the Excel round trip -------------------------------------------------------------------------


def workbook(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Commitments"
    sheet.append(list(rules.COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, body: bytes):
    return client.post(
        "/planning/upload",
        data={"csrf_token": csrf_token(client, "/planning/upload"),
              "file": (io.BytesIO(body), "commitments.xlsx")},
        content_type="multipart/form-data",
    )  # fmt: skip


def test_the_excel_round_trip_previews_then_stores_all_or_nothing(app, admin, world):
    seller = sign_in(app, world["seller"], remote_addr="10.15.0.7")
    got = seller.get("/planning/template.xlsx")
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.data))["Commitments"]
    rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    name = world["distributor"]["name"]
    ours = [r for r in rows if r[0] == name]
    assert min(r[3].date() for r in rows) == OPEN  # no frozen week
    first = next(r for r in ours if r[3].date() == OPEN)
    assert (first[1], first[4]) == (world["oats"]["gtin"], 50)
    week = OPEN + dt.timedelta(weeks=6)
    filled = next(r for r in ours if r[3].date() == week)
    filled[5], filled[6] = 17, "from the workbook"
    bad = [name, world["oats"]["gtin"], "", FROZEN, None, 4, None]
    refused = upload(seller, workbook([filled, bad, ["Nobody", "123", "", "2027-W02", None, 1]]))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Row 3, week: 2026-W51 is frozen" in text
    assert "Row 4, distributor: “Nobody” is not one of your distributors" in text
    assert "Row 4, gtin: “123” is not a GTIN (8 to 14 digits)" in text
    assert key(world, week) not in stored(admin, world)
    preview = upload(seller, workbook([filled]))
    assert preview.status_code == 200, preview.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True))[1]
    assert key(world, week) not in stored(admin, world)  # nothing until confirmed
    confirm = {"csrf_token": csrf_token(seller, "/planning/upload"), "token": token}
    assert seller.post("/planning/upload/confirm", data=confirm).status_code == 302
    assert stored(admin, world)[key(world, week)] == (17, "from the workbook")
    assert seller.post("/planning/upload/confirm", data=confirm).status_code == 409
    buyer = sign_in(app, world["buyer"], remote_addr="10.15.0.8")
    assert buyer.get("/planning/template.xlsx").status_code == 403


def test_the_api_makes_or_changes_a_commitment_and_refuses_a_frozen_week(app, admin, world):
    seller = sign_in(app, world["seller"], remote_addr="10.15.0.9")
    headers = {"X-CSRFToken": csrf_token(seller, "/account/tokens")}
    week = OPEN + dt.timedelta(weeks=8)
    body = {"partnership": world["pid"], "sku": world["oats"]["id"],
            "week_start": week.isoformat(), "units": 6}  # fmt: skip
    made = seller.post("/api/v1/commitments", json=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["data"]["id"] == key(world, week)
    changed = seller.post("/api/v1/commitments", json={**body, "units": 8}, headers=headers)
    assert changed.status_code == 201, changed.get_json()
    assert stored(admin, world)[key(world, week)] == (8, None)
    frozen = seller.post("/api/v1/commitments", json={**body, "week_start": FROZEN.isoformat()},
                         headers=headers)  # fmt: skip
    assert frozen.status_code == 409
    assert "2026-W51 is frozen" in str(frozen.get_json())
    buyer = sign_in(app, world["buyer"], remote_addr="10.15.0.10")
    listed = buyer.get(f"/api/v1/commitments?partnership={world['pid']}").get_json()
    assert key(world, week) in {r["id"] for r in listed["data"]}
    refused = buyer.post("/api/v1/commitments", json=body,
                         headers={"X-CSRFToken": csrf_token(buyer, "/account/tokens")})  # fmt: skip
    assert refused.status_code == 403


def test_the_horizons_a_figure_stands_for():
    assert horizons_ahead(OPEN, TODAY) == (1, 2)  # 19 days: 2 whole weeks
    assert horizons_ahead(OPEN, dt.date(2026, 12, 14)) == (1,)  # 7 days
    assert horizons_ahead(OPEN, dt.date(2026, 12, 15)) == ()  # 6 days
    assert horizons_ahead(dt.date(2027, 1, 4), dt.date(2026, 11, 2)) == (1, 2, 4, 8)  # 9 weeks


def test_the_lane_keeps_the_forecast_as_it_stood_each_horizon_ahead(hub, world):
    rows = hub.sql(
        "SELECT week_start, sum(forecast_units), sum(forecast_h1), sum(forecast_h2), "
        "sum(forecast_h4), sum(forecast_h8) FROM forecasts WHERE distributor = ? "
        "AND sku = ? GROUP BY week_start ORDER BY week_start",
        world["distributor"]["id"],
        world["oats"]["id"],
    )
    assert [r[1:] for r in rows] == [
        (20, 20, 16, 16, None),  # 2 November: restated a week ahead
        (24, 24, 24, 24, None),  # 9 November: delivered six weeks ahead
        (50, 50, 50, None, None),  # 21 December: delivered today, 19 days ahead
        (40, 40, 40, None, None),
    ]
