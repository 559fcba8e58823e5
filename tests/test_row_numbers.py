"""Row numbers (``seq``): POS, inventory and forecast rows page by a number the hub gives.

Their keys are text, which Directus 11.17.4 does not compare, so their exports paged by
offset: each page re-read every row before it, and a row stored meanwhile under a key
that sorts before the cursor made the row at the page's edge come twice. Each row now
gets a unique number when first stored (the lane for POS and inventory, the integrity
extension for forecasts), never changed and never chosen by a caller
(``migrations/0009_row_numbers.py``); lists break ties on it and exports page by it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import pytest

from directus import ForbiddenOrMissing, HubClient, HubError
from directus.bulk import open_lane, write_rows
from tests.factories import governed_access, make_pair, make_sku, make_store, make_user

DAY = dt.date(2026, 3, 4)


@pytest.fixture
def pos(admin):
    """A new pair, two SKUs and two stores of the distributor, and a row builder."""
    supplier, distributor, _pair = make_pair(admin)
    skus = [make_sku(admin, supplier, distributor, f"A{n}") for n in (1, 2)]
    stores = [make_store(admin, distributor, f"S{n}") for n in (1, 2)]

    def row(day: dt.date, store: int = 0, sku: int = 0, units: int = 3) -> tuple:
        return (distributor["id"], stores[store]["id"], skus[sku]["id"], day, units,
                units * 199, "USD")  # fmt: skip

    return distributor, stores, skus, row


def _write(hub, rows: list[tuple], kind: str = "pos"):
    with open_lane(f"sqlite:///{hub.db_path}") as lane:
        return write_rows(lane, kind, rows)


def _key(row: tuple) -> str:
    return f"{row[0]}:{row[1]}:{row[2]}:{row[3].isoformat()}"


def _numbers(admin, collection: str, ids: list[str]) -> dict[str, int]:
    got = admin.read_items(collection, filter={"id": {"_in": ids}}, fields=["id", "seq"], limit=-1)
    return {r["id"]: int(r["seq"]) for r in got}


def test_the_lane_numbers_new_rows_once_and_a_restatement_keeps_its_number(hub, admin, pos):
    _distributor, _stores, _skus, row = pos
    first = [row(DAY + dt.timedelta(days=n)) for n in range(3)]
    _write(hub, first)
    numbers = _numbers(admin, "pos_sales", [_key(r) for r in first])
    assert len(set(numbers.values())) == 3

    restated = row(DAY, units=9)
    later = [row(DAY + dt.timedelta(days=n), store=1) for n in range(2)]
    merged = _write(hub, [restated, *later, *first[1:]])
    assert (merged.new, merged.changed, merged.unchanged) == (2, 1, 2)
    again = _numbers(admin, "pos_sales", [_key(r) for r in [*first, *later]])
    assert {k: again[k] for k in numbers} == numbers  # restated and unchanged keep theirs
    assert min(again[_key(r)] for r in later) > max(numbers.values())
    assert len(set(again.values())) == 5


def test_inventory_rows_are_numbered_too(hub, admin, pos):
    distributor, stores, skus, _row = pos
    rows = [(distributor["id"], stores[s]["id"], skus[0]["id"], DAY, 10 + s, 0, 0) for s in (0, 1)]
    _write(hub, rows, "inventory")
    numbers = _numbers(admin, "inventory_positions", [_key(r) for r in rows])
    assert len(set(numbers.values())) == 2


def test_a_row_stored_during_an_export_makes_no_other_row_come_twice(hub, admin, pos):
    """Fails on offset paging by the text id: rows stored meanwhile under keys before the
    cursor pushed the rows at the page's edge into the next page, which read them again."""
    distributor, _stores, _skus, row = pos
    stored = [row(DAY + dt.timedelta(days=n), store=1, sku=1) for n in range(10)]
    _write(hub, stored)
    acc = governed_access(hub, make_user(admin, "distributor_user", distributor))
    for n, sort in enumerate((None, "day", "-day")):
        rows = acc.iter_rows("pos-sales", {"sort": sort} if sort else {}, page_size=4)
        seen = [next(rows)["id"] for _ in range(4)]  # the first page
        # Keys of store 0 and SKU 0 sort before every stored one.
        _write(hub, [row(DAY - dt.timedelta(days=10 * n + d), store=0) for d in range(1, 4)])
        seen += [r["id"] for r in rows]
        assert len(seen) == len(set(seen)), sort
        assert {_key(r) for r in stored} <= set(seen), sort


