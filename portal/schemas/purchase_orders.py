"""Purchase orders and their lines: a distributor orders, the supplier acknowledges with a
promised date and answers each line (accepted, changed or rejected, with a reason). The
first promise is kept as the original commitment; later changes go to the revised date
and never overwrite it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from domain.ingest import MAX_UNITS
from domain.orders import ANSWERS
from portal.schemas.base import (
    Currency,
    DocumentNumber,
    HubDate,
    HubDateTime,
    HubInteger,
    Id,
    MinorUnits,
    OneOf,
    Quantity,
    StrictInteger,
    TandemSchema,
    Text,
    Views,
    check_date_order,
    check_unique,
    require_one_of,
)

STATUSES = (
    "open",
    "acknowledged",
    "rejected",
    "partially_shipped",
    "shipped",
    "received",
    "cancelled",
)
SUPPLIER_STATUSES = ("acknowledged", "rejected")
DISTRIBUTOR_STATUSES = ("cancelled",)


class PoLineSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    purchase_order = HubInteger()
    line_no = HubInteger()
    sku = HubInteger()
    qty_ordered = HubInteger()
    unit_cost_minor = HubInteger(metadata={"description": "integer minor units of the PO currency"})
    qty_promised = HubInteger(allow_none=True)
    promised_date = HubDate(allow_none=True)
    original_promised_date = HubDate(allow_none=True)
    revised_date = HubDate(allow_none=True)
    answer = fields.String(allow_none=True, metadata={"enum": list(ANSWERS)})
    answer_reason = fields.String(allow_none=True)
    partnership = HubInteger()


class PurchaseOrderSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    partnership = HubInteger()
    number = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    ordered_on = HubDate()
    requested_date = HubDate()
    promised_date = HubDate(allow_none=True)
    original_promised_date = HubDate(
        allow_none=True, metadata={"description": "the supplier's first promise, never changed"}
    )
    revised_date = HubDate(allow_none=True, metadata={"description": "the latest changed promise"})
    acknowledged_at = HubDateTime(allow_none=True)
    currency = fields.String()
    ship_to = HubInteger(allow_none=True)
    lines = fields.List(
        fields.Nested(PoLineSchema),
        dump_only=True,
        metadata={"description": "in a single record only"},
    )


class PoLineCreate(TandemSchema):
    line_no = StrictInteger(required=True, validate=validate.Range(min=1, max=9999))
    sku = Id(required=True)
    qty_ordered = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_UNITS))
    unit_cost_minor = MinorUnits(required=True)


class PurchaseOrderCreate(TandemSchema):
    """A distributor's new PO on one of its pairs, with at least one line."""

    partnership = Id(required=True)
    number = DocumentNumber(required=True)
    ordered_on = fields.Date(required=True)
    requested_date = fields.Date(required=True)
    currency = Currency(required=True)
    ship_to = Id(required=True)
    lines = fields.List(
        fields.Nested(PoLineCreate), required=True, validate=validate.Length(min=1, max=1000)
    )

    views: ClassVar[Views] = {
        "distributor_user": (
            "partnership",
            "number",
            "ordered_on",
            "requested_date",
            "currency",
            "ship_to",
            "lines",
        )
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_date_order(data, "ordered_on", "requested_date", "requested before ordered")
        check_unique(data, "lines", "line_no", "line numbers repeat")


class PoLinePromise(TandemSchema):
    """The supplier's promise on one line, and its answer: ``accepted`` promises what was
    ordered, ``changed`` another quantity or date, ``rejected`` nothing, for a reason."""

    id = Id(required=True)
    qty_promised = Quantity()
    promised_date = fields.Date()
    answer = OneOf(ANSWERS)
    answer_reason = Text(255)

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        answer = data.get("answer")
        if "answer_reason" in data and answer is None:
            raise ValidationError("give the answer this reason is for", "answer_reason")
        if answer == "rejected":
            if not (data.get("answer_reason") or "").strip():
                raise ValidationError("say why the line is rejected", "answer_reason")
            if data.get("qty_promised"):
                raise ValidationError("a rejected line promises 0", "qty_promised")
            if "promised_date" in data:
                raise ValidationError("a rejected line promises no date", "promised_date")
        if answer == "changed" and "qty_promised" not in data and "promised_date" not in data:
            raise ValidationError("give the new quantity or date", "qty_promised")


class PurchaseOrderUpdate(TandemSchema):
    """The distributor cancels or changes its request; the supplier acknowledges, answering
    line by line (if every line is rejected, the order is)."""

    status = OneOf(STATUSES)
    requested_date = fields.Date()
    ship_to = Id()
    promised_date = fields.Date()
    lines = fields.List(fields.Nested(PoLinePromise), validate=validate.Length(min=1, max=1000))

    views: ClassVar[Views] = {
        "distributor_user": ("status", "requested_date", "ship_to"),
        "supplier_user": ("status", "promised_date", "lines"),
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        require_one_of(data, list(self.fields))
        allowed = SUPPLIER_STATUSES if self.view == "supplier_user" else DISTRIBUTOR_STATUSES
        if "status" in data and data["status"] not in allowed:
            raise ValidationError(f"must be one of {', '.join(allowed)}", "status")
        ids = [line["id"] for line in data.get("lines", [])]
        if len(set(ids)) != len(ids):
            raise ValidationError("a line is listed twice", "lines")
