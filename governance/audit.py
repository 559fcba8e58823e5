"""The audit log: who did what to which records, and when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
