"""The bulk writer: rows written straight into the hub's SQLite file are rows like any other.

Directus stores a ``date`` on SQLite as epoch milliseconds; a row written with any other
representation reads back fine but compares wrongly in filters, so these tests compare
the raw column with what Directus itself writes, and filter on it through the API.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from directus import ForbiddenOrMissing
from directus.bulk import ForeignRow, LaneError, open_lane, storage_value, write_rows
from governance.sharing import grant
from tests.factories import make_pair, make_sku, make_store, make_user
from tests.helpers import race_imports

DAY = dt.date(2026, 3, 4)


@pytest.fixture
def pos_world(admin):
    """A new supplier and distributor, one SKU and one store, and a row builder."""
    supplier, distributor, _pair = make_pair(admin)
    sku = make_sku(admin, supplier)
    store = make_store(admin, distributor, "S1")

    def row(day: dt.date, units: int = 3) -> tuple:
        return (distributor["id"], store["id"], sku["id"], day, units, units * 199, "USD")

    return supplier, distributor, row


def _key(row: tuple) -> str:
    return f"{row[0]}:{row[1]}:{row[2]}:{row[3].isoformat()}"


def _write(hub, rows: list[tuple]):
    with open_lane(hub.lane_url) as lane:
        return write_rows(lane, "pos", rows)


def _raw_days(db_path, ids, table: str = "pos_sales", column: str = "day") -> dict:
    conn = sqlite3.connect(db_path)
    try:
        marks = ",".join("?" for _ in ids)
        query = f"SELECT id, {column}, typeof({column}) FROM {table} WHERE id IN ({marks})"  # noqa: S608
        return {row[0]: row[1:] for row in conn.execute(query, list(ids))}
    finally:
        conn.close()


@pytest.mark.sqlite_only("Directus's SQLite storage of dates (epoch milliseconds)")
def test_bulk_dates_are_stored_exactly_as_directus_stores_them(hub, admin, pos_world):
    _supplier, _distributor, row = pos_world
    through_api, straight = row(DAY), row(DAY + dt.timedelta(days=1))
    # Directus's own write of a date, as reference: a forecast's week (POS and inventory
    # rows have one writer, the lane)
    d, loc, sku, _day, units, _money, _currency = through_api
    api_row = {"week_start": DAY.isoformat(), "forecast_units": units,
               "distributor": d, "location": loc, "sku": sku}  # fmt: skip
    admin.create_item("forecasts", api_row)
    _write(hub, [straight])

    reference = _raw_days(hub.db_path, [_key(through_api)], "forecasts", "week_start")
    assert reference[_key(through_api)] == (storage_value(DAY), "integer")
    raw = _raw_days(hub.db_path, [_key(straight)])
    assert raw[_key(straight)] == (storage_value(DAY) + 86_400_000, "integer")
    read = admin.read_item("pos_sales", _key(straight), fields=["day", "units"])
    assert read == {"day": "2026-03-05", "units": 3}


def test_bulk_rows_compare_right_in_filters_at_once(hub, admin, pos_world):
    _supplier, distributor, row = pos_world
    rows = [row(DAY + dt.timedelta(days=i)) for i in range(-2, 3)]
    _write(hub, rows)

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
    _write(hub, [row(DAY + dt.timedelta(days=i)) for i in (-1, 0, 1)])

    seen = member.login(hub.url).read_items("pos_sales", fields=["day"], sort=["day"], limit=-1)
    assert [r["day"] for r in seen] == ["2026-03-04", "2026-03-05"]


def test_writing_the_same_rows_again_updates_them_in_place(hub, admin, pos_world):
    _supplier, distributor, row = pos_world
    mine = {"distributor": {"_eq": distributor["id"]}}
    _write(hub, [row(DAY, 3), row(DAY + dt.timedelta(days=1), 4)])
    merged = _write(hub, [row(DAY, 7), row(DAY + dt.timedelta(days=1), 4)])
    assert (merged.new, merged.changed, merged.unchanged) == (0, 1, 1)

    found = admin.read_items("pos_sales", filter=mine, fields=["day", "units"], sort=["day"])
    assert found == [{"day": "2026-03-04", "units": 7}, {"day": "2026-03-05", "units": 4}]


@pytest.mark.parametrize("collection", ["pos_sales", "pos_week_location", "pos_week_distributor"])
def test_pos_rows_and_rollups_refuse_every_write_through_the_hub(hub, admin, pos_world, collection):
    """The lane is their one writer (it keeps the rollups exact): not even an admin writes
    them through Directus, so the rollups can never miss a row."""
    _supplier, distributor, row = pos_world
    merged = _write(hub, [row(DAY)])
    assert merged.new == 1
    key = {"pos_sales": _key(row(DAY))}.get(collection) or admin.read_items(
        collection, filter={"distributor": {"_eq": distributor["id"]}}, fields=["id"]
    )[0]["id"]
    with pytest.raises(ForbiddenOrMissing, match="written only by the bulk lane"):
        admin.update_item(collection, key, {"units": 99})
    with pytest.raises(ForbiddenOrMissing, match="written only by the bulk lane"):
        admin.delete_items(collection, [key])
    with pytest.raises(ForbiddenOrMissing, match="written only by the bulk lane"):
        admin.request(
            "POST",
            f"/utils/import/{collection}",
            files={"file": ("rows.json", '[{"id": "x"}]', "application/json")},
        )
    assert int(admin.read_item(collection, key, fields=["units"])["units"]) == 3


@pytest.mark.sqlite_only("plants a row in SQLite's storage format")
def test_the_lane_never_fills_a_row_another_distributor_owns(hub, admin, pos_world):
    """A row stored under this distributor's key but owned by another (planted before
    the hub made keys itself) stops the import: nothing lands, the row is untouched."""
    _supplier, distributor, row = pos_world
    _other_supplier, other, _pair = make_pair(admin)
    d, loc, sku, _day, *_ = row(DAY)
    planted = _key(row(DAY))
    conn = sqlite3.connect(hub.db_path)
    try:
        with conn:
            conn.execute(
                "INSERT INTO inventory_positions (id, distributor, location, sku, day, on_hand,"
                " in_transit, on_order) VALUES (?, ?, ?, ?, ?, 1, 0, 0)",
                (planted, other["id"], loc, sku, storage_value(DAY)),
            )
    finally:
        conn.close()
    later = DAY + dt.timedelta(days=1)
    with (
        open_lane(hub.lane_url) as lane,
        pytest.raises(ForeignRow, match=f"row {planted} is stored for another distributor"),
    ):
        write_rows(lane, "inventory", [(d, loc, sku, later, 5, 0, 0), (d, loc, sku, DAY, 7, 0, 0)])
    stored = _raw_days(hub.db_path, [planted, _key(row(later))], "inventory_positions", "on_hand")
    assert stored == {planted: (1, "integer")}
    assert distributor["id"] != other["id"]


def test_two_imports_of_the_same_rows_at_once_count_and_sum_them_once(hub, admin, pos_world):
    """Merges wait for each other (SQLite's one writer): the second classes the rows
    against what the first committed, so they are new once and in the rollups once."""
    _supplier, distributor, row = pos_world
    rows = [row(DAY + dt.timedelta(days=i), units=i + 1) for i in range(10)]
    merged = race_imports(hub.lane_url, "pos", rows)
    assert sorted(m.new for m in merged) == [0, 10]
    mine = {"distributor": {"_eq": distributor["id"]}}
    weeks = admin.read_items("pos_week_distributor", filter=mine, fields=["units"], limit=-1)
    assert sum(int(w["units"]) for w in weeks) == sum(r[4] for r in rows) == 55


def test_the_lane_refuses_what_it_cannot_use(hub, tmp_path):
    with pytest.raises(LaneError, match="no hub database"):
        open_lane(f"sqlite:///{tmp_path / 'missing.db'}")
    with pytest.raises(LaneError, match="not a sqlite"):
        open_lane("mysql://somewhere/db")
    with open_lane(hub.lane_url) as lane, pytest.raises(ValueError, match="kind"):
        lane.stage("promotions", [])


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
