"""What the operator sees of the scheduler, and asks of it.

At start the scheduler writes the jobs it declares to ``sync_jobs`` (a job no longer
declared is removed), so the operator's page and ``tandem sync jobs`` list them without
importing the scheduler. A "run now" (``sync_requests``, from the page or ``tandem sync
run``) is taken within seconds by :func:`take_requests`: the job's next run is moved to
now, so it still runs in the scheduler's own pool, never beside a run of itself. A
request for a job that is running waits until that run ends (APScheduler would skip a
run due while one is running, and the request would be lost).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler

from directus import HubClient
from domain import clock
from sync.jobs import JobDefinition
from sync.runs import RUNS, iso

JOBS = "sync_jobs"
REQUESTS = "sync_requests"
#: How often the scheduler looks for run-now requests.
REQUEST_POLL_S = 5
UNITS = (("days", "d"), ("hours", "h"), ("minutes", "min"), ("seconds", "s"))
log = logging.getLogger("sync")


def schedule(trigger: str, args: Mapping[str, Any]) -> str:
    """A job's schedule in words: ``every 60 s``, ``every 6 h``, or the cron fields."""
    if trigger == "interval":
        return "every " + " ".join(f"{args[name]} {unit}" for name, unit in UNITS if name in args)
    return f"{trigger} " + " ".join(f"{k}={v}" for k, v in sorted(args.items()))


def declare(hub: HubClient, definitions: Sequence[JobDefinition]) -> None:
    """Write the declared jobs to ``sync_jobs``; remove the ones no longer declared."""
    now = iso(clock.now())
    have = {row["id"] for row in hub.read_items(JOBS, fields=["id"], limit=-1)}
    for job in definitions:
        row = {
            "description": job.description,
            "schedule": schedule(job.trigger, job.trigger_args),
            "declared_at": now,
        }
        if job.id in have:
            hub.update_item(JOBS, job.id, row)
        else:
            hub.create_item(JOBS, {"id": job.id, **row})
    gone = sorted(have - {job.id for job in definitions})
    if gone:
        hub.delete_items(JOBS, gone)


def take_requests(hub: HubClient, scheduler: BaseScheduler) -> int:
    """Each pending run-now request: its job's next run moved to now (``taken``), or the
    request refused when no such job is declared (``unknown job``); a request for a job
    running now stays pending until the run ends. Returns how many were answered."""
    pending = hub.read_items(
        REQUESTS,
        filter={"status": {"_eq": "pending"}},
        fields=["id", "job_id"],
        sort=["requested_at"],
        limit=-1,
    )
    running = {
        row["job_id"]
        for row in hub.read_items(
            RUNS,
            filter={"status": {"_eq": "running"},
                    "job_id": {"_in": sorted({str(r["job_id"]) for r in pending})}},
            fields=["job_id"],
            limit=-1,
        )
    } if pending else set()  # fmt: skip
    pending = [request for request in pending if request["job_id"] not in running]
    for request in pending:
        status = "taken"
        try:
            scheduler.modify_job(str(request["job_id"]), next_run_time=clock.now())
        except JobLookupError:
            status = "unknown job"
        hub.update_item(REQUESTS, request["id"], {"status": status, "taken_at": iso(clock.now())})
        log.info("run-now request for %s: %s", request["job_id"], status)
    return len(pending)
