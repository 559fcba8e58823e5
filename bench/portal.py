"""How the portal's pages hold up with 20 people using them at once, on the demo data.

The bench starts Tandem itself, as ``make run`` does (``tandem run``: the hub, the demo
seeded through the bulk lane, gunicorn with 2 workers, the scheduler), from a fresh
state folder and on free ports, unless ``--url`` names a running portal. Then:

1. **Baseline**: one user alone requests each page kind a few times; the median of each
   is printed (``alone_ms``).
2. **Load**: ``--users`` (20) threads sign in as the demo's suppliers and distributors,
   and for ``--seconds`` (60) each one loops: pick a page as a category manager would
   (mostly the default sell-through page, then a distributor, a SKU drill-down from the
   page's own table, month grain, inventory, the promotion list, calendar and a
   promotion), request it, read the whole body, then think (``--think``, 2 to 5 s by
   default: a person reads a dashboard before the next click). A request
   counts as an error when it does not answer 200 or the page lacks its marker. Every
   request of the load counts, those that build a report first included; the baseline
   before it has visited each account's default pages once, as people using the
   portal all day would have.
3. Per page kind, p50/p95 under load and its ratio to the same page alone.

The run stops by itself: the load ends after ``--seconds``, any request still running
is abandoned after 30 s, and the stack it started is stopped (Ctrl-C stops it early).

Failed requests are listed by page kind and status above the last line.

Last line: ``portal p95_ms=<n> p99_ms=<n> errors=<n> requests=<n>`` over the
sell-through and promotion pages (the targets: p95 <= 300 ms, 0 errors); inventory and
home pages are reported above it.

``--production`` measures the production topology (``tandem run --production``: two hub
instances on PostgreSQL behind HAProxy, Redis; the portal keeping each user's reads until
the hub's next write) under the load, and, in the same run and
under the same load, the single-instance SQLite stack (``tandem run``) as its baseline.
Last line then: ``portal production_p95_ms=<n> sqlite_p95_ms=<n> ratio=<x>
production_rps=<x> production_errors=<n> sqlite_errors=<n>`` (target, e.g. with
``--users 50 --think 0.5,2``: about 35 requests/s, p95 <= 300 ms, 0 errors).

Run: ``.venv/bin/python bench/portal.py`` (about 3 minutes with the demo's seed);
``.venv/bin/python bench/portal.py --production --users 50 --think 0.5,2`` (about 8).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.generate import logins  # noqa: E402
from directus.process import free_port  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SKU_LINK = re.compile(r'href="/sell-through\?[^"]*sku=(\d+)')
PROMO_LINK = re.compile(r'href="/promotions/(\d+)"')
DISTRIBUTOR_OPTION = re.compile(r'<select id="f-distributor".*?</select>', re.S)
OPTION = re.compile(r'<option value="(\d+)"')
TARGET_PAGES = ("sell-through", "sell-through:distributor", "sell-through:sku",
                "sell-through:month", "promotions", "promotions:calendar", "promotion")  # fmt: skip
MARKERS = {
    "sell-through": "<h1>Sell-through</h1>",
    "inventory": "<h1>Inventory by location</h1>",
    "promotions": "<h1>",
    "promotion": "<h1>",
    "home": 'id="attention',
}


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool
    status: int  # 0: no answer (``failure`` says why)
    failure: str = ""


@dataclass
class User:
    email: str
    password: str
    role: str
    session: requests.Session = field(default_factory=requests.Session)
    skus: list[str] = field(default_factory=list)
    distributors: list[str] = field(default_factory=list)
    promotions: list[str] = field(default_factory=list)


def sign_in(base: str, user: User) -> None:
    """Sign in as a person would: again, after a pause, when the hub was busy (503) just
    after the stack started (its first scorecard run fills the hub's one thread)."""
    for attempt in range(6):
        page = user.session.get(f"{base}/login", timeout=30)
        token = CSRF.search(page.text)
        assert token, "no CSRF token on the login page"
        answer = user.session.post(
            f"{base}/login",
            data={"email": user.email, "password": user.password, "csrf_token": token.group(1)},
            timeout=30,
            allow_redirects=False,
        )
        if answer.status_code == 302:
            return
        if answer.status_code != 503:
            break
        time.sleep(2 * (attempt + 1))
    raise SystemExit(f"sign-in failed for {user.email}: {answer.status_code}")


def fetch(base: str, user: User, kind: str, path: str) -> Sample:
    started = time.perf_counter()
    try:
        answer = user.session.get(base + path, timeout=30, allow_redirects=False)
        body, status = answer.text, answer.status_code
        ok = status == 200 and MARKERS[kind.split(":")[0]] in body
    except requests.RequestException as exc:
        body, ok, status = "", False, 0
        failure = f"{type(exc).__name__}: {exc}"
    ms = (time.perf_counter() - started) * 1000
    if status == 0:
        return Sample(kind, ms, ok, status, f"{failure} after {ms:.0f} ms")
    if ok and kind.startswith("sell-through"):
        user.skus = SKU_LINK.findall(body)[:10] or user.skus
        options = DISTRIBUTOR_OPTION.search(body)
        if options:
            user.distributors = OPTION.findall(options.group(0)) or user.distributors
    if ok and kind.startswith("promotions"):
        user.promotions = PROMO_LINK.findall(body)[:20] or user.promotions
    return Sample(kind, ms, ok, status)


def choose(user: User, rng: random.Random) -> tuple[str, str]:
    """A page as a person in this role would pick it next: (kind, path)."""
    if user.role == "supplier_user":
        roll = rng.random()
        if roll < 0.30 or not user.skus:
            return "sell-through", "/sell-through"
        if roll < 0.42 and user.distributors:
            return (
                "sell-through:distributor",
                f"/sell-through?distributor={rng.choice(user.distributors)}",
            )
        if roll < 0.57:
            return "sell-through:sku", f"/sell-through?sku={rng.choice(user.skus)}"
        if roll < 0.64:
            return "sell-through:month", "/sell-through?grain=month"
        if roll < 0.72:
            return "inventory", "/inventory"
        if roll < 0.86 or not user.promotions:
            return "promotions", "/promotions"
        return "promotion", f"/promotions/{rng.choice(user.promotions)}"
    roll = rng.random()
    if roll < 0.35 or not user.promotions:
        return "promotions", "/promotions"
    if roll < 0.55:
        return "promotions:calendar", "/promotions/calendar"
    if roll < 0.80:
        return "promotion", f"/promotions/{rng.choice(user.promotions)}"
    if roll < 0.90:
        return "inventory", "/inventory"
    return "home", "/distributor"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def start_stack(state: Path, production: bool = False) -> tuple[subprocess.Popen[str], str]:
    port, hub_port = free_port(), free_port()
    env = {**os.environ, "TANDEM_STATE_DIR": str(state), "TANDEM_PORTAL_PORT": str(port),
           "TANDEM_HUB_PORT": str(hub_port), "TANDEM_EDI_PORT": str(free_port()),
           "TANDEM_STATION_PORT": str(free_port()), "PYTHONUNBUFFERED": "1"}  # fmt: skip
    command = [str(ROOT / ".venv" / "bin" / "tandem"), "run"]
    if production:
        command.append("--production")
        env.update(TANDEM_PG_PORT=str(free_port()), TANDEM_REDIS_PORT=str(free_port()),
                   TANDEM_HUB_INSTANCE_PORTS=f"{free_port()},{free_port()}")  # fmt: skip
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("tandem run exited before it was up")
        if "Press Ctrl-C" in line:
            # keep draining its output so the pipe never fills
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
            return proc, f"http://127.0.0.1:{port}"
        if line.startswith(("starting", "seeded", "computed", "applied", "demo:")):
            print(f"  {line.rstrip()}", flush=True)
    raise SystemExit("tandem run was not up in 15 minutes")


def stop_stack(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_load(
    base: str, users: list[User], seconds: float, think: tuple[float, float]
) -> list[Sample]:
    samples: list[Sample] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(user: User, seed: int) -> None:
        rng = random.Random(seed)
        time.sleep(rng.uniform(0, 2))  # people do not all click at the same instant
        while time.monotonic() < stop_at:
            kind, path = choose(user, rng)
            sample = fetch(base, user, kind, path)
            with lock:
                samples.append(sample)
            time.sleep(rng.uniform(*think))

    threads = [threading.Thread(target=loop, args=(u, i), daemon=True) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 35)
    return samples


@dataclass
class Measured:
    samples: list[Sample]
    elapsed: float
    alone: dict[str, list[float]]


def measure(base: str, args: argparse.Namespace) -> Measured:
    """Sign the users in, take each page's baseline alone, then run the load."""
    accounts = [a for a in logins() if a["role"] in ("supplier_user", "distributor_user")]
    users = [
        User(a["email"], a["password"], a["role"])
        for a in (accounts[i % len(accounts)] for i in range(args.users))
    ]
    # Each account signs in once (the portal throttles sign-ins per client address, and
    # every simulated person comes from this one); its people share its session cookie,
    # as one person's browser tabs do.
    signed: dict[str, User] = {}
    for user in users:
        if user.email in signed:
            user.session.cookies.update(signed[user.email].session.cookies)
        else:
            sign_in(base, user)
            signed[user.email] = user

    print("baseline: each page alone, one user…", flush=True)
    alone: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(7)
    for user in users[: len(accounts)]:
        for _ in range(12):
            kind, path = choose(user, rng)
            sample = fetch(base, user, kind, path)
            if sample.ok:
                alone[kind].append(sample.ms)
    # a second pass, as the load's people will see them after their first visit
    for user in users[: len(accounts)]:
        for kind, path in (("sell-through", "/sell-through"), ("promotions", "/promotions")):
            alone[kind].append(fetch(base, user, kind, path).ms)

    print(f"load: {args.users} users for {args.seconds:.0f} s, thinking {args.think} s…",
          flush=True)  # fmt: skip
    low, high = (float(x) for x in args.think.split(","))
    started = time.monotonic()
    samples = run_load(base, users, args.seconds, (low, high))
    return Measured(samples, time.monotonic() - started, alone)


def on_its_own_stack(args: argparse.Namespace, production: bool) -> Measured:
    """Start a stack in a fresh state folder, measure it, stop it."""
    name = "tandem run --production" if production else "tandem run"
    print(f"starting Tandem with the demo ({name})…", flush=True)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-portal-") as tmp:
        state = Path(tmp) / "state"
        if production:  # PostgreSQL runs as an unprivileged account here: let it in
            Path(tmp).chmod(0o755)
        stack, base = start_stack(state, production)
        try:
            return measure(base, args)
        finally:
            stop_stack(stack)


def report(measured: Measured, title: str) -> tuple[float, int]:
    """Print the per-page table; return the target pages' p95 and errors."""
    samples = measured.samples
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_kind[s.kind].append(s)
    print(f"-- {title}")
    print(f"{'page':26} {'n':>5} {'errors':>6} {'p50':>7} {'p95':>7} {'alone':>7} {'p95/alone':>9}")
    for kind in sorted(by_kind):
        ms = [s.ms for s in by_kind[kind]]
        alone = measured.alone
        solo = statistics.median(alone[kind]) if alone.get(kind) else float("nan")
        p95 = percentile(ms, 95)
        print(
            f"{kind:26} {len(ms):5d} {sum(not s.ok for s in by_kind[kind]):6d} "
            f"{percentile(ms, 50):7.0f} {p95:7.0f} {solo:7.0f} {p95 / solo:9.1f}"
        )
    total_errors = sum(not s.ok for s in samples)
    failed: dict[tuple[str, int], int] = defaultdict(int)
    for s in samples:
        if not s.ok:
            failed[(s.kind, s.status)] += 1
    if failed:
        print("errors: " + ", ".join(f"{kind} answered {status or 'nothing'} x{n}"
                                     for (kind, status), n in sorted(failed.items())))  # fmt: skip
    for s in samples:
        if s.failure:
            print(f"  {s.kind}: {s.failure}")
    print(f"all pages: {len(samples)} requests ({len(samples) / measured.elapsed:.1f}/s), "
          f"{total_errors} errors, "
          f"p95 {percentile([s.ms for s in samples], 95):.0f} ms")  # fmt: skip
    target = [s for s in samples if s.kind in TARGET_PAGES]
    return percentile([s.ms for s in target], 95), sum(not s.ok for s in target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running portal (its demo logins must work)")
    parser.add_argument(
        "--production",
        action="store_true",
        help="the production topology, beside the SQLite stack as baseline",
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--think", default="2,5", help="seconds a user pauses between pages: min,max"
    )
    args = parser.parse_args(argv)

    if args.production:
        sqlite = on_its_own_stack(args, production=False)
        production = on_its_own_stack(args, production=True)
        sqlite_p95, sqlite_errors = report(sqlite, "single instance, SQLite (tandem run)")
        p95, errors = report(production, "two instances, PostgreSQL, HAProxy (--production)")
        rps = len(production.samples) / production.elapsed
        print(
            f"portal production_p95_ms={p95:.0f} sqlite_p95_ms={sqlite_p95:.0f} "
            f"ratio={p95 / sqlite_p95:.2f} production_rps={rps:.1f} "
            f"production_errors={errors} sqlite_errors={sqlite_errors}"
        )
        return 0
    if args.url:
        measured = measure(args.url.rstrip("/"), args)
    else:
        measured = on_its_own_stack(args, production=False)
    report(measured, "tandem run" if not args.url else args.url)
    target = [s for s in measured.samples if s.kind in TARGET_PAGES]
    ms = [s.ms for s in target]
    print(
        f"portal p95_ms={percentile(ms, 95):.0f} p99_ms={percentile(ms, 99):.0f} "
        f"errors={sum(not s.ok for s in target)} requests={len(target)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
