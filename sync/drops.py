"""The drop-folder job: import what distributors left in their folders.

Each distributor has a folder ``<drop>/<distributor id>/`` with an inbox per data kind,
``pos/`` and ``inventory/`` (the shape of an SFTP mailbox). Partners write a file
atomically: under a temporary name (a leading ``.``, or ``.tmp`` / ``.part``), then
renamed; those names are never picked up, nor is a file modified in the last
``settle_s`` seconds. Each file is imported through the bulk lane, then moved:

- to ``archive/<kind>/`` when it landed; its rejects file, if any, is kept in the spool
  (``<spool>/<import id>/rejects.csv``) as an upload's is, so the distributor downloads
  it from the import's page or the API like any other;
- to ``rejected/<kind>/`` with a ``.reason.txt`` when it was structurally wrong, or broke
  a reader in a way it did not foresee (a sheet cut short, say): nothing of it landed,
  and the poll goes on to the next file and folder.

A failure of the machinery rather than of the file (the hub or the database unreachable
or locked) leaves the file where it is, for the next poll.

A file is moved only after its import is committed, so a crash in between imports it
again on the next run, which changes nothing: an import is idempotent.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

import psycopg

from directus import ForbiddenOrMissing, HubError
from directus.bulk import ForeignRow, LaneError, open_lane
from domain import clock
from domain.ingest import KINDS, FileError
from ingest.mappings import load_mapping
from ingest.pipeline import run_import
from ingest.readers import ColumnMap
from sync.mailbox import move_unique, quarantine, ready_files
from sync.runs import JobContext, iso

#: Failures that are not the file's: it stays in the inbox and is tried again next poll.
#: (An OSError is the file's as often as not, unreadable say: it is quarantined.)
NOT_THE_FILE = (HubError, LaneError, sqlite3.OperationalError, psycopg.OperationalError,
                psycopg.InterfaceError)  # fmt: skip


def poll_drop_folders(ctx: JobContext) -> None:
    """Import every settled file in every distributor's inboxes."""
    drop = Path(ctx.settings["drop_dir"])
    if not drop.is_dir():
        return
    settle_s = float(ctx.settings.get("settle_s", 5))
    now = time.time()
    for folder in sorted(p for p in drop.iterdir() if p.is_dir()):
        if not folder.name.isdigit():
            ctx.item_failed(folder.name, ValueError("a drop folder is named by distributor id"))
            continue
        distributor = int(folder.name)
        for kind in KINDS:
            files = ready_files(folder / kind, settle_s, now)
            if not files:
                continue
            try:
                org = ctx.hub.read_item("organizations", distributor, fields=["kind", "status"])
            except ForbiddenOrMissing:
                org = None
            if not org or org["kind"] != "distributor" or org["status"] != "active":
                ctx.item_failed(folder.name, ValueError("not an active distributor"))
                break
            mapping = load_mapping(ctx.hub, distributor, kind)
            for path in files:
                _import_one(ctx, path, folder, distributor, kind, mapping)


def _import_one(
    ctx: JobContext, path: Path, folder: Path, distributor: int, kind: str, mapping: ColumnMap
) -> None:
    record = ctx.hub.create_item(
        "imports",
        {"kind": kind, "format": "csv", "filename": path.name, "source": "drop",
         "distributor": distributor},
        fields=["id"],
    )  # fmt: skip
    rejects = Path(ctx.settings["spool_dir"]) / str(record["id"]) / "rejects.csv"
    try:
        with open_lane(ctx.settings["lane_url"]) as lane:
            result = run_import(
                lane,
                path,
                distributor=distributor,
                kind=kind,
                mapping=mapping,
                import_id=int(record["id"]),
                rejects_path=rejects,
            )
    except (FileError, ForeignRow) as exc:
        _quarantine(ctx, path, folder, kind, str(exc))
        return
    except NOT_THE_FILE as exc:
        ctx.item_failed(str(path), exc)
        return
    except Exception as exc:  # the file broke a reader in a way it did not foresee
        reason = f"the file could not be read ({type(exc).__name__}: {exc})"
        _quarantine(ctx, path, folder, kind, reason)
        return
    move_unique(path, folder / "archive" / kind)
    ctx.counts["files"] += 1
    ctx.counts["rows_new"] += result.new
    ctx.counts["rows_changed"] += result.changed
    ctx.counts["rows_rejected"] += result.rows_rejected


def _quarantine(ctx: JobContext, path: Path, folder: Path, kind: str, reason: str) -> None:
    quarantine(path, folder / "rejected" / kind, reason)
    ctx.counts["rejected_files"] += 1
    ctx.log.warning("%s refused: %s", path, reason)


def reap_imports(ctx: JobContext) -> None:
    """Mark imports that never finished as failed: their process died hard (killed,
    out of memory) before it could say so. Nothing of them landed: a merge is one
    transaction, and it writes the import's result inside it."""
    hours = int(ctx.settings["after_hours"])
    cutoff = iso(clock.now() - dt.timedelta(hours=hours))
    stuck = ctx.hub.read_items(
        "imports",
        filter={
            "_and": [
                {"status": {"_in": ["queued", "running"]}},
                {"created_at": {"_lt": cutoff}},
            ]
        },
        fields=["id"],
        limit=-1,
    )
    for row in stuck:
        ctx.hub.update_item(
            "imports",
            row["id"],
            {
                "status": "failed",
                "error": f"abandoned: no result {hours} hours after it was received",
                "finished_at": iso(clock.now()),
            },
        )
        ctx.counts["reaped"] += 1
