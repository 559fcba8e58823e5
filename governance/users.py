"""Partner users: Directus users with an organization and a Tandem role.

Passwords go straight to the hub, which hashes them; Tandem never stores them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from directus import HubClient, InvalidPayload, RecordNotUnique
from domain.roles import ACCOUNT_MANAGER, ROLE_ORG_KINDS, ROLES
from governance import audit
from governance.errors import GovernanceError
from governance.partners import EDI_AGENTS_DOMAIN, get_partner
from governance.roles import hub_role_id

USER_FIELDS = ["id", "email", "first_name", "last_name", "status", "tandem_role", "organization"]
MIN_PASSWORD = 12


def roles_for(org_kind: str) -> list[str]:
    """The Tandem roles a user of this kind of organization may hold (in ``ROLES`` order)."""
    return [role for role in ROLES if org_kind in ROLE_ORG_KINDS[role]]


def add_user(
    admin: HubClient,
    email: str,
    password: str,
    tandem_role: str,
    organization: str | int,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    via: str = "cli",
    actor: str | None = None,
) -> dict[str, Any]:
    """Create a user in an organization, with the hub role for its Tandem role."""
    errors: dict[str, list[str]] = {}
    if tandem_role not in ROLES:
        errors["role"] = [f"role must be one of {', '.join(ROLES)}"]
    if len(password) < MIN_PASSWORD:
        errors["password"] = [f"a password has at least {MIN_PASSWORD} characters"]
    if "@" not in email:
        errors["email"] = ["not an email address"]
    org = get_partner(admin, organization)
    if org["status"] != "active":
        errors["organization"] = [f"{org['name']} is inactive"]
    elif tandem_role in ROLES and tandem_role not in roles_for(org["kind"]):
        errors["role"] = [f"a {tandem_role} cannot belong to a {org['kind']}"]
    if errors:
        raise GovernanceError(f"cannot add user {email}", errors)
    try:
        user = admin.post(
            "/users",
            {
                "email": email,
                "password": password,
                "role": hub_role_id(admin, tandem_role),
                "tandem_role": tandem_role,
                "organization": org["id"],
                "first_name": first_name,
                "last_name": last_name,
                "status": "active",
            },
            fields=USER_FIELDS,
        )
    except RecordNotUnique as exc:
        raise GovernanceError(
            f"cannot add user {email}", {"email": ["a user with this email exists"]}
        ) from exc
    except InvalidPayload as exc:
        raise GovernanceError(f"cannot add user {email}", {"email": [str(exc)]}) from exc
    if org.get("share_policy"):
        admin.post("/access", {"user": user["id"], "policy": org["share_policy"]})
    audit.record(
        admin,
        "user.add",
        "directus_users",
        [user["id"]],
        detail={"email": email, "role": tandem_role, "organization": org["id"]},
        via=via,
        actor=actor,
    )
    return user


def list_users(admin: HubClient, organization: str | int | None = None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {
        "fields": USER_FIELDS,
        "sort": ["email"],
        "limit": -1,
        "filter": {"tandem_role": {"_nnull": True}},
    }
    if organization is not None:
        org = get_partner(admin, organization)
        query["filter"] = {"_and": [query["filter"], {"organization": {"_eq": org["id"]}}]}
    return list(admin.get("/users", **query))


def emails(admin: HubClient) -> dict[str, str]:
    """Every account's email by id, service accounts too: the audit log's actors."""
    return {
        str(u["id"]): str(u["email"]) for u in admin.get("/users", fields=["id", "email"], limit=-1)
    }


def find_user(admin: HubClient, ref: str) -> dict[str, Any]:
    """A user by email or by id; anything else is "not found", never a hub error."""
    key = "email" if "@" in ref else "id"
    if key == "id":
        try:
            uuid.UUID(ref)
        except ValueError:
            raise GovernanceError(
                f"no user {ref}", {"user": ["not an email or a user id"]}
            ) from None
    rows = admin.get("/users", filter={key: {"_eq": ref}}, fields=USER_FIELDS, limit=1)
    if not rows:
        raise GovernanceError(f"no user {ref}", {"user": ["not found"]})
    return dict(rows[0])


def deactivate_user(
    admin: HubClient, ref: str, *, via: str = "cli", actor: str | None = None
) -> dict[str, Any]:
    """Suspend a user. The hub then deletes its sessions, so refreshes fail at once.
    Refused for oneself (an operator would lock itself out), a service account and an EDI
    agent (see :func:`person`)."""
    user = person(admin, ref, "deactivate")
    if actor is not None and actor == user["id"]:
        raise GovernanceError(
            f"cannot deactivate {user['email']}", {"user": ["you cannot deactivate yourself"]}
        )
    admin.patch(f"/users/{user['id']}", {"status": "suspended"})
    audit.record(admin, "user.deactivate", "directus_users", [user["id"]], via=via, actor=actor)
    return {**user, "status": "suspended"}


def reactivate_user(
    admin: HubClient, ref: str, *, via: str = "cli", actor: str | None = None
) -> dict[str, Any]:
    """Make a suspended user active again: it signs in with its own password. Refused
    for any other status (an invited, draft or archived account is not a suspended one),
    and while its organization is inactive (:func:`governance.partners.reactivate_partner`
    first)."""
    user = person(admin, ref, "reactivate")
    errors: dict[str, list[str]] = {}
    if user["status"] != "suspended":
        errors["user"] = [f"{user['email']} is {user['status']}, not suspended"]
    elif user.get("organization") is not None:
        org = get_partner(admin, user["organization"])
        if org["status"] != "active":
            errors["organization"] = [f"{org['name']} is inactive; reactivate it first"]
    if errors:
        raise GovernanceError(f"cannot reactivate {user['email']}", errors)
    admin.patch(f"/users/{user['id']}", {"status": "active"})
    audit.record(admin, "user.reactivate", "directus_users", [user["id"]], via=via, actor=actor)
    return {**user, "status": "active"}


def edit_user(
    admin: HubClient,
    ref: str,
    *,
    first_name: str | None,
    last_name: str | None,
    tandem_role: str,
    via: str = "cli",
    actor: str | None = None,
) -> dict[str, Any]:
    """Change a user's name and Tandem role (one its organization's kind allows, as in
    :func:`add_user`). Nobody changes their own role, and an account manager keeps its
    role while it manages pairs (unassign them first)."""
    user = person(admin, ref, "change")
    errors: dict[str, list[str]] = {}
    if tandem_role != user.get("tandem_role"):
        org = get_partner(admin, user["organization"]) if user.get("organization") else None
        if tandem_role not in ROLES:
            errors["role"] = [f"role must be one of {', '.join(ROLES)}"]
        elif org is None or tandem_role not in roles_for(org["kind"]):
            kind = org["kind"] if org else "user without an organization"
            errors["role"] = [f"a {tandem_role} cannot belong to a {kind}"]
        elif actor is not None and actor == user["id"]:
            errors["role"] = ["you cannot change your own role"]
        elif user.get("tandem_role") == ACCOUNT_MANAGER and admin.read_items(
            "partnership_managers", filter={"user": {"_eq": user["id"]}}, fields=["id"], limit=1
        ):
            errors["role"] = ["this account manager manages pairs; unassign them first"]
    if errors:
        raise GovernanceError(f"cannot change {user['email']}", errors)
    wanted = {
        "first_name": first_name or None,
        "last_name": last_name or None,
        "tandem_role": tandem_role,
    }
    changes = {k: v for k, v in wanted.items() if v != user.get(k)}
    if changes:
        hub_role = {"role": hub_role_id(admin, tandem_role)} if "tandem_role" in changes else {}
        admin.patch(f"/users/{user['id']}", {**changes, **hub_role})
        audit.record(
            admin,
            "user.edit",
            "directus_users",
            [user["id"]],
            detail=changes,
            via=via,
            actor=actor,
        )
    return {**user, **changes}


def person(admin: HubClient, ref: str, doing: str) -> dict[str, Any]:
    """A partner's or the operator's user, which the operator may ``doing`` (deactivate,
    reactivate, change); :class:`GovernanceError` for any other account. Never a service
    account (no Tandem role: the hub's admin, the scheduler's, the portal's), nor an EDI
    agent, whose account follows its partner's EDI profile
    (:func:`governance.partners.set_edi_agent`); an agent made active by hand would hold
    a working token with no profile behind it."""
    user = find_user(admin, ref)
    problem = not_governed(user)
    if problem is None:
        return user
    raise GovernanceError(f"cannot {doing} {user['email']}", {"user": [problem]})


def not_governed(user: Mapping[str, Any]) -> str | None:
    """Why the operator may not deactivate, reactivate or change this account (a service
    account, an EDI agent; see :func:`person`), or None for a partner's or the operator's
    user. The people page offers those actions by the same rule."""
    if not user.get("tandem_role"):
        return "a service account is not a Tandem user"
    if str(user.get("email", "")).endswith(EDI_AGENTS_DOMAIN):
        return "an EDI agent follows its partner's EDI profile; set or clear that"
    return None
