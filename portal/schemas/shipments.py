"""Advance ship notices against a PO, and their lines (an SSCC-18 carton each). A supplier
notices a shipment through the portal or the API; EDI 856/DESADV loads them too."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from domain.orders import SSCC_LENGTH, sscc_problem
from portal.schemas.base import (
    MAX_ID,
    DocumentNumber,
    HubDate,
    HubInteger,
    Id,
    StrictInteger,
    TandemSchema,
    Views,
    check_date_order,
    check_unique,
)


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


def _sscc(value: str) -> None:
    problem = sscc_problem(value)
    if problem:
        raise ValidationError(problem)


class ShipmentLineCreate(TandemSchema):
    po_line = Id(required=True, metadata={"description": "a line of the shipment's order"})
    qty_shipped = StrictInteger(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "whole units"},
    )
    sscc = fields.String(
        required=True,
        validate=_sscc,
        metadata={
            "description": "the carton's SSCC-18, its GS1 check digit included",
            "pattern": rf"^\d{{{SSCC_LENGTH}}}$",
        },
    )


class ShipmentCreate(TandemSchema):
    """A supplier's ship notice against one of its acknowledged orders: the shipment is
    ``shipped`` and belongs to the order's pair, and the order becomes partially shipped
    or shipped."""

    purchase_order = Id(required=True)
    number = DocumentNumber(
        required=True, metadata={"description": "the ASN number, once per order"}
    )
    ship_date = fields.Date(required=True)
    expected_delivery = fields.Date()
    lines = fields.List(
        fields.Nested(ShipmentLineCreate), required=True, validate=validate.Length(min=1, max=1000)
    )

    views: ClassVar[Views] = {
        "supplier_user": ("purchase_order", "number", "ship_date", "expected_delivery", "lines")
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_date_order(data, "ship_date", "expected_delivery", "expected before it ships")
        check_unique(data, "lines", "po_line", "a PO line is listed twice")
