"""How fast a supplier's POS export streams out of the portal, against the old offset walk.

Everything is generated and measured in this one run, against a throwaway hub (a copy of
the cached bootstrapped template, migrated, on a free port) and a portal in gunicorn
(1 worker, 8 threads, as ``make run``), both stopped at the end:

1. **Data**: one distributor with 200 stores, two suppliers of 100 SKUs each, and the
   distributor's POS shared with the first supplier only. ``--rows`` (400,000) POS rows
   of the first supplier's SKUs, and a quarter as many of the second's (which the
   export must leave out), go in through the bulk lane.
2. **Baseline** (the old export, kept here to compare with, run in this process): the
   same supplier's rows read with the portal's own scope filter and sort, a page of
   1,000 by offset, into an openpyxl write-only workbook on disk, which was sent only
   once complete; so its first byte is its whole time. ``--baseline-rows`` caps it (its
   time per page grows with the offset, so the full walk takes minutes): the rest of the
   walk is then extrapolated from the pages read (a page's time as a line in its offset).
3. **New**: ``GET /exports/pos-sales.xlsx`` signed in as the supplier, read as it
   streams: the first body byte's time, the whole time, rows per second, and the
   portal's peak resident memory (the gunicorn worker, sampled every 20 ms) over its
   memory before. The same export of a quarter of the rows (a ``day_from`` filter)
   shows that peak does not grow with the rows.

Checks (exit status 1 if one fails; a missed target only prints): the workbook holds
every row of the supplier's, each once, and none of the other supplier's; its audit
entry counts them.

Targets: first byte <= 2,000 ms, >= 20,000 rows/s, memory flat.

Run: ``.venv/bin/python bench/exports.py`` (about 6 minutes with the baseline in full;
``--rows 100000`` for a quick run).

Last line: ``exports rows_per_s=<n> first_byte_ms=<n> peak_mb=<n>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from openpyxl import Workbook, load_workbook

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the project's portal package, not bench/portal.py

from hubs import HUB_TIMEOUT, start_hub  # noqa: E402

from directus import HubClient  # noqa: E402
from directus.bulk import open_lane, write_rows  # noqa: E402
from directus.process import free_port, spawn, stop_process  # noqa: E402
from domain.gs1 import with_check_digit  # noqa: E402
from governance.partners import add_partner, ensure_partnership  # noqa: E402
from governance.sharing import grant  # noqa: E402
from governance.users import add_user  # noqa: E402
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token  # noqa: E402
from portal.data.access import DataAccess  # noqa: E402
from portal.data.registry import RESOURCES  # noqa: E402

STORES = 200
SKUS = 100
OLD_PAGE = 1000
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGETS = {"first_byte_ms": (2000, "<="), "rows_per_s": (20_000, ">=")}


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class World:
    distributor: int
    supplier: int
    skus: list[int]  # the first SKUS are the supplier's, the rest the other supplier's
    stores: list[int]
    email: str
    password: str


def build_world(admin: HubClient, start: dt.date) -> World:
    distributor = int(add_partner(admin, "Bench Distributor", "distributor", via="bench")["id"])
    suppliers = [
        int(
            add_partner(
                admin, f"Bench Supplier {n}", "supplier", gs1_prefixes=[f"{n}00000"], via="bench"
            )["id"]
        )
        for n in (1, 2)
    ]
    for supplier in suppliers:
        ensure_partnership(admin, supplier, distributor)
    gtins = [with_check_digit(f"7{n:01d}{i:011d}") for n in (1, 2) for i in range(1, SKUS + 1)]
    admin.create_items(
        "skus",
        [
            {"gtin": gtin, "description": f"Bench item {i + 1}", "cost_minor": 100,
             "list_price_minor": 250, "currency": "USD", "supplier": suppliers[i // SKUS]}
            for i, gtin in enumerate(gtins)
        ],
    )  # fmt: skip
    by_gtin = {
        str(r["gtin"]): int(r["id"])
        for r in admin.read_items(
            "skus", filter={"supplier": {"_in": suppliers}}, fields=["id", "gtin"], limit=-1
        )
    }
    admin.create_items(
        "locations",
        [
            {"ref": f"{distributor}:S{s:04d}", "code": f"S{s:04d}", "name": f"Store {s}",
             "kind": "store", "region": "north", "distributor": distributor}
            for s in range(1, STORES + 1)
        ],
    )  # fmt: skip
    stores = sorted(
        int(r["id"])
        for r in admin.read_items(
            "locations", filter={"distributor": {"_eq": distributor}}, fields=["id"], limit=-1
        )
    )
    grant(admin, distributor, suppliers[0], ["pos"], valid_from=start, purpose="bench",
          via="bench")  # fmt: skip
    email, password = "bench-exports@tandem-bench.example.com", secrets.token_urlsafe(18)
    add_user(admin, email, password, "supplier_user", suppliers[0], first_name="Bench", via="bench")
    return World(distributor, suppliers[0], [by_gtin[g] for g in gtins], stores, email, password)


def load_pos(db: Path, world: World, start: dt.date, days: int, other_days: int) -> None:
    """``days`` days of every store x the supplier's SKUs, ``other_days`` of the other's."""

    def rows():
        for k in range(max(days, other_days)):
            day = start + dt.timedelta(days=k)
            skus = (world.skus[:SKUS] if k < days else []) + (
                world.skus[SKUS:] if k < other_days else []
            )
            for store in world.stores:
                for n, sku in enumerate(skus):
                    yield (world.distributor, store, sku, day, 1 + (n + k) % 9,
                           (1 + (n + k) % 9) * 199, "USD")  # fmt: skip

    with open_lane(f"sqlite:///{db}") as lane:
        write_rows(lane, "pos", rows())


# -- the portal ---------------------------------------------------------------------------


@dataclass
class Portal:
    url: str
    process: object
    log: Path


def start_portal(hub_url: str, auth_token: str, folder: Path) -> Portal:
    port = free_port()
    env = {**os.environ, "TANDEM_SECRET_KEY": secrets.token_urlsafe(48),
           "TANDEM_HUB_URL": hub_url, "TANDEM_PORTAL_AUTH_TOKEN": auth_token,
           "TANDEM_COOKIE_SECURE": "false"}  # fmt: skip
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--threads", "8", "--timeout", "900", "--graceful-timeout", "5",
            "portal:create_app()"]  # fmt: skip
    log = folder / "portal.log"
    with open(log, "ab") as out:
        proc = spawn(argv, env=env, cwd=REPO, stdout=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the portal exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/health", timeout=5).status_code == 200:
                return Portal(url, proc, log)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_process(proc)
    raise RuntimeError("the portal did not answer /health within 60s")


def sign_in(portal: Portal, email: str, password: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{portal.url}/login", timeout=30)
    token = CSRF.search(page.text)
    assert token, "no CSRF token on the login page"
    answer = browser.post(
        f"{portal.url}/login",
        data={"email": email, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in answered {answer.status_code}")
    return browser


def rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    """The gunicorn worker: the master's one child."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                return int(entry.name)
    raise RuntimeError("no gunicorn worker found")