def test_an_export_of_pos_pages_by_number_not_by_offset(hub, admin, pos, monkeypatch):
    distributor, _stores, _skus, row = pos
    _write(hub, [row(DAY + dt.timedelta(days=n)) for n in range(9)])
    acc = governed_access(hub, make_user(admin, "distributor_user", distributor))
    asked: list[dict[str, Any]] = []
    get = acc.hub.get

    def spy(path: str, **query: Any) -> Any:
        asked.append(query)
        return get(path, **query)

    monkeypatch.setattr(acc.hub, "get", spy)
    listed = acc.list("pos-sales", {"per_page": 100}).rows
    asked.clear()
    exported = [r["id"] for r in acc.iter_rows("pos-sales", {}, page_size=4)]
    assert exported == [r["id"] for r in listed]  # the list's order
    pages = [q for q in asked if "aggregate" not in q]
    assert pages
    for q in pages:  # ranges of the row number, never an offset
        assert q.get("offset") is None
        assert q["sort"] == ["seq"]
        assert "'seq': {'_gt'" in str(q["filter"])


def test_a_forecast_created_through_rest_gets_the_next_number(hub, admin, pos):
    distributor, stores, skus, _row = pos
    user = make_user(admin, "distributor_user", distributor)
    own = HubClient.login(hub.url, user.email, user.password)
    base = {"location": stores[0]["id"], "sku": skus[0]["id"], "forecast_units": 5}
    made = [
        own.create_item("forecasts", {**base, "week_start": w}, fields=["id", "seq"])
        for w in ("2026-03-02", "2026-03-09")
    ]
    assert int(made[1]["seq"]) > int(made[0]["seq"])
    # Negative controls: a number the caller names, and changing one, are refused.
    with pytest.raises(ForbiddenOrMissing):
        own.create_item("forecasts", {**base, "week_start": "2026-03-16", "seq": 10**9})
    with pytest.raises(ForbiddenOrMissing):
        admin.create_item("forecasts", {**base, "distributor": distributor["id"],
                                        "week_start": "2026-03-23", "seq": 10**9})  # fmt: skip
    for client in (own, admin):
        with pytest.raises(HubError) as refused:
            client.update_item("forecasts", made[0]["id"], {"seq": 1})
        assert refused.value.status in (400, 403)
    assert int(admin.read_item("forecasts", made[0]["id"], fields=["seq"])["seq"]) == int(
        made[0]["seq"]
    )


def test_rows_stored_before_the_migration_are_numbered_by_it(hub, admin, pos):
    """Migration 0009 numbers rows that have none, through the extension's endpoint,
    above every number given; only the hub's admins may call it."""
    distributor, _stores, _skus, row = pos
    rows = [row(DAY + dt.timedelta(days=n), sku=1) for n in range(3)]
    _write(hub, rows)
    keys = [_key(r) for r in rows]
    conn = sqlite3.connect(hub.db_path)
    with conn:
        conn.execute(
            f"UPDATE pos_sales SET seq = NULL WHERE id IN ({','.join('?' * len(keys))})",  # noqa: S608
            keys,
        )
    conn.close()
    top = max(int(r["seq"]) for r in admin.read_items("pos_sales", fields=["seq"], sort=["-seq"],
                                                       limit=1))  # fmt: skip
    user = make_user(admin, "distributor_user", distributor)
    partner = HubClient.login(hub.url, user.email, user.password)
    with pytest.raises(ForbiddenOrMissing):
        partner.post("/tandem/number-rows", {"collection": "pos_sales"})
    assert admin.post("/tandem/number-rows", {"collection": "pos_sales"})["numbered"] == 3
    numbers = _numbers(admin, "pos_sales", keys)
    assert len(set(numbers.values())) == 3
    assert min(numbers.values()) > top
    assert admin.post("/tandem/number-rows", {"collection": "pos_sales"})["numbered"] == 0
    with pytest.raises(HubError):
        admin.post("/tandem/number-rows", {"collection": "skus"})
