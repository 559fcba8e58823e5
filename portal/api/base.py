"""What every route of the partner API shares: its blueprint, the signed-in check, the
error envelope, and the user's governed data access."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, request
from flask_login import current_user
from marshmallow import Schema, ValidationError

from portal.auth import current_hub
from portal.config import Config
from portal.data import DataAccess, DataError
from portal.errors import envelope

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


def config() -> Config:
    return current_app.extensions["tandem.config"]


def json_body() -> Mapping[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DataError("send a JSON object", {"_schema": ["the body must be a JSON object"]})
    return body


def load_query(schema: Schema) -> dict[str, Any]:
    return schema.load(request.args.to_dict(flat=True))
