"""The drop-folder job: settled files are imported, archived or quarantined with a reason."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
import zipfile

import pytest
from openpyxl import Workbook

from directus.bulk import open_lane
from sync.config import ConfigError, SyncConfig
from sync.drops import poll_drop_folders, reap_imports
from sync.jobs import job_definitions
from sync.runs import RUNS, run_job
from tests.factories import make_org, make_user, sign_in
from tests.test_ingest import POS, world  # noqa: F401 - the fixture


def _settle(*paths) -> None:
    old = time.time() - 60  # clock-ok: file times, as sync.drops reads them
    for path in paths:
        os.utime(path, (old, old))


@pytest.fixture
def spool(tmp_path_factory):
    """The spool the drop job keeps rejects in, outside the drop folders."""
    return tmp_path_factory.mktemp("spool")


def _settings(drop, world, spool) -> dict:  # noqa: F811 - world is the fixture's value
    return {"drop_dir": str(drop), "lane_url": world.url, "settle_s": 30,
            "spool_dir": str(spool)}  # fmt: skip


def test_the_drop_job_imports_archives_and_quarantines(sync_hub, admin, world, tmp_path, spool):  # noqa: F811
    inbox = tmp_path / str(world.d) / "pos"
    inbox.mkdir(parents=True)
    good, wrong = inbox / "day1.csv", inbox / "broken.csv"
    good.write_text(POS + "ZZ,S1,2026-03-02,1,1.00\n")
    wrong.write_text("a,b\n1,2\n")
    writing = inbox / ".day2.csv.tmp"  # still being written: never picked up
    writing.write_text(POS)
    fresh = inbox / "just-now.csv"  # not settled yet
    fresh.write_text(POS)
    _settle(good, wrong, writing)
    settings = _settings(tmp_path, world, spool)

    # a refused file is quarantined with its reason: the job itself succeeded
    assert run_job(sync_hub, "test.drops", poll_drop_folders, settings) == "succeeded"
    folder = tmp_path / str(world.d)
    assert sorted(p.name for p in (folder / "archive" / "pos").iterdir()) == ["day1.csv"]
    assert sorted(p.name for p in (folder / "rejected" / "pos").iterdir()) == [
        "broken.csv",
        "broken.csv.reason.txt",
    ]
    reason = (folder / "rejected" / "pos" / "broken.csv.reason.txt").read_text()
    assert "wrong columns" in reason
    assert sorted(p.name for p in inbox.iterdir()) == [".day2.csv.tmp", "just-now.csv"]
    (run,) = sync_hub.read_items(
        RUNS, filter={"job_id": {"_eq": "test.drops"}}, sort=["-started_at"], limit=1
    )
    assert run["counts"]["files"] == 1
    assert run["counts"]["rejected_files"] == 1
    assert run["counts"]["rows_new"] == 5
    imports = admin.read_items(
        "imports",
        filter={"distributor": {"_eq": world.d}},
        fields=["filename", "source", "status", "rows_rejected"],
        sort=["id"],
    )
    assert [(i["filename"], i["status"], i["rows_rejected"]) for i in imports] == [
        ("broken.csv", "failed", 0),
        ("day1.csv", "done", 1),
    ]
    assert {i["source"] for i in imports} == {"drop"}

    # the same file delivered again lands nothing twice
    (inbox / "again.csv").write_text(POS)
    _settle(inbox / "again.csv")
    assert run_job(sync_hub, "test.drops.2", poll_drop_folders, settings) == "succeeded"
    again = admin.read_items(
        "imports",
        filter={"_and": [{"distributor": {"_eq": world.d}}, {"filename": {"_eq": "again.csv"}}]},
        fields=["rows_new", "rows_unchanged"],
    )
    assert again == [{"rows_new": 0, "rows_unchanged": 5}]


def _truncated_workbook(path) -> None:
    """A real POS workbook whose sheet's XML stops halfway (a transfer cut short)."""
    book = Workbook()
    book.active.append(["item", "store", "date", "units", "net_sales"])
    for _ in range(200):
        book.active.append(["A1", "S1", "2026-03-02", 1, "1.00"])
    whole = io.BytesIO()
    book.save(whole)
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            out.writestr(item, data)


def test_a_file_that_breaks_a_reader_is_quarantined_and_the_poll_goes_on(
    sync_hub,
    admin,
    world,  # noqa: F811 - the fixture
    tmp_path,
    spool,
):
    """Seen: a truncated sheet raised an XML parse error, which stopped the drop folders
    for good and added a failed import every minute."""
    inbox = tmp_path / str(world.d) / "pos"
    inbox.mkdir(parents=True)
    broken, good = inbox / "a-cut-short.xlsx", inbox / "b-day.csv"
    _truncated_workbook(broken)
    good.write_text(POS)
    _settle(broken, good)
    settings = _settings(tmp_path, world, spool)
    before = {i["id"] for i in admin.read_items("imports", fields=["id"], limit=-1)}

    assert run_job(sync_hub, "test.drops.broken", poll_drop_folders, settings) == "succeeded"
    folder = tmp_path / str(world.d)
    assert sorted(p.name for p in (folder / "rejected" / "pos").iterdir()) == [
        "a-cut-short.xlsx",
        "a-cut-short.xlsx.reason.txt",
    ]
    reason = (folder / "rejected" / "pos" / "a-cut-short.xlsx.reason.txt").read_text()
    assert "could not be read" in reason
    assert "b-day.csv" in [p.name for p in (folder / "archive" / "pos").iterdir()]
    assert list(inbox.iterdir()) == []
    assert run_job(sync_hub, "test.drops.broken.2", poll_drop_folders, settings) == "succeeded"
    new = admin.read_items(
        "imports", filter={"id": {"_nin": sorted(before)}}, fields=["filename", "status"],
        sort=["id"], limit=-1,
    )  # fmt: skip
    assert new == [
        {"filename": "a-cut-short.xlsx", "status": "failed"},
        {"filename": "b-day.csv", "status": "done"},
    ]


