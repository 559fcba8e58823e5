"""Walking POS rows by their natural key (``HubClient.iter_in_order``), on SQLite and on
PostgreSQL: every row once, in order, ascending, descending or mixed, in pages no larger
than asked and with no offset, also when one day (or one store's day) fills a page, and
whatever is written or deleted meanwhile. Exports of POS, inventory and forecasts walk
this way (tests/test_exports.py compares them with the API's list)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from directus import HubClient
from directus.bulk import open_lane, write_rows
from directus.errors import HubError
from tests import test_bulk_postgres
from tests.factories import make_pair, make_sku, make_store

pg = test_bulk_postgres.pg
pg_hub = test_bulk_postgres.pg_hub

ORDER = ("day", "location", "sku", "distributor")
FIELDS = ["id", "day", "location", "sku", "distributor", "units"]
# Days with gaps (a week and a month), across a year's end.
DAYS = [dt.date(2025, 12, 30), dt.date(2025, 12, 31), dt.date(2026, 1, 1),
        dt.date(2026, 1, 8), dt.date(2026, 2, 9)]  # fmt: skip


@dataclass
class Rows:
    """One distributor's POS rows on one hub, and how to write and delete more."""

    admin: HubClient
    lane_url: str
    distributor: int
    stores: list[int]
    skus: list[int]

    @property
    def only_ours(self) -> dict[str, Any]:
        return {"distributor": {"_eq": self.distributor}}

    def write(self, days: list[dt.date], stores: list[int], skus: list[int]) -> None:
        with open_lane(self.lane_url) as lane:
            write_rows(
                lane,
                "pos",
                [(self.distributor, store, sku, day, 1 + n % 7, 100 * n, "USD")
                 for n, (day, store, sku) in enumerate(
                     (d, st, sk) for d in days for st in stores for sk in skus)],
            )  # fmt: skip

    def delete(self, key: str) -> None:
        with open_lane(self.lane_url) as lane, lane.transaction():
            lane.execute("DELETE FROM pos_sales WHERE id = ?", (key,))

    def stored(self) -> list[dict[str, Any]]:
        return self.admin.read_items(
            "pos_sales", filter=self.only_ours, fields=FIELDS, limit=-1, sort=["id"]
        )


def _world(admin: HubClient, lane_url: str) -> Rows:
    supplier, distributor, _pair = make_pair(admin)
    stores = [make_store(admin, distributor, f"S{n}")["id"] for n in range(4)]
    skus = [make_sku(admin, supplier, distributor)["id"] for _ in range(3)]
    rows = Rows(admin, lane_url, distributor["id"], stores, skus)
    rows.write(DAYS, stores, skus)  # 5 days x 4 stores x 3 SKUs: 60 rows
    return rows


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def on(request: pytest.FixtureRequest) -> Any:
    """A hub of either database: its admin client and its lane's URL."""
    if request.param == "sqlite":
        hub = request.getfixturevalue("hub")
        return request.getfixturevalue("admin"), hub.lane_url
    running = request.getfixturevalue("pg_hub")
    return running.admin(), running.lane_url


@pytest.fixture
def world(on: Any) -> Rows:
    return _world(*on)


def _sorted(rows: list[dict[str, Any]], order: tuple[str, ...]) -> list[dict[str, Any]]:
    out = list(rows)
    for spec in reversed(order):  # stable sorts, the last field first
        name = spec.lstrip("-")
        out.sort(key=lambda row, name=name: _comparable(row[name]), reverse=spec[0] == "-")
    return out


def _comparable(value: Any) -> Any:
    return int(value) if str(value).isdigit() else str(value)[:10]


@dataclass
class Spy:
    """The hub requests a walk made."""

    calls: list[tuple[str, dict[str, Any], int]]

    @property
    def pages(self) -> list[tuple[dict[str, Any], int]]:
        return [(q, n) for path, q, n in self.calls if "aggregate" not in q]


