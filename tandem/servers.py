"""The servers of the production topology, run from Debian's binaries on this machine.

``tandem run --production`` (:mod:`tandem.production`) and the tests start them as child
processes, each on its own folder and loopback port, each dying with its owner:

- :class:`Postgres`: one PostgreSQL server on a cluster folder, made by ``initdb`` the first
  time (byte-order collation, as the bulk lane requires). PostgreSQL refuses to run as
  root; as root, the cluster is made and run as an unprivileged account (``postgres`` if
  it exists, else ``nobody``), so its folder must be reachable by that account.
- :class:`Redis`: one ``redis-server``, nothing saved to disk (it holds rate-limit counts,
  the hubs' synchronization, the scheduler's lease: all rebuilt on a restart).
- :class:`Haproxy`: the load balancer in front of the hub instances, from
  :func:`haproxy_config`, the same configuration ``docker-compose.yml`` mounts.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from directus.process import free_port, spawn, stop_process

POSTGRES_GLOB = "usr/lib/postgresql/*/bin"
RUN_AS_CANDIDATES = ("postgres", "nobody")


class ServerUnavailable(RuntimeError):
    """A server cannot be made or started here; the message says why and what to install."""


def _wait(
    ready: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerUnavailable(f"{what} exited at start:\n{_tail(log)}")
        if ready():
            return
        time.sleep(0.1)
    raise ServerUnavailable(f"{what} did not come up within {timeout_s:.0f}s; see {log}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# -- PostgreSQL ---------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: from PATH, else the newest Debian one."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)) or (0,)

    candidates += sorted(Path("/").glob(POSTGRES_GLOB), key=version, reverse=True)
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
    raise ServerUnavailable(
        "running as root, and no unprivileged account (postgres, nobody) to run PostgreSQL as"
    )


def _check_reachable(folder: Path) -> None:
    """As root, PostgreSQL's account must be able to walk down to its folder."""
    for parent in reversed(folder.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise ServerUnavailable(
                f"PostgreSQL runs as an unprivileged account here and cannot enter {parent} "
                f"(mode {stat.filemode(mode)}); put the state folder (TANDEM_STATE_DIR) "
                "where other accounts can reach it"
            )


def _die_with_parent_sigint() -> None:  # pragma: no cover - runs in the child before exec
    """An orphaned server gets SIGINT, PostgreSQL's fast shutdown."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)


@dataclass
class Postgres:
    """One PostgreSQL server on the cluster in ``root/data``; :meth:`start`, :meth:`stop`.

    Connections over TCP on 127.0.0.1 need ``user``'s password (scram-sha-256) when one
    is given; without one, local connections are trusted (tests' throwaway clusters).
    """

    bin_dir: Path
    root: Path
    port: int
    user: str = "postgres"
    password: str = ""
    max_connections: int = 100
    account: pwd.struct_passwd | None = field(default_factory=_run_as)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    @property
    def version(self) -> str:
        """The server's version, e.g. ``15.18``."""
        out = subprocess.run(
            [str(self.bin_dir / "postgres"), "--version"], capture_output=True, text=True,
            check=True,
        ).stdout  # fmt: skip
        return re.search(r"\d+(\.\d+)+", out).group(0)  # type: ignore[union-attr]

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of a database on this server."""
        login = f"{self.user}:{self.password}" if self.password else self.user
        return f"postgresql://{login}@127.0.0.1:{self.port}/{database}"

    def directus_db(self, database: str) -> dict[str, str]:
        """Directus's ``DB_*`` settings for a database on this server."""
        return {
            "DB_CLIENT": "pg",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.port),
            "DB_DATABASE": database,
            "DB_USER": self.user,
            "DB_PASSWORD": self.password,
        }

    def _child(self) -> dict[str, Any]:
        """Popen arguments that run a PostgreSQL program as the cluster's account."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        options: dict[str, Any] = {"env": env, "cwd": self.root}
        if self.account is not None:
            options.update(user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[])
        return options

    def initdb(self) -> None:
        """Make the cluster, unless ``root/data`` already holds one."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if self.account is not None:
            _check_reachable(self.root)
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        shutil.rmtree(self.data_dir, ignore_errors=True)  # a cluster whose initdb failed
        argv = [str(self.bin_dir / "initdb"), "--pgdata", str(self.data_dir), "--locale=C",
                "--encoding=UTF8", f"--username={self.user}", "--no-sync"]  # fmt: skip
        pwfile = self.root / "initdb.pw"
        if self.password:
            pwfile.write_text(self.password)
            if self.account is not None:
                os.chown(pwfile, self.account.pw_uid, self.account.pw_gid)
            pwfile.chmod(0o600)
            argv += ["--auth-host=scram-sha-256", "--auth-local=peer", f"--pwfile={pwfile}"]
        else:
            argv.append("--auth=trust")
        try:
            result = subprocess.run(
                argv, capture_output=True, text=True, timeout=120, check=False, **self._child()
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ServerUnavailable(f"initdb failed:\n{(result.stdout + result.stderr)[-2000:]}")

    def start(self, timeout_s: float = 60) -> None:
        """Start the server (making the cluster first if need be); return once it answers."""
        self.initdb()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
             "-c", f"max_connections={self.max_connections}"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent_sigint,
            **self._child(),
        )  # fmt: skip
        _wait(self.accepts, self.process, "postgres", self.log_path, timeout_s)

    def accepts(self) -> bool:
        """Whether the server takes a connection now."""
        import psycopg

        try:
            psycopg.connect(self.url(), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if need be. Idempotent; the cluster stays."""
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

    def execute(self, sql: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement in autocommit (``CREATE DATABASE`` needs it); its rows."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type] - the operator's own fixed SQL
            return list(cur.fetchall()) if cur.description else []

    def create_database(self, name: str, options: str = "") -> str:
        """Create a database (``options`` as in ``CREATE DATABASE name <options>``); its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"bad database name {name!r}")
        self.execute(f"CREATE DATABASE {name} {options}")
        return self.url(name)

    def ensure_database(self, name: str) -> str:
        """The database's URL, creating it if it does not exist yet."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return self.url(name) if found else self.create_database(name)


# -- a Debian server as a child --------------------------------------------------------------


@dataclass
class _Child:
    """A Debian server run in the foreground as this process's child, logging to a file."""

    root: Path
    #: The program's name, and where Debian puts it when it is not in PATH.
    binary: str = field(default="", kw_only=True)
    package: str = field(default="", kw_only=True)
    process: subprocess.Popen[bytes] | None = field(default=None, kw_only=True)
    _log: IO[bytes] | None = field(default=None, repr=False, kw_only=True)

    @property
    def log_path(self) -> Path:
        return self.root / f"{self.binary}.log"

    def _binary(self) -> str:
        found = shutil.which(self.binary) or next(
            (str(p) for p in (Path("/usr/sbin") / self.binary,) if p.is_file()), None
        )
        if not found:
            raise ServerUnavailable(
                f"{self.binary} is not installed: apt-get install {self.package}"
            )
        return found

    def _version(self, flag: str, pattern: str) -> str:
        out = subprocess.run([self._binary(), flag], capture_output=True, text=True, check=True)
        return re.search(pattern, out.stdout).group(1)  # type: ignore[union-attr]

    def _spawn(self, args: list[str], ready: Callable[[], bool], timeout_s: float) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the server
        self.process = spawn(
            [self._binary(), *args],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            cwd=self.root,
            stdout=self._log,
        )
        _wait(ready, self.process, self.binary, self.log_path, timeout_s)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


# -- Redis --------------------------------------------------------------------------------


@dataclass
class Redis(_Child):
    """One ``redis-server`` on loopback; nothing it holds is saved to disk."""

    port: int = field(default_factory=free_port)
    binary: str = field(default="redis-server", kw_only=True)
    package: str = field(default="redis-server", kw_only=True)

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    @property
    def version(self) -> str:
        return self._version("--version", r"v=(\d+(\.\d+)+)")

    def start(self, timeout_s: float = 30) -> None:
        self._spawn(
            ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--protected-mode", "yes"],
            self.answers,
            timeout_s,
        )  # fmt: skip

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url(), socket_timeout=1).ping())
        except redis.RedisError:
            return False


