"""Operator pages: partners, users and sharing agreements, administered through the portal.

Operator admins hold the hub's admin policy, so their own session is an admin client and
the actions are the same :mod:`governance` functions the CLI calls. Every one is audited
with the operator as actor and ``via="portal"``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Flask,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.wrappers import Response

from domain import clock, edi_profiles
from domain.roles import DATA_KINDS, GRANULARITIES, OPERATOR_ADMIN
from governance import GovernanceError, partners, sharing, users
from governance import scheduler as jobs
from portal.auth import current_hub, role_required
from portal.pages import access
from portal.xlsx import xlsx_response

bp = Blueprint("operator", __name__, url_prefix="/operator")


class CommaList(fields.Field):
    """A comma-separated form value as a list of stripped, non-empty strings."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str):
            raise ValidationError("expected comma-separated text")
        return [part.strip() for part in value.split(",") if part.strip()]


class GrantForm(Schema):
    grantor = fields.Integer(required=True, strict=False)
    grantee = fields.Integer(required=True, strict=False)
    kinds = fields.List(fields.String(validate=validate.OneOf(DATA_KINDS)), required=True)
    regions = CommaList(load_default=list)
    granularity = fields.String(load_default="store_day", validate=validate.OneOf(GRANULARITIES))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    purpose = fields.String(load_default=None, validate=validate.Length(max=500))


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k != "csrf_token" and v}
    data["kinds"] = request.form.getlist("kinds")
    return data