def _spied(admin: HubClient, monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy([])
    real = admin.get

    def get(path: str, **query: Any) -> Any:
        answer = real(path, **query)
        spy.calls.append((path, query, len(answer) if isinstance(answer, list) else 0))
        return answer

    monkeypatch.setattr(admin, "get", get)
    return spy


ORDERS = [
    ORDER,
    ("-day", "-location", "-sku", "-distributor"),
    ("-day", "location", "sku", "distributor"),  # a list's `-day`: ties ascending
    ("location", "-day", "sku", "distributor"),
]


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ",".join(o))
@pytest.mark.parametrize("sizes", [(1, 2), (2, 5), (3, 8), (1000, 50_000)])
def test_rows_come_in_order_each_once_in_bounded_pages_with_no_offset(
    world, monkeypatch, order, sizes
):
    expected = _sorted(world.stored(), order)
    assert len(expected) == 60
    spy = _spied(world.admin, monkeypatch)
    walk = world.admin.iter_in_order(
        "pos_sales", order, page_size=sizes[0], max_page_size=sizes[1],
        filter=world.only_ours, fields=FIELDS,
    )  # fmt: skip
    walked = list(walk)
    assert [row["id"] for row in walked] == [row["id"] for row in expected]
    assert spy.pages
    for query, held in spy.pages:
        assert "offset" not in query
        assert "page" not in query
        assert query["limit"] <= sizes[1]
        assert held <= sizes[1]


def test_a_day_that_fills_pages_is_read_on_by_store_then_by_sku(world, monkeypatch):
    """A page of one row: each day's 12 rows, each store's 3, are read on by the next
    field, from the page's last value; one value of the key's last field per page."""
    spy = _spied(world.admin, monkeypatch)
    walk = world.admin.iter_in_order(
        "pos_sales", ORDER, page_size=1, max_page_size=2, filter=world.only_ours, fields=FIELDS
    )
    walked = list(walk)
    assert [r["id"] for r in walked] == [r["id"] for r in _sorted(world.stored(), ORDER)]
    asked = [json.dumps(query["filter"]) for query, _held in spy.pages]
    assert any('"day": {"_eq"' in q and '"location": {"_gte"' in q for q in asked)
    assert any('"location": {"_eq"' in q and '"sku": {"_gte"' in q for q in asked)
    # Never the whole collection again: at most a few reads per row.
    assert len(spy.calls) <= 6 * len(walked)


def test_rows_written_or_deleted_during_a_walk_never_make_another_repeat_or_go_missing(world):
    before = _sorted(world.stored(), ORDER)
    walk = world.admin.iter_in_order(
        "pos_sales", ORDER, page_size=2, max_page_size=4, filter=world.only_ours, fields=FIELDS
    )
    seen = [next(walk)["id"] for _ in range(10)]
    gone = before[40]["id"]
    world.delete(gone)
    later_store = make_store(world.admin, {"id": world.distributor}, "S-late")["id"]
    world.write([DAYS[3]], [later_store], world.skus[:1])  # within the walk, ahead of it
    world.write([DAYS[0]], [later_store], world.skus[1:2])  # behind it: not read
    seen += [row["id"] for row in walk]
    assert len(seen) == len(set(seen))
    assert gone not in seen
    kept = [row["id"] for row in before if row["id"] != gone]
    assert [key for key in seen if key in set(kept)] == kept
    added = [key for key in seen if key not in set(kept)]
    assert added == [f"{world.distributor}:{later_store}:{world.skus[0]}:{DAYS[3].isoformat()}"]


def test_a_walk_of_nothing_reads_nothing_more_than_its_bounds(world, monkeypatch):
    spy = _spied(world.admin, monkeypatch)
    nothing = {"_and": [world.only_ours, {"day": {"_gt": "2030-01-01"}}]}
    assert list(world.admin.iter_in_order("pos_sales", ORDER, filter=nothing)) == []
    assert len(spy.calls) == 1


def test_an_order_that_is_not_total_is_refused_not_looped(world):
    walk = world.admin.iter_in_order(
        "pos_sales", ("day",), page_size=1, max_page_size=2, filter=world.only_ours
    )
    with pytest.raises(HubError, match="not total"):
        list(walk)
    with pytest.raises(ValueError, match="distinct fields"):
        list(world.admin.iter_in_order("pos_sales", ("day", "-day")))
    with pytest.raises(ValueError, match="2 rows at least"):
        list(world.admin.iter_in_order("pos_sales", ORDER, max_page_size=1))


@functools.cache
def _keys(order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(spec.lstrip("-") for spec in order)


def test_the_walk_reads_the_orders_fields_even_when_not_asked(world):
    rows: Iterator[dict[str, Any]] = world.admin.iter_in_order(
        "pos_sales", ORDER, page_size=5, max_page_size=10, filter=world.only_ours,
        fields=["units"],
    )  # fmt: skip
    first = next(rows)
    assert set(_keys(ORDER)) <= set(first)
    assert len([first, *rows]) == 60
