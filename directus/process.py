"""Run a Directus hub as a child process: bootstrap, start, wait until it answers, stop.

The hub is called through Node 22 directly (``run.js``), never through the ``directus``
wrapper, which checks for updates over the network before every command. Telemetry is
off. Secrets go to the child through its environment only and are never logged.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from directus.errors import DatabaseLocked, HubProcessError, PortInUse
from directus.files import LockHeld, claim_lock
from directus.install import HubInstall

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_LOCK_MARKERS = ("SQLITE_BUSY", "database is locked")


#: Directus extensions Tandem ships (see directus/extensions/*/index.js).
EXTENSIONS_DIR = Path(__file__).resolve().parent / "extensions"


@dataclass(frozen=True)
class HubConfig:
    """Everything one hub process needs. ``db`` holds Directus's ``DB_*`` settings."""

    port: int
    data_dir: Path
    secret: str
    db: Mapping[str, str]
    host: str = "127.0.0.1"
    public_url: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def sqlite_path(self) -> Path | None:
        if self.db.get("DB_CLIENT") == "sqlite3":
            return Path(self.db["DB_FILENAME"])
        return None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "hub.log"

    def environment(self) -> dict[str, str]:
        """The child's environment: the system's PATH and locale, plus the hub's settings."""
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "HOME")}
        env = {
            **keep,
            # Directus 11 on SQLite stores a date at local midnight but compares filter
            # values at UTC midnight: in any other zone, `day _lte <that day>` misses it.
            "TZ": "UTC",
            "HOST": self.host,
            "PORT": str(self.port),
            "PUBLIC_URL": self.public_url or self.url,
            "SECRET": self.secret,
            "TELEMETRY": "false",
            "WEBSOCKETS_ENABLED": "false",
            "STORAGE_LOCATIONS": "local",
            "STORAGE_LOCAL_ROOT": str(self.data_dir / "uploads"),
            # Tandem's own hook (cross-row integrity), versioned beside the npm project.
            "EXTENSIONS_PATH": str(EXTENSIONS_DIR),
            "EXTENSIONS_AUTO_RELOAD": "false",
            "CACHE_ENABLED": "false",
            "ACCESS_TOKEN_TTL": "5m",
            "REFRESH_TOKEN_TTL": "30d",
            # Session-mode sessions (the portal's, and each personal API token's) live
            # this long unused; Directus's default is one day.
            "SESSION_COOKIE_TTL": "30d",
            "LOG_LEVEL": "warn",
            "LOG_STYLE": "raw",
            "NODE_ENV": "production",
            **self.db,
            **(SQLITE_READERS if self.db.get("DB_CLIENT") == "sqlite3" else {}),
            **self.extra_env,
        }
        return env


#: Directus keeps one SQLite connection by default, so one slow aggregate holds up every
#: other request. In WAL mode readers do not block each other or the writer: a few
#: connections let Node's thread pool run queries side by side. (Each new connection
#: gets the busy timeout from the tandem-integrity hook.)
SQLITE_READERS = {"DB_POOL__MIN": "1", "DB_POOL__MAX": "4"}


