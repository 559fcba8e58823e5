"""`make run`'s stack (``tandem run``): it serves, Ctrl-C leaves nothing, a restart keeps data."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from demo.generate import logins
from directus import HubClient
from directus.process import free_port
from migrations import discover
from tandem import stack as tandem_stack
from tandem.cli import cli
from tandem.settings import StackSettings

TANDEM = str(Path(sys.executable).parent / "tandem")


def _processes_mentioning(marker: str) -> set[int]:
    """Pids whose environment mentions the marker (the stack's private state folder)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().split()[2]
                if state != "Z":
                    found.add(int(entry.name))
        except OSError:
            continue
    return found


class Stack:
    def __init__(self, env: dict[str, str], preexec_fn: Callable[[], Any] | None = None) -> None:
        self.proc = subprocess.Popen(
            [TANDEM, "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.output.append(line)
            if text in line:
                return
        # Never leave the stack running past a failed test (its SIGINT may be ignored).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        pytest.fail(f"no {text!r} from tandem run:\n{''.join(self.output)}")

    def finish(self, timeout_s: float = 120) -> str:
        """Wait for the stack to stop (its children, up to 15 s each, then the rest)."""
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.pump.join(timeout=10)
            self.proc.stdout.close()
            while not self.lines.empty():
                self.output.append(self.lines.get())
            pytest.fail(f"tandem run did not stop in {timeout_s}s:\n{''.join(self.output)}")
        self.pump.join(timeout=10)
        self.proc.stdout.close()
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)


@pytest.fixture
def stack_env(tmp_path) -> dict[str, str]:
    """The caller's environment with a private state folder and free ports.

    Everything else of Tandem's is dropped, except the cache: the stack must reuse the
    install and template this session already has, not make its own.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TANDEM_", "DB_")) or k == "TANDEM_CACHE_DIR"
    }
    env.update(
        TANDEM_STATE_DIR=str(tmp_path / "state"),
        TANDEM_HUB_PORT=str(free_port()),
        TANDEM_PORTAL_PORT=str(free_port()),
        TANDEM_EDI_PORT=str(free_port()),
        TANDEM_STATION_PORT=str(free_port()),
        TANDEM_DEMO_DAYS="0",  # no demo unless a test asks for one
    )
    return env


def test_tandem_run_serves_health_and_ctrl_c_leaves_no_process(stack_env):
    stack_env["TANDEM_DEMO_DAYS"] = "2"
    marker = stack_env["TANDEM_STATE_DIR"]
    portal = f"http://127.0.0.1:{stack_env['TANDEM_PORTAL_PORT']}"

    first = Stack(stack_env)
    first.wait_for(f"Tandem is running: {portal}")
    # The demo's logins follow that line: a Ctrl-C before they are all out would cut them
    # short (seen under load, CI on 2 cores).
    first.wait_for("Press Ctrl-C to stop.")
    health = requests.get(f"{portal}/health", headers={"Accept": "application/json"}, timeout=10)
    assert health.json() == {"portal": "ok", "hub": "reachable", "integrity": "loaded"}
    children = _processes_mentioning(marker)
    assert len(children) >= 4  # hub, portal (gunicorn master and workers), scheduler, receiver
    receiver = f"http://127.0.0.1:{stack_env['TANDEM_EDI_PORT']}"
    assert requests.get(f"{receiver}/health", timeout=10).text == "ok\n"
    assert (Path(marker) / "as2" / "tandem.crt").exists()
    os.killpg(first.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    out = first.finish()
    assert first.proc.returncode == 0, out
    assert "applied migrations: " + ", ".join(m.name for m in discover()) in out
    assert "seeded the demo" in out
    assert re.search(r"computed the demo's scorecards in \d+s \(succeeded\)", out), out
    assert all(login["email"] in out for login in logins())
    assert _processes_mentioning(marker) == set()

    # A second run starts on the same state: no bootstrap, no migration, no new demo
    # seed, data kept; the demo logins are shown again.
    second = Stack(stack_env)
    second.wait_for("Press Ctrl-C to stop.")
    os.killpg(second.proc.pid, signal.SIGINT)
    out = second.finish()
    assert "applied migrations" not in out
    assert "seeding the demo" not in out
    assert "computed the demo's scorecards" not in out
    assert all(login["password"] in out for login in logins())
    assert _processes_mentioning(marker) == set()


def test_a_killed_stack_leaves_no_orphan(stack_env):
    marker = stack_env["TANDEM_STATE_DIR"]
    stack = Stack(stack_env)
    stack.wait_for("Tandem is running")
    os.kill(stack.proc.pid, signal.SIGKILL)
    stack.finish()
    deadline = time.monotonic() + 20
    while _processes_mentioning(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(marker) == set()


def test_tandem_migrate_against_a_remote_hub_is_idempotent(hub, monkeypatch):
    monkeypatch.setenv("TANDEM_HUB_ADMIN_EMAIL", hub.admin_email)
    monkeypatch.setenv("TANDEM_HUB_ADMIN_PASSWORD", hub.admin_password)
    result = CliRunner().invoke(cli, ["migrate", "--hub-url", hub.url])
    assert result.exit_code == 0, result.output
    assert "nothing, all up to date" in result.output


def test_tandem_migrate_gives_a_remote_hub_both_service_tokens(start_migrated_hub, monkeypatch):
    """Compose's migrate job: without the portal-auth token every personal token gets 401."""
    remote = start_migrated_hub()
    tokens = {
        "TANDEM_SYNC_TOKEN": secrets.token_urlsafe(32),
        "TANDEM_PORTAL_AUTH_TOKEN": secrets.token_urlsafe(32),
    }
    for key, value in {
        **tokens,
        "TANDEM_HUB_ADMIN_EMAIL": remote.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": remote.admin_password,
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["migrate", "--hub-url", remote.url])
    assert result.exit_code == 0, result.output
    sync = HubClient(remote.url, token=tokens["TANDEM_SYNC_TOKEN"])
    assert sync.read_items("sync_runs", limit=1) == []
    verifier = HubClient(remote.url, token=tokens["TANDEM_PORTAL_AUTH_TOKEN"])
    assert verifier.read_items("api_tokens", limit=1) == []


def test_tandem_migrate_names_missing_admin_credentials(hub, monkeypatch):
    monkeypatch.delenv("TANDEM_HUB_ADMIN_EMAIL", raising=False)
    result = CliRunner().invoke(cli, ["migrate", "--hub-url", hub.url])
    assert result.exit_code != 0
    assert "TANDEM_HUB_ADMIN_EMAIL" in result.output


def test_tandem_migrate_starts_the_local_hub_when_none_runs_and_stops_it(stack_env, monkeypatch):
    for key, value in stack_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TANDEM_HUB_URL", raising=False)  # that would mean a remote hub
    runner = CliRunner()
    first = runner.invoke(cli, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "applied: " + ", ".join(m.name for m in discover()) in first.output
    again = runner.invoke(cli, ["migrate"])
    assert "nothing, all up to date" in again.output
    assert _processes_mentioning(stack_env["TANDEM_STATE_DIR"]) == set()


@pytest.mark.parametrize("moment", ["starting the portal, the scheduler", "Press Ctrl-C"])
def test_ctrl_c_stops_the_stack_even_when_sigint_was_ignored(stack_env, moment):
    """A shell's background job inherits SIGINT ignored (Python keeps that); Ctrl-C must
    still stop the stack, at any moment: while it starts, or as it says it is up."""
    marker = stack_env["TANDEM_STATE_DIR"]
    stack = Stack(stack_env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    stack.wait_for(moment)
    os.killpg(stack.proc.pid, signal.SIGINT)
    out = stack.finish()
    assert stack.proc.returncode == 0, out
    assert "stopped." in out
    assert _processes_mentioning(marker) == set()


def test_a_start_up_interrupt_that_python_swallowed_still_stops_the_stack(tmp_path):
    """CI caught this: SIGINT landed while logging's at-fork hook ran, Python printed
    "Exception ignored" and dropped the KeyboardInterrupt, and the stack ran on."""
    settings = StackSettings(
        state_dir=tmp_path,
        cache_dir=tmp_path,
        host="127.0.0.1",
        hub_port=free_port(),
        portal_port=free_port(),
        external_db=None,
    )
    stack = tandem_stack.Stack(settings, echo=lambda _line: None)
    with contextlib.suppress(KeyboardInterrupt):  # what the at-fork hook does to it
        stack.on_signal(signal.SIGINT, None)
    status: list[int] = []
    waiter = threading.Thread(target=lambda: status.append(stack.wait()), daemon=True)
    waiter.start()
    waiter.join(timeout=5)
    assert status == [0], "wait() ran on after the interrupt"
