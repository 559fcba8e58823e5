"""Partners (organizations), their pairs, and the account managers assigned to pairs."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from directus import ForbiddenOrMissing, HubClient
from domain import edi_profiles, replenishment, scorecard
from domain.gs1 import gln_problem, prefix_problem, prefixes_overlap
from domain.ingest import MAX_ID
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, ORG_KINDS, SUPPLIER_USER
from governance import audit
from governance.errors import GovernanceError
from governance.policies import regenerate_pair
from governance.roles import hub_role_id

ORG_FIELDS = [
    "id",
    "name",
    "kind",
    "status",
    "gln",
    "currency",
    "x12_qualifier",
    "x12_id",
    "share_policy",
    "edifact_id",
    "gs1_prefixes",
    "edi_profile",
]
#: Profile fields kept in the organization's own envelope-id columns.
ENVELOPE_COLUMNS = {"isa_qualifier": "x12_qualifier", "isa_id": "x12_id", "unb_id": "edifact_id"}


def partner_errors(name: str, kind: str, gln: str | None, currency: str) -> dict[str, list[str]]:
    """Problems with a new partner's fields, by field."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["a name is required"]
    if kind not in ORG_KINDS:
        errors["kind"] = [f"kind must be one of {', '.join(ORG_KINDS)}"]
    if gln and (problem := gln_problem(gln)):
        errors["gln"] = [f"GLN {gln}: {problem}"]
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        errors["currency"] = ["currency is a 3-letter ISO 4217 code such as USD"]
    return errors


def add_partner(
    admin: HubClient,
    name: str,
    kind: str,
    *,
    gln: str | None = None,
    currency: str = "USD",
    x12_qualifier: str | None = None,
    x12_id: str | None = None,
    edifact_id: str | None = None,
    gs1_prefixes: Sequence[str] = (),
    via: str = "cli",
    actor: str | None = None,
) -> dict[str, Any]:
    """Create an organization. Refuses a duplicate name or GLN, and GS1 company prefixes
    that are not a supplier's own (see :func:`prefix_errors`)."""
    name = name.strip()
    errors = partner_errors(name, kind, gln, currency)
    prefixes = [p.strip() for p in gs1_prefixes]
    if prefixes:
        errors.update(prefix_errors(admin, kind, prefixes))
    if not errors and _name_taken(admin, name):
        errors["name"] = [f"an organization named {name!r} already exists"]
    if (
        not errors
        and gln
        and admin.read_items("organizations", filter={"gln": {"_eq": gln}}, fields=["id"], limit=1)
    ):
        errors["gln"] = [f"GLN {gln} is already registered"]
    if errors:
        raise GovernanceError(f"cannot add partner {name!r}", errors)
    row = admin.create_item(
        "organizations",
        {
            "name": name,
            "kind": kind,
            "status": "active",
            "gln": gln or None,
            "currency": currency,
            "x12_qualifier": x12_qualifier,
            "x12_id": x12_id,
            "edifact_id": edifact_id,
            "gs1_prefixes": prefixes or None,
        },
        fields=ORG_FIELDS,
    )
    audit.record(
        admin,
        "partner.add",
        "organizations",
        [row["id"]],
        detail={"name": name},
        via=via,
        actor=actor,
    )
    return row


