"""Uploads through the portal's API: answered at once, imported in the background by a
separate process, progress and rejects pollable, and only by the distributor's own users."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from governance.partners import ensure_partnership
from tests.factories import csrf_token, make_org, make_user, sign_in
from tests.test_ingest import POS, world  # noqa: F401 - the fixture

BAD = POS + "ZZ,S1,2026-03-02,1,1.00\nA1,S1,not-a-date,1,1.00\n"


@pytest.fixture
def app(hub, make_portal, world, tmp_path):  # noqa: F811 - the fixture
    return make_portal(hub, hub_db_url=world.url, spool_dir=tmp_path / "spool")


def _browser(app, admin, role: str, org: dict[str, Any]) -> Any:
    client = sign_in(app, make_user(admin, role, org))
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client, "/account/tokens")
    return client


def _upload(client, text: str, kind: str = "pos", name: str = "pos.csv") -> Any:
    data = {"kind": kind, "file": (io.BytesIO(text.encode()), name)}
    return client.post("/api/v1/imports", data=data, content_type="multipart/form-data")


def _finished(client, key: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = client.get(f"/api/v1/imports/{key}").get_json()["data"]
        if row["status"] in ("done", "failed"):
            return row
        time.sleep(0.2)
    raise AssertionError(f"import {key} did not finish: {row}")


def test_an_upload_runs_in_the_background_and_reports_counts_and_rejects(app, admin, world):  # noqa: F811
    client = _browser(app, admin, "distributor_user", world.distributor)
    answer = _upload(client, BAD)
    assert answer.status_code == 202, answer.get_json()
    key = answer.get_json()["data"]["id"]
    assert answer.headers["Location"] == f"/api/v1/imports/{key}"
    row = _finished(client, key)
    assert row["status"] == "done", row
    assert (row["rows_read"], row["rows_new"], row["rows_rejected"]) == (7, 5, 2)
    assert (row["data_from"], row["data_through"]) == ("2026-03-02", "2026-03-09")
    rejects = client.get(f"/api/v1/imports/{key}/rejects")
    assert rejects.status_code == 200
    assert rejects.mimetype == "text/csv"
    lines = rejects.get_data(as_text=True).splitlines()
    rejects.close()
    assert [line.split(",")[:2] for line in lines[1:]] == [["7", "item"], ["8", "day"]]
    again = _finished(client, _upload(client, BAD).get_json()["data"]["id"])
    assert (again["rows_new"], again["rows_changed"], again["rows_unchanged"]) == (0, 0, 5)
    listed = client.get("/api/v1/imports").get_json()["data"]
    assert [r["id"] for r in listed][:2] == [again["id"], key]


def test_an_import_whose_every_row_was_rejected_has_failed(app, admin, world):  # noqa: F811
    """Seen: every row refused, yet the import said "done" and nothing asked for notice."""
    client = _browser(app, admin, "distributor_user", world.distributor)
    text = "item,store,date,units,net_sales\nZZ,S1,2026-03-02,1,1.00\nA1,S9,2026-03-02,1,1.00\n"
    row = _finished(client, _upload(client, text).get_json()["data"]["id"])
    assert (row["status"], row["rows_read"], row["rows_rejected"]) == ("failed", 2, 2)
    assert "every one of its 2 rows was rejected" in row["error"]
    rejects = client.get(f"/api/v1/imports/{row['id']}/rejects")
    assert rejects.status_code == 200
    rejects.close()
    home = client.get("/distributor").get_data(as_text=True)
    assert "Import of pos.csv failed" in home


def test_a_wrong_file_fails_with_its_reason_and_lands_nothing(app, admin, world):  # noqa: F811
    client = _browser(app, admin, "distributor_user", world.distributor)
    key = _upload(client, "a,b\n1,2\n").get_json()["data"]["id"]
    row = _finished(client, key)
    assert row["status"] == "failed"
    assert "wrong columns" in row["error"]
    assert row["rows_new"] == 0


def test_only_the_distributors_own_users_upload_and_see_imports(app, admin, world):  # noqa: F811
    own = _browser(app, admin, "distributor_user", world.distributor)
    key = _upload(own, BAD).get_json()["data"]["id"]
    _finished(own, key)
    other = _browser(app, admin, "distributor_user", make_org(admin, "distributor"))
    assert other.get(f"/api/v1/imports/{key}").status_code == 404
    denied = other.get(f"/api/v1/imports/{key}/rejects")
    assert denied.status_code == 404
    denied.close()
    assert key not in [r["id"] for r in other.get("/api/v1/imports").get_json()["data"]]
    supplier = _browser(app, admin, "supplier_user", world.supplier)
    assert _upload(supplier, POS).status_code == 403
    assert supplier.get(f"/api/v1/imports/{key}").status_code == 403


def test_bad_upload_requests_name_the_field(app, admin, world):  # noqa: F811
    client = _browser(app, admin, "distributor_user", world.distributor)
    wrong_kind = _upload(client, POS, kind="orders")
    assert wrong_kind.status_code == 400
    assert "kind" in wrong_kind.get_json()["errors"]
    no_file = client.post("/api/v1/imports", data={"kind": "pos"})
    assert no_file.status_code == 400
    assert "file" in no_file.get_json()["errors"]


def test_mappings_are_saved_and_used_for_the_next_upload(app, admin, world):  # noqa: F811
    client = _browser(app, admin, "distributor_user", world.distributor)
    bad = client.put("/api/v1/column-mappings/pos", json={"columns": {"colour": "Colour"}})
    assert bad.status_code == 400
    assert "columns" in bad.get_json()["errors"]
    for date_format in ("dd/mm/yyyy", "%d/%m", "%d/%Q/%Y"):  # no year, no year, not a date
        bad = client.put("/api/v1/column-mappings/pos", json={"date_format": date_format})
        assert bad.status_code == 400, date_format
        assert "%d/%m/%Y" in bad.get_json()["errors"]["date_format"][0]  # the accepted forms
    saved = client.put(
        "/api/v1/column-mappings/pos",
        json={"columns": {"store": "Store Nbr", "units": "Sold"}, "date_format": "%d/%m/%Y"},
    )
    assert saved.status_code == 200, saved.get_json()
    text = "Store Nbr,item,Sold,Day\nS1,A1,3,02/03/2026\n"
    row = _finished(client, _upload(client, text).get_json()["data"]["id"])
    assert (row["status"], row["rows_new"], row["rows_rejected"]) == ("done", 1, 0)
    got = client.get("/api/v1/column-mappings/pos").get_json()["data"]
    assert got["columns"] == {"store": "Store Nbr", "units": "Sold"}


def test_feeds_show_freshness_to_the_distributor_and_its_partners_only(app, admin, world):  # noqa: F811
    client = _browser(app, admin, "distributor_user", world.distributor)
    _finished(client, _upload(client, POS).get_json()["data"]["id"])
    feeds = client.get("/api/v1/feeds").get_json()["data"]
    assert [(f["kind"], f["data_through"], f["stale"]) for f in feeds] == [
        ("pos", "2026-03-09", True)  # March data is long stale by now
    ]
    supplier = _browser(app, admin, "supplier_user", world.supplier)
    assert [f["distributor"] for f in supplier.get("/api/v1/feeds").get_json()["data"]] == [world.d]
    stranger_org = make_org(admin, "supplier")
    stranger = _browser(app, admin, "supplier_user", stranger_org)
    assert stranger.get("/api/v1/feeds").get_json()["data"] == []
    ensure_partnership(admin, stranger_org["id"], make_org(admin, "distributor")["id"])
    assert stranger.get("/api/v1/feeds").get_json()["data"] == []


def test_hostile_paging_is_refused_with_the_field_named(app, admin, world):  # noqa: F811
    client = _browser(app, admin, "distributor_user", world.distributor)
    for bad in ("abc", "0", "100000", "-1"):
        answer = client.get("/api/v1/imports", query_string={"per_page": bad})
        assert answer.status_code == 400
        assert "per_page" in answer.get_json()["errors"]
