"""The exports journey: every resource list as an Excel workbook,
``/exports/<resource>.xlsx``, with the API list's filters and sort, walking the user's
governed scope (no row cap) page by page through the user's own hub session
(:meth:`portal.data.DataAccess.iter_rows`, by key where the hub can compare the key), and
streamed as it is read by :func:`portal.xlsx.xlsx_response` (past Excel's rows a sheet,
on the next sheet)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Flask, request
from flask_login import login_required
from marshmallow import Schema, ValidationError, fields, missing
from werkzeug.wrappers import Response

from domain import clock
from portal.data.errors import Invalid, NotFound
from portal.data.registry import RESOURCES, Resource
from portal.pages import access, answer_errors_as_pages
from portal.schemas.base import HubDate, HubDateTime, HubInteger
from portal.xlsx import xlsx_response

bp = Blueprint("exports", __name__, url_prefix="/exports")
answer_errors_as_pages(bp)


@functools.lru_cache(maxsize=4096)
def _as_date(text: str) -> dt.date | str:
    """A ``YYYY-MM-DD`` date cell (dates repeat down a column: kept), or, if it is not a
    date after all, the text as the API gives it."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


def _step(schema: Schema, name: str, field: fields.Field) -> Callable[[Mapping[str, Any]], Any]:
    """One column's cell from a hub row: the field's own serialize, as the API dumps it,
    with dates and timestamps as Excel's; the common cases (an int, a text, a hub date)
    without marshmallow's machinery, whose set-up per value cost more than the rest of
    an export's work in the portal."""

    key = field.attribute or name

    def dumped(row: Mapping[str, Any]) -> Any:
        value = field.serialize(name, row, accessor=schema.get_attribute)
        return None if value is missing else value

    if isinstance(field, HubDateTime):

        def timestamp(row: Mapping[str, Any]) -> Any:
            value = dumped(row)
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    return dt.datetime.fromisoformat(value)
            return value

        return timestamp
    if isinstance(field, HubDate):

        def day(row: Mapping[str, Any]) -> Any:
            value = row.get(key)
            if type(value) is str:
                return _as_date(value[:10])
            value = dumped(row)
            return _as_date(value) if isinstance(value, str) else value

        return day
    if isinstance(field, fields.Date):

        def date(row: Mapping[str, Any]) -> Any:
            value = dumped(row)
            return _as_date(value[:10]) if isinstance(value, str) else value

        return date
    plain = {HubInteger: int, fields.String: str}.get(type(field))
    if plain is None:  # e.g. a value computed from others: as the API dumps it
        return dumped

    def cell(row: Mapping[str, Any]) -> Any:
        value = row.get(key)
        return value if value is None or type(value) is plain else dumped(row)

    return cell


def _converter(schema: Schema) -> tuple[list[tuple[str, str]], Callable[[Any], list[Any]]]:
    """The dumped keys, in the schema's order, and a hub row's cells under them.
    ``test_every_users_export_holds_exactly_what_the_api_lists_for_them`` compares the
    cells with the API's dump (the resource schemas have no dump hooks, which this
    would skip)."""
    columns, steps = [], []
    for name, field in schema.dump_fields.items():
        key = field.data_key or name
        columns.append((key, key))
        steps.append(_step(schema, name, field))

    def convert(row: Mapping[str, Any]) -> list[Any]:
        return [step(row) for step in steps]

    return columns, convert


def _query(res: Resource) -> dict[str, Any]:
    try:
        query = res.query_schema()().load(request.args.to_dict(flat=True))
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid("the export's filters are not valid", messages) from None
    query.pop("page", None)
    query.pop("per_page", None)
    return query


@bp.get("/<resource>.xlsx")
@login_required
def resource_list(resource: str) -> Response:
    """Every row of a resource list the user may see, with the API list's filters."""
    res = RESOURCES.get(resource)
    if res is None:
        raise NotFound(f"no resource {resource!r}")
    query = _query(res)
    acc = access()
    schema = res.schema(exclude=res.embedded)
    columns, convert = _converter(schema)
    filters = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in query.items()}
    return xlsx_response(
        acc,
        filename=f"{res.name}-{clock.today().isoformat()}.xlsx",
        sheet=res.name,
        columns=columns,
        rows=acc.iter_rows(res.name, query),
        convert=convert,
        collection=res.collection,
        detail={"resource": res.name, "filters": filters},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
