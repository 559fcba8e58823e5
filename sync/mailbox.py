"""Folder mailboxes, the shape of an SFTP mailbox: what partners leave for Tandem (drop
folders of POS and inventory files, EDI inboxes) and what Tandem leaves for them.

A writer never shows a half-written file: it writes under a temporary name (a leading
``.``, or ``.tmp`` / ``.part`` / ``.partial``), flushes it to disk, then renames it, and a
reader never picks up such names, nor a file modified in the last ``settle_s`` seconds
(a partner whose client cannot rename). What was processed is moved to an archive, and
what was refused to a rejected folder with its reason beside it; nothing is deleted.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

PARTIAL_SUFFIXES = (".tmp", ".part", ".partial")
REASON_SUFFIX = ".reason.txt"


class TooLarge(ValueError):
    """A file larger than a reader takes: refused without reading it."""


def is_ready(path: Path, settle_s: float, now: float) -> bool:
    """A whole file: a regular file (never a symbolic link, which could point a reader
    at any file of this machine), not a temporary name, settled for ``settle_s``
    seconds. One that vanishes meanwhile (its sender took it back) is not ready."""
    if path.name.startswith(".") or path.name.endswith(PARTIAL_SUFFIXES):
        return False
    try:
        if path.is_symlink() or not path.is_file():
            return False
        return now - path.stat().st_mtime >= settle_s
    except FileNotFoundError:
        return False


def ready_files(folder: Path, settle_s: float, now: float) -> list[Path]:
    """The whole files in ``folder``, by name (nothing if it does not exist)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if is_ready(p, settle_s, now))


def move_unique(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` without overwriting an earlier file of that name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(path, target)
    return target


def quarantine(path: Path, folder: Path, reason: str) -> Path:
    """Move a refused file into ``folder`` with ``<name>.reason.txt`` beside it."""
    moved = move_unique(path, folder)
    moved.with_name(f"{moved.name}{REASON_SUFFIX}").write_text(f"{reason}\n", encoding="utf-8")
    return moved


class Conflict(Exception):
    """Another file of this name is there already, with other content."""


def deliver(
    folder: Path, name: str, payload: bytes | Iterable[bytes], *, replace: bool = True
) -> Path:
    """Leave ``payload`` (bytes, or chunks of them as they arrive) as ``folder/name``,
    atomically: written under a partial name of its own (two writers of one name never
    mix their bytes), flushed to disk, then renamed, replacing an earlier delivery of
    the same name (so delivering again after a crash leaves one whole file). With
    ``replace=False`` a file already there is kept: the same content again changes
    nothing, other content raises :class:`Conflict`. A payload that fails midway leaves
    nothing behind."""
    if not name or name != Path(name).name or name.startswith("."):
        raise ValueError(f"{name!r} is not a plain file name")
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in [payload] if isinstance(payload, bytes) else payload:
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        target = folder / name
        if not replace and target.exists():
            if _sha256(target) != digest.hexdigest():
                raise Conflict(f"{name} is here already, with other content")
            return target
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or :class:`TooLarge` without reading a file past ``max_bytes``."""
    size = path.stat().st_size
    if size > max_bytes:
        raise TooLarge(f"{path.name} is {size:,} bytes; the most this takes is {max_bytes:,}")
    with path.open("rb") as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while being read
        raise TooLarge(f"{path.name} is more than {max_bytes:,} bytes")
    return data
