"""A throwaway PostgreSQL cluster for tests: ``initdb`` in a temporary folder, one server.

The server listens on 127.0.0.1 only, on a free port, with its unix socket in its own
folder, and trusts every local connection (user ``postgres``, no password). It is made
in byte-order collation (``--locale=C``), as the bulk lane requires.

PostgreSQL refuses to run as root. When the tests run as root, the cluster is made and
run as an unprivileged account (``postgres`` if it exists, else ``nobody``): the folder
is created outside pytest's private (0700, root-owned) temporary tree and handed to that
account, and ``initdb`` and ``postgres`` are started with that uid and gid.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from directus.process import free_port

SEARCH_GLOB = "/usr/lib/postgresql/*/bin"
RUN_AS_CANDIDATES = ("postgres", "nobody")
_PR_SET_PDEATHSIG = 1


class PgUnavailable(RuntimeError):
    """No PostgreSQL server can be made here (the reason says why); tests skip on it."""


def find_bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: from PATH, else the newest Debian one."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)) or (0,)

    candidates += sorted(Path("/").glob(SEARCH_GLOB.lstrip("/")), key=version, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def _run_as() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in RUN_AS_CANDIDATES:
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam(name)
            if account.pw_uid != 0:
                return account
    raise PgUnavailable(
        "running as root, and no unprivileged account (postgres, nobody) to run PostgreSQL as"
    )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """A server orphaned by a killed test run gets SIGINT: PostgreSQL's fast shutdown."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


@dataclass
class PgCluster:
    """One PostgreSQL server on a fresh cluster; use :meth:`create`, then :meth:`stop`."""

    bin_dir: Path
    root: Path
    port: int
    account: pwd.struct_passwd | None
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of a database on this server, as user ``postgres``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def directus_db(self, database: str) -> dict[str, str]:
        """Directus's ``DB_*`` settings for a database on this server."""
        return {
            "DB_CLIENT": "pg",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.port),
            "DB_DATABASE": database,
            "DB_USER": "postgres",
            "DB_PASSWORD": "",
        }

    # -- life cycle -----------------------------------------------------------------------

    @classmethod
    def create(cls, bin_dir: Path, *, timeout_s: float = 60) -> PgCluster:
        """``initdb`` a cluster in a new temporary folder and start its server."""
        account = _run_as()
        root = Path(tempfile.mkdtemp(prefix="tandem-pg-"))
        cluster = cls(bin_dir=bin_dir, root=root, port=free_port(), account=account)
        try:
            if account is not None:
                os.chown(root, account.pw_uid, account.pw_gid)
            cluster._initdb()
            cluster._start(timeout_s)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _child(self) -> dict[str, Any]:
        """Popen arguments that run a PostgreSQL program as the cluster's account."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        options: dict[str, Any] = {"env": env, "cwd": self.root}
        if self.account is not None:
            options.update(user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[])
        return options

    def _initdb(self) -> None:
        result = subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--locale=C",
                "--encoding=UTF8",
                "--username=postgres",
                "--auth=trust",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self._child(),
        )
        if result.returncode != 0:
            raise PgUnavailable(f"initdb failed:\n{(result.stdout + result.stderr)[-2000:]}")

    def _start(self, timeout_s: float) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.root}",
                "-c",
                "max_connections=50",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            **self._child(),
        )
        self._wait_until_up(timeout_s)

    def _wait_until_up(self, timeout_s: float) -> None:
        import psycopg

        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PgUnavailable(f"postgres exited at start:\n{self.log_tail()}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise PgUnavailable(f"postgres did not accept connections in {timeout_s:.0f}s")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if need be; remove the folder. Idempotent."""
        if self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=10)
            # Backends the postmaster left in its group, if it was killed.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases ------------------------------------------------------------------------

    def execute(self, sql: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement in autocommit (``CREATE DATABASE`` needs it); its rows."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type] - test-only, fixed SQL
            return list(cur.fetchall()) if cur.description else []

    def create_database(self, name: str, options: str = "") -> str:
        """Create a database (``options`` as in ``CREATE DATABASE name <options>``); its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"bad database name {name!r}")
        self.execute(f"CREATE DATABASE {name} {options}")
        return self.url(name)
