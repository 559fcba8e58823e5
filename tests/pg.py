"""A throwaway PostgreSQL cluster for tests: :class:`tandem.servers.Postgres` in a new
temporary folder, trusting every local connection (user ``postgres``, no password),
removed when it stops.

The folder is made outside pytest's private (0700, root-owned) temporary tree: as root,
PostgreSQL runs as an unprivileged account, which must reach it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from directus.process import free_port
from tandem.servers import Postgres, ServerUnavailable, postgres_bin_dir

#: No PostgreSQL server can be made here (the reason says why); tests skip on it.
PgUnavailable = ServerUnavailable
find_bin_dir = postgres_bin_dir


@dataclass
class PgCluster(Postgres):
    """A :class:`Postgres` on a fresh temporary cluster; :meth:`create`, then :meth:`stop`."""

    @classmethod
    def create(cls, bin_dir: Path, *, timeout_s: float = 60) -> PgCluster:
        """``initdb`` a cluster in a new temporary folder and start its server."""
        cluster = cls(bin_dir=bin_dir, root=Path(tempfile.mkdtemp(prefix="tandem-pg-")),
                      port=free_port(), max_connections=50)  # fmt: skip
        try:
            cluster.start(timeout_s)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def stop(self) -> None:
        """Stop the server and remove its folder. Idempotent."""
        super().stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
