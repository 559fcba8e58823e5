"""The production topology on this machine (``tandem run --production``), and its drills.

One topology per module, as :class:`tandem.production.ProductionStack` starts it for
operators: Debian's PostgreSQL and Redis, two Directus instances on that database behind
HAProxy, the portal on gunicorn, one scheduler held by its Redis lease, the receiver, and
the demo (a few days of it) seeded through the first instance.

The drills run on it in file order: a token across instances; a hub instance killed under
load; a second scheduler standing by, then taking over from a killed one; a scheduler
killed in the middle of a drop-folder import, which the next one imports whole, once;
Redis restarted under everybody; PostgreSQL stopped for 30 s while a file is dropped (503
pages, then everything back, the file imported once); a revocation across instances.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
import requests
import yaml

from demo.generate import logins
from directus import HubClient
from directus.bulk import open_lane
from directus.errors import ForbiddenOrMissing
from directus.install import default_cache_dir
from directus.process import free_port
from domain import clock
from governance.partners import get_partner
from governance.sharing import list_agreements, revoke
from sync import lease
from tandem.production import REDIS_SCHEDULER_DB, ProductionStack
from tandem.servers import postgres_bin_dir
from tandem.settings import StackSettings

pytestmark = [pytest.mark.postgres, pytest.mark.servers]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LEASE_S = 10
DROP_POLL_S = 2


def _missing() -> str | None:
    if postgres_bin_dir() is None:
        return "PostgreSQL (initdb)"
    for binary in ("redis-server", "haproxy"):
        if not (shutil.which(binary) or Path(f"/usr/sbin/{binary}").is_file()):
            return binary
    return None


@pytest.fixture(scope="module")
def production() -> Iterator[ProductionStack]:
    missing = _missing()
    if missing:
        pytest.skip(f"the production topology needs {missing}: make test installs it")
    # PostgreSQL runs as an unprivileged account here: its folder must be reachable.
    root = Path(tempfile.mkdtemp(prefix="tandem-production-"))
    root.chmod(0o755)
    settings = StackSettings(
        state_dir=root / "state",
        cache_dir=default_cache_dir(),
        host="127.0.0.1",
        hub_port=free_port(),
        portal_port=free_port(),
        external_db=None,
        demo_days=3,
        edi_port=free_port(),
        station_port=free_port(),
        pg_port=free_port(),
        redis_port=free_port(),
        hub_instance_ports=(free_port(), free_port()),
    )
    echoed: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        # The children take the environment: a short lease makes the takeover quick.
        patch.setenv("TANDEM_SCHEDULER_LEASE_SECONDS", str(LEASE_S))
        patch.setenv("TANDEM_DROP_POLL_SECONDS", str(DROP_POLL_S))
        stack = ProductionStack(settings, echoed.append)
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()
            shutil.rmtree(root, ignore_errors=True)


def _login(name: str) -> dict[str, str]:
    return next(a for a in logins() if a["email"].startswith(name))


def _portal_session(stack: ProductionStack, who: str) -> requests.Session:
    account = _login(who)
    session = requests.Session()
    base = stack.settings.portal_url
    token = CSRF.search(session.get(f"{base}/login", timeout=30).text)
    assert token
    answer = session.post(
        f"{base}/login",
        data={"email": account["email"], "password": account["password"],
              "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )  # fmt: skip
    assert answer.status_code == 302, answer.text[:500]
    return session


def _scheduler_env(pid: int) -> dict[str, str]:
    """A running scheduler's own environment (so a second one is started exactly alike)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@dataclass
class Drop:
    """A POS file for a demo distributor's drop folder, on days the demo has no sales,
    written under a name the drop job never takes until :meth:`deliver` renames it."""

    distributor: int
    writing: Path
    path: Path
    first: dt.date
    last: dt.date
    rows: int
    units: int

    def deliver(self) -> None:
        self.writing.rename(self.path)


