"""``make run``: the hub, the portal, the scheduler and the EDI receiver together, in the
foreground.

Start order: hub (bootstrapped on first run), migrations and the service tokens, the
demo (seeded into a hub with no partners yet), portal, scheduler, receiver. Tandem's AS2
identity (``<state>/as2/tandem.crt`` and ``.key``, the certificate to give AS2 partners)
is made on the first run. Ctrl-C or SIGTERM
stops them in reverse order. If any of them dies, the others are stopped and the exit
status says so. Each child dies with this process
(see :func:`directus.process.spawn`), so nothing outlives it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
from cryptography.hazmat.primitives.serialization import Encoding

from demo.generate import Spec, logins
from demo.seed import other_partners, seed, seeded_as_of
from directus import HubClient, HubProcessError
from directus.install import ensure_installed
from directus.integrity import require_integrity
from directus.process import RATE_LIMITS, Hub, HubConfig, check_port_free, spawn, stop_process
from domain import clock
from governance.policies import regenerate_all_pairs
from migrations import migrate
from migrations.accounts import (
    PORTAL_AUTH_EMAIL,
    RECEIVER_EMAIL,
    SYNC_SERVICE_EMAIL,
    set_service_token,
)
from sync.as2 import Identity, self_signed, write_identity
from sync.scorecards import compute_now
from tandem.settings import StackSettings
from tandem.state import Secrets, load_or_create_secrets
from tandem.tables import table

Echo = Callable[[str], None]
#: Who Tandem is to its AS2 partners, and who the demo's AS2 partner is.
AS2_ID = "TANDEM"
STATION_AS2_ID = "BRIGHTWELL-AS2"
#: How gunicorn runs the portal, here and in the Dockerfile (tests/test_compose.py checks).
#: - One process, eight threads: the hub's single thread is the bottleneck, and one process
#:   keeps one report cache (bench/portal.py: p95 389 ms with 2 workers x 4 threads, 304 ms
#:   with 1 x 8).
#: - Idle connections kept 75 s, not gunicorn's 2 s: a browser, or a balancer, that reuses
#:   a connection just as the portal closes it gets a reset instead of a page
#:   (bench/portal.py saw one in about 2,400 requests with people pausing 0.5-2 s).
#:   A balancer in front must close idle ones sooner (nginx upstream, AWS: 60 s by default).
PORTAL_GUNICORN = ("--workers", "1", "--threads", "8", "--keep-alive", "75")


def hub_for(settings: StackSettings, secrets: Secrets) -> Hub:
    """The state's hub, installed and bootstrapped (bootstrap happens once, atomically)."""
    install = ensure_installed(settings.cache_dir)
    config = HubConfig(
        port=settings.hub_port,
        host=settings.host,
        data_dir=settings.state_dir / "hub",
        secret=secrets.hub_secret,
        db=settings.hub_db(),
        extra_env=RATE_LIMITS,
    )
    hub = Hub(install, config)
    db_file = config.sqlite_path
    if db_file is None:
        hub.bootstrap(secrets.admin_email, secrets.admin_password)  # Directus skips what exists
    elif not db_file.exists():
        partial = db_file.with_name(db_file.name + ".partial")
        partial.unlink(missing_ok=True)
        staging = Hub(
            install,
            dataclasses.replace(config, db={"DB_CLIENT": "sqlite3", "DB_FILENAME": str(partial)}),
        )
        staging.bootstrap(secrets.admin_email, secrets.admin_password)
        partial.replace(db_file)
    return hub


def provision(admin: HubClient, secrets: Secrets) -> list[str]:
    """Apply migrations, bring the managed pairs' policies up to this release's rules,
    and set the service accounts' tokens. Returns the migrations applied."""
    applied = migrate(admin)
    regenerate_all_pairs(admin)
    set_service_token(admin, SYNC_SERVICE_EMAIL, secrets.sync_token)
    set_service_token(admin, PORTAL_AUTH_EMAIL, secrets.portal_auth_token)
    set_service_token(admin, RECEIVER_EMAIL, secrets.receiver_token)
    return applied


def seed_demo_on_first_run(
    admin: HubClient, settings: StackSettings, lane_url: str, echo: Echo, sync: HubClient
) -> dt.date | None:
    """Seed the demo into a hub that has no partners yet. Returns the demo's day, if any.

    A hub that already holds other partners never gets the demo; one whose demo seed
    was interrupted gets it finished. The demo's scorecards are computed here, as the
    scheduler's service ``sync`` (one recorded ``scorecards.compute`` run), so that
    they are there at the first sign-in, and the portal's first minutes under load do
    not share the hub with writing them (bench/portal.py).
    """
    as_of = seeded_as_of(admin)
    if as_of is not None or not settings.demo_days or other_partners(admin):
        return as_of
    today = clock.today()
    echo(f"seeding the demo ({settings.demo_days} days of data; TANDEM_DEMO_DAYS=0 skips it)…")
    station = _station_identity(settings)
    result = seed(
        admin,
        lane_url,
        today,
        spec=Spec(days=settings.demo_days),
        mailboxes=settings.state_dir / "edi",
        as2_partner={
            "address": f"http://{settings.host}:{settings.station_port}/as2",
            "as2_id": station.as2_id,
            "as2_certificate": station.certificate.public_bytes(Encoding.PEM).decode("ascii"),
        },
        echo=echo,
    )
    echo(f"seeded the demo in {result.seconds:.0f}s")
    started = time.perf_counter()
    status = compute_now(sync)
    echo(f"computed the demo's scorecards in {time.perf_counter() - started:.0f}s ({status})")
    return result.as_of


