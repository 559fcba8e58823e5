"""Partnerships: one supplier-distributor pair each. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubInteger, TandemSchema


class PartnershipSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    pair = fields.String(metadata={"description": "<supplier id>:<distributor id>"})
    status = fields.String()
    supplier = HubInteger()
    distributor = HubInteger()
