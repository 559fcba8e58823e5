"""The versioned partner API at ``/api/v1``: one set of routes per registered resource.

Routes are generated from :data:`portal.data.RESOURCES`. Each view loads its input
through the resource's schema (the view for the user's role), calls the data layer, and
dumps the result: ``{"data": ..., "meta": {page, per_page, total}}`` on success, the
error envelope ``{code, status, message, errors}`` otherwise. Requests authenticate with
the browser session or a personal token (``Authorization: Bearer tdm_…``); the OpenAPI
document at ``/api/v1/openapi.json`` is public.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Flask, current_app, request
from flask_login import current_user
from marshmallow import Schema, ValidationError

from portal.auth import current_hub
from portal.data import DataAccess, DataError
from portal.data.registry import Route, routes
from portal.errors import envelope
from portal.openapi import openapi_document
from portal.schemas.base import MeSchema, PageQuerySchema
from portal.schemas.pos_sales import PosSummarySchema

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})

Reply = tuple[dict[str, Any], int] | dict[str, Any]


@bp.before_request
def _require_user() -> Any:
    """Every route but the OpenAPI document needs a signed-in user (session or token)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    return None


@bp.errorhandler(DataError)
def _data_error(exc: DataError) -> tuple[dict[str, Any], int]:
    return envelope(exc.status, exc.code, exc.message, exc.errors), exc.status


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> tuple[dict[str, Any], int]:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return envelope(422, "UNPROCESSABLE_ENTITY", "The request is not valid.", messages), 422


def access() -> DataAccess:
    """The data layer as the signed-in user, with their own hub client."""
    via = f"api:{current_user.token_id}" if current_user.token_id else "api"
    return DataAccess(current_user, current_hub(), via=via)


def json_body() -> Mapping[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DataError("send a JSON object", {"_schema": ["the body must be a JSON object"]})
    return body


def load_query(schema: Schema) -> dict[str, Any]:
    return schema.load(request.args.to_dict(flat=True))


# -- routes that are not a resource -----------------------------------------------------


@bp.get("/me")
def me() -> Reply:
    """The signed-in user and their organization."""
    user = current_user
    data = {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "organization": {
            "id": user.organization_id,
            "name": user.organization_name,
            "kind": user.organization_kind,
        },
    }
    return {"data": MeSchema().dump(data)}


@bp.get("/openapi.json")
def openapi() -> Reply:
    """This API's OpenAPI 3 document, generated from the schemas and the registry."""
    return openapi_document(current_app)


# -- resource routes, generated from the registry ---------------------------------------


def _list(route: Route) -> Callable[[], Reply]:
    res = route.resource
    query_schema = res.query_schema()()
    row_schema = res.schema(exclude=res.embedded)

    def view() -> Reply:
        page = access().list(res.name, load_query(query_schema))
        return {"data": row_schema.dump(page.rows, many=True), "meta": page.meta}

    return view


def _summary(route: Route) -> Callable[[], Reply]:
    res = route.resource
    query_schema = res.summary_query_schema()()

    def view() -> Reply:
        query = load_query(query_schema)
        page = access().summary(res.name, query.pop("group_by"), query)
        return {"data": PosSummarySchema().dump(page.rows, many=True), "meta": page.meta}

    return view


def _read(route: Route) -> Callable[..., Reply]:
    res = route.resource

    def view(key: Any) -> Reply:
        return {"data": res.schema().dump(access().get(res.name, key))}

    return view


def _create(route: Route) -> Callable[[], Reply]:
    res = route.resource

    def view() -> Reply:
        acc = access()
        write = acc.write_for(res.name, "create")
        data = write.schema(view=acc.role).load(json_body())
        return {"data": res.schema().dump(acc.create(res.name, data))}, 201

    return view


def _update(route: Route) -> Callable[..., Reply]:
    res = route.resource

    def view(key: Any) -> Reply:
        acc = access()
        write = acc.write_for(res.name, "update")
        data = write.schema(view=acc.role).load(json_body())
        return {"data": res.schema().dump(acc.update(res.name, key, data))}

    return view


def _children(route: Route) -> Callable[..., Reply]:
    res, child = route.resource, route.child
    assert child is not None
    page_schema = PageQuerySchema()

    def view(key: Any) -> Reply:
        page = access().list_children(res.name, key, child.name, load_query(page_schema))
        return {"data": child.schema().dump(page.rows, many=True), "meta": page.meta}

    return view


def _add_child(route: Route) -> Callable[..., Reply]:
    res, child = route.resource, route.child
    assert child is not None

    def view(key: Any) -> Reply:
        acc = access()
        write = acc.write_for(res.name, "create", child.name)
        data = write.schema(view=acc.role).load(json_body())
        row = acc.create_child(res.name, key, child.name, data)
        return {"data": child.schema().dump(row)}, 201

    return view


VIEWS: dict[tuple[str, bool], Callable[[Route], Callable[..., Reply]]] = {
    ("list", False): _list,
    ("summary", False): _summary,
    ("create", False): _create,
    ("read", False): _read,
    ("update", False): _update,
    ("list", True): _children,
    ("create", True): _add_child,
}

for _route in routes():
    bp.add_url_rule(
        _route.path(),
        _route.endpoint,
        VIEWS[_route.action, _route.child is not None](_route),
        methods=[_route.method],
    )


def init_app(app: Flask) -> None:
    # Uploads, imports, mappings and feeds add their routes to this blueprint.
    from portal import imports  # noqa: F401 - imports this module itself

    app.register_blueprint(bp)
