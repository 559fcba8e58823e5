"""The reviews journey's pages: an account manager's pairs (and a supplier's or a
distributor's own) with their headline KPIs against the plan, each pair's page, its
scorecards by week, month or quarter, and the orders, shipments or plan actions behind
any figure.

Reads go through the data layer as the signed-in user (:mod:`portal.data.reviews`); the
figures are the ``scorecards.compute`` job's, their formulas :mod:`domain.scorecard`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, render_template, request

from domain import clock, risks, scorecard
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
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
