"""How long a distributor's suggested orders take, on a year of the demo's data for every
pair.

Everything is generated and measured in this one run, against a throwaway hub (a copy of
the cached template, migrated, on a free port, SQLite):

1. **Data.** The demo, seeded as ``make run`` seeds it, with a year of POS, inventory
   and weekly orders; one run of the scorecard job, so each pair's lead time is
   measured (as the scheduler would have it).
2. **The suggestions** (``suggestions_s``): every distributor's suggested-orders page
   for every one of its suppliers, asked of the portal in process, signed in (every
   read through the hub with the distributor's rules), best of 3 each; the sum over all
   pairs, every location x SKU of the demo. Baseline, in the same run: the same
   distributor's inventory page (its latest stock snapshot, read the same way).

3. **The forecast import** (``forecast_import_rows_per_s``): for each distributor a CSV
   of a year of weekly forecasts for every one of its locations x its suppliers' SKUs,
   from the first week no SKU's lead time freezes, imported by ``python -m ingest``
   (the path every upload takes); rows over the imports' own seconds. Baseline, in the
   same run: a POS CSV of the same locations, SKUs and number of rows (days before the
   demo's year), imported the same way.

Targets: ``exceptions_job_s`` <= 30; ``suggestions_s`` <= 10;
``forecast_import_rows_per_s`` >= 100,000, like POS.
4. **The exceptions job** (``exceptions_job_s``): the issue's five example criteria
   agreed by every pair, evaluated by the ``exceptions.evaluate`` job as the sync
   service; then again with nothing changed (the incremental run). Baseline, in the
   same run: the scorecard job over the same data.

Run: ``.venv/bin/python bench/planning.py`` (about 6 minutes, most of it the seed;
``--days 120`` for a quick run).

Last line: ``planning exceptions_job_s=<n> suggestions_s=<n> forecast_import_rows_per_s=<n>``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hubs import HUB_TIMEOUT, start_hub  # noqa: E402
from reviews import best_of, signed_in  # noqa: E402

from demo.generate import ACCOUNTS, Spec  # noqa: E402
from demo.seed import seed  # noqa: E402
from directus import HubClient  # noqa: E402
from domain import clock  # noqa: E402
from domain.forecasts import first_open_week  # noqa: E402
from governance.exceptions import set_criteria  # noqa: E402
from migrations.accounts import (  # noqa: E402
    PORTAL_AUTH_EMAIL,
    SYNC_SERVICE_EMAIL,
    set_service_token,
)
from portal import Config, create_app  # noqa: E402
from sync.exceptions import EXCEPTIONS_JOB, evaluate_exceptions  # noqa: E402
from sync.runs import JobContext  # noqa: E402
from sync.scorecards import compute_scorecards  # noqa: E402

#: The issue's examples, agreed by every pair.
CRITERIA = [
    {"name": "Forecast vs commitment", "metric": "forecast_commitment_gap_pct",
     "comparison": "above", "threshold": "20", "owner_side": "supplier", "response_hours": 48},
    {"name": "In-stock", "metric": "in_stock_pct", "comparison": "below", "threshold": "90",
     "owner_side": "distributor", "response_hours": 48},
    {"name": "Weeks of supply", "metric": "weeks_of_supply", "comparison": "outside",
     "threshold": "4", "upper": "13", "owner_side": "distributor", "response_hours": 72},
    {"name": "PO not acknowledged", "metric": "po_unacknowledged_hours", "comparison": "above",
     "threshold": "24", "owner_side": "supplier", "response_hours": 8},
    {"name": "Store out of stock", "metric": "store_out_of_stock_days", "comparison": "above",
     "threshold": "2", "owner_side": "distributor", "response_hours": 24},
]  # fmt: skip
ROW = re.compile(r"<tr(?: class=\"to-order\")?><th scope=\"row\">")
WEEKS = 52


def write_files(
    admin: HubClient, folder: Path, today: dt.date, first_day: dt.date
) -> dict[int, tuple[Path, Path, int]]:
    """Per distributor: a forecast CSV (every location x item code x ``WEEKS`` open
    weeks) and a POS CSV of as many rows (the same locations and items, on days before
    ``first_day``), and their row count."""
    places = admin.read_items(
        "locations", filter={"status": {"_eq": "active"}}, fields=["distributor", "code"],
        limit=-1,
    )  # fmt: skip
    codes = admin.read_items(
        "sku_codes", fields=["distributor", "item_code", "sku.lead_time_days"], limit=-1
    )
    files: dict[int, tuple[Path, Path, int]] = {}
    for distributor in sorted({int(p["distributor"]) for p in places}):
        stores = [p["code"] for p in places if int(p["distributor"]) == distributor]
        mine = [c for c in codes if int(c["distributor"]) == distributor]
        if not stores or not mine:
            continue
        lead = max(int(c["sku"]["lead_time_days"] or 0) for c in mine)
        opens = first_open_week(today, lead)
        weeks = [(opens + dt.timedelta(weeks=w)).isoformat() for w in range(WEEKS)]
        days = [(first_day - dt.timedelta(days=1 + k)).isoformat() for k in range(WEEKS)]
        forecast, pos = folder / f"forecast-{distributor}.csv", folder / f"pos-{distributor}.csv"
        rows = 0
        with open(forecast, "w", newline="") as f_out, open(pos, "w", newline="") as p_out:
            f_csv, p_csv = csv.writer(f_out), csv.writer(p_out)
            f_csv.writerow(["item", "store", "week", "units"])
            p_csv.writerow(["item", "store", "day", "units", "net_sales"])
            for n, (store, code) in enumerate((s, c["item_code"]) for s in stores for c in mine):
                for w, (week, day) in enumerate(zip(weeks, days, strict=True)):
                    f_csv.writerow([code, store, week, (n * 7 + w) % 40])
                    p_csv.writerow([code, store, day, (n + w) % 9, f"{(n + w) % 9 * 2}.50"])
                    rows += 1
        files[distributor] = (forecast, pos, rows)
    return files


def import_rate(path: Path, db: Path, distributor: int, kind: str) -> tuple[int, float]:
    """Rows read and the import's own seconds, by ``python -m ingest`` in its own process."""
    argv = [sys.executable, "-m", "ingest", str(path), "--db", f"sqlite:///{db}",
            "--distributor", str(distributor), "--kind", kind]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO, env=os.environ, capture_output=True, text=True,
                          timeout=1800, check=False)  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} import of {path.name} exited {done.returncode}: {done.stderr}")
    result = json.loads(lines[-1])
    if result["rows_rejected"]:
        raise RuntimeError(f"{kind} import of {path.name}: {result['rows_rejected']} rejected")
    return int(result["rows_read"]), float(result["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of POS and inventory")
    args = parser.parse_args(argv)

    cleanup: list[Callable[[], None]] = []
    failures: list[str] = []
    forecast_rate = exceptions_s = 0.0
    try:
        with tempfile.TemporaryDirectory(prefix="tandem-bench-planning-") as tmp:
            hub, admin = start_hub(Path(tmp), cleanup)
            today = clock.today()
            print(f"seeding the demo as of {today} ({args.days} days)…", flush=True)
            started = time.perf_counter()
            spec = Spec(days=args.days, order_days=args.days)
            seed(admin, f"sqlite:///{hub.config.db['DB_FILENAME']}", today, spec=spec)
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            token = secrets.token_urlsafe(32)
            set_service_token(admin, SYNC_SERVICE_EMAIL, token)
            ctx = JobContext(
                hub=HubClient(hub.url, token=token, timeout=HUB_TIMEOUT),
                job_id="scorecards.compute",
                run_id=str(uuid.uuid4()),
                settings={"quarters": 1},
            )
            started = time.perf_counter()
            compute_scorecards(ctx)
            scorecards_s = time.perf_counter() - started

            pairs = admin.read_items(
                "partnerships", fields=["id", "supplier", "distributor.id", "distributor.name"],
                limit=-1,
            )  # fmt: skip
            for pair in pairs:
                set_criteria(admin, int(pair["supplier"]), int(pair["distributor"]["id"]),
                             CRITERIA, via="bench")  # fmt: skip
            job = JobContext(hub=ctx.hub, job_id=EXCEPTIONS_JOB, run_id=str(uuid.uuid4()),
                             settings={})  # fmt: skip
            started = time.perf_counter()
            evaluate_exceptions(job)
            exceptions_s = time.perf_counter() - started
            again = JobContext(hub=ctx.hub, job_id=EXCEPTIONS_JOB, run_id=str(uuid.uuid4()),
                               settings={})  # fmt: skip
            started = time.perf_counter()
            evaluate_exceptions(again)
            unchanged_s = time.perf_counter() - started
            print(
                f"exceptions job: {len(CRITERIA)} criteria for each of {len(pairs)} pairs in "
                f"{exceptions_s:.2f} s ({job.counts['exceptions_open']} opened); again with "
                f"nothing changed {unchanged_s:.2f} s; the scorecard job (baseline) "
                f"{scorecards_s:.2f} s",
                flush=True,
            )
            if not job.counts["exceptions_open"]:
                failures.append("the exceptions job found nothing")

            auth = secrets.token_urlsafe(32)
            set_service_token(admin, PORTAL_AUTH_EMAIL, auth)
            app = create_app(
                Config(
                    secret_key=secrets.token_urlsafe(48), hub_url=hub.url, portal_auth_token=auth
                )
            )
            suggestions_s = baseline_s = 0.0
            lines = to_order = 0
            for account in (a for a in ACCOUNTS if a.role == "distributor_user"):
                client = signed_in(app, account.email, account.password)
                baseline_s += best_of(3, lambda c=client: c.get("/inventory"))
                mine = [
                    int(p["id"])
                    for p in pairs
                    if account.org in str(p["distributor"]["name"]).casefold()
                ]
                for pid in mine:
                    path = f"/orders/suggestions?pair={pid}"
                    answer = client.get(path)
                    if answer.status_code != 200:
                        failures.append(f"{path}: {answer.status_code}")
                        continue
                    page = answer.get_data(as_text=True)
                    lines += len(ROW.findall(page))
                    to_order += page.count('class="to-order"')
                    suggestions_s += best_of(3, lambda c=client, p=path: c.get(p))
            print(
                f"suggestions: {lines} location x SKU lines ({to_order} to order) for "
                f"{len(pairs)} pairs in {suggestions_s:.2f} s; the distributors' inventory "
                f"pages (baseline) {baseline_s:.2f} s ({suggestions_s / baseline_s:.1f}x)",
                flush=True,
            )
            if not lines:
                failures.append("no suggestion was computed")

            db = Path(hub.config.db["DB_FILENAME"])
            files = write_files(admin, Path(tmp), today, today - dt.timedelta(days=args.days))
            totals = {"forecasts": [0, 0.0], "pos": [0, 0.0]}
            for distributor, (forecast, pos, rows) in files.items():
                for kind, path in (("pos", pos), ("forecasts", forecast)):
                    read, seconds = import_rate(path, db, distributor, kind)
                    if read != rows:
                        failures.append(f"{kind} of {distributor}: {read} rows of {rows} read")
                    totals[kind][0] += read
                    totals[kind][1] += seconds
                    print(f"  {kind} of distributor {distributor}: {read} rows in "
                          f"{seconds:.2f} s", flush=True)  # fmt: skip
            forecast_rate = totals["forecasts"][0] / totals["forecasts"][1]
            pos_rate = totals["pos"][0] / totals["pos"][1]
            print(
                f"forecast import: {totals['forecasts'][0]} rows at {forecast_rate:,.0f} rows/s; "
                f"POS of as many rows (baseline) at {pos_rate:,.0f} rows/s "
                f"({forecast_rate / pos_rate:.2f}x)",
                flush=True,
            )
    finally:
        for stop in reversed(cleanup):
            stop()
    if suggestions_s > 10:
        print(f"target missed: suggestions_s {suggestions_s:.2f} > 10", flush=True)
    if forecast_rate < 100_000:
        print(f"target missed: forecast_import_rows_per_s {forecast_rate:.0f} < 100000")
    for failure in failures:
        print(f"check failed: {failure}", flush=True)
    if exceptions_s > 30:
        print(f"target missed: exceptions_job_s {exceptions_s:.2f} > 30", flush=True)
    print(
        f"planning exceptions_job_s={exceptions_s:.2f} suggestions_s={suggestions_s:.2f} "
        f"forecast_import_rows_per_s={forecast_rate:.0f}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
