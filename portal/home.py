"""Each role's home page; ``/`` sends a user to theirs."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, OPERATOR_ADMIN, SUPPLIER_USER
from portal.auth import home_url, role_required

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.get("/supplier")
@role_required(SUPPLIER_USER)
def supplier() -> str:
    return render_template("home_supplier.html")


@bp.get("/distributor")
@role_required(DISTRIBUTOR_USER)
def distributor() -> str:
    return render_template("home_distributor.html")


@bp.get("/manager")
@role_required(ACCOUNT_MANAGER)
def manager() -> str:
    return render_template("home_manager.html")


@bp.get("/operator")
@role_required(OPERATOR_ADMIN)
def operator() -> str:
    return render_template("home_operator.html")
