"""The operator's view of the data coming in: every distributor's feeds with their
staleness, and each distributor's drop folder with its latest file and failures.

The drop folders themselves are the scheduler's (``drops.poll``, :mod:`sync.drops`):
``<drop>/<distributor id>/<kind>/``. Their imports are recorded in the hub with
``source = "drop"``, which is what this reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from directus import ForbiddenOrMissing, HubClient
from domain.ingest import KINDS, MAX_CADENCE_DAYS, feed_staleness
from governance import audit
from governance.errors import GovernanceError

FEED_FIELDS = [
    "id", "distributor", "kind", "data_through", "received_at", "stale_after_days",
    "cadence_days", "cadence_learned",
]  # fmt: skip
IMPORT_FIELDS = ["id", "distributor", "kind", "filename", "status", "created_at", "error"]


def feeds(admin: HubClient, today: dt.date, default_days: int) -> list[dict[str, Any]]:
    """Every feed, by distributor and kind, with its ``stale`` flag, the days after which
    it is stale, its cadence, where that comes from and the date it is expected again
    (:func:`domain.ingest.feed_staleness`)."""
    rows = admin.read_items("feeds", fields=FEED_FIELDS, sort=["distributor", "kind"], limit=-1)
    out = []
    for row in rows:
        found = feed_staleness(
            row["kind"],
            _day(row.get("data_through")),
            _day(row.get("received_at")),
            today,
            row.get("stale_after_days"),
            default_days,
            row.get("cadence_days"),
            row.get("cadence_learned"),
        )
        out.append(
            {**row, "stale": found.stale, "stale_after_days": found.after_days,
             "cadence": found.cadence_days, "cadence_source": found.cadence_source,
             "expected": found.expected}
        )  # fmt: skip
    return out


def set_cadence(
    admin: HubClient,
    feed_id: str,
    days: int | None,
    *,
    via: str = "portal",
    actor: str | None = None,
) -> None:
    """Set a feed's cadence (days between deliveries, up to a year), or with ``None``
    clear it so the one learned from its deliveries counts; audited."""
    if days is not None and not 1 <= days <= MAX_CADENCE_DAYS:
        raise GovernanceError(
            "no such cadence", {"cadence_days": [f"from 1 to {MAX_CADENCE_DAYS} days"]}
        )
    try:
        admin.read_item("feeds", feed_id, fields=["id"])
    except ForbiddenOrMissing as exc:
        raise GovernanceError(f"there is no feed {feed_id}") from exc
    admin.update_item("feeds", feed_id, {"cadence_days": days}, fields=["id"])
    audit.record(
        admin, "feed.cadence", "feeds", [feed_id], detail={"cadence_days": days}, via=via,
        actor=actor,
    )  # fmt: skip


def drop_folders(admin: HubClient) -> list[dict[str, Any]]:
    """Each distributor's drop folder (``folder``, relative to the drop directory, and its
    ``inboxes``), with its latest dropped file's import (``last``, or None) and how many
    of its dropped files failed (``failed``)."""
    distributors = admin.read_items(
        "organizations",
        filter={"kind": {"_eq": "distributor"}},
        fields=["id", "name", "status"],
        sort=["id"],
        limit=-1,
    )
    dropped = {"source": {"_eq": "drop"}}
    latest_ids = [
        g["max"]["id"]
        for g in admin.aggregate(
            "imports", {"max": ["id"]}, group_by=["distributor"], filter=dropped
        )
    ]
    latest = (
        {
            row["distributor"]: row
            for row in admin.read_items(
                "imports", filter={"id": {"_in": latest_ids}}, fields=IMPORT_FIELDS, limit=-1
            )
        }
        if latest_ids
        else {}
    )
    failed = {
        g["distributor"]: int(g["count"]["id"])
        for g in admin.aggregate(
            "imports",
            {"count": ["id"]},
            group_by=["distributor"],
            filter={"_and": [dropped, {"status": {"_eq": "failed"}}]},
        )
    }
    return [
        {
            **org,
            "folder": f"{org['id']}/",
            "inboxes": [f"{org['id']}/{kind}/" for kind in KINDS],
            "last": latest.get(org["id"]),
            "failed": failed.get(org["id"], 0),
        }
        for org in distributors
    ]


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None
