"""CPFR exceptions and the criteria they were found by (read-only here: the operator
records a pair's criteria, the ``exceptions.evaluate`` job finds the exceptions)."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubDate, HubDateTime, HubInteger, TandemSchema


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
    active = fields.Boolean()


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
    status = fields.String(metadata={"enum": ["open", "acknowledged", "resolved", "dismissed"]})
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
    events = fields.List(fields.Nested(ExceptionEventSchema), dump_only=True)
