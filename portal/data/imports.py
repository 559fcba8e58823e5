"""Uploads of POS and inventory files: the service the partner API
(:mod:`portal.api.imports`) and the uploads pages (:mod:`portal.journeys.uploads`) both
call.

:func:`start_upload` spools a distributor's file, records the import in the hub (as the
user, so the hub itself pins it to the user's organization) and starts a separate
process (``python -m ingest``) that imports it through the bulk lane: no web worker ever
parses or merges a file. :func:`own_import`, :func:`imports_of`, :func:`rejects_path`,
:func:`mapping_of` and :func:`save_column_mapping` read and keep the rest; feeds'
freshness comes from :func:`portal.data.insights.feeds_with_staleness`, as on every page.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from directus import ForbiddenOrMissing, HubClient
from domain.ingest import KINDS
from domain.roles import DISTRIBUTOR_USER
from ingest.mappings import STORED, MappingError, load_mapping, mapping_row, save_mapping
from ingest.readers import FIELDS, FORMATS, ColumnMap
from portal.config import Config
from portal.data.access import DataAccess
from portal.data.errors import DataError, Forbidden, NotFound

IMPORT_FIELDS = [
    "id", "kind", "format", "filename", "status", "source", "distributor", "rows_read",
    "rows_new", "rows_changed", "rows_unchanged", "rows_rejected", "rows_per_s",
    "data_from", "data_through", "created_at", "started_at", "finished_at", "error",
    "rejects",
]  # fmt: skip
FEED_FIELDS = ["id", "distributor", "kind", "data_through", "received_at", "stale_after_days"]


class UploadsOff(DataError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


def distributor_of(user: Any) -> int:
    """The distributor user's organization, or 403."""
    if user.role != DISTRIBUTOR_USER or not user.organization_id:
        raise Forbidden("only a distributor's users upload its POS and inventory files")
    return int(user.organization_id)


def check_kind(value: str | None) -> str:
    """The data kind, or 400 naming the ``kind`` field."""
    if value not in KINDS:
        raise DataError("unknown data kind", {"kind": [f"must be one of {', '.join(KINDS)}"]})
    return value


def own_import(acc: DataAccess, key: int) -> dict[str, Any]:
    """An import of the user's own organization (checked here and by the hub), or 404.

    Asking for another organization's import (or a missing one) is audited as a denial.
    """
    org = distributor_of(acc.actor)
    try:
        row = acc.hub.read_item("imports", key, fields=IMPORT_FIELDS)
    except ForbiddenOrMissing:
        row = None
    if row is None or int(row["distributor"]) != org:
        acc.record("denied", "imports", [key], {"reason": "not visible", "read": True})
        raise NotFound(f"no import {key}")
    return row


def _start_worker(config: Config, args: list[str]) -> None:
    """Run ``python -m ingest`` in its own session; a thread reaps it when it ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ},
    )
    threading.Thread(target=proc.wait, name=f"ingest-{proc.pid}", daemon=True).start()


def start_upload(
    acc: DataAccess,
    config: Config,
    *,
    kind: str | None,
    fmt: str | None,
    upload: FileStorage | None,
    source: str = "api",
) -> dict[str, Any]:
    """Record an import, spool the file and start ``python -m ingest`` on it; the new
    import row (status ``queued``). Refusals name the field (``kind``, ``format``,
    ``file``); nothing is recorded or spooled for a refused request."""
    org = distributor_of(acc.actor)
    if not config.hub_db_url or not config.spool_dir:
        raise UploadsOff("uploads are not configured on this portal (TANDEM_HUB_DB_URL)")
    kind = check_kind(kind)
    fmt = fmt or None
    if fmt is not None and fmt not in FORMATS:
        raise DataError("unknown format", {"format": [f"must be one of {', '.join(FORMATS)}"]})
    if upload is None or not upload.filename:
        raise DataError("send the file as multipart field 'file'", {"file": ["missing"]})
    filename = secure_filename(upload.filename) or "upload"
    hub = acc.hub
    record = hub.create_item(
        "imports",
        {"kind": kind, "format": fmt or "csv", "filename": filename, "source": source,
         "distributor": org},  # the hub presets user: the signed-in user
        fields=IMPORT_FIELDS,
    )  # fmt: skip
    folder = config.spool_dir / str(record["id"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    upload.save(path)
    mapping = load_mapping(hub, org, kind)
    _start_worker(
        config,
        [
            str(path),
            "--db", config.hub_db_url,
            "--distributor", str(org),
            "--kind", kind,
            "--import-id", str(record["id"]),
            "--rejects", str(folder / "rejects.csv"),
            "--mapping", json.dumps(dataclasses.asdict(mapping)),
            "--delete-after",
            *(["--format", fmt] if fmt else []),
        ],
    )  # fmt: skip
    return record


def imports_of(hub: HubClient, org: int, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """The organization's imports, newest first (``limit=-1``: all of them)."""
    rows = hub.read_items(
        "imports",
        filter={"distributor": {"_eq": org}},
        fields=IMPORT_FIELDS,
        sort=["-id"],
        limit=limit,
        offset=offset,
    )
    return [r for r in rows if int(r["distributor"]) == org]


