"""Joint business plans per pair and year, their quarterly revisions and their actions.
Account managers write them for the pairs they are assigned to.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import fields, validate, validates_schema

from portal.schemas.base import (
    DecimalString,
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

PLAN_STATUSES = ("draft", "active", "closed")
ACTION_STATUSES = ("open", "done", "dropped")


def Targets(**kwargs: Any) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=DecimalString(),
        metadata={"description": "metric name to an exact decimal string"},
        **kwargs,
    )


class BusinessPlanSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    partnership = HubInteger()
    year = HubInteger()
    targets = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    sponsors = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})


class PlanRevisionSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    plan = HubInteger()
    quarter = HubInteger()
    targets = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    notes = fields.String(allow_none=True)
    revised_on = HubDate()
    partnership = HubInteger()


class PlanActionSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    plan = HubInteger()
    title = fields.String()
    owner_side = fields.String(metadata={"enum": ["supplier", "distributor"]})
    owner = fields.String(allow_none=True)
    due_date = HubDate(allow_none=True)
    status = fields.String(metadata={"enum": list(ACTION_STATUSES)})
    completed_on = HubDate(allow_none=True)
    partnership = HubInteger()


class BusinessPlanCreate(TandemSchema):
    partnership = Id(required=True)
    year = StrictInteger(required=True, validate=validate.Range(min=2000, max=2100))
    targets = Targets(load_default=dict)
    sponsors = fields.String(allow_none=True, validate=validate.Length(max=2000))
    status = OneOf(PLAN_STATUSES, load_default="draft")

    views: ClassVar[Views] = {
        "account_manager": ("partnership", "year", "targets", "sponsors", "status")
    }


class BusinessPlanUpdate(TandemSchema):
    targets = Targets()
    sponsors = fields.String(allow_none=True, validate=validate.Length(max=2000))
    status = OneOf(PLAN_STATUSES)

    views: ClassVar[Views] = {"account_manager": ("targets", "sponsors", "status")}

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        require_one_of(data, list(self.fields))


class PlanRevisionCreate(TandemSchema):
    quarter = StrictInteger(required=True, validate=validate.Range(min=1, max=4))
    targets = Targets(load_default=dict)
    notes = fields.String(allow_none=True, validate=validate.Length(max=4000))
    revised_on = fields.Date(required=True)

    views: ClassVar[Views] = {"account_manager": ("quarter", "targets", "notes", "revised_on")}


class PlanActionCreate(TandemSchema):
    title = Text(required=True)
    owner_side = OneOf(("supplier", "distributor"), required=True)
    due_date = fields.Date(allow_none=True)
    status = OneOf(ACTION_STATUSES, load_default="open")

    views: ClassVar[Views] = {"account_manager": ("title", "owner_side", "due_date", "status")}
