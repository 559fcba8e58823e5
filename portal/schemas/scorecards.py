"""Scorecards per pair and period, and their KPI values (exact decimals as text, each
naming the definition variant it was computed with; see shared notes on KPIs).
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import fields, validate, validates_schema

from portal.schemas.base import (
    DecimalString,
    HubDate,
    HubInteger,
    Id,
    TandemSchema,
    Text,
    Views,
    check_date_order,
    require_one_of,
)


class ScorecardValueSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    scorecard = HubInteger()
    kpi = fields.String()
    variant = fields.String()
    value = fields.String(allow_none=True, metadata={"description": "exact decimal as text"})
    numerator = fields.String(allow_none=True)
    denominator = fields.String(allow_none=True)
    unit = fields.String(allow_none=True, metadata={"description": "%, days or ratio"})
    collection = fields.String(
        allow_none=True, metadata={"description": "where the records behind it are"}
    )
    basis = fields.List(
        fields.Integer(), allow_none=True, metadata={"description": "the ids it counted"}
    )
    misses = fields.List(
        fields.Integer(), allow_none=True, metadata={"description": "the ids that missed"}
    )
    partnership = HubInteger()


class ScorecardSchema(TandemSchema):
    id = HubInteger(dump_only=True)
    partnership = HubInteger()
    period_start = HubDate()
    period_end = HubDate()
    label = fields.String(allow_none=True)
    source = fields.String(
        metadata={"enum": ["manual", "computed"], "description": "computed: by the scorecard job"}
    )
    grain = fields.String(allow_none=True, metadata={"enum": ["week", "month", "quarter"]})
    computed_at = fields.String(allow_none=True)
    values = fields.List(
        fields.Nested(ScorecardValueSchema),
        dump_only=True,
        metadata={"description": "in a single record only"},
    )


class ScorecardCreate(TandemSchema):
    partnership = Id(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    label = fields.String(allow_none=True, validate=validate.Length(max=255))

    views: ClassVar[Views] = {
        "account_manager": ("partnership", "period_start", "period_end", "label")
    }

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_date_order(data, "period_start", "period_end")


class ScorecardUpdate(TandemSchema):
    period_start = fields.Date()
    period_end = fields.Date()
    label = fields.String(allow_none=True, validate=validate.Length(max=255))

    views: ClassVar[Views] = {"account_manager": ("period_start", "period_end", "label")}

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        require_one_of(data, list(self.fields))
        check_date_order(data, "period_start", "period_end")


class ScorecardValueCreate(TandemSchema):
    kpi = Text(64, required=True)
    variant = Text(64, required=True)
    value = DecimalString(allow_none=True)
    numerator = DecimalString(allow_none=True)
    denominator = DecimalString(allow_none=True)

    views: ClassVar[Views] = {
        "account_manager": ("kpi", "variant", "value", "numerator", "denominator")
    }
