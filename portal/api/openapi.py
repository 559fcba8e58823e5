"""The API's OpenAPI 3 document, generated with apispec from the same registry and
marshmallow schemas the views use: nothing in it is written by hand but the prose.

Every route of :func:`portal.data.registry.routes` becomes an operation with its
parameters (paging, sort, the resource's filters), its request body (one schema per role
allowed to write, as ``anyOf``: their fields overlap, so a body may fit several), its
``{data, meta}`` answer and its error answers in the ``{code, status, message, errors}``
envelope. Both ways to authenticate are declared: the portal's session cookie and a
personal token as a bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app
from marshmallow import Schema

from domain.ingest import KINDS
from ingest.readers import FORMATS
from portal.api.base import Reply, bp
from portal.data.registry import MAX_PER_PAGE, Route, Write, camel, routes
from portal.schemas.base import MAX_ID, ErrorSchema, MeSchema, PageMetaSchema, PageQuerySchema
from portal.schemas.imports import ColumnMappingSchema, FeedSchema, ImportSchema
from portal.schemas.pos_sales import PosSummarySchema
from portal.tokens import TokenCreateSchema

TITLE = "Tandem partner API"
VERSION = "1.0.0"
PREFIX = "/api/v1"

DESCRIPTION = f"""\
Read and write the supplier-distributor data you are allowed to, and nothing else.

Every answer is scoped to the signed-in user: their organization, the pairs they are a
side of (or manage), and, for POS, inventory and forecasts, the data-sharing agreements
in force today. A record outside that scope answers 404, exactly as a missing one.

