"""The partner API's resource routes: ``/me``, and one set of routes per registered resource.

Routes are generated from :data:`portal.data.RESOURCES`. Each view loads its input
through the resource's schema (the view for the user's role), calls the data layer, and
dumps the result: ``{"data": ..., "meta": {page, per_page, total}}`` on success, the
error envelope ``{code, status, message, errors}`` otherwise. Requests authenticate with
the browser session or a personal token (``Authorization: Bearer tdm_…``); the OpenAPI
document at ``/api/v1/openapi.json`` is public.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_login import current_user

from portal.api.base import Reply, access, bp, json_body, load_query
from portal.data.registry import Route, routes
from portal.schemas.base import MeSchema, PageQuerySchema
from portal.schemas.pos_sales import PosSummarySchema

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
