"""``tandem backup`` / ``tandem restore``: a seeded hub, backed up while it runs, restored
elsewhere with every table's count and checksum and every file's digest equal, and the
restored hub serving its users; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from demo.generate import Spec, logins
from demo.seed import seed
from directus import HubClient
from directus.install import HubInstall
from directus.process import Hub, HubConfig, free_port
from directus.template import generate_admin
from domain import clock
from migrations import migrate
from tandem import backup as backups
from tandem.cli import cli
from tests import test_bulk_postgres
from tests.databases import hub_config
from tests.pg import PgCluster

TINY = Spec(days=7, stores=8, skus_per_supplier=12, skus_per_store=6, order_days=14)


def _state(folder: Path) -> Path:
    """A state folder as the stack leaves one: secrets, an upload's rejects, a drop file."""
    (folder / "spool" / "imp-1").mkdir(parents=True)
    (folder / "spool" / "imp-1" / "rejects.csv").write_text("row,error\n7,bad GTIN\n")
    (folder / "drop" / "3" / "pos").mkdir(parents=True)
    (folder / "drop" / "3" / "pos" / "week.csv").write_bytes(b"gtin;qty\n0123;4\n")
    (folder / "secrets.json").write_text(json.dumps({"hub_secret": "x"}))
    return folder


def _supplier_reads(url: str) -> int:
    account = next(a for a in logins() if a["role"] == "supplier_user")
    client = HubClient.login(url, account["email"], account["password"])
    return len(client.read_items("skus", fields=["id"], limit=-1))


# -- SQLite -----------------------------------------------------------------------------------


SQLITE_PATH = pytest.mark.sqlite_only("SQLite's backup path (PostgreSQL's has its own test)")


@pytest.fixture(scope="module")
def seeded(start_migrated_hub):
    running = start_migrated_hub()
    seed(running.admin(), running.lane_url, clock.today(), spec=TINY)
    return running


@SQLITE_PATH
def test_a_running_hub_backs_up_and_restores_elsewhere_whole(
    seeded, hub_install: HubInstall, tmp_path
):
    state = _state(tmp_path / "state")
    live = seeded.lane_url
    result = CliRunner().invoke(
        cli, ["backup", str(tmp_path / "backup"), "--db-url", live],
        env={"TANDEM_STATE_DIR": str(state)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert (tmp_path / "backup").stat().st_mode & 0o077 == 0  # secrets inside: owner only
    assert (tmp_path / "backup" / "hub.db").stat().st_mode & 0o077 == 0
    assert manifest["dialect"] == "sqlite"
    assert manifest["migrations"][-1] == sorted(manifest["migrations"])[-1]
    assert manifest["tables"]["pos_sales"]["rows"] > 0
    assert set(manifest["files"]) == {"secrets.json", "spool/imp-1/rejects.csv",
                                      "drop/3/pos/week.csv"}  # fmt: skip
    # every table, Directus's own included, as it stands in the live database
    assert backups.fingerprint(live) == {
        n: backups.TableSum(t["rows"], t["checksum"]) for n, t in manifest["tables"].items()
    }

    elsewhere = tmp_path / "elsewhere"
    restored_db = elsewhere / "hub" / "hub.db"
    result = CliRunner().invoke(
        cli, ["restore", str(tmp_path / "backup"), "--db-url", f"sqlite:///{restored_db}"],
        env={"TANDEM_STATE_DIR": str(elsewhere)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "restored and checked" in result.output
    assert (elsewhere / "drop" / "3" / "pos" / "week.csv").read_bytes() == b"gtin;qty\n0123;4\n"
    assert (elsewhere / "secrets.json").stat().st_mode & 0o077 == 0

    # The restored hub serves the same users the same rows.
    hub = Hub(hub_install, hub_config(tmp_path / "restored-hub", restored_db))
    hub.start()
    try:
        assert _supplier_reads(hub.url) == _supplier_reads(seeded.url) > 0
    finally:
        hub.stop()


@SQLITE_PATH
def test_a_restore_goes_only_into_an_empty_place(seeded, tmp_path):
    backups.backup(seeded.lane_url, _state(tmp_path / "state"), tmp_path / "b")
    with pytest.raises(backups.BackupError, match="exists"):
        backups.restore(tmp_path / "b", seeded.lane_url, tmp_path / "new")
    with pytest.raises(backups.BackupError, match="already holds"):
        backups.restore(tmp_path / "b", f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "state")
    with pytest.raises(backups.BackupError, match="not empty"):
        backups.backup(seeded.lane_url, tmp_path / "state", tmp_path / "b")


@SQLITE_PATH
def test_a_backup_that_lost_a_row_fails_its_restore_naming_the_table(seeded, tmp_path):
    backups.backup(seeded.lane_url, tmp_path / "none", tmp_path / "b")
    with sqlite3.connect(tmp_path / "b" / "hub.db") as conn:
        conn.execute("DELETE FROM pos_sales WHERE id = (SELECT min(id) FROM pos_sales)")
    with pytest.raises(backups.BackupError, match=r"pos_sales \(\d+ rows backed up"):
        backups.restore(tmp_path / "b", f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "r")
    # nothing half-restored: no database took its place, no file was left
    assert not (tmp_path / "r.db").exists()
    assert not (tmp_path / "r.db.partial").exists()
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("*.*"))


# -- PostgreSQL -------------------------------------------------------------------------------


#: A throwaway cluster per module (skipped, saying why, where none can run).
pg = test_bulk_postgres.pg


@pytest.mark.postgres
def test_a_postgresql_hub_backs_up_and_restores_into_an_empty_database(
    pg: PgCluster, hub_install: HubInstall, tmp_path
):
    lane = pg.create_database("tandem_live")
    email, password = generate_admin()
    hub = Hub(hub_install, HubConfig(port=free_port(), data_dir=tmp_path / "hub",
                                     secret=secrets.token_urlsafe(32),
                                     db=pg.directus_db("tandem_live")))  # fmt: skip
    hub.bootstrap(email, password)
    hub.start()
    try:
        admin = HubClient.login(hub.url, email, password)
        migrate(admin)
        seed(admin, lane, clock.today(), spec=TINY)
        manifest = backups.backup(lane, tmp_path / "state", tmp_path / "backup")
        assert (tmp_path / "backup" / "hub.pgdump").stat().st_size > 0
        assert manifest["tables"]["pos_sales"]["rows"] > 0
        assert manifest["migrations"]
        target = pg.create_database("tandem_restored")
        backups.restore(tmp_path / "backup", target, tmp_path / "elsewhere")
        assert backups.fingerprint(target) == backups.fingerprint(lane)
        with pytest.raises(backups.BackupError, match="has tables"):
            backups.restore(tmp_path / "backup", target, tmp_path / "again")
        with pytest.raises(backups.BackupError, match="same kind"):
            backups.restore(tmp_path / "backup", f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "s")
    finally:
        hub.stop()
