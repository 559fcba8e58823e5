"""Excel exports: each user's export of a resource holds exactly what the API lists for
that user (every page, no cap), typed cells, an audit entry per export, and text that
looks like a formula stays text."""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
import zipfile
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from directus import HubClient
from directus.bulk import open_lane, write_rows
from portal import xlsx as portal_xlsx
from portal.data.access import DataAccess
from portal.data.registry import RESOURCES
from portal.xlsx import XLSX_MIMETYPE
from tests import world as world_module
from tests.factories import (
    Member,
    governed_access,
    make_pair,
    make_sku,
    make_store,
    make_user,
    sign_in,
)
from tests.world import world_for

WHO = ("acme", "south", "manager")  # a supplier, a distributor, an account manager


@pytest.fixture
def world(hub, admin):
    return world_for(hub, admin)


def _signed_in(portal, world, who: str) -> FlaskClient:
    person = world.people[who]
    member = Member(
        person.id,
        person.email,
        world_module.PASSWORD,
        person.role,
        {"id": person.organization_id},
    )
    return sign_in(portal, member)


def _api_rows(client: FlaskClient, resource: str, **query: Any) -> list[dict[str, Any]]:
    """Every row of the API list, walking its pages."""
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = client.get(
            f"/api/v1/{resource}", query_string={**query, "page": page, "per_page": 500}
        )
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        rows += body["data"]
        if len(rows) >= body["meta"]["total"] or not body["data"]:
            return rows
        page += 1


def workbook_rows(client: FlaskClient, path: str, **query: Any) -> list[dict[str, Any]]:
    """A download's rows, as dicts keyed by the header (also used by test_more_exports)."""
    answer = client.get(path, query_string=query or None)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == XLSX_MIMETYPE
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.get_data()
    answer.close()
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def _export(client: FlaskClient, resource: str, **query: Any) -> list[dict[str, Any]]:
    """The export's rows, as dicts keyed by the header."""
    return workbook_rows(client, f"/exports/{resource}.xlsx", **query)


def _as_api(value: Any, api_value: Any) -> Any:
    """A cell read back, in the API's representation of ``api_value``."""
    if isinstance(value, dt.datetime) and isinstance(api_value, str):
        if len(api_value) == 10:
            return value.date().isoformat()
        sent = dt.datetime.fromisoformat(api_value).astimezone(dt.UTC).replace(tzinfo=None)
        return api_value if abs(value - sent) < dt.timedelta(seconds=1) else value
    if isinstance(api_value, list):
        # An empty list is an empty cell.
        return api_value if (value or "") == ", ".join(map(str, api_value)) else value
    if isinstance(api_value, dict):
        return json.loads(value) if value else value
    if value is None and api_value == "":
        return ""
    return value


def _same(api_rows: list[dict[str, Any]], exported: list[dict[str, Any]]) -> None:
    assert len(exported) == len(api_rows)
    for api_row, row in zip(api_rows, exported, strict=True):
        assert set(row) == set(api_row)
        assert {k: _as_api(v, api_row[k]) for k, v in row.items()} == api_row


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_every_users_export_holds_exactly_what_the_api_lists_for_them(portal, world, resource):
    seen = {}
    for who in WHO:
        client = _signed_in(portal, world, who)
        api_rows = _api_rows(client, resource)
        exported = _export(client, resource)
        _same(api_rows, exported)
        seen[who] = {row["id"] for row in exported}
    if resource in ("pos-sales", "purchase-orders", "locations", "share-agreements"):
        for who in WHO:
            assert seen[who] == {str(i) if resource == "pos-sales" else i for i in
                                 world_module.expected(world, who, resource)}  # fmt: skip


