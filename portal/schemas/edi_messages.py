"""EDI interchanges the user's organization sent or received. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubDateTime, HubInteger, TandemSchema


class EdiMessageSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    direction = fields.String(metadata={"enum": ["in", "out"]})
    standard = fields.String(metadata={"enum": ["x12", "edifact"]})
    message_type = fields.String()
    control_number = fields.String(allow_none=True)
    status = fields.String()
    received_at = HubDateTime()
    payload = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    related_collection = fields.String(allow_none=True)
    related_id = fields.String(allow_none=True)
    sender = HubInteger(allow_none=True)
    receiver = HubInteger(allow_none=True)
    interchange = fields.String(allow_none=True)
    document_number = fields.String(allow_none=True)
    file_name = fields.String(allow_none=True)
    attempts = HubInteger(allow_none=True)
    next_attempt_at = HubDateTime(allow_none=True)
    receipt = fields.String(
        allow_none=True, metadata={"description": "what an AS2 partner's receipt (MDN) said"}
    )
    detail = fields.Dict(
        allow_none=True,
        metadata={"description": "faults found, the three-way match, what an answer said"},
    )
