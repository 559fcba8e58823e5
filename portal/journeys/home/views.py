"""Each role's home page; ``/`` sends a user to theirs."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from domain import clock
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, OPERATOR_ADMIN, SUPPLIER_USER
from portal.auth import home_url, role_required
from portal.data import attention, reviews
from portal.pages import access, reports

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


def _attention() -> list[attention.Item]:
    """What the user should look at first (see :mod:`portal.data.attention`)."""
    config = current_app.extensions["tandem.config"]
    return attention.items(access(), config.stale_after_days, reports())


@bp.get("/supplier")
@role_required(SUPPLIER_USER)
def supplier() -> str:
    return render_template("home/supplier.html", attention=_attention())


@bp.get("/distributor")
@role_required(DISTRIBUTOR_USER)
def distributor() -> str:
    return render_template("home/distributor.html", attention=_attention())


@bp.get("/manager")
@role_required(ACCOUNT_MANAGER)
def manager() -> str:
    pairs = reviews.pairs(access(), clock.today(), reports())
    return render_template(
        "home/manager.html", attention=reviews.attention(pairs) + _attention(), pairs=pairs
    )


@bp.get("/operator")
@role_required(OPERATOR_ADMIN)
def operator() -> str:
    return render_template("home/operator.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