def test_an_export_takes_the_list_filters_and_sort(portal, world):
    client = _signed_in(portal, world, "acme")
    query = {"day_from": world.new_day.isoformat(), "sort": "-day"}
    exported = _export(client, "pos-sales", **query)
    _same(_api_rows(client, "pos-sales", **query), exported)
    assert exported
    assert {row["day"].date() for row in exported} == {world.new_day}
    refused = client.get("/exports/pos-sales.xlsx", query_string={"day_from": "soon"})
    assert refused.status_code == 422
    assert "day_from" in refused.get_data(as_text=True)
    assert client.get("/exports/no-such-thing.xlsx").status_code == 404


def test_an_export_walks_every_page_with_no_cap(hub, admin, portal):
    supplier, distributor, _pair = make_pair(admin)
    sku = make_sku(admin, supplier)
    store = make_store(admin, distributor, "S1")
    first = dt.date(2022, 1, 3)
    days = [first + dt.timedelta(days=n) for n in range(1234)]  # more than any page
    with open_lane(hub.lane_url) as lane:
        write_rows(
            lane,
            "pos",
            [(distributor["id"], store["id"], sku["id"], d, 1, 1999, "USD") for d in days],
        )
    client = sign_in(portal, make_user(admin, "distributor_user", distributor))
    exported = _export(client, "pos-sales", sort="-day")
    assert len(exported) == 1234
    assert [row["day"].date() for row in exported] == days[::-1]
    row = exported[0]
    # Money stays integer minor units, as a number, with its currency beside it.
    assert (row["units"], row["net_sales_minor"], row["currency"]) == (1, 1999, "USD")
    assert isinstance(row["net_sales_minor"], int)


def test_an_export_is_audited_with_its_row_count(portal, world):
    client = _signed_in(portal, world, "south")
    since = world.last_audit_id()
    exported = _export(client, "pos-sales", region="east")
    entries = world.audit_entries("south", "export", since)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["collection"], entry["via"], entry["record_ids"]) == ("pos_sales", "portal", [])
    assert entry["organization"] == world.orgs["south"]
    detail = entry["detail"]
    assert detail["rows"] == len(exported) > 0
    assert detail["resource"] == "pos-sales"
    assert detail["filters"] == {"region": "east"}
    assert detail["filename"].startswith("pos-sales-")
    assert detail["filename"].endswith(".xlsx")


def test_text_that_looks_like_a_formula_is_never_a_formula(hub, admin, portal):
    supplier, _distributor, pair = make_pair(admin)
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3+4", "@SUM(A1:A2)", "ok"]
    tag = secrets.token_hex(3)
    for title in hostile:
        admin.create_item(
            "risks",
            {"title": title, "description": f"=1+1 {tag}", "likelihood": 1, "impact": 2,
             "partnership": pair},
        )  # fmt: skip
    client = sign_in(portal, make_user(admin, "supplier_user", supplier))
    answer = client.get("/exports/risks.xlsx")
    data = answer.get_data()
    answer.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    assert "<f " not in sheet_xml
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    titles = {}
    for cells in sheet.iter_rows(min_row=2):
        cell = cells[header.index("title")]
        assert cell.data_type == "s"
        titles[cell.value] = cell
    assert sorted(titles) == sorted(hostile)
    for text, cell in titles.items():
        assert cell.quotePrefix is (text != "ok")  # re-typing it in Excel keeps it text
    scores = [cells[header.index("score")].value for cells in sheet.iter_rows(min_row=2)]
    assert scores == [2] * len(hostile)  # integers are numbers


def test_exports_need_a_signed_in_user(portal):
    answer = portal.test_client().get("/exports/pos-sales.xlsx")
    assert answer.status_code in (302, 401)


# -- paging by key, streaming, sheets ------------------------------------------------------


def _risks(admin, pair: int, dates: list[dt.date | None]) -> list[int]:
    rows = [
        {"title": f"risk {n}", "likelihood": 1, "impact": 1, "partnership": pair,
         "review_date": d.isoformat() if d else None}
        for n, d in enumerate(dates)
    ]  # fmt: skip
    return [int(admin.create_item("risks", row, fields=["id"])["id"]) for row in rows]


