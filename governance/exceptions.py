"""A pair's CPFR exception criteria and escalation protocol, as the operator records
what the pair agreed.

The criteria are data (``exception_criteria``), checked by :class:`domain.exceptions.
Criterion` before anything is stored. Setting a pair's criteria replaces them by name: a
criterion named again is changed, a new one is added, and one no longer named is
deactivated (kept, as the exceptions it found refer to it). Audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from directus import HubClient
from domain.exceptions import Criterion, escalation_levels
from governance import audit
from governance.errors import GovernanceError
from governance.partners import find_partnership

FIELDS = ("name", "metric", "comparison", "threshold", "upper", "scope", "owner_side",
          "response_hours")  # fmt: skip


def _pair(admin: HubClient, supplier: int, distributor: int) -> int:
    pair = find_partnership(admin, supplier, distributor)
    if pair is None:
        raise GovernanceError(
            "these organizations do not trade", {"pair": [f"no pair {supplier}:{distributor}"]}
        )
    return pair


def _checked(pair: int, number: int, given: Mapping[str, Any]) -> dict[str, Any]:
    """One criterion as stored, or GovernanceError naming it and the field."""
    where = f"criterion {number} ({given.get('name') or 'unnamed'})"
    unknown = sorted(set(given) - set(FIELDS))
    if unknown:
        message = f"{where}: unknown fields {', '.join(unknown)}"
        raise GovernanceError(message, {"criteria": unknown})
    if not str(given.get("name") or "").strip():
        raise GovernanceError(f"{where}: name: required", {"criteria": ["name"]})
    row = {k: given.get(k) for k in FIELDS}
    row["scope"] = row["scope"] or None
    try:
        criterion = Criterion.from_row({**row, "id": 0, "partnership": pair})
    except (KeyError, TypeError, ValueError) as exc:
        raise GovernanceError(f"{where}: {exc}", {"criteria": [str(exc)]}) from None
    return {
        **row,
        "name": str(row["name"]).strip(),
        "threshold": str(criterion.threshold),
        "upper": None if criterion.upper is None else str(criterion.upper),
        "owner_side": criterion.owner_side,
        "response_hours": criterion.response_hours,
        "partnership": pair,
        "active": True,
    }


def set_criteria(
    admin: HubClient,
    supplier: int,
    distributor: int,
    criteria: Sequence[Mapping[str, Any]],
    *,
    via: str = "cli",
    actor: str | None = None,
) -> int:
    """Replace a pair's active criteria with these, by name. Returns the pair id."""
    pair = _pair(admin, supplier, distributor)
    rows = [_checked(pair, n, c) for n, c in enumerate(criteria, 1)]
    names = [r["name"] for r in rows]
    if len(set(names)) != len(names):
        raise GovernanceError("each criterion of a pair has its own name", {"criteria": names})
    stored = {
        r["name"]: r
        for r in admin.read_items(
            "exception_criteria", filter={"partnership": {"_eq": pair}}, limit=-1
        )
    }
    for row in rows:
        if row["name"] in stored:
            admin.update_item("exception_criteria", stored[row["name"]]["id"], row)
        else:
            admin.create_item("exception_criteria", row)
    for name, old in stored.items():
        if name not in names and old.get("active"):
            admin.update_item("exception_criteria", old["id"], {"active": False})
    audit.record(
        admin, "partnership.exception_criteria", "partnerships", [pair],
        detail={"criteria": names}, via=via, actor=actor,
    )  # fmt: skip
    return pair


def set_escalation(
    admin: HubClient,
    supplier: int,
    distributor: int,
    levels: Sequence[Mapping[str, Any]],
    *,
    via: str = "cli",
    actor: str | None = None,
) -> int:
    """Record a pair's escalation protocol: its levels in order, each ``after_hours``
    past due and its ``contacts`` by e-mail: users of either side, or the pair's account
    managers. Checked (:func:`domain.exceptions.escalation_levels`) and audited."""
    pair = _pair(admin, supplier, distributor)
    managers = {
        str(r["user"])
        for r in admin.read_items(
            "partnership_managers", filter={"partnership": {"_eq": pair}}, fields=["user"],
            limit=-1,
        )
    }  # fmt: skip
    rows = []
    for n, given in enumerate(levels, 1):
        contacts = []
        for email in given.get("contacts") or ():
            found = admin.get(
                "/users", filter={"email": {"_eq": str(email).strip().lower()}},
                fields=["id", "first_name", "last_name", "organization", "status"], limit=1,
            )  # fmt: skip
            user = found[0] if found else None
            side = None
            if user is not None and user.get("status") == "active":
                org = user.get("organization")
                side = ("supplier" if org == supplier else "distributor" if org == distributor
                        else "manager" if str(user["id"]) in managers else None)  # fmt: skip
            if side is None:
                raise GovernanceError(
                    f"level {n}: {email} is not an active user of either side of the pair, "
                    "nor one of its account managers",
                    {"contacts": [str(email)]},
                )
            name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
            contacts.append({"user": str(user["id"]), "side": side, "name": name or str(email)})
        rows.append({"level": n, "after_hours": given.get("after_hours"), "contacts": contacts})
    try:
        escalation_levels(rows)
    except ValueError as exc:
        raise GovernanceError(str(exc), {"levels": [str(exc)]}) from None
    admin.update_item("partnerships", pair, {"escalation": {"levels": rows}})
    audit.record(
        admin, "partnership.escalation", "partnerships", [pair],
        detail={"levels": len(rows)}, via=via, actor=actor,
    )  # fmt: skip
    return pair
