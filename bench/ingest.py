"""How fast a POS file lands in the hub, and how fast a supplier's dashboard then reads it.

Everything is generated and measured in this one run, against a throwaway hub (a copy of
the cached bootstrapped template, migrated, on a free port, stopped at the end):

- ``rows_per_s``: a 1,000,000-row POS CSV (one distributor, 500 stores, 2 suppliers x
  100 SKUs, 10 days) imported end to end by ``python -m ingest`` in its own process, rows
  over the wall seconds of that process (file to committed, queryable rows and rollups).
  Target >= 100,000.
- ``vs_utils_import``: that rate over Directus's own ``POST /utils/import`` into a
  collection shaped like ``pos_sales`` (which refuses every writer but the bulk lane)
  (a JSON upload of a sample of the same rows, ids resolved). Target >= 40.
- ``vs_raw_sqlite_pct``: that rate over a bare ``executemany`` of the same 1M resolved
  tuples into a plain table (fresh SQLite file, WAL, no index), in percent. Target >= 30.
- ``peak_mb``: the largest peak RSS of any import of the run (its processes together: a
  big CSV is staged by one process per core), whatever the file. Target <= 300 MB. Each
  file's own: ``peak_mb_1x`` and ``peak_mb_10x`` for the 1M-row CSV and a
  10,000,000-row CSV of the same shape (100 days, the first 10 the same as the 1M file;
  the 10x peak within ~20% of the 1x peak); ``peak_mb_xlsx`` for the 1M file's rows as a
  workbook (up to Excel's 1,048,576 rows); ``peak_mb_bomb`` for the larger of two zip
  bombs sent as POS, each refused: a sheet of one row repeated to 1 GB in a file of a few
  MB (the issue's 3.4 MB bomb took 39 s and about 1 GB), and shared strings of 64 MB
  packed under the ratio check (openpyxl reads them whole).
- ``dashboard_p95_ms``: with 10M POS rows in the hub, p95 latency of a supplier's
  sell-through summary through the portal API (gunicorn, 2 workers, a personal API token),
  ``GET /api/v1/pos-sales/summary?group_by=week,sku,location&from=&to=&per_page=100&page=``
  over ~13 weeks, pages and ranges varied.
- ``vs_raw_aggregate``: the median time to compute the same figures with Directus
  aggregates over the raw rows, as the same supplier (``sum`` grouped by sku, location and
  day, one call per ISO week, days bucketed into ISO weeks here), over the median summary
  latency. Target >= 10.

Correctness checks (exit status 1 if one fails; a missed target only prints): the first
import lands every row as new; re-importing the same file finds every row unchanged and
leaves the table's row count as it was; the 10x import's counts add up; the workbook's
rows are all found unchanged; each bomb is refused (exit status 2) and lands nothing; the
summary's per-week totals and a page of its figures equal the raw aggregates'.

Run: ``.venv/bin/python bench/ingest.py`` (``--rows 100000`` for a quick run: both files
scale). The full size takes about 12 minutes on 2 cores and a few GB of temporary disk.

``--db pg`` measures the bulk lane on PostgreSQL instead, and only that: a hub on a new
throwaway cluster (Debian's PostgreSQL, the server's default settings) and one on SQLite,
the same 1x file imported end to end by ``python -m ingest`` into each in turn, first
import and re-import, with the same checks (all new, then all unchanged, the row count,
the rollups' days), and a bare ``COPY`` of the same resolved rows into a plain table for
reference. Targets: ``pg_rows_per_s`` >= 100,000, and ``ratio`` (SQLite's rate over
PostgreSQL's) <= 2. Last line: ``ingest-pg pg_rows_per_s=<n> sqlite_rows_per_s=<n>
ratio=<x> pg_reimport_rows_per_s=<n> sqlite_reimport_rows_per_s=<n>
raw_copy_rows_per_s=<n> pg_peak_mb=<n>``.

Last line: ``ingest rows_per_s=<n> vs_utils_import=<x> vs_raw_sqlite_pct=<n> peak_mb=<n>
peak_mb_1x=<n> peak_mb_10x=<n> peak_mb_xlsx=<n> peak_mb_bomb=<n> dashboard_p95_ms=<n>
vs_raw_aggregate=<x>`` (one line).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from hubs import HUB_TIMEOUT, start_hub, start_pg_hub

from directus import HubClient
from directus.bulk import iso_week, storage_value
from directus.process import free_port, spawn, stop_process
from domain.gs1 import with_check_digit
from governance.partners import add_partner, ensure_partnership
from governance.sharing import grant
from governance.users import add_user
from migrations.accounts import PORTAL_AUTH_EMAIL, set_service_token

REPO = Path(__file__).resolve().parent.parent
STORES = 500
SKUS_PER_SUPPLIER = 100
ITEMS = 2 * SKUS_PER_SUPPLIER
ROWS_PER_DAY = STORES * ITEMS
EXCEL_ROWS = 1_048_576
SCALE = 10
REGIONS = ("north", "south", "east", "west")
POOL_BITS = 16
DASHBOARD_WEEKS = 13
PER_PAGE = 100
WARMUP = 5
IMPORT_TIMEOUT_S = 3600
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r"tdm_[0-9a-f]{32}_[A-Za-z0-9_-]{43}")
TARGETS = {
    "rows_per_s": (100_000, ">="),
    "vs_utils_import": (40, ">="),
    "vs_raw_sqlite_pct": (30, ">="),
    "peak_mb": (300, "<="),
    "vs_raw_aggregate": (10, ">="),
}

Figures = dict[tuple[int, int, str], list[int]]  # (sku, location, ISO week) -> [units, net]


class CheckFailed(Exception):
    """A correctness check failed: the figures of this run cannot be trusted."""


def say(message: str) -> None:
    print(message, flush=True)


TIMINGS: dict[str, float] = {}


class Phase:
    """Print a phase's start and its wall seconds; keep them in ``TIMINGS``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> Phase:
        say(f"-- {self.name}…")
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.started
        TIMINGS[self.name] = seconds
        say(f"   {self.name}: {seconds:.1f}s")