Lists answer `{{"data": [...], "meta": {{"page", "per_page", "total"}}}}`; `per_page` is at
most {MAX_PER_PAGE} and rows are sorted stably (ties break on `id`,
or for POS, inventory and forecasts on their natural key: see each list's `sort`). Money is always
integer minor units plus an ISO 4217 `currency`; no number in this API is a float.
Errors answer `{{"code", "status", "message", "errors"}}`, with `errors` per field.
"""

ERRORS = {
    400: "The request is malformed; `errors` names the field.",
    401: "Not signed in, or the token is not valid (any more).",
    403: "Your role may not do this, or the request names records that are not yours.",
    404: "No such record, or not yours to see: the two are not told apart.",
    409: "The record's state does not allow this change.",
    422: "The request is not valid; `errors` says why, per field.",
    429: "Too many attempts: wait, then try again.",
    503: "The service this needs is not configured or not available.",
}


def _schema_name(schema: Any) -> str:
    """Component names: the class name without ``Schema``, plus the role of a view."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    view = getattr(schema, "view", None) if not isinstance(schema, type) else None
    return f"{name}{camel(view)}" if view else name


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


class _Builder:
    def __init__(self, app: Flask) -> None:
        self.seen: dict[tuple[type, frozenset[str]], str] = {}
        self.spec = APISpec(
            title=TITLE,
            version=VERSION,
            openapi_version="3.0.3",
            plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
            info={"description": DESCRIPTION},
        )
        self.cookie = app.config.get("SESSION_COOKIE_NAME", "session")

    def schema(self, schema: type[Schema] | Schema) -> dict[str, str]:
        """A $ref to the component for this schema (or view), registering it once."""
        name = _schema_name(schema)
        if name not in self.spec.components.schemas:  # nested ones register themselves
            instance = schema() if isinstance(schema, type) else schema
            # Two roles' views with the same fields (each side reporting its actions) are
            # one component: apispec refuses the same schema under two names.
            same = (type(instance), frozenset(instance.fields))
            if same in self.seen:
                return _ref(self.seen[same])
            self.seen[same] = name
            self.spec.components.schema(name, schema=instance)
        return _ref(name)

    def components(self) -> None:
        self.spec.components.security_scheme(
            "session",
            {
                "type": "apiKey",
                "in": "cookie",
                "name": self.cookie,
                "description": "The portal's browser session (sign in at /login). Unsafe "
                "methods also need the session's CSRF token in the X-CSRFToken header.",
            },
        )
        self.spec.components.security_scheme(
            "token",
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "tdm_<id>_<secret>",
                "description": "A personal API token, minted at /account/tokens.",
            },
        )
        self.schema(ErrorSchema)
        self.schema(PageMetaSchema)
        for status, text in ERRORS.items():
            self.spec.components.response(
                f"E{status}",
                {"description": text, "content": {"application/json": {"schema": _ref("Error")}}},
            )

    @staticmethod
    def _answer(data: Mapping[str, Any], *, page: bool, description: str) -> dict[str, Any]:
        properties: dict[str, Any] = {"data": data}
        if page:
            properties["meta"] = _ref("PageMeta")
        return {
            "description": description,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": properties,
                        "required": list(properties),
                    }
                }
            },
        }

    def _body(self, writes: Mapping[str, Write], *, change: bool) -> dict[str, Any]:
        """The request body: one role's schema, or anyOf theirs. A change must name at
        least one field (the update schemas refuse ``{}``), so it has ``minProperties``."""
        refs = [self.schema(w.schema(view=role)) for role, w in sorted(writes.items())]
        roles = ", ".join(sorted(writes))
        schema: dict[str, Any] = refs[0] if len(refs) == 1 else {"anyOf": refs}
        if change:
            schema = {**(schema if "anyOf" in schema else {"allOf": [schema]}), "minProperties": 1}
        return {
            "required": True,
            "description": f"The fields each role may send ({roles}); anything else is refused.",
            "content": {"application/json": {"schema": schema}},
        }

    @staticmethod
    def _errors(*statuses: int) -> dict[str, Any]:
        return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}

    def operation(self, route: Route) -> dict[str, Any]:
        res, child = route.resource, route.child
        schema = child.schema if child else res.schema
        item = self.schema(schema)
        op: dict[str, Any] = {
            "operationId": route.endpoint,
            "tags": [res.name],
            "parameters": [],
        }
        if route.has_key:
            op["parameters"].append(
                {
                    "in": "path",
                    "name": "key",
                    "required": True,
                    "schema": (
                        {"type": "integer", "minimum": 1, "maximum": MAX_ID}
                        if res.key_type == "int"
                        else {"type": "string"}
                    ),
                    "description": f"the id of a record of {res.name}",
                }
            )
        if route.action == "list" and child is None:
            op["summary"] = f"List {res.name}"
            op["description"] = res.title
            op["parameters"].append({"in": "query", "schema": res.query_schema()})
            op["responses"] = {
                "200": self._answer(
                    {"type": "array", "items": item}, page=True, description="A page"
                ),
                **self._errors(401, 422),
            }
        elif route.action == "summary":
            op["summary"] = f"Sum {res.name} by SKU, ISO week, distributor or location"
            op["parameters"].append({"in": "query", "schema": res.summary_query_schema()})
            summary = self.schema(PosSummarySchema)
            op["responses"] = {
                "200": self._answer(
                    {"type": "array", "items": summary}, page=True, description="The sums"
                ),
                **self._errors(401, 422),
            }
        elif route.action == "read":
            op["summary"] = f"Read one of {res.name}"
            op["responses"] = {
                "200": self._answer(item, page=False, description="The record"),
                **self._errors(401, 404),
            }
        elif route.action == "list":
            assert child is not None
            op["summary"] = f"List the {child.name} of one of {res.name}"
            op["parameters"].append({"in": "query", "schema": PageQuerySchema})
            op["responses"] = {
                "200": self._answer(
                    {"type": "array", "items": item}, page=True, description="A page"
                ),
                **self._errors(401, 404, 422),
            }
        else:
            writes = (
                child.writes
                if child
                else (res.creates if route.action == "create" else res.updates)
            )
            target = f"{child.name} of one of {res.name}" if child else res.name
            op["summary"] = f"{'Create' if route.action == 'create' else 'Change'} {target}"
            op["description"] = "Allowed to: " + ", ".join(sorted(writes))
            op["requestBody"] = self._body(writes, change=route.action == "update")
            status = "201" if route.action == "create" else "200"
            op["responses"] = {
                status: self._answer(item, page=False, description="The record as written"),
                **self._errors(400, 401, 403, 404, 409, 422),
            }
        return op

    def token_paths(self) -> dict[str, Any]:
        """Personal tokens (:mod:`portal.tokens`), documented from its own schema."""
        token = {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "last_used_at": {"type": "string", "format": "date-time", "nullable": True},
                "expires_at": {"type": "string", "format": "date-time", "nullable": True},
                "revoked_at": {"type": "string", "format": "date-time", "nullable": True},
            },
        }
        minted = {**token, "properties": {**token["properties"], "token": {"type": "string"}}}
        return {
            f"{PREFIX}/tokens": {
                "get": {
                    "operationId": "tokens_list",
                    "summary": "Your personal API tokens (never their secrets)",
                    "tags": ["tokens"],
                    "responses": {
                        "200": self._answer(
                            {"type": "array", "items": token}, page=False, description="Tokens"
                        ),
                        **self._errors(401),
                    },
                },
                "post": {
                    "operationId": "tokens_create",
                    "summary": "Mint a token (re-enter your password); shown once",
                    "tags": ["tokens"],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": self.schema(TokenCreateSchema)}},
                    },
                    "responses": {
                        "201": self._answer(minted, page=False, description="The new token"),
                        **self._errors(400, 401, 429),
                    },
                },
            },
            f"{PREFIX}/tokens/{{token_id}}": {
                "delete": {
                    "operationId": "tokens_revoke",
                    "summary": "Revoke one of your tokens",
                    "tags": ["tokens"],
                    "parameters": [
                        {
                            "in": "path",
                            "name": "token_id",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": self._answer(token, page=False, description="The revoked token"),
                        **self._errors(401, 404),
                    },
                }
            },
        }

    def import_paths(self) -> dict[str, Any]:
        """Uploads, imports, column mappings and feeds (:mod:`portal.api.imports`)."""
        one = self.schema(ImportSchema)
        mapping = self.schema(ColumnMappingSchema)

        def key(name: str) -> dict[str, Any]:
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            return {"in": "path", "name": name, "required": True, "schema": schema}

        kind = {**key("kind"), "schema": {"type": "string", "enum": list(KINDS)}}
        return {
            f"{PREFIX}/imports": {
                "post": {
                    "operationId": "imports_upload",
                    "summary": "Upload a POS, inventory or forecast file (distributors); "
                    "imported in the background: poll the Location",
                    "tags": ["imports"],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file", "kind"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "kind": {"type": "string", "enum": list(KINDS)},
                                        "format": {"type": "string", "enum": list(FORMATS)},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": self._answer(one, page=False, description="Queued"),
                        **self._errors(400, 401, 403, 503),
                    },
                },
                "get": {
                    "operationId": "imports_list",
                    "summary": "Your organization's imports, newest first",
                    "tags": ["imports"],
                    "responses": {
                        "200": self._answer(
                            {"type": "array", "items": one}, page=False, description="Imports"
                        ),
                        **self._errors(401, 403),
                    },
                },
            },
            f"{PREFIX}/imports/{{key}}": {
                "get": {
                    "operationId": "imports_read",
                    "summary": "One import's status, progress (rows, rejected, rate) and counts",
                    "tags": ["imports"],
                    "parameters": [key("key")],
                    "responses": {
                        "200": self._answer(one, page=False, description="The import"),
                        **self._errors(401, 403, 404),
                    },
                }
            },
            f"{PREFIX}/imports/{{key}}/rejects": {
                "get": {
                    "operationId": "imports_rejects",
                    "summary": "The import's rejected rows: line, field, reason (CSV)",
                    "tags": ["imports"],
                    "parameters": [key("key")],
                    "responses": {
                        "200": {
                            "description": "The rejects file",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **self._errors(401, 403, 404),
                    },
                }
            },
            f"{PREFIX}/column-mappings/{{kind}}": {
                "get": {
                    "operationId": "column_mappings_read",
                    "summary": "Your saved columns and file settings for a data kind",
                    "tags": ["imports"],
                    "parameters": [kind],
                    "responses": {
                        "200": self._answer(mapping, page=False, description="The mapping"),
                        **self._errors(400, 401, 403),
                    },
                },
                "put": {
                    "operationId": "column_mappings_save",
                    "summary": "Save your columns and file settings (date format, encoding, "
                    "delimiter, decimal and thousands separators), used for the next file",
                    "tags": ["imports"],
                    "parameters": [kind],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": mapping}},
                    },
                    "responses": {
                        "200": self._answer(mapping, page=False, description="Saved"),
                        **self._errors(400, 401, 403),
                    },
                },
            },
            f"{PREFIX}/feeds": {
                "get": {
                    "operationId": "feeds_list",
                    "summary": "Freshness per distributor and data kind, with a stale flag",
                    "tags": ["feeds"],
                    "responses": {
                        "200": self._answer(
                            {"type": "array", "items": self.schema(FeedSchema)},
                            page=False,
                            description="Feeds",
                        ),
                        **self._errors(401),
                    },
                }
            },
        }

    def review_paths(self) -> dict[str, Any]:
        """The quarterly business review pack (:mod:`portal.api.reviews`)."""
        files = {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}},
        }
        return {
            f"{PREFIX}/review-packs/{{key}}": {
                "get": {
                    "operationId": "review_packs_read",
                    "summary": "A pair's quarterly business review pack (its manager, supplier "
                    "or distributor): workbook, PDF or printable page",
                    "tags": ["reviews"],
                    "parameters": [
                        {
                            "in": "path",
                            "name": "key",
                            "required": True,
                            "description": "the partnership's id",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        },
                        {
                            "in": "query",
                            "name": "quarter",
                            "required": False,
                            "description": "e.g. 2026-Q4 (default: the last whole quarter)",
                            "schema": {"type": "string", "pattern": r"^(FY)?\d{4}-Q[1-4]$"},
                        },
                        {
                            "in": "query",
                            "name": "format",
                            "required": False,
                            "schema": {
                                "type": "string",
                                "enum": ["xlsx", "pdf", "html"],
                                "default": "xlsx",
                            },
                        },
                    ],
                    "responses": {
                        "200": {"description": "The pack", "content": files},
                        **self._errors(400, 401, 403, 404, 422),
                    },
                }
            }
        }

    def build(self) -> dict[str, Any]:
        self.components()
        paths: dict[str, dict[str, Any]] = {}
        for route in routes():
            paths.setdefault(PREFIX + route.path(openapi=True), {})[route.method.lower()] = (
                self.operation(route)
            )
        paths[f"{PREFIX}/me"] = {
            "get": {
                "operationId": "me",
                "summary": "The signed-in user and their organization",
                "tags": ["me"],
                "responses": {
                    "200": self._answer(self.schema(MeSchema), page=False, description="You"),
                    **self._errors(401),
                },
            }
        }
        paths.update(self.token_paths())
        paths.update(self.import_paths())
        paths.update(self.review_paths())
        paths[f"{PREFIX}/openapi.json"] = {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": {"description": "The OpenAPI 3 document"}},
            }
        }
        for path, operations in paths.items():
            self.spec.path(path=path, operations=operations)
        document = self.spec.to_dict()
        document["security"] = [{"session": []}, {"token": []}]
        return document


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document for this app (its session cookie name goes in)."""
    return _Builder(app).build()


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document, built once per app."""
    document = app.extensions.get("tandem.openapi")
    if document is None:
        document = app.extensions["tandem.openapi"] = build_document(app)
    return document


@bp.get("/openapi.json")
def openapi() -> Reply:
    """This API's OpenAPI 3 document, generated from the schemas and the registry."""
    return openapi_document(current_app)
