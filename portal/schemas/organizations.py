"""Organizations: suppliers, distributors, retailers and the operator. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubInteger, TandemSchema


class OrganizationSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    name = fields.String()
    kind = fields.String(metadata={"enum": ["supplier", "distributor", "retailer", "operator"]})
    status = fields.String()
    gln = fields.String(allow_none=True)
    currency = fields.String()
    x12_qualifier = fields.String(allow_none=True)
    x12_id = fields.String(allow_none=True)
    edifact_id = fields.String(allow_none=True)