# -- the data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The generated data: which days, and each (store, item) pair's values per day.

    Pair ``j`` is store ``j // ITEMS`` and item ``j % ITEMS`` (a store's lines together,
    as a distributor writes them). Its values on day ``k`` come from a pool of random
    (units, net sales) by a fixed stride, so any file of any days is the same function.
    """

    start: dt.date
    units: list[int]
    minor: list[int]
    text: list[str]

    @classmethod
    def make(cls, start: dt.date, seed: int = 20261123) -> Shape:
        rng = random.Random(seed)
        units, minor, text = [], [], []
        for _ in range(1 << POOL_BITS):
            n = -rng.randint(1, 3) if rng.random() < 0.03 else rng.randint(0, 12)
            cents = n * rng.randint(99, 1999)
            sign = "-" if cents < 0 else ""
            units.append(n)
            minor.append(cents)
            text.append(f"{n},{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}")
        return cls(start, units, minor, text)

    def day(self, k: int) -> dt.date:
        return self.start + dt.timedelta(days=k)

    @staticmethod
    def slot(k: int, j: int) -> int:
        return (j * 31 + k * 7919) & ((1 << POOL_BITS) - 1)

    def write_csv(self, path: Path, days: range) -> int:
        """Write ``item,store,date,units,net_sales`` lines for these days; return rows."""
        prefixes = [f"I{i + 1:04d},S{s + 1:04d}," for s in range(STORES) for i in range(ITEMS)]
        text, slot, rows = self.text, self.slot, 0
        with open(path, "w", encoding="ascii", newline="") as out:
            out.write("item,store,date,units,net_sales\n")
            for k in days:
                date = self.day(k).isoformat()
                out.write(
                    "".join([f"{p}{date},{text[slot(k, j)]}\n" for j, p in enumerate(prefixes)])
                )
                rows += len(prefixes)
        return rows

    def write_xlsx(self, path: Path, days: range) -> int:
        """The lines of :meth:`write_csv` as a workbook; return rows. The sheet is written
        as XML (inline strings; units as numbers), as a distributor's system exports one:
        openpyxl's own writer would take minutes for a million rows."""
        prefixes = [(f"I{i + 1:04d}", f"S{s + 1:04d}") for s in range(STORES) for i in range(ITEMS)]
        text, slot, rows = self.text, self.slot, 0
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
            _workbook_parts(book)
            book.writestr("xl/sharedStrings.xml", NO_STRINGS)
            with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
                raw.write(SHEET_HEAD + _row(["item", "store", "date", "units", "net_sales"]))
                for k in days:
                    date = self.day(k).isoformat()
                    lines = []
                    for j, (item, store) in enumerate(prefixes):
                        units, net = text[slot(k, j)].split(",")
                        lines.append(
                            f"<row>{_s(item)}{_s(store)}{_s(date)}<c><v>{units}</v></c>"
                            f"{_s(net)}</row>"
                        )
                    raw.write("".join(lines).encode())
                    rows += len(prefixes)
                raw.write(SHEET_TAIL)
        return rows

    def resolved(self, world: World, days: range, limit: int | None = None) -> Iterator[tuple]:
        """``(id, distributor, location, sku, day, units, net_sales_minor, currency)`` as
        the hub stores them (day in epoch milliseconds)."""
        d = world.distributor
        taken = 0
        for k in days:
            day = self.day(k)
            stored, iso = storage_value(day), day.isoformat()
            for j in range(ROWS_PER_DAY):
                loc, sku = world.stores[j // ITEMS], world.skus[j % ITEMS]
                n = self.slot(k, j)
                yield (f"{d}:{loc}:{sku}:{iso}", d, loc, sku, stored, self.units[n],
                       self.minor[n], "USD")  # fmt: skip
                taken += 1
                if limit is not None and taken >= limit:
                    return


# -- workbooks and zip bombs -------------------------------------------------------------

SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
NO_STRINGS = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
    'uniqueCount="0"/>'
)
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="POS" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}


def _s(value: str) -> str:
    return f'<c t="inlineStr"><is><t>{value}</t></is></c>'


def _row(values: list[str]) -> bytes:
    return f"<row>{''.join(_s(v) for v in values)}</row>".encode()


def _workbook_parts(book: zipfile.ZipFile) -> None:
    for name, text in PARTS.items():
        book.writestr(name, text)