def prefix_errors(
    admin: HubClient, kind: str, prefixes: Sequence[str], *, org_id: int | None = None
) -> dict[str, list[str]]:
    """Problems with a supplier's GS1 company prefixes, under ``gs1_prefixes``: each is 6
    to 12 digits, listed once, and overlaps no other supplier's (one GTIN would then
    belong to two suppliers, and the POS of one product could reach the other)."""
    if kind != "supplier":
        return {"gs1_prefixes": ["only a supplier has GS1 company prefixes for its SKUs"]}
    problems = [p for p in map(prefix_problem, prefixes) if p]
    problems += [
        f"{a} and {b} overlap; list the shorter one only"
        for i, a in enumerate(prefixes)
        for b in prefixes[i + 1 :]
        if prefixes_overlap(a, b)
    ]
    if not problems:
        others = admin.read_items(
            "organizations",
            filter={"kind": {"_eq": "supplier"}, "gs1_prefixes": {"_nnull": True}},
            fields=["id", "name", "gs1_prefixes"],
            limit=-1,
        )
        problems = [
            f"{mine} overlaps {theirs}, a prefix of {other['name']}"
            for other in others
            if other["id"] != org_id
            for theirs in other.get("gs1_prefixes") or []
            for mine in prefixes
            if prefixes_overlap(mine, theirs)
        ]
    return {"gs1_prefixes": problems} if problems else {}


def set_prefixes(
    admin: HubClient,
    ref: str | int,
    prefixes: Sequence[str],
    *,
    via: str = "cli",
    actor: str | None = None,
) -> dict[str, Any]:
    """Set a supplier's GS1 company prefixes (the whole list; empty clears them). A SKU's
    GTIN must be under one of them (the hub's integrity extension checks every write)."""
    org = get_partner(admin, ref)
    wanted = [p.strip() for p in prefixes if p.strip()]
    errors = prefix_errors(admin, org["kind"], wanted, org_id=org["id"]) if wanted else {}
    if errors:
        raise GovernanceError(f"cannot set the GS1 company prefixes of {org['name']}", errors)
    admin.update_item("organizations", org["id"], {"gs1_prefixes": wanted or None})
    audit.record(
        admin,
        "partner.prefixes",
        "organizations",
        [org["id"]],
        detail={"gs1_prefixes": wanted},
        via=via,
        actor=actor,
    )
    return {**org, "gs1_prefixes": wanted or None}


def edi_profile(org: dict[str, Any]) -> dict[str, Any] | None:
    """A partner's EDI profile as the operator entered it (None if it has none): the
    ``edi_profile`` field with the envelope ids from their own columns."""
    stored = org.get("edi_profile")
    if not stored:
        return None
    ids = {name: org.get(column) for name, column in ENVELOPE_COLUMNS.items()}
    return {**stored, **{k: v for k, v in ids.items() if v and k in _ids_of(stored)}}


def _ids_of(profile: dict[str, Any]) -> tuple[str, ...]:
    return ("isa_qualifier", "isa_id") if profile.get("standard") == "x12" else ("unb_id",)


def set_edi_profile(
    admin: HubClient,
    ref: str | int,
    entered: dict[str, Any] | None,
    *,
    via: str = "cli",
    actor: str | None = None,
) -> dict[str, Any]:
    """Set a partner's EDI profile (None clears it). Refused, by field, when it does not
    pass :func:`domain.edi_profiles.check`, or when another partner has the same
    envelope id or AS2 id: inbound interchanges are told apart by them."""
    org = get_partner(admin, ref)
    if org["kind"] not in ("supplier", "distributor"):
        raise GovernanceError(
            f"cannot set an EDI profile for {org['name']}",
            {"partner": ["only suppliers and distributors exchange EDI"]},
        )
    changes: dict[str, Any] = {"edi_profile": None}
    if entered is not None:
        profile, errors = edi_profiles.check(entered)
        if profile is not None:
            errors = _profile_clashes(admin, org["id"], profile)
        if errors or profile is None:
            raise GovernanceError(f"cannot set the EDI profile of {org['name']}", errors)
        own = _ids_of(profile)
        changes = {
            "edi_profile": {k: v for k, v in profile.items() if k not in own},
            **{ENVELOPE_COLUMNS[k]: profile[k] for k in own},
        }
    admin.update_item("organizations", org["id"], changes)
    https = entered is not None and changes["edi_profile"].get("transport") == "https"
    inbound_key = set_edi_agent(admin, org, active=entered is not None, https=https)
    audit.record(
        admin,
        "partner.edi_profile",
        "organizations",
        [org["id"]],
        detail={"edi_profile": changes["edi_profile"]},
        via=via,
        actor=actor,
    )
    return {**org, **changes, "inbound_key": inbound_key}


