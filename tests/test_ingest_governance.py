"""What the ingestion collections reveal through the hub's own REST API, with each
partner's own login: rollups, imports, feeds and column mappings."""

from __future__ import annotations

import datetime as dt

import pytest

from directus import ForbiddenOrMissing, InvalidPayload
from governance.sharing import grant, revoke
from tests.factories import make_org, make_user
from tests.helpers import as_ints
from tests.test_ingest import MONDAY, POS, world  # noqa: F401 - the fixture

ROLLUPS = ("pos_week_location", "pos_week_distributor")


@pytest.fixture
def loaded(hub, admin, world, tmp_path):  # noqa: F811
    path = tmp_path / "pos.csv"
    path.write_text(POS)
    world.run(path)
    admin.create_item(
        "column_mappings",
        {"id": f"{world.d}:pos", "kind": "pos", "distributor": world.d, "columns": {}},
    )
    return world


def _login(hub, member):
    return member.login(hub.url)


def _visible(client, collection: str, **query) -> list:
    """The rows a client reads; none when it may not read the collection at all."""
    try:
        return client.read_items(collection, limit=-1, **query)
    except ForbiddenOrMissing:
        return []


def test_another_distributor_sees_and_changes_nothing(hub, admin, loaded):
    other = _login(hub, make_user(admin, "distributor_user", make_org(admin, "distributor")))
    for collection in (*ROLLUPS, "imports", "feeds", "column_mappings", "pos_sales"):
        assert other.read_items(collection, limit=-1) == [], collection
    assert other.aggregate("pos_week_distributor", {"sum": ["units"]})[0]["sum"]["units"] is None
    with pytest.raises((ForbiddenOrMissing, InvalidPayload)):
        other.create_item(
            "imports",
            {"kind": "pos", "format": "csv", "filename": "x.csv", "distributor": loaded.d},
        )
    with pytest.raises((ForbiddenOrMissing, InvalidPayload)):
        other.create_item(
            "column_mappings",
            {"id": f"{loaded.d}:inventory", "kind": "inventory", "distributor": loaded.d},
        )


def test_the_distributor_reads_its_own_but_cannot_rewrite_an_import(hub, admin, loaded):
    own = _login(hub, make_user(admin, "distributor_user", loaded.distributor))
    imports = own.read_items("imports", limit=-1, fields=["id", "status"])
    assert imports == []  # the fixture imported as the operator, with no import row
    assert len(own.read_items("pos_week_location", limit=-1)) == 4
    record = own.create_item(
        "imports", {"kind": "pos", "format": "csv", "filename": "mine.csv"}, fields=["id"]
    )
    row = admin.read_item("imports", record["id"], fields=["distributor", "status", "source"])
    assert row == {"distributor": loaded.d, "status": "queued", "source": "api"}
    with pytest.raises(ForbiddenOrMissing):
        own.update_item("imports", record["id"], {"status": "done"})
    with pytest.raises(ForbiddenOrMissing):
        own.delete_items("imports", [record["id"]])


def test_a_supplier_sees_rollups_only_as_its_agreements_allow_at_that_moment(hub, admin, loaded):
    supplier = _login(hub, make_user(admin, "supplier_user", loaded.supplier))
    for collection in (*ROLLUPS, "imports", "column_mappings"):
        assert _visible(supplier, collection) == [], collection

    # East only: per-location weeks of the east store, no distributor-wide totals.
    east = grant(
        admin, loaded.d, loaded.supplier["id"], ["pos"], valid_from=MONDAY, regions=["east"],
        via="test",
    )  # fmt: skip
    s2 = loaded.stores[1]["id"]
    seen = _visible(supplier, "pos_week_location", fields=["location"])
    assert {r["location"] for r in seen} == {s2}
    assert _visible(supplier, "pos_week_distributor") == []
    revoke(admin, int(east["id"]), via="test")
    assert _visible(supplier, "pos_week_location") == []

    # From a Wednesday: only whole weeks after it (W11), never part of W10.
    wednesday = MONDAY + dt.timedelta(days=2)
    grant(admin, loaded.d, loaded.supplier["id"], ["pos"], valid_from=wednesday, via="test")
    weeks = supplier.read_items("pos_week_distributor", fields=["iso_week", "units"], limit=-1)
    assert as_ints(weeks, "units") == [{"iso_week": "2026-W11", "units": 5}]
    total = supplier.aggregate("pos_week_location", {"sum": ["units"]})[0]["sum"]["units"]
    assert int(total) == 5
    assert [f["distributor"] for f in supplier.read_items("feeds", fields=["distributor"])] == [
        loaded.d
    ]


def test_aggregated_agreements_share_weeks_but_not_days(hub, admin, loaded):
    supplier = _login(hub, make_user(admin, "supplier_user", loaded.supplier))
    grant(
        admin, loaded.d, loaded.supplier["id"], ["pos"], valid_from=MONDAY,
        granularity="aggregated", via="test",
    )  # fmt: skip
    assert _visible(supplier, "pos_sales") == []
    weeks = supplier.read_items("pos_week_distributor", fields=["units"], limit=-1)
    assert sorted(int(w["units"]) for w in weeks) == [1, 5, 9]