def write_sheet_bomb(path: Path, unpacked_mb: int = 1024) -> None:
    """A POS workbook whose sheet is one row repeated to ``unpacked_mb``: a few MB."""
    line = (
        b"<row>"
        + b"".join(_s(v).encode() for v in ("I0001", "S0001", "2026-01-05"))
        + (b"<c><v>1</v></c>" + _s("1.00").encode() + b"</row>")
    )
    block = line * (1024 * 1024 // len(line))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        _workbook_parts(book)
        book.writestr("xl/sharedStrings.xml", NO_STRINGS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            raw.write(SHEET_HEAD + _row(["item", "store", "date", "units", "net_sales"]))
            for _ in range(unpacked_mb):
                raw.write(block)
            raw.write(SHEET_TAIL)


def write_strings_bomb(path: Path, unpacked_mb: int = 64) -> None:
    """A POS workbook whose shared strings (read whole by openpyxl) unpack to
    ``unpacked_mb`` of distinct strings, packed well under the ratio check's 100x."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
            b'schemas.openxmlformats.org/spreadsheetml/2006/main">')  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        _workbook_parts(book)
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as raw:
            raw.write(head)
            written, n = 0, 0
            while written < unpacked_mb * 1024 * 1024:
                chunk = "".join(f"<si><t>{n + i:012d}</t></si>" for i in range(10_000)).encode()
                raw.write(chunk)
                written, n = written + len(chunk), n + 10_000
            raw.write(b"</sst>")
        book.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + SHEET_TAIL)


# -- the hub and its partners -------------------------------------------------------------


@dataclass
class World:
    distributor: int
    supplier: int  # the one the distributor shares its POS with
    skus: list[int]  # item I0001.. -> SKU id (the first 100 are the supplier's)
    stores: list[int]  # store S0001.. -> location id
    email: str
    password: str


def build_world(admin: HubClient, start: dt.date) -> World:
    """One distributor with 500 stores, two partner suppliers of 100 SKUs each, and the
    distributor's POS shared with the first supplier, one of whose users we sign in as."""
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
    gtins = [with_check_digit(f"8{n:01d}{i:011d}") for n in (1, 2) for i in range(1, 101)]
    admin.create_items(
        "skus",
        [
            {
                "gtin": gtin,
                "description": f"Bench item {i + 1}",
                "cost_minor": 100,
                "list_price_minor": 250,
                "currency": "USD",
                "supplier": suppliers[i // SKUS_PER_SUPPLIER],
            }
            for i, gtin in enumerate(gtins)
        ],
    )
    by_gtin = {
        str(r["gtin"]): int(r["id"])
        for r in admin.read_items(
            "skus", filter={"supplier": {"_in": suppliers}}, fields=["id", "gtin"], limit=-1
        )
    }
    skus = [by_gtin[g] for g in gtins]
    admin.create_items(
        "sku_codes",
        [
            {"id": f"{distributor}:I{i + 1:04d}", "item_code": f"I{i + 1:04d}", "sku": sku,
             "distributor": distributor}
            for i, sku in enumerate(skus)
        ],
    )  # fmt: skip
    admin.create_items(
        "locations",
        [
            {"ref": f"{distributor}:S{s + 1:04d}", "code": f"S{s + 1:04d}",
             "name": f"Store {s + 1}", "kind": "store", "region": REGIONS[s % len(REGIONS)],
             "distributor": distributor}
            for s in range(STORES)
        ],
    )  # fmt: skip
    by_code = {
        str(r["code"]): int(r["id"])
        for r in admin.read_items(
            "locations", filter={"distributor": {"_eq": distributor}}, fields=["id", "code"],
            limit=-1,
        )
    }  # fmt: skip
    stores = [by_code[f"S{s + 1:04d}"] for s in range(STORES)]
    grant(
        admin,
        distributor,
        suppliers[0],
        ["pos"],
        valid_from=start - dt.timedelta(days=28),
        purpose="bench",
        via="bench",
    )
    email, password = "bench-supplier@tandem-bench.example.com", secrets.token_urlsafe(18)
    add_user(admin, email, password, "supplier_user", suppliers[0], first_name="Bench", via="bench")
    return World(distributor, suppliers[0], skus, stores, email, password)


def count_rows(db: Path | str, table: str = "pos_sales", what: str = "count(*)") -> int:
    """``what`` of a hub table: ``db`` the hub's SQLite file or a ``postgresql://`` URL."""
    sql = f"SELECT {what} FROM {table}"  # noqa: S608 - our own names
    if isinstance(db, str):
        with psycopg.connect(db) as pg:
            return int(pg.execute(sql).fetchone()[0])  # type: ignore[arg-type, index]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


# -- measured runs ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRun:
    wall_s: float
    peak_mb: float
    result: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.result["rows_read"] / self.wall_s


def import_file(
    path: Path, db: Path | str, distributor: int, log: Path, *, refused: bool = False
) -> ImportRun:
    """``python -m ingest`` in its own process: wall seconds, peak RSS, its JSON result.
    ``db`` is the hub's SQLite file or the lane's ``postgresql://`` URL. ``refused``: the
    file must be refused whole (exit status 2), not imported."""
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    argv = [sys.executable, "-m", "ingest", str(path), "--db", url,
            "--distributor", str(distributor), "--kind", "pos"]  # fmt: skip
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = spawn(argv, env=os.environ, cwd=REPO, stdout=out)
        deadline = time.monotonic() + IMPORT_TIMEOUT_S
        tree_peak_kb = 0
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the import of {path.name} took over {IMPORT_TIMEOUT_S}s")
                tree_peak_kb = max(tree_peak_kb, tree_rss_kb(proc.pid))
                time.sleep(0.02)
        except BaseException:
            stop_process(proc)
            raise
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(errors="replace").strip().splitlines()
    if proc.returncode != (2 if refused else 0) or not output or not output[-1].startswith("{"):
        tail = "\n".join(output[-15:])
        raise CheckFailed(f"import of {path.name} exited {proc.returncode}:\n{tail}")
    # The import's own peak, or its processes' together (a big CSV is staged by one
    # process per core), whichever is larger.
    peak_kb = max(usage.ru_maxrss, tree_peak_kb)
    return ImportRun(wall, peak_kb / 1024, json.loads(output[-1]))


def tree_rss_kb(root: int) -> int:
    """The resident memory of a process and all its descendants, now, in KiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        children.setdefault(int(fields.get("PPid", "0").strip() or 0), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def raw_sqlite(rows: list[tuple], folder: Path) -> float:
    """Seconds for a bare ``executemany`` of ``rows`` into a plain table of a new file."""
    path = folder / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            "CREATE TABLE pos (id TEXT, distributor INTEGER, location INTEGER, sku INTEGER, "
            "day INTEGER, units INTEGER, net_sales_minor INTEGER, currency TEXT)"
        )
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO pos VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def raw_csv(path: Path, folder: Path) -> float:
    """Seconds to read the CSV with csv.reader and executemany its rows as they are."""
    db = folder / "raw-csv.db"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE pos (item TEXT, store TEXT, day TEXT, units TEXT, net TEXT)")
        started = time.perf_counter()
        with open(path, newline="") as handle:
            rows = csv.reader(handle)
            next(rows)
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO pos VALUES (?, ?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def raw_copy(rows: list[tuple], url: str) -> float:
    """Seconds for a bare ``COPY`` of ``rows`` (as CSV text, 100,000 lines a write, one stream) into
    a plain table of the PostgreSQL database, then dropped."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_raw_pos (id TEXT, distributor BIGINT, location BIGINT, "
            "sku BIGINT, day DATE, units BIGINT, net_sales_minor BIGINT, currency TEXT)"
        )
        try:
            started = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy("COPY bench_raw_pos FROM STDIN (FORMAT csv)") as copy,
            ):
                lines: list[str] = []
                for r in rows:
                    day = r[0].rsplit(":", 1)[1]
                    lines.append(f"{r[0]},{r[1]},{r[2]},{r[3]},{day},{r[5]},{r[6]},{r[7]}\n")
                    if len(lines) == 100_000:
                        copy.write("".join(lines))
                        lines = []
                copy.write("".join(lines))
            return time.perf_counter() - started
        finally:
            conn.execute("DROP TABLE bench_raw_pos")


TWIN = "bench_pos_sales"


def make_twin(admin: HubClient) -> None:
    """A collection shaped like ``pos_sales`` (same fields and types, accountability off,
    its relations as plain integers) for Directus's own import to write into: POS rows
    have one writer, the bulk lane, and the hub refuses them from anyone else."""
    fields = [
        {"field": "id", "type": "string", "schema": {"is_primary_key": True, "length": 64}},
        {"field": "day", "type": "date"},
        {"field": "units", "type": "integer"},
        {"field": "net_sales_minor", "type": "bigInteger"},
        {"field": "currency", "type": "string", "schema": {"max_length": 3}},
        {"field": "distributor", "type": "integer"},
        {"field": "location", "type": "integer"},
        {"field": "sku", "type": "integer"},
    ]
    admin.post(
        "/collections",
        {
            "collection": TWIN,
            "meta": {"accountability": None, "note": "bench only"},
            "schema": {},
            "fields": [{**f, "meta": {}} for f in fields],
        },
    )


def utils_import(admin: HubClient, rows: list[tuple]) -> float:
    """Seconds for Directus's own ``/utils/import`` of ``rows`` (a JSON upload), into a
    collection shaped like ``pos_sales`` (:func:`make_twin`)."""
    items = [
        {"id": r[0], "distributor": r[1], "location": r[2], "sku": r[3],
         "day": r[0].rsplit(":", 1)[1], "units": r[5], "net_sales_minor": r[6],
         "currency": r[7]}
        for r in rows
    ]  # fmt: skip
    body = json.dumps(items).encode()
    started = time.perf_counter()
    admin.request(
        "POST",
        f"/utils/import/{TWIN}",
        files={"file": (f"{TWIN}.json", body, "application/json")},
    )
    return time.perf_counter() - started


# -- the portal and the dashboard ---------------------------------------------------------


@dataclass
class Portal:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_portal(hub_url: str, auth_token: str, folder: Path) -> Portal:
    """The portal in gunicorn, as ``tandem up`` runs it (2 workers), on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "TANDEM_SECRET_KEY": secrets.token_urlsafe(48),
        "TANDEM_HUB_URL": hub_url,
        "TANDEM_PORTAL_AUTH_TOKEN": auth_token,
        "TANDEM_COOKIE_SECURE": "false",  # plain HTTP on loopback
    }
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--threads", "4", "--timeout", "600", "--graceful-timeout", "5",
            "portal:create_app()"]  # fmt: skip
    log = folder / "portal.log"
    with open(log, "ab") as out:
        proc = spawn(argv, env=env, cwd=REPO, stdout=out)
    portal = Portal(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the portal exited {proc.returncode}: {tail(log)}")
        try:
            if requests.get(f"{portal.url}/health", timeout=5).status_code == 200:
                return portal
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_process(proc)
    raise RuntimeError(f"the portal did not answer /health within 60s: {tail(log)}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def personal_token(portal: Portal, email: str, password: str) -> str:
    """Sign in through the login form and mint a personal API token, as a user would."""
    browser = requests.Session()

    def csrf(path: str) -> str:
        page = browser.get(f"{portal.url}{path}", timeout=30)
        found = CSRF.search(page.text)
        if not found:
            raise RuntimeError(f"no CSRF token on {path} ({page.status_code})")
        return found.group(1)

    signed_in = browser.post(
        f"{portal.url}/login",
        data={"email": email, "password": password, "csrf_token": csrf("/login")},
        allow_redirects=False,
        timeout=30,
    )
    if signed_in.status_code != 302:
        raise RuntimeError(f"sign-in answered {signed_in.status_code}")
    minted = browser.post(
        f"{portal.url}/account/tokens",
        data={"name": "bench", "password": password, "csrf_token": csrf("/account/tokens")},
        timeout=30,
    )
    found = TOKEN.search(minted.text)
    if minted.status_code != 201 or not found:
        raise RuntimeError(f"minting a token answered {minted.status_code}")
    return found.group(0)


@dataclass
class Dashboard:
    """The summary endpoint as a supplier's dashboard calls it."""

    portal: Portal
    token: str
    range_names: tuple[str, str] = ("from", "to")
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def get(
        self, group_by: str, first: dt.date, last: dt.date, page: int, per_page: int
    ) -> tuple[float, dict[str, Any]]:
        params = {
            "group_by": group_by,
            self.range_names[0]: first.isoformat(),
            self.range_names[1]: last.isoformat(),
            "per_page": per_page,
            "page": page,
        }
        started = time.perf_counter()
        response = self.session.get(
            f"{self.portal.url}/api/v1/pos-sales/summary", params=params, timeout=900
        )
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"summary {params} answered {response.status_code}: {response.text}")
        return seconds, response.json()

    def negotiate(self, first: dt.date, last: dt.date) -> None:
        """Use ``from``/``to``; fall back (loudly) to ``day_from``/``day_to`` if the
        endpoint does not take them yet."""
        try:
            self.get("week", first, last, 1, 1)
        except RuntimeError as exc:
            if "400" not in str(exc) or "from" not in str(exc):
                raise
            say("   NOTE: the summary does not take from/to yet; using day_from/day_to")
            self.range_names = ("day_from", "day_to")


