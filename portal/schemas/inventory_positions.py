"""Daily inventory by distributor, location and SKU. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubDate, HubInteger, TandemSchema


class InventoryPositionSchema(TandemSchema):
    id = fields.String(dump_only=True)
    day = HubDate()
    on_hand = HubInteger()
    in_transit = HubInteger()
    on_order = HubInteger()
    distributor = HubInteger()
    location = HubInteger()
    sku = HubInteger()
