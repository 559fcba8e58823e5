"""The versioned partner API at ``/api/v1``, as one package.

- :mod:`portal.api.base`: the blueprint, the signed-in check, the error envelope
  ``{code, status, message, errors}`` and the user's governed data access;
- :mod:`portal.api.resources`: ``/me`` and the routes generated from the registry
  (:data:`portal.data.RESOURCES`): list, summary, read, create, update, children;
- :mod:`portal.api.imports`: uploads, import status and rejects, column mappings, feeds;
- :mod:`portal.api.reviews`: a pair's quarterly business review pack;
- :mod:`portal.api.tokens`: personal tokens (``/api/v1/tokens``);
- :mod:`portal.api.openapi`: the OpenAPI document (``/api/v1/openapi.json``), generated
  from the same registry and schemas, so the two cannot drift.

The routes call services (:mod:`portal.data`, :mod:`portal.tokens`) that the pages call
too; they never import a page's views, nor pages theirs.
"""

from __future__ import annotations

from flask import Flask

# imports, openapi and resources add their routes to base.bp when imported.
from portal.api import base, imports, openapi, resources, reviews, tokens  # noqa: F401

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    app.register_blueprint(base.bp)
    app.register_blueprint(tokens.api_bp)