def windows(shape: Shape, days: int) -> list[tuple[dt.date, dt.date]]:
    """Whole-week dashboard ranges of about 13 weeks over the data, the first the longest."""
    last_day = shape.day(days - 1)
    weeks = (last_day - shape.start).days // 7 + 1
    span = min(DASHBOARD_WEEKS, weeks)
    out = []
    for offset in range(max(1, weeks - span + 1)):
        for length in (span, span - 1):
            if length >= 1:
                first = shape.start + dt.timedelta(weeks=offset)
                out.append((first, first + dt.timedelta(weeks=length, days=-1)))
    return out


def raw_figures(client: HubClient, first: dt.date, last: dt.date) -> Figures:
    """The summary's figures from Directus aggregates over the raw daily rows: one call
    per ISO week (one call for 13 weeks would return millions of groups at once)."""
    figures: Figures = {}
    monday = first
    while monday <= last:
        sunday = min(monday + dt.timedelta(days=6), last)
        groups = client.aggregate(
            "pos_sales",
            {"sum": ["units", "net_sales_minor"]},
            group_by=["sku", "location", "day"],
            filter={
                "_and": [
                    {"day": {"_gte": monday.isoformat()}},
                    {"day": {"_lte": sunday.isoformat()}},
                ]
            },
        )
        for g in groups:
            label = iso_week(dt.date.fromisoformat(str(g["day"])[:10])).label
            key = (int(g["sku"]), int(g["location"]), label)
            sums = g["sum"]
            acc = figures.setdefault(key, [0, 0])
            acc[0] += int(sums["units"] or 0)
            acc[1] += int(sums["net_sales_minor"] or 0)
        monday += dt.timedelta(days=7)
    return figures


