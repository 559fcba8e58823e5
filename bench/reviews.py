"""How long the scorecard job and a quarterly business review pack take, on a year of
the demo's data for every pair.

Everything is generated and measured in this one run, against a throwaway hub (a copy of
the cached template, migrated, on a free port, SQLite):

1. **Data.** The demo, seeded as ``make run`` seeds it (partners, logins, a year of POS
   and inventory through the bulk lane, promotions, plans with actions, risks), with a
   year of weekly orders for every pair (``--order-days``, 365) instead of a quarter.
2. **The scorecard job** (``scorecard_job_s``): one run of ``scorecards.compute`` as the
   sync service, for every pair and every week, month and quarter of the last five
   quarters, storing every scorecard (the first run writes them all). Baseline, in the
   same run: reading the facts alone (``read_facts``). A second run, with nothing
   changed, is timed too: it rewrites nothing.
3. **The pack** (``qbr_pack_s``): a managed pair's workbook for the last whole quarter,
   asked of the portal (in process, signed in: every read through the hub with the
   reader's rules), best of 3, as the demo's account manager and as the pair's supplier
   (whose pack also reads the promotions' POS for their lift); the slower counts.
   Baseline: the same reader's printable page (the same reads, no workbook).
4. **The PDF** (``qbr_pdf_s``): the same packs' PDF (WeasyPrint laying out the page),
   best of 3, the slower of the two; baseline: the page.

Targets: ``scorecard_job_s`` <= 60, ``qbr_pack_s`` <= 3, ``qbr_pdf_s`` <= 5.

Run: ``.venv/bin/python bench/reviews.py`` (about 6 minutes, most of it the seed;
``--days 120`` for a quick run).

Last line: ``reviews scorecard_job_s=<n> qbr_pack_s=<n> qbr_pdf_s=<n>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
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

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from hubs import HUB_TIMEOUT, start_hub  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from demo.generate import ACCOUNTS, MANAGED_PAIRS, MANAGER, Spec  # noqa: E402
from demo.seed import seed  # noqa: E402
from directus import HubClient  # noqa: E402
from domain import clock  # noqa: E402
from domain import scorecard as sc  # noqa: E402
from migrations.accounts import (  # noqa: E402
    PORTAL_AUTH_EMAIL,
    SYNC_SERVICE_EMAIL,
    set_service_token,
)
from portal import Config, create_app  # noqa: E402
from sync.runs import JobContext  # noqa: E402
from sync.scorecards import compute_scorecards, read_facts  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def best_of(n: int, call: Callable[[], object]) -> float:
    return min(timed(call) for _ in range(n))


def signed_in(app: Flask, email: str, password: str) -> FlaskClient:
    """A client of the in-process portal, signed in over HTTPS as a person would be."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token, "no CSRF token on the login page"
    answer = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )
    if answer.status_code != 302:
        raise SystemExit(f"{email} could not sign in: {answer.status_code}")
    return client


