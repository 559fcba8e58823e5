"""Sharing agreements: grant, revoke, list, and the grantee's generated share policy.

Each grantee organization has one hub policy, named ``Tandem share: org <id>`` and linked
from ``organizations.share_policy``. Its permissions are compiled by
:func:`domain.sharing.share_rules` from the grantee's agreements and rewritten on every
grant and revoke. Every member of the organization is attached to it. The same
regeneration rewrites the policies of the grantee's managed pairs
(:mod:`governance.policies`), so their account managers read what the supplier reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from directus import HubClient
from domain import clock
from domain.ingest import MAX_ID
from domain.sharing import Agreement, AgreementDraft, agreement_errors, share_rules
from governance import audit
from governance.errors import GovernanceError
from governance.partners import get_partner
from governance.policies import (
    AGREEMENT_FIELDS,
    ensure_policy,
    regenerate_managed_pairs,
    write_rules,
)
from governance.scheduler import rescore


def grant(
    admin: HubClient,
    grantor: str | int,
    grantee: str | int,
    kinds: Sequence[str],
    *,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    granularity: str = "store_day",
    regions: Sequence[str] = (),
    locations: Sequence[int] = (),
    purpose: str | None = None,
    via: str = "cli",
    actor: str | None = None,
) -> dict[str, Any]:
    """Store an agreement and regenerate the grantee's share policy."""
    owner = get_partner(admin, grantor)
    receiver = get_partner(admin, grantee)
    errors = agreement_errors(
        AgreementDraft(
            grantor_kind=owner["kind"],
            grantee_kind=receiver["kind"],
            kinds=list(kinds),
            valid_from=valid_from,
            valid_to=valid_to,
            granularity=granularity,
            regions=list(regions),
            locations=list(locations),
            same_org=owner["id"] == receiver["id"],
        )
    )
    if locations and not errors:
        owned = admin.read_items(
            "locations",
            filter={
                "_and": [{"id": {"_in": list(locations)}}, {"distributor": {"_eq": owner["id"]}}]
            },
            fields=["id"],
            limit=-1,
        )
        missing = sorted(set(locations) - {row["id"] for row in owned})
        if missing:
            errors["locations"] = [f"not {owner['name']}'s locations: {missing}"]
    if regions and not errors:
        known = {
            row["region"]
            for row in admin.aggregate(
                "locations",
                {"count": ["id"]},
                group_by=["region"],
                filter={"distributor": {"_eq": owner["id"]}},
            )
        }
        unknown = sorted(set(regions) - known)
        if unknown:
            errors["regions"] = [
                f"{owner['name']} has no locations in {', '.join(unknown)}; "
                f"its regions: {', '.join(sorted(r for r in known if r)) or 'none'}"
            ]
    if errors:
        raise GovernanceError("cannot grant this agreement", errors)
    row = admin.create_item(
        "share_agreements",
        {
            "grantor": owner["id"],
            "grantee": receiver["id"],
            "kinds": list(kinds),
            "regions": list(regions),
            "locations": list(locations),
            "granularity": granularity,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
            "purpose": purpose,
            "status": "active",
        },
        fields=AGREEMENT_FIELDS,
    )
    regenerate(admin, receiver["id"])
    audit.record(
        admin,
        "share.grant",
        "share_agreements",
        [row["id"]],
        detail={"grantor": owner["id"], "grantee": receiver["id"], "kinds": list(kinds)},
        via=via,
        actor=actor,
    )
    rescore(admin, via=via, actor=actor)
    return row


def revoke(
    admin: HubClient, agreement_id: int, *, via: str = "cli", actor: str | None = None
) -> dict[str, Any]:
    """Revoke an agreement. Its rows disappear from the grantee's very next request."""
    rows = (
        admin.read_items(
            "share_agreements",
            filter={"id": {"_eq": agreement_id}},
            fields=AGREEMENT_FIELDS,
            limit=1,
        )
        if 0 < agreement_id <= MAX_ID
        else []
    )
    if not rows:
        raise GovernanceError(f"no agreement {agreement_id}", {"agreement": ["not found"]})
    row = rows[0]
    if row["status"] == "revoked":
        raise GovernanceError(
            f"agreement {agreement_id} is already revoked", {"agreement": ["already revoked"]}
        )
    now = clock.now().isoformat(timespec="milliseconds")
    row = admin.update_item(
        "share_agreements",
        agreement_id,
        {"status": "revoked", "revoked_at": now},
        fields=AGREEMENT_FIELDS,
    )
    regenerate(admin, int(row["grantee"]))
    audit.record(admin, "share.revoke", "share_agreements", [agreement_id], via=via, actor=actor)
    rescore(admin, via=via, actor=actor)
    return row


def list_agreements(admin: HubClient, organization: str | int | None = None) -> list[dict]:
    query: dict[str, Any] = {"fields": AGREEMENT_FIELDS, "sort": ["id"], "limit": -1}
    if organization is not None:
        org = get_partner(admin, organization)
        query["filter"] = {
            "_or": [{"grantor": {"_eq": org["id"]}}, {"grantee": {"_eq": org["id"]}}]
        }
    return admin.read_items("share_agreements", **query)


def regenerate(admin: HubClient, grantee: int, today: dt.date | None = None) -> str:
    """Rewrite the grantee's share policy from its agreements, and the manager policies
    of its managed pairs (see :mod:`governance.policies`). Returns the policy id."""
    today = today or clock.today()
    org = get_partner(admin, grantee)
    policy = _ensure_share_policy(admin, org)
    agreements = [
        Agreement.from_row(r)
        for r in admin.read_items(
            "share_agreements",
            filter={"grantee": {"_eq": org["id"]}},
            fields=AGREEMENT_FIELDS,
            limit=-1,
        )
    ]
    write_rules(admin, policy, share_rules(agreements, org["id"], today))
    _attach_members(admin, org["id"], policy)
    regenerate_managed_pairs(admin, org["id"], today)
    return policy


def _ensure_share_policy(admin: HubClient, org: dict[str, Any]) -> str:
    policy = ensure_policy(
        admin,
        f"Tandem share: org {org['id']}",
        f"Data shared with {org['name']}; generated, do not edit",
    )
    if org.get("share_policy") != policy:
        admin.update_item("organizations", org["id"], {"share_policy": policy})
    return policy


def _attach_members(admin: HubClient, org_id: int, policy: str) -> None:
    members = {
        u["id"]
        for u in admin.get(
            "/users", filter={"organization": {"_eq": org_id}}, fields=["id"], limit=-1
        )
    }
    linked = {
        a["user"]
        for a in admin.get("/access", filter={"policy": {"_eq": policy}}, fields=["user"], limit=-1)
    }
    for user in sorted(members - linked):
        admin.post("/access", {"user": user, "policy": policy})