def count_imports(hub: HubClient, org: int) -> int:
    """How many imports the organization has."""
    return hub.count_items("imports", filter={"distributor": {"_eq": org}})


def iter_imports(hub: HubClient, org: int) -> Iterator[dict[str, Any]]:
    """Every import of the organization, newest first, a page at a time."""
    rows = hub.iter_items(
        "imports",
        page_size=1000,
        sort=["-id"],
        filter={"distributor": {"_eq": org}},
        fields=IMPORT_FIELDS,
    )
    return (r for r in rows if int(r["distributor"]) == org)


def rejects_path(row: Mapping[str, Any], config: Config) -> Path:
    """Where the import's rejects file is kept, or 404 when it has none (any more)."""
    key = row["id"]
    if not row.get("rejects") or config.spool_dir is None:
        raise NotFound(f"import {key} has no rejected rows")
    path = config.spool_dir / str(key) / Path(row["rejects"]).name
    if not path.is_file():
        raise NotFound(f"the rejects file of import {key} is no longer kept")
    return path


#: The settings of a mapping besides its columns, as the API and the form name them.
SETTINGS = tuple(stored for name, stored in STORED.items() if name != "columns")


def mapping_of(hub: HubClient, org: int, kind: str) -> dict[str, Any]:
    """The organization's saved mapping for a kind (empty columns: common header names;
    the settings it never saved are the defaults)."""
    mapping = load_mapping(hub, org, check_kind(kind))
    return {"kind": kind, **mapping_row(mapping), "fields_": list(FIELDS[kind])}


def set_cadence(hub: HubClient, org: int, kind: str | None, days: int | None) -> None:
    """Set the cadence (days between deliveries) of the distributor's own feed of
    ``kind``, or with ``None`` clear it, so that the one learned from its deliveries
    counts; 404 while it has no such feed (it appears with its first delivery). The
    user's own hub session: the hub lets a distributor change only this field of its own
    feeds."""
    kind = check_kind(kind)
    try:
        hub.update_item("feeds", f"{org}:{kind}", {"cadence_days": days}, fields=["id"])
    except ForbiddenOrMissing as exc:
        raise NotFound(
            f"you have no {kind} feed yet: it appears with your first delivery",
            {"kind": ["no feed of this kind yet"]},
        ) from exc


def save_column_mapping(
    hub: HubClient, org: int, kind: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Check and save which header holds which field and how the files are written;
    400 naming the field that is not valid (an unknown one included). A setting left
    out (or null) is the default, as when it was never saved; whatever is saved reads
    back as it was given."""
    kind = check_kind(kind)
    unknown = sorted(set(body) - {"columns", *SETTINGS})
    if unknown:
        raise DataError(
            f"unknown field(s): {', '.join(unknown)}",
            {
                name: ["unknown field; a mapping has: columns, " + ", ".join(SETTINGS)]
                for name in unknown
            },
        )
    columns = body.get("columns") or {}
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in columns.items()
    ):
        raise DataError("columns must map field names to header names", {"columns": ["invalid"]})
    for name in SETTINGS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise DataError(f"{name} must be text", {name: ["must be text"]})
    default = ColumnMap()
    given = {
        attr: getattr(default, attr) if body.get(stored) is None else body[stored]
        for attr, stored in STORED.items()
        if attr != "columns"
    }
    mapping = ColumnMap(columns=columns, **given)
    try:
        save_mapping(hub, org, kind, mapping)
    except MappingError as exc:
        raise DataError(str(exc), {exc.field: [str(exc)]}) from None
    return {"kind": kind, **mapping_row(mapping), "fields_": list(FIELDS[kind])}