def test_paging_by_key_reads_each_row_once_across_ties_and_empty_values(hub, admin):
    """Pages of 3 over 11 rows sharing four review dates (and some with none): the
    rows come in the list's order, each once; an empty date sorts first ascending and
    last descending."""
    supplier, _distributor, pair = make_pair(admin)
    day = dt.date(2026, 3, 2)
    dates = [day, None, day, day + dt.timedelta(1), day, None, day + dt.timedelta(1), day,
             day - dt.timedelta(1), None, day]  # fmt: skip
    ids = _risks(admin, pair, dates)
    acc = governed_access(hub, make_user(admin, "supplier_user", supplier))
    by_date = dict(zip(ids, dates, strict=True))
    up = [r["id"] for r in acc.iter_rows("risks", {"sort": "review_date"}, page_size=3)]
    down = [r["id"] for r in acc.iter_rows("risks", {"sort": "-review_date"}, page_size=3)]
    plain = [r["id"] for r in acc.iter_rows("risks", {}, page_size=3)]

    valued = [i for i in sorted(ids) if by_date[i] is not None]
    empty = [i for i in sorted(ids) if by_date[i] is None]
    assert plain == sorted(ids)
    # sorted() is stable, also reversed: ties stay in id order.
    assert up == empty + sorted(valued, key=lambda i: by_date[i])
    assert down == sorted(valued, key=lambda i: by_date[i], reverse=True) + empty


def test_a_row_deleted_during_an_export_makes_no_other_row_go_missing(hub, admin):
    """Offset paging skipped a row for each row deleted behind it."""
    supplier, _distributor, pair = make_pair(admin)
    ids = _risks(admin, pair, [dt.date(2026, 3, 2)] * 10)
    acc = governed_access(hub, make_user(admin, "supplier_user", supplier))
    for sort in ("id", "review_date", "-review_date"):
        rows = acc.iter_rows("risks", {"sort": sort}, page_size=4)
        seen = [next(rows)["id"] for _ in range(4)]  # the first page
        admin.delete_items("risks", seen[:2])
        seen += [r["id"] for r in rows]
        assert sorted(seen) == sorted(ids), sort
        assert len(seen) == len(set(seen))
        ids = [i for i in ids if i not in seen[:2]]


def test_paging_by_key_reads_only_the_users_rows(hub, admin):
    """Negative control: another pair's rows, interleaved by id, never come in."""
    supplier, _distributor, pair = make_pair(admin)
    other_supplier, _other_distributor, other_pair = make_pair(admin)
    mine: list[int] = []
    theirs: list[int] = []
    for _ in range(4):
        mine += _risks(admin, pair, [dt.date(2026, 3, 2)] * 2)
        theirs += _risks(admin, other_pair, [dt.date(2026, 3, 2)] * 2)
    acc = governed_access(hub, make_user(admin, "supplier_user", supplier))
    assert [r["id"] for r in acc.iter_rows("risks", {}, page_size=3)] == mine
    other = governed_access(hub, make_user(admin, "supplier_user", other_supplier))
    assert [r["id"] for r in other.iter_rows("risks", {"sort": "review_date"}, page_size=3)] == (
        theirs
    )


def _exports_of(admin, member: Member) -> list[dict[str, Any]]:
    return admin.read_items(
        "audit_log",
        filter={"_and": [{"actor": {"_eq": member.id}}, {"action": {"_eq": "export"}}]},
        fields=["detail"], sort=["id"], limit=-1,
    )  # fmt: skip


