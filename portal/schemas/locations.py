"""Stores and DCs, each owned by a distributor. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubInteger, TandemSchema


class LocationSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    ref = fields.String(metadata={"description": "<distributor>:<code>"})
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": ["store", "dc"]})
    gln = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    status = fields.String()
    distributor = HubInteger()