#: The domain of the EDI agents' addresses, which no person has.
EDI_AGENTS_DOMAIN = "@edi-agents.tandem.example.com"


def edi_agent_email(org_id: int) -> str:
    return f"edi-agent-{org_id}{EDI_AGENTS_DOMAIN}"


def set_edi_agent(
    admin: HubClient, org: dict[str, Any], *, active: bool, https: bool = False
) -> str | None:
    """The partner's EDI agent: a user of its own organization and role, with no password
    and a static token the scheduler reads from ``edi_agents``. What the partner sends by
    EDI is applied with this token, so the hub's rules for that partner apply to it.
    Suspended (its token no longer works) while the partner has no profile.

    An HTTPS partner also gets an inbound key, returned here and only here, when it has
    none: the receiver (:mod:`sync.receiver`) takes its posts with it; ``edi_agents``
    keeps its SHA-256. Setting the profile again keeps the key; clearing the profile
    (or moving off HTTPS) ends it, and the next HTTPS profile gets a new one.
    """
    email = edi_agent_email(org["id"])
    found = admin.get("/users", filter={"email": {"_eq": email}}, fields=["id"], limit=1)
    if not active:
        if found:
            admin.patch(f"/users/{found[0]['id']}", {"status": "suspended"})
        if admin.read_items("edi_agents", filter={"organization": {"_eq": org["id"]}}, limit=1):
            admin.update_item("edi_agents", org["id"], {"inbound_key": None})
        return None
    role = SUPPLIER_USER if org["kind"] == "supplier" else DISTRIBUTOR_USER
    token = secrets.token_urlsafe(32)
    account = {
        "role": hub_role_id(admin, role),
        "tandem_role": role,
        "organization": org["id"],
        "first_name": "EDI agent",
        "last_name": org["name"],
        "status": "active",
        "token": token,
    }
    if found:
        admin.patch(f"/users/{found[0]['id']}", account)
    else:
        admin.post("/users", {"email": email, **account}, fields=["id"])
    existing = admin.read_items(
        "edi_agents",
        filter={"organization": {"_eq": org["id"]}},
        fields=["inbound_key"],
        limit=1,
    )
    kept = existing[0].get("inbound_key") if existing and https else None
    inbound_key = secrets.token_urlsafe(32) if https and not kept else None
    agent = {
        "email": email,
        "token": token,
        "inbound_key": kept
        or (hashlib.sha256(inbound_key.encode()).hexdigest() if inbound_key else None),
    }
    if existing:
        admin.update_item("edi_agents", org["id"], agent)
    else:
        admin.create_item("edi_agents", {"organization": org["id"], **agent})
    return inbound_key


def _profile_clashes(
    admin: HubClient, org_id: int, profile: dict[str, Any]
) -> dict[str, list[str]]:
    """Another partner with the same envelope id (whatever its qualifier, and whether or
    not it has a profile: ``partner add`` sets ids too) or AS2 id, case aside."""
    others = admin.read_items(
        "organizations", filter={"id": {"_neq": org_id}}, fields=ORG_FIELDS, limit=-1
    )
    field = "isa_id" if profile["standard"] == "x12" else "unb_id"
    column = ENVELOPE_COLUMNS[field]
    mine = str(profile[field]).strip().upper()
    as2 = str(profile.get("as2_id") or "").lower()
    errors: dict[str, list[str]] = {}
    for other in others:
        if str(other.get(column) or "").strip().upper() == mine:
            errors.setdefault(field, []).append(f"{other['name']} already has this envelope id")
        theirs = (other.get("edi_profile") or {}).get("as2_id") or ""
        if as2 and theirs.lower() == as2:
            errors.setdefault("as2_id", []).append(f"{other['name']} already has this AS2 id")
    return errors


