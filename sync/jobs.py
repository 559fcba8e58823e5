"""The scheduled jobs, declared as data with stable ids (Redash's periodic_job_definitions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain import clock
from governance.scheduler import SCORECARDS_JOB
from sync.alerts import ALERTS_JOB, send_alerts
from sync.drops import poll_drop_folders, reap_imports
from sync.exceptions import EXCEPTIONS_JOB, evaluate_exceptions
from sync.exchange import exchange
from sync.runs import RUNS, JobContext, JobFunc, iso
from sync.scorecards import DEFAULT_QUARTERS, compute_scorecards


@dataclass(frozen=True)
class JobDefinition:
    """One periodic job. ``id`` never changes once released: runs are recorded under it."""

    id: str
    func: JobFunc
    trigger: str  # "interval" or "cron", as APScheduler names them
    trigger_args: Mapping[str, Any]
    description: str
    run_at_start: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict)


def prune_sync_runs(ctx: JobContext) -> None:
    """Delete finished run records older than the retention period."""
    days = int(ctx.settings["retention_days"])
    cutoff = iso(clock.now() - dt.timedelta(days=days))
    old = ctx.hub.read_items(
        RUNS,
        filter={"_and": [{"finished_at": {"_lt": cutoff}}, {"status": {"_neq": "running"}}]},
        fields=["id"],
        limit=-1,
    )
    keys = [row["id"] for row in old]
    for start in range(0, len(keys), 500):
        ctx.hub.delete_items(RUNS, keys[start : start + 500])
    ctx.counts["deleted"] += len(keys)


def job_definitions(
    run_retention_days: int,
    *,
    drop_dir: Path | None = None,
    lane_url: str | None = None,
    spool_dir: Path | None = None,
    drop_poll_s: int = 60,
    edi_poll_s: int = 60,
    as2: Mapping[str, str] | None = None,
    smtp: Mapping[str, str] | None = None,
) -> list[JobDefinition]:
    drops = (
        [
            JobDefinition(
                id="drops.poll",
                func=poll_drop_folders,
                trigger="interval",
                trigger_args={"seconds": drop_poll_s},
                description="Import the files distributors left in their drop folders",
                run_at_start=True,
                settings={
                    "drop_dir": str(drop_dir),
                    "lane_url": lane_url,
                    "spool_dir": str(spool_dir),
                },
            )
        ]
        if drop_dir is not None and lane_url and spool_dir is not None
        else []
    )
    alerts = (
        [
            JobDefinition(
                id=ALERTS_JOB,
                func=send_alerts,
                trigger="interval",
                trigger_args={"minutes": 1},
                description="E-mail notifications to the people who asked for them",
                settings=dict(smtp),
            )
        ]
        if smtp
        else []
    )
    return [
        *drops,
        *alerts,
        JobDefinition(
            id="edi.exchange",
            func=exchange,
            trigger="interval",
            trigger_args={"seconds": edi_poll_s},
            description="Exchange EDI orders, answers, ship notices and invoices with partners",
            run_at_start=True,
            settings={
                "spool_dir": str(spool_dir) if spool_dir else None,
                # Reports arriving by EDI are imported from the drop folders.
                "drop_dir": str(drop_dir) if drop_dir and lane_url and spool_dir else None,
                "settle_s": 5,
                **(as2 or {}),
            },
        ),
        JobDefinition(
            id="imports.reap",
            func=reap_imports,
            trigger="interval",
            trigger_args={"minutes": 30},
            description="Mark imports whose process died without a result as failed",
            settings={"after_hours": 6},
        ),
        JobDefinition(
            id=SCORECARDS_JOB,
            func=compute_scorecards,
            trigger="interval",
            trigger_args={"minutes": 15},
            description="Compute every pair's scorecards; store those whose data changed",
            run_at_start=True,
            settings={"quarters": DEFAULT_QUARTERS},
        ),
        JobDefinition(
            id=EXCEPTIONS_JOB,
            func=evaluate_exceptions,
            trigger="interval",
            trigger_args={"minutes": 15},
            description="Evaluate every pair's exception criteria on the data that changed",
            run_at_start=True,
        ),
        JobDefinition(
            id="sync_runs.prune",
            func=prune_sync_runs,
            trigger="interval",
            trigger_args={"hours": 6},
            description="Delete sync run records older than the retention period",
            run_at_start=True,
            settings={"retention_days": run_retention_days},
        ),
    ]