@dataclass
class Export:
    first_byte_s: float
    total_s: float
    before_mb: float
    peak_mb: float
    body: bytes


def export(browser: requests.Session, portal: Portal, pid: int, **query: str) -> Export:
    """One streamed export, read as it arrives; the worker's memory sampled meanwhile."""
    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    first = None
    body = io.BytesIO()
    try:
        with browser.get(
            f"{portal.url}/exports/pos-sales.xlsx", params=query, stream=True, timeout=900
        ) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"the export answered {answer.status_code}: {answer.text[:500]}")
            for chunk in answer.iter_content(chunk_size=None):
                if first is None and chunk:
                    first = time.perf_counter() - started
                body.write(chunk)
        total = time.perf_counter() - started
    finally:
        done.set()
        sampler.join()
    assert first is not None
    return Export(first, total, before / 1024, peak[0] / 1024, body.getvalue())


def workbook_ids(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    ids: list[str] = []
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows)
        at = header.index("id")
        ids += [str(r[at]) for r in rows]
    book.close()
    return ids


# -- the baseline: the old export ----------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    rows: int  # rows read
    seconds: float  # measured, for those rows
    full_s: float  # for every row: measured, or extrapolated past the cap


@dataclass(frozen=True)
class BenchActor:
    id: str
    role: str
    organization_id: int


