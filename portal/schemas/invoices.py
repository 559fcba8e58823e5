"""Supplier invoices against a PO, and their lines. Read-only here (EDI 810 loads them)."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubDate, HubInteger, TandemSchema


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
