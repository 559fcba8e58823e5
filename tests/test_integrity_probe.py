"""The portal and `tandem run` refuse a hub without Tandem's integrity extension.

Directus starts without an extension it cannot find or load (it only logs why), and then
answers every request with none of the hook's rules in force. The hook answers a probe
(directus/integrity.py) that the portal's /health and start-up and `tandem run` check.
"""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest
from click.testing import CliRunner

import directus.process
from directus import HubClient
from directus.integrity import IntegrityMissing, integrity_loaded, require_integrity
from directus.process import EXTENSIONS_DIR, Hub, free_port
from tandem.cli import cli

JSON = {"Accept": "application/json"}


def _broken_extensions(folder):
    """A copy of Tandem's extensions whose hook does not load (a syntax error)."""
    copy = folder / "extensions"
    shutil.copytree(EXTENSIONS_DIR, copy)
    hook = copy / "tandem-integrity" / "index.js"
    hook.write_text(hook.read_text() + "\n}} this is not JavaScript\n")
    return copy


def test_a_hub_with_the_extension_answers_its_probe(hub):
    assert integrity_loaded(HubClient(hub.url))
    require_integrity(HubClient(hub.url))  # no error


def test_the_portal_refuses_to_start_on_a_hub_without_the_extension(
    start_migrated_hub, make_portal, tmp_path
):
    (tmp_path / "none").mkdir()
    for folder in (tmp_path / "none", _broken_extensions(tmp_path)):
        bare = start_migrated_hub(EXTENSIONS_PATH=str(folder))
        assert HubClient(bare.url).ping()  # it answers, yet without the rules
        assert not integrity_loaded(HubClient(bare.url))
        with pytest.raises(IntegrityMissing, match=r"integrity extension \(tandem-integrity\)"):
            make_portal(bare)


def test_health_is_503_naming_the_extension_once_the_hub_runs_without_it(
    start_migrated_hub, make_portal, hub_install, tmp_path
):
    running = start_migrated_hub()
    client = make_portal(running).test_client()
    healthy = client.get("/health", headers=JSON)
    assert healthy.status_code == 200
    assert healthy.get_json() == {"portal": "ok", "hub": "reachable", "integrity": "loaded"}
    # The same hub (database, port) restarted without the extension, the portal still up.
    running.hub.stop()
    (tmp_path / "none").mkdir()
    config = running.hub.config
    bare = Hub(
        hub_install,
        dataclasses.replace(
            config, extra_env={**config.extra_env, "EXTENSIONS_PATH": str(tmp_path / "none")}
        ),
    )
    bare.start()
    try:
        answer = client.get("/health", headers=JSON)
        assert answer.status_code == 503
        assert answer.get_json()["integrity"] == "missing"
        assert "tandem-integrity" in answer.get_json()["problem"]
        page = client.get("/health")
        assert page.status_code == 503
        assert b'id="integrity-status" class="bad">missing' in page.data
        assert b"integrity extension (tandem-integrity)" in page.data
    finally:
        bare.stop()


def test_tandem_run_refuses_a_hub_whose_extension_does_not_load(tmp_path, monkeypatch):
    monkeypatch.setattr(directus.process, "EXTENSIONS_DIR", _broken_extensions(tmp_path))
    env = {
        "TANDEM_STATE_DIR": str(tmp_path / "state"),
        "TANDEM_HUB_PORT": str(free_port()),
        "TANDEM_PORTAL_PORT": str(free_port()),
        "TANDEM_EDI_PORT": str(free_port()),
        "TANDEM_STATION_PORT": str(free_port()),
        "TANDEM_DEMO_DAYS": "0",
    }
    for name in os.environ:
        if name.startswith(("TANDEM_", "DB_")) and name != "TANDEM_CACHE_DIR":
            monkeypatch.delenv(name)
    result = CliRunner().invoke(cli, ["run"], env=env)
    assert result.exit_code == 1, result.output
    assert "has not loaded Tandem's integrity extension (tandem-integrity)" in result.output
    assert "starting the portal" not in result.output