def _name_taken(admin: HubClient, name: str) -> bool:
    """Names are unique regardless of case: "acme foods" would be a second Acme Foods."""
    similar = admin.read_items(
        "organizations", filter={"name": {"_icontains": name}}, fields=["name"], limit=-1
    )
    return any(row["name"].casefold() == name.casefold() for row in similar)


def find_partner(admin: HubClient, ref: str | int) -> dict[str, Any] | None:
    """An organization by id or exact name."""
    key = "id" if isinstance(ref, int) or str(ref).isdigit() else "name"
    if key == "id" and not 0 < int(ref) <= MAX_ID:
        return None
    rows = admin.read_items("organizations", filter={key: {"_eq": ref}}, fields=ORG_FIELDS, limit=1)
    return rows[0] if rows else None


def get_partner(admin: HubClient, ref: str | int) -> dict[str, Any]:
    row = find_partner(admin, ref)
    if row is None:
        raise GovernanceError(f"no organization {ref!r}", {"organization": ["not found"]})
    return row


def list_partners(admin: HubClient) -> list[dict[str, Any]]:
    return admin.read_items("organizations", fields=ORG_FIELDS, sort=["id"], limit=-1)


def deactivate_partner(
    admin: HubClient, ref: str | int, *, via: str = "cli", actor: str | None = None
) -> dict[str, Any]:
    """Deactivate an organization and suspend its active users, which ends their hub
    sessions. The audit entry names the users it suspended: :func:`reactivate_partner`
    restores those, and leaves suspended the ones suspended on their own before. The
    operator organization is never deactivated: its admins would lock themselves out."""
    org = get_partner(admin, ref)
    if org["kind"] == "operator":
        raise GovernanceError(
            f"cannot deactivate {org['name']}",
            {"partner": ["the operator organization is never deactivated"]},
        )
    if org["status"] != "active":
        raise GovernanceError(
            f"cannot deactivate {org['name']}", {"partner": [f"{org['name']} is inactive"]}
        )
    admin.update_item("organizations", org["id"], {"status": "inactive"})
    ids = [m["id"] for m in _members(admin, org["id"], "active")]
    if ids:
        admin.patch("/users", {"keys": ids, "data": {"status": "suspended"}})
    audit.record(
        admin,
        "partner.deactivate",
        "organizations",
        [org["id"]],
        detail={"suspended_users": len(ids), "users": ids},
        via=via,
        actor=actor,
    )
    return {**org, "status": "inactive"}


def reactivate_partner(
    admin: HubClient, ref: str | int, *, via: str = "cli", actor: str | None = None
) -> dict[str, Any]:
    """Make an inactive organization active again, with the users its latest deactivation
    suspended (those still suspended and still its members): they sign in again. A user
    suspended on its own, before the deactivation or since, stays so, for
    :func:`governance.users.reactivate_user`. The EDI agent is not one of them: it is
    active again only if the partner still has an EDI profile (:func:`set_edi_agent`).

    Only entries the operator wrote count (see :func:`_operator_entries`): a partner may
    write audit entries too, and one naming a user must not bring it back."""
    org = get_partner(admin, ref)
    if org["status"] == "active":
        raise GovernanceError(
            f"cannot reactivate {org['name']}", {"partner": [f"{org['name']} is active"]}
        )
    suspended = {
        m["id"]
        for m in _members(admin, org["id"], "suspended")
        if not str(m["email"]).endswith(EDI_AGENTS_DOMAIN)
    }
    deactivation = _latest_deactivation(admin, org["id"])
    ids: list[str] = []
    if deactivation is not None:
        named = [str(i) for i in (deactivation.get("detail") or {}).get("users", [])]
        alone = _suspended_since(admin, deactivation["id"])
        ids = [i for i in named if i in suspended and i not in alone]
    admin.update_item("organizations", org["id"], {"status": "active"})
    if ids:
        admin.patch("/users", {"keys": ids, "data": {"status": "active"}})
    profile = edi_profile(org)
    set_edi_agent(
        admin,
        org,
        active=profile is not None,
        https=profile is not None and profile.get("transport") == "https",
    )
    audit.record(
        admin,
        "partner.reactivate",
        "organizations",
        [org["id"]],
        detail={"reactivated_users": len(ids), "users": ids},
        via=via,
        actor=actor,
    )
    return {**org, "status": "active", "reactivated_users": len(ids)}