def old_export(hub_url: str, world: World, cap: int, total: int, folder: Path) -> Baseline:
    """The export as it was: offset pages of 1,000 with the portal's scope filter and
    sort, into an openpyxl write-only workbook on disk; sent only once complete.

    Stopped after ``cap`` rows, the rest is extrapolated from the pages read: a page's
    time is fitted as a line in its offset (the hub reads and drops every earlier row)."""
    user = HubClient.login(hub_url, world.email, world.password, timeout=HUB_TIMEOUT)
    me = user.get("/users/me", fields=["id", "organization"])
    actor = BenchActor(me["id"], "supplier_user", int(me["organization"]))
    acc = DataAccess(actor, user, via="bench")
    res = RESOURCES["pos-sales"]
    scope = acc.scope_filter(res)
    fields = res.hub_fields
    started = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("pos-sales")
    ws.append(fields)
    offset = n = 0
    pages: list[tuple[int, float]] = []
    while n < cap:
        t = time.perf_counter()
        rows = user.read_items(res.collection, filter=scope, fields=fields, sort=["id"],
                               limit=OLD_PAGE, offset=offset)  # fmt: skip
        pages.append((offset, time.perf_counter() - t))
        for row in rows:
            ws.append([row.get(f) for f in fields])
        n += len(rows)
        if len(rows) < OLD_PAGE:
            break
        offset += OLD_PAGE
    wb.save(folder / "old.xlsx")
    measured = time.perf_counter() - started
    if n >= total or len(pages) < 2:
        return Baseline(n, measured, measured)
    # least squares: seconds = a + b * offset
    xs, ys = [float(o) for o, _ in pages], [s for _, s in pages]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    a = my - b * mx
    rest = sum(a + b * o for o in range(n, total, OLD_PAGE))
    writing_per_row = (measured - sum(ys)) / n  # the workbook's part, linear in rows
    return Baseline(n, measured, sum(ys) + rest + writing_per_row * total)


# -- the run ------------------------------------------------------------------------------


