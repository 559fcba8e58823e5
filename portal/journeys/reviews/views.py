"""The reviews journey's pages: an account manager's pairs (and a supplier's or a
distributor's own) with their headline KPIs against the plan, each pair's page, its
scorecards by week, month or quarter, and the orders, shipments or plan actions behind
any figure.

Reads go through the data layer as the signed-in user (:mod:`portal.data.reviews`); the
figures are the ``scorecards.compute`` job's, their formulas :mod:`domain.scorecard`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError

from domain import clock, risks, scorecard
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal import packs
from portal.auth import role_required
from portal.charts import heat_map_svg
from portal.data import DataError, insights, reviews
from portal.pages import Errors, access, add_nav, answer_errors_as_pages, flat, refusal, reports
from portal.schemas.base import TandemSchema
from portal.schemas.business_plans import (
    EVENT_KINDS,
    PLAN_STATUSES,
    BusinessPlanCreate,
    BusinessPlanUpdate,
    PlanActionCreate,
    PlanActionReport,
    PlanActionUpdate,
    PlanRevisionCreate,
)
from portal.schemas.risks import EDITABLE as EDITABLE_RISK
from portal.schemas.risks import STATUSES as RISK_STATUSES
from portal.schemas.risks import RiskCreate, RiskUpdate

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
    acc.pair(pair)  # 403, audited, for a pair the user is not party to
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
    return reviews.review_pack(
        access(),
        pair,
        request.args.get("quarter"),
        clock.now(),
        current_user.display_name,
        fmt,
        reports(),
    )


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


# -- the plan and the risk register, kept by the manager; actions reported by each side --


def _plan_form_page(
    pair: int, form: dict[str, str], errors: Errors, message: str, status: int = 200
) -> tuple[str, int]:
    acc = access()
    labels = insights.pair_labels(acc, reports())
    page = render_template(
        "reviews/plan_form.html",
        pair=pair,
        label=labels.get(pair, str(pair)),
        form=form,
        errors=errors,
        message=message,
        kpis=scorecard.KPI_NAMES,
        statuses=PLAN_STATUSES,
        kinds=EVENT_KINDS,
        year=clock.today().year,
    )
    return page, status


@bp.route("/pairs/<int:pair>/plan", methods=["GET", "POST"])
@role_required(ACCOUNT_MANAGER)
def plan_form(pair: int) -> Any:
    """The manager writes the year's plan: sponsors, status, targets, events."""
    acc = access()
    today = clock.today()
    current = reviews.plan(acc, pair, today).plan
    if request.method == "GET":
        form = {"sponsors": "", "status": "draft", "extra_targets": "", "events": ""}
        if current:
            targets = current.get("targets") or {}
            form = {
                "sponsors": current.get("sponsors") or "",
                "status": current["status"],
                "extra_targets": "\n".join(
                    f"{k} = {v}" for k, v in targets.items() if k not in scorecard.KPI_NAMES
                ),
                "events": reviews.events_text(current.get("events")),
                **{f"target-{k}": v for k, v in targets.items() if k in scorecard.KPI_NAMES},
            }
        return _plan_form_page(pair, form, {}, "")
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    targets, errors = reviews.parse_targets(form, form.get("extra_targets", ""))
    events, bad_events = reviews.parse_events(form.get("events", ""))
    if bad_events:
        errors["events"] = bad_events
    data = {
        "targets": targets,
        "sponsors": form.get("sponsors") or None,
        "status": form.get("status"),
        "events": events,
    }
    try:
        if current is None:
            loaded = BusinessPlanCreate(view=ACCOUNT_MANAGER).load(
                {**data, "partnership": pair, "year": today.year}
            )
        else:
            loaded = BusinessPlanUpdate(view=ACCOUNT_MANAGER).load(data)
    except ValidationError as exc:
        for key, found in exc.normalized_messages().items():
            errors.setdefault(str(key), flat(found))
        loaded = {}
    if errors:
        return _plan_form_page(pair, form, errors, "The plan was not saved: see below.", 422)
    try:
        if current is None:
            acc.create("business-plans", loaded)
        else:
            acc.update("business-plans", current["id"], loaded)
    except DataError as exc:
        found, message = refusal(exc)
        return _plan_form_page(pair, form, found, message, exc.status)
    flash("The plan is saved.")
    return redirect(url_for("reviews.pair", pair=pair, _anchor="plan"))


@bp.post("/pairs/<int:pair>/plan/revisions")
@role_required(ACCOUNT_MANAGER)
def add_revision(pair: int) -> Any:
    """A quarterly revision of the plan's targets, kept as a version."""
    return _plan_child(pair, "revisions", PlanRevisionCreate, _revision_input)


@bp.post("/pairs/<int:pair>/plan/actions")
@role_required(ACCOUNT_MANAGER)
def add_action(pair: int) -> Any:
    """An action of the plan, owned by one side, with a due date."""
    return _plan_child(pair, "actions", PlanActionCreate, _action_input)


def _revision_input() -> tuple[dict[str, Any], Errors]:
    targets, errors = reviews.parse_targets(request.form, request.form.get("extra_targets", ""))
    quarter = request.form.get("quarter", "")
    data = {
        "quarter": int(quarter) if quarter.isdigit() else quarter,
        "targets": targets,
        "notes": request.form.get("notes") or None,
        "revised_on": clock.today().isoformat(),
    }
    return data, errors


