"""A feed's cadence (issue 16): learned by the bulk lane from the data-through dates of
the feed's deliveries, or set by its distributor, and the staleness, expected date and
source the pages show from it. Real imports into a real hub pinned to a Wednesday."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from directus import ForbiddenOrMissing, HubClient, HubError
from directus.bulk import open_lane
from ingest.pipeline import run_import
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
from tests.pinning import later, module_hub

TODAY = dt.date(2026, 3, 25)  # a Wednesday
SUNDAYS = [dt.date(2026, 3, 8), dt.date(2026, 3, 15), dt.date(2026, 3, 22)]

hub, admin = module_hub(TODAY)


@pytest.fixture
def world(hub, admin) -> dict[str, Any]:
    supplier, distributor, _pair = make_pair(admin)
    make_sku(admin, supplier, distributor, "A1")
    make_store(admin, distributor, "S1")
    return {
        "supplier": make_user(admin, "supplier_user", supplier),
        "seller": make_user(admin, "distributor_user", distributor),
        "d": int(distributor["id"]),
        "feed": f"{distributor['id']}:pos",
    }


@pytest.fixture
def app(hub, make_portal) -> Flask:
    return make_portal(hub)


def deliver(hub, member: Member, through: dt.date, tmp_path: Path) -> None:
    """A week of POS up to ``through``, delivered as the distributor's own import."""
    days = [through - dt.timedelta(days=n) for n in range(6, -1, -1)]
    path = tmp_path / f"pos-{through}.csv"
    path.write_text("item,store,date,units\n" + "".join(f"A1,S1,{d},1\n" for d in days))
    row = member.login(hub.url).create_item(
        "imports", {"kind": "pos", "format": "csv", "filename": path.name}, fields=["id"]
    )
    with open_lane(hub.lane_url) as lane:
        run_import(lane, path, distributor=int(member.organization["id"]), kind="pos",
                   import_id=int(row["id"]))  # fmt: skip


def feed(admin: HubClient, world: dict[str, Any]) -> dict[str, Any]:
    return admin.read_item("feeds", world["feed"])


def freshness_row(client: FlaskClient) -> str:
    page = client.get("/uploads").get_data(as_text=True)
    row = re.search(r'<tr id="feed-pos">(.*?)</tr>', page, re.S)
    assert row, page
    return re.sub(r"\s+", " ", row.group(1))


def test_the_lane_learns_a_weekly_cadence_from_the_deliveries(hub, admin, world, tmp_path):
    deliver(hub, world["seller"], SUNDAYS[0], tmp_path)
    assert feed(admin, world)["cadence_learned"] is None  # one delivery teaches nothing
    for sunday in SUNDAYS[1:]:
        deliver(hub, world["seller"], sunday, tmp_path)
    assert feed(admin, world)["cadence_learned"] == 7
    # A restatement of an older week is not a new period: the cadence stays.
    deliver(hub, world["seller"], SUNDAYS[1], tmp_path)
    row = feed(admin, world)
    assert (row["cadence_learned"], row["data_through"]) == (7, "2026-03-22")


def test_the_pages_show_the_cadence_and_follow_it(hub, admin, app, world, tmp_path):
    for sunday in SUNDAYS:
        deliver(hub, world["seller"], sunday, tmp_path)
    seller = sign_in(app, world["seller"], remote_addr="10.16.1.1")
    row = freshness_row(seller)
    assert "weekly" in row
    assert "(learned)" in row
    assert "2026-03-29" in row  # expected: a week after the 22nd
    assert "Up to date" in row  # three days behind: stale by the old default, not weekly
    supplier = sign_in(app, world["supplier"], remote_addr="10.16.1.2")
    page = supplier.get(f"/sell-through?distributor={world['d']}").get_data(as_text=True)
    table = page[page.index('id="freshness-h"') : page.index("freshness-export")]
    assert "weekly" in table
    assert "2026-03-29" in table
    answer = supplier.get(f"/sell-through/freshness.xlsx?distributor={world['d']}")
    sheet = load_workbook(io.BytesIO(answer.get_data()), read_only=True).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    got = dict(zip(header, first, strict=True))
    assert (got["Cadence (days)"], got["Cadence from"]) == (7, "learned")
    assert got["Expected next data"].date() == dt.date(2026, 3, 29)
    assert got["Status"] == "fresh"
    api = supplier.get("/api/v1/feeds").get_json()["data"]
    assert [(f["cadence"], f["cadence_source"], f["expected"]) for f in api] == [
        (7, "learned", "2026-03-29")
    ]
    # Due on the 29th, with two days' grace: stale on the 1st of April, and said so.
    with later(days=6):
        assert "Up to date" in freshness_row(sign_in(app, world["seller"], remote_addr="10.16.1.3"))
    with later(days=7):
        assert "Stale" in freshness_row(sign_in(app, world["seller"], remote_addr="10.16.1.4"))
        home = sign_in(app, world["supplier"], remote_addr="10.16.1.5").get("/supplier")
        assert "data through 2026-03-22; expected 2026-03-29 (weekly, learned)" in (
            home.get_data(as_text=True)
        )


