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

Target: ``suggestions_s`` <= 10. The exceptions job and the forecast import of the same
issue are not built yet: their figures print as n/a.

Run: ``.venv/bin/python bench/planning.py`` (about 5 minutes, most of it the seed;
``--days 120`` for a quick run).

Last line: ``planning exceptions_job_s=<n> suggestions_s=<n> forecast_import_rows_per_s=<n>``.
"""

from __future__ import annotations

import argparse
import re
import secrets
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
from migrations.accounts import (  # noqa: E402
    PORTAL_AUTH_EMAIL,
    SYNC_SERVICE_EMAIL,
    set_service_token,
)
from portal import Config, create_app  # noqa: E402
from sync.runs import JobContext  # noqa: E402
from sync.scorecards import compute_scorecards  # noqa: E402

ROW = re.compile(r"<tr(?: class=\"to-order\")?><th scope=\"row\">")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of POS and inventory")
    args = parser.parse_args(argv)

    cleanup: list[Callable[[], None]] = []
    failures: list[str] = []
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
            compute_scorecards(ctx)

            auth = secrets.token_urlsafe(32)
            set_service_token(admin, PORTAL_AUTH_EMAIL, auth)
            app = create_app(
                Config(
                    secret_key=secrets.token_urlsafe(48), hub_url=hub.url, portal_auth_token=auth
                )
            )
            pairs = admin.read_items(
                "partnerships", fields=["id", "distributor", "distributor.name"], limit=-1
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
    finally:
        for stop in reversed(cleanup):
            stop()
    if suggestions_s > 10:
        print(f"target missed: suggestions_s {suggestions_s:.2f} > 10", flush=True)
    for failure in failures:
        print(f"check failed: {failure}", flush=True)
    print("  the exceptions job and the forecast import are not built yet (issue 14)")
    print(
        f"planning exceptions_job_s=n/a suggestions_s={suggestions_s:.2f} "
        "forecast_import_rows_per_s=n/a"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
