"""Deleting a row other rows still refer to, through the hub's REST API with a partner's
own login.

Every relation between Tandem's collections is a foreign key the database enforces, so
deleting a row that is still referred to cannot succeed. Directus 11.17.4 does not
translate that failure on delete and answered 500. The integrity hook answers it instead
(directus/extensions/tandem-integrity/references.js): 409 naming what still refers to the
row, only to a caller Directus lets delete it; anyone else gets Directus's own 403, word
for word, whatever refers to the row. A draft promotion's own SKUs, locations and history
go with it (the database cascades them, migration 0011).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from directus import HubClient, HubError, InvalidPayload
from directus.bulk import open_lane, write_rows
from tests.factories import make_pair, make_sku, make_store, make_user, unique

MISSING = 2_000_000_000


def answer(call: Callable[[], Any]) -> tuple[int | None, list[dict[str, Any]]]:
    """The status and error list of a refused call (the call must be refused)."""
    with pytest.raises(HubError) as refused:
        call()
    return refused.value.status, refused.value.errors


def exists(admin: HubClient, collection: str, key: Any) -> bool:
    return admin.read_items(collection, filter={"id": {"_eq": key}}, fields=["id"]) != []


class Stores:
    """One distributor's stores, each referred to differently, and a second distributor."""

    def __init__(self, hub, admin: HubClient, lane_url: str) -> None:
        self.admin = admin
        self.supplier, self.distributor, self.pair = make_pair(admin)
        self.sku = make_sku(admin, self.supplier)
        self.owner = make_user(admin, "distributor_user", self.distributor).login(hub.url)
        other = make_user(admin, "distributor_user")
        self.other, self.other_org = other.login(hub.url), other.organization
        self.supplier_user = make_user(admin, "supplier_user", self.supplier).login(hub.url)
        self.lane_url = lane_url

    def store(self) -> int:
        return int(make_store(self.admin, self.distributor, unique("S"))["id"])

    def ordered_to(self) -> int:
        """A store that is the ship-to of a purchase order."""
        store = self.store()
        self.admin.create_item(
            "purchase_orders",
            {
                "partnership": self.pair,
                "number": unique("PO"),
                "status": "open",
                "ordered_on": "2027-02-01",
                "requested_date": "2027-02-15",
                "currency": "USD",
                "ship_to": store,
            },
        )
        return store

    def with_pos(self) -> int:
        """A store with POS rows (and so rows of the weekly rollups), through the lane."""
        store = self.store()
        row = (self.distributor["id"], store, self.sku["id"], dt.date(2027, 1, 4), 2, 500, "USD")
        with open_lane(self.lane_url) as lane:
            write_rows(lane, "pos", [row])
        return store

    def draft(self, store: int | None = None) -> dict[str, Any]:
        """A draft promotion with a SKU, a store and its first history row, made by the
        distributor in one hub write, as the portal makes one."""
        return self.owner.create_item(
            "promotions",
            {
                "partnership": self.pair,
                "name": unique("probe"),
                "type": "tpr",
                "status": "draft",
                "start_date": "2027-03-01",
                "end_date": "2027-03-10",
                "skus": [{"sku": self.sku["id"], "partnership": self.pair}],
                "locations": [{"location": store or self.store(), "partnership": self.pair}],
                "history": [
                    {"status": "draft", "at": "2027-02-01T10:00:00Z", "partnership": self.pair}
                ],
            },
            fields=["id", "skus", "locations", "history"],
        )


@pytest.fixture(scope="module")
def world(hub, admin: HubClient) -> Stores:
    return Stores(hub, admin, hub.lane_url)


def conflict_reason(world: Stores, store: int) -> str:
    status, errors = answer(lambda: world.owner.delete_item("locations", store))
    assert status == 409, errors
    assert errors[0]["extensions"]["code"] == "CONFLICT"
    return errors[0]["message"]


def test_a_store_that_orders_ship_to_is_refused_naming_them(world):
    store = world.ordered_to()
    message = conflict_reason(world, store)
    assert f"location {store} is still referred to by purchase_orders" in message
    assert "set its status to inactive instead" in message
    assert exists(world.admin, "locations", store)


