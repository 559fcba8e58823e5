"""Files written the European way, read as the distributor's mapping says (issue 11, 5):
decimal commas, thousands separators, ``;`` delimiters, ``dd.mm.yyyy`` dates and
Windows-1252, through the real hub: the partner API and the uploads form keep every
setting, and the background import, the drop folders, the parallel staging, workbooks
and the CLI all read with it. A value that does not fit the mapping is a rejected row
naming its field, never a guess.

Seen before: ``12,50`` was stored as 1,250.00 and ``1,5`` units as 15.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from openpyxl import Workbook

from directus import HubClient
from domain.ingest import DATE_FORMATS, DECIMAL_SEPARATORS, THOUSANDS_SEPARATORS
from ingest.mappings import load_mapping, save_mapping
from ingest.readers import DELIMITERS, ENCODINGS, ColumnMap
from portal.data.imports import SETTINGS
from portal.journeys.uploads.views import DATE_FORMAT_LABELS, SETTING_CHOICES
from sync.drops import poll_drop_folders
from sync.runs import run_job
from tandem.cli import cli
from tests.factories import csrf_token, make_store, make_user, sign_in
from tests.test_ingest import World, world, write_csv  # noqa: F401 - the fixtures

STORE = "Köln-Süd"  # a store code whose letters Windows-1252 writes in one byte each
EUROPEAN = (
    "Filiale;Artikel;Datum;Menge, Stück;Umsatz €\r\n"
    f"{STORE};A1;02.03.2026;3;7,50\r\n"
    f"{STORE};A2;03.03.2026;1.200;1.234,56\r\n"
    f"{STORE};A1;04.03.2026;-1;-2,50\r\n"
    f"{STORE};A1;05.03.2026;1,5;3,75\r\n"  # line 5: a fraction of a unit
    f"{STORE};A2;05.03.2026;2;12,505\r\n"  # 6: more decimals than the currency has
    f"{STORE};A2;06.03.2026;2;12.50\r\n"  # 7: a decimal point under a decimal comma
    f"{STORE};A2;31.02.2026;2;5,00\r\n"  # 8: no such day
)
MAPPING = {
    "columns": {
        "store": "Filiale",
        "item": "Artikel",
        "day": "Datum",
        "units": "Menge, Stück",  # its comma fools a delimiter guessed from the header
        "net_sales": "Umsatz €",
    },
    "date_format": "%d.%m.%Y",
    "encoding": "windows-1252",
    "delimiter": ";",
    "decimal_separator": ",",
    "thousands_separator": ".",
}
COLUMN_MAP = ColumnMap(
    columns=MAPPING["columns"],
    date_format="%d.%m.%Y",
    encoding="windows-1252",
    delimiter=";",
    decimal=",",
    thousands=".",
)


@pytest.fixture
def app(hub, make_portal, world, tmp_path):  # noqa: F811 - the fixture
    return make_portal(hub, hub_db_url=world.url, spool_dir=tmp_path / "spool")


@pytest.fixture
def store(admin, world) -> dict[str, Any]:  # noqa: F811 - the fixture
    return make_store(admin, world.distributor, STORE, "west")


def _api(app, admin, world: World) -> FlaskClient:  # noqa: F811
    client = sign_in(app, make_user(admin, "distributor_user", world.distributor))
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client, "/account/tokens")
    return client


def _finished(client: FlaskClient, key: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = client.get(f"/api/v1/imports/{key}").get_json()["data"]
        if row["status"] in ("done", "failed"):
            return row
        time.sleep(0.2)
    raise AssertionError(f"import {key} did not finish: {row}")


def _pos(admin, world: World) -> list[tuple[str, int, int]]:  # noqa: F811
    rows = admin.read_items(
        "pos_sales",
        filter={"distributor": {"_eq": world.d}},
        fields=["day", "units", "net_sales_minor"],
        sort=["day"],
        limit=-1,
    )
    return [(r["day"], r["units"], int(r["net_sales_minor"])) for r in rows]


LANDED = [("2026-03-02", 3, 750), ("2026-03-03", 1200, 123456), ("2026-03-04", -1, -250)]


def _check_rejects(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "line,field,reason"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["5", "units"],
        ["6", "net_sales"],
        ["7", "net_sales"],
        ["8", "day"],
    ]
    assert "units '1,5' is not a whole number" in lines[1]
    assert "'12,505' has more than 2 decimals" in lines[2]
    assert "'12.50' is not a number under this mapping" in lines[3]
    assert "decimal separator: comma, thousands separator: point" in lines[3]


def test_a_european_csv_imports_once_mapped_through_the_api(app, admin, world, store):  # noqa: F811
    client = _api(app, admin, world)
    saved = client.put("/api/v1/column-mappings/pos", json=MAPPING)
    assert saved.status_code == 200, saved.get_json()
    data = {"kind": "pos", "file": (io.BytesIO(EUROPEAN.encode("cp1252")), "verkauf.csv")}
    answer = client.post("/api/v1/imports", data=data, content_type="multipart/form-data")
    assert answer.status_code == 202, answer.get_json()
    row = _finished(client, answer.get_json()["data"]["id"])
    assert (row["status"], row["rows_read"], row["rows_new"], row["rows_rejected"]) == (
        "done", 7, 3, 4,
    ), row  # fmt: skip
    assert (row["data_from"], row["data_through"]) == ("2026-03-02", "2026-03-04")
    assert _pos(admin, world) == LANDED
    rejects = client.get(f"/api/v1/imports/{row['id']}/rejects")
    _check_rejects(rejects.get_data(as_text=True))
    rejects.close()


def test_the_default_mapping_refuses_commas_it_once_dropped(admin, world, write_csv, tmp_path):  # noqa: F811
    """Seen: ``12,50`` stored as 1,250.00 and ``1,5`` units as 15. Under the default
    mapping (decimal point, no thousands separator) both are rejects naming their field;
    a mapping with a thousands comma reads grouped figures."""
    text = (
        "item,store,date,units,net_sales\n"
        "A1,S1,2026-03-02,3,7.50\n"
        'A1,S1,2026-03-03,2,"12,50"\n'
        'A2,S1,2026-03-03,"1,5",3.00\n'
        'A2,S2,2026-03-04,"1,200","1,234.50"\n'
    )
    rejects = tmp_path / "rejects.csv"
    result = world.run(write_csv(text), rejects_path=rejects)
    assert (result.new, result.rows_rejected) == (1, 3)
    lines = rejects.read_text().splitlines()[1:]
    assert [line.split(",")[:2] for line in lines] == [
        ["3", "net_sales"],
        ["4", "units"],
        ["5", "units"],
    ]
    assert "'12,50' is not a number under this mapping" in lines[0]
    assert "decimal separator: point, thousands separator: none; e.g. 1234.56" in lines[0]
    assert _pos(admin, world) == [("2026-03-02", 3, 750)]

    grouped = world.run(write_csv(text, "grouped.csv"), mapping=ColumnMap(thousands=","))
    assert (grouped.new, grouped.rows_rejected) == (1, 2)  # "12,50" and "1,5": not groups
    assert ("2026-03-04", 1200, 123450) in _pos(admin, world)


def test_the_drop_folder_reads_with_the_saved_mapping(sync_hub, admin, world, store, tmp_path):  # noqa: F811
    save_mapping(admin, world.d, "pos", COLUMN_MAP)
    drop, spool = tmp_path / "drop", tmp_path / "spool"
    inbox = drop / str(world.d) / "pos"
    inbox.mkdir(parents=True)
    path = inbox / "verkauf.csv"
    path.write_bytes(EUROPEAN.encode("cp1252"))
    old = time.time() - 60  # clock-ok: file times, as sync.drops reads them
    os.utime(path, (old, old))
    settings = {"drop_dir": str(drop), "lane_url": world.url, "settle_s": 30,
                "spool_dir": str(spool)}  # fmt: skip
    assert run_job(sync_hub, "test.drops.european", poll_drop_folders, settings) == "succeeded"
    archive = drop / str(world.d) / "archive" / "pos"
    assert [p.name for p in archive.iterdir()] == ["verkauf.csv"]
    (rejects,) = spool.glob("*/rejects.csv")
    _check_rejects(rejects.read_text(encoding="utf-8"))
    assert _pos(admin, world) == LANDED


def test_several_staging_processes_read_with_the_mapping(admin, world, store, tmp_path):  # noqa: F811
    head, *rows = EUROPEAN.splitlines(keepends=True)
    path = tmp_path / "big.csv"
    path.write_bytes((head + "".join(rows[:3]) * 40).encode("cp1252"))
    rejects = tmp_path / "rejects.csv"
    result = world.run(
        path, mapping=COLUMN_MAP, rejects_path=rejects, workers=2, parallel_min_bytes=1
    )
    assert (result.rows_read, result.new, result.rows_rejected) == (120, 3, 0)
    assert _pos(admin, world) == LANDED


def test_a_workbook_s_numbers_read_back_under_a_decimal_comma(admin, world, tmp_path):  # noqa: F811
    """Number cells are numbers, not text: they are written out in the mapping's decimal
    separator (12.5 as 12,5), so a comma mapping reads them as they are; text cells are
    read under the mapping like a CSV's."""
    book = Workbook()
    sheet = book.active
    sheet.append(["item", "store", "date", "units", "net_sales"])
    sheet.append(["A1", "S1", "02.03.2026", 3, 12.5])
    sheet.append(["A2", "S1", "03.03.2026", "1.200", "1.234,56"])
    sheet.append(["A1", "S2", dt.date(2026, 3, 4), 2.0, 0.1])
    sheet.append(["A2", "S2", "05.03.2026", 1.5, 1])
    path = tmp_path / "pos.xlsx"
    book.save(path)
    rejects = tmp_path / "rejects.csv"
    mapping = ColumnMap(date_format="%d.%m.%Y", decimal=",", thousands=".")
    result = world.run(path, mapping=mapping, rejects_path=rejects)
    assert (result.new, result.rows_rejected) == (3, 1)
    assert _pos(admin, world) == [
        ("2026-03-02", 3, 1250),
        ("2026-03-03", 1200, 123456),
        ("2026-03-04", 2, 10),
    ]
    assert "units '1,5' is not a whole number" in rejects.read_text()


