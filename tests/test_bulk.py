"""The bulk writer: rows written straight into the hub's SQLite file are rows like any other.

Directus stores a ``date`` on SQLite as epoch milliseconds; a row written with any other
representation reads back fine but compares wrongly in filters, so these tests compare
the raw column with what Directus itself writes, and filter on it through the API.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3

import pytest

from directus.bulk import import_rows, storage_value, write_rows
from domain.gs1 import with_check_digit
from governance.sharing import grant
from tests.factories import make_pair, make_user, unique

COLUMNS = ("id", "day", "units", "net_sales_minor", "currency", "distributor", "location", "sku")
DAY = dt.date(2026, 3, 4)


@pytest.fixture
def pos_world(admin):
    """A new supplier and distributor, one SKU and one store, and a row builder."""
    supplier, distributor, _pair = make_pair(admin)
    sku = admin.create_item(
        "skus",
        {
            "gtin": with_check_digit("9" + f"{secrets.randbelow(10**12):012d}"),
            "description": "Bulk test item",
            "cost_minor": 100,
            "list_price_minor": 199,
            "currency": "USD",
            "supplier": supplier["id"],
        },
    )
    store = admin.create_item(
        "locations",
        {
            "ref": unique(f"{distributor['id']}:S"),
            "code": "S1",
            "name": "Store",
            "kind": "store",
            "region": "west",
            "distributor": distributor["id"],
        },
    )

    def row(day: dt.date, units: int = 3) -> tuple:
        key = f"{distributor['id']}:{store['id']}:{sku['id']}:{day.isoformat()}"
        return (key, day, units, units * 199, "USD", distributor["id"], store["id"], sku["id"])

    return supplier, distributor, row


def _raw_days(db_path, ids) -> dict:
    conn = sqlite3.connect(db_path)
    try:
        marks = ",".join("?" for _ in ids)
        query = f"SELECT id, day, typeof(day) FROM pos_sales WHERE id IN ({marks})"  # noqa: S608
        return {row[0]: row[1:] for row in conn.execute(query, list(ids))}
    finally:
        conn.close()


def test_bulk_dates_are_stored_exactly_as_directus_stores_them(hub, admin, pos_world):
    _supplier, _distributor, row = pos_world
    through_api, straight = row(DAY), row(DAY + dt.timedelta(days=1))
    admin.create_item(
        "pos_sales", {**dict(zip(COLUMNS, through_api, strict=True)), "day": DAY.isoformat()}
    )
    write_rows(hub.db_path, "pos_sales", COLUMNS, [straight])

    raw = _raw_days(hub.db_path, [through_api[0], straight[0]])
    assert raw[through_api[0]] == (storage_value(DAY), "integer")
    assert raw[straight[0]] == (storage_value(DAY) + 86_400_000, "integer")
    read = admin.read_item("pos_sales", straight[0], fields=["day", "units"])
    assert read == {"day": "2026-03-05", "units": 3}


def test_bulk_rows_compare_right_in_filters_at_once(hub, admin, pos_world):
    _supplier, distributor, row = pos_world
    rows = [row(DAY + dt.timedelta(days=i)) for i in range(-2, 3)]
    write_rows(hub.db_path, "pos_sales", COLUMNS, rows)

    def days(filter_: dict) -> list[str]:
        mine = {"distributor": {"_eq": distributor["id"]}}
        found = admin.read_items(
            "pos_sales", filter={"_and": [mine, filter_]}, fields=["day"], sort=["day"], limit=-1
        )
        return [r["day"] for r in found]

    assert days({"day": {"_gte": "2026-03-04"}}) == ["2026-03-04", "2026-03-05", "2026-03-06"]
    assert days({"day": {"_lte": "2026-03-04"}}) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert days({"day": {"_eq": "2026-03-04"}}) == ["2026-03-04"]
    assert days({"day": {"_between": ["2026-03-03", "2026-03-05"]}}) == [
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
    ]


def test_bulk_rows_follow_the_share_policy(hub, admin, pos_world):
    """A supplier sees the bulk-written rows its agreement covers, from its start day."""
    supplier, distributor, row = pos_world
    grant(admin, distributor["id"], supplier["id"], ["pos"], valid_from=DAY, via="test")
    member = make_user(admin, "supplier_user", supplier)
    write_rows(
        hub.db_path, "pos_sales", COLUMNS, [row(DAY + dt.timedelta(days=i)) for i in (-1, 0, 1)]
    )

    seen = member.login(hub.url).read_items("pos_sales", fields=["day"], sort=["day"], limit=-1)
    assert [r["day"] for r in seen] == ["2026-03-04", "2026-03-05"]


def test_writing_the_same_rows_again_updates_them_in_place(hub, admin, pos_world):
    _supplier, distributor, row = pos_world
    mine = {"distributor": {"_eq": distributor["id"]}}
    write_rows(hub.db_path, "pos_sales", COLUMNS, [row(DAY, 3), row(DAY + dt.timedelta(days=1), 4)])
    assert write_rows(hub.db_path, "pos_sales", COLUMNS, [row(DAY, 7)], batch=1) == 1

    found = admin.read_items("pos_sales", filter=mine, fields=["day", "units"], sort=["day"])
    assert found == [{"day": "2026-03-04", "units": 7}, {"day": "2026-03-05", "units": 4}]


def test_the_import_lane_upserts_with_the_same_storage(hub, admin, pos_world):
    """The REST lane (remote hubs) gives the very rows the SQLite lane gives."""
    _supplier, distributor, row = pos_world
    rows = [row(DAY), row(DAY + dt.timedelta(days=1))]
    assert import_rows(admin, "pos_sales", COLUMNS, rows) == 2
    assert import_rows(admin, "pos_sales", COLUMNS, [row(DAY, 9)]) == 1

    mine = {"distributor": {"_eq": distributor["id"]}}
    found = admin.read_items("pos_sales", filter=mine, fields=["day", "units"], sort=["day"])
    assert found == [{"day": "2026-03-04", "units": 9}, {"day": "2026-03-05", "units": 3}]
    assert _raw_days(hub.db_path, [rows[0][0]])[rows[0][0]] == (storage_value(DAY), "integer")


def test_only_plain_names_reach_the_sql(hub):
    with pytest.raises(ValueError, match="plain collection or field name"):
        write_rows(hub.db_path, 'pos_sales"; DROP TABLE skus; --', COLUMNS, [])
    with pytest.raises(ValueError, match="primary key"):
        write_rows(hub.db_path, "pos_sales", ("day",), [])


def test_hub_dates_compare_right_whatever_the_operators_time_zone(start_migrated_hub, monkeypatch):
    """Directus parses a stored date in local time but a filter date in UTC: the hub runs in UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    running = start_migrated_hub()
    admin = running.admin()
    supplier, distributor, _pair = make_pair(admin)
    agreement = admin.create_item(
        "share_agreements",
        {
            "grantor": distributor["id"],
            "grantee": supplier["id"],
            "kinds": ["pos"],
            "valid_from": "2026-03-04",
        },
    )
    same_day = {"_and": [{"id": {"_eq": agreement["id"]}}, {"valid_from": {"_lte": "2026-03-04"}}]}
    assert admin.read_items("share_agreements", filter=same_day, fields=["id"]) == [
        {"id": agreement["id"]}
    ]
