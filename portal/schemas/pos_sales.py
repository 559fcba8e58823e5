"""Daily point-of-sale rows, and their weekly sums. Read-only here (the bulk lane loads them)."""

from __future__ import annotations

from marshmallow import fields, validate

from portal.schemas.base import CommaList, HubDate, HubInteger, TandemSchema


class PosSaleSchema(TandemSchema):
    id = fields.String(
        dump_only=True, metadata={"description": "<distributor>:<location>:<sku>:<YYYY-MM-DD>"}
    )
    day = HubDate()
    units = HubInteger()
    net_sales_minor = HubInteger(metadata={"description": "integer minor units of `currency`"})
    currency = fields.String()
    distributor = HubInteger()
    location = HubInteger()
    sku = HubInteger()


GROUP_KEYS = ("sku", "week", "distributor", "location")


def group_by_field() -> CommaList:
    """The summary's ``group_by`` query parameter: any of sku, week, distributor, location."""
    return CommaList(
        fields.String(validate=validate.OneOf(GROUP_KEYS)),
        load_default=lambda: ["sku", "week"],
        validate=validate.Length(min=1, max=len(GROUP_KEYS)),
        metadata={"description": "comma-separated: sku, week, distributor, location"},
    )


class PosSummarySchema(TandemSchema):
    """One group's sums. Money is summed per currency, never across currencies."""

    sku = HubInteger()
    week = fields.String(metadata={"description": "ISO week, e.g. 2026-W47"})
    week_start = HubDate(metadata={"description": "the Monday of the ISO week"})
    distributor = HubInteger()
    location = HubInteger()
    currency = fields.String()
    units = HubInteger()
    net_sales_minor = HubInteger(metadata={"description": "integer minor units of `currency`"})
    rows = HubInteger(metadata={"description": "how many daily rows the sums cover"})
