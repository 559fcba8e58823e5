"""Imports of distributors' POS, inventory and forecast files, feed freshness, mappings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from domain.ingest import DECIMAL_SEPARATORS, KINDS, MAX_CADENCE_DAYS, THOUSANDS_SEPARATORS
from ingest.readers import DELIMITERS, ENCODINGS, FORMATS
from portal.schemas.base import HubBoolean, HubDate, HubDateTime, HubInteger, OneOf, TandemSchema

STATUSES = ("queued", "running", "done", "failed")


class ImportSchema(TandemSchema):
    """One delivered file: its status, progress and counts."""

    id = HubInteger()
    kind = OneOf(KINDS)
    format = OneOf(FORMATS)
    filename = fields.String()
    status = OneOf(STATUSES, metadata={"description": "queued, running, done or failed"})
    source = fields.String(metadata={"description": "api, portal, cli, drop or demo"})
    distributor = HubInteger()
    rows_read = HubInteger(metadata={"description": "rows read so far (running) or in all"})
    rows_new = HubInteger()
    rows_changed = HubInteger(metadata={"description": "restated: replaced earlier values"})
    rows_unchanged = HubInteger()
    rows_rejected = HubInteger(metadata={"description": "in the rejects file, by line"})
    rows_per_s = HubInteger(allow_none=True)
    data_from = HubDate(allow_none=True)
    data_through = HubDate(allow_none=True)
    created_at = HubDateTime(allow_none=True)
    started_at = HubDateTime(allow_none=True)
    finished_at = HubDateTime(allow_none=True)
    error = fields.String(allow_none=True, metadata={"description": "why nothing landed"})
    rejects = fields.String(allow_none=True, metadata={"description": "rejects file, if any"})


class FeedSchema(TandemSchema):
    """A distributor's feed of one data kind: how fresh it is."""

    id = fields.String(metadata={"description": "<distributor>:<kind>"})
    distributor = HubInteger()
    kind = OneOf(KINDS)
    data_through = HubDate(allow_none=True, metadata={"description": "the latest day of data"})
    received_at = HubDateTime(allow_none=True, metadata={"description": "the last delivery"})
    stale_after_days = HubInteger()
    stale = HubBoolean()
    cadence = HubInteger(
        allow_none=True, metadata={"description": "days between deliveries, if known"}
    )
    cadence_source = fields.String(
        allow_none=True, metadata={"description": "set (on the feed) or learned (from deliveries)"}
    )
    expected = fields.Date(allow_none=True, metadata={"description": "the next data expected"})


class CadenceFormSchema(Schema):
    """A feed's cadence as a form sends it: whole days between deliveries, up to a year
    (empty: none set, so the one learned from the deliveries counts), and the uploads
    form's feed, by kind. The form's CSRF token aside, nothing else is read."""

    class Meta:
        unknown = EXCLUDE

    kind = OneOf(KINDS)
    cadence_days = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(min=1, max=MAX_CADENCE_DAYS)
    )

    @pre_load
    def _empty_is_none(self, data: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        out = dict(data)
        if not str(out.get("cadence_days", "")).strip():
            out["cadence_days"] = None
        return out


class ColumnMappingSchema(TandemSchema):
    """Which header of a distributor's files holds which field, and how the files are
    written. A setting left out of a save is its default; a value that does not fit the
    separators is a rejected row naming its field, never a guess."""

    kind = OneOf(KINDS, dump_only=True)
    columns = fields.Dict(keys=fields.String(), values=fields.String())
    date_format = fields.String(metadata={"description": "strptime format, e.g. %d.%m.%Y"})
    encoding = OneOf(
        ENCODINGS, metadata={"description": "the CSV files' text encoding (default utf-8)"}
    )
    delimiter = OneOf(
        DELIMITERS,
        metadata={"description": "the CSV files' delimiter; empty (the default): found"},
    )
    decimal_separator = OneOf(
        list(DECIMAL_SEPARATORS), metadata={"description": "of quantities and amounts"}
    )
    thousands_separator = OneOf(
        list(THOUSANDS_SEPARATORS),
        metadata={
            "description": "empty (the default): none; a space also matches no-break "
            "spaces, an apostrophe the curly one; never the decimal separator"
        },
    )
    fields_ = fields.List(fields.String(), data_key="fields", dump_only=True)
