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
#: The significant events a plan names (VICS/NACDS: promotions, inventory-policy changes,
#: store openings and closings, new products, range changes).
EVENT_KINDS = ("promotion", "range_change", "store_opening", "store_closing", "new_product",
               "inventory_policy", "other")  # fmt: skip


class PlanEvent(TandemSchema):
    """One significant event of a plan's year."""

    date = fields.Date(required=True)
    kind = OneOf(EVENT_KINDS, required=True)
    title = Text(required=True)


def Events(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.Nested(PlanEvent),
        validate=validate.Length(max=100),
        metadata={"description": "the year's significant events"},
        **kwargs,
    )


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
    events = fields.List(fields.Dict(), allow_none=True)


class PlanRevisionSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    plan = HubInteger()
    quarter = HubInteger()
    targets = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    notes = fields.String(allow_none=True)
    revised_on = HubDate()
    revised_by = fields.String(allow_none=True, metadata={"description": "the user, stamped"})
    created_at = fields.String(allow_none=True, metadata={"description": "stamped by the hub"})
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
    events = Events(load_default=list)

    views: ClassVar[Views] = {
        "account_manager": ("partnership", "year", "targets", "sponsors", "status", "events")
    }


class BusinessPlanUpdate(TandemSchema):
    targets = Targets()
    sponsors = fields.String(allow_none=True, validate=validate.Length(max=2000))
    status = OneOf(PLAN_STATUSES)
    events = Events()

    views: ClassVar[Views] = {"account_manager": ("targets", "sponsors", "status", "events")}

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


class PlanActionUpdate(TandemSchema):
    """The manager plans an action; the owning side reports it (:class:`PlanActionReport`)."""

    title = Text()
    owner_side = OneOf(("supplier", "distributor"))
    due_date = fields.Date(allow_none=True)
    status = OneOf(ACTION_STATUSES)
    completed_on = fields.Date(allow_none=True)

    views: ClassVar[Views] = {
        "account_manager": ("title", "owner_side", "due_date", "status", "completed_on")
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        require_one_of(data, list(self.fields))


class PlanActionReport(TandemSchema):
    """A partner reports progress on its side's action: done (completed today unless it
    says), dropped, or open again."""

    status = OneOf(ACTION_STATUSES, required=True)
    completed_on = fields.Date(allow_none=True)

    views: ClassVar[Views] = {
        "supplier_user": ("status", "completed_on"),
        "distributor_user": ("status", "completed_on"),
    }
