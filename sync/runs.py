"""Each job run is recorded in the hub's ``sync_runs``: start, end, status and counts."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import prometheus_client as metrics

from directus import HubClient
from directus.logs import REQUEST_ID
from domain import clock
from domain.edi_profiles import DOCUMENTS

#: The document codes a run's counts may name in a metric label (X12 and EDIFACT), and
#: the functional acknowledgements.
DOCUMENT_CODES = {code for codes in DOCUMENTS.values() for code in codes} | {"997", "CONTRL"}

RUNS = "sync_runs"
log = logging.getLogger("sync")

#: Runs by job and status, how long each took, and what each counted (rows imported,
#: EDI messages sent and received, exceptions opened…), by job and item.
RUN_TOTAL = metrics.Counter("tandem_scheduler_runs_total", "Job runs", ["job", "status"])
RUN_SECONDS = metrics.Histogram(
    "tandem_scheduler_run_seconds",
    "Job run time",
    ["job"],
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)
RUN_ITEMS = metrics.Counter(
    "tandem_scheduler_items_total", "What job runs counted, by job and item", ["job", "item"]
)

#: Set when the scheduler is asked to stop: a long job checks it between items and ends
#: early (its work must be safe to stop there), so the process stops in seconds.
STOPPING = threading.Event()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


class _Tagged(logging.LoggerAdapter):
    """Prefixes every line with the job id and run id."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"[{extra['job_id']} {extra['run_id'][:8]}] {msg}", kwargs


@dataclass
class JobContext:
    """What a job function gets: the hub, its settings, a tagged logger and counters."""

    hub: HubClient
    job_id: str
    run_id: str
    settings: Mapping[str, Any]
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def log(self) -> logging.LoggerAdapter:
        return _Tagged(log, {"job_id": self.job_id, "run_id": self.run_id})

    @property
    def stopping(self) -> bool:
        """Whether the scheduler is stopping: a long job ends at its next safe point."""
        return STOPPING.is_set()

    def item_failed(self, item: str, error: BaseException) -> None:
        """Log and count one item's failure; the run goes on."""
        self.counts["failed"] += 1
        self.log.warning("item %s failed: %s", item, error)


JobFunc = Callable[[JobContext], None]


def run_job(hub: HubClient, job_id: str, func: JobFunc, settings: Mapping[str, Any]) -> str:
    """Run one job and record it. Returns the run's status.

    ``partial`` means some items failed while the run went on; ``failed`` that the job
    itself raised. A job's exception is logged and recorded, never propagated: one bad
    run must not stop the scheduler.
    """
    run_id = str(uuid.uuid4())
    context = JobContext(hub=hub, job_id=job_id, run_id=run_id, settings=settings)
    # The run's hub calls and log lines carry its id.
    token = REQUEST_ID.set(run_id)
    started = time.perf_counter()
    status = "failed"  # unless it gets as far as recording another (the hub may be down)
    try:
        status = _run(context, func)
        return status
    finally:
        REQUEST_ID.reset(token)
        RUN_TOTAL.labels(job_id, status).inc()
        RUN_SECONDS.labels(job_id).observe(time.perf_counter() - started)
        for item, count in context.counts.items():
            if isinstance(count, int) and count > 0:
                RUN_ITEMS.labels(job_id, item_label(item)).inc(count)


def item_label(item: str) -> str:
    """A run's count as a metric label: a document's code only when it is one Tandem
    knows (partners choose the codes their interchanges carry), else ``<what>_other``."""
    what, _, code = item.rpartition("_")
    if not what or code.islower() or code in DOCUMENT_CODES:
        return item
    return f"{what}_other"


def _run(context: JobContext, func: JobFunc) -> str:
    hub, run_id = context.hub, context.run_id
    hub.create_item(
        RUNS,
        {
            "id": run_id,
            "job_id": context.job_id,
            "status": "running",
            "started_at": iso(clock.now()),
            "counts": {},
        },
    )
    context.log.info("started")
    error: str | None = None
    try:
        func(context)
        status = "partial" if context.counts.get("failed") else "succeeded"
    except Exception as exc:
        status = "failed"
        error = f"{exc.__class__.__name__}: {exc}"
        context.log.exception("failed")
    hub.update_item(
        RUNS,
        run_id,
        {
            "status": status,
            "finished_at": iso(clock.now()),
            "counts": dict(context.counts),
            "error": error,
        },
    )
    context.log.info("%s %s", status, dict(context.counts))
    return status


def abandon_unfinished(hub: HubClient) -> int:
    """Mark runs left ``running`` by a scheduler that died as ``abandoned``.

    Called at scheduler start: there is only ever one scheduler, so any run still
    marked running belongs to a process that is gone.
    """
    stale = hub.read_items(RUNS, filter={"status": {"_eq": "running"}}, fields=["id"], limit=-1)
    for row in stale:
        hub.update_item(
            RUNS,
            row["id"],
            {
                "status": "abandoned",
                "finished_at": iso(clock.now()),
                "error": "the scheduler stopped during this run",
            },
        )
    return len(stale)