def get(client: FlaskClient, path: str, kind: str) -> None:
    answer = client.get(path)
    if answer.status_code != 200 or not answer.data:
        raise SystemExit(f"{path}: {answer.status_code}")
    if kind == "xlsx" and not answer.data.startswith(b"PK"):
        raise SystemExit(f"{path}: not a workbook")
    if kind == "pdf" and not answer.data.startswith(b"%PDF-"):
        raise SystemExit(f"{path}: not a PDF")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of POS and inventory")
    parser.add_argument("--order-days", type=int, default=365, help="days of weekly orders")
    args = parser.parse_args(argv)

    cleanup: list[Callable[[], None]] = []
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tandem-bench-reviews-") as tmp:
            folder = Path(tmp)
            hub, admin = start_hub(folder, cleanup)
            today = clock.today()
            print(
                f"seeding the demo as of {today} ({args.days} days, orders over "
                f"{args.order_days})…",
                flush=True,
            )
            spec = Spec(days=args.days, order_days=args.order_days)
            started = time.perf_counter()
            result = seed(admin, f"sqlite:///{hub.config.db['DB_FILENAME']}", today, spec=spec)
            print(
                f"  seeded in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{n} {k}" for k, n in result.counts.items()),
                flush=True,
            )

            token = secrets.token_urlsafe(32)
            set_service_token(admin, SYNC_SERVICE_EMAIL, token)
            sync = HubClient(hub.url, token=token, timeout=HUB_TIMEOUT)

            def job() -> dict[str, int]:
                ctx = JobContext(
                    hub=sync,
                    job_id="scorecards.compute",
                    run_id=str(uuid.uuid4()),
                    settings={"quarters": 5},
                )
                compute_scorecards(ctx)
                return dict(ctx.counts)

            pairs = {
                int(p["id"]) for p in admin.read_items("partnerships", fields=["id"], limit=-1)
            }
            since = sc.last_quarters(today, 5)[0].start - dt.timedelta(days=180)
            facts_s = best_of(1, lambda: read_facts(sync, since, pairs))
            counts: dict[str, int] = {}
            job_s = timed(lambda: counts.update(job()))
            values = admin.count_items("scorecard_values")
            print(
                f"scorecard job: {counts.get('created', 0)} scorecards ({values} values) for "
                f"{len(pairs)} pairs in {job_s:.1f} s; reading the facts alone "
                f"{facts_s:.2f} s",
                flush=True,
            )
            again: dict[str, int] = {}
            again_s = timed(lambda: again.update(job()))
            print(
                f"  again, nothing changed: {again.get('unchanged', 0)} unchanged, "
                f"{again.get('updated', 0)} rewritten in {again_s:.1f} s",
                flush=True,
            )
            if again.get("updated") or again.get("created"):
                failures.append("the second run rewrote scorecards although nothing changed")

            auth = secrets.token_urlsafe(32)
            set_service_token(admin, PORTAL_AUTH_EMAIL, auth)
            app = create_app(
                Config(
                    secret_key=secrets.token_urlsafe(48), hub_url=hub.url, portal_auth_token=auth
                )
            )
            supplier, distributor = MANAGED_PAIRS[0]
            pair = next(
                int(p["id"])
                for p in admin.read_items(
                    "partnerships", fields=["id", "supplier.name", "distributor.name"], limit=-1
                )
                if supplier in p["supplier"]["name"].casefold()
                and distributor in p["distributor"]["name"].casefold()
            )
            base = f"/reviews/pairs/{pair}"
            supplier_login = next(a for a in ACCOUNTS if a.org == supplier)
            timings: dict[str, tuple[float, float, float]] = {}
            for who, account in (("manager", MANAGER), ("supplier", supplier_login)):
                client = signed_in(app, account.email, account.password)
                book = load_workbook(io.BytesIO(client.get(f"{base}/pack.xlsx").data))
                promos = [r for r in book["Promotions"].iter_rows(min_row=2) if r[4].value]
                lifts = [r[9].value for r in promos]
                trends = [r[5].value for r in book["KPI trends"].iter_rows(min_row=2)]
                print(
                    f"  the {who}'s pack: {sum(v is not None for v in trends)} of "
                    f"{len(trends)} KPIs measured in its quarter, {len(promos)} promotions, "
                    f"{sum(isinstance(v, (int, float)) for v in lifts)} with a lift",
                    flush=True,
                )
                if all(v is None for v in trends):
                    failures.append(f"the {who}'s pack has no KPI in its quarter")
                if who == "supplier" and not any(isinstance(v, (int, float)) for v in lifts):
                    failures.append("the supplier's pack shows no promotion's lift")
                page_s = best_of(3, lambda c=client: get(c, f"{base}/pack", "html"))
                xlsx_s = best_of(3, lambda c=client: get(c, f"{base}/pack.xlsx", "xlsx"))
                doc_s = best_of(3, lambda c=client: get(c, f"{base}/pack.pdf", "pdf"))
                timings[who] = (page_s, xlsx_s, doc_s)
                print(
                    f"  the {who}'s pack of pair {pair}: page {page_s:.2f} s (baseline), "
                    f"workbook {xlsx_s:.2f} s ({xlsx_s / page_s:.1f}x), PDF {doc_s:.2f} s "
                    f"({doc_s / page_s:.1f}x)",
                    flush=True,
                )
            pack_s = max(t[1] for t in timings.values())
            pdf_s = max(t[2] for t in timings.values())
    finally:
        for stop in reversed(cleanup):
            stop()
    for target, value, limit in (
        ("scorecard_job_s", job_s, 60),
        ("qbr_pack_s", pack_s, 3),
        ("qbr_pdf_s", pdf_s, 5),
    ):
        if value > limit:
            print(f"target missed: {target} {value:.2f} > {limit}", flush=True)
    for failure in failures:
        print(f"check failed: {failure}", flush=True)
    print(f"reviews scorecard_job_s={job_s:.1f} qbr_pack_s={pack_s:.2f} qbr_pdf_s={pdf_s:.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