def test_the_drop_job_is_declared_only_when_it_can_run(tmp_path):
    lane = "sqlite:////x.db"
    assert "drops.poll" not in [d.id for d in job_definitions(30)]
    assert "drops.poll" not in [d.id for d in job_definitions(30, drop_dir=tmp_path)]
    assert "drops.poll" not in [
        d.id for d in job_definitions(30, drop_dir=tmp_path, lane_url=lane)
    ]  # no spool: its rejects would have nowhere the portal serves them from
    ids = [
        d.id
        for d in job_definitions(30, drop_dir=tmp_path, lane_url=lane, spool_dir=tmp_path / "s")
    ]
    assert "drops.poll" in ids


def test_drop_folders_need_the_spool_the_portal_serves_rejects_from(tmp_path):
    env = {
        "TANDEM_HUB_URL": "http://127.0.0.1:1",
        "TANDEM_SYNC_TOKEN": "t",
        "TANDEM_SCHEDULER_LOCK": str(tmp_path / "lock"),
        "TANDEM_DROP_DIR": str(tmp_path),
    }
    with pytest.raises(ConfigError, match="TANDEM_SPOOL_DIR"):
        SyncConfig.from_env(env)
    spool = tmp_path / "spool"
    assert SyncConfig.from_env({**env, "TANDEM_SPOOL_DIR": str(spool)}).spool_dir == spool


@pytest.fixture
def portal_app(hub, make_portal, world, spool):  # noqa: F811 - the fixture
    """A portal whose spool is the drop job's (as compose and ``make run`` share it)."""
    return make_portal(hub, hub_db_url=world.url, spool_dir=spool)


def test_a_drop_imports_rejects_download_like_an_uploads_by_its_distributor_only(
    sync_hub,
    admin,
    world,  # noqa: F811 - the fixture
    portal_app,
    tmp_path,
    spool,
):
    """They were written beside the archived file, where the portal never looks."""
    inbox = tmp_path / str(world.d) / "pos"
    inbox.mkdir(parents=True)
    (inbox / "day.csv").write_text(POS + "ZZ,S1,2026-03-02,1,1.00\nA1,S1,not-a-date,1,1.00\n")
    _settle(inbox / "day.csv")
    assert run_job(
        sync_hub, "test.drops.rejects", poll_drop_folders, _settings(tmp_path, world, spool)
    ) == ("succeeded")
    (row,) = admin.read_items(
        "imports",
        filter={"_and": [{"distributor": {"_eq": world.d}}, {"filename": {"_eq": "day.csv"}}]},
        fields=["id", "rows_rejected", "rejects", "source"],
    )
    assert (row["source"], row["rows_rejected"], row["rejects"]) == ("drop", 2, "rejects.csv")
    key = row["id"]

    client = sign_in(portal_app, make_user(admin, "distributor_user", world.distributor))
    page = client.get(f"/uploads/{key}").get_data(as_text=True)
    assert f'<a id="download-rejects" href="/uploads/{key}/rejects">' in page
    for url in (f"/uploads/{key}/rejects", f"/api/v1/imports/{key}/rejects"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.mimetype == "text/csv"
        lines = answer.get_data(as_text=True).splitlines()
        answer.close()
        assert [line.split(",")[:2] for line in lines[1:]] == [["7", "item"], ["8", "day"]]

    stranger = sign_in(
        portal_app, make_user(admin, "distributor_user", make_org(admin, "distributor"))
    )
    for url in (f"/uploads/{key}/rejects", f"/api/v1/imports/{key}/rejects"):
        answer = stranger.get(url)
        assert answer.status_code == 404, url
        answer.close()


def test_imports_that_died_without_a_result_are_reaped(sync_hub, admin, world):  # noqa: F811
    fresh = admin.create_item(
        "imports",
        {"kind": "pos", "format": "csv", "filename": "new.csv", "distributor": world.d},
        fields=["id"],
    )
    old = admin.create_item(
        "imports",
        {"kind": "pos", "format": "csv", "filename": "old.csv", "distributor": world.d,
         "status": "running"},
        fields=["id"],
    )  # fmt: skip
    done = admin.create_item(
        "imports",
        {"kind": "pos", "format": "csv", "filename": "done.csv", "distributor": world.d,
         "status": "done"},
        fields=["id"],
    )  # fmt: skip
    with open_lane(world.url) as lane:  # back-date two of them, as if received long ago
        for key in (old["id"], done["id"]):
            lane.update_import(key, {"created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    assert run_job(sync_hub, "test.reap", reap_imports, {"after_hours": 6}) == "succeeded"
    status = {
        r["id"]: (r["status"], r["error"])
        for r in admin.read_items(
            "imports", filter={"distributor": {"_eq": world.d}}, fields=["id", "status", "error"]
        )
    }
    assert status[fresh["id"]] == ("queued", None)
    assert status[old["id"]] == ("failed", "abandoned: no result 6 hours after it was received")
    assert status[done["id"]] == ("done", None)
