"""Operator pages: partners, users, account managers and sharing agreements administered
through the portal; the audit log; the feeds, drop folders and scheduled jobs.

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
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.wrappers import Response

from domain import clock, edi_profiles
from domain.ingest import cadence_label
from domain.roles import (
    ACCOUNT_MANAGER,
    DATA_KINDS,
    GRANULARITIES,
    OPERATOR_ADMIN,
    ORG_KINDS,
    ROLE_ORG_KINDS,
    ROLES,
)
from domain.sharing import Agreement
from governance import GovernanceError, audit, feeds, partners, sharing, users
from governance import scheduler as jobs
from portal.auth import current_hub, role_required
from portal.pages import Errors, access, add_nav
from portal.schemas.imports import CadenceFormSchema
from portal.tokens import parse_time
from portal.xlsx import xlsx_response

bp = Blueprint("operator", __name__, url_prefix="/operator")


class CommaList(fields.Field):
    """A comma-separated form value as a list of stripped, non-empty strings."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str):
            raise ValidationError("expected comma-separated text")
        return [part.strip() for part in value.split(",") if part.strip()]


class LocationIds(CommaList):
    """Comma-separated location ids, as a list of positive integers."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[int]:
        parts = super()._deserialize(value, attr, data, **kwargs)
        if not all(p.isdigit() and 0 < int(p) <= partners.MAX_ID for p in parts):
            raise ValidationError("location ids are whole numbers, comma-separated")
        return [int(p) for p in parts]


class GrantForm(Schema):
    grantor = fields.Integer(required=True, strict=False)
    grantee = fields.Integer(required=True, strict=False)
    kinds = fields.List(fields.String(validate=validate.OneOf(DATA_KINDS)), required=True)
    regions = CommaList(load_default=list)
    locations = LocationIds(load_default=list)
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


def _confirm_page(title: str, effects: list[str], action: str, button: str, back: str) -> Any:
    """A page that says what an action will do, and whom it touches, before it is done."""
    return render_template(
        "operator/confirm.html", title=title, effects=effects, action=action, button=button,
        back=back,
    )  # fmt: skip


def _emails(people: list[dict[str, Any]]) -> str:
    return ", ".join(sorted(u["email"] for u in people))


@bp.get("/sharing/<int:agreement_id>/revoke")
@role_required(OPERATOR_ADMIN)
def confirm_revoke(agreement_id: int) -> Any:
    """What revoking an active agreement hides, from whom; the button that revokes it."""
    admin = current_hub()
    agreements = sharing.list_agreements(admin)
    found = [a for a in agreements if a["id"] == agreement_id and a["status"] == "active"]
    if not found:
        abort(404, f"There is no active agreement {agreement_id}.")
    agreement = found[0]
    grantor, grantee = agreement["grantor"], agreement["grantee"]
    names = {o["id"]: o["name"] for o in partners.list_partners(admin)}
    people = users.list_users(admin)
    readers = [u for u in people if u.get("organization") == grantee and u["status"] == "active"]
    managed = {
        a["user"]
        for a in partners.list_assignments(admin)
        if a["supplier"] == grantee and a["distributor"] == grantor
    }
    managers = [u for u in people if u["id"] in managed and u["status"] == "active"]
    kinds = ", ".join(agreement.get("kinds") or [])
    shared = f"{names.get(grantor, grantor)}'s {kinds} ({_scope(agreement)})"
    effects = [
        f"From their next request, {names.get(grantee, grantee)}'s users no longer see "
        f"{shared}" + (f": {_emails(readers)}." if readers else " (it has no active user now)."),
        *([f"The pair's account managers no longer see it either: {_emails(managers)}."]
          if managers else []),
        "The pair's scorecards are computed again without it.",
    ]  # fmt: skip
    revoked = Agreement.from_row(agreement)
    others = [
        other.id
        for other in map(Agreement.from_row, agreements)
        if other.id != agreement_id and other.in_force(clock.today())
        and (other.grantor, other.grantee) == (grantor, grantee)
        and set(other.kinds) & set(revoked.kinds)
    ]  # fmt: skip
    if others:
        effects.append(
            "Other agreements in force between them share some of the same data, and "
            "what they share stays visible: " + ", ".join(f"#{n}" for n in others) + "."
        )
    return _confirm_page(
        f"Revoke agreement {agreement_id}?",
        effects,
        url_for("operator.revoke", agreement_id=agreement_id),
        f"Revoke agreement {agreement_id}",
        url_for("operator.sharing_page"),
    )


@bp.post("/sharing/<int:agreement_id>/revoke")
@role_required(OPERATOR_ADMIN)
def revoke(agreement_id: int) -> Response:
    try:
        sharing.revoke(current_hub(), agreement_id, via="portal", actor=current_user.id)
        flash(f"Agreement {agreement_id} revoked; it shares nothing from the next request.")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.sharing_page"))


#: A person's name part, and a partner's name, as the forms take them.
NAME = validate.Length(max=100)
PARTNER_KINDS = tuple(k for k in ORG_KINDS if k != "operator")


#: A GLN's and a currency code's lengths; what else they must be is
#: :func:`governance.partners.partner_errors`'s to say.
GLN = validate.Length(equal=13, error="a GLN has 13 digits")
CURRENCY = validate.Length(equal=3, error="a currency is a 3-letter ISO 4217 code")


class PartnerForm(Schema):
    """A partner's fields as its page changes them (its kind stays)."""

    name = fields.String(required=True, validate=validate.Length(max=200))
    gln = fields.String(load_default=None, validate=GLN)
    currency = fields.String(required=True, validate=CURRENCY)