#: The hub's own rate limiter, as `make run` runs it (tandem/stack.py) and, with Redis as
#: its store, docker-compose.yml. Directus 11 counts every request against its client IP,
#: /server/ping included; the portal's calls count against the portal's address, so the
#: limit is a flood guard sized for the portal's and the scheduler's own traffic.
#: Sign-in is throttled per account by the integrity extension (5 failed attempts in 15
#: minutes, as the portal does). IP_TRUST_PROXY=false: the hub is reached directly here,
#: so a client's own X-Forwarded-For must not choose the address it is counted under.
#: Tests' hubs run without it (tests/helpers.py), unless a test asks for it.
RATE_LIMITS = {
    "RATE_LIMITER_ENABLED": "true",
    "RATE_LIMITER_STORE": "memory",
    "RATE_LIMITER_POINTS": "250",
    "RATE_LIMITER_DURATION": "1",
    "IP_TRUST_PROXY": "false",
}


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    """Fail clearly if something listens on the port.

    SO_REUSEADDR, as Node and gunicorn use it: connections of a stopped server lingering
    in TIME_WAIT must not count as "in use", or a quick restart would be refused.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUse(
                f"port {port} on {host} is already in use; stop what holds it or set "
                "TANDEM_HUB_PORT to another port"
            ) from exc


def check_sqlite_unlocked(path: Path) -> None:
    """Fail clearly if another process holds a write lock on the hub's SQLite file."""
    if not path.exists():
        return
    conn = sqlite3.connect(path, timeout=1.0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.rollback()
    except sqlite3.OperationalError as exc:
        raise DatabaseLocked(
            f"the hub database {path} is locked by another process ({exc}); stop the other "
            "hub or tool using it"
        ) from exc
    finally:
        conn.close()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the child when its parent dies, so no hub outlives its owner."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stdout: IO[Any] | int | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child in its own process group that dies with this process.

    Its own group keeps a terminal's Ctrl-C away from it, so the owner decides the
    shutdown order; the death signal means a killed owner leaves no orphan.
    """
    return subprocess.Popen(
        argv,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not None else None,
        start_new_session=True,
        # PDEATHSIG follows the thread that forked: start children from the main thread.
        preexec_fn=_die_with_parent,
    )


def stop_process(proc: subprocess.Popen[bytes], *, grace_s: float = 10.0) -> int | None:
    """SIGTERM the child's whole group, wait, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    # Reap anything the child left in its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode


class Hub:
    """One Directus process on one port and one database."""

    def __init__(self, install: HubInstall, config: HubConfig) -> None:
        self.install = install
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self._db_lock: IO[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return self.config.url

    def _prepare_dirs(self) -> None:
        (self.config.data_dir / "uploads").mkdir(parents=True, exist_ok=True)

    def command(self, *args: str) -> list[str]:
        """The argv of a Directus CLI command for this install."""
        return [str(self.install.node), str(self.install.cli), *args]

    def environment(self) -> dict[str, str]:
        """The config's environment, plus where the install's package.json is (for extensions)."""
        return {**self.config.environment(), "PACKAGE_FILE_LOCATION": str(self.install.root)}

    def bootstrap(self, admin_email: str, admin_password: str, *, timeout_s: float = 180) -> None:
        """Create Directus's system tables and the first admin (idempotent in Directus)."""
        self._prepare_dirs()
        sqlite_path = self.config.sqlite_path
        if sqlite_path:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            check_sqlite_unlocked(sqlite_path)
        env = self.environment()
        env.update(ADMIN_EMAIL=admin_email, ADMIN_PASSWORD=admin_password)
        result = subprocess.run(
            self.command("bootstrap"),
            env=env,
            cwd=self.config.data_dir,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if result.returncode != 0:
            output = _redact(result.stdout + result.stderr, (admin_password, self.config.secret))
            raise _classify_failure("bootstrap", output, sqlite_path)
        if sqlite_path:
            # WAL lets the portal and the bulk lane read and write beside Directus; the
            # mode is stored in the file, so every later opener gets it.
            conn = sqlite3.connect(sqlite_path)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            finally:
                conn.close()

    def start(self, *, timeout_s: float = 90) -> None:
        """Start the hub and return once ``/server/ping`` answers ``pong``."""
        if self.process is not None:
            raise HubProcessError("this hub is already started")
        self._prepare_dirs()
        check_port_free(self.config.host, self.config.port)
        sqlite_path = self.config.sqlite_path
        if sqlite_path:
            if not sqlite_path.exists():
                raise HubProcessError(f"no hub database at {sqlite_path}; bootstrap it first")
            self._claim_database(sqlite_path)
        try:
            if sqlite_path:
                check_sqlite_unlocked(sqlite_path)
            self._log = open(self.config.log_path, "ab")  # noqa: SIM115 - lives as long as the hub
            self.process = spawn(
                self.command("start"),
                env=self.environment(),
                cwd=self.config.data_dir,
                stdout=self._log,
            )
            self._wait_until_up(timeout_s)
        except BaseException:
            self.stop()
            raise
        log.info("hub up at %s (pid %d)", self.url, self.process.pid)

    def _claim_database(self, sqlite_path: Path) -> None:
        """Hold a lock file beside the database: two hubs on one SQLite file corrupt each other."""
        lock_path = sqlite_path.with_name(sqlite_path.name + ".hub-lock")
        try:
            self._db_lock = claim_lock(lock_path, f"pid {os.getpid()}, {self.url}")
        except LockHeld as exc:
            raise DatabaseLocked(
                f"the hub database {sqlite_path} is in use by another hub ({exc.holder})"
            ) from exc

    def _wait_until_up(self, timeout_s: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        session = requests.Session()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = _redact(self.log_tail(), (self.config.secret,))
                raise _classify_failure("start", output, self.config.sqlite_path)
            try:
                response = session.get(f"{self.url}/server/ping", timeout=2)
                if response.status_code == 200 and "pong" in response.text:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise HubProcessError(
            f"the hub did not answer /server/ping within {timeout_s:.0f}s; "
            f"see {self.config.log_path}"
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.config.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the hub and release its database; safe to call twice."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._db_lock is not None:
            self._db_lock.close()
            self._db_lock = None

    def __enter__(self) -> Hub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _classify_failure(step: str, output: str, sqlite_path: Path | None) -> HubProcessError:
    tail = "\n".join(output.strip().splitlines()[-20:])
    if any(marker in output for marker in _LOCK_MARKERS):
        return DatabaseLocked(f"hub {step} failed: the database {sqlite_path} is locked\n{tail}")
    if "EADDRINUSE" in output:
        return PortInUse(f"hub {step} failed: its port is already in use\n{tail}")
    return HubProcessError(f"hub {step} failed:\n{tail}")
