"""Each role's home page; ``/`` sends a user to theirs. A partner may dismiss or snooze
an item of its "Needs your attention" list (``POST /attention``)."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.wrappers import Response

from domain import attention as rules
from domain import clock
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, OPERATOR_ADMIN, SUPPLIER_USER
from portal.auth import home_url, role_required
from portal.data import attention, reviews
from portal.pages import access, reports

bp = Blueprint("home", __name__)
PARTNERS = (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
#: What a set-aside item is called in the message that confirms it.
DONE = {
    "dismiss": "dismissed",
    "snooze-day": "snoozed for a day",
    "snooze-week": "snoozed for a week",
}


class SetAsideSchema(Schema):
    """An attention item to set aside: its key and the cause it was shown with (the form's
    CSRF token aside, nothing else is read)."""

    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True, validate=validate.Length(min=1, max=255))
    cause = fields.String(required=True, validate=validate.Length(max=64))
    action = fields.String(required=True, validate=validate.OneOf(rules.ACTIONS))
    title = fields.String(load_default="", validate=validate.Length(max=300))


@bp.get("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


def _attention() -> list[attention.Item]:
    """What the user should look at first (see :mod:`portal.data.attention`)."""
    config = current_app.extensions["tandem.config"]
    return attention.items(access(), config.stale_after_days, reports())


@bp.post("/attention")
@role_required(*PARTNERS)
def set_aside() -> Response | tuple[str, int]:
    """Dismiss an attention item (until its cause changes) or snooze it (until then too,
    or the snooze's end), for this user only; back to the user's home."""
    try:
        loaded = SetAsideSchema().load(request.form.to_dict())
    except ValidationError as exc:
        return render_template(
            "error.html", status=422, title="Not set aside",
            message="This item could not be set aside.", errors=exc.messages,
        ), 422  # fmt: skip
    until = rules.until(loaded["action"], clock.now())
    attention.set_aside(access(), loaded["key"], loaded["cause"], until)
    when = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
    what = f"“{loaded['title']}”" if loaded["title"] else "The item"
    flash(f"{what} {DONE[loaded['action']]}{when}: it comes back sooner if its cause changes.")
    return redirect(home_url(current_user))


@bp.get("/supplier")
@role_required(SUPPLIER_USER)
def supplier() -> str:
    return render_template("home/supplier.html", attention=attention.shown(access(), _attention()))


@bp.get("/distributor")
@role_required(DISTRIBUTOR_USER)
def distributor() -> str:
    return render_template(
        "home/distributor.html", attention=attention.shown(access(), _attention())
    )


@bp.get("/manager")
@role_required(ACCOUNT_MANAGER)
def manager() -> str:
    pairs = reviews.pairs(access(), clock.today(), reports())
    return render_template(
        "home/manager.html",
        attention=attention.shown(access(), reviews.attention(pairs) + _attention()),
        pairs=pairs,
    )


@bp.get("/operator")
@role_required(OPERATOR_ADMIN)
def operator() -> str:
    return render_template("home/operator.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