def _child_env(**values: str) -> dict[str, str]:
    return {**os.environ, **values}


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HubProcessError(f"the {what} exited with status {proc.returncode} while starting")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise HubProcessError(f"the {what} did not answer {url} within {timeout_s:.0f}s")


def _station_files(settings: StackSettings) -> tuple[Path, Path]:
    folder = settings.state_dir / "as2"
    return folder / f"{STATION_AS2_ID.lower()}.crt", folder / f"{STATION_AS2_ID.lower()}.key"


def _station_identity(settings: StackSettings) -> Identity:
    """The demo AS2 partner's identity, made for the seed (which gives Tandem its
    certificate) and kept for its station."""
    identity = self_signed(STATION_AS2_ID, clock.now())
    write_identity(identity, *_station_files(settings))
    return identity


class Stack:
    """The three processes of a running Tandem."""

    def __init__(self, settings: StackSettings, echo: Echo) -> None:
        self.settings = settings
        self.echo = echo
        self.secrets = load_or_create_secrets(settings.state_dir)
        self.hubs: list[Hub] = []
        self.demo_as_of: dt.date | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = False
        self._running = False

    def start(self) -> None:
        settings = self.settings
        check_port_free(settings.host, settings.portal_port)
        check_port_free(settings.host, settings.edi_port)
        hub_url = self.start_hubs()
        # Directus starts without an extension it cannot load; Tandem must not.
        require_integrity(HubClient(hub_url))
        admin = HubClient.login(hub_url, self.secrets.admin_email, self.secrets.admin_password)
        applied = provision(admin, self.secrets)
        if applied:
            self.echo(f"applied migrations: {', '.join(applied)}")
        sync = HubClient(hub_url, token=self.secrets.sync_token)
        self.demo_as_of = seed_demo_on_first_run(admin, settings, self.lane_url, self.echo, sync)
        admin.logout()
        hub_url = self.serve_hubs(hub_url)
        self.echo("starting the portal, the scheduler and the EDI receiver…")
        as2_env = self._as2_env()
        portal = spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"{settings.host}:{settings.portal_port}",
                *PORTAL_GUNICORN,
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
                "portal:serve()",
            ],
            env=_child_env(
                TANDEM_SECRET_KEY=self.secrets.portal_secret_key,
                TANDEM_HUB_URL=hub_url,
                TANDEM_PORTAL_AUTH_TOKEN=self.secrets.portal_auth_token,
                # Plain HTTP on loopback: a Secure cookie would never come back.
                TANDEM_COOKIE_SECURE="false",
                TANDEM_HUB_DB_URL=self.lane_url,
                TANDEM_SPOOL_DIR=str(settings.spool_dir),
                **self.portal_env(),
            ),
        )
        self.children["portal"] = portal
        self.children["scheduler"] = spawn(
            [sys.executable, "-m", "sync"],
            env=_child_env(
                TANDEM_HUB_URL=hub_url,
                TANDEM_SYNC_TOKEN=self.secrets.sync_token,
                TANDEM_SCHEDULER_LOCK=self.scheduler_lock(),
                TANDEM_HUB_DB_URL=self.lane_url,
                TANDEM_DROP_DIR=str(settings.drop_dir),
                TANDEM_SPOOL_DIR=str(settings.spool_dir),
                **as2_env,
            ),
        )
        receiver = spawn(
            [sys.executable, "-m", "gunicorn", "--bind", f"{settings.host}:{settings.edi_port}",
             "--workers", "1", "--threads", "4", "--graceful-timeout", "5",
             "sync.receiver:create_app()"],
            env=_child_env(
                TANDEM_HUB_URL=hub_url,
                TANDEM_RECEIVER_TOKEN=self.secrets.receiver_token,
                TANDEM_SPOOL_DIR=str(settings.spool_dir),
                **as2_env,
            ),
        )  # fmt: skip
        self.children["receiver"] = receiver
        station_cert, station_key = _station_files(settings)
        if station_key.exists():  # the demo was seeded with its AS2 partner
            check_port_free(settings.host, settings.station_port)
            self.children["station"] = spawn(
                [sys.executable, "-m", "gunicorn", "--bind",
                 f"{settings.host}:{settings.station_port}", "--workers", "1", "--threads", "2",
                 "--graceful-timeout", "5", "tandem.station:create_app()"],
                env=_child_env(
                    TANDEM_STATION_ID=STATION_AS2_ID,
                    TANDEM_STATION_CERT=str(station_cert),
                    TANDEM_STATION_KEY=str(station_key),
                    TANDEM_STATION_FOLDER=str(settings.state_dir / "edi" / "brightwell"),
                    **as2_env,
                ),
            )  # fmt: skip
        _wait_http(f"{settings.portal_url}/health", portal, "portal")
        _wait_http(f"{settings.receiver_url}/health", receiver, "EDI receiver")

    def start_hubs(self) -> str:
        """Start the hub; the URL to migrate and seed it through."""
        self.echo("starting the hub…")
        hub = hub_for(self.settings, self.secrets)
        self.hubs.append(hub)
        hub.start()
        return hub.url

    def serve_hubs(self, migrated_url: str) -> str:
        """Once the hub is migrated and seeded: the URL the other processes call."""
        return migrated_url

    @property
    def lane_url(self) -> str:
        """The bulk lane's database: the hub's own."""
        return self.settings.lane_url

    def scheduler_lock(self) -> str:
        """What keeps one scheduler (``TANDEM_SCHEDULER_LOCK``): a lock file in the state."""
        return str(self.settings.state_dir / "scheduler.lock")

    def portal_env(self) -> dict[str, str]:
        """The portal's settings beyond the hub's and the lane's."""
        return {}

    def _as2_env(self) -> dict[str, str]:
        """Tandem's AS2 identity for the scheduler and the receiver, made the first time."""
        certificate, key = self.settings.as2_files
        if not (certificate.exists() and key.exists()):
            write_identity(self_signed(AS2_ID, clock.now()), certificate, key)
        return {
            "TANDEM_AS2_ID": AS2_ID,
            "TANDEM_AS2_CERT": str(certificate),
            "TANDEM_AS2_KEY": str(key),
            "TANDEM_AS2_RECEIPT_URL": f"{self.settings.receiver_url}/as2/receipts",
        }

    def on_signal(self, _signum: int, _frame: object) -> None:
        """Ctrl-C or SIGTERM: stop. While starting, at once; once up, from :meth:`wait`.

        The flag is set either way: Python swallows an exception raised while it runs
        an at-fork hook (logging has one, and every spawn forks), so a start-up
        KeyboardInterrupt can be lost, and then :meth:`wait` must return at once.
        """
        self._stopping = True
        if not self._running:
            raise KeyboardInterrupt

    def wait(self) -> int:
        """Block until a signal or a child's death; return the exit status to use."""
        self._running = True
        while not self._stopping:
            for name, proc in self.children.items():
                if proc.poll() is not None:
                    self.echo(f"the {name} exited with status {proc.returncode}; stopping")
                    return 1
            if not self.hubs_alive():
                return 1
            time.sleep(0.3)
        return 0

    def hubs_alive(self) -> bool:
        """Whether the stack can go on: here, whether its one hub is still running."""
        for hub in self.hubs:
            if hub.process is None or hub.process.poll() is not None:
                self.echo(f"the hub exited; see {hub.config.log_path}")
                return False
        return True

    def stop(self) -> None:
        for name in ("station", "receiver", "scheduler", "portal"):
            proc = self.children.pop(name, None)
            if proc is not None:
                stop_process(proc)
        for hub in self.hubs:
            hub.stop()
        self.hubs.clear()


