"""SKUs: a supplier's items. Read-only here (the catalog is loaded by the bulk lane)."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubInteger, TandemSchema


class SkuSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    gtin = fields.String(metadata={"description": "GTIN-14"})
    description = fields.String()
    category = fields.String(allow_none=True)
    unit = fields.String()
    case_pack = HubInteger()
    cost_minor = HubInteger(metadata={"description": "integer minor units of `currency`"})
    list_price_minor = HubInteger(metadata={"description": "integer minor units of `currency`"})
    currency = fields.String()
    lead_time_days = HubInteger()
    status = fields.String()
    supplier = HubInteger()
