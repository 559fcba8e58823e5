"""Deleting a referred row on PostgreSQL, production's database (see tests/test_deletes.py).

PostgreSQL reports a foreign key failure differently from SQLite (SQLSTATE 23503), and
migration 0011 changes its constraints with ALTER TABLE rather than SQLite's table
rebuild; the answers must be the same. Skipped as tests/test_bulk_postgres.py is.
"""

from __future__ import annotations

import pytest

from tests import test_bulk_postgres
from tests.test_deletes import MISSING, Stores, answer, conflict_reason, exists

pytestmark = pytest.mark.postgres

# The throwaway cluster and its migrated hub, as the bulk lane's PostgreSQL tests make them.
pg = test_bulk_postgres.pg
pg_hub = test_bulk_postgres.pg_hub


@pytest.fixture(scope="module")
def world(pg_hub) -> Stores:
    return Stores(pg_hub, pg_hub.admin(), pg_hub.lane_url)


def test_a_promotions_parts_cascade_on_postgres(world):
    for collection in ("promotion_skus", "promotion_locations", "promotion_events"):
        relation = world.admin.get(f"/relations/{collection}/promotion")
        assert relation["schema"]["on_delete"] == "CASCADE", collection


def test_referred_stores_are_refused_naming_what_refers_to_them(world):
    ordered, sold = world.ordered_to(), world.with_pos()
    assert f"location {ordered} is still referred to by purchase_orders" in conflict_reason(
        world, ordered
    )
    assert "pos_sales" in conflict_reason(world, sold)
    assert exists(world.admin, "locations", ordered)
    assert exists(world.admin, "locations", sold)


def test_another_distributor_gets_directus_403_on_postgres(world):
    answers = [
        answer(lambda key=key: world.other.delete_item("locations", key))
        for key in (world.ordered_to(), world.with_pos(), world.store(), MISSING)
    ]
    assert answers[0][0] == 403
    assert all(a == answers[0] for a in answers), answers


def test_a_draft_promotion_and_an_unreferred_store_delete_on_postgres(world):
    made, store = world.draft(), world.store()
    world.owner.delete_item("promotions", made["id"])
    world.owner.delete_item("locations", store)
    assert not exists(world.admin, "promotions", made["id"])
    assert world.admin.read_items("promotion_events", filter={"id": {"_in": made["history"]}}) == []
    assert not exists(world.admin, "locations", store)