def test_every_field_the_api_accepts_is_stored_and_read_back(app, admin, world):  # noqa: F811
    client = _api(app, admin, world)
    fresh = client.get("/api/v1/column-mappings/inventory").get_json()["data"]
    assert {k: fresh[k] for k in SETTINGS} == {
        "date_format": "%Y-%m-%d",
        "encoding": "utf-8",
        "delimiter": "",
        "decimal_separator": ".",
        "thousands_separator": "",
    }
    document = client.get("/api/v1/openapi.json").get_json()
    body = document["paths"]["/api/v1/column-mappings/{kind}"]["put"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = document["components"]["schemas"][ref]["properties"]
    writable = {name for name, spec in properties.items() if not spec.get("readOnly")}
    assert writable == {"columns", *SETTINGS}
    choices = {
        "encoding": ENCODINGS,
        "delimiter": DELIMITERS,
        "decimal_separator": tuple(DECIMAL_SEPARATORS),
        "thousands_separator": tuple(THOUSANDS_SEPARATORS),
    }
    for name, values in choices.items():
        assert properties[name]["enum"] == list(values)
    bodies = [
        MAPPING,
        {"columns": {"item": "Art.-Nr.", "on_hand": "Bestand"}, "date_format": "%d/%m/%Y",
         "encoding": "iso-8859-15", "delimiter": "\t", "decimal_separator": ",",
         "thousands_separator": " "},
        {"columns": {}, "date_format": "%Y-%m-%d %H:%M:%S", "encoding": "iso-8859-1",
         "delimiter": "|", "decimal_separator": ".", "thousands_separator": "'"},
        {"columns": {"gtin": "EAN"}, "date_format": "%Y%m%d", "encoding": "utf-8",
         "delimiter": "", "decimal_separator": ".", "thousands_separator": ","},
    ]  # fmt: skip
    for kind in ("pos", "inventory"):
        for sent in bodies:
            if kind == "pos" and "on_hand" in sent["columns"]:
                continue
            if kind == "inventory" and "net_sales" in sent["columns"]:
                continue
            answer = client.put(f"/api/v1/column-mappings/{kind}", json=sent)
            assert answer.status_code == 200, answer.get_json()
            got = client.get(f"/api/v1/column-mappings/{kind}").get_json()["data"]
            assert {k: got[k] for k in sent} == sent == {k: answer.get_json()["data"][k]
                                                         for k in sent}  # fmt: skip
    # each value of each setting, one at a time
    for name, values in choices.items():
        for value in values:
            if name == "thousands_separator" and value == ",":
                continue  # the decimal separator below is ","
            sent = {"decimal_separator": ",", name: value}
            assert client.put("/api/v1/column-mappings/pos", json=sent).status_code == 200
            got = client.get("/api/v1/column-mappings/pos").get_json()["data"]
            assert {k: got[k] for k in sent} == sent
    # what the import process is handed is what was saved
    client.put("/api/v1/column-mappings/pos", json=MAPPING)
    assert load_mapping(admin, world.d, "pos") == COLUMN_MAP


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"decimal_separator": ".", "thousands_separator": "."}, "thousands_separator",
         "cannot be the decimal separator"),
        ({"decimal_separator": ";"}, "decimal_separator", "is not one of"),
        ({"decimal_separator": ""}, "decimal_separator", "is not one of"),
        ({"decimal_separator": 5}, "decimal_separator", "must be text"),
        ({"thousands_separator": "_"}, "thousands_separator", "is not one of"),
        ({"encoding": "utf-16"}, "encoding", "is not one of"),
        ({"encoding": "rot13"}, "encoding", "is not one of"),
        ({"delimiter": ":"}, "delimiter", "is not one of"),
        ({"date_format": "dd.mm.yyyy"}, "date_format", "%d.%m.%Y"),
        ({"decimal": ","}, "decimal", "unknown field"),
        ({"kind": "pos"}, "kind", "unknown field"),
        ({"fields": []}, "fields", "unknown field"),
    ],
)  # fmt: skip
def test_a_setting_that_is_not_valid_is_refused_naming_its_field(
    app,
    admin,
    world,  # noqa: F811 - the fixture
    body,
    field,
    says,
):
    client = _api(app, admin, world)
    before = client.get("/api/v1/column-mappings/pos").get_json()["data"]
    answer = client.put("/api/v1/column-mappings/pos", json=body)
    assert answer.status_code == 400
    errors = answer.get_json()["errors"]
    assert list(errors) == [field]
    assert says in errors[field][0]
    assert client.get("/api/v1/column-mappings/pos").get_json()["data"] == before


