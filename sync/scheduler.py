"""The one scheduler process: APScheduler 3.x, jobs from :mod:`sync.jobs`, runs recorded.

A lock file keeps a second scheduler from starting beside the first on one host; a Redis
lease (:mod:`sync.lease`) keeps one across hosts, a second standing by to take over. Never
start a scheduler inside web workers.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from prometheus_client import start_http_server

from directus import HubClient, HubError, Unavailable
from directus.files import LockHeld, claim_lock
from domain import clock
from sync import lease
from sync.config import SyncConfig
from sync.jobs import JobDefinition, job_definitions
from sync.requests import REQUEST_POLL_S, RunNow, declare, take_requests
from sync.runs import STOPPING, abandon_unfinished, run_job

log = logging.getLogger("sync")
T = TypeVar("T")


class SchedulerAlreadyRunning(Exception):
    """Another scheduler process holds the lock."""


@contextmanager
def single_instance(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` for as long as the block runs."""
    try:
        handle = claim_lock(lock_path, f"pid {os.getpid()}")
    except LockHeld as exc:
        raise SchedulerAlreadyRunning(
            f"a scheduler is already running (lock {lock_path}, held by {exc.holder}); "
            "run exactly one"
        ) from None
    with handle:
        yield


def add_jobs(
    scheduler: BaseScheduler, hub: HubClient, definitions: Sequence[JobDefinition]
) -> None:
    """Register each declared job under its stable id; a re-run replaces, never duplicates."""
    for definition in definitions:
        options: dict[str, Any] = dict(definition.trigger_args)
        if definition.run_at_start:
            options["next_run_time"] = clock.now()
        scheduler.add_job(
            run_job,
            trigger=definition.trigger,
            args=(hub, definition.id, definition.func, definition.settings),
            id=definition.id,
            name=definition.description,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
            **options,
        )


def build_scheduler(
    hub: HubClient, definitions: Sequence[JobDefinition], executor: ThreadPoolExecutor | None = None
) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=dt.UTC, executors={"default": executor or ThreadPoolExecutor(10)}
    )
    add_jobs(scheduler, hub, definitions)
    return scheduler


def _one_scheduler(config: SyncConfig) -> AbstractContextManager[object]:
    if config.lease_url:
        return lease.hold(config.lease_url, ttl_s=config.lease_s)
    return single_instance(Path(config.lock))


def when_the_hub_answers(call: Callable[[], T], patience_s: float = 300) -> T:
    """Make a start-up call, again and again while the hub cannot answer (it may be
    starting, or its database away): a scheduler that waits comes up by itself after."""
    deadline = time.monotonic() + patience_s
    delay = 1.0
    while True:
        try:
            return call()
        except HubError as exc:
            # A refusal (a wrong token, say) is not waited out: only an absent hub.
            absent = isinstance(exc, Unavailable) or (exc.status or 0) >= 500
            if not absent or time.monotonic() + delay > deadline:
                raise
            log.warning("the hub cannot answer yet (%s); trying again in %.0fs", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def serve(config: SyncConfig) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    with _one_scheduler(config):
        if config.metrics_port:
            start_http_server(config.metrics_port, config.metrics_addr)
        hub = HubClient(config.hub_url, token=config.hub_token)
        abandoned = when_the_hub_answers(lambda: abandon_unfinished(hub))
        if abandoned:
            log.warning("marked %d runs of a previous scheduler as abandoned", abandoned)
        definitions = job_definitions(
            config.run_retention_days,
            drop_dir=config.drop_dir,
            lane_url=config.lane_url,
            spool_dir=config.spool_dir,
            drop_poll_s=config.drop_poll_s,
            edi_poll_s=config.edi_poll_s,
            as2=config.as2,
            smtp=config.smtp,
        )
        executor = ThreadPoolExecutor(10)
        scheduler = build_scheduler(hub, definitions, executor)
        when_the_hub_answers(lambda: declare(hub, definitions))
        scheduler.add_job(
            take_requests,
            trigger="interval",
            seconds=REQUEST_POLL_S,
            args=(hub, RunNow(scheduler)),
            id="sync.requests",
            name="Take the operator's run-now requests",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )

        def _stop(signum: int, _frame: object) -> None:
            log.info("signal %d: stopping the scheduler after running jobs finish", signum)
            STOPPING.set()  # long jobs end at their next safe point
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        log.info(
            "scheduler started with jobs: %s", ", ".join(job.id for job in scheduler.get_jobs())
        )
        scheduler.start()
        # shutdown(wait=False) left running jobs to end at their next safe point: wait for
        # them before the lock or lease goes, or a standby would run them again beside.
        executor.shutdown(wait=True)
        log.info("scheduler stopped")
