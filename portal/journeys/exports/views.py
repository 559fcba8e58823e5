"""The exports journey: every resource list as an Excel workbook,
``/exports/<resource>.xlsx``, with the API list's filters and sort, walking the user's
governed scope (no row cap) page by page through the user's own hub session
(:meth:`portal.data.DataAccess.iter_rows`, by key where the hub can compare the key), and
streamed as it is read by :func:`portal.xlsx.xlsx_response` (past Excel's rows a sheet,
on the next sheet)."""

from __future__ import annotations

import contextlib
import datetime as dt
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
from portal.schemas.base import HubDate, HubDateTime
from portal.xlsx import xlsx_response

bp = Blueprint("exports", __name__, url_prefix="/exports")
answer_errors_as_pages(bp)


def _typed_columns(schema: Schema) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The dumped keys, in the schema's order, and a parser for the date-valued ones."""
    columns: list[tuple[str, str]] = []
    parsers: dict[str, Any] = {}
    for name, field in schema.dump_fields.items():
        key = field.data_key or name
        columns.append((key, key))
        if isinstance(field, HubDateTime):
            parsers[key] = dt.datetime.fromisoformat
        elif isinstance(field, HubDate | fields.Date):
            parsers[key] = lambda text: dt.date.fromisoformat(text[:10])
    return columns, parsers


def _dumper(schema: Schema) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``schema.dump`` for one row, as the API dumps it, without marshmallow's set-up per
    call (a quarter of an export's time in the portal went there): each field's own
    serialize. The resource schemas have no dump hooks, which this would skip;
    ``test_every_users_export_holds_exactly_what_the_api_lists_for_them`` compares."""
    specs = [(name, field.data_key or name, field) for name, field in schema.dump_fields.items()]

    def dump(row: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, key, field in specs:
            value = field.serialize(name, row, accessor=schema.get_attribute)
            if value is not missing:
                out[key] = value
        return out

    return dump


def _typed(row: Mapping[str, Any], parsers: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key, parse in parsers.items():
        if isinstance(out.get(key), str):
            # Not a date after all: the text goes out as the API gives it.
            with contextlib.suppress(ValueError):
                out[key] = parse(out[key])
    return out


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
    columns, parsers = _typed_columns(schema)
    dump = _dumper(schema)
    rows = (_typed(dump(row), parsers) for row in acc.iter_rows(res.name, query))
    filters = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in query.items()}
    return xlsx_response(
        acc,
        filename=f"{res.name}-{clock.today().isoformat()}.xlsx",
        sheet=res.name,
        columns=columns,
        rows=rows,
        collection=res.collection,
        detail={"resource": res.name, "filters": filters},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