def _members(admin: HubClient, org_id: int, status: str) -> list[dict[str, Any]]:
    return list(
        admin.get(
            "/users",
            filter={"organization": {"_eq": org_id}, "status": {"_eq": status}},
            fields=["id", "email"],
            limit=-1,
        )
    )


#: Entries read per request while looking for an organization's latest deactivation.
_ENTRIES_PAGE = 100


def _operator_entries(action: str, collection: str) -> dict[str, Any]:
    """A hub filter for the entries of ``action`` on ``collection`` the operator wrote.

    A partner's users may create audit entries (the portal records their actions with
    their own token), with any ``action``, ``record_ids`` and ``detail``; but the hub
    presets and validates their ``organization`` as their own (migration 0003's
    ``AUDIT_CREATE``), and every partner user has one. The operator's actions go through
    the admin API (the CLI, the console), which writes no organization. So an entry with
    no organization is the operator's, and a partner cannot write one."""
    return {
        "_and": [
            {"action": {"_eq": action}},
            {"collection": {"_eq": collection}},
            {"organization": {"_null": True}},
        ]
    }


def _latest_deactivation(admin: HubClient, org_id: int) -> dict[str, Any] | None:
    """The operator's latest ``partner.deactivate`` entry for the organization.

    ``record_ids`` is a JSON column: the hub turns an ``_eq``, ``_contains`` or ``json()``
    filter on it into ``=`` or ``LIKE`` on a ``json`` value, which PostgreSQL does not
    define. So the operator's newest deactivations are read a page at a time until the
    organization's is found."""
    page = 0
    while True:
        rows = admin.read_items(
            "audit_log",
            filter=_operator_entries("partner.deactivate", "organizations"),
            fields=["id", "record_ids", "detail"],
            sort=["-id"],
            limit=_ENTRIES_PAGE,
            offset=page * _ENTRIES_PAGE,
        )
        found = next((e for e in rows if e.get("record_ids") == [str(org_id)]), None)
        if found is not None or len(rows) < _ENTRIES_PAGE:
            return found
        page += 1


def _suspended_since(admin: HubClient, entry_id: int) -> set[str]:
    """The users the operator suspended on their own after the audit entry ``entry_id``."""
    rows = admin.read_items(
        "audit_log",
        filter={
            "_and": [
                _operator_entries("user.deactivate", "directus_users"),
                {"id": {"_gt": entry_id}},
            ]
        },
        fields=["record_ids"],
        limit=-1,
    )
    return {str(i) for row in rows for i in row.get("record_ids") or []}


def edit_partner(
    admin: HubClient,
    ref: str | int,
    *,
    name: str,
    gln: str | None,
    currency: str,
    via: str = "cli",
    actor: str | None = None,
) -> dict[str, Any]:
    """Change a partner's name, GLN (None clears it) and currency, under the rules of
    :func:`add_partner`. Its kind stays: its pairs, agreements and users depend on it."""
    org = get_partner(admin, ref)
    name, gln = name.strip(), (gln or "").strip() or None
    errors = partner_errors(name, org["kind"], gln, currency)
    if (
        "name" not in errors
        and name.casefold() != org["name"].casefold()
        and _name_taken(admin, name)
    ):
        errors["name"] = [f"an organization named {name!r} already exists"]
    if (
        "gln" not in errors
        and gln
        and admin.read_items(
            "organizations",
            filter={"gln": {"_eq": gln}, "id": {"_neq": org["id"]}},
            fields=["id"],
            limit=1,
        )
    ):
        errors["gln"] = [f"GLN {gln} is already registered"]
    if errors:
        raise GovernanceError(f"cannot change partner {org['name']!r}", errors)
    changes = {
        k: v for k, v in {"name": name, "gln": gln, "currency": currency}.items() if v != org.get(k)
    }
    if changes:
        admin.update_item("organizations", org["id"], changes)
        audit.record(
            admin,
            "partner.edit",
            "organizations",
            [org["id"]],
            detail=changes,
            via=via,
            actor=actor,
        )
    return {**org, **changes}


