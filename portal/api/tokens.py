"""The personal tokens' API side: ``/api/v1/tokens`` lists, mints and revokes the
signed-in user's own tokens (the service is :mod:`portal.tokens`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from portal.auth import IP_LIMIT, current_hub, limiter
from portal.errors import envelope
from portal.tokens import TokenCreateSchema, TokenError, list_tokens, mint, revoke

api_bp = Blueprint("tokens_api", __name__, url_prefix="/api/v1/tokens")


@api_bp.get("")
@login_required
def api_list() -> dict[str, Any]:
    return {"data": list_tokens(current_hub(), current_user)}


@api_bp.post("")
@login_required
@limiter.limit(IP_LIMIT)
def api_create() -> Any:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400, "Send a JSON object: {name, password, expires_in_days?}.")
    try:
        loaded = TokenCreateSchema().load(payload)
        minted = mint(current_hub(), current_user, **loaded)
    except ValidationError as exc:
        return _error(400, "INVALID_PAYLOAD", "The token request is not valid.", exc.messages)
    except TokenError as exc:
        code = "TOO_MANY_REQUESTS" if exc.status == 429 else "UNAUTHORIZED"
        return _error(exc.status, code, exc.message, exc.errors)
    body = {"data": {**minted.row, "token": minted.token}}
    return body, 201, {"Cache-Control": "no-store"}


@api_bp.delete("/<token_id>")
@login_required
def api_revoke(token_id: str) -> dict[str, Any]:
    row = revoke(current_hub(), current_user, token_id)
    if row is None:
        abort(404, "You have no such token.")
    return {"data": row}


def _error(status: int, code: str, message: str, errors: Any) -> tuple[dict[str, Any], int]:
    return envelope(status, code, message, errors), status
