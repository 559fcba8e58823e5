"""Supplier invoices against a PO, and their lines. A supplier invoices through the portal
or the API; EDI 810/INVOIC loads them too."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import fields, validate, validates_schema

from portal.schemas.base import (
    MAX_ID,
    DocumentNumber,
    HubDate,
    HubInteger,
    Id,
    MinorUnits,
    StrictInteger,
    TandemSchema,
    Views,
    check_date_order,
    check_unique,
)


class InvoiceLineSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    qty = HubInteger()
    unit_price_minor = HubInteger(metadata={"description": "integer minor units"})
    amount_minor = HubInteger(metadata={"description": "integer minor units"})
    invoice = HubInteger()
    po_line = HubInteger(allow_none=True)
    partnership = HubInteger()


class InvoiceSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    number = fields.String()
    invoice_date = HubDate()
    due_date = HubDate(allow_none=True)
    total_minor = HubInteger(metadata={"description": "integer minor units of `currency`"})
    currency = fields.String()
    status = fields.String()
    purchase_order = HubInteger()
    partnership = HubInteger()
    lines = fields.List(
        fields.Nested(InvoiceLineSchema),
        dump_only=True,
        metadata={"description": "in a single record only"},
    )


class InvoiceLineCreate(TandemSchema):
    po_line = Id(required=True, metadata={"description": "a line of the invoice's order"})
    qty = StrictInteger(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "whole units"},
    )
    unit_price_minor = MinorUnits(required=True)


class InvoiceCreate(TandemSchema):
    """A supplier's invoice for what shipped against one of its orders, in the order's
    currency: each line's amount is its quantity times its unit price, the total their
    sum, all in integer minor units."""

    purchase_order = Id(required=True)
    number = DocumentNumber(
        required=True, metadata={"description": "the invoice number, once per order"}
    )
    invoice_date = fields.Date(required=True)
    due_date = fields.Date()
    lines = fields.List(
        fields.Nested(InvoiceLineCreate), required=True, validate=validate.Length(min=1, max=1000)
    )

    views: ClassVar[Views] = {
        "supplier_user": ("purchase_order", "number", "invoice_date", "due_date", "lines")
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_date_order(data, "invoice_date", "due_date", "due before it is issued")
        check_unique(data, "lines", "po_line", "a PO line is listed twice")
