"""Excel downloads of the remaining tables: API tokens, the operator's agreements,
partners and users, a promotion's SKUs, locations and history, and the sell-through
page's data freshness. Each holds the rows the page shows, writes one audited export,
and refuses a user who may not see the page."""

from __future__ import annotations

import datetime as dt
import io
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from directus import HubClient
from governance import partners, sharing, users
from portal import xlsx as portal_xlsx
from portal.xlsx import XLSX_MIMETYPE
from tests import world as world_module
from tests.factories import Member, csrf_token, make_org, make_user, sign_in
from tests.test_exports import workbook_rows
from tests.world import world_for


@pytest.fixture
def world(hub, admin):
    return world_for(hub, admin)


@pytest.fixture
def operator(admin):
    return make_user(admin, "operator_admin")


class _Tables(HTMLParser):
    """Every ``<table>`` of a page: its id (or the id of the section it is in) and its
    body rows as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._section = ""
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            self._section = found.get("aria-labelledby") or ""
        elif tag == "table":
            self._table = found.get("id") or self._section
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _page_tables(client: FlaskClient, path: str) -> tuple[str, dict[str, list[list[str]]]]:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    parser = _Tables()
    parser.feed(text)
    return text, parser.tables


def _last_audit_id(admin: HubClient) -> int:
    rows = admin.read_items("audit_log", fields=["id"], sort=["-id"], limit=1)
    return int(rows[0]["id"]) if rows else 0


def _exports_since(admin: HubClient, actor: str, since: int) -> list[dict[str, Any]]:
    return admin.read_items(
        "audit_log",
        filter={
            "_and": [
                {"actor": {"_eq": actor}},
                {"action": {"_eq": "export"}},
                {"id": {"_gt": since}},
            ]
        },
        fields=["actor", "collection", "detail", "via"],
        sort=["id"],
        limit=-1,
    )


def _assert_one_export(admin: HubClient, actor: str, since: int, collection: str, n: int):
    entries = _exports_since(admin, actor, since)
    assert len(entries) == 1, entries
    (entry,) = entries
    assert (entry["actor"], entry["collection"], entry["via"]) == (actor, collection, "portal")
    assert entry["detail"]["rows"] == n
    return entry


def _world_member(world, who: str) -> Member:
    person = world.people[who]
    return Member(
        person.id,
        person.email,
        world_module.PASSWORD,
        person.role,
        {"id": person.organization_id},
    )


# -- API tokens ---------------------------------------------------------------------------


def _mint(client: FlaskClient, member: Member, name: str) -> None:
    response = client.post(
        "/account/tokens",
        data={
            "name": name,
            "password": member.password,
            "csrf_token": csrf_token(client, "/account/tokens"),
        },
    )
    assert response.status_code == 201


def test_a_users_tokens_download_as_their_own_rows_and_never_a_secret(admin, portal):
    member = make_user(admin)
    client = sign_in(portal, member)
    _mint(client, member, "nightly")
    _mint(client, member, '=HYPERLINK("http://evil")')
    other = make_user(admin)
    other_client = sign_in(portal, other)
    _mint(other_client, other, "someone else's")

    text, tables = _page_tables(client, "/account/tokens")
    assert 'id="tokens-export"' in text
    since = _last_audit_id(admin)
    rows = workbook_rows(client, "/account/tokens/export.xlsx")

    shown = [row[0] for row in next(iter(tables.values()))]
    assert [r["Name"] for r in rows] == shown
    assert sorted(shown) == sorted(["nightly", '=HYPERLINK("http://evil")'])
    assert {r["Status"] for r in rows} == {"active"}
    assert all(isinstance(r["Created (UTC)"], dt.datetime) for r in rows)
    assert set(rows[0]) == {
        "Name", "Created (UTC)", "Last used (UTC)", "Expires (UTC)", "Status", "Revoked (UTC)",
    }  # fmt: skip
    _assert_one_export(admin, member.id, since, "api_tokens", 2)
    # The other user's download holds only their own token.
    assert [r["Name"] for r in workbook_rows(other_client, "/account/tokens/export.xlsx")] == [
        "someone else's"
    ]


def test_the_tokens_download_needs_a_signed_in_user(portal):
    answer = portal.test_client().get("/account/tokens/export.xlsx")
    assert answer.status_code in (302, 401)
    assert answer.mimetype != XLSX_MIMETYPE


# -- operator -----------------------------------------------------------------------------


def test_an_operator_downloads_the_agreements_the_sharing_page_shows(admin, portal, operator):
    world_for_names = {o["id"]: o["name"] for o in partners.list_partners(admin)}
    client = sign_in(portal, operator)
    text, tables = _page_tables(client, "/operator/sharing")
    assert 'id="agreements-export"' in text
    since = _last_audit_id(admin)
    rows = workbook_rows(client, "/operator/sharing.xlsx")

    shown = [row[:3] for row in tables["agreements"] if len(row) > 1]
    assert [[str(r["#"]), r["Grantor"], r["Grantee"]] for r in rows] == shown
    agreements = sharing.list_agreements(admin)
    assert [r["#"] for r in rows] == [a["id"] for a in agreements]
    for row, agreement in zip(rows, agreements, strict=True):
        assert row["Grantor"] == world_for_names.get(agreement["grantor"], agreement["grantor"])
        assert row["Status"] == agreement["status"]
        assert row["Valid from"].date().isoformat() == agreement["valid_from"][:10]
    _assert_one_export(admin, operator.id, since, "share_agreements", len(rows))


def test_an_operator_downloads_the_partners_and_users_the_people_page_shows(
    admin, portal, operator, world
):
    client = sign_in(portal, operator)
    text, tables = _page_tables(client, "/operator/people")
    assert 'id="partners-export"' in text
    assert 'id="users-export"' in text

    since = _last_audit_id(admin)
    orgs = workbook_rows(client, "/operator/partners.xlsx")
    assert [[str(r["#"]), r["Name"], r["Kind"]] for r in orgs] == [
        row[:3] for row in tables["partners"]
    ]
    assert [r["#"] for r in orgs] == [o["id"] for o in partners.list_partners(admin)]
    _assert_one_export(admin, operator.id, since, "organizations", len(orgs))

    since = _last_audit_id(admin)
    people = workbook_rows(client, "/operator/users.xlsx")
    assert [[r["Email"], r["Role"], r["Organization"] or "", r["Status"]] for r in people] == [
        row[:4] for row in tables["users"]
    ]
    assert [r["Email"] for r in people] == [u["email"] for u in users.list_users(admin)]
    acme = next(r for r in people if r["Email"] == world.people["acme"].email)
    assert acme["Role"] == "supplier_user"
    assert acme["Organization"].startswith("Acme ")
    _assert_one_export(admin, operator.id, since, "directus_users", len(people))


@pytest.mark.parametrize(
    "path", ["/operator/sharing.xlsx", "/operator/partners.xlsx", "/operator/users.xlsx"]
)
@pytest.mark.parametrize("who", ["acme", "north", "manager"])
def test_no_partner_may_download_the_operators_tables(portal, world, who, path):
    client = sign_in(portal, _world_member(world, who))
    since = world.last_audit_id()
    answer = client.get(path)
    assert answer.status_code == 403
    assert answer.mimetype != XLSX_MIMETYPE
    assert world.audit_entries(who, "export", since) == []


# -- a promotion's tables -----------------------------------------------------------------

TABLES = {"skus": "promotion-skus", "locations": "promotion-locations", "history": "history"}


@pytest.mark.parametrize("who", ["acme", "north", "manager"])
def test_a_promotions_tables_download_as_the_page_shows_them(admin, portal, world, who):
    promo = world.records["promo_submitted"]
    client = sign_in(portal, _world_member(world, who))
    text, tables = _page_tables(client, f"/promotions/{promo}")
    for table, table_id in TABLES.items():
        assert f'id="{table}-export"' in text
        since = world.last_audit_id()
        rows = workbook_rows(client, f"/promotions/{promo}/{table}.xlsx")
        shown = tables[table_id]
        assert len(rows) == len(shown) >= 1
        entry = _assert_one_export(admin, world.people[who].id, since, "promotions", len(rows))
        assert entry["detail"]["promotion"] == promo
        assert entry["detail"]["table"] == table
        if table == "skus":
            sku = world.skus["oats"]
            assert [r["SKU #"] for r in rows] == [sku]
            assert [r["GTIN"] or "A SKU" for r in rows] == [s[0] for s in shown]
        elif table == "locations":
            assert [r["Location #"] for r in rows] == [world.stores["north-east"]]
            assert [r["Code"] or "A location" for r in rows] == [s[0] for s in shown]
        else:
            assert [(r["Status"], r["Who"]) for r in rows] == [(s[1], s[2]) for s in shown]
            assert all(isinstance(r["When (UTC)"], dt.datetime) for r in rows)


@pytest.mark.parametrize(
    ("who", "promo"),
    [
        ("brava", "promo_submitted"),  # another supplier's promotion
        ("south", "promo_submitted"),  # another distributor's promotion
        ("acme", "promo_draft"),  # a draft the supplier is not shown
        ("north", "promo_south"),  # a pair the distributor is not a side of
    ],
)
@pytest.mark.parametrize("table", list(TABLES))
def test_a_promotion_the_user_may_not_see_downloads_nothing(portal, world, who, promo, table):
    client = sign_in(portal, _world_member(world, who))
    since = world.last_audit_id()
    answer = client.get(f"/promotions/{world.records[promo]}/{table}.xlsx")
    assert answer.status_code == 404
    assert answer.mimetype != XLSX_MIMETYPE
    assert world.audit_entries(who, "export", since) == []


def test_only_the_three_tables_of_a_promotionworkbook_rows(portal, world):
    client = sign_in(portal, _world_member(world, "acme"))
    answer = client.get(f"/promotions/{world.records['promo_submitted']}/terms.xlsx")
    assert answer.status_code == 404


# -- data freshness -----------------------------------------------------------------------


@pytest.mark.parametrize("distributor", [None, "north"])
def test_the_data_freshness_table_downloads_as_the_sell_through_page_shows_it(
    admin, portal, world, distributor
):
    query = f"?distributor={world.orgs[distributor]}" if distributor else ""
    client = sign_in(portal, _world_member(world, "acme"))
    text, tables = _page_tables(client, f"/sell-through{query}")
    assert 'id="freshness-export"' in text
    since = world.last_audit_id()
    rows = workbook_rows(client, f"/sell-through/freshness.xlsx{query}")

    shown = tables["freshness-h"]
    assert [(r["Distributor"], r["Data"], r["Status"]) for r in rows] == [
        (s[0], s[1], s[4]) for s in shown
    ]
    assert [r["Data through"].date().isoformat() for r in rows] == [s[2] for s in shown]
    names = {f"North {world.tag}", f"South {world.tag}"}
    expected = {f"North {world.tag}"} if distributor else names
    assert {r["Distributor"] for r in rows} == expected
    assert {r["Data"] for r in rows} == {"pos", "inventory"}
    _assert_one_export(admin, world.people["acme"].id, since, "feeds", len(rows))


def test_a_distributor_downloads_the_freshness_of_its_own_feeds_only(admin, portal, world):
    client = sign_in(portal, _world_member(world, "north"))
    since = world.last_audit_id()
    rows = workbook_rows(client, "/sell-through/freshness.xlsx")
    assert {r["Distributor"] for r in rows} == {f"North {world.tag}"}  # never south's
    assert {r["Data"] for r in rows} == {"pos", "inventory"}
    _assert_one_export(admin, world.people["north"].id, since, "feeds", len(rows))


def test_a_manager_downloads_the_freshness_of_its_pairs_distributor_only(admin, portal, world):
    client = sign_in(portal, _world_member(world, "manager"))
    since = world.last_audit_id()
    rows = workbook_rows(client, "/sell-through/freshness.xlsx")
    assert {r["Distributor"] for r in rows} == {f"North {world.tag}"}  # acme-north's
    _assert_one_export(admin, world.people["manager"].id, since, "feeds", len(rows))


# -- every download: streamed, and past a sheet's rows on the next sheet -------------------


def test_every_download_goes_on_in_a_next_sheet_past_a_sheets_rows(
    admin, portal, operator, monkeypatch
):
    """The rule is xlsx_response's, so the operator's tables follow it too (Excel's
    1,048,576 rows a sheet, header included, injected here as 3)."""
    monkeypatch.setattr(portal_xlsx, "EXCEL_MAX_ROWS", 3)
    for _ in range(4):
        make_org(admin)
    client = sign_in(portal, operator)
    since = _last_audit_id(admin)
    answer = client.get("/operator/partners.xlsx")
    assert answer.status_code == 200
    assert answer.is_streamed
    book = load_workbook(io.BytesIO(answer.get_data()))
    answer.close()
    expected = [o["id"] for o in partners.list_partners(admin)]
    assert len(expected) > 4
    sheets = -(-len(expected) // 2)
    assert book.sheetnames == ["Partners", *(f"Partners ({n})" for n in range(2, sheets + 1))]
    ids = []
    for sheet in book.worksheets:
        header, *rows = list(sheet.iter_rows(values_only=True))
        assert header == ("#", "Name", "Kind", "GLN", "Status")
        assert 1 <= len(rows) <= 2
        ids += [r[0] for r in rows]
    assert ids == expected
    _assert_one_export(admin, operator.id, since, "organizations", len(expected))
