"""Partner users: Directus users with an organization and a Tandem role.

Passwords go straight to the hub, which hashes them; Tandem never stores them.
"""

from __future__ import annotations

import uuid
from typing import Any

from directus import HubClient, InvalidPayload, RecordNotUnique
from domain.roles import ROLE_ORG_KINDS, ROLES
from governance import audit
from governance.errors import GovernanceError
from governance.partners import get_partner
from governance.roles import hub_role_id

USER_FIELDS = ["id", "email", "first_name", "last_name", "status", "tandem_role", "organization"]
MIN_PASSWORD = 12


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
    elif tandem_role in ROLES and org["kind"] not in ROLE_ORG_KINDS[tandem_role]:
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
    """Suspend a user. The hub then deletes its sessions, so refreshes fail at once."""
    user = find_user(admin, ref)
    admin.patch(f"/users/{user['id']}", {"status": "suspended"})
    audit.record(admin, "user.deactivate", "directus_users", [user["id"]], via=via, actor=actor)
    return {**user, "status": "suspended"}