def run(args: argparse.Namespace, folder: Path, cleanup: list[Callable[[], None]]) -> int:
    days = max(1, args.rows // (STORES * SKUS))
    rows = days * STORES * SKUS
    other_days = max(1, days // 4)
    start = dt.date(2026, 1, 5)
    problems: list[str] = []
    say(f"bench exports: {rows:,} POS rows of the supplier's ({days} days x {STORES} stores x "
        f"{SKUS} SKUs), {other_days * STORES * SKUS:,} of another supplier's")  # fmt: skip

    t = time.perf_counter()
    hub, admin = start_hub(folder / "hub", cleanup)
    world = build_world(admin, start)
    db = hub.config.sqlite_path
    assert db is not None
    load_pos(db, world, start, days, other_days)
    token = secrets.token_urlsafe(32)
    set_service_token(admin, PORTAL_AUTH_EMAIL, token)
    portal = start_portal(hub.url, token, folder)
    cleanup.append(lambda: stop_process(portal.process))  # type: ignore[arg-type]
    say(f"-- hub, partners, {rows:,} rows through the bulk lane, portal: "
        f"{time.perf_counter() - t:.1f}s")  # fmt: skip

    cap = min(args.baseline_rows or rows, rows)
    say(f"-- baseline: the old offset export of {cap:,} rows…")
    old = old_export(hub.url, world, cap, rows, folder)
    old_s = old.full_s
    say(f"   {old.rows:,} rows in {old.seconds:.1f}s ({old.rows / old.seconds:,.0f} rows/s)")
    if old.rows < rows:
        say(f"   all {rows:,} rows, extrapolated from those pages: {old_s:.0f}s")
    say(f"   first byte after {old_s * 1000:,.0f} ms (sent only once complete), "
        f"{rows / old_s:,.0f} rows/s")  # fmt: skip

    browser = sign_in(portal, world.email, world.password)
    pid = worker_pid(portal.process.pid)  # type: ignore[attr-defined]
    quarter = start + dt.timedelta(days=days - max(1, days // 4))
    say("-- new: a quarter of the rows (day_from), then all of them, streamed…")
    small = export(browser, portal, pid, day_from=quarter.isoformat())
    small_rows = len(workbook_ids(small.body))
    say(
        f"   {small_rows:,} rows: first byte {small.first_byte_s * 1000:.0f} ms, "
        f"{small.total_s:.1f}s, worker {small.before_mb:.0f} MB before, "
        f"peak {small.peak_mb:.0f} MB"
    )
    full = export(browser, portal, pid)
    ids = workbook_ids(full.body)
    rate = len(ids) / full.total_s
    say(f"   {len(ids):,} rows: first byte {full.first_byte_s * 1000:.0f} ms, "
        f"{full.total_s:.1f}s ({rate:,.0f} rows/s), {len(full.body) / 1e6:.0f} MB, "
        f"worker {full.before_mb:.0f} MB before, peak {full.peak_mb:.0f} MB")  # fmt: skip

    def expect(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)
            say(f"   CHECK FAILED: {message}")

    expect(len(ids) == rows, f"the export holds {len(ids):,} rows, not {rows:,}")
    expect(len(set(ids)) == len(ids), "a row appears twice")
    mine = set(world.skus[:SKUS])
    expect(all(int(i.split(":")[2]) in mine for i in ids), "a row of the other supplier's")
    expect(small_rows == (days - (quarter - start).days) * STORES * SKUS,
           f"the filtered export holds {small_rows:,} rows")  # fmt: skip
    entry = admin.read_items(
        "audit_log", filter={"action": {"_eq": "export"}}, sort=["-id"], limit=1,
        fields=["detail"],
    )  # fmt: skip
    expect(bool(entry) and entry[0]["detail"].get("rows") == rows, f"audit entry {entry}")
    growth = full.peak_mb - small.peak_mb
    say(f"   peak memory for {len(ids):,} rows vs {small_rows:,}: {growth:+.0f} MB")
    say(f"speed-up over the baseline: first byte {old_s / full.first_byte_s:,.0f}x, "
        f"rows/s {rate / (rows / old_s):,.1f}x")  # fmt: skip
    figures = {"first_byte_ms": full.first_byte_s * 1000, "rows_per_s": rate}
    for name, (target, op) in TARGETS.items():
        ok = figures[name] <= target if op == "<=" else figures[name] >= target
        say(f"target {name} {op} {target:,}: {figures[name]:,.0f} {'ok' if ok else 'MISSED'}")
    if problems:
        say(f"{len(problems)} check(s) failed")
    say(f"exports rows_per_s={rate:.0f} first_byte_ms={full.first_byte_s * 1000:.0f} "
        f"peak_mb={full.peak_mb:.0f}")  # fmt: skip
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--baseline-rows", type=int, default=0, help="cap the old walk (0: all)")
    args = parser.parse_args()
    cleanup: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="tandem-bench-exports-") as tmp:
        try:
            return run(args, Path(tmp), cleanup)
        finally:
            for stop in reversed(cleanup):
                stop()


if __name__ == "__main__":
    raise SystemExit(main())