# -- HAProxy ------------------------------------------------------------------------------

#: The hub's health check, as docker-compose.yml's hub healthcheck has it.
HEALTH_PATH = "/server/ping"


def haproxy_config(
    bind: str, servers: Sequence[tuple[str, str]], *, resolver: str | None = None
) -> str:
    """HAProxy's configuration for the hub instances ``servers`` ((name, host:port) pairs).

    - A health check every second; two failures take an instance out, two passes put it
      back. A request that cannot connect is sent to another instance (``redispatch``).
    - Only a request that cannot reach an instance is retried whatever its method. A
      GET, HEAD or OPTIONS is also retried when its instance dies under it (an empty
      response); a write is not, as it may have been applied. A slow answer or a 503 is
      not retried: that would only multiply the load on instances already behind.
    - ``leastconn``: a slow aggregate on one instance does not hold up others' requests.
    - Long server timeout: the portal's exports read for a while.
    - ``resolver`` (compose's DNS, ``127.0.0.11:53``): names are looked up again as
      containers come and go; an instance whose name does not resolve yet starts down.
    """
    lines = [
        "# Written by tandem.servers.haproxy_config; tests/test_compose.py compares.",
        "global",
        "    maxconn 4096",
    ]
    if resolver:
        lines += ["resolvers dns", f"    nameserver dns1 {resolver}", "    hold valid 10s"]
    lines += [
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 300s",
        "    timeout server 300s",
        "    timeout http-request 30s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response",
        "frontend hub",
        f"    bind {bind}",
        "    http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS",
        "    default_backend hubs",
        "backend hubs",
        "    balance leastconn",
        f"    option httpchk GET {HEALTH_PATH}",
        "    http-check expect string pong",
        "    default-server inter 1s fall 2 rise 2"
        + (" resolvers dns init-addr last,libc,none" if resolver else ""),
        *(f"    server {name} {address} check" for name, address in servers),
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Haproxy(_Child):
    """HAProxy in the foreground on ``port``, balancing the hub instances given."""

    servers: Sequence[tuple[str, str]] = ()
    port: int = field(default_factory=free_port)
    binary: str = field(default="haproxy", kw_only=True)
    package: str = field(default="haproxy", kw_only=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.root / "haproxy.cfg"

    @property
    def version(self) -> str:
        return self._version("-v", r"version (\d+(\.\d+)+)")

    def start(self, timeout_s: float = 30) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(haproxy_config(f"127.0.0.1:{self.port}", self.servers))
        check = subprocess.run([self._binary(), "-c", "-q", "-f", str(self.config_path)],
                               capture_output=True, text=True, check=False)  # fmt: skip
        if check.returncode != 0:
            raise ServerUnavailable(f"HAProxy refused {self.config_path}:\n{check.stderr}")
        self._spawn(["-db", "-f", str(self.config_path)], self.routes, timeout_s)

    def routes(self) -> bool:
        """Whether a hub answers through the balancer."""
        if not _listening(self.port):
            return False
        try:
            return requests.get(f"{self.url}{HEALTH_PATH}", timeout=2).status_code == 200
        except requests.RequestException:
            return False
