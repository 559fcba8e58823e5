"""The account journey: a user's personal API tokens (``/account/tokens``): list them,
mint one after re-entering the password (its secret shown once), revoke, download the
list. The service is :mod:`portal.tokens`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, render_template, request
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from domain import clock
from portal.auth import IP_LIMIT, current_hub, limiter
from portal.pages import access
from portal.tokens import (
    DEFAULT_DAYS,
    MAX_DAYS,
    TokenCreateSchema,
    TokenError,
    list_tokens,
    mint,
    parse_time,
    revoke,
)
from portal.xlsx import xlsx_response

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context["tokens"] = list_tokens(current_hub(), current_user)
    context.update(default_days=DEFAULT_DAYS, max_days=MAX_DAYS)
    return render_template("account/tokens.html", **context), status


@bp.get("")
@login_required
def page() -> tuple[str, int]:
    """The user's tokens, and the form to mint one."""
    return _page()


@bp.get("/export.xlsx")
@login_required
def export() -> Response:
    """The user's own tokens as an Excel workbook: the page's table, never a secret."""
    rows = [
        {
            "name": t["name"],
            "created": parse_time(t["created_at"]),
            "last_used": parse_time(t["last_used_at"]),
            "expires": parse_time(t["expires_at"]),
            "status": "revoked" if t["revoked_at"] else "active",
            "revoked": parse_time(t["revoked_at"]),
        }
        for t in list_tokens(current_hub(), current_user)
    ]
    columns = [
        ("name", "Name"),
        ("created", "Created (UTC)"),
        ("last_used", "Last used (UTC)"),
        ("expires", "Expires (UTC)"),
        ("status", "Status"),
        ("revoked", "Revoked (UTC)"),
    ]
    return xlsx_response(
        access(),
        filename=f"api-tokens-{clock.today().isoformat()}.xlsx",
        sheet="API tokens",
        columns=columns,
        rows=rows,
        collection="api_tokens",
    )


@bp.post("")
@login_required
@limiter.limit(IP_LIMIT)
def create() -> Any:
    form = request.form.to_dict()
    data = {k: v for k, v in form.items() if not (k == "expires_in_days" and v == "")}
    try:
        loaded = TokenCreateSchema().load(data)
        minted = mint(current_hub(), current_user, **loaded)
    except ValidationError as exc:
        return _page(400, errors=exc.messages, form=form)
    except TokenError as exc:
        return _page(exc.status, errors=exc.errors, message=exc.message, form=form)
    body, status = _page(201, minted=minted)
    return body, status, {"Cache-Control": "no-store"}  # the secret is on this page only


@bp.post("/<token_id>/revoke")
@login_required
def revoke_page(token_id: str) -> tuple[str, int]:
    if revoke(current_hub(), current_user, token_id) is None:
        abort(404, "You have no such token.")
    return _page(message=f"Token {token_id} is revoked.")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
