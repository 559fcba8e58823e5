"""CPFR exceptions and the criteria they were found by (read-only here: the operator
records a pair's criteria, the ``exceptions.evaluate`` job finds the exceptions)."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import fields, validate

from domain.exceptions import STATUSES
from portal.schemas.base import (
    HubBoolean,
    HubDate,
    HubDateTime,
    HubInteger,
    OneOf,
    TandemSchema,
    Text,
    Views,
)


class CriterionSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    partnership = HubInteger()
    name = fields.String()
    metric = fields.String()
    comparison = fields.String(metadata={"enum": ["above", "below", "outside"]})
    threshold = fields.String(metadata={"description": "an exact decimal"})
    upper = fields.String(allow_none=True, metadata={"description": "for outside"})
    scope = fields.Dict(allow_none=True, metadata={"description": "skus and locations"})
    owner_side = fields.String(metadata={"enum": ["supplier", "distributor"]})
    response_hours = HubInteger()
    active = HubBoolean()


class ExceptionEventSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    exception = HubInteger()
    kind = fields.String()
    status = fields.String(allow_none=True)
    value = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    at = HubDateTime(allow_none=True)


class ExceptionSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    partnership = HubInteger()
    criterion = HubInteger()
    subject = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    owner_side = fields.String()
    value = fields.String(metadata={"description": "the criterion's metric, exact"})
    figures = fields.Dict(allow_none=True)
    sku = HubInteger(allow_none=True)
    location = HubInteger(allow_none=True)
    purchase_order = HubInteger(allow_none=True)
    week_start = HubDate(allow_none=True)
    opened_at = HubDateTime()
    due_at = HubDateTime()
    last_seen_at = HubDateTime()
    cleared_at = HubDateTime(allow_none=True)
    resolution = fields.String(allow_none=True)
    closed_at = HubDateTime(allow_none=True)
    hours_to_close = fields.String(allow_none=True, metadata={"description": "exact hours"})
    level = HubInteger(allow_none=True, metadata={"description": "escalation level reached"})
    escalated_at = HubDateTime(allow_none=True)
    events = fields.List(fields.Nested(ExceptionEventSchema), dump_only=True)


class ExceptionMove(TandemSchema):
    """A status move, with what closed it (a dismissal needs its reason)."""

    status = OneOf(STATUSES, required=True)
    resolution = fields.String(allow_none=True, validate=validate.Length(max=2000))

    views: ClassVar[Views] = {
        "supplier_user": ("status", "resolution"),
        "distributor_user": ("status", "resolution"),
    }


class ExceptionComment(TandemSchema):
    comment = Text(max_length=2000, required=True)

    views: ClassVar[Views] = {
        "supplier_user": ("comment",),
        "distributor_user": ("comment",),
        "account_manager": ("comment",),
    }


class NotificationSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    kind = fields.String(metadata={"enum": ["opened", "escalated"]})
    title = fields.String()
    body = fields.String(allow_none=True, metadata={"description": "the page it is about"})
    partnership = HubInteger(allow_none=True)
    exception = HubInteger(allow_none=True)
    created_at = HubDateTime(allow_none=True)
    read_at = HubDateTime(allow_none=True)
    emailed_at = HubDateTime(allow_none=True)
    email_attempts = HubInteger(allow_none=True)
    email_error = fields.String(allow_none=True, metadata={"description": "the last failure"})


class NotificationRead(TandemSchema):
    """Marks a notification read (``read: true``) or unread again."""

    read = fields.Boolean(required=True)

    views: ClassVar[Views] = {
        "supplier_user": ("read",),
        "distributor_user": ("read",),
        "account_manager": ("read",),
    }
