"""Weekly distributor forecasts and the supplier's commitments. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubDate, HubInteger, TandemSchema


class ForecastSchema(TandemSchema):
    id = fields.String(dump_only=True)
    week_start = HubDate()
    forecast_units = HubInteger(allow_none=True)
    commit_units = HubInteger(allow_none=True)
    commit_note = fields.String(allow_none=True)
    distributor = HubInteger()
    location = HubInteger()
    sku = HubInteger()
