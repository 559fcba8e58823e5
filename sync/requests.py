"""What the operator sees of the scheduler, and asks of it.

At start the scheduler writes the jobs it declares to ``sync_jobs`` (a job no longer
declared is removed), so the operator's page and ``tandem sync jobs`` list them without
importing the scheduler. A "run now" (``sync_requests``, from the page or ``tandem sync
run``) is taken within seconds by :func:`take_requests`: the job's next run is moved to
now, so it still runs in the scheduler's own pool, never beside a run of itself. A
request for a job that is running waits until that run ends (APScheduler would skip a
run due while one is running, and the request would be lost). The hub's run record
cannot say so at every instant: a run has started in the pool a moment before its
record exists, and its record is closed a moment before the pool lets it go. A requested
run that APScheduler skips in such a moment is owed, and run as soon as the run in its
way ends (:class:`RunNow`).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, cast

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobSubmissionEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler

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


class RunNow:
    """Runs asked of the scheduler, kept until they start.

    ``ask`` moves a job's next run to now. If APScheduler skips that run because a run of
    the job is still in its pool (``max_instances=1``), the run is owed, and asked again
    as soon as the pool lets the other go. What is in the pool is counted, by run time,
    from the scheduler's own events: submitted (after APScheduler counts the instance),
    then one of executed, failed or missed per run time (after it lets it go). A skip is
    announced from the scheduler's thread, after the submission that caused it, so a
    skip that finds nothing in the pool came after the run in its way ended, and is asked
    again at once. Once the scheduler is stopped nothing is asked again.
    """

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._asked: set[str] = set()
        self._owed: set[str] = set()
        self._in_pool: Counter[str] = Counter()
        scheduler.add_listener(
            self._event,
            EVENT_JOB_SUBMITTED
            | EVENT_JOB_EXECUTED
            | EVENT_JOB_ERROR
            | EVENT_JOB_MISSED
            | EVENT_JOB_MAX_INSTANCES,
        )

    def ask(self, job_id: str) -> None:
        """Run the job now; raises JobLookupError if the scheduler has no such job."""
        with self._lock:
            self.scheduler.modify_job(job_id, next_run_time=clock.now())
            self._asked.add(job_id)

    def _event(self, event: JobEvent) -> None:
        job_id = event.job_id
        with self._lock:
            if event.code == EVENT_JOB_SUBMITTED:
                self._in_pool[job_id] += len(cast(JobSubmissionEvent, event).scheduled_run_times)
                self._asked.discard(job_id)  # the asked run (or one as good) has started
                return
            if event.code == EVENT_JOB_MAX_INSTANCES:
                if job_id not in self._asked:
                    return  # a scheduled run: the next one is as good
                if self._in_pool[job_id] > 0:
                    self._owed.add(job_id)
                    return
            else:  # executed, failed or missed: that run time is out of the pool
                self._in_pool[job_id] -= 1
                if self._in_pool[job_id] > 0 or job_id not in self._owed:
                    return
                self._owed.discard(job_id)
            if self.scheduler.state == STATE_STOPPED:
                return  # shutting down: its pool may hold the job store's lock
            log.info("run-now for %s was skipped while a run ended: asked again", job_id)
            try:
                self.scheduler.modify_job(job_id, next_run_time=clock.now())
            except JobLookupError:
                self._asked.discard(job_id)  # removed meanwhile: nothing to run


def take_requests(hub: HubClient, run_now: RunNow) -> int:
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
            run_now.ask(str(request["job_id"]))
        except JobLookupError:
            status = "unknown job"
        hub.update_item(REQUESTS, request["id"], {"status": status, "taken_at": iso(clock.now())})
        log.info("run-now request for %s: %s", request["job_id"], status)
    return len(pending)
