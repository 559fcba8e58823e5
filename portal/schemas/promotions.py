"""Promotions: a distributor proposes one on a pair's SKUs and locations; the supplier
accepts or declines it. Every status change leaves a row in the promotion's history.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from portal.schemas.base import (
    HubDate,
    HubDateTime,
    HubInteger,
    Id,
    OneOf,
    StrictInteger,
    TandemSchema,
    Text,
    Views,
    check_date_order,
    require_one_of,
)

TYPES = ("tpr", "display", "feature", "bogo", "bundle")
STATUSES = ("draft", "submitted", "accepted", "declined", "cancelled")
DISTRIBUTOR_STATUSES = ("draft", "submitted", "cancelled")
SUPPLIER_ANSWERS = ("accepted", "declined")


class PromotionSkuSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    promotion = HubInteger()
    sku = HubInteger()
    partnership = HubInteger()


class PromotionLocationSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    promotion = HubInteger()
    location = HubInteger()
    partnership = HubInteger()


class PromotionEventSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    promotion = HubInteger()
    status = fields.String()
    comment = fields.String(allow_none=True)
    at = HubDateTime()
    actor = fields.String(allow_none=True)
    partnership = HubInteger()


class PromotionSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    partnership = HubInteger()
    name = fields.String()
    type = fields.String(metadata={"enum": list(TYPES)})
    mechanics = fields.String(allow_none=True)
    start_date = HubDate()
    end_date = HubDate()
    expected_uplift_pct = HubInteger(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    supplier_comment = fields.String(allow_none=True)
    skus = fields.List(
        fields.Nested(PromotionSkuSchema),
        dump_only=True,
        metadata={"description": "in a single record only"},
    )
    locations = fields.List(
        fields.Nested(PromotionLocationSchema),
        dump_only=True,
        metadata={"description": "in a single record only"},
    )


def _name(**kw: Any) -> fields.String:
    return Text(**kw)


def _mechanics(**kw: Any) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=4000), **kw)


def _uplift(**kw: Any) -> StrictInteger:
    return StrictInteger(allow_none=True, validate=validate.Range(min=0, max=1000), **kw)


class PromotionCreate(TandemSchema):
    """A distributor's new promotion, as a draft or submitted straight away."""

    partnership = Id(required=True)
    name = _name(required=True)
    type = OneOf(TYPES, required=True)
    mechanics = _mechanics()
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    expected_uplift_pct = _uplift()
    status = OneOf(("draft", "submitted"), load_default="draft")
    skus = fields.List(Id(), required=True, validate=validate.Length(min=1, max=500))
    locations = fields.List(Id(), load_default=list, validate=validate.Length(max=5000))

    views: ClassVar[Views] = {
        "distributor_user": (
            "partnership",
            "name",
            "type",
            "mechanics",
            "start_date",
            "end_date",
            "expected_uplift_pct",
            "status",
            "skus",
            "locations",
        )
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_date_order(data, "start_date", "end_date")
        if len(set(data.get("skus", []))) != len(data.get("skus", [])):
            raise ValidationError("a SKU is listed twice", "skus")
        if len(set(data.get("locations", []))) != len(data.get("locations", [])):
            raise ValidationError("a location is listed twice", "locations")


class PromotionUpdate(TandemSchema):
    """A distributor edits terms or moves the status; a supplier answers a submitted one."""

    name = _name()
    type = OneOf(TYPES)
    mechanics = _mechanics()
    start_date = fields.Date()
    end_date = fields.Date()
    expected_uplift_pct = _uplift()
    status = OneOf(STATUSES)
    comment = fields.String(validate=validate.Length(min=1, max=4000))

    views: ClassVar[Views] = {
        "distributor_user": (
            "name",
            "type",
            "mechanics",
            "start_date",
            "end_date",
            "expected_uplift_pct",
            "status",
            "comment",
        ),
        "supplier_user": ("status", "comment"),
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        require_one_of(data, list(self.fields))
        check_date_order(data, "start_date", "end_date")
        status = data.get("status")
        if self.view == "supplier_user":
            if status not in SUPPLIER_ANSWERS:
                raise ValidationError(f"answer with one of {', '.join(SUPPLIER_ANSWERS)}", "status")
            if status == "declined" and not data.get("comment"):
                raise ValidationError("say why the promotion is declined", "comment")
        elif status is not None and status not in DISTRIBUTOR_STATUSES:
            raise ValidationError(f"must be one of {', '.join(DISTRIBUTOR_STATUSES)}", "status")