def test_a_store_with_pos_rows_is_refused_naming_them(world):
    store = world.with_pos()
    message = conflict_reason(world, store)
    assert f"location {store} is still referred to by" in message
    assert "pos_sales" in message
    assert exists(world.admin, "locations", store)


def test_a_store_nothing_refers_to_still_deletes(world):
    store = world.store()
    world.owner.delete_item("locations", store)
    assert not exists(world.admin, "locations", store)


def test_a_batch_with_one_referred_store_deletes_none(world):
    free, ordered = world.store(), world.ordered_to()
    status, errors = answer(lambda: world.owner.delete_items("locations", [free, ordered]))
    assert status == 409, errors
    assert f"location {ordered} is still referred to by purchase_orders" in errors[0]["message"]
    assert str(free) not in errors[0]["message"].replace(f"location {ordered}", "")
    assert exists(world.admin, "locations", free)
    assert exists(world.admin, "locations", ordered)


def test_another_distributor_gets_directus_403_and_learns_nothing(world):
    """Referred or not, there or not: one answer, Directus's own 403."""
    answers = {
        name: answer(lambda key=key: world.other.delete_item("locations", key))
        for name, key in {
            "ordered": world.ordered_to(),
            "pos": world.with_pos(),
            "free": world.store(),
            "missing": MISSING,
        }.items()
    }
    assert {status for status, _ in answers.values()} == {403}
    assert len({repr(errors) for _, errors in answers.values()}) == 1, answers


def test_a_batch_with_another_distributors_referred_store_gets_403(world):
    """Its own store beside the first distributor's: Directus refuses the batch whole,
    with the answer a missing key gets."""
    theirs = world.ordered_to()
    own = make_store(world.admin, world.other_org, unique("S"))["id"]
    status, errors = answer(lambda: world.other.delete_items("locations", [own, theirs]))
    assert status == 403
    assert (status, errors) == answer(lambda: world.other.delete_items("locations", [own, MISSING]))
    assert exists(world.admin, "locations", own)
    assert exists(world.admin, "locations", theirs)


def test_an_admin_deleting_a_referred_store_is_told_too(world):
    store = world.ordered_to()
    status, errors = answer(lambda: world.admin.delete_item("locations", store))
    assert status == 409, errors
    assert "purchase_orders" in errors[0]["message"]


def test_a_store_a_promotion_names_is_refused_naming_it(world):
    store = world.store()
    world.draft(store)
    assert "promotion_locations" in conflict_reason(world, store)


def test_a_draft_promotion_goes_with_its_skus_locations_and_history(world):
    made = world.draft()
    children = {
        "promotion_skus": made["skus"],
        "promotion_locations": made["locations"],
        "promotion_events": made["history"],
    }
    assert all(children.values()), made
    world.owner.delete_item("promotions", made["id"])
    assert not exists(world.admin, "promotions", made["id"])
    for collection, keys in children.items():
        left = world.admin.read_items(collection, filter={"id": {"_in": keys}}, fields=["id"])
        assert left == [], collection


def test_the_supplier_cannot_delete_the_draft_and_learns_nothing(world):
    made = world.draft()
    theirs = answer(lambda: world.supplier_user.delete_item("promotions", made["id"]))
    assert theirs == answer(lambda: world.supplier_user.delete_item("promotions", MISSING))
    assert theirs[0] == 403
    assert exists(world.admin, "promotions", made["id"])
    assert world.admin.read_items("promotion_skus", filter={"id": {"_in": made["skus"]}}) != []


def test_a_submitted_promotion_is_still_kept_with_its_children(world):
    made = world.draft()
    world.owner.update_item("promotions", made["id"], {"status": "submitted"})
    with pytest.raises(InvalidPayload, match="status: kept while it is submitted"):
        world.owner.delete_item("promotions", made["id"])
    assert exists(world.admin, "promotions", made["id"])
    assert world.admin.read_items("promotion_skus", filter={"id": {"_in": made["skus"]}}) != []