def test_a_distributor_sets_its_feeds_cadence_and_clears_it(hub, admin, app, world, tmp_path):
    for sunday in SUNDAYS:
        deliver(hub, world["seller"], sunday, tmp_path)
    seller = sign_in(app, world["seller"], remote_addr="10.16.1.6")

    def save(**form: str) -> Any:
        token = csrf_token(seller, "/uploads")
        return seller.post("/uploads/cadence", data={"csrf_token": token, **form})

    answer = save(kind="pos", cadence_days="1")
    assert answer.status_code == 303
    row = freshness_row(seller)
    assert "daily" in row
    assert "(set)" in row
    assert "2026-03-23" in row
    assert "Stale" in row  # a daily feed three days behind
    assert feed(admin, world)["cadence_days"] == 1
    assert save(kind="pos", cadence_days="").status_code == 303
    assert "(learned)" in freshness_row(seller)
    assert feed(admin, world)["cadence_days"] is None
    bad = save(kind="pos", cadence_days="0")
    assert bad.status_code == 422
    assert 'id="cadence-days-error"' in bad.get_data(as_text=True)
    missing = save(kind="inventory", cadence_days="7")
    assert missing.status_code == 404
    assert "no feed of this kind yet" in missing.get_data(as_text=True)


def test_only_the_feeds_distributor_sets_its_cadence_and_nothing_else(hub, admin, world, tmp_path):
    deliver(hub, world["seller"], SUNDAYS[0], tmp_path)
    own = world["seller"].login(hub.url)
    own.update_item("feeds", world["feed"], {"cadence_days": 7})
    with pytest.raises(HubError):  # its freshness is the lane's
        own.update_item("feeds", world["feed"], {"data_through": "2026-12-31"})
    with pytest.raises(HubError):  # a cadence is a whole number of days, at most a year
        own.update_item("feeds", world["feed"], {"cadence_days": 0})
    other = make_user(admin, "distributor_user", make_org(admin, "distributor")).login(hub.url)
    with pytest.raises(ForbiddenOrMissing):
        other.update_item("feeds", world["feed"], {"cadence_days": 1})
    with pytest.raises(ForbiddenOrMissing):
        world["supplier"].login(hub.url).update_item("feeds", world["feed"], {"cadence_days": 1})
    row = feed(admin, world)
    assert (row["cadence_days"], row["data_through"]) == (7, "2026-03-08")


def test_an_operator_sets_a_feeds_cadence_from_the_operations_page(
    hub, admin, app, world, tmp_path
):
    deliver(hub, world["seller"], SUNDAYS[0], tmp_path)
    ops = make_user(admin, "operator_admin")
    operator = sign_in(app, ops, remote_addr="10.16.1.7")
    page = operator.get("/operator/jobs").get_data(as_text=True)
    assert f'action="/operator/feeds/{world["feed"]}/cadence"' in page
    path = f"/operator/feeds/{world['feed']}/cadence"

    def save(days: str) -> str:
        token = csrf_token(operator, "/operator/jobs")
        answer = operator.post(path, data={"csrf_token": token, "cadence_days": days})
        assert answer.status_code == 302
        return operator.get(answer.headers["Location"]).get_data(as_text=True)

    assert "Feed " + world["feed"] + ": expected every 2 weeks." in save("14")
    assert feed(admin, world)["cadence_days"] == 14
    (entry,) = admin.read_items(
        "audit_log",
        filter={"_and": [{"actor": {"_eq": ops.id}}, {"action": {"_eq": "feed.cadence"}}]},
        fields=["record_ids", "detail"],
    )
    assert entry == {"record_ids": [world["feed"]], "detail": {"cadence_days": 14}}
    assert "Must be greater than or equal to 1" in save("0")
    assert feed(admin, world)["cadence_days"] == 14
    assert "cadence learned from deliveries" in save("")
    assert feed(admin, world)["cadence_days"] is None
    # Only an operator: the distributor itself uses its own uploads page.
    seller = sign_in(app, world["seller"], remote_addr="10.16.1.8")
    refused = seller.post(
        path, data={"csrf_token": csrf_token(seller, "/uploads"), "cadence_days": "1"}
    )
    assert refused.status_code == 403
    assert feed(admin, world)["cadence_days"] is None
