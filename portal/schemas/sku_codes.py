"""Each distributor's own item code for a SKU. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubInteger, TandemSchema


class SkuCodeSchema(TandemSchema):
    id = fields.String(dump_only=True, metadata={"description": "<distributor>:<item code>"})
    item_code = fields.String()
    sku = HubInteger()
    distributor = HubInteger()
