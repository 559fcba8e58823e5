"""The sell-through and inventory pages' filters, from the query string.

Query strings carry text, so ids here are parsed from digits (not JSON integers), and an
empty field means "any". Dates snap to whole ISO weeks: the rollups hold whole weeks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

from domain.kpis import LOOKBACKS

MAX_WEEKS = 104


class InsightQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # e.g. the submit button's name

    distributor = fields.Integer(validate=validate.Range(min=1), load_default=None)
    sku = fields.Integer(validate=validate.Range(min=1), load_default=None)
    category = fields.String(validate=validate.Length(min=1, max=100), load_default=None)
    region = fields.String(validate=validate.Length(min=1, max=100), load_default=None)
    location = fields.Integer(validate=validate.Range(min=1), load_default=None)
    first = fields.Date(data_key="from", load_default=None)
    last = fields.Date(data_key="to", load_default=None)
    grain = fields.String(validate=validate.OneOf(("week", "month")), load_default="week")
    lookback = fields.Integer(validate=validate.OneOf(LOOKBACKS), load_default=4)

    @pre_load
    def _blank_is_any(self, data: Any, **kwargs: Any) -> Any:
        return {k: v for k, v in data.items() if v not in ("", None)}

    @post_load
    def _whole_weeks(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        first, last = data.get("first"), data.get("last")
        if first is not None:  # the Monday on or after
            data["first"] = first + dt.timedelta(days=(7 - first.weekday()) % 7)
        if last is not None:  # the Sunday on or before
            data["last"] = last - dt.timedelta(days=(last.weekday() + 1) % 7)
        if first is not None and last is not None:
            if data["last"] < data["first"]:
                raise ValidationError("the range holds no whole week (Monday to Sunday)", "to")
            if (data["last"] - data["first"]).days > 7 * MAX_WEEKS:
                raise ValidationError(f"choose at most {MAX_WEEKS} weeks", "from")
        return data