def _drop(stack: ProductionStack, name: str, *, at_least: int, back: int) -> Drop:
    """A POS file of every store x item of the first demo distributor, on enough days for
    ``at_least`` rows ending ``back`` days ago, written (not yet delivered) in its inbox."""
    admin = HubClient.login(
        stack.balancer.url, stack.secrets.admin_email, stack.secrets.admin_password
    )
    found = admin.read_items(
        "organizations", filter={"kind": {"_eq": "distributor"}}, fields=["id"], sort=["id"]
    )
    distributor = int(found[0]["id"])
    with open_lane(stack.lane_url) as lane:
        codes = lane.lookups(distributor)
    days = -(-at_least // (len(codes.stores) * len(codes.items)))
    last = clock.today() - dt.timedelta(days=back)
    first = last - dt.timedelta(days=days - 1)
    inbox = stack.settings.drop_dir / str(distributor) / "pos"
    inbox.mkdir(parents=True, exist_ok=True)
    writing = inbox / f".{name}.part"
    rows = units = 0
    with open(writing, "w", newline="") as out:
        out.write("item,store,date,units,net_sales\n")
        for n in range(days):
            day = (first + dt.timedelta(days=n)).isoformat()
            for store in sorted(codes.stores):
                for item in sorted(codes.items):
                    sold = 1 + (rows % 7)
                    out.write(f"{item},{store},{day},{sold},{sold * 2}.50\n")
                    rows += 1
                    units += sold
    return Drop(distributor, writing, inbox / name, first, last, rows, units)


def _landed(stack: ProductionStack, drop: Drop) -> tuple[int, int, int]:
    """POS rows and their units on the drop's days, and the units the weekly rollup holds
    for its weeks (the demo has no sales near them)."""
    monday = drop.first - dt.timedelta(days=drop.first.weekday())
    with psycopg.connect(stack.lane_url) as conn:
        rows, units = conn.execute(
            "SELECT count(*), coalesce(sum(units), 0) FROM pos_sales "
            "WHERE distributor = %s AND day BETWEEN %s AND %s",
            (drop.distributor, drop.first, drop.last),
        ).fetchone()
        (rolled,) = conn.execute(
            "SELECT coalesce(sum(units), 0) FROM pos_week_distributor "
            "WHERE distributor = %s AND week_start BETWEEN %s AND %s",
            (drop.distributor, monday, drop.last),
        ).fetchone()
    return int(rows), int(units), int(rolled)


def _imports_of(stack: ProductionStack, drop: Drop) -> list[dict[str, object]]:
    admin = HubClient.login(
        stack.balancer.url, stack.secrets.admin_email, stack.secrets.admin_password
    )
    return admin.read_items(
        "imports",
        filter={"filename": {"_eq": drop.path.name}, "distributor": {"_eq": drop.distributor}},
        fields=["id", "status", "rows_read", "rows_new", "rows_changed"],
        sort=["id"],
    )


def _until(check: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"not within {timeout_s:.0f}s: {what}")


# -- one hub, two instances -----------------------------------------------------------------


def test_the_portal_serves_through_the_balancer_and_reports_the_hub_reachable(production):
    health = requests.get(f"{production.settings.portal_url}/health", timeout=30)
    assert health.status_code == 200
    assert 'id="hub-status" class="ok"' in health.text
    assert production.balancer.config_path.read_text().count(" check\n") == 2


def test_the_demo_comes_with_its_scorecards_and_the_scheduler_finds_them_kept(production):
    """The seed computes the demo's scorecards (one recorded run), before the portal
    serves anyone; the scheduler's first run at its start then has nothing to write."""
    admin = HubClient.login(
        production.balancer.url, production.secrets.admin_email, production.secrets.admin_password
    )

    def runs() -> list[dict]:
        return admin.read_items(
            "sync_runs",
            filter={"job_id": {"_eq": "scorecards.compute"}},
            fields=["status", "counts"],
            sort=["started_at"],
            limit=-1,
        )

    _until(
        lambda: len(found := runs()) >= 2 and found[1]["status"] != "running",
        120,
        "the scheduler's first scorecard run",
    )
    seeded, scheduled = runs()[:2]
    assert seeded["status"] == "succeeded"
    assert seeded["counts"]["created"] > 0
    assert scheduled["status"] == "succeeded"
    assert scheduled["counts"]["unchanged"] > 0


def test_the_portal_answers_on_a_connection_left_idle_for_seconds(production):
    """A browser reuses a connection after a pause; gunicorn's 2 s default closed it under
    people thinking 0.5-2 s between pages, and one in about 2,400 requests got a reset."""
    host, port = production.settings.host, production.settings.portal_port
    request = f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, port), timeout=30) as sock:
        answers = sock.makefile("rb")
        for pause_s in (0, 3):
            time.sleep(pause_s)
            sock.sendall(request)
            assert answers.readline().startswith(b"HTTP/1.1 200"), f"after {pause_s} s"
            length = 0
            while (line := answers.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            answers.read(length)


def test_a_token_from_one_instance_works_on_the_other(production):
    account = _login("supplier.northfield")
    first, second = (hub.url for hub in production.hubs)
    client = HubClient.login(first, account["email"], account["password"])
    me = requests.get(
        f"{second}/users/me",
        headers={"Authorization": f"Bearer {client.tokens.access_token}"},
        timeout=30,
    )
    assert me.status_code == 200
    assert me.json()["data"]["email"] == account["email"]


def test_killing_a_hub_instance_under_load_fails_no_request(production):
    supplier_pages = ("/sell-through", "/inventory", "/promotions", "/supplier")
    distributor_pages = ("/promotions", "/promotions/calendar", "/inventory", "/distributor")
    people = [(_portal_session(production, who), pages) for who, pages in (
        ("supplier.northfield", supplier_pages), ("supplier.brightwell", supplier_pages),
        ("distributor.harbor", distributor_pages), ("distributor.prairie", distributor_pages),
    )]  # fmt: skip
    base = production.settings.portal_url
    failures: list[str] = []
    after_kill = [0] * len(people)
    killed = threading.Event()
    stop = threading.Event()

    def browse(index: int, session: requests.Session, pages: tuple[str, ...]) -> None:
        while not stop.is_set():
            for page in pages:
                try:
                    answer = session.get(base + page, timeout=60)
                    if answer.status_code != 200:
                        failures.append(f"{page}: {answer.status_code}")
                except requests.RequestException as exc:
                    failures.append(f"{page}: {exc}")
                if killed.is_set():
                    after_kill[index] += 1

    users = [threading.Thread(target=browse, args=(i, *person), daemon=True)
             for i, person in enumerate(people)]  # fmt: skip
    for user in users:
        user.start()
    time.sleep(3)
    victim = production.hubs[1]
    assert victim.process is not None
    os.killpg(victim.process.pid, signal.SIGKILL)
    killed.set()
    # Every person goes on through the balancer's health checks marking it down.
    _until(lambda: min(after_kill) >= 8, 120, "each user browses on after the kill")
    stop.set()
    for user in users:
        user.join(timeout=90)
    assert failures == []
    # The stack starts the dead instance again; the balancer takes it back.
    assert production.hubs_alive()
    assert requests.get(f"{victim.url}/server/ping", timeout=10).text == "pong"


def test_a_second_scheduler_stands_by_then_takes_over_from_a_killed_one(production, tmp_path):
    store = redis.Redis.from_url(production.redis.url(REDIS_SCHEDULER_DB))
    first = production.children["scheduler"]
    hostname = socket.gethostname()
    assert first.poll() is None, f"the scheduler exited with status {first.returncode}"
    mine = f"{hostname} pid {first.pid}".encode()
    _until(lambda: store.get(lease.KEY) == mine, LEASE_S * 2, "the scheduler holds the lease")
    log_path = tmp_path / "second.log"
    with open(log_path, "wb") as log:
        second = subprocess.Popen(
            [sys.executable, "-m", "sync"],
            env=_scheduler_env(first.pid),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    production.children["second-scheduler"] = second  # stopped with the stack
    _until(lambda: "standing by" in log_path.read_text(), 30, "the second scheduler stands by")
    assert "scheduler started" not in log_path.read_text()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    _until(
        lambda: "scheduler started with jobs" in log_path.read_text(),
        LEASE_S * 3 + 10,
        "the second scheduler takes the lease and runs the jobs",
    )
    assert store.get(lease.KEY).decode() == f"{hostname} pid {second.pid}"
    production.children["scheduler"] = production.children.pop("second-scheduler")


def test_a_scheduler_killed_mid_import_is_resumed_by_the_next_exactly_once(production, tmp_path):
    """The drop job imports a file in one transaction and moves it only after: a
    scheduler killed inside the import leaves the file, and nothing of it, behind; the next
    scheduler imports it whole, once."""
    first = production.children["scheduler"]
    assert first.poll() is None, f"the scheduler exited with status {first.returncode}"
    drop = _drop(production, "big.csv", at_least=150_000, back=800)
    drop.deliver()
    _until(
        lambda: any(i["status"] == "running" for i in _imports_of(production, drop)),
        60,
        "the scheduler starts importing the dropped file",
    )
    environment = _scheduler_env(first.pid)  # the next one is started exactly alike
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert drop.path.exists(), "the file stays in the inbox until its import commits"
    assert _landed(production, drop) == (0, 0, 0), "nothing of the killed import landed"

    log_path = tmp_path / "next.log"
    with open(log_path, "wb") as log:
        after = subprocess.Popen(
            [sys.executable, "-m", "sync"], env=environment,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    production.children["scheduler"] = after  # stopped with the stack
    archived = drop.path.parent.parent / "archive" / "pos" / drop.path.name
    _until(archived.exists, LEASE_S * 3 + 180, "the next scheduler imports the file")
    assert _landed(production, drop) == (drop.rows, drop.units, drop.units)
    done = [i for i in _imports_of(production, drop) if i["status"] == "done"]
    assert [(i["rows_new"], i["rows_changed"]) for i in done] == [(drop.rows, 0)]


def test_after_redis_restarts_everything_carries_on(production):
    scheduler = production.children["scheduler"]
    production.redis.stop()
    production.redis.start()
    store = redis.Redis.from_url(production.redis.url(REDIS_SCHEDULER_DB))
    # The lease holder takes its emptied key back at its next renewal.
    _until(
        lambda: store.get(lease.KEY) == f"{socket.gethostname()} pid {scheduler.pid}".encode(),
        LEASE_S * 2,
        "the scheduler takes its lease back",
    )
    assert scheduler.poll() is None
    session = _portal_session(production, "supplier.northfield")
    assert session.get(f"{production.settings.portal_url}/sell-through", timeout=60).ok


def test_with_postgresql_stopped_for_30_s_the_portal_says_503_and_all_recovers(production):
    base = production.settings.portal_url
    session = _portal_session(production, "distributor.harbor")
    assert session.get(f"{base}/promotions", timeout=60).status_code == 200
    admin = HubClient.login(
        production.balancer.url, production.secrets.admin_email, production.secrets.admin_password
    )
    runs_before = len(admin.read_items("sync_runs", fields=["id"], limit=-1))
    drop = _drop(production, "during-outage.csv", at_least=1, back=3000)
    production.postgres.stop()
    answers = []
    try:
        stopped_at = time.monotonic()
        drop.deliver()  # a distributor's file lands while the database is down
        while time.monotonic() - stopped_at < 30:
            page = session.get(f"{base}/promotions", timeout=60)
            main = re.search(r"<main.*</main>", page.text, re.S)
            answers.append((page.status_code, main.group(0) if main else page.text[:300]))
            time.sleep(3)
    finally:
        production.postgres.start()
    assert {status for status, _ in answers} == {503}, answers
    assert all("The data hub is not answering" in text for _, text in answers), answers[0]
    _until(
        lambda: session.get(f"{base}/promotions", timeout=60).status_code == 200,
        60,
        "the portal serves again, the same session signed in",
    )
    # The scheduler lived through it and records runs again.
    assert production.children["scheduler"].poll() is None
    _until(
        lambda: len(admin.read_items("sync_runs", fields=["id"], limit=-1)) > runs_before,
        120,
        "the scheduler records a run after PostgreSQL is back",
    )
    # The file that arrived meanwhile is imported once: neither lost nor doubled.
    archived = drop.path.parent.parent / "archive" / "pos" / drop.path.name
    _until(archived.exists, 120, "the file dropped during the outage is imported")
    assert _landed(production, drop) == (drop.rows, drop.units, drop.units)
    done = [i for i in _imports_of(production, drop) if i["status"] == "done"]
    assert [(i["rows_new"], i["rows_changed"]) for i in done] == [(drop.rows, 0)]


def test_a_revocation_applies_on_both_instances_at_once(production):
    """The hubs' data cache stays off, so no instance serves a row after its revocation."""
    account = _login("supplier.northfield")
    first, second = (hub.url for hub in production.hubs)
    supplier = HubClient.login(second, account["email"], account["password"])
    admin = HubClient.login(
        first, production.secrets.admin_email, production.secrets.admin_password
    )
    northfield = get_partner(admin, "Northfield Foods")
    shared = [a for a in list_agreements(admin, northfield["id"])
              if a["status"] == "active" and "pos" in a["kinds"]
              and a["grantee"] == northfield["id"]]  # fmt: skip
    assert shared
    distributors = {a["grantor"] for a in shared}
    where = {"distributor": {"_in": sorted(distributors)}}
    assert supplier.read_items("pos_week_distributor", filter=where, fields=["id"], limit=1)
    for agreement in shared:
        revoke(admin, agreement["id"])
    for url in (first, second):
        reader = HubClient(url, tokens=supplier.tokens)
        # Its last POS agreement gone, the supplier's policy no longer opens the collection.
        with pytest.raises(ForbiddenOrMissing):
            reader.read_items("pos_week_distributor", filter=where, fields=["id"], limit=1)
    with contextlib.suppress(Exception):
        supplier.logout()


def test_compose_pins_the_server_versions_this_topology_runs(production):
    """The images are the same major (PostgreSQL) or minor (Redis, HAProxy) releases as the
    Debian servers the tests run; a patch release may differ (Debian's security updates)."""
    compose = Path(__file__).resolve().parent.parent / "docker-compose.yml"
    services = yaml.safe_load(compose.read_text())["services"]

    def image(name: str) -> list[str]:
        return re.match(r"[\d.]+", services[name]["image"].split(":")[1]).group(0).split(".")

    assert image("postgres")[:1] == production.postgres.version.split(".")[:1]
    assert image("redis")[:2] == production.redis.version.split(".")[:2]
    assert image("haproxy")[:2] == production.balancer.version.split(".")[:2]