class NewPartnerForm(PartnerForm):
    """A partner's fields as the people page adds it (left blank, the currency is
    :func:`governance.partners.add_partner`'s default)."""

    kind = fields.String(required=True, validate=validate.OneOf(PARTNER_KINDS))
    currency = fields.String(validate=CURRENCY)


class UserForm(Schema):
    """A user's fields as the user's page changes them."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    first_name = fields.String(load_default=None, validate=NAME)
    last_name = fields.String(load_default=None, validate=NAME)


class NewUserForm(UserForm):
    """A user's fields as the people page adds them."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(
        required=True, validate=validate.Length(min=users.MIN_PASSWORD, max=256)
    )
    organization = fields.Integer(
        required=True, strict=False, validate=validate.Range(min=1, max=partners.MAX_ID)
    )


class AssignForm(Schema):
    manager = fields.UUID(required=True)
    supplier = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    distributor = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))


def _entered(*names: str) -> dict[str, str]:
    """The form's non-blank values among ``names``, stripped (the password as typed)."""
    return {
        n: v if n == "password" else v.strip()
        for n in names
        if (v := request.form.get(n, "")).strip()
    }


def _people_page(errors: Errors | None = None, status: int = 200) -> Any:
    admin = current_hub()
    orgs = partners.list_partners(admin)
    people = users.list_users(admin)
    return (
        render_template(
            "operator/people.html",
            orgs=orgs,
            names={o["id"]: o["name"] for o in orgs},
            people=people,
            emails={u["id"]: u["email"] for u in people},
            governed={u["id"] for u in people if users.not_governed(u) is None},
            managers=[u for u in people if u.get("tandem_role") == ACCOUNT_MANAGER],
            assignments=partners.list_assignments(admin),
            partner_kinds=PARTNER_KINDS,
            roles=ROLES,
            role_org_kinds=ROLE_ORG_KINDS,
            form=request.form,
            errors=errors or {},
        ),
        status,
    )


