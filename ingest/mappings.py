"""Each distributor's column mapping, kept in the hub's ``column_mappings`` for next time.

A mapping is a :class:`ingest.readers.ColumnMap`: the columns, the date format, and how
the files are written (encoding, delimiter, decimal and thousands separators). A stored
row that predates a setting (or leaves it empty) reads as the default, which is how
files were read before the setting existed.
"""

from __future__ import annotations

from typing import Any

from directus import ForbiddenOrMissing, HubClient
from domain import clock
from domain.ingest import FileError, check_date_format, check_separators
from ingest.readers import DELIMITERS, ENCODINGS, FIELDS, ColumnMap

COLLECTION = "column_mappings"
#: ColumnMap attribute -> its field in the hub (and in the partner API).
STORED = {
    "columns": "columns",
    "date_format": "date_format",
    "encoding": "encoding",
    "delimiter": "delimiter",
    "decimal": "decimal_separator",
    "thousands": "thousands_separator",
}


class MappingError(FileError):
    """A mapping someone entered is not valid; ``field`` names the stored field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def mapping_key(distributor: int, kind: str) -> str:
    return f"{distributor}:{kind}"


def mapping_from_row(row: dict[str, Any]) -> ColumnMap:
    """The mapping a stored row holds; a setting it leaves out or empty is the default."""
    default = ColumnMap()
    settings = {name: row.get(stored) or getattr(default, name) for name, stored in STORED.items()}
    return ColumnMap(**{**settings, "columns": dict(row.get("columns") or {})})


def mapping_row(mapping: ColumnMap) -> dict[str, Any]:
    """The stored fields of a mapping, named as the hub and the partner API name them."""
    row = {stored: getattr(mapping, name) for name, stored in STORED.items()}
    return {**row, "columns": dict(mapping.columns)}


def load_mapping(hub: HubClient, distributor: int, kind: str) -> ColumnMap:
    """The saved mapping, or the default one (common header names, ISO dates)."""
    try:
        row = hub.read_item(COLLECTION, mapping_key(distributor, kind))
    except ForbiddenOrMissing:
        return ColumnMap()
    return mapping_from_row(row)


def check_mapping(kind: str, mapping: ColumnMap) -> None:
    """:class:`MappingError` naming the field that is wrong with a mapping someone entered."""
    unknown = sorted(set(mapping.columns) - set(FIELDS[kind]))
    if unknown:
        raise MappingError(
            "columns",
            f"unknown field(s) {', '.join(unknown)} in the mapping; known: "
            f"{', '.join(FIELDS[kind])}",
        )
    checks = (
        ("date_format", lambda: check_date_format(mapping.date_format)),
        ("decimal_separator", lambda: check_separators(mapping.decimal, "")),
        ("thousands_separator", lambda: check_separators(mapping.decimal, mapping.thousands)),
    )
    for field, check in checks:
        try:
            check()
        except ValueError as exc:
            raise MappingError(field, str(exc)) from None
    if mapping.encoding not in ENCODINGS:
        raise MappingError(
            "encoding", f"encoding {mapping.encoding!r} is not one of: {', '.join(ENCODINGS)}"
        )
    if mapping.delimiter not in DELIMITERS:
        named = ", ".join(repr(d) for d in DELIMITERS)
        raise MappingError(
            "delimiter", f"delimiter {mapping.delimiter!r} is not one of: {named} ('' finds it)"
        )


def save_mapping(hub: HubClient, distributor: int, kind: str, mapping: ColumnMap) -> None:
    """Save (create or replace) a distributor's mapping for a data kind."""
    check_mapping(kind, mapping)
    key = mapping_key(distributor, kind)
    body = {**mapping_row(mapping), "updated_at": clock.now().isoformat()}
    try:
        hub.read_item(COLLECTION, key, fields=["id"])
    except ForbiddenOrMissing:
        hub.create_item(COLLECTION, {"id": key, "kind": kind, "distributor": distributor, **body})
        return
    hub.update_item(COLLECTION, key, body)
