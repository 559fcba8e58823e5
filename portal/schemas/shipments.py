"""Advance ship notices against a PO, and their lines. Read-only here (EDI 856 loads them)."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubDate, HubInteger, TandemSchema


class ShipmentLineSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    qty_shipped = HubInteger()
    sscc = fields.String(allow_none=True, metadata={"description": "the carton's SSCC-18"})
    qty_received = HubInteger(allow_none=True)
    shipment = HubInteger()
    po_line = HubInteger()
    partnership = HubInteger()


class ShipmentSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    number = fields.String()
    status = fields.String()
    ship_date = HubDate()
    expected_delivery = HubDate(allow_none=True)
    received_date = HubDate(allow_none=True)
    purchase_order = HubInteger()
    partnership = HubInteger()
    lines = fields.List(
        fields.Nested(ShipmentLineSchema),
        dump_only=True,
        metadata={"description": "in a single record only"},
    )
