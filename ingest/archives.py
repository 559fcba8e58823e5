"""Zip archives checked from their directory before anything is unpacked.

An ``.xlsx`` file is a zip. Python's zipfile never inflates a member past its declared
size, so the declared sizes bound what opening it can cost: :func:`check_zip` refuses a
file that is not a zip, has too many members, would unpack past a cap, or has a member
compressed far better than real data ever is (a zip bomb). The POS and inventory reader
and the promotions workbook reader both call it, each with its own caps.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from domain.ingest import FileError

#: A member bigger than :data:`RATIO_FLOOR` may not inflate more than this many times.
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
MAX_MEMBERS = 1000

NOT_XLSX = (
    "The file is not an Excel workbook (.xlsx). Save it from Excel as "
    "“Excel Workbook (.xlsx)” and upload it again."
)


class ArchiveError(FileError):
    """The archive is refused as a whole; the message says why and what to do."""


def check_zip(
    source: Path | IO[bytes],
    *,
    max_uncompressed: int,
    max_ratio: int = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
    member_caps: Mapping[str, int] | None = None,
    what: str = "a workbook",
) -> None:
    """Refuse a file that is not a zip, or whose members would unpack too big
    (``member_caps``: a cap of its own for a member read whole, by name)."""
    try:
        if not zipfile.is_zipfile(source):
            raise ArchiveError(NOT_XLSX)
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ArchiveError(NOT_XLSX) from None
    finally:
        if not isinstance(source, Path):
            source.seek(0)
    if len(members) > max_members:
        raise ArchiveError(
            f"The workbook has {len(members)} parts; {what} has far fewer "
            f"(at most {max_members}). It was not opened."
        )
    caps = member_caps or {}
    total = 0
    for info in members:
        cap = caps.get(info.filename)
        if cap is not None and info.file_size > cap:
            raise ArchiveError(
                f"A part of the workbook ({info.filename}) would unpack to more than "
                f"{cap // (1024 * 1024)} MB, which is read whole. It was not opened."
            )
        total += info.file_size
        if total > max_uncompressed:
            raise ArchiveError(
                f"The workbook would unpack to more than {max_uncompressed // (1024 * 1024)} MB. "
                "It was not opened: it is either far too large or a zip bomb."
            )
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ArchiveError(
                f"A part of the workbook ({info.filename}) is compressed "
                f"{info.file_size // max(info.compress_size, 1)} times, far more than real "
                "data ever is. It was not opened: it looks like a zip bomb."
            )
