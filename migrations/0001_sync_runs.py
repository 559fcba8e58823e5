"""Create sync_runs (one row per scheduled job run) and the least-privilege sync service account.

The sync service may create, read, update and delete run records, and nothing else yet.
Run records are written by machines, so the collection keeps no activity or revisions.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_EMAIL, SYNC_SERVICE_ROLE
from migrations.schema import (
    ensure_collection,
    ensure_permission,
    ensure_policy,
    ensure_role,
    ensure_service_user,
    field,
    uuid_pk,
)


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        "sync_runs",
        [
            uuid_pk(),
            field("job_id", "string", schema={"is_nullable": False}),
            field("status", "string", schema={"is_nullable": False}),
            field("started_at", "timestamp", schema={"is_nullable": False}),
            field("finished_at", "timestamp"),
            field("counts", "json"),
            field("error", "text"),
        ],
        meta={
            "note": "One row per scheduled job run: start, end, status, counts",
            "accountability": None,
        },
    )
    policy = ensure_policy(
        hub, SYNC_SERVICE_ROLE, description="Scheduled sync jobs: only what the jobs touch"
    )
    for action in ("create", "read", "update", "delete"):
        ensure_permission(hub, policy, "sync_runs", action)
    role = ensure_role(hub, SYNC_SERVICE_ROLE, policies=[policy])
    ensure_service_user(
        hub, SYNC_SERVICE_EMAIL, role, first_name="Tandem", last_name="Sync service"
    )
