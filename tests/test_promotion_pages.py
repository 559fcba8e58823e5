"""The promotion journey's pages on the real hub: the distributor's list, calendar, form
and Excel round trip (template, preview with every error, confirm once), hostile files,
and the supplier's answer, with nobody seeing or changing another partner's promotions.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from directus import HubClient, HubError
from domain import clock
from domain.promotions import COLUMNS
from governance import sharing
from governance.partners import ensure_partnership
from portal.data import RESOURCES, DataAccess, Forbidden
from portal.data.writes import create_promotions
from portal.schemas.promotions import PromotionCreate
from portal.workbooks import LISTS, SHEET
from tests.factories import (
    Member,
    csrf_token,
    make_org,
    make_pair,
    make_sku,
    make_store,
    make_user,
    sign_in,
)

LEAD = 7


def day(offset: int) -> dt.date:
    """A day relative to today (the clock's, asked each time: the tests hold on any day)."""
    return clock.today() + dt.timedelta(days=offset)


@dataclass
class Partners:
    """A supplier and a distributor paired, a second supplier of the same distributor, and
    strangers: another supplier's company and another distributor's store and pair."""

    admin: HubClient
    pair: int
    supplier: dict[str, Any]
    distributor: dict[str, Any]
    other_pair: int  # the second supplier with the same distributor
    other_supplier: dict[str, Any]
    foreign_pair: int  # the same supplier with another distributor
    skus: list[dict[str, Any]]
    other_sku: dict[str, Any]
    stores: list[dict[str, Any]]
    foreign_store: dict[str, Any]
    buyer: Member  # the distributor's user
    seller: Member  # the supplier's user
    stranger: Member  # a user of a supplier outside the pair

    def promotions(self) -> list[dict[str, Any]]:
        """Every promotion of the distributor's pairs, as the admin sees them."""
        return self.admin.read_items(
            "promotions",
            filter={"partnership": {"_in": [self.pair, self.other_pair]}},
            fields=["id", "name", "status", "start_date", "end_date", "skus.sku",
                    "locations.location", "history.status"],
            sort=["id"],
            limit=-1,
        )  # fmt: skip


@pytest.fixture
def partners(admin) -> Partners:
    supplier, distributor, pair = make_pair(admin)
    other_supplier = make_org(admin, "supplier")
    other_pair = ensure_partnership(admin, other_supplier["id"], distributor["id"])
    foreign = make_org(admin, "distributor")
    foreign_pair = ensure_partnership(admin, supplier["id"], foreign["id"])
    skus = [make_sku(admin, supplier) for _ in range(2)]
    for sku in skus:
        admin.update_item("skus", sku["id"], {"lead_time_days": LEAD})
        sku["lead_time_days"] = LEAD
    return Partners(
        admin=admin,
        pair=pair,
        supplier=supplier,
        distributor=distributor,
        other_pair=other_pair,
        other_supplier=other_supplier,
        foreign_pair=foreign_pair,
        skus=skus,
        other_sku=make_sku(admin, other_supplier),
        stores=[make_store(admin, distributor, code) for code in ("S1", "S2")],
        foreign_store=make_store(admin, foreign, "F1"),
        buyer=make_user(admin, "distributor_user", distributor),
        seller=make_user(admin, "supplier_user", supplier),
        stranger=make_user(admin, "supplier_user", other_supplier),
    )


@pytest.fixture
def app(hub, make_portal, tmp_path) -> Flask:
    return make_portal(hub, spool_dir=tmp_path / "spool")


class Browser:
    """A signed-in browser that sends the session's CSRF token with every form."""

    def __init__(self, app: Flask, member: Member) -> None:
        self.client: FlaskClient = sign_in(app, member)
        self.csrf = csrf_token(self.client, "/account/tokens")

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf}, **kwargs)

    def upload(self, body: bytes, name: str = "promotions.xlsx") -> Any:
        # Encoded here, in memory: the test client would spool a big body to a temporary
        # file it never closes.
        boundary, encoded = encode_multipart(
            {"csrf_token": self.csrf, "file": FileStorage(io.BytesIO(body), filename=name)}
        )
        return self.client.post(
            "/promotions/upload",
            data=encoded,
            content_type=f"multipart/form-data; boundary={boundary}",
        )


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def rows_of(partners: Partners, *rows: dict[str, Any]) -> bytes:
    """A workbook with these rows on the Promotions sheet."""
    book = Workbook()
    ws = book.active
    ws.title = SHEET
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append([row.get(c) for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def line(partners: Partners, **overrides: Any) -> dict[str, Any]:
    values = {
        "partner": partners.supplier["name"],
        "name": "Summer TPR",
        "type": "tpr",
        "start_date": day(30),
        "end_date": day(36).isoformat(),
        "expected_uplift_pct": 15,
        "mechanics": "20% off",
        "sku_gtin": partners.skus[0]["gtin"],
        "location_code": "S1",
    }
    values.update(overrides)
    return values


_ROW = re.compile(r'<tr id="row-(\d+)"[^>]*>(.*?)</tr>', re.S)
_BAD_CELL = re.compile(r'<td class="error" data-field="([^"]+)">')


def error_cells(page: str) -> set[tuple[int, str]]:
    """(row, field) of every cell the preview marks as wrong."""
    return {
        (int(number), field)
        for number, body in _ROW.findall(page)
        for field in _BAD_CELL.findall(body)
    }


def token_of(page: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match, "no confirm form on the page"
    return match.group(1)


def book_promotion(partners: Partners, start: int, end: int, sku: int = 0, store: int = 0) -> int:
    """A submitted promotion, written by the admin as if proposed earlier."""
    row = partners.admin.create_item(
        "promotions",
        {
            "name": f"Booked {start}",
            "type": "display",
            "status": "submitted",
            "start_date": day(start).isoformat(),
            "end_date": day(end).isoformat(),
            "partnership": partners.pair,
            "skus": [{"sku": partners.skus[sku]["id"], "partnership": partners.pair}],
            "locations": [{"location": partners.stores[store]["id"], "partnership": partners.pair}],
        },
        fields=["id"],
    )
    return int(row["id"])


# -- the template ----------------------------------------------------------------------------


def test_the_template_offers_the_distributors_own_suppliers_skus_and_stores(app, partners):
    buyer = Browser(app, partners.buyer)
    answer = buyer.get("/promotions/template.xlsx")
    assert answer.status_code == 200
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["Instructions", SHEET, LISTS]
    assert [c.value for c in book[SHEET][1]] == list(COLUMNS)
    kinds = sorted(dv.type for dv in book[SHEET].data_validations.dataValidation)
    assert kinds == ["date", "date", "list", "list", "list", "list", "whole"]
    offered = {c.value for r in book[LISTS].iter_rows() for c in r if c.value is not None}
    assert {partners.supplier["name"], partners.other_supplier["name"]} <= offered
    assert {s["gtin"] for s in partners.skus} | {partners.other_sku["gtin"], "S1", "S2"} <= offered
    assert "F1" not in offered  # another distributor's store
    # A supplier has no template to fill.
    assert Browser(app, partners.seller).get("/promotions/template.xlsx").status_code == 403


# -- the upload: preview, confirm, once --------------------------------------------------------


def test_a_workbook_with_every_kind_of_error_shows_each_by_row_and_field_and_stores_nothing(
    app, partners
):
    book_promotion(partners, 40, 46)
    before = partners.promotions()
    workbook = rows_of(
        partners,
        line(partners),  # row 2: fine
        line(partners, name="A", sku_gtin="00000000000093"),  # 3: unknown GTIN
        line(partners, name="B", sku_gtin=partners.other_sku["gtin"]),  # 4: another supplier's
        line(partners, name="C", location_code="F1"),  # 5: another distributor's store
        line(partners, name="D", end_date=day(20).isoformat()),  # 6: dates reversed
        line(partners, name="E", start_date=day(-1)),  # 7: start in the past
        line(partners, name="F", start_date=day(42), end_date=day(44)),  # 8: overlaps booked
        line(partners, name="G", start_date=day(LEAD - 2), end_date=day(LEAD)),  # 9: lead time
        line(partners, name="H", expected_uplift_pct=2000),  # 10: uplift out of range
        line(partners, name="I", type="flash"),  # 11: unknown type
        line(partners, name=None, partner=None),  # 12: missing fields
        line(partners, name="J", start_date="01/02/2026"),  # 13: a date as other text
        line(partners, name="K", start_date=day(33), end_date=day(34)),  # 14: overlaps row 2
    )
    answer = Browser(app, partners.buyer).upload(workbook)
    page = text(answer)
    assert answer.status_code == 422
    assert error_cells(page) == {
        (3, "sku_gtin"),
        (4, "sku_gtin"),
        (5, "location_code"),
        (6, "end_date"),
        (7, "start_date"),
        (8, "start_date"),
        (9, "start_date"),
        (10, "expected_uplift_pct"),
        (11, "type"),
        (12, "partner"),
        (12, "name"),
        (13, "start_date"),
        (14, "start_date"),
    }
    assert f"belongs to {partners.other_supplier['name']}" in page
    assert "Booked 40" in page
    assert "YYYY-MM-DD" in page
    assert "overlaps the promotion of row 2" in page
    assert 'id="preview"' in page
    assert "Submit promotions" not in page
    assert partners.promotions() == before
    assert list((Path(app.extensions["tandem.config"].spool_dir)).rglob("*.xlsx")) == []


def test_a_clean_workbook_previews_then_submits_its_promotions_once(app, partners):
    buyer = Browser(app, partners.buyer)
    workbook = rows_of(
        partners,
        line(partners),
        line(partners, sku_gtin=partners.skus[1]["gtin"], mechanics=None),
        line(partners, location_code="S2", expected_uplift_pct=None),
        line(partners, name="Autumn display", type="display", start_date=day(60).isoformat(),
             end_date=day(66), expected_uplift_pct=None, mechanics=None),
    )  # fmt: skip
    preview = buyer.upload(workbook)
    page = text(preview)
    assert preview.status_code == 200, page
    assert error_cells(page) == set()
    assert "2 promotions from 4 rows" in page
    assert '<button type="submit" id="submit-promotions">Submit promotions</button>' in page
    assert partners.promotions() == []  # nothing stored by the preview

    token = token_of(page)
    done = buyer.post("/promotions/upload/confirm", {"token": token})
    assert done.status_code == 302, text(done)
    created = partners.promotions()
    assert [(p["name"], p["status"]) for p in created] == [
        ("Summer TPR", "submitted"),
        ("Autumn display", "submitted"),
    ]
    summer = created[0]
    assert {s["sku"] for s in summer["skus"]} == {s["id"] for s in partners.skus}
    assert {x["location"] for x in summer["locations"]} == {s["id"] for s in partners.stores}
    assert [h["status"] for h in summer["history"]] == ["submitted"]

    again = buyer.post("/promotions/upload/confirm", {"token": token})
    assert again.status_code == 409
    assert "already submitted" in text(again)
    assert len(partners.promotions()) == 2
    # The supplier sees them, awaiting its answer.
    awaiting = text(Browser(app, partners.seller).get("/promotions"))
    assert 'id="awaiting"' in awaiting
    assert "Summer TPR" in awaiting


def test_confirming_checks_the_workbook_again_against_the_hub(app, partners):
    buyer = Browser(app, partners.buyer)
    token = token_of(text(buyer.upload(rows_of(partners, line(partners)))))
    book_promotion(partners, 35, 38)  # booked meanwhile, for the same SKU and store
    answer = buyer.post("/promotions/upload/confirm", {"token": token})
    assert answer.status_code == 422
    assert error_cells(text(answer)) == {(2, "start_date")}
    assert [p["name"] for p in partners.promotions()] == ["Booked 35"]


def test_a_forged_or_foreign_upload_token_confirms_nothing(app, partners, admin):
    buyer = Browser(app, partners.buyer)
    token = token_of(text(buyer.upload(rows_of(partners, line(partners)))))
    colleague = Browser(app, make_user(admin, "distributor_user", partners.distributor))
    for forged in (token, "../../etc/passwd", "x" * 30):
        assert colleague.post("/promotions/upload/confirm", {"token": forged}).status_code == 409
    assert partners.promotions() == []
    assert buyer.post("/promotions/upload/confirm", {"token": token}).status_code == 302


# -- hostile files --------------------------------------------------------------------------


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w") as member,
    ):
        for _ in range(60):
            member.write(b"\0" * (1024 * 1024))
    return out.getvalue()


def _big(partners: Partners) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(SHEET)
    ws.append(list(COLUMNS))
    for n in range(100_000):
        ws.append([partners.supplier["name"], f"Promo {n}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet1(partners: Partners) -> bytes:
    book = Workbook()
    book.active.title = "Sheet1"
    book.create_sheet("Data")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HOSTILE = {
    "text named .xlsx": (lambda p: b"partner,name\nAcme,Spring\n", "not an Excel workbook"),
    "zip bomb": (lambda p: _zip_bomb(), "zip bomb"),
    "formulas": (
        lambda p: rows_of(p, line(p), line(p, expected_uplift_pct="=10*2")),
        "Promotions!F3",
    ),
    "100,000 rows": (_big, "more than 5000 rows"),
    "wrong sheets": (_sheet1, "no sheet named “Promotions”; it has “Sheet1”, “Data”"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_file_gets_a_clear_error_and_stores_nothing(app, partners, case):
    make, expected = HOSTILE[case]
    answer = Browser(app, partners.buyer).upload(make(partners))
    page = text(answer)
    assert answer.status_code == 422
    assert 'id="upload-error"' in page
    assert expected in page
    assert "Submit promotions" not in page
    assert partners.promotions() == []
    assert list(Path(app.extensions["tandem.config"].spool_dir).rglob("*.xlsx")) == []


def test_an_upload_over_the_portals_size_limit_is_refused(hub, make_portal, partners, tmp_path):
    app = make_portal(hub, spool_dir=tmp_path / "spool", max_upload_mb=1)
    answer = Browser(app, partners.buyer).upload(b"\0" * (2 * 1024 * 1024))
    assert answer.status_code == 413
    assert "larger than the portal takes (1 MB)" in text(answer)
    assert partners.promotions() == []


def test_uploads_wait_in_a_temporary_folder_without_a_spool_setting(hub, make_portal, partners):
    app = make_portal(hub)
    buyer = Browser(app, partners.buyer)
    token = token_of(text(buyer.upload(rows_of(partners, line(partners)))))
    assert buyer.post("/promotions/upload/confirm", {"token": token}).status_code == 302
    assert len(partners.promotions()) == 1


# -- the form -------------------------------------------------------------------------------


def _form(partners: Partners, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "partnership": str(partners.pair),
        "name": "Form TPR",
        "type": "tpr",
        "mechanics": "",
        "start_date": day(20).isoformat(),
        "end_date": day(27).isoformat(),
        "expected_uplift_pct": "10",
        "skus": [str(partners.skus[0]["id"])],
        "locations": [str(partners.stores[0]["id"])],
        "action": "draft",
    }
    data.update(overrides)
    return data


def test_a_distributor_drafts_edits_submits_and_cancels_a_promotion(app, partners):
    buyer = Browser(app, partners.buyer)
    form = text(buyer.get("/promotions/new"))
    for label in ('for="partnership"', 'for="skus"', 'for="locations"', 'for="start_date"'):
        assert label in form
    made = buyer.post("/promotions/new", _form(partners))
    assert made.status_code == 302, text(made)
    (promotion,) = partners.promotions()
    assert promotion["status"] == "draft"
    key = promotion["id"]
    assert made.headers["Location"].endswith(f"/promotions/{key}")

    edited = buyer.post(f"/promotions/{key}/edit", {**_form(partners), "name": "Form TPR v2"})
    assert edited.status_code == 302, text(edited)
    assert buyer.post(f"/promotions/{key}/status", {"status": "submitted"}).status_code == 302
    assert buyer.post(f"/promotions/{key}/status", {"status": "cancelled"}).status_code == 302
    (promotion,) = partners.promotions()
    assert (promotion["name"], promotion["status"]) == ("Form TPR v2", "cancelled")
    assert [h["status"] for h in promotion["history"]] == ["draft", "submitted", "cancelled"]
    detail = text(buyer.get(f"/promotions/{key}"))
    assert 'id="history"' in detail
    assert detail.count("<td>Cancelled</td>") == 1


def test_form_errors_come_back_next_to_their_fields(app, partners):
    buyer = Browser(app, partners.buyer)
    answer = buyer.post(
        "/promotions/new",
        _form(partners, name="", end_date=day(10).isoformat(), expected_uplift_pct="lots"),
    )
    page = text(answer)
    assert answer.status_code == 422
    assert 'id="name-error"' in page
    assert 'id="expected_uplift_pct-error"' in page
    fixed = buyer.post("/promotions/new", _form(partners, end_date=day(10).isoformat()))
    assert fixed.status_code == 422
    assert 'id="end_date-error"' in text(fixed)
    late = buyer.post("/promotions/new", _form(partners, start_date=day(2).isoformat()))
    assert 'id="start_date-error"' in text(late)
    assert "lead time" in text(late)
    assert partners.promotions() == []


@pytest.mark.parametrize(
    ("field", "forged", "collection"),
    [
        ("partnership", lambda p: str(p.foreign_pair), "partnerships"),
        ("skus", lambda p: [str(p.other_sku["id"])], "skus"),
        ("locations", lambda p: [str(p.foreign_store["id"])], "locations"),
    ],
)
def test_forged_ids_in_the_form_are_refused_audited_and_nothing_is_stored(
    app, partners, field, forged, collection
):
    last = partners.admin.read_items("audit_log", fields=["id"], sort=["-id"], limit=1)
    since = int(last[0]["id"]) if last else 0
    buyer = Browser(app, partners.buyer)
    answer = buyer.post("/promotions/new", _form(partners, **{field: forged(partners)}))
    page = text(answer)
    assert answer.status_code == 403
    assert f'id="{field}-error"' in page
    assert "Refused" in page
    assert partners.promotions() == []
    denied = partners.admin.read_items(
        "audit_log",
        filter={"_and": [{"actor": {"_eq": partners.buyer.id}}, {"action": {"_eq": "denied"}},
                         {"id": {"_gt": since}}]},
        limit=-1,
    )  # fmt: skip
    assert [(d["collection"], d["detail"]["field"]) for d in denied] == [(collection, field)]


# -- the list and the calendar --------------------------------------------------------------


def test_an_id_past_what_the_hub_holds_is_a_404_page(app, partners):
    """Seen on the API (issue 11): 2^53 or more in a key answered 502 from the hub."""
    buyer = Browser(app, partners.buyer)
    for path in ("/promotions/2147483648", "/uploads/9007199254740992"):
        assert buyer.get(path).status_code == 404, path
    answer = buyer.post("/promotions/9007199254740992/status", {"status": "cancelled"})
    assert answer.status_code == 404


def test_the_calendar_shows_each_promotion_on_every_day_it_runs(app, partners):
    buyer = Browser(app, partners.buyer)
    start = day(40)
    end = start + dt.timedelta(days=2)
    made = buyer.post(
        "/promotions/new", _form(partners, start_date=start.isoformat(), end_date=end.isoformat())
    )
    key = partners.promotions()[0]["id"]
    assert made.status_code == 302
    page = text(buyer.get(f"/promotions/calendar?month={start:%Y-%m}"))
    assert '<table class="promo-calendar" id="calendar">' in page
    assert '<th scope="col"><abbr title="Monday">Mon</abbr></th>' in page
    link = f'href="/promotions/{key}"'
    for offset in range(3):
        current = start + dt.timedelta(days=offset)
        if current.month != start.month:
            continue
        cell = re.search(rf'<td id="day-{current}">(.*?)</td>', page, re.S)
        assert cell, current
        assert link in cell.group(1)
    before = start - dt.timedelta(days=1)
    if before.month == start.month:
        assert link not in re.search(rf'<td id="day-{before}">(.*?)</td>', page, re.S).group(1)
    bad = buyer.get("/promotions/calendar?month=2026-13")
    assert bad.status_code == 422
    assert "not a month" in text(bad)


def _month_of_promotions(partners: Partners) -> tuple[dt.date, list[dict[str, Any]]]:
    """Next month, with 40 submitted or accepted promotions of the pair (long names, one to
    ten days each), a draft of the pair, and two of the other supplier's."""
    first = (clock.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    made = []
    for k in range(43):
        pair = partners.other_pair if k >= 41 else partners.pair
        status = "draft" if k == 40 else ("accepted" if k % 3 else "submitted")
        start = first + dt.timedelta(days=k % 27)
        made.append(
            {
                "name": f"Promotion {k:02d}: a long name, as buyers write them, for the flyer",
                "type": "feature",
                "status": status,
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=k % 10)).isoformat(),
                "partnership": pair,
            }
        )
    partners.admin.create_items("promotions", made)
    return first, made


def _runs(promotion: dict[str, Any], day: dt.date) -> bool:
    return promotion["start_date"] <= day.isoformat() <= promotion["end_date"]


def test_a_month_of_40_promotions_names_each_in_full_and_a_few_a_day(app, partners):
    first, made = _month_of_promotions(partners)
    drafts = [m for m in made if m["status"] == "draft"]
    others = [m for m in made if m["partnership"] == partners.other_pair]
    for who, seen in (
        (partners.buyer, made),
        (partners.seller, [m for m in made if m not in drafts and m not in others]),
    ):
        page = text(Browser(app, who).get(f"/promotions/calendar?month={first:%Y-%m}"))
        month = _section(page, '<ol class="promo-month" id="month-list">', "</ol>")
        names = re.findall(r'<a href="/promotions/\d+">([^<]+)</a>', month)
        assert sorted(html.unescape(n) for n in names) == sorted(m["name"] for m in seen)
        assert f"{len(seen)} promotions in {first:%B %Y}" in page
        for day_ in (first + dt.timedelta(days=i) for i in range(28)):
            cell = re.search(rf'<td id="day-{day_}">(.*?)</td>', page, re.S).group(1)
            running = [m for m in seen if _runs(m, day_)]
            entries = re.findall(
                r'<li class="promo-status-\w+"><a href="[^"]+" title="([^"]+)"', cell
            )
            assert len(entries) == min(3, len(running)), day_
            for title in entries:  # the full name, for the pointer
                assert html.unescape(title).split(" (")[0] in {m["name"] for m in running}
            more = re.search(r"\+(\d+) more", cell)
            assert (int(more.group(1)) if more else 0) == max(0, len(running) - 3), day_
        if who is partners.seller:
            assert "Promotion 40" not in page  # the draft
            assert "Promotion 41" not in page  # the other supplier's
            assert "Promotion 42" not in page


def test_the_list_filters_and_links_the_same_filters_to_the_excel_export(app, partners):
    buyer = Browser(app, partners.buyer)
    buyer.post("/promotions/new", _form(partners, action="submit"))
    buyer.post("/promotions/new", _form(partners, name="Other", start_date=day(50).isoformat(),
                                        end_date=day(52).isoformat()))  # fmt: skip
    page = text(buyer.get(f"/promotions?status=submitted&partnership={partners.pair}"))
    assert "Form TPR" in page
    assert ">Other<" not in page
    href = html.unescape(re.search(r'<a href="([^"]+)" id="export-link">', page).group(1))
    assert href.startswith("/exports/promotions.xlsx?")
    assert parse_qs(href.split("?", 1)[1]) == {
        "status": ["submitted"],
        "partnership": [str(partners.pair)],
    }
    export = buyer.get(href)
    assert export.status_code == 200
    export.close()
    wrong = buyer.get("/promotions?starts_from=yesterday")
    assert wrong.status_code == 422
    assert 'id="starts_from-error"' in text(wrong)


# -- the supplier's answer ------------------------------------------------------------------


def _submitted(app: Flask, partners: Partners) -> int:
    made = Browser(app, partners.buyer).post("/promotions/new", _form(partners, action="submit"))
    assert made.status_code == 302, text(made)
    return int(partners.promotions()[-1]["id"])


def test_the_supplier_accepts_with_a_comment_and_the_history_shows_it(app, partners):
    key = _submitted(app, partners)
    seller = Browser(app, partners.seller)
    listing = text(seller.get("/promotions"))
    assert listing.index('id="awaiting"') < listing.index('id="promotions"')
    detail = text(seller.get(f"/promotions/{key}"))
    assert '<button type="submit" name="status" value="accepted">Accept</button>' in detail
    assert '<label for="answer-comment">' in detail
    assert partners.skus[0]["gtin"] in detail
    answer = seller.post(f"/promotions/{key}/answer", {"status": "accepted", "comment": "Agreed"})
    assert answer.status_code == 302
    (promotion,) = partners.promotions()
    assert promotion["status"] == "accepted"
    history = text(seller.get(f"/promotions/{key}"))
    assert "Agreed" in history
    assert f"{partners.distributor['name']} (distributor)" in history
    assert "You (" in history
    # Answered once: not again.
    again = seller.post(f"/promotions/{key}/answer", {"status": "declined", "comment": "No"})
    assert again.status_code == 409
    assert partners.promotions()[0]["status"] == "accepted"


def test_declining_needs_a_comment(app, partners):
    key = _submitted(app, partners)
    seller = Browser(app, partners.seller)
    bare = seller.post(f"/promotions/{key}/answer", {"status": "declined", "comment": " "})
    assert bare.status_code == 422
    assert 'id="comment-error"' in text(bare)
    assert partners.promotions()[0]["status"] == "submitted"
    done = seller.post(f"/promotions/{key}/answer", {"status": "declined", "comment": "Too deep"})
    assert done.status_code == 302, text(done)
    (promotion,) = partners.promotions()
    assert promotion["status"] == "declined"
    assert [h["status"] for h in promotion["history"]] == ["submitted", "declined"]
    assert "Too deep" in text(Browser(app, partners.buyer).get(f"/promotions/{key}"))


def test_a_supplier_of_another_company_can_neither_see_nor_answer_it(app, partners):
    key = _submitted(app, partners)
    stranger = Browser(app, partners.stranger)
    assert stranger.get(f"/promotions/{key}").status_code == 404
    answer = stranger.post(f"/promotions/{key}/answer", {"status": "accepted", "comment": "x"})
    assert answer.status_code == 404
    assert f'href="/promotions/{key}"' not in text(stranger.get("/promotions"))
    assert partners.promotions()[0]["status"] == "submitted"


def test_a_supplier_never_sees_a_draft(app, partners):
    made = Browser(app, partners.buyer).post("/promotions/new", _form(partners))
    assert made.status_code == 302
    key = partners.promotions()[0]["id"]
    seller = Browser(app, partners.seller)
    assert seller.get(f"/promotions/{key}").status_code == 404
    assert seller.post(f"/promotions/{key}/answer", {"status": "accepted"}).status_code == 404


# -- all or none ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    organization_id: int


def _promotion_at(partners: Partners, stores: list[dict[str, Any]], status: str) -> int:
    """A promotion of the pair at these stores, written by the admin."""
    row = partners.admin.create_item(
        "promotions",
        {
            "name": "Store-wide TPR",
            "type": "tpr",
            "status": status,
            "start_date": day(30).isoformat(),
            "end_date": day(36).isoformat(),
            "partnership": partners.pair,
            "skus": [{"sku": partners.skus[0]["id"], "partnership": partners.pair}],
            "locations": [{"location": s["id"], "partnership": partners.pair} for s in stores],
        },
        fields=["id"],
    )
    return int(row["id"])


_REGION_ROW = re.compile(r'<tr><th scope="row"[^>]*>([^<]+)</th><td class="num">(\d+)</td></tr>')


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_the_supplier_finds_its_answer_first_and_the_locations_counted_by_region(app, partners):
    """A promotion at 14 stores: the form to answer it comes before its long detail, and
    its stores are a table of regions that opens on the full list (closed: it is long)."""
    more = [
        make_store(partners.admin, partners.distributor, f"R{i}", region)
        for i, region in enumerate(["west"] * 6 + ["east"] * 4 + [""] * 2)
    ]
    key = _promotion_at(partners, partners.stores + more, "submitted")
    page = text(Browser(app, partners.buyer).get(f"/promotions/{key}"))
    assert 'id="answer-form"' not in page  # the distributor has nothing to answer
    regions = _section(page, 'id="location-regions"', "</table>")
    assert "14 locations by region" in regions
    assert _REGION_ROW.findall(regions) == [("west", "8"), ("east", "4"), ("No region", "2")]
    listing = _section(page, '<details class="promo-locations" id="location-list">', "</details>")
    assert "<summary>All 14 locations, one by one</summary>" in listing
    for store in partners.stores + more:
        assert f'<th scope="row">{store["code"]}</th>' in listing

    # The supplier, with no agreement yet, is told how many, never where.
    page = text(Browser(app, partners.seller).get(f"/promotions/{key}"))
    assert page.index('id="answer-form"') < page.index('id="terms-heading"')
    assert page.index('id="answer-form"') < page.index('id="promotion-skus"')
    assert "on 1 SKU at 14 locations" in page
    regions = _section(page, 'id="location-regions"', "</table>")
    assert _REGION_ROW.findall(regions) == [("Details not shared with you", "14")]
    assert "R0" not in page
    assert "west" not in regions
    # Shared the east region only: the east stores are named, the others still are not.
    sharing.grant(partners.admin, partners.distributor["id"], partners.supplier["id"], ["pos"],
                  valid_from=day(-30), regions=["east"], via="test")  # fmt: skip
    page = text(Browser(app, partners.seller).get(f"/promotions/{key}"))
    regions = _section(page, 'id="location-regions"', "</table>")
    assert _REGION_ROW.findall(regions) == [("east", "4"), ("Details not shared with you", "10")]
    # Its download names the same four, and of the others not even their ids.
    answer = Browser(app, partners.seller).get(f"/promotions/{key}/locations.xlsx")
    assert answer.status_code == 200
    sheet = list(load_workbook(io.BytesIO(answer.get_data()), read_only=True).active.values)
    answer.close()
    body = [{h: r[i] if i < len(r) else None for i, h in enumerate(sheet[0])} for r in sheet[1:]]
    east = {s["id"] for s in more[6:10]}
    assert {r["Location #"] for r in body if r["Code"]} == east
    assert [r["Location #"] for r in body if not r["Code"]] == [None] * 10
    listing = _section(page, 'id="location-list"', "</details>")
    assert [f'<th scope="row">{s["code"]}</th>' in listing for s in more] == [False] * 6 + [
        True
    ] * 4 + [False] * 2


def test_a_short_location_list_is_open_and_no_location_means_all_stores(app, partners):
    few = _promotion_at(partners, partners.stores, "accepted")
    page = text(Browser(app, partners.seller).get(f"/promotions/{few}"))
    assert '<details class="promo-locations" id="location-list" open>' in page
    assert 'id="answer-form"' not in page  # answered already
    everywhere = _promotion_at(partners, [], "submitted")
    page = text(Browser(app, partners.seller).get(f"/promotions/{everywhere}"))
    assert "at all its stores" in page
    assert 'id="all-stores"' in page
    assert f"every store of {partners.distributor['name']}" in page
    assert 'id="location-regions"' not in page
    assert 'id="location-list"' not in page


def _terms_for(partners: Partners, name: str, sku: dict[str, Any]) -> dict[str, Any]:
    return PromotionCreate(view="distributor_user").load(
        {
            "partnership": partners.pair,
            "name": name,
            "type": "tpr",
            "start_date": day(30).isoformat(),
            "end_date": day(31).isoformat(),
            "status": "submitted",
            "skus": [sku["id"]],
            "locations": [partners.stores[0]["id"]],
        }
    )


def test_a_batch_of_promotions_is_created_all_or_none(hub, partners):
    client = partners.buyer.login(hub.url)
    actor = Actor(partners.buyer.id, "distributor_user", partners.distributor["id"])
    acc = DataAccess(actor, client, via="test")
    res = RESOURCES["promotions"]
    good = _terms_for(partners, "Good", partners.skus[0])
    forged = _terms_for(partners, "Forged", partners.other_sku)  # another supplier's SKU
    with pytest.raises(Forbidden):
        create_promotions(acc, res, [good, forged])
    assert partners.promotions() == []
    # The hub itself: one call is one transaction, so a refusal of the last item undoes
    # the first.
    item = {"name": "Direct", "type": "tpr", "status": "submitted", "partnership": partners.pair,
            "start_date": day(30).isoformat(), "end_date": day(31).isoformat()}  # fmt: skip
    with pytest.raises(HubError):
        client.post(
            "/items/promotions",
            [
                {**item, "skus": [{"sku": partners.skus[0]["id"], "partnership": partners.pair}]},
                {**item, "skus": [{"sku": partners.other_sku["id"], "partnership": partners.pair}]},
            ],
        )
    assert partners.promotions() == []
    ids = create_promotions(acc, res, [good, _terms_for(partners, "Second", partners.skus[1])])
    assert [p["id"] for p in partners.promotions()] == ids
    logged = partners.admin.read_items(
        "audit_log",
        filter={"_and": [{"actor": {"_eq": partners.buyer.id}},
                         {"action": {"_eq": "promotions.create"}}]},
        limit=-1,
    )  # fmt: skip
    assert [entry["record_ids"] for entry in logged] == [[str(i) for i in ids]]
