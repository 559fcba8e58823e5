"""The scheduler: jobs as data with stable ids, runs recorded in the hub, exactly one process."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler

from directus import AuthFailed, HubClient, HubError, Unavailable
from domain import clock
from governance import GovernanceError, scheduler
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync import scheduler as sync_scheduler
from sync.jobs import job_definitions, prune_sync_runs
from sync.requests import RunNow, declare, take_requests
from sync.runs import RUNS, JobContext, abandon_unfinished, iso, run_job
from sync.scheduler import add_jobs, build_scheduler
from tests.factories import csrf_token, make_user, sign_in
from tests.helpers import RunningHub


# The scheduler process runs every job at start over all the hub holds, and the run-now
# tests count the hub's pending requests: on the session's hub, other modules' rows (a
# year of orders to score, run records to prune, requests a grant left) made both slow
# and wrong. So this module has a hub of its own.
@pytest.fixture(scope="module")
def hub(start_migrated_hub) -> Iterator[RunningHub]:
    running = start_migrated_hub()
    yield running
    running.hub.stop()


@pytest.fixture(scope="module")
def admin(hub: RunningHub) -> HubClient:
    return hub.admin()


@pytest.fixture(scope="module")
def sync_token(admin: HubClient) -> str:
    token = secrets.token_urlsafe(32)
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    return token


def test_jobs_are_declared_with_unique_stable_ids(sync_hub):
    definitions = job_definitions(run_retention_days=30)
    ids = [d.id for d in definitions]
    assert len(ids) == len(set(ids))
    assert sorted(j.id for j in build_scheduler(sync_hub, definitions).get_jobs()) == sorted(ids)
    # In a running scheduler, declaring them again replaces them, never duplicates.
    running = BackgroundScheduler(timezone=dt.UTC)
    running.start(paused=True)
    try:
        add_jobs(running, sync_hub, definitions)
        add_jobs(running, sync_hub, definitions)
        assert sorted(job.id for job in running.get_jobs()) == sorted(ids)
    finally:
        running.shutdown(wait=False)


def _run(sync_hub, run_id_job: str) -> dict:
    rows = sync_hub.read_items(RUNS, filter={"job_id": {"_eq": run_id_job}}, limit=-1)
    assert len(rows) == 1
    return rows[0]


def test_a_run_is_recorded_with_start_end_status_and_counts(sync_hub):
    job_id = f"test.ok.{uuid.uuid4().hex[:8]}"

    def job(ctx: JobContext) -> None:
        ctx.counts["moved"] += 3

    assert run_job(sync_hub, job_id, job, {}) == "succeeded"
    row = _run(sync_hub, job_id)
    assert row["status"] == "succeeded"
    assert row["counts"] == {"moved": 3}
    assert row["started_at"] <= row["finished_at"]
    assert row["error"] is None


def test_item_failures_are_counted_and_the_run_goes_on(sync_hub):
    job_id = f"test.partial.{uuid.uuid4().hex[:8]}"

    def job(ctx: JobContext) -> None:
        for item in ("a", "b", "c"):
            if item == "b":
                ctx.item_failed(item, ValueError("bad row"))
                continue
            ctx.counts["moved"] += 1

    assert run_job(sync_hub, job_id, job, {}) == "partial"
    assert _run(sync_hub, job_id)["counts"] == {"moved": 2, "failed": 1}


def test_a_job_that_raises_is_recorded_as_failed_without_raising(sync_hub):
    job_id = f"test.fail.{uuid.uuid4().hex[:8]}"

    def job(ctx: JobContext) -> None:
        raise RuntimeError("partner endpoint refused")

    assert run_job(sync_hub, job_id, job, {}) == "failed"
    row = _run(sync_hub, job_id)
    assert row["error"] == "RuntimeError: partner endpoint refused"
    assert row["finished_at"] is not None


def test_prune_deletes_only_finished_runs_older_than_retention(sync_hub):
    old = iso(clock.now() - dt.timedelta(days=40))
    recent = iso(clock.now() - dt.timedelta(days=2))
    tag = uuid.uuid4().hex[:8]
    rows = [
        {
            "id": str(uuid.uuid4()),
            "job_id": f"old.{tag}",
            "status": "succeeded",
            "started_at": old,
            "finished_at": old,
        },
        {
            "id": str(uuid.uuid4()),
            "job_id": f"recent.{tag}",
            "status": "succeeded",
            "started_at": recent,
            "finished_at": recent,
        },
    ]
    sync_hub.create_items(RUNS, rows)
    ctx = JobContext(
        hub=sync_hub, job_id="t", run_id=str(uuid.uuid4()), settings={"retention_days": 30}
    )
    prune_sync_runs(ctx)
    assert ctx.counts["deleted"] >= 1
    left = {r["job_id"] for r in sync_hub.read_items(RUNS, filter={"job_id": {"_ends_with": tag}})}
    assert left == {f"recent.{tag}"}


def test_runs_left_running_by_a_dead_scheduler_are_marked_abandoned(sync_hub):
    run_id = str(uuid.uuid4())
    sync_hub.create_item(
        RUNS,
        {
            "id": run_id,
            "job_id": "test.crashed",
            "status": "running",
            "started_at": iso(clock.now()),
        },
    )
    assert abandon_unfinished(sync_hub) >= 1
    assert sync_hub.read_item(RUNS, run_id)["status"] == "abandoned"


def _scheduler(hub_url: str, token: str, lock) -> subprocess.Popen:
    env = dict(
        os.environ, TANDEM_HUB_URL=hub_url, TANDEM_SYNC_TOKEN=token, TANDEM_SCHEDULER_LOCK=str(lock)
    )
    return subprocess.Popen(
        [sys.executable, "-m", "sync"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_scheduler_process_records_runs_allows_only_one_and_stops_on_sigterm(
    hub, sync_hub, sync_token, tmp_path
):
    lock = tmp_path / "scheduler.lock"
    before = sync_hub.count_items(RUNS, filter={"job_id": {"_eq": "sync_runs.prune"}})
    first = _scheduler(hub.url, sync_token, lock)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = sync_hub.count_items(
                RUNS, filter={"job_id": {"_eq": "sync_runs.prune"}, "status": {"_eq": "succeeded"}}
            )
            if done > before:
                break
            time.sleep(0.2)
        else:
            first.send_signal(signal.SIGTERM)
            out, _ = first.communicate(timeout=60)
            pytest.fail(f"the scheduler recorded no run of sync_runs.prune; its log:\n{out}")

        second = _scheduler(hub.url, sync_token, lock)
        out, _ = second.communicate(timeout=30)
        assert second.returncode == 2
        assert "already running" in out
    finally:
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=30)
    assert first.returncode == 0, out
    assert "scheduler stopped" in out


def test_the_scheduler_refuses_to_start_without_its_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env.update(TANDEM_HUB_URL="http://127.0.0.1:1", TANDEM_SCHEDULER_LOCK=str(tmp_path / "l"))
    result = subprocess.run(
        [sys.executable, "-m", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "TANDEM_SYNC_TOKEN is not set" in result.stderr


def test_the_jobs_are_published_and_a_run_now_request_moves_a_jobs_next_run(sync_hub, admin):
    definitions = job_definitions(run_retention_days=30)
    # Other tests of this hub may leave requests pending (tandem sync run): counted first.
    pending = {"status": {"_eq": "pending"}}
    before = len(admin.read_items("sync_requests", filter=pending, fields=["id"], limit=-1))
    declare(sync_hub, definitions[:1])
    declare(sync_hub, definitions)  # again, all of them: replaced, none twice
    listed = {job["id"]: job for job in scheduler.jobs(admin)}
    assert sorted(listed) == sorted(d.id for d in definitions)
    assert listed["sync_runs.prune"]["schedule"] == "every 6 h"
    assert listed["edi.exchange"]["schedule"] == "every 60 s"
    with pytest.raises(GovernanceError, match="no such job"):
        scheduler.request_run(admin, "no.such.job", via="test")
    scheduler.request_run(admin, "sync_runs.prune", via="test")
    assert {j["id"]: j["requested"] for j in scheduler.jobs(admin)}["sync_runs.prune"] is True
    admin.create_item(
        "sync_requests",
        {"job_id": "a.job.since.removed", "requested_at": iso(clock.now()), "status": "pending"},
    )
    running = BackgroundScheduler(timezone=dt.UTC)
    running.start(paused=True)
    try:
        add_jobs(running, sync_hub, definitions)
        run_now = RunNow(running)
        assert take_requests(sync_hub, run_now) == before + 2
        due = running.get_job("sync_runs.prune").next_run_time
        assert due <= clock.now() + dt.timedelta(seconds=1)
        assert take_requests(sync_hub, run_now) == 0  # each request is taken once
    finally:
        running.shutdown(wait=False)
    taken = admin.read_items("sync_requests", fields=["job_id", "status"], limit=-1)
    assert {(r["job_id"], r["status"]) for r in taken} >= {
        ("sync_runs.prune", "taken"),
        ("a.job.since.removed", "unknown job"),
    }


def test_a_run_now_request_for_a_running_job_waits_until_the_run_ends(sync_hub, admin):
    """APScheduler skips a run due while one runs: taken then, the request would be lost."""
    definitions = job_definitions(run_retention_days=30)
    declare(sync_hub, definitions)
    run_id = str(uuid.uuid4())
    sync_hub.create_item(RUNS, {"id": run_id, "job_id": "imports.reap", "status": "running",
                                "started_at": iso(clock.now()), "counts": {}})  # fmt: skip
    asked = scheduler.request_run(admin, "imports.reap", via="test")
    running = BackgroundScheduler(timezone=dt.UTC)
    running.start(paused=True)
    try:
        add_jobs(running, sync_hub, definitions)
        run_now = RunNow(running)
        take_requests(sync_hub, run_now)
        assert admin.read_item("sync_requests", asked["id"])["status"] == "pending"
        sync_hub.update_item(RUNS, run_id, {"status": "succeeded",
                                            "finished_at": iso(clock.now())})  # fmt: skip
        take_requests(sync_hub, run_now)
        assert admin.read_item("sync_requests", asked["id"])["status"] == "taken"
    finally:
        running.shutdown(wait=False)
        sync_hub.update_item(RUNS, run_id, {"status": "succeeded"})


def test_a_run_now_skipped_because_a_run_was_still_in_the_pool_runs_when_it_leaves():
    """The hub's run record is closed a moment before APScheduler lets the run go: a run
    asked in that moment is skipped (max_instances=1), and is owed, not lost; also after
    a run APScheduler gave up on as missed (which is never executed, nor fails)."""
    started, release = threading.Semaphore(0), threading.Event()
    runs: list[int] = []

    def job() -> None:
        runs.append(len(runs) + 1)
        started.release()
        if len(runs) == 1:
            release.wait(30)  # the first run holds its place in the pool

    skipped = threading.Event()
    running = BackgroundScheduler(timezone=dt.UTC)
    run_now = RunNow(running)
    # After RunNow's own: the skip is owed by the time the test lets the first run go.
    running.add_listener(lambda _event: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    missed = threading.Event()
    running.add_listener(lambda _event: missed.set(), EVENT_JOB_MISSED)
    running.add_job(
        job, "interval", hours=6, id="slow", max_instances=1, coalesce=True, misfire_grace_time=30
    )
    running.start()
    try:
        running.modify_job("slow", next_run_time=clock.now() - dt.timedelta(minutes=5))
        assert missed.wait(10)  # submitted, then given up on, never run
        assert runs == []
        run_now.ask("slow")
        assert started.acquire(timeout=10)
        run_now.ask("slow")  # due while the first run is still in the pool: skipped
        assert skipped.wait(10)
        assert runs == [1]
        release.set()
        assert started.acquire(timeout=10), "the skipped run-now was lost"
        assert runs == [1, 2]
        assert not started.acquire(timeout=1)  # owed once, run once
    finally:
        release.set()
        running.shutdown(wait=False)


def test_the_operator_page_lists_jobs_and_runs_and_asks_for_a_run(portal, admin, sync_hub):
    declare(sync_hub, job_definitions(run_retention_days=30))
    run_job(sync_hub, "imports.reap", lambda ctx: ctx.counts.update(checked=3), {})
    operator = sign_in(portal, make_user(admin, "operator_admin"))
    page = operator.get("/operator/jobs").get_data(as_text=True)
    assert "edi.exchange" in page
    assert "checked 3" in page
    token = csrf_token(operator, "/operator/jobs")
    answer = operator.post("/operator/jobs/edi.exchange/run", data={"csrf_token": token})
    assert answer.status_code == 302
    assert "asked to run now" in operator.get("/operator/jobs").get_data(as_text=True)
    supplier = sign_in(portal, make_user(admin, "supplier_user"))
    assert supplier.get("/operator/jobs").status_code == 403
    token = csrf_token(supplier, "/edi")
    refused = supplier.post("/operator/jobs/edi.exchange/run", data={"csrf_token": token})
    assert refused.status_code == 403


def test_at_start_the_scheduler_waits_out_an_absent_hub_but_not_a_refusal(monkeypatch):
    monkeypatch.setattr(sync_scheduler.time, "sleep", lambda _s: None)
    answers = [Unavailable("connection refused"), HubError("db down", status=500), "ready"]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert sync_scheduler.when_the_hub_answers(call) == "ready"
    refused = AuthFailed("Invalid user credentials.", status=401)

    def refuse() -> str:
        raise refused

    with pytest.raises(AuthFailed):
        sync_scheduler.when_the_hub_answers(refuse)