def check_dashboard(
    dash: Dashboard, figures: Figures, first: dt.date, last: dt.date, page: dict[str, Any]
) -> list[str]:
    """Compare the summary with the raw aggregates: per-week totals, and one page's items."""
    problems = []
    _, weekly = dash.get("week", first, last, 1, 500)
    summary_weeks: dict[str, int] = {}
    for item in weekly["data"]:
        summary_weeks[item["week"]] = summary_weeks.get(item["week"], 0) + int(item["units"])
    raw_weeks: dict[str, int] = {}
    for (_sku, _loc, week), (units, _net) in figures.items():
        raw_weeks[week] = raw_weeks.get(week, 0) + units
    total_s, total_r = sum(summary_weeks.values()), sum(raw_weeks.values())
    say(f"   units {first}..{last}: summary {total_s:,}, raw aggregate {total_r:,}")
    if summary_weeks != raw_weeks:
        problems.append(f"weekly units differ: summary {summary_weeks} vs raw {raw_weeks}")
    for item in page["data"]:
        key = (int(item["sku"]), int(item["location"]), item["week"])
        want = figures.get(key)
        got = [int(item["units"]), int(item["net_sales_minor"])]
        if want != got:
            problems.append(f"summary item {key}: {got} vs raw aggregate {want}")
            break
    if not page["data"]:
        problems.append("the summary's first page is empty")
    return problems


