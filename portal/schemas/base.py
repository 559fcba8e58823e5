"""Fields and the base schema every resource module builds on.

Input is strict: integers must be JSON integers (no ``1.5``, no ``"12"``, no ``true``),
money is integer minor units plus an ISO 4217 currency, exact ratios are decimal strings,
and unknown fields are refused. Output passes the hub's ISO dates through unchanged and
turns PostgreSQL's stringified big integers back into integers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from domain.ingest import MAX_ID, MAX_MINOR, MAX_UNITS

DECIMAL_RE = re.compile(r"^-?\d{1,15}(\.\d{1,10})?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

#: The last page a list may be asked for (at 500 a page, half a billion rows).
MAX_PAGE = 1_000_000

#: A schema's role-specific field sets: view name (a role) to field names.
Views = Mapping[str, Sequence[str]]


class StrictInteger(fields.Integer):
    """An integer that is an integer in the JSON: ``1.5``, ``"12"`` and ``true`` are refused."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def Id(**kwargs: Any) -> StrictInteger:
    """A positive integer id of another record."""
    return StrictInteger(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Quantity(**kwargs: Any) -> StrictInteger:
    """A whole number of units, never negative, and no more than the hub's columns hold."""
    return StrictInteger(
        validate=validate.Range(min=0, max=MAX_UNITS),
        metadata={"description": "whole units"},
        **kwargs,
    )


def MinorUnits(**kwargs: Any) -> StrictInteger:
    """Money in integer minor units (cents); the currency is a sibling field. At most
    :data:`domain.ingest.MAX_MINOR`, the largest the hub carries exactly."""
    return StrictInteger(
        validate=validate.Range(min=0, max=MAX_MINOR),
        metadata={"description": "integer minor units (e.g. cents) of `currency`"},
        **kwargs,
    )


def Currency(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(CURRENCY_RE, error="a 3-letter ISO 4217 code such as USD"),
        metadata={"example": "USD"},
        **kwargs,
    )


def DecimalString(**kwargs: Any) -> fields.String:
    """An exact decimal as text (``"0.953"``): never a float."""
    return fields.String(
        validate=validate.Regexp(DECIMAL_RE, error='an exact decimal as a string, e.g. "0.95"'),
        metadata={"description": "exact decimal as a string", "example": "0.95"},
        **kwargs,
    )


def Text(max_length: int = 255, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


#: What a document number (a PO's, an ASN's, an invoice's) may hold: it travels in X12
#: and EDIFACT, where a delimiter would cut it and a non-Latin letter cannot be written.
DOCUMENT_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9 ._/()&@-]*$"


def DocumentNumber(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(min=1, max=64),
            validate.Regexp(
                DOCUMENT_NUMBER,
                error="letters, digits, spaces and . _ / ( ) & @ - only (it travels by EDI)",
            ),
        ],
        **kwargs,
    )


def OneOf(choices: Sequence[str], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(list(choices)), **kwargs)


class CommaList(fields.List):
    """A list given in a query string as ``a,b,c``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


class HubDate(fields.Date):
    """A date: parsed from ISO on input; on output the hub's ``YYYY-MM-DD`` goes out as is."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)[:10]


class HubDateTime(fields.DateTime):
    """A timestamp; the hub's ISO 8601 text goes out as is."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return str(value)


class HubInteger(fields.Integer):
    """An integer on output, also when the hub (PostgreSQL) sends it as a string."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{attr}: {value!r} is not a whole number")
        return int(value)


class HubBoolean(fields.Boolean):
    """A JSON boolean on output, also when the hub sends 0 or 1 (on SQLite a column's
    default comes back as the integer it is stored as); anything else is an error."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> bool | None:
        if value is None:
            return None
        if value is True or value is False:
            return value
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        raise ValueError(f"{attr}: {value!r} is not a boolean")


class TandemSchema(Schema):
    """Base schema: unknown fields are refused; ``views`` name role-specific field sets.

    As in CTFd's schemas, ``Schema(view="supplier_user")`` limits the schema to that
    view's fields; the view stays on ``self.view`` for validators that depend on it.
    """

    views: ClassVar[Views] = {}

    class Meta:
        unknown = RAISE

    def __init__(self, view: str | None = None, **kwargs: Any) -> None:
        if view is not None:
            if view not in self.views:
                raise KeyError(f"{type(self).__name__} has no view {view!r}")
            kwargs["only"] = tuple(self.views[view])
        self.view = view
        super().__init__(**kwargs)


def require_one_of(data: Mapping[str, Any], names: Sequence[str]) -> None:
    """Refuse an update that changes nothing."""
    if not any(name in data for name in names):
        raise ValidationError(f"give at least one of: {', '.join(names)}", "_schema")


def check_date_order(
    data: Mapping[str, Any], start: str, end: str, message: str | None = None
) -> None:
    if data.get(start) and data.get(end) and data[end] < data[start]:
        raise ValidationError(message or f"{end} is before {start}", end)


def check_unique(data: Mapping[str, Any], rows: str, field: str, message: str) -> None:
    """Refuse nested ``rows`` (a document's lines) of which two give ``field`` the same
    value; the message goes under ``rows``."""
    values = [row[field] for row in data.get(rows, [])]
    if len(set(values)) != len(values):
        raise ValidationError(message, rows)


# -- the API's envelopes ---------------------------------------------------------------


class ErrorSchema(Schema):
    """Every error the API answers: ``errors`` maps a field (or ``_schema``) to messages."""

    code = fields.String(required=True, metadata={"example": "NOT_FOUND"})
    status = fields.Integer(required=True, metadata={"example": 404})
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "per-field messages, as marshmallow gives them"},
    )


class PageMetaSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class PageQuerySchema(TandemSchema):
    """Paging of every list: 1-based ``page``, ``per_page`` up to 500."""

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "1-based"},
    )
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class MeSchema(Schema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    organization = fields.Dict(
        keys=fields.String(), values=fields.Raw(), metadata={"description": "id, name, kind"}
    )
