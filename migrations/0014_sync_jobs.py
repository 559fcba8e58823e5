"""The scheduler's jobs as the operator sees them, and "run now".

- ``sync_jobs``: each job the scheduler declares (``sync/jobs.py``), by its stable id,
  with its description and schedule, written by the scheduler when it starts (a job no
  longer declared is removed). The operator's page and ``tandem sync jobs`` read it: the
  portal never imports the scheduler.
- ``sync_requests``: "run this job now", from the operator's page or ``tandem sync run``.
  The one scheduler takes each request within seconds and runs the job on its own
  schedule's terms (one run of a job at a time), then marks the request taken.

Both are written by machines and the operator: no partner policy reads them.
"""

from __future__ import annotations

from directus import HubClient
from migrations.accounts import SYNC_SERVICE_ROLE
from migrations.schema import (
    ensure_collection,
    ensure_permission,
    ensure_policy,
    field,
    string_pk,
    uuid_pk,
)

NO_HISTORY = {"accountability": None}


def upgrade(hub: HubClient) -> None:
    ensure_collection(
        hub,
        "sync_jobs",
        [
            string_pk(length=64),
            field("description", "string"),
            field("schedule", "string"),
            field("declared_at", "timestamp"),
        ],
        meta={"note": "The jobs the scheduler declares, by stable id", **NO_HISTORY},
    )
    ensure_collection(
        hub,
        "sync_requests",
        [
            uuid_pk(),
            field("job_id", "string", schema={"is_nullable": False}),
            field("requested_at", "timestamp", schema={"is_nullable": False}),
            field("requested_by", "string"),
            field("status", "string", schema={"is_nullable": False, "default_value": "pending"}),
            field("taken_at", "timestamp"),
        ],
        meta={"note": "Run-now requests for the scheduler", **NO_HISTORY},
    )
    sync = ensure_policy(hub, SYNC_SERVICE_ROLE)
    for action in ("create", "read", "update", "delete"):
        ensure_permission(hub, sync, "sync_jobs", action)
    ensure_permission(hub, sync, "sync_requests", "read")
    ensure_permission(hub, sync, "sync_requests", "update", fields=["status", "taken_at"])
