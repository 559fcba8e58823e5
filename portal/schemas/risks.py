"""The risk register per pair: likelihood and impact from 1 to 5, score = their product."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import fields, validate, validates_schema

from portal.schemas.base import (
    HubDate,
    HubInteger,
    Id,
    OneOf,
    StrictInteger,
    TandemSchema,
    Text,
    Views,
    require_one_of,
)

STATUSES = ("open", "mitigating", "closed")


def _scale(**kwargs: Any) -> StrictInteger:
    return StrictInteger(validate=validate.Range(min=1, max=5), **kwargs)


class RiskSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    partnership = HubInteger()
    title = fields.String()
    description = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    likelihood = HubInteger()
    impact = HubInteger()
    score = fields.Function(
        lambda row: int(row["likelihood"]) * int(row["impact"]),
        dump_only=True,
        metadata={"type": "integer", "description": "likelihood x impact"},
    )
    mitigation = fields.String(allow_none=True)
    review_date = HubDate(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})


#: What a risk's form and the API change of it, and its create adds ``partnership`` to.
EDITABLE = (
    "title",
    "description",
    "category",
    "likelihood",
    "impact",
    "mitigation",
    "review_date",
    "status",
)


class RiskCreate(TandemSchema):
    partnership = Id(required=True)
    title = Text(required=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=4000))
    category = fields.String(allow_none=True, validate=validate.Length(max=64))
    likelihood = _scale(required=True)
    impact = _scale(required=True)
    mitigation = fields.String(allow_none=True, validate=validate.Length(max=4000))
    review_date = fields.Date(allow_none=True)
    status = OneOf(STATUSES, load_default="open")

    views: ClassVar[Views] = {"account_manager": ("partnership", *EDITABLE)}


class RiskUpdate(TandemSchema):
    title = Text()
    description = fields.String(allow_none=True, validate=validate.Length(max=4000))
    category = fields.String(allow_none=True, validate=validate.Length(max=64))
    likelihood = _scale()
    impact = _scale()
    mitigation = fields.String(allow_none=True, validate=validate.Length(max=4000))
    review_date = fields.Date(allow_none=True)
    status = OneOf(STATUSES)

    views: ClassVar[Views] = {"account_manager": EDITABLE}

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        require_one_of(data, list(self.fields))