def _loaded(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    try:
        return schema.load(data), {}
    except ValidationError as exc:
        return {}, _field_errors(exc.messages)


@bp.get("/people")
@role_required(OPERATOR_ADMIN)
def people() -> Any:
    return _people_page()


@bp.post("/partners")
@role_required(OPERATOR_ADMIN)
def add_partner() -> Any:
    """Add a partner: a supplier, a distributor or a retailer."""
    form, errors = _loaded(NewPartnerForm(), _entered("name", "kind", "gln", "currency"))
    if errors:
        return _people_page(errors, 422)
    try:
        org = partners.add_partner(current_hub(), **form, via="portal", actor=current_user.id)
    except GovernanceError as exc:
        return _people_page(exc.errors, 422)
    flash(f"{org['name']} added as a {org['kind']}.")
    return redirect(url_for("operator.people"))


@bp.post("/people")
@role_required(OPERATOR_ADMIN)
def add_user() -> Any:
    """Add a user to a partner (or to the operator) with a Tandem role."""
    entered = _entered("email", "password", "organization", "role", "first_name", "last_name")
    form, errors = _loaded(NewUserForm(), entered)
    if errors:
        return _people_page(errors, 422)
    try:
        user = users.add_user(
            current_hub(),
            form["email"],
            form["password"],
            form["role"],
            form["organization"],
            first_name=form["first_name"],
            last_name=form["last_name"],
            via="portal",
            actor=current_user.id,
        )
    except GovernanceError as exc:
        return _people_page(exc.errors, 422)
    flash(f"{user['email']} added as {user['tandem_role']}.")
    return redirect(url_for("operator.people"))


def _partner_or_404(org_id: int) -> dict[str, Any]:
    try:
        return partners.get_partner(current_hub(), org_id)
    except GovernanceError:
        abort(404, f"There is no partner {org_id}.")


def _partner_page(org: dict[str, Any], errors: Errors | None = None, status: int = 200) -> Any:
    admin = current_hub()
    values = request.form if request.method == "POST" else org
    return (
        render_template(
            "operator/partner.html",
            org=org,
            values=values,
            people=users.list_users(admin, org["id"]),
            errors=errors or {},
        ),
        status,
    )


@bp.get("/partners/<int:org_id>")
@role_required(OPERATOR_ADMIN)
def partner_page(org_id: int) -> Any:
    """A partner's page: its fields to change, its users, its status."""
    return _partner_page(_partner_or_404(org_id))


@bp.post("/partners/<int:org_id>")
@role_required(OPERATOR_ADMIN)
def edit_partner(org_id: int) -> Any:
    org = _partner_or_404(org_id)
    form, errors = _loaded(PartnerForm(), _entered("name", "gln", "currency"))
    if errors:
        return _partner_page(org, errors, 422)
    try:
        saved = partners.edit_partner(
            current_hub(), org_id, **form, via="portal", actor=current_user.id
        )
    except GovernanceError as exc:
        return _partner_page(org, exc.errors, 422)
    flash(f"{saved['name']} saved.")
    return redirect(url_for("operator.partner_page", org_id=org_id))


@bp.post("/partners/<int:org_id>/reactivate")
@role_required(OPERATOR_ADMIN)
def reactivate_partner(org_id: int) -> Response:
    try:
        org = partners.reactivate_partner(
            current_hub(), org_id, via="portal", actor=current_user.id
        )
        flash(f"{org['name']} is active again, with {org['reactivated_users']} of its users.")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.people"))


def _user_or_404(user_id: str) -> dict[str, Any]:
    try:
        return users.find_user(current_hub(), user_id)
    except GovernanceError:
        abort(404, "There is no such user.")


def _user_page(user: dict[str, Any], errors: Errors | None = None, status: int = 200) -> Any:
    admin = current_hub()
    org = partners.get_partner(admin, user["organization"]) if user.get("organization") else None
    values = request.form if request.method == "POST" else {**user, "role": user["tandem_role"]}
    roles = users.roles_for(org["kind"]) if org else []
    return (
        render_template(
            "operator/user.html",
            person=user,
            org=org,
            values=values,
            roles=roles,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/people/<user_id>")
@role_required(OPERATOR_ADMIN)
def user_page(user_id: str) -> Any:
    """A user's page: name and role to change, and its status."""
    return _user_page(_user_or_404(user_id))


@bp.post("/people/<user_id>")
@role_required(OPERATOR_ADMIN)
def edit_user(user_id: str) -> Any:
    user = _user_or_404(user_id)
    form, errors = _loaded(UserForm(), _entered("role", "first_name", "last_name"))
    if errors:
        return _user_page(user, errors, 422)
    try:
        saved = users.edit_user(
            current_hub(),
            user["id"],
            first_name=form["first_name"],
            last_name=form["last_name"],
            tandem_role=form["role"],
            via="portal",
            actor=current_user.id,
        )
    except GovernanceError as exc:
        return _user_page(user, exc.errors, 422)
    flash(f"{saved['email']} saved.")
    return redirect(url_for("operator.user_page", user_id=user["id"]))


@bp.post("/people/<user_id>/reactivate")
@role_required(OPERATOR_ADMIN)
def reactivate_user(user_id: str) -> Response:
    try:
        user = users.reactivate_user(current_hub(), user_id, via="portal", actor=current_user.id)
        flash(f"{user['email']} is active again and may sign in.")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.people"))


@bp.post("/managers")
@role_required(OPERATOR_ADMIN)
def assign_manager() -> Any:
    """Assign an account manager to a supplier-distributor pair that trades."""
    form, errors = _loaded(AssignForm(), _entered("manager", "supplier", "distributor"))
    if errors:
        return _people_page(errors, 422)
    try:
        partners.assign_manager(
            current_hub(),
            str(form["manager"]),
            form["supplier"],
            form["distributor"],
            via="portal",
            actor=current_user.id,
        )
    except GovernanceError as exc:
        return _people_page(
            {("manager" if k == "user" else k): v for k, v in exc.errors.items()}, 422
        )
    flash("The manager is assigned; the pair's records open to it on its next request.")
    return redirect(url_for("operator.people"))


@bp.post("/managers/unassign")
@role_required(OPERATOR_ADMIN)
def unassign_manager() -> Any:
    """Take an account manager off a pair."""
    form, errors = _loaded(AssignForm(), _entered("manager", "supplier", "distributor"))
    try:
        if errors:
            raise GovernanceError("cannot unassign", errors)
        partners.unassign_manager(
            current_hub(),
            str(form["manager"]),
            form["supplier"],
            form["distributor"],
            via="portal",
            actor=current_user.id,
        )
        flash("The manager is off the pair; its records close on its next request.")
    except GovernanceError as exc:
        flash(str(exc), "error")
    return redirect(url_for("operator.people"))


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


@bp.get("/people/<user_id>/deactivate")
@role_required(OPERATOR_ADMIN)
def confirm_deactivate_user(user_id: str) -> Any:
    """What deactivating a user ends; the button that does it."""
    admin = current_hub()
    try:
        user = users.person(admin, user_id, "deactivate")
    except GovernanceError:
        abort(404, "There is no such user to deactivate.")
    if user["status"] != "active" or user["id"] == current_user.id:
        abort(404, f"{user['email']} cannot be deactivated here.")
    org = partners.get_partner(admin, user["organization"]) if user.get("organization") else None
    tokens = admin.read_items(
        "api_tokens",
        filter={"_and": [{"user": {"_eq": user["id"]}}, {"revoked_at": {"_null": True}}]},
        fields=["id", "expires_at"],
        limit=-1,
    )
    now = clock.now()
    live = [t for t in tokens if (e := parse_time(t.get("expires_at"))) is None or e > now]
    where = f"{user.get('tandem_role')} at {org['name']}" if org else user.get("tandem_role")
    effects = [
        f"{user['email']} ({where}) is signed out at once and cannot sign in again until "
        "reactivated; nothing they entered is deleted.",
        f"Their API tokens stop working for good ({len(live)} in use): after a "
        "reactivation they make new ones.",
    ]
    if user.get("tandem_role") == ACCOUNT_MANAGER:
        names = {o["id"]: o["name"] for o in partners.list_partners(admin)}
        pairs = [
            f"{names.get(a['supplier'])} \N{MULTIPLICATION SIGN} {names.get(a['distributor'])}"
            for a in partners.list_assignments(admin)
            if a["user"] == user["id"]
        ]
        effects.append(
            "They stay assigned to their pairs, which they no longer see: "
            + (", ".join(pairs) or "none")
            + "."
        )
    return _confirm_page(
        f"Deactivate {user['email']}?",
        effects,
        url_for("operator.deactivate_user", user_id=user["id"]),
        f"Deactivate {user['email']}",
        url_for("operator.user_page", user_id=user["id"]),
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


@bp.get("/partners/<int:org_id>/deactivate")
@role_required(OPERATOR_ADMIN)
def confirm_deactivate_partner(org_id: int) -> Any:
    """Whom deactivating a partner signs out; the button that does it."""
    org = _partner_or_404(org_id)
    if org["kind"] == "operator" or org["status"] != "active":
        abort(404, f"{org['name']} cannot be deactivated here.")
    admin = current_hub()
    members = [u for u in users.list_users(admin, org_id) if u["status"] == "active"]
    names = {o["id"]: o["name"] for o in partners.list_partners(admin)}
    granted = [
        a for a in map(Agreement.from_row, sharing.list_agreements(admin))
        if a.grantor == org_id and a.in_force(clock.today())
    ]  # fmt: skip
    effects = [
        f"{org['name']} becomes inactive, and its {len(members)} active users are suspended "
        f"and signed out at once" + (f": {_emails(members)}." if members else "."),
        *(["The agreements it granted stay in force, and keep sharing its data until they "
           "are revoked: " + ", ".join(f"#{a.id} with {names.get(a.grantee, a.grantee)}"
                                        for a in granted) + "."] if granted else []),
        "Reactivating it restores those users, and only those; nothing is deleted.",
    ]  # fmt: skip
    return _confirm_page(
        f"Deactivate {org['name']}?",
        effects,
        url_for("operator.deactivate_partner", org_id=org_id),
        f"Deactivate {org['name']}",
        url_for("operator.partner_page", org_id=org_id),
    )


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
    """Operations: every scheduled job (schedule, last run, recent failures) with "run now",
    every feed with its staleness, each distributor's drop folder with its latest file,
    and the run history with each run's counts; ``?job=`` narrows the history to one
    job."""
    admin = current_hub()
    job = request.args.get("job") or None
    return render_template(
        "operator/jobs.html",
        jobs=jobs.jobs(admin),
        runs=jobs.runs(admin, job),
        job=job,
        feeds=feeds.feeds(
            admin, clock.today(), current_app.extensions["tandem.config"].stale_after_days
        ),
        drops=feeds.drop_folders(admin),
        names={o["id"]: o["name"] for o in partners.list_partners(admin)},
        failure_days=jobs.FAILURE_WINDOW.days,
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


@bp.post("/feeds/<feed_id>/cadence")
@role_required(OPERATOR_ADMIN)
def set_feed_cadence(feed_id: str) -> Response:
    """Set how often a feed comes (its staleness follows it), or clear it so the cadence
    learned from its deliveries counts."""
    try:
        loaded = CadenceFormSchema().load(request.form.to_dict())
        feeds.set_cadence(
            current_hub(), feed_id, loaded["cadence_days"], via="portal", actor=current_user.id
        )
    except ValidationError as exc:
        flash("; ".join(m for ms in _field_errors(exc.messages).values() for m in ms), "error")
    except GovernanceError as exc:
        flash(str(exc), "error")
    else:
        days = loaded["cadence_days"]
        said = f"expected {cadence_label(days)}" if days else "cadence learned from deliveries"
        flash(f"Feed {feed_id}: {said}.")
    return redirect(url_for("operator.jobs_page", _anchor=f"feed-{feed_id}"))


#: Audit entries per page, and the query-string keys of the audit page.
AUDIT_PER_PAGE = 50
AUDIT_KEYS = ("actor", "action", "collection", "via", "from", "to", "page")
SLUG = r"^[a-z0-9_.-]+$"


class AuditFilters(Schema):
    """The audit page's filters, as its query string carries them."""

    actor = fields.UUID()
    action = fields.String(validate=[validate.Length(max=80), validate.Regexp(SLUG)])
    collection = fields.String(validate=[validate.Length(max=80), validate.Regexp(SLUG)])
    via = fields.String(validate=[validate.Length(max=40), validate.Regexp(SLUG)])
    since = fields.Date(data_key="from")
    until = fields.Date(data_key="to")
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))

    @validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("the last day is before the first", "to")


@bp.get("/audit")
@role_required(OPERATOR_ADMIN)
def audit_page() -> Any:
    """The audit log, newest first, a page at a time, filtered by who (``actor``), what
    (``action``, or its start such as ``partner.``, and ``collection``), when (``from``,
    ``to``: days, inclusive) and through what (``via``)."""
    admin = current_hub()
    raw = {k: v.strip() for k, v in request.args.items() if k in AUDIT_KEYS and v.strip()}
    filters, errors = _loaded(AuditFilters(), raw)
    rows: list[dict[str, Any]] = []
    more = False
    page = filters.pop("page", 1)
    if not errors:
        rows, more = audit.entries(
            admin,
            audit.AuditQuery(**{k: str(v) if k == "actor" else v for k, v in filters.items()}),
            page=page,
            per_page=AUDIT_PER_PAGE,
        )
    kept = {k: v for k, v in raw.items() if k != "page"}
    return (
        render_template(
            "operator/audit.html",
            entries=rows,
            more=more,
            page=page,
            kept=kept,
            errors=errors,
            emails=users.emails(admin),
            vias=audit.distinct(admin, "via"),
            collections=audit.distinct(admin, "collection"),
        ),
        400 if errors else 200,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    only = (OPERATOR_ADMIN,)
    add_nav(app, "Sharing", "operator.sharing_page", only, 60)
    add_nav(app, "Partners and users", "operator.people", only, 61)
    add_nav(app, "Operations", "operator.jobs_page", only, 62)
    add_nav(app, "Audit log", "operator.audit_page", only, 63)