def _action_input() -> tuple[dict[str, Any], Errors]:
    data = {k: request.form.get(k, "").strip() for k in ("title", "owner_side", "due_date")}
    return {k: v for k, v in data.items() if v}, {}


def _plan_child(
    pair: int,
    child: str,
    schema: type[TandemSchema],
    read: Callable[[], tuple[dict[str, Any], Errors]],
) -> Any:
    acc = access()
    current = reviews.plan(acc, pair, clock.today()).plan
    if current is None:
        flash("Write the year's plan first.", "error")
        return redirect(url_for("reviews.plan_form", pair=pair))
    data, errors = read()
    try:
        loaded = schema(view=ACCOUNT_MANAGER).load(data)
    except ValidationError as exc:
        for key, found in exc.normalized_messages().items():
            errors.setdefault(str(key), flat(found))
    if not errors:
        try:
            acc.create_child("business-plans", current["id"], child, loaded)
        except DataError as exc:
            errors, _ = refusal(exc)
    if errors:
        what = "revision" if child == "revisions" else "action"
        flash(
            f"The {what} was not saved: "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items())),
            "error",
        )
    else:
        flash("Saved.")
    return redirect(url_for("reviews.pair", pair=pair, _anchor="plan"))


@bp.post("/actions/<int:action>")
@role_required(*READERS)
def report_action(action: int) -> Any:
    """Report an action done, dropped or open again: its side's partners, or the manager."""
    acc = access()
    row = acc.get("plan-actions", action)
    raw = {k: v for k, v in request.form.items() if k in ("status", "completed_on") and v}
    schema = PlanActionUpdate if acc.role == ACCOUNT_MANAGER else PlanActionReport
    try:
        acc.update("plan-actions", action, schema(view=acc.role).load(raw))
        flash(f"“{row['title']}” is {raw.get('status', 'unchanged')}.")
    except ValidationError as exc:
        flash(
            "Not saved: "
            + "; ".join(f"{k}: {' '.join(flat(v))}" for k, v in exc.normalized_messages().items()),
            "error",
        )
    except DataError as exc:
        flash(f"Not saved: {exc.message}", "error")
    return redirect(url_for("reviews.pair", pair=int(row["partnership"]), _anchor="plan"))


def _risk_page(
    pair: int,
    form: dict[str, str],
    errors: Errors,
    message: str,
    key: int | None,
    status: int = 200,
) -> tuple[str, int]:
    labels = insights.pair_labels(access(), reports())
    page = render_template(
        "reviews/risk_form.html",
        pair=pair,
        label=labels.get(pair, str(pair)),
        form=form,
        errors=errors,
        message=message,
        key=key,
        statuses=RISK_STATUSES,
        scale=risks.SCALE,
    )
    return page, status


RISK_FIELDS = EDITABLE_RISK


@bp.route("/pairs/<int:pair>/risks/new", methods=["GET", "POST"])
@role_required(ACCOUNT_MANAGER)
def new_risk(pair: int) -> Any:
    """Add a risk to the pair's register."""
    access().pair(pair)
    if request.method == "GET":
        return _risk_page(pair, {"status": "open", "likelihood": "3", "impact": "3"}, {}, "", None)
    return _save_risk(pair, None)


@bp.route("/risks/<int:key>", methods=["GET", "POST"])
@role_required(ACCOUNT_MANAGER)
def edit_risk(key: int) -> Any:
    """Change a risk of the register: its scores, mitigation, review date, status."""
    row = access().get("risks", key)
    pair = int(row["partnership"])
    if request.method == "GET":
        form = {
            k: "" if row.get(k) is None else str(row[k])[:10] if k == "review_date" else str(row[k])
            for k in RISK_FIELDS
        }
        return _risk_page(pair, form, {}, "", key)
    return _save_risk(pair, row)


def _save_risk(pair: int, current: dict[str, Any] | None) -> Any:
    acc = access()
    form = {k: request.form.get(k, "").strip() for k in RISK_FIELDS}
    data: dict[str, Any] = {k: v or None for k, v in form.items()}
    for name in ("likelihood", "impact"):
        if form[name].isdigit():
            data[name] = int(form[name])
    if not data.get("title"):
        data.pop("title")
    key = None if current is None else int(current["id"])
    try:
        if current is None:
            loaded = RiskCreate(view=ACCOUNT_MANAGER).load({**data, "partnership": pair})
        else:
            loaded = RiskUpdate(view=ACCOUNT_MANAGER).load(data)
    except ValidationError as exc:
        errors = {str(k): flat(v) for k, v in exc.normalized_messages().items()}
        return _risk_page(pair, form, errors, "The risk was not saved: see below.", key, 422)
    try:
        if current is None:
            acc.create("risks", loaded)
        else:
            acc.update("risks", key, loaded)
    except DataError as exc:
        errors, message = refusal(exc)
        return _risk_page(pair, form, errors, message, key, exc.status)
    flash("The risk is saved.")
    return redirect(url_for("reviews.pair", pair=pair, _anchor="risks"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "Reviews", "reviews.index", (ACCOUNT_MANAGER,), 5)
    add_nav(app, "Scorecards", "reviews.index", (SUPPLIER_USER, DISTRIBUTOR_USER), 50)