def test_a_mapping_saved_before_the_settings_existed_reads_as_it_did(app, admin, world):  # noqa: F811
    admin.create_item(
        "column_mappings",
        {"id": f"{world.d}:pos", "kind": "pos", "distributor": world.d,
         "columns": {"units": "Sold"}, "date_format": "%d/%m/%Y"},
    )  # fmt: skip
    assert load_mapping(admin, world.d, "pos") == ColumnMap(
        columns={"units": "Sold"}, date_format="%d/%m/%Y"
    )


def _select(page: str, id_: str) -> dict[str, bool]:
    """A select's options: value -> selected."""
    found = re.search(rf'<select id="{id_}"[^>]*>(.*?)</select>', page, re.S)
    assert found, id_
    options = re.findall(r'<option value="([^"]*)"( selected)?>', found[1])
    return {value: bool(selected) for value, selected in options}


def test_the_mapping_form_offers_and_keeps_the_file_settings(app, admin, world, store):  # noqa: F811
    assert {k: tuple(v) for k, v in SETTING_CHOICES.items()} == {
        "encoding": ENCODINGS,
        "delimiter": DELIMITERS,
        "decimal_separator": tuple(DECIMAL_SEPARATORS),
        "thousands_separator": tuple(THOUSANDS_SEPARATORS),
    }
    assert tuple(DATE_FORMAT_LABELS) == DATE_FORMATS
    client = sign_in(app, make_user(admin, "distributor_user", world.distributor))
    page = client.get("/uploads").get_data(as_text=True)
    assert _select(page, "mapping-pos-decimal-separator") == {".": True, ",": False}
    assert _select(page, "mapping-inventory-thousands-separator")[""] is True
    assert '<option value="%d.%m.%Y">dd.mm.yyyy</option>' in page
    token = csrf_token(client, "/uploads")
    form = {
        "csrf_token": token,
        **{f"column-{name}": header for name, header in MAPPING["columns"].items()},
        **{name: MAPPING[name] for name in SETTINGS},
    }
    bad = client.post("/uploads/mappings/pos", data={**form, "thousands_separator": ","})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="mapping-pos-thousands-separator-error"' in html
    assert "cannot be the decimal separator" in html
    assert _select(html, "mapping-pos-thousands-separator")[","] is True  # kept to correct
    assert client.get("/api/v1/column-mappings/pos").get_json()["data"]["encoding"] == "utf-8"

    saved = client.post("/uploads/mappings/pos", data=form)
    assert saved.status_code == 303
    page = client.get("/uploads").get_data(as_text=True)
    assert _select(page, "mapping-pos-decimal-separator") == {".": False, ",": True}
    assert _select(page, "mapping-pos-thousands-separator")["."] is True
    assert _select(page, "mapping-pos-delimiter")[";"] is True
    assert _select(page, "mapping-pos-encoding")["windows-1252"] is True
    got = client.get("/api/v1/column-mappings/pos").get_json()["data"]
    assert {k: got[k] for k in MAPPING} == MAPPING

    upload = {
        "csrf_token": token,
        "kind": "pos",
        "file": (io.BytesIO(EUROPEAN.encode("cp1252")), "verkauf.csv"),
    }
    answer = client.post("/uploads", data=upload, content_type="multipart/form-data")
    assert answer.status_code == 303
    key = int(answer.headers["Location"].rsplit("/", 1)[-1])
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    assert _finished(client, key)["rows_new"] == 3
    assert _pos(admin, world) == LANDED


