"""A pinned day reaches the hub: Python's clock and the hub's agree on it, and so do the
portal's rules and the hub's ``$NOW`` (see tests/pinning.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from directus.bulk import open_lane, write_rows
from domain import clock
from governance import sharing
from tests import pinning
from tests.factories import make_pair, make_sku, make_store, make_user

DAY = dt.date(2021, 1, 4)  # years from the wall clock: no agreement by chance


def test_a_pinned_hub_keeps_the_pinned_day_in_its_clock_and_its_rules(start_migrated_hub):
    with pinning.pinned_hub(start_migrated_hub, DAY) as running:
        assert clock.today() == DAY
        assert pinning.hub_now(running).date() == DAY
        admin = running.admin()
        supplier, distributor, _ = make_pair(admin)
        sku, store = make_sku(admin, supplier), make_store(admin, distributor, "S1")
        # A row of tomorrow, so both agreements below cover it by its day: only $NOW
        # decides whether each is in force.
        sold = (distributor["id"], store["id"], sku["id"], DAY + dt.timedelta(days=1))
        with open_lane(running.lane_url) as lane:
            write_rows(lane, "pos", [(*sold, 3, 750, "USD")])
        seller = make_user(admin, "supplier_user", supplier).login(running.url)
        # An agreement from tomorrow is not in force yet: the hub's $NOW is the pinned day
        # (on the wall clock, years later, it would be).
        ids = sharing.grant(admin, distributor["id"], supplier["id"], ["pos"],
                            valid_from=DAY + dt.timedelta(days=1), via="test")  # fmt: skip
        assert seller.read_items("pos_sales", fields=["id"]) == []
        sharing.revoke(admin, ids["id"], via="test")
        sharing.grant(admin, distributor["id"], supplier["id"], ["pos"], valid_from=DAY, via="test")
        assert len(seller.read_items("pos_sales", fields=["id"])) == 1


def test_without_libfaketime_a_pinned_test_fails_saying_how_to_get_it(monkeypatch):
    monkeypatch.setattr(pinning, "LIBFAKETIME", (Path("/nonexistent/libfaketime.so.1"),))
    with pytest.raises(pytest.fail.Exception, match="apt-get install faketime"):
        pinning.libfaketime()