def test_past_a_sheets_row_limit_the_rows_go_on_in_the_next_sheet(hub, admin, portal, monkeypatch):
    """Excel's limit is 1,048,576 rows a sheet, header included; injected here as 4."""
    monkeypatch.setattr(portal_xlsx, "EXCEL_MAX_ROWS", 4)
    supplier, _distributor, pair = make_pair(admin)
    ids = _risks(admin, pair, [dt.date(2026, 3, 2)] * 7)
    member = make_user(admin, "supplier_user", supplier)
    client = sign_in(portal, member)
    answer = client.get("/exports/risks.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.get_data()))
    answer.close()
    assert book.sheetnames == ["risks", "risks (2)", "risks (3)"]
    headers = {tuple(c.value for c in sheet[1]) for sheet in book.worksheets}
    assert len(headers) == 1  # every sheet has the header
    (header,) = headers
    at = header.index("id")
    per_sheet = [[r[at] for r in s.iter_rows(min_row=2, values_only=True)] for s in book]
    assert [len(rows) for rows in per_sheet] == [3, 3, 1]
    assert [i for rows in per_sheet for i in rows] == ids
    assert [e["detail"]["rows"] for e in _exports_of(admin, member)] == [7]


def test_a_sheet_title_stays_within_excels_31_characters():
    book = portal_xlsx.StreamedWorkbook("x" * 40, ["a"], max_rows=2)
    for n in range(3):
        book.append([n])
    data = book.take() + book.finish()
    assert load_workbook(io.BytesIO(data)).sheetnames == [
        "x" * 31,
        "x" * 27 + " (2)",
        "x" * 27 + " (3)",
    ]


def test_an_export_starts_before_its_rows_are_all_read(hub, admin, portal, monkeypatch):
    """Streamed: the first bytes go out after the first page; the rest are read as the
    client reads. A download cut short is audited with what it sent."""
    supplier, _distributor, pair = make_pair(admin)
    _risks(admin, pair, [dt.date(2026, 3, 2)] * 7)
    member = make_user(admin, "supplier_user", supplier)
    client = sign_in(portal, member)
    walk = DataAccess.iter_rows
    monkeypatch.setattr(
        DataAccess, "iter_rows", lambda self, name, query: walk(self, name, query, page_size=2)
    )
    reads: list[tuple[str, bool]] = []  # (path, whether an aggregate)
    get = HubClient.get
    monkeypatch.setattr(
        HubClient,
        "get",
        lambda self, path, **q: reads.append((path, "aggregate" in q)) or get(self, path, **q),
    )
    answer = client.get("/exports/risks.xlsx", buffered=False)
    assert answer.status_code == 200
    assert answer.is_streamed
    assert "Content-Length" not in answer.headers
    body = iter(answer.response)
    assert next(body).startswith(b"PK")
    assert reads.count(("/items/risks", False)) == 1  # the first page only
    answer.close()
    cut = _exports_of(admin, member)
    assert [(e["detail"]["complete"], e["detail"]["resource"]) for e in cut] == [(False, "risks")]

    reads.clear()
    rows = workbook_rows(client, "/exports/risks.xlsx")
    assert len(rows) == 7
    assert reads.count(("/items/risks", False)) > 1  # read a page at a time
    assert _exports_of(admin, member)[-1]["detail"]["rows"] == 7
    assert "complete" not in _exports_of(admin, member)[-1]["detail"]


def test_paging_by_key_over_a_timestamp_keeps_ties_and_milliseconds(hub, admin):
    """A sort on a timestamp compares the hub's own text of it back, to the millisecond."""
    supplier, _distributor, _pair = make_pair(admin)
    at = dt.datetime(2026, 3, 2, 9, 30, 15, 123000, tzinfo=dt.UTC)
    moments = [at, at + dt.timedelta(milliseconds=1), at, at - dt.timedelta(hours=5), at]
    ids = [
        int(admin.create_item(
            "edi_messages",
            {"direction": "in", "standard": "x12", "message_type": "852", "status": "done",
             "received_at": m.isoformat(timespec="milliseconds"), "sender": supplier["id"]},
            fields=["id"],
        )["id"])
        for m in moments
    ]  # fmt: skip
    acc = governed_access(hub, make_user(admin, "supplier_user", supplier))
    when = dict(zip(ids, moments, strict=True))
    for sort, reverse in (("received_at", False), ("-received_at", True)):
        got = [r["id"] for r in acc.iter_rows("edi-messages", {"sort": sort}, page_size=2)]
        assert got == sorted(ids, key=lambda i: when[i], reverse=reverse), sort