def _sharing_page(errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    admin = current_hub()
    orgs = partners.list_partners(admin)
    names = {o["id"]: o["name"] for o in orgs}
    return (
        render_template(
            "operator/sharing.html",
            agreements=sharing.list_agreements(admin),
            grantors=[o for o in orgs if o["kind"] in ("distributor", "retailer")],
            grantees=[o for o in orgs if o["kind"] == "supplier"],
            names=names,
            kinds=DATA_KINDS,
            granularities=GRANULARITIES,
            form=request.form,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/sharing")
@role_required(OPERATOR_ADMIN)
def sharing_page() -> Any:
    return _sharing_page()


@bp.post("/sharing")
@role_required(OPERATOR_ADMIN)
def grant() -> Any:
    try:
        form = GrantForm().load(_form_data())
    except ValidationError as exc:
        return _sharing_page(_field_errors(exc.messages), 422)
    try:
        row = sharing.grant(current_hub(), **form, via="portal", actor=current_user.id)
    except GovernanceError as exc:
        return _sharing_page(exc.errors, 422)
    flash(f"Agreement {row['id']} granted.")
    return redirect(url_for("operator.sharing_page"))


@bp.post("/sharing/<int:agreement_id>/revoke")
@role_required(OPERATOR_ADMIN)
def revoke(agreement_id: int) -> Response:
    try:
        sharing.revoke(current_hub(), agreement_id, via="portal", actor=current_user.id)
        flash(f"Agreement {agreement_id} revoked; it shares nothing from the next request.")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.sharing_page"))


@bp.get("/people")
@role_required(OPERATOR_ADMIN)
def people() -> str:
    admin = current_hub()
    orgs = partners.list_partners(admin)
    return render_template(
        "operator/people.html",
        orgs=orgs,
        names={o["id"]: o["name"] for o in orgs},
        people=users.list_users(admin),
    )


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def _scope(agreement: dict[str, Any]) -> str:
    """An agreement's locations in words, as the sharing page shows them."""
    if agreement.get("regions"):
        return "regions: " + ", ".join(agreement["regions"])
    if agreement.get("locations"):
        return f"{len(agreement['locations'])} locations"
    return "all locations"


def _today() -> str:
    return clock.today().isoformat()


@bp.get("/sharing.xlsx")
@role_required(OPERATOR_ADMIN)
def sharing_export() -> Response:
    """The sharing page's agreements as an Excel workbook."""
    admin = current_hub()
    names = {o["id"]: o["name"] for o in partners.list_partners(admin)}
    rows = [
        {
            "id": a["id"],
            "grantor": names.get(a["grantor"], a["grantor"]),
            "grantee": names.get(a["grantee"], a["grantee"]),
            "kinds": a.get("kinds") or [],
            "scope": _scope(a),
            "granularity": a.get("granularity"),
            "valid_from": _day(a.get("valid_from")),
            "valid_to": _day(a.get("valid_to")),
            "status": a.get("status"),
            "purpose": a.get("purpose"),
        }
        for a in sharing.list_agreements(admin)
    ]
    columns = [
        ("id", "#"), ("grantor", "Grantor"), ("grantee", "Grantee"), ("kinds", "Kinds"),
        ("scope", "Scope"), ("granularity", "Granularity"), ("valid_from", "Valid from"),
        ("valid_to", "Valid to"), ("status", "Status"), ("purpose", "Purpose"),
    ]  # fmt: skip
    return xlsx_response(
        access(),
        filename=f"agreements-{_today()}.xlsx",
        sheet="Agreements",
        columns=columns,
        rows=rows,
        collection="share_agreements",
    )


@bp.get("/partners.xlsx")
@role_required(OPERATOR_ADMIN)
def partners_export() -> Response:
    """The people page's partners as an Excel workbook."""
    columns = [("id", "#"), ("name", "Name"), ("kind", "Kind"), ("gln", "GLN"),
               ("status", "Status")]  # fmt: skip
    return xlsx_response(
        access(),
        filename=f"partners-{_today()}.xlsx",
        sheet="Partners",
        columns=columns,
        rows=partners.list_partners(current_hub()),
        collection="organizations",
    )


@bp.get("/users.xlsx")
@role_required(OPERATOR_ADMIN)
def users_export() -> Response:
    """The people page's users as an Excel workbook."""
    admin = current_hub()
    names = {o["id"]: o["name"] for o in partners.list_partners(admin)}
    rows = [
        {
            "email": u["email"],
            "role": u.get("tandem_role"),
            "organization": names.get(u.get("organization"), ""),
            "status": u.get("status"),
        }
        for u in users.list_users(admin)
    ]
    columns = [("email", "Email"), ("role", "Role"), ("organization", "Organization"),
               ("status", "Status")]  # fmt: skip
    return xlsx_response(
        access(),
        filename=f"users-{_today()}.xlsx",
        sheet="Users",
        columns=columns,
        rows=rows,
        collection="directus_users",
    )


@bp.post("/people/<user_id>/deactivate")
@role_required(OPERATOR_ADMIN)
def deactivate_user(user_id: str) -> Response:
    try:
        user = users.deactivate_user(current_hub(), user_id, via="portal", actor=current_user.id)
        flash(f"{user['email']} is deactivated; their sessions have ended.")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.people"))


@bp.post("/partners/<int:org_id>/deactivate")
@role_required(OPERATOR_ADMIN)
def deactivate_partner(org_id: int) -> Response:
    try:
        org = partners.deactivate_partner(
            current_hub(), org_id, via="portal", actor=current_user.id
        )
        flash(f"{org['name']} is deactivated; its users' sessions have ended.")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.people"))


class PrefixesForm(Schema):
    gs1_prefixes = CommaList(load_default=list)


@bp.post("/partners/<int:org_id>/prefixes")
@role_required(OPERATOR_ADMIN)
def set_prefixes(org_id: int) -> Response:
    """Set a supplier's GS1 company prefixes: its SKUs' GTINs must be under one of them."""
    try:
        form = PrefixesForm().load({"gs1_prefixes": request.form.get("gs1_prefixes", "")})
        org = partners.set_prefixes(
            current_hub(), org_id, form["gs1_prefixes"], via="portal", actor=current_user.id
        )
        shown = ", ".join(org["gs1_prefixes"] or []) or "none"
        flash(f"{org['name']}: GS1 company prefixes {shown}.")
    except ValidationError as exc:
        flash("; ".join(m for ms in _field_errors(exc.messages).values() for m in ms), "error")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.people"))


def _profile_form() -> dict[str, Any]:
    """The EDI profile form as :func:`domain.edi_profiles.check` takes it."""
    entered: dict[str, Any] = {
        name: request.form.get(name, "").strip()
        for name in ("standard", "isa_qualifier", "isa_id", "gs_code", "unb_qualifier",
                     "unb_id", "transport", "address", "as2_id", "as2_certificate",
                     "as2_receipt")
        if request.form.get(name, "").strip()
    }  # fmt: skip
    entered["sends"] = request.form.getlist("sends")
    entered["expects"] = request.form.getlist("expects")
    entered["acknowledgements"] = request.form.get("acknowledgements") == "yes"
    return entered


def _edi_page(
    org: dict[str, Any],
    values: dict[str, Any] | None,
    errors: Any,
    status: int,
    inbound_key: str | None = None,
) -> Any:
    return (
        render_template(
            "operator/edi_profile.html",
            org=org,
            inbound_key=inbound_key,
            values=values or partners.edi_profile(org) or {"acknowledgements": True},
            errors=errors or {},
            standards=edi_profiles.STANDARDS,
            transports=edi_profiles.TRANSPORTS,
            documents=edi_profiles.DOCUMENTS,
            isa_qualifiers=edi_profiles.ISA_QUALIFIERS,
            unb_qualifiers=edi_profiles.UNB_QUALIFIERS,
        ),
        status,
    )


@bp.get("/partners/<int:org_id>/edi")
@role_required(OPERATOR_ADMIN)
def edi_profile(org_id: int) -> Any:
    """A partner's EDI profile: standard, envelope ids, transport, documents."""
    try:
        org = partners.get_partner(current_hub(), org_id)
    except GovernanceError:
        return redirect(url_for("operator.people"))
    return _edi_page(org, None, None, 200)


@bp.post("/partners/<int:org_id>/edi")
@role_required(OPERATOR_ADMIN)
def set_edi_profile(org_id: int) -> Any:
    admin = current_hub()
    try:
        org = partners.get_partner(admin, org_id)
    except GovernanceError:
        return redirect(url_for("operator.people"))
    clear = request.form.get("action") == "clear"
    entered = None if clear else _profile_form()
    try:
        saved = partners.set_edi_profile(
            admin, org_id, entered, via="portal", actor=current_user.id
        )
    except GovernanceError as exc:
        return _edi_page(org, entered, exc.errors, 422)
    if saved.get("inbound_key"):
        # Shown in this answer only, never stored (a flashed message would sit in the
        # session cookie) nor cached.
        shown = _edi_page(org, partners.edi_profile(saved), None, 200, saved["inbound_key"])
        page = make_response(shown)
        page.headers["Cache-Control"] = "no-store"
        return page
    flash(f"{org['name']}: " + ("EDI profile removed." if clear else "EDI profile saved."))
    return redirect(url_for("operator.edi_profile", org_id=org_id))


def _field_errors(messages: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, problems in dict(messages).items():
        if isinstance(problems, dict):  # a list field: {index: [messages]}
            problems = [m for ms in problems.values() for m in ms]
        out[name] = [str(p) for p in problems]
    return out


@bp.get("/jobs")
@role_required(OPERATOR_ADMIN)
def jobs_page() -> str:
    """The scheduler's jobs (schedule, last run) with "run now", and the run history with
    each run's counts; ``?job=`` narrows the history to one job."""
    admin = current_hub()
    job = request.args.get("job") or None
    return render_template(
        "operator/jobs.html", jobs=jobs.jobs(admin), runs=jobs.runs(admin, job), job=job
    )


@bp.post("/jobs/<job_id>/run")
@role_required(OPERATOR_ADMIN)
def run_job_now(job_id: str) -> Response:
    """Ask the scheduler to run a job now."""
    try:
        jobs.request_run(current_hub(), job_id, via="portal", actor=current_user.id)
    except GovernanceError as exc:
        flash("; ".join(m for ms in exc.errors.values() for m in ms))
    else:
        flash(f"{job_id}: asked to run now; the scheduler takes it within seconds.")
    return redirect(url_for("operator.jobs_page"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
