"""Data-sharing agreements the user's organization grants or receives. Read-only here."""

from __future__ import annotations

from marshmallow import fields

from portal.schemas.base import HubDate, HubDateTime, HubInteger, TandemSchema


class ShareAgreementSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    grantor = HubInteger()
    grantee = HubInteger()
    kinds = fields.List(fields.String())
    regions = fields.List(fields.String(), allow_none=True)
    locations = fields.List(HubInteger(), allow_none=True)
    granularity = fields.String(metadata={"enum": ["store_day", "aggregated"]})
    valid_from = HubDate()
    valid_to = HubDate(allow_none=True)
    purpose = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["active", "revoked"]})
    revoked_at = HubDateTime(allow_none=True)
