"""E-mail alerts through a real SMTP server process (aiosmtpd, keeping what it receives in
a maildir) on a hub pinned to Wednesday 2 December 2026: each person's choice (none, as
they come, a daily digest), what arrived, and a mail server that is down: the try is
counted and shown, retried later, and nothing is lost."""

from __future__ import annotations

import contextlib
import datetime as dt
import mailbox
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

from directus import HubClient, HubError
from directus.process import free_port
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync.alerts import ALERTS_JOB, send_alerts
from sync.config import ConfigError, smtp_settings
from sync.jobs import job_definitions
from sync.runs import JobContext
from tests.factories import csrf_token, make_org, make_user, sign_in
from tests.pinning import module_hub, pinned

TODAY = dt.date(2026, 12, 2)
hub, admin = module_hub(TODAY)


class Smtp:
    """A local SMTP server process that keeps each message in a maildir."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            time.sleep(0.1)
        pytest.fail("the SMTP server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def messages(self) -> list[tuple[str, str, str]]:
        box = mailbox.Maildir(self.folder, create=False)
        return sorted(
            (str(m["To"]), str(m["Subject"]), m.get_payload(decode=True).decode()) for m in box
        )


@pytest.fixture(scope="module")
def smtp(tmp_path_factory) -> Iterator[Smtp]:
    server = Smtp(tmp_path_factory.mktemp("mail") / "maildir")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sync(hub, admin) -> HubClient:
    token = str(uuid.uuid4())
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    return HubClient(hub.url, token=token)


def settings(smtp: Smtp) -> dict[str, str]:
    return smtp_settings({
        "TANDEM_SMTP_HOST": "127.0.0.1", "TANDEM_SMTP_PORT": str(smtp.port),
        "TANDEM_SMTP_TLS": "none", "TANDEM_SMTP_FROM": "alerts@tandem.example.com",
        "TANDEM_PORTAL_URL": "https://portal.example.com/",
    }) or {}  # fmt: skip


def run(sync: HubClient, smtp: Smtp) -> dict[str, int]:
    ctx = JobContext(hub=sync, job_id=ALERTS_JOB, run_id=str(uuid.uuid4()), settings=settings(smtp))
    send_alerts(ctx)
    return dict(ctx.counts)


@pytest.fixture(scope="module")
def people(admin) -> dict:
    org = make_org(admin, "supplier")
    return {who: make_user(admin, "supplier_user", org) for who in ("ann", "bob", "cat")}


def tell(admin, member, title: str) -> int:
    row = admin.create_item("notifications", {"user": member.id, "kind": "escalated",
                                              "title": title, "body": "/exceptions/1"})  # fmt: skip
    return int(row["id"])


def choose(app, member, choice: str, addr: str) -> None:
    browser = sign_in(app, member, remote_addr=addr)
    token = csrf_token(browser, "/exceptions/notifications")
    done = browser.post("/exceptions/notifications/alerts", data={"csrf_token": token,
                                                                  "alerts": choice})  # fmt: skip
    assert done.status_code == 302


@pytest.fixture
def app(hub, make_portal):
    return make_portal(hub)


def test_the_settings_are_checked():
    assert smtp_settings({}) is None  # no server: alerts stay in the portal
    for bad, word in (({"TANDEM_SMTP_PORT": "25x"}, "PORT"), ({"TANDEM_SMTP_TLS": "yes"}, "TLS"),
                      ({"TANDEM_SMTP_FROM": "nobody"}, "FROM")):  # fmt: skip
        env = {"TANDEM_SMTP_HOST": "mail", "TANDEM_SMTP_FROM": "a@b.example", **bad}
        with pytest.raises(ConfigError, match=word):
            smtp_settings(env)


def test_alerts_go_only_to_the_persons_own_address(hub, people):
    ann = HubClient.login(hub.url, people["ann"].email, people["ann"].password)
    with pytest.raises(HubError):
        ann.create_item("alert_settings", {"email": True, "digest": "immediate",
                                           "address": "someone@elsewhere.example"})  # fmt: skip
    assert ann.read_items("alert_settings") == []


def test_each_person_gets_what_it_chose_and_nobody_else_anything(app, admin, sync, smtp, people):
    choose(app, people["ann"], "immediate", "10.17.0.1")
    choose(app, people["bob"], "daily", "10.17.0.2")
    # cat never chose: the portal is enough
    for who in ("ann", "bob", "cat"):
        tell(admin, people[who], f"Exception escalated to level 1: for {who}")
        tell(admin, people[who], f"New exception for your side: for {who}")
    with pinned(TODAY):  # noon: past the digest hour
        counts = run(sync, smtp)
    assert counts == {"sent": 4, "digests": 1}
    got = smtp.messages()
    to_ann = [m for m in got if m[0] == people["ann"].email]
    to_bob = [m for m in got if m[0] == people["bob"].email]
    assert len(to_ann) == 2  # one message each
    assert "Tandem: Exception escalated to level 1: for ann" in [m[1] for m in to_ann]
    assert "https://portal.example.com/exceptions/1" in to_ann[0][2]
    assert [m[1] for m in to_bob] == ["Tandem: 2 notifications"]  # one digest
    assert not [m for m in got if m[0] == people["cat"].email]
    with pinned(TODAY):
        assert run(sync, smtp) == {}  # nothing twice
    tell(admin, people["bob"], "Later the same day")
    with pinned(TODAY):
        assert run(sync, smtp) == {}  # bob's next digest is tomorrow's
    with pinned(TODAY + dt.timedelta(days=1)):
        assert run(sync, smtp) == {"sent": 1, "digests": 1}


def test_a_mail_server_that_is_down_is_retried_and_shown_and_nothing_is_lost(
    app, admin, sync, smtp, people
):
    smtp.stop()
    key = tell(admin, people["ann"], "While the server was down")
    try:
        with pinned(TODAY):
            assert run(sync, smtp) == {"failed": 1}
        stored = admin.read_item("notifications", key)
        assert (stored["emailed_at"], stored["email_attempts"]) == (None, 1)
        assert "ConnectionRefusedError" in stored["email_error"]
        browser = sign_in(app, people["ann"], remote_addr="10.17.0.3")
        page = browser.get("/exceptions/notifications").get_data(as_text=True)
        assert "While the server was down" in page  # in the portal all along
        assert "e-mail failed 1 time (ConnectionRefusedError" in page
        with pinned(TODAY):
            assert run(sync, smtp) == {}  # not before its next try, a minute on
    finally:
        smtp.start()
    later = dt.datetime.combine(TODAY, dt.time(12, 5), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=True):
        assert run(sync, smtp) == {"sent": 1}
    stored = admin.read_item("notifications", key)
    assert stored["emailed_at"] is not None
    assert stored["email_error"] is None
    assert "Tandem: While the server was down" in [m[1] for m in smtp.messages()]


def test_the_job_runs_only_with_a_mail_server():
    assert ALERTS_JOB not in [d.id for d in job_definitions(30)]
    server = {"host": "mail", "port": "587", "tls": "starttls", "user": "", "password": "",
              "sender": "a@b.example", "portal_url": ""}  # fmt: skip
    assert ALERTS_JOB in [d.id for d in job_definitions(30, smtp=server)]