def find_partnership(admin: HubClient, supplier: int, distributor: int) -> int | None:
    """The pair's partnership id, or None when the two do not trade."""
    rows = admin.read_items(
        "partnerships", filter={"pair": {"_eq": f"{supplier}:{distributor}"}}, fields=["id"]
    )
    return int(rows[0]["id"]) if rows else None


def ensure_partnership(admin: HubClient, supplier: int, distributor: int) -> int:
    """The pair's partnership id, created when missing."""
    pair = f"{supplier}:{distributor}"
    rows = admin.read_items("partnerships", filter={"pair": {"_eq": pair}}, fields=["id"], limit=1)
    if rows:
        return int(rows[0]["id"])
    orgs = {
        o["id"]: o
        for o in admin.read_items(
            "organizations", filter={"id": {"_in": [supplier, distributor]}}, fields=ORG_FIELDS
        )
    }
    errors: dict[str, list[str]] = {}
    if orgs.get(supplier, {}).get("kind") != "supplier":
        errors["supplier"] = [f"organization {supplier} is not a supplier"]
    if orgs.get(distributor, {}).get("kind") not in ("distributor", "retailer"):
        errors["distributor"] = [f"organization {distributor} is not a distributor"]
    if errors:
        raise GovernanceError("cannot pair these organizations", errors)
    row = admin.create_item(
        "partnerships",
        {"pair": pair, "supplier": supplier, "distributor": distributor, "status": "active"},
        fields=["id"],
    )
    return int(row["id"])


def pair_partners(
    admin: HubClient, supplier: int, distributor: int, *, via: str = "cli", actor: str | None = None
) -> int:
    """Make a supplier and a distributor trading partners (audited once). Returns the pair."""
    existing = find_partnership(admin, supplier, distributor)
    if existing is not None:
        return existing
    pair = ensure_partnership(admin, supplier, distributor)
    audit.record(admin, "partnership.add", "partnerships", [pair], via=via, actor=actor)
    return pair


def set_scorecard_settings(
    admin: HubClient,
    supplier: int,
    distributor: int,
    settings: Mapping[str, Any],
    *,
    via: str = "cli",
    actor: str | None = None,
) -> int:
    """Set a trading pair's scorecard settings (:class:`domain.scorecard.Settings`: its
    headline OTIF variant, the arrival window, its fiscal year's first month), checked
    and audited. Returns the pair id; the next ``scorecards.compute`` run uses them."""

    def checked() -> dict[str, Any]:
        return dataclasses.asdict(scorecard.Settings(**dict(settings)))

    return _set_pair_settings(
        admin, supplier, distributor, "scorecard_settings", checked, via=via, actor=actor
    )


def set_planning_settings(
    admin: HubClient,
    supplier: int,
    distributor: int,
    settings: Mapping[str, Any],
    *,
    via: str = "cli",
    actor: str | None = None,
) -> int:
    """Set a trading pair's replenishment policy (:class:`domain.replenishment.Policy`:
    its service level and review period), checked and audited. Returns the pair id."""

    def checked() -> dict[str, Any]:
        return dict(replenishment.Policy.from_settings(settings).as_settings())

    return _set_pair_settings(
        admin, supplier, distributor, "planning_settings", checked, via=via, actor=actor
    )


