"""Weekly distributor forecasts (read-only here: they arrive as imports) and the
supplier's commitments per SKU x week."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import fields, validate, validates_schema

from domain.commitments import MAX_NOTE
from portal.schemas.base import (
    HubDate,
    HubDateTime,
    HubInteger,
    Id,
    Quantity,
    TandemSchema,
    Views,
    require_one_of,
)


class ForecastSchema(TandemSchema):
    id = fields.String(dump_only=True)
    week_start = HubDate()
    forecast_units = HubInteger(allow_none=True)
    # The forecast as last delivered at least n whole weeks before the week began.
    forecast_h1 = HubInteger(allow_none=True, dump_only=True)
    forecast_h2 = HubInteger(allow_none=True, dump_only=True)
    forecast_h4 = HubInteger(allow_none=True, dump_only=True)
    forecast_h8 = HubInteger(allow_none=True, dump_only=True)
    distributor = HubInteger()
    location = HubInteger()
    sku = HubInteger()


class CommitmentSchema(TandemSchema):
    id = fields.String(dump_only=True, metadata={"description": "<pair>:<sku>:<week start>"})
    partnership = HubInteger()
    sku = HubInteger()
    week_start = HubDate(metadata={"description": "the ISO week's Monday"})
    units = HubInteger(metadata={"description": "whole units the supplier commits to"})
    note = fields.String(allow_none=True)
    # The units as they stood n whole weeks before the week began (kept by the hub).
    units_h1 = HubInteger(allow_none=True, dump_only=True)
    units_h2 = HubInteger(allow_none=True, dump_only=True)
    units_h4 = HubInteger(allow_none=True, dump_only=True)
    units_h8 = HubInteger(allow_none=True, dump_only=True)
    updated_at = HubDateTime(allow_none=True, dump_only=True)


class CommitmentCreate(TandemSchema):
    """A commitment for one SKU x week of a pair: made, or changed if the week has one."""

    partnership = Id(required=True)
    sku = Id(required=True)
    week_start = fields.Date(required=True, metadata={"description": "a Monday, not frozen"})
    units = Quantity(required=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=MAX_NOTE))

    views: ClassVar[Views] = {
        "supplier_user": ("partnership", "sku", "week_start", "units", "note")
    }


class CommitmentUpdate(TandemSchema):
    units = Quantity()
    note = fields.String(allow_none=True, validate=validate.Length(max=MAX_NOTE))

    views: ClassVar[Views] = {"supplier_user": ("units", "note")}

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        require_one_of(data, list(self.fields))
