"""Each distributor's column mapping, kept in the hub's ``column_mappings`` for next time."""

from __future__ import annotations

from collections.abc import Mapping

from directus import ForbiddenOrMissing, HubClient
from domain import clock
from domain.ingest import FileError, check_date_format
from ingest.readers import FIELDS, ColumnMap

COLLECTION = "column_mappings"


def mapping_key(distributor: int, kind: str) -> str:
    return f"{distributor}:{kind}"


def load_mapping(hub: HubClient, distributor: int, kind: str) -> ColumnMap:
    """The saved mapping, or the default one (common header names, ISO dates)."""
    try:
        row = hub.read_item(COLLECTION, mapping_key(distributor, kind))
    except ForbiddenOrMissing:
        return ColumnMap()
    return ColumnMap(
        columns=dict(row.get("columns") or {}),
        date_format=row.get("date_format") or ColumnMap().date_format,
    )


def check_mapping(kind: str, columns: Mapping[str, str], date_format: str) -> None:
    """FileError naming what is wrong with a mapping someone entered."""
    unknown = sorted(set(columns) - set(FIELDS[kind]))
    if unknown:
        raise FileError(
            f"unknown field(s) {', '.join(unknown)} in the mapping; known: "
            f"{', '.join(FIELDS[kind])}"
        )
    try:
        check_date_format(date_format)
    except ValueError as exc:
        raise FileError(str(exc)) from None


def save_mapping(hub: HubClient, distributor: int, kind: str, mapping: ColumnMap) -> None:
    """Save (create or replace) a distributor's mapping for a data kind."""
    check_mapping(kind, mapping.columns, mapping.date_format)
    key = mapping_key(distributor, kind)
    body = {
        "columns": dict(mapping.columns),
        "date_format": mapping.date_format,
        "updated_at": clock.now().isoformat(),
    }
    try:
        hub.read_item(COLLECTION, key, fields=["id"])
    except ForbiddenOrMissing:
        hub.create_item(COLLECTION, {"id": key, "kind": kind, "distributor": distributor, **body})
        return
    hub.update_item(COLLECTION, key, body)
