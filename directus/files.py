"""Small file primitives the hub's owners share: a holder-naming lock, a private secrets file."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any


class LockHeld(Exception):
    """Another process holds the lock; ``holder`` is what it wrote into the lock file."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is held by {holder}")
        self.path = path
        self.holder = holder


def claim_lock(path: Path, note: str) -> IO[str]:
    """Take an exclusive lock on ``path`` without waiting, and write ``note`` into it.

    The lock lasts while the returned handle is open (and dies with the process).
    Raises :class:`LockHeld` naming the current holder.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - the caller holds it for the lock's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise LockHeld(path, holder) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{note}\n")
    handle.flush()
    return handle


def write_private_json(path: Path, data: Any) -> None:
    """Write secrets readable by their owner only (0600), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    tmp.replace(path)
