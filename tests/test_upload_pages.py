"""The distributor's data-uploads pages: upload through the form, follow the import to its
result and rejects, keep column mappings, see history and freshness; nobody else's
imports, and no other role."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from directus import ForbiddenOrMissing, HubClient
from tests.factories import csrf_token, make_org, make_user, sign_in
from tests.test_ingest import POS, world  # noqa: F401 - the fixture

BAD = POS + "ZZ,S1,2026-03-02,1,1.00\nA1,S1,not-a-date,1,1.00\n"


@pytest.fixture
def app(hub, make_portal, world, tmp_path):  # noqa: F811 - the fixture
    return make_portal(hub, hub_db_url=world.url, spool_dir=tmp_path / "spool")


def _browser(app, admin, role: str, org: dict[str, Any]) -> tuple[FlaskClient, Any]:
    member = make_user(admin, role, org)
    return sign_in(app, member), member


def _form_upload(client: FlaskClient, text: str, kind: str = "pos", **extra: str) -> Any:
    data = {
        "csrf_token": csrf_token(client, "/uploads"),
        "kind": kind,
        "file": (io.BytesIO(text.encode()), "pos.csv"),
        **extra,
    }
    return client.post("/uploads", data=data, content_type="multipart/form-data")


def _import_id(answer: Any) -> int:
    assert answer.status_code == 303, answer.get_data(as_text=True)
    match = re.fullmatch(r"/uploads/(\d+)", answer.headers["Location"])
    assert match, answer.headers["Location"]
    return int(match.group(1))


def _finished_page(client: FlaskClient, key: int, timeout: float = 60) -> str:
    """Follow the import's page, as a browser without JavaScript would, until it is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.get(f"/uploads/{key}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        if 'id="progress"' not in html:
            return html
        assert 'http-equiv="refresh"' in html  # the page refreshes itself while running
        time.sleep(0.2)
    raise AssertionError(f"import {key} did not finish")


def _dd(html: str, element_id: str) -> str:
    match = re.search(rf'<dd id="{element_id}">([^<]*)</dd>', html)
    assert match, f"no {element_id} on the page"
    return match.group(1).strip()


def test_a_distributor_uploads_a_file_with_bad_rows_and_downloads_the_rejects(app, admin, world):  # noqa: F811
    client, _ = _browser(app, admin, "distributor_user", world.distributor)
    form = client.get("/uploads").get_data(as_text=True)
    assert 'aria-labelledby="upload-heading"' in form
    assert ">Upload a file</h2>" in form
    for label in ('for="upload-file"', 'for="upload-kind"', 'for="upload-format"'):
        assert label in form
    key = _import_id(_form_upload(client, BAD))
    html = _finished_page(client, key)
    assert 'id="result"' in html
    counts = {name: _dd(html, f"result-{name}") for name in ("read", "new", "rejected")}
    assert counts == {"read": "7", "new": "5", "rejected": "2"}
    assert (_dd(html, "result-from"), _dd(html, "result-through")) == ("2026-03-02", "2026-03-09")
    link = re.search(r'<a id="download-rejects" href="([^"]+)">Download rejects</a>', html)
    assert link, html
    rejects = client.get(link.group(1))
    assert rejects.status_code == 200
    assert rejects.mimetype == "text/csv"
    lines = rejects.get_data(as_text=True).splitlines()
    rejects.close()
    assert [line.split(",")[:2] for line in lines[1:]] == [["7", "item"], ["8", "day"]]
    # The same file again: nothing new, nothing changed.
    again = _finished_page(client, _import_id(_form_upload(client, BAD)))
    assert (_dd(again, "result-new"), _dd(again, "result-unchanged")) == ("0", "5")


def test_a_structurally_wrong_file_shows_why_nothing_was_imported(app, admin, world):  # noqa: F811
    client, _ = _browser(app, admin, "distributor_user", world.distributor)
    html = _finished_page(client, _import_id(_form_upload(client, "a,b\n1,2\n")))
    failure = re.search(r'<p class="alert" role="alert" id="failure">([^<]+)</p>', html)
    assert failure
    assert "wrong columns" in failure.group(1)
    assert "Nothing from this file was applied" in html
    assert 'id="result"' not in html
    assert "download-rejects" not in html