def test_the_cli_keeps_the_saved_settings_when_it_adds_a_column(hub, admin, world, store, tmp_path):  # noqa: F811
    save_mapping(admin, world.d, "pos", COLUMN_MAP)
    path = tmp_path / "verkauf.csv"
    path.write_bytes(EUROPEAN.replace("Artikel", "Artikelnummer").encode("cp1252"))
    env = {
        "TANDEM_HUB_ADMIN_EMAIL": hub.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": hub.admin_password,
        "TANDEM_HUB_DB_URL": world.url,
    }
    args = ["import", "pos", str(path), "--distributor", str(world.d), "--hub-url", hub.url]
    result = CliRunner().invoke(cli, [*args, "--column", "item=Artikelnummer"], env=env)
    assert result.exit_code == 0, result.output
    assert "3 new, 0 changed, 0 unchanged, 4 rejected" in result.output
    saved = load_mapping(admin, world.d, "pos")
    assert saved.columns["item"] == "Artikelnummer"
    assert (saved.encoding, saved.delimiter, saved.decimal, saved.thousands) == (
        "windows-1252", ";", ",", ".",
    )  # fmt: skip
    assert _pos(admin, world) == LANDED


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("date_format", "%d/%m", "date_format"),
        ("decimal_separator", "x", "decimal_separator"),
        ("delimiter", "::", "delimiter"),
        ("encoding", "ebcdic", "encoding"),
    ],
)
def test_a_mapping_written_through_the_hub_that_is_not_valid_fails_the_import_naming_it(
    app,
    hub,
    admin,
    world,  # noqa: F811 - the fixture
    store,
    field,
    value,
    named,
):
    """The hub stores what the distributor writes there with its own login; seen: the
    next upload failed with "the import stopped: ValueError". It now fails saying which
    setting of the saved mapping is wrong, and nothing lands."""
    member = make_user(admin, "distributor_user", world.distributor)
    own = HubClient.login(hub.url, member.email, member.password)
    own.create_item("column_mappings", {**MAPPING, "kind": "pos", field: value})
    client = sign_in(app, member)
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client, "/account/tokens")
    data = {"kind": "pos", "file": (io.BytesIO(EUROPEAN.encode("cp1252")), "verkauf.csv")}
    answer = client.post("/api/v1/imports", data=data, content_type="multipart/form-data")
    assert answer.status_code == 202, answer.get_json()
    row = _finished(client, answer.get_json()["data"]["id"])
    assert row["status"] == "failed"
    assert f"the saved column mapping's {named} is not valid" in row["error"], row["error"]
    assert _pos(admin, world) == []
