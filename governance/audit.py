"""The audit log: who did what to which records, and when; written by every action, read
by the operator's audit page with filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from directus import HubClient
from domain import clock


def record(
    hub: HubClient,
    action: str,
    collection: str | None = None,
    record_ids: Sequence[Any] = (),
    *,
    detail: Mapping[str, Any] | None = None,
    via: str = "portal",
    actor: str | None = None,
    organization: int | None = None,
) -> None:
    """Write one audit entry.

    With a partner's own token the hub presets ``actor`` and ``organization`` and refuses
    any other values, so a partner cannot write entries in someone else's name.
    """
    entry: dict[str, Any] = {
        "at": clock.now().isoformat(timespec="milliseconds"),
        "action": action,
        "collection": collection,
        "record_ids": [str(i) for i in record_ids],
        "detail": dict(detail or {}),
        "via": via,
    }
    if actor is not None:
        entry["actor"] = actor
    if organization is not None:
        entry["organization"] = organization
    hub.create_item("audit_log", entry)


@dataclass(frozen=True)
class AuditQuery:
    """Which entries to read: each filter left as None reads them all."""

    actor: str | None = None
    action: str | None = None  # an action or its start: "partner." reads every partner action
    collection: str | None = None
    via: str | None = None
    since: dt.date | None = None  # from this day, inclusive (UTC)
    until: dt.date | None = None  # to this day, inclusive (UTC)


ENTRY_FIELDS = [
    "id",
    "at",
    "action",
    "collection",
    "record_ids",
    "detail",
    "via",
    "actor",
    "organization",
]


def entries(
    hub: HubClient, query: AuditQuery, *, page: int = 1, per_page: int = 50
) -> tuple[list[dict[str, Any]], bool]:
    """One page of the entries ``query`` matches, newest first, and whether there are more."""
    clauses: list[dict[str, Any]] = []
    if query.actor:
        clauses.append({"actor": {"_eq": query.actor}})
    if query.action:
        clauses.append({"action": {"_starts_with": query.action}})
    if query.collection:
        clauses.append({"collection": {"_eq": query.collection}})
    if query.via:
        clauses.append({"via": {"_eq": query.via}})
    if query.since:
        clauses.append({"at": {"_gte": _midnight(query.since)}})
    if query.until:
        clauses.append({"at": {"_lt": _midnight(query.until + dt.timedelta(days=1))}})
    rows = hub.read_items(
        "audit_log",
        filter={"_and": clauses} if clauses else {},
        fields=ENTRY_FIELDS,
        sort=["-at", "-id"],
        limit=per_page + 1,
        offset=(page - 1) * per_page,
    )
    return rows[:per_page], len(rows) > per_page


def distinct(hub: HubClient, field: str) -> list[str]:
    """The values ``field`` (``via``, ``collection``) takes in the log, for a filter's
    choices."""
    groups = hub.aggregate("audit_log", {"count": ["id"]}, group_by=[field])
    return sorted(str(g[field]) for g in groups if g.get(field))


def _midnight(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).isoformat(timespec="milliseconds")