def test_a_running_import_shows_progress_with_a_poll_and_a_no_script_refresh(app, admin, world):  # noqa: F811
    client, member = _browser(app, admin, "distributor_user", world.distributor)
    # An import recorded but not (yet) picked up: exactly what the page shows while queued.
    row = member.login(app.extensions["tandem.config"].hub_url).create_item(
        "imports", {"kind": "pos", "format": "csv", "filename": "slow.csv"}, fields=["id"]
    )
    html = client.get(f"/uploads/{row['id']}").get_data(as_text=True)
    assert 'id="progress"' in html
    assert 'aria-live="polite"' in html
    assert f'data-poll-url="/api/v1/imports/{row["id"]}"' in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert 'src="/static/uploads.js"' in html
    assert _dd(html, "progress-rows") == "0"
    script = client.get("/static/uploads.js")
    assert script.status_code == 200
    script.close()


def test_a_bad_upload_form_is_shown_again_naming_the_field(app, admin, world):  # noqa: F811
    client, _ = _browser(app, admin, "distributor_user", world.distributor)
    no_file = client.post(
        "/uploads",
        data={"csrf_token": csrf_token(client, "/uploads"), "kind": "pos"},
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 422
    assert 'id="file-error"' in no_file.get_data(as_text=True)
    wrong_kind = _form_upload(client, POS, kind="orders")
    assert wrong_kind.status_code == 422
    assert 'id="kind-error"' in wrong_kind.get_data(as_text=True)
    wrong_format = _form_upload(client, POS, format="pdf")
    assert wrong_format.status_code == 422
    assert 'id="format-error"' in wrong_format.get_data(as_text=True)
    forged = client.post("/uploads", data={"kind": "pos"}, content_type="multipart/form-data")
    assert forged.status_code == 400  # no CSRF token
    history = client.get("/uploads").get_data(as_text=True)
    assert "No files uploaded yet." in history  # nothing was recorded for a refused form


def test_mappings_are_shown_saved_and_used_by_the_next_upload(app, admin, world):  # noqa: F811
    client, _ = _browser(app, admin, "distributor_user", world.distributor)
    page = client.get("/uploads").get_data(as_text=True)
    assert 'for="mapping-pos-store"' in page
    assert 'for="mapping-inventory-on_hand"' in page
    token = csrf_token(client, "/uploads")
    bad = client.post(
        "/uploads/mappings/pos",
        data={"csrf_token": token, "column-store": "Store Nbr", "date_format": "%d/%Q"},
    )
    assert bad.status_code == 422
    bad_html = bad.get_data(as_text=True)
    assert 'id="mapping-pos-date-format-error"' in bad_html
    assert 'value="Store Nbr"' in bad_html  # what was typed is kept for correction
    assert client.get("/api/v1/column-mappings/pos").get_json()["data"]["columns"] == {}
    saved = client.post(
        "/uploads/mappings/pos",
        data={
            "csrf_token": token,
            "column-store": " Store Nbr ",
            "column-units": "Sold",
            "column-item": "",
            "date_format": "%d/%m/%Y",
        },
    )
    assert saved.status_code == 303
    page = client.get("/uploads").get_data(as_text=True)
    assert 'id="mapping-pos-store" name="column-store" value="Store Nbr"' in page
    assert 'id="mapping-pos-date-format" name="date_format" value="%d/%m/%Y"' in page
    got = client.get("/api/v1/column-mappings/pos").get_json()["data"]
    assert got["columns"] == {"store": "Store Nbr", "units": "Sold"}
    text = "Store Nbr,item,Sold,Day\nS1,A1,3,02/03/2026\n"
    html = _finished_page(client, _import_id(_form_upload(client, text)))
    assert (_dd(html, "result-new"), _dd(html, "result-rejected")) == ("1", "0")


def test_history_is_paged_newest_first_and_freshness_warns_when_stale(app, admin, world):  # noqa: F811
    client, member = _browser(app, admin, "distributor_user", world.distributor)
    first = _import_id(_form_upload(client, POS))
    _finished_page(client, first)
    hub = member.login(app.extensions["tandem.config"].hub_url)
    queued = [
        hub.create_item(
            "imports",
            {"kind": "inventory", "format": "csv", "filename": f"f{n}.csv"},
            fields=["id"],
        )
        for n in range(20)
    ]
    page1 = client.get("/uploads").get_data(as_text=True)
    shown = [int(k) for k in re.findall(r'<tr id="import-(\d+)">', page1)]
    assert shown == sorted((int(q["id"]) for q in queued), reverse=True)
    assert "21 in all; page 1 of 2" in page1
    assert 'rel="next" href="/uploads?page=2#history-heading">Older uploads</a>' in page1
    page2 = client.get("/uploads?page=2").get_data(as_text=True)
    assert re.findall(r'<tr id="import-(\d+)">', page2) == [str(first)]
    feed = re.search(r'<tr id="feed-pos">(.*?)</tr>', page1, re.S)
    assert feed, page1
    assert "2026-03-09" in feed.group(1)  # data through
    assert '<strong class="bad stale">Stale</strong>' in feed.group(1)  # March is long past
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", feed.group(1))  # last received


def test_the_history_exports_every_import_to_excel(app, admin, world):  # noqa: F811
    client, member = _browser(app, admin, "distributor_user", world.distributor)
    key = _import_id(_form_upload(client, BAD))
    _finished_page(client, key)
    page = client.get("/uploads").get_data(as_text=True)
    assert 'id="history-export" href="/uploads/history.xlsx"' in page
    answer = client.get("/uploads/history.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    answer.close()
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("Import", "File", "Kind")
    assert [r[0] for r in rows] == [key]
    row = dict(zip(header, rows[0], strict=True))
    assert (row["Rows read"], row["New"], row["Rejected"]) == (7, 5, 2)
    assert row["Data through"].date().isoformat() == "2026-03-09"
    audits = admin.read_items(
        "audit_log",
        filter={"_and": [{"actor": {"_eq": member.id}}, {"action": {"_eq": "export"}}]},
    )
    assert [(a["collection"], a["detail"]["rows"]) for a in audits] == [("imports", 1)]


def test_another_distributors_import_is_not_found_and_the_attempt_audited(app, admin, world):  # noqa: F811
    own, _ = _browser(app, admin, "distributor_user", world.distributor)
    key = _import_id(_form_upload(own, BAD))
    _finished_page(own, key)
    other, stranger = _browser(app, admin, "distributor_user", make_org(admin, "distributor"))
    assert other.get(f"/uploads/{key}").status_code == 404
    rejects = other.get(f"/uploads/{key}/rejects")
    assert rejects.status_code == 404
    rejects.close()
    assert f'id="import-{key}"' not in other.get("/uploads").get_data(as_text=True)
    denials = admin.read_items(
        "audit_log",
        filter={"_and": [{"actor": {"_eq": stranger.id}}, {"action": {"_eq": "denied"}}]},
    )
    assert [(d["collection"], d["record_ids"], d["via"]) for d in denials] == [
        ("imports", [str(key)], "portal"),
        ("imports", [str(key)], "portal"),
    ]


def test_only_distributor_users_have_the_uploads_pages(app, admin, world):  # noqa: F811
    supplier, _ = _browser(app, admin, "supplier_user", world.supplier)
    assert supplier.get("/uploads").status_code == 403
    assert supplier.get("/uploads/1").status_code == 403
    token = csrf_token(supplier, "/account/tokens")
    assert supplier.post("/uploads", data={"csrf_token": token}).status_code == 403
    assert "Data uploads" not in supplier.get("/account/tokens").get_data(as_text=True)
    distributor, _ = _browser(app, admin, "distributor_user", world.distributor)
    nav = distributor.get("/account/tokens").get_data(as_text=True)
    assert '<a href="/uploads">Data uploads</a>' in nav
    anonymous = app.test_client()
    assert anonymous.get("/uploads").status_code in (302, 401)


def test_an_import_is_its_own_users_and_naming_another_tells_nothing(app, hub, admin, world):  # noqa: F811
    """Seen (probe 4): through the hub's REST API a distributor credited a queued import
    to another organization's user, and a user id that does not exist answered
    INVALID_FOREIGN_KEY, which told which ids exist. The hub presets the user now."""
    client, member = _browser(app, admin, "distributor_user", world.distributor)
    key = _import_id(_form_upload(client, POS))
    assert admin.read_item("imports", key, fields=["user"])["user"] == member.id  # the uploader

    own = HubClient.login(hub.url, member.email, member.password)
    made = own.create_item(
        "imports", {"kind": "pos", "format": "csv", "filename": "x.csv"}, fields=["id"]
    )
    assert admin.read_item("imports", made["id"], fields=["user"])["user"] == member.id
    other = make_user(admin, "supplier_user", make_org(admin, "supplier"))
    answers = []
    for user in (other.id, "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(ForbiddenOrMissing) as refused:
            own.create_item(
                "imports", {"kind": "pos", "format": "csv", "filename": "x.csv", "user": user}
            )
        answers.append((refused.value.status, refused.value.code, refused.value.message))
    assert answers[0] == answers[1]
