"""The operator's view of the scheduler: its declared jobs with their last run, the run
history with counts, and "run now" (a request the one scheduler takes within seconds;
see :mod:`sync.requests`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from directus import HubClient, HubError
from domain import clock
from governance import audit
from governance.errors import GovernanceError

RUN_FIELDS = ["id", "job_id", "status", "started_at", "finished_at", "counts", "error"]


#: Runs that did not go through: ``failed`` (the job raised) and ``partial`` (some items
#: failed while the run went on; see :func:`sync.runs.run_job`).
FAILURES = ("failed", "partial")
#: How far back the jobs page counts failures.
FAILURE_WINDOW = dt.timedelta(days=7)


def jobs(admin: HubClient) -> list[dict[str, Any]]:
    """The declared jobs by id, each with its last run (None if it never ran), its pending
    run-now request, if any, its latest failures (``failures``, up to 3, newest first)
    and how many of its runs failed in the last :data:`FAILURE_WINDOW`
    (``recent_failures``)."""
    declared = admin.read_items(
        "sync_jobs", fields=["id", "description", "schedule", "declared_at"], sort=["id"], limit=-1
    )
    pending = {
        r["job_id"]
        for r in admin.read_items(
            "sync_requests", filter={"status": {"_eq": "pending"}}, fields=["job_id"], limit=-1
        )
    }
    recent = _recent_failures(admin)
    for job in declared:
        last = admin.read_items(
            "sync_runs",
            filter={"job_id": {"_eq": job["id"]}},
            fields=RUN_FIELDS,
            sort=["-started_at"],
            limit=1,
        )
        job["last_run"] = last[0] if last else None
        job["requested"] = job["id"] in pending
        job["failures"] = admin.read_items(
            "sync_runs",
            filter={"job_id": {"_eq": job["id"]}, "status": {"_in": list(FAILURES)}},
            fields=RUN_FIELDS,
            sort=["-started_at"],
            limit=3,
        )
        job["recent_failures"] = recent.get(job["id"], 0)
    return declared


def _recent_failures(admin: HubClient) -> dict[str, int]:
    since = (clock.now() - FAILURE_WINDOW).isoformat(timespec="milliseconds")
    groups = admin.aggregate(
        "sync_runs",
        {"count": ["id"]},
        group_by=["job_id"],
        filter={"status": {"_in": list(FAILURES)}, "started_at": {"_gte": since}},
    )
    return {g["job_id"]: int(g["count"]["id"]) for g in groups}


def runs(admin: HubClient, job_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The latest runs, newest first, with their counts."""
    where = {"job_id": {"_eq": job_id}} if job_id else {}
    return admin.read_items(
        "sync_runs", filter=where, fields=RUN_FIELDS, sort=["-started_at"], limit=limit
    )


log = logging.getLogger(__name__)

#: The scheduler's scorecard job, which a change in sharing asks to run at once.
SCORECARDS_JOB = "scorecards.compute"


def request_run(
    admin: HubClient, job_id: str, *, via: str = "cli", actor: str | None = None
) -> dict[str, Any]:
    """Ask the scheduler to run a declared job now. Refused for a job it does not declare
    (or while it has never started: it declares its jobs when it starts)."""
    declared = {j["id"] for j in admin.read_items("sync_jobs", fields=["id"], limit=-1)}
    if job_id not in declared:
        known = ", ".join(sorted(declared)) or "none yet: start the scheduler"
        raise GovernanceError(f"cannot run {job_id}", {"job": [f"no such job; the jobs: {known}"]})
    row = admin.create_item(
        "sync_requests",
        {
            "job_id": job_id,
            "requested_at": clock.now().isoformat(timespec="milliseconds"),
            "requested_by": actor or via,
            "status": "pending",
        },
    )
    audit.record(admin, "sync.run_now", "sync_requests", [row["id"]],
                 detail={"job": job_id}, via=via, actor=actor)  # fmt: skip
    return row


def rescore(admin: HubClient, *, via: str = "cli", actor: str | None = None) -> bool:
    """Ask a running scheduler to recompute the scorecards now (a grant or revocation
    changes the POS and stock they may show), unless a run is asked for already; with no
    scheduler yet there is nothing stored to correct. Best effort: the change it follows
    is made, and the job's next run (within 15 minutes) corrects the cards anyway.
    Returns whether a run was asked for."""
    job = {"job_id": {"_eq": SCORECARDS_JOB}}
    try:
        declared = admin.read_items(
            "sync_jobs", filter={"id": {"_eq": SCORECARDS_JOB}}, fields=["id"], limit=1
        )
        pending = admin.read_items(
            "sync_requests",
            filter={"_and": [job, {"status": {"_eq": "pending"}}]},
            fields=["id"],
            limit=1,
        )
        if not declared or pending:
            return False
        request_run(admin, SCORECARDS_JOB, via=via, actor=actor)
    except HubError as exc:
        log.warning("could not ask for a scorecard run: %s", exc)
        return False
    return True
