"""The imports' API side: POS, inventory and forecast uploads, their progress, rejects, column
mappings and feed freshness.

``POST /api/v1/imports`` takes a distributor's file and answers 202 at once: the file is
spooled, the import is recorded in the hub (as the user, so the hub itself pins it to the
user's organization) and a separate process (``python -m ingest``) imports it through
the bulk lane. No web worker ever parses or merges a file. ``GET /api/v1/imports/<id>``
shows its progress (rows read, rejected, rate) and result; the rejects file downloads
from ``/api/v1/imports/<id>/rejects``. ``/api/v1/feeds`` gives each feed's freshness.
The service behind these routes is :mod:`portal.data.imports`, which the uploads pages
call too.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request, send_file
from flask_login import current_user

from portal.api.base import access, bp, config, json_body
from portal.auth import current_hub
from portal.data import DataError
from portal.data.imports import (
    check_kind,
    distributor_of,
    imports_of,
    mapping_of,
    own_import,
    rejects_path,
    save_column_mapping,
    start_upload,
)
from portal.data.insights import feeds_with_staleness
from portal.data.registry import INT_KEY
from portal.schemas.imports import ColumnMappingSchema, FeedSchema, ImportSchema


def _distributor() -> int:
    return distributor_of(current_user)


@bp.post("/imports")
def upload() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Upload a POS, inventory or forecast file (multipart ``file``, ``kind``, ``format``)."""
    record = start_upload(
        access(),
        config(),
        kind=request.form.get("kind"),
        fmt=request.form.get("format"),
        upload=request.files.get("file"),
    )
    location = f"/api/v1/imports/{record['id']}"
    return {"data": ImportSchema().dump(record)}, 202, {"Location": location}


@bp.get("/imports")
def list_imports() -> dict[str, Any]:
    """The organization's imports, newest first."""
    rows = imports_of(current_hub(), _distributor(), limit=_per_page())
    return {"data": ImportSchema().dump(rows, many=True)}


def _per_page() -> int:
    text = request.args.get("per_page", "50")
    if not text.isdigit() or not 1 <= int(text) <= 500:
        raise DataError("per_page must be 1 to 500", {"per_page": ["must be 1 to 500"]})
    return int(text)


@bp.get(f"/imports{INT_KEY}")
def get_import(key: int) -> dict[str, Any]:
    """One import's status: queued, running (rows so far, rate), done (counts) or failed."""
    return {"data": ImportSchema().dump(own_import(access(), key))}


@bp.get(f"/imports{INT_KEY}/rejects")
def get_rejects(key: int) -> Response:
    """The import's rejected rows as CSV: line, field, reason."""
    path = rejects_path(own_import(access(), key), config())
    return send_file(
        path, mimetype="text/csv", as_attachment=True, download_name=f"import-{key}-rejects.csv"
    )


@bp.get("/column-mappings/<kind>")
def get_mapping(kind: str) -> dict[str, Any]:
    """The distributor's saved columns for a data kind (empty: common header names)."""
    data = mapping_of(current_hub(), _distributor(), check_kind(kind))
    return {"data": ColumnMappingSchema().dump(data)}


@bp.put("/column-mappings/<kind>")
def put_mapping(kind: str) -> dict[str, Any]:
    """Save which header holds which field, and how the files are written (date format,
    encoding, delimiter, decimal and thousands separators), for next time."""
    org, kind = _distributor(), check_kind(kind)
    data = save_column_mapping(current_hub(), org, kind, json_body())
    return {"data": ColumnMappingSchema().dump(data)}


@bp.get("/feeds")
def feeds() -> dict[str, Any]:
    """Freshness per distributor and data kind: data through, last received, stale."""
    rows = feeds_with_staleness(access(), config().stale_after_days)
    return {"data": FeedSchema().dump(rows, many=True)}
