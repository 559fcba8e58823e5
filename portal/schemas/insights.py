"""The sell-through and inventory pages' filters, from the query string.

Query strings carry text, so ids here are parsed from digits (not JSON integers), and an
empty field means "any". Dates snap to whole ISO weeks: the rollups hold whole weeks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

from domain.kpis import LOOKBACKS, Band
from portal.schemas.base import MAX_ID

MAX_WEEKS = 104
MAX_STOCK_PAGE = 100_000  # the inventory table's last page (50 lines a page)
#: The inventory table's sorts (portal.data.insights.STOCK_SORTS).
STOCK_SORTS = ("band", "wos", "name", "on_hand")
#: The dates a filter may name: wide enough for any real report, and far enough from
#: Python's year 1 and 9999 that snapping to weeks and the previous period stay dates.
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


def _id() -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID, error="not an id"), load_default=None
    )


def _day(key: str) -> fields.Date:
    return fields.Date(
        data_key=key,
        validate=validate.Range(
            min=EARLIEST, max=LATEST, error=f"a date from {EARLIEST} to {LATEST}"
        ),
        load_default=None,
    )


class InsightQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # e.g. the submit button's name

    distributor = _id()
    supplier = _id()
    pair = _id()
    sku = _id()
    category = fields.String(validate=validate.Length(min=1, max=100), load_default=None)
    region = fields.String(validate=validate.Length(min=1, max=100), load_default=None)
    location = _id()
    first = _day("from")
    last = _day("to")
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


class InventoryQuerySchema(InsightQuerySchema):
    """The inventory page's filters: the shared ones, a snapshot day instead of a range
    (it is a snapshot page), a band, a sort and a page of the table."""

    snapshot = _day("snapshot")
    band = fields.String(validate=validate.OneOf([b.value for b in Band]), load_default=None)
    sort = fields.String(validate=validate.OneOf(STOCK_SORTS), load_default="band")
    order = fields.String(validate=validate.OneOf(("asc", "desc")), load_default="asc")
    page = fields.Integer(validate=validate.Range(min=1, max=MAX_STOCK_PAGE), load_default=1)