def measure_dashboard(
    dash: Dashboard, ranges: list[tuple[dt.date, dt.date]], requests_n: int, budget_s: float
) -> tuple[list[float], dict[str, Any]]:
    """Warm up, then time summary requests over varied ranges and pages."""
    rng = random.Random(47)
    first, last = ranges[0]
    _, head = dash.get("week,sku,location", first, last, 1, PER_PAGE)
    total = int(head["meta"]["total"])
    pages = max(1, min(50, -(-total // PER_PAGE)))
    say(f"   {total:,} groups in {first}..{last}; pages 1..{pages} are asked for")
    for _ in range(WARMUP):
        dash.get("week,sku,location", *rng.choice(ranges), rng.randint(1, pages), PER_PAGE)
    latencies: list[float] = []
    started = time.monotonic()
    while len(latencies) < requests_n:
        seconds, _ = dash.get(
            "week,sku,location", *rng.choice(ranges), rng.randint(1, pages), PER_PAGE
        )
        latencies.append(seconds)
        if time.monotonic() - started > budget_s and len(latencies) >= 5:
            say(f"   NOTE: stopped after {len(latencies)} requests ({budget_s:.0f}s budget)")
            break
    return latencies, head


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


# -- the run ------------------------------------------------------------------------------


def expect(problems: list[str], ok: bool, message: str) -> None:
    if not ok:
        problems.append(message)
        say(f"   CHECK FAILED: {message}")


def run(args: argparse.Namespace, folder: Path, cleanup: list[Callable[[], None]]) -> int:
    days_1x = args.rows // ROWS_PER_DAY
    days_10x = days_1x * SCALE
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    start = monday - dt.timedelta(weeks=days_10x // 7 + 3)
    shape = Shape.make(start)
    problems: list[str] = []
    say(f"bench ingest: {args.rows:,} rows ({days_1x} days) and {args.rows * SCALE:,} rows "
        f"({days_10x} days) from {start}; {STORES} stores x {ITEMS} SKUs")  # fmt: skip

    with Phase("generate CSV files"):
        file_1x, file_10x = folder / "pos-1x.csv", folder / "pos-10x.csv"
        rows_1x = shape.write_csv(file_1x, range(days_1x))
        rows_10x = shape.write_csv(file_10x, range(days_10x))
        say(f"   {file_1x.stat().st_size / 1e6:.0f} MB and {file_10x.stat().st_size / 1e6:.0f} MB")

    with Phase("hub: start from template, migrate, build partners"):
        hub, admin = start_hub(folder / "hub", cleanup)
        world = build_world(admin, start)
        db = hub.config.sqlite_path
        assert db is not None

    with Phase("raw SQLite executemany baseline"):
        tuples = list(shape.resolved(world, range(days_1x)))
        raw_s = raw_sqlite(tuples, folder)
        del tuples
        raw_rate = rows_1x / raw_s
        say(f"   {rows_1x:,} rows in {raw_s:.2f}s: {raw_rate:,.0f} rows/s")
        csv_s = raw_csv(file_1x, folder)
        say(
            f"   (for reference: the CSV's own rows, read by csv.reader and executemany'd as "
            f"text, {rows_1x / csv_s:,.0f} rows/s; the target uses the resolved rows above)"
        )

    with Phase("import 1x"):
        first = import_file(file_1x, db, world.distributor, folder / "import-1x.log")
        r = first.result
        say(
            f"   wall {first.wall_s:.2f}s, {first.rate:,.0f} rows/s (its own figure "
            f"{r['rows_per_s']:,} rows/s over {r['seconds']}s), peak {first.peak_mb:.0f} MB"
        )
        counts = (r["new"], r["changed"], r["unchanged"], r["rows_rejected"])
        expect(problems, counts == (rows_1x, 0, 0, 0), f"first import counts {r}")
        expect(problems, count_rows(db) == rows_1x, f"pos_sales holds {count_rows(db):,} rows")

    with Phase("re-import 1x"):
        again = import_file(file_1x, db, world.distributor, folder / "import-1x-again.log")
        r = again.result
        say(f"   wall {again.wall_s:.2f}s, {again.rate:,.0f} rows/s, peak {again.peak_mb:.0f} MB")
        counts = (r["new"], r["changed"], r["unchanged"])
        expect(problems, counts == (0, 0, rows_1x), f"re-import counts {r}")
        expect(problems, count_rows(db) == rows_1x, f"re-import left {count_rows(db):,} rows")

    with Phase("Directus /utils/import sample"):
        # Rows of a day the 1x file does not hold, into a pos_sales-shaped collection.
        make_twin(admin)
        sample = list(shape.resolved(world, range(days_1x, days_1x + 1), args.sample))
        utils_s = utils_import(admin, sample)
        utils_rate = len(sample) / utils_s
        say(f"   {len(sample):,} rows in {utils_s:.2f}s: {utils_rate:,.0f} rows/s")
        expect(problems, count_rows(db, TWIN) == len(sample), "utils import row count")

    with Phase("import 10x"):
        big = import_file(file_10x, db, world.distributor, folder / "import-10x.log")
        r = big.result
        say(f"   wall {big.wall_s:.2f}s, {big.rate:,.0f} rows/s, peak {big.peak_mb:.0f} MB")
        known = rows_1x
        counts = (r["new"], r["changed"], r["unchanged"])
        expect(problems, counts == (rows_10x - known, 0, known), f"10x import counts {r}")
        held = count_rows(db)
        say(f"   the hub holds {held:,} POS rows")
        expect(problems, held == rows_10x, f"after the 10x import pos_sales holds {held:,}")
    file_10x.unlink()

    with Phase("import the 1x rows as a workbook"):
        book_days = range(min(days_1x, (EXCEL_ROWS - 1) // ROWS_PER_DAY))
        file_xlsx = folder / "pos.xlsx"
        rows_xlsx = shape.write_xlsx(file_xlsx, book_days)
        say(f"   {rows_xlsx:,} rows, {file_xlsx.stat().st_size / 1e6:.0f} MB")
        book = import_file(file_xlsx, db, world.distributor, folder / "import-xlsx.log")
        r = book.result
        say(f"   wall {book.wall_s:.2f}s, {book.rate:,.0f} rows/s, peak {book.peak_mb:.0f} MB")
        counts = (r["new"], r["changed"], r["unchanged"], r["rows_rejected"])
        expect(problems, counts == (0, 0, rows_xlsx, 0), f"workbook import counts {r}")
        file_xlsx.unlink()

    bombs = []
    for name, write in (("sheet", write_sheet_bomb), ("strings", write_strings_bomb)):
        with Phase(f"a zip bomb sent as POS: {name}"):
            path = folder / f"bomb-{name}.xlsx"
            write(path)
            bomb = import_file(path, db, world.distributor, folder / f"bomb-{name}.log",
                               refused=True)  # fmt: skip
            bombs.append(bomb)
            say(f"   {path.stat().st_size / 1e6:.1f} MB file refused in {bomb.wall_s:.2f}s, "
                f"peak {bomb.peak_mb:.0f} MB: {bomb.result['error']}")  # fmt: skip
            expect(problems, count_rows(db) == rows_10x, f"the {name} bomb landed rows")

    with Phase("portal: gunicorn, sign in, mint a token"):
        auth_token = secrets.token_urlsafe(32)
        set_service_token(admin, PORTAL_AUTH_EMAIL, auth_token)
        portal = start_portal(hub.url, auth_token, folder)
        cleanup.append(lambda: stop_process(portal.process))
        dash = Dashboard(portal, personal_token(portal, world.email, world.password))

    ranges = windows(shape, days_10x)
    with Phase("dashboard requests"):
        dash.negotiate(*ranges[0])
        latencies, head = measure_dashboard(dash, ranges, args.requests, args.budget)
        p95_ms = p95(latencies) * 1000
        median_s = statistics.median(latencies)
        say(f"   {len(latencies)} requests: median {median_s * 1000:.0f} ms, p95 {p95_ms:.0f} ms")

    with Phase("raw Directus aggregates, as the same supplier"):
        supplier = HubClient.login(hub.url, world.email, world.password, timeout=HUB_TIMEOUT)
        raw_times: list[float] = []
        figures: Figures = {}
        budget_start = time.monotonic()
        for _ in range(args.raw_rounds):
            started = time.perf_counter()
            figures = raw_figures(supplier, *ranges[0])
            raw_times.append(time.perf_counter() - started)
            say(f"   {len(figures):,} figures in {raw_times[-1]:.1f}s")
            if time.monotonic() - budget_start > args.budget:
                break
        raw_median = statistics.median(raw_times)
        for problem in check_dashboard(dash, figures, *ranges[0], head):
            expect(problems, False, problem)

    runs = [first, again, big, book, *bombs]
    results = {
        "rows_per_s": first.rate,
        "vs_utils_import": first.rate / utils_rate,
        "vs_raw_sqlite_pct": first.rate / raw_rate * 100,
        "peak_mb": max(r.peak_mb for r in runs),
        "peak_mb_1x": first.peak_mb,
        "peak_mb_10x": big.peak_mb,
        "peak_mb_xlsx": book.peak_mb,
        "peak_mb_bomb": max(b.peak_mb for b in bombs),
        "dashboard_p95_ms": p95_ms,
        "vs_raw_aggregate": raw_median / median_s,
    }
    say("phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in TIMINGS.items()))
    for name, (target, way) in TARGETS.items():
        value = results[name]
        met = value >= target if way == ">=" else value <= target
        say(f"target {name} {way} {target}: {value:,.1f} {'met' if met else 'MISSED'}")
    growth = big.peak_mb / first.peak_mb - 1
    say(f"target peak_mb_10x within 20% of peak_mb: {growth:+.0%} "
        f"{'met' if abs(growth) <= 0.2 else 'MISSED'}")  # fmt: skip
    if problems:
        say(f"{len(problems)} correctness check(s) FAILED:")
        for p in problems:
            say(f"  - {p}")
    say(
        f"ingest rows_per_s={results['rows_per_s']:.0f} "
        f"vs_utils_import={results['vs_utils_import']:.1f} "
        f"vs_raw_sqlite_pct={results['vs_raw_sqlite_pct']:.0f} "
        f"peak_mb={results['peak_mb']:.0f} peak_mb_1x={results['peak_mb_1x']:.0f} "
        f"peak_mb_10x={results['peak_mb_10x']:.0f} peak_mb_xlsx={results['peak_mb_xlsx']:.0f} "
        f"peak_mb_bomb={results['peak_mb_bomb']:.0f} "
        f"dashboard_p95_ms={results['dashboard_p95_ms']:.0f} "
        f"vs_raw_aggregate={results['vs_raw_aggregate']:.1f}"
    )
    return 1 if problems else 0


def run_pg(args: argparse.Namespace, folder: Path, cleanup: list[Callable[[], None]]) -> int:
    """``--db pg``: the 1x file into a hub on PostgreSQL and into one on SQLite, in turn."""
    days = args.rows // ROWS_PER_DAY
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(days=today.weekday(), weeks=days // 7 + 3)
    shape = Shape.make(start)
    problems: list[str] = []
    say(f"bench ingest --db pg: {args.rows:,} rows ({days} days) from {start}; "
        f"{STORES} stores x {ITEMS} SKUs, into PostgreSQL and SQLite hubs")  # fmt: skip

    with Phase("generate the CSV file"):
        path = folder / "pos-1x.csv"
        rows = shape.write_csv(path, range(days))
        say(f"   {path.stat().st_size / 1e6:.0f} MB")

    with Phase("hubs: SQLite from template, PostgreSQL on a new cluster; migrate, partners"):
        hub, admin = start_hub(folder / "hub", cleanup)
        assert hub.config.sqlite_path is not None
        pg = start_pg_hub(folder / "pg-hub", cleanup)
        say(f"   PostgreSQL {pg.cluster.version}")
        targets: dict[str, tuple[Path | str, World]] = {
            "sqlite": (hub.config.sqlite_path, build_world(admin, start)),
            "pg": (pg.lane_url, build_world(pg.admin, start)),
        }

    with Phase("raw PostgreSQL COPY baseline"):
        tuples = list(shape.resolved(targets["pg"][1], range(days)))
        copy_rate = rows / raw_copy(tuples, pg.lane_url)
        del tuples
        say(f"   {rows:,} resolved rows COPY'd into a plain table: {copy_rate:,.0f} rows/s")

    runs: dict[str, tuple[ImportRun, ImportRun]] = {}
    for name, (db, world) in targets.items():
        with Phase(f"{name}: import"):
            first = import_file(path, db, world.distributor, folder / f"import-{name}.log")
            r = first.result
            say(f"   wall {first.wall_s:.2f}s, {first.rate:,.0f} rows/s, "
                f"peak {first.peak_mb:.0f} MB")  # fmt: skip
            counts = (r["new"], r["changed"], r["unchanged"], r["rows_rejected"])
            expect(problems, counts == (rows, 0, 0, 0), f"{name}: first import counts {r}")
            held = count_rows(db)
            expect(problems, held == rows, f"{name}: pos_sales holds {held:,} rows")
        with Phase(f"{name}: re-import"):
            again = import_file(path, db, world.distributor, folder / f"again-{name}.log")
            r = again.result
            say(f"   wall {again.wall_s:.2f}s, {again.rate:,.0f} rows/s, "
                f"peak {again.peak_mb:.0f} MB")  # fmt: skip
            counts = (r["new"], r["changed"], r["unchanged"])
            expect(problems, counts == (0, 0, rows), f"{name}: re-import counts {r}")
            held = count_rows(db)
            expect(problems, held == rows, f"{name}: re-import left {held:,} rows")
            days_held = count_rows(db, "pos_week_location", "sum(days)")
            expect(problems, days_held == rows, f"{name}: the rollups count {days_held:,} days")
        runs[name] = (first, again)

    pg_rate, sqlite_rate = runs["pg"][0].rate, runs["sqlite"][0].rate
    ratio = sqlite_rate / pg_rate
    say("phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in TIMINGS.items()))
    for label, met in (
        (f"pg_rows_per_s >= 100000: {pg_rate:,.0f}", pg_rate >= 100_000),
        (f"sqlite over pg <= 2: {ratio:.2f}", ratio <= 2),
    ):
        say(f"target {label} {'met' if met else 'MISSED'}")
    if problems:
        say(f"{len(problems)} correctness check(s) FAILED:")
        for p in problems:
            say(f"  - {p}")
    say(
        f"ingest-pg pg_rows_per_s={pg_rate:.0f} sqlite_rows_per_s={sqlite_rate:.0f} "
        f"ratio={ratio:.2f} pg_reimport_rows_per_s={runs['pg'][1].rate:.0f} "
        f"sqlite_reimport_rows_per_s={runs['sqlite'][1].rate:.0f} "
        f"raw_copy_rows_per_s={copy_rate:.0f} pg_peak_mb={runs['pg'][0].peak_mb:.0f}"
    )
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help=f"rows of the 1x file, a multiple of {ROWS_PER_DAY:,} (a day)",
    )
    parser.add_argument("--sample", type=int, default=5000, help="rows for /utils/import")
    parser.add_argument("--requests", type=int, default=60, help="measured summary requests")
    parser.add_argument("--raw-rounds", type=int, default=3, help="raw aggregate rounds")
    parser.add_argument(
        "--budget",
        type=float,
        default=300,
        help="seconds after which the dashboard and raw phases stop repeating",
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "pg"),
        default="sqlite",
        help="pg: the 1x file into a hub on PostgreSQL and one on SQLite (baseline), only",
    )
    args = parser.parse_args()
    if args.rows < ROWS_PER_DAY or args.rows % ROWS_PER_DAY:
        parser.error(f"--rows must be a positive multiple of {ROWS_PER_DAY:,}")
    # A SIGTERM unwinds like Ctrl-C, so the hub and the portal are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cleanup: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        try:
            return (run_pg if args.db == "pg" else run)(args, Path(tmp), cleanup)
        except CheckFailed as exc:
            say(f"FAILED: {exc}")
            return 1
        finally:
            for stop in reversed(cleanup):
                stop()


if __name__ == "__main__":
    sys.exit(main())
