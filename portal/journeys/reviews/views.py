"""The reviews journey's pages: an account manager's pairs (and a supplier's or a
distributor's own) with their headline KPIs against the plan, each pair's page, its
scorecards by week, month or quarter, and the orders, shipments or plan actions behind
any figure.

Reads go through the data layer as the signed-in user (:mod:`portal.data.reviews`); the
figures are the ``scorecards.compute`` job's, their formulas :mod:`domain.scorecard`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, render_template, request
from flask_login import current_user

from domain import clock, risks, scorecard
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal import packs
from portal.auth import role_required
from portal.charts import heat_map_svg
from portal.data import insights, reviews
from portal.pages import access, add_nav, answer_errors_as_pages, reports

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
answer_errors_as_pages(bp)

READERS = (ACCOUNT_MANAGER, SUPPLIER_USER, DISTRIBUTOR_USER)


@bp.get("")
@role_required(*READERS)
def index() -> str:
    """The user's pairs, each with its quarter-to-date headline KPIs."""
    return render_template(
        "reviews/index.html", pairs=reviews.pairs(access(), clock.today(), reports())
    )


@bp.get("/pairs/<int:pair>")
@role_required(*READERS)
def pair(pair: int) -> str:
    """One pair: its headline KPIs, plan targets and actions, and its risk register."""
    acc = access()
    today = clock.today()
    views = {p.id: p for p in reviews.pairs(acc, today, reports())}
    if pair not in views:
        acc.pair(pair)  # 403, audited, for a pair the user is not party to
        abort(404)
    register = reviews.risk_register(acc, pair, today)
    return render_template(
        "reviews/pair.html",
        view=views[pair],
        plan=reviews.plan(acc, pair, today),
        register=register,
        heat_map=heat_map_svg(register.heat, title="Open risks by likelihood and impact"),
        bands=risks.BANDS,
        quarters=[
            q.label
            for q in reversed(
                scorecard.last_quarters(
                    today, reviews.PACK_QUARTERS, views[pair].settings.fiscal_start_month
                )
            )
        ],
        default_quarter=reviews.default_quarter(views[pair].settings, today),
    )


@bp.get("/pairs/<int:pair>/scorecard")
@role_required(*READERS)
def scorecard_table(pair: int) -> str:
    """The pair's last scorecards of one grain, every KPI against the plan."""
    grain = request.args.get("grain", "month")
    if grain not in scorecard.GRAINS:
        grain = "month"
    acc = access()
    labels = insights.pair_labels(acc, reports())
    return render_template(
        "reviews/scorecard.html",
        pair=pair,
        label=labels.get(pair, str(pair)),
        grain=grain,
        grains=scorecard.GRAINS,
        table=reviews.table(acc, pair, grain, clock.today()),
    )


def _pack(pair: int, fmt: str) -> reviews.Pack:
    return reviews.review_pack(access(), pair, request.args.get("quarter"), clock.now(),
                               current_user.display_name, fmt, reports())  # fmt: skip


@bp.get("/pairs/<int:pair>/pack")
@role_required(*READERS)
def pack_page(pair: int) -> Response:
    """The quarterly business review pack as a printable page."""
    return Response(packs.html(_pack(pair, "html")), mimetype="text/html")


@bp.get("/pairs/<int:pair>/pack.xlsx")
@role_required(*READERS)
def pack_workbook(pair: int) -> Response:
    built = _pack(pair, "xlsx")
    return _download(packs.workbook(built), packs.XLSX_TYPE, packs.filename(built, "xlsx"))


@bp.get("/pairs/<int:pair>/pack.pdf")
@role_required(*READERS)
def pack_pdf(pair: int) -> Response:
    built = _pack(pair, "pdf")
    page = packs.html(built, printing=True)
    return _download(packs.pdf(page), "application/pdf", packs.filename(built, "pdf"))


def _download(body: bytes, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/scorecards/<int:card>/<kpi>")
@role_required(*READERS)
def drill(card: int, kpi: str) -> Any:
    """The records one figure counted, those that missed first."""
    if kpi not in scorecard.KPI_NAMES:
        abort(404)
    found = reviews.drill(access(), card, kpi)
    return render_template("reviews/drill.html", drill=found)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "Reviews", "reviews.index", (ACCOUNT_MANAGER,), 5)
    add_nav(app, "Scorecards", "reviews.index", (SUPPLIER_USER, DISTRIBUTOR_USER), 50)