def run(settings: StackSettings, echo: Echo, kind: type[Stack] = Stack) -> int:
    """Run Tandem (a :class:`Stack` of ``kind``) until Ctrl-C. Returns the exit status.

    The signal handlers go in first: a shell that starts a job in the background makes
    it ignore SIGINT, and Python keeps that, so a Ctrl-C sent while starting (or just
    as "Press Ctrl-C" is printed) would otherwise be lost.
    """
    stack = kind(settings, echo)
    signal.signal(signal.SIGINT, stack.on_signal)
    signal.signal(signal.SIGTERM, stack.on_signal)
    status = 0
    try:
        stack.start()
        echo("")
        echo(f"Tandem is running: {settings.portal_url}")
        echo(f"  hub:    {settings.hub_url} (admin login in {settings.state_dir / 'secrets.json'})")
        echo(f"  health: {settings.portal_url}/health")
        echo(f"  EDI:    {settings.receiver_url}/edi/<partner id> (HTTPS), /as2 (AS2 id "
             f"{AS2_ID}, certificate {settings.as2_files[0]})")  # fmt: skip
        if stack.demo_as_of is not None:
            echo(f"Demo logins (data up to {stack.demo_as_of - dt.timedelta(days=1)}):")
            for line in table(logins(), ("email", "password", "role", "organization")):
                echo(f"  {line}")
        echo("Press Ctrl-C to stop.")
        status = stack.wait()
    except KeyboardInterrupt:
        echo("stopping…")
    finally:
        stack.stop()
    echo("stopped.")
    return status