def _set_pair_settings(
    admin: HubClient,
    supplier: int,
    distributor: int,
    name: str,
    checked: Callable[[], dict[str, Any]],
    *,
    via: str,
    actor: str | None,
) -> int:
    """Store one of a pair's settings fields, once ``checked`` has accepted them."""
    pair = find_partnership(admin, supplier, distributor)
    if pair is None:
        raise GovernanceError(
            "these organizations do not trade", {"pair": [f"no pair {supplier}:{distributor}"]}
        )
    try:
        values = checked()
    except (TypeError, ValueError) as exc:
        raise GovernanceError(str(exc), {"settings": [str(exc)]}) from None
    admin.update_item("partnerships", pair, {name: values})
    audit.record(
        admin, f"partnership.{name}", "partnerships", [pair], detail=values, via=via, actor=actor
    )
    return pair


def assign_manager(
    admin: HubClient,
    user_id: str,
    supplier: int,
    distributor: int,
    *,
    via: str = "cli",
    actor: str | None = None,
) -> int:
    """Assign an account manager to a supplier-distributor pair that already trades.
    Returns the pair id. Assigning never creates a partnership: that would open the
    supplier's catalogue and costs to the distributor."""
    try:
        user = admin.get(f"/users/{user_id}", fields=["id", "tandem_role", "organization.kind"])
    except ForbiddenOrMissing:
        raise GovernanceError("no such user", {"user": [f"no user {user_id}"]}) from None
    if user.get("tandem_role") != ACCOUNT_MANAGER:
        raise GovernanceError(
            "only account managers are assigned to pairs",
            {"user": [f"{user_id} is not an account manager"]},
        )
    if (user.get("organization") or {}).get("kind") != "operator":
        raise GovernanceError(
            "an account manager belongs to the operating organization",
            {"user": [f"{user_id} is not in an operator organization; add the manager there"]},
        )
    pair = find_partnership(admin, supplier, distributor)
    if pair is None:
        raise GovernanceError(
            "the supplier and the distributor do not trade",
            {"supplier": [f"{supplier} and {distributor} are not a pair; pair them first"]},
        )
    key = f"{pair}:{user_id}"
    if not admin.read_items("partnership_managers", filter={"id": {"_eq": key}}, limit=1):
        admin.create_item("partnership_managers", {"id": key, "partnership": pair, "user": user_id})
        audit.record(admin, "manager.assign", "partnership_managers", [key], via=via, actor=actor)
    # The manager reads the pair's POS and inventory as the pair's supplier does.
    regenerate_pair(admin, pair)
    return pair


def unassign_manager(
    admin: HubClient,
    user_id: str,
    supplier: int,
    distributor: int,
    *,
    via: str = "cli",
    actor: str | None = None,
) -> int:
    """Take an account manager off a pair: its records and its shared data close at the
    manager's next request. Returns the pair id."""
    pair = find_partnership(admin, supplier, distributor)
    key = f"{pair}:{user_id}"
    if pair is None or not admin.read_items(
        "partnership_managers", filter={"id": {"_eq": key}}, limit=1
    ):
        raise GovernanceError(
            "the manager is not assigned to this pair",
            {"user": [f"{user_id} does not manage {supplier} and {distributor}"]},
        )
    admin.delete_items("partnership_managers", [key])
    regenerate_pair(admin, pair)
    audit.record(admin, "manager.unassign", "partnership_managers", [key], via=via, actor=actor)
    return pair


def list_assignments(admin: HubClient) -> list[dict[str, Any]]:
    """Every account manager's pairs: ``user``, ``supplier`` and ``distributor`` ids."""
    rows = admin.read_items(
        "partnership_managers",
        fields=["id", "user", "partnership.supplier", "partnership.distributor"],
        sort=["id"],
        limit=-1,
    )
    return [
        {
            "user": row["user"],
            "supplier": row["partnership"]["supplier"],
            "distributor": row["partnership"]["distributor"],
        }
        for row in rows
    ]
