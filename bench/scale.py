"""How the hub on PostgreSQL grows: a daily POS file's ingest, the rollups' rebuild and a
supplier's dashboard, measured with 1M, 10M and 50M POS rows in the hub.

Everything is generated and measured in this one run, on a throwaway PostgreSQL cluster
(the server's default settings) and a hub on it, as ``bench/ingest.py --db pg`` makes
them: one distributor with 500 stores and 2 suppliers x 100 SKUs, so a day is 100,000
rows, its POS shared with the first supplier. For each size, in increasing order, the hub
is filled with history up to the size less a day (files of up to 50 days imported by
``python -m ingest``, as the lane imports any file), then:

- ``ingest_rows_per_s``: the next day's file (100,000 rows) imported end to end by
  ``python -m ingest`` in its own process (file to committed rows and rollups), rows over
  its wall seconds; the hub then holds the size;
- ``rollup_rebuild_s``: ``Lane.rebuild_rollups`` of the distributor, the weekly rollups
  recomputed from every daily row in one transaction (the repair; imports update only the
  weeks they touch), checked equal to the rows' sums;
- ``dashboard_p95_ms``: p95 latency of the supplier's sell-through summary through the
  portal API (gunicorn, 2 workers, a personal API token), as ``bench/ingest.py`` asks
  for it: ``group_by=week,sku,location`` over ~13 whole weeks, ranges and pages varied.

Correctness checks (exit status 1 if one fails): every import's rows are all new, the
table holds the size, the rebuilt rollups sum to the rows.

Run: ``.venv/bin/python bench/scale.py`` (``--sizes 1000000,2000000`` for a quick run;
sizes are whole days of 100,000 rows). 50M rows need about 15 GB of temporary disk.

Last line: ``scale sizes=<n,...> ingest_rows_per_s=<n,...> rollup_rebuild_s=<x,...>
dashboard_p95_ms=<n,...>``, one value per size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hubs import start_pg_hub

from directus.bulk import open_lane
from directus.process import stop_process
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token

_spec = importlib.util.spec_from_file_location(
    "bench_ingest", Path(__file__).with_name("ingest.py")
)
# bench/ingest.py's data, hub partners, imports and dashboard, under a name that does not
# shadow the ingest package.
assert _spec is not None
assert _spec.loader is not None
bench = sys.modules["bench_ingest"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CHUNK_DAYS = 50  # history is imported in files of up to 5M rows
REQUESTS = 40


def fill(
    shape: Any, db: str, distributor: int, days: range, folder: Path, problems: list[str]
) -> None:
    """Import these days of history, in files of up to ``CHUNK_DAYS`` days."""
    for first in range(days.start, days.stop, CHUNK_DAYS):
        part = range(first, min(first + CHUNK_DAYS, days.stop))
        path = folder / "history.csv"
        rows = shape.write_csv(path, part)
        run = bench.import_file(path, db, distributor, folder / "history.log")
        bench.say(f"   days {part.start}..{part.stop - 1}: {rows:,} rows in {run.wall_s:.1f}s "
                  f"({run.rate:,.0f} rows/s)")  # fmt: skip
        bench.expect(problems, run.result["new"] == rows, f"history import counts {run.result}")
        path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000000,10000000,50000000",
        help="POS rows in the hub at each measurement, comma-separated, whole days",
    )
    parser.add_argument("--requests", type=int, default=REQUESTS, help="summary requests")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if any(s < bench.ROWS_PER_DAY or s % bench.ROWS_PER_DAY for s in sizes):
        parser.error(f"sizes must be positive multiples of {bench.ROWS_PER_DAY:,} (a day)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cleanup: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        try:
            return run(sizes, args.requests, Path(tmp), cleanup)
        except bench.CheckFailed as exc:
            bench.say(f"FAILED: {exc}")
            return 1
        finally:
            for stop in reversed(cleanup):
                stop()


def run(sizes: list[int], requests_n: int, folder: Path, cleanup: list[Callable[[], None]]) -> int:
    say, Phase = bench.say, bench.Phase
    total_days = sizes[-1] // bench.ROWS_PER_DAY
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=today.weekday(), weeks=total_days // 7 + 1)
    shape = bench.Shape.make(start)
    problems: list[str] = []
    say(f"bench scale: {', '.join(f'{s:,}' for s in sizes)} POS rows, {bench.STORES} stores x "
        f"{bench.ITEMS} SKUs ({bench.ROWS_PER_DAY:,} rows a day) from {start}")  # fmt: skip
    with Phase("hub on a new PostgreSQL cluster, migrate, partners, portal"):
        pg = start_pg_hub(folder / "hub", cleanup)
        say(f"   PostgreSQL {pg.cluster.version}")
        world = bench.build_world(pg.admin, start)
        auth_token = secrets.token_urlsafe(32)
        set_service_token(pg.admin, PORTAL_AUTH_EMAIL, auth_token)
        portal = bench.start_portal(pg.hub.url, auth_token, folder)
        cleanup.append(lambda: stop_process(portal.process))
        dash = bench.Dashboard(portal, bench.personal_token(portal, world.email, world.password))
    db, d = pg.lane_url, world.distributor
    results: list[tuple[int, float, float, float]] = []
    loaded = 0
    for size in sizes:
        days = size // bench.ROWS_PER_DAY
        with Phase(f"{size:,}: history"):
            fill(shape, db, d, range(loaded, days - 1), folder, problems)
        with Phase(f"{size:,}: a daily file"):
            path = folder / "daily.csv"
            rows = shape.write_csv(path, range(days - 1, days))
            daily = bench.import_file(path, db, d, folder / "daily.log")
            say(f"   {rows:,} rows in {daily.wall_s:.2f}s: {daily.rate:,.0f} rows/s, "
                f"peak {daily.peak_mb:.0f} MB")  # fmt: skip
            bench.expect(problems, daily.result["new"] == rows, f"daily counts {daily.result}")
            held = bench.count_rows(db)
            bench.expect(problems, held == size, f"pos_sales holds {held:,}, not {size:,}")
            loaded = days
        with Phase(f"{size:,}: rollup rebuild"):
            started = time.perf_counter()
            with open_lane(db) as lane:
                written = lane.rebuild_rollups(d)
            rebuild_s = time.perf_counter() - started
            say(f"   {written:,} store-week rollups from {size:,} rows in {rebuild_s:.1f}s")
            sums = [
                bench.count_rows(db, table, "sum(units)")
                for table in ("pos_sales", "pos_week_location", "pos_week_distributor")
            ]
            bench.expect(problems, len(set(sums)) == 1, f"units in rows and rollups: {sums}")
        with Phase(f"{size:,}: dashboard"):
            ranges = bench.windows(shape, days)
            dash.negotiate(*ranges[0])
            latencies, _head = bench.measure_dashboard(dash, ranges, requests_n, 600)
            p95_ms = bench.p95(latencies) * 1000
            say(f"   {len(latencies)} requests: median "
                f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95_ms:.0f} ms")  # fmt: skip
        results.append((size, daily.rate, rebuild_s, p95_ms))
        say(f"size {size:,}: ingest {daily.rate:,.0f} rows/s, rollup rebuild {rebuild_s:.1f}s, "
            f"dashboard p95 {p95_ms:.0f} ms")  # fmt: skip
    say("phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in bench.TIMINGS.items()))
    if problems:
        say(f"{len(problems)} correctness check(s) FAILED:")
        for p in problems:
            say(f"  - {p}")
    say(
        f"scale sizes={','.join(str(r[0]) for r in results)} "
        f"ingest_rows_per_s={','.join(f'{r[1]:.0f}' for r in results)} "
        f"rollup_rebuild_s={','.join(f'{r[2]:.1f}' for r in results)} "
        f"dashboard_p95_ms={','.join(f'{r[3]:.0f}' for r in results)}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
