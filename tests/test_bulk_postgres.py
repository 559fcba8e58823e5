"""The bulk lane on PostgreSQL: a real Directus on a throwaway cluster, files imported by COPY.

Mirrors the SQLite tests of ``tests/test_ingest.py``: exact counts, re-imports that
change nothing, restatements that replace, weekly rollups with exact sums, the last
line of a key delivered twice winning, and rows visible through the hub's own API with
the share policy applied at once. On PostgreSQL, Directus returns ``bigint`` columns
(``net_sales_minor``, rollup ``units``) as strings, so money and sums are compared as
integers. The lane refuses a database whose collation is not byte order.

Skipped when PostgreSQL's ``initdb`` is not installed (PATH, /usr/lib/postgresql/*/bin),
except under CI (``CI=true``), where a skip fails the run (tests/ci_skips.py); ``make
test`` installs Debian's PostgreSQL where it can.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from directus import HubClient
from directus.bulk import LaneError, PostgresLane, open_lane, write_rows
from directus.install import HubInstall
from directus.process import Hub, HubConfig, free_port
from directus.template import generate_admin
from governance.sharing import grant
from ingest.pipeline import ImportResult, run_import
from migrations import migrate
from tests.factories import make_pair, make_sku, make_store, make_user
from tests.helpers import as_ints, race_imports
from tests.pg import PgCluster, PgUnavailable, find_bin_dir
from tests.pinning import pinned

pytestmark = pytest.mark.postgres

MONDAY = dt.date(2026, 3, 2)  # ISO 2026-W10
HUB_DB = "tandem_hub"

POS = """item,store,date,units,net_sales
A1,S1,2026-03-02,3,7.50
A1,S1,2026-03-03,2,5.00
A2,S1,2026-03-02,1,2.50
A1,S2,2026-03-08,4,10.00
A2,S2,2026-03-09,5,12.50
"""


# -- the cluster and the hub ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster (C collation), stopped and removed at the end."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed: no initdb in PATH or /usr/lib/postgresql/*/bin")
    try:
        cluster = PgCluster.create(bin_dir)
    except PgUnavailable as exc:
        pytest.skip(f"cannot run a PostgreSQL server here: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class PgHub:
    """A Directus hub on a PostgreSQL database, and how to reach that database directly."""

    hub: Hub
    admin_email: str
    admin_password: str
    lane_url: str

    @property
    def url(self) -> str:
        return self.hub.url

    def admin(self) -> HubClient:
        return HubClient.login(self.url, self.admin_email, self.admin_password)


@pytest.fixture(scope="module")
def pg_hub(
    pg: PgCluster, hub_install: HubInstall, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgHub]:
    """Directus bootstrapped on a new database of the cluster, with Tandem's migrations."""
    lane_url = pg.create_database(HUB_DB)
    email, password = generate_admin()
    hub = Hub(
        hub_install,
        HubConfig(
            port=free_port(),
            data_dir=tmp_path_factory.mktemp("pg-hub"),
            secret=secrets.token_urlsafe(32),
            db=pg.directus_db(HUB_DB),
        ),
    )
    try:
        hub.bootstrap(email, password)
        hub.start()
        running = PgHub(hub, email, password, lane_url)
        migrate(running.admin())
        yield running
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def pg_admin(pg_hub: PgHub) -> HubClient:
    return pg_hub.admin()


# -- a world of one supplier, one distributor, two SKUs, two stores ------------------------


@dataclass
class World:
    supplier: dict[str, Any]
    distributor: dict[str, Any]
    skus: list[dict[str, Any]]  # item codes "A1", "A2", ...
    stores: list[dict[str, Any]]  # codes "S1", "S2", ...
    url: str

    @property
    def d(self) -> int:
        return int(self.distributor["id"])

    def run(self, path: Path, kind: str = "pos", **kwargs: Any) -> ImportResult:
        """Import a file through the PostgreSQL lane."""
        with open_lane(self.url) as lane:
            assert isinstance(lane, PostgresLane)
            return run_import(lane, path, distributor=self.d, kind=kind, **kwargs)

    def raw(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query straight on the hub's database."""
        import psycopg

        with psycopg.connect(self.url) as conn:
            return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def _world(admin: HubClient, url: str, skus: int = 2, stores: int = 2) -> World:
    supplier, distributor, _pair = make_pair(admin)
    return World(
        supplier,
        distributor,
        [make_sku(admin, supplier, distributor, f"A{n}") for n in range(1, skus + 1)],
        [
            make_store(admin, distributor, f"S{n}", "west" if n % 2 else "east")
            for n in range(1, stores + 1)
        ],
        url,
    )


@pytest.fixture
def world(pg_admin: HubClient, pg_hub: PgHub) -> World:
    return _world(pg_admin, pg_hub.lane_url)


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "pos.csv") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# -- tests ---------------------------------------------------------------------------------


def test_the_hub_database_is_postgres_in_c_collation(world: World) -> None:
    assert world.raw("SELECT datcollate FROM pg_database WHERE datname = current_database()") == [
        ("C",)
    ]
    types = world.raw(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'pos_sales' AND column_name IN ('day', 'net_sales_minor') "
        "ORDER BY column_name"
    )
    assert types == [("day", "date"), ("net_sales_minor", "bigint")]


def test_a_csv_lands_with_counts_and_directus_storage(
    pg_admin: HubClient, world: World, write_csv: Callable[..., Path]
) -> None:
    job = pg_admin.create_item(
        "imports", {"kind": "pos", "format": "csv", "filename": "pos.csv", "distributor": world.d}
    )
    result = world.run(write_csv(POS), import_id=int(job["id"]))
    assert (result.rows_read, result.rows_rejected) == (5, 0)
    assert (result.new, result.changed, result.unchanged) == (5, 0, 0)
    assert (result.data_from, result.data_through) == (MONDAY, dt.date(2026, 3, 9))
    s1, a1 = world.stores[0]["id"], world.skus[0]["id"]
    raw = world.raw(
        "SELECT day, units, net_sales_minor, currency FROM pos_sales WHERE id = %s",
        f"{world.d}:{s1}:{a1}:2026-03-02",
    )
    assert raw == [(MONDAY, 3, 750, "USD")]
    found = pg_admin.read_items(
        "pos_sales",
        filter={"_and": [{"distributor": {"_eq": world.d}}, {"day": {"_lte": "2026-03-03"}}]},
        fields=["day", "units", "net_sales_minor"],
        sort=["day", "units"],
    )
    assert as_ints(found, "net_sales_minor") == [
        {"day": "2026-03-02", "units": 1, "net_sales_minor": 250},
        {"day": "2026-03-02", "units": 3, "net_sales_minor": 750},
        {"day": "2026-03-03", "units": 2, "net_sales_minor": 500},
    ]
    done = pg_admin.read_item(
        "imports",
        job["id"],
        fields=["status", "rows_read", "rows_new", "rows_changed", "rows_unchanged",
                "data_from", "data_through", "finished_at"],
    )  # fmt: skip
    assert {k: v for k, v in done.items() if k != "finished_at"} == {
        "status": "done",
        "rows_read": 5,
        "rows_new": 5,
        "rows_changed": 0,
        "rows_unchanged": 0,
        "data_from": "2026-03-02",
        "data_through": "2026-03-09",
    }
    assert done["finished_at"]
    feeds = pg_admin.read_items(
        "feeds",
        filter={"distributor": {"_eq": world.d}},
        fields=["id", "kind", "data_through", "last_import"],
    )
    assert feeds == [
        {"id": f"{world.d}:pos", "kind": "pos", "data_through": "2026-03-09",
         "last_import": job["id"]},
    ]  # fmt: skip


def test_reimport_changes_nothing_and_a_restatement_replaces(
    pg_admin: HubClient, world: World, write_csv: Callable[..., Path]
) -> None:
    first = world.run(write_csv(POS))
    assert (first.new, first.changed, first.unchanged) == (5, 0, 0)
    again = world.run(write_csv(POS))
    assert (again.new, again.changed, again.unchanged) == (0, 0, 5)
    count = world.raw("SELECT count(*) FROM pos_sales WHERE distributor = %s", world.d)
    assert count == [(5,)]
    restated = POS.replace("A1,S1,2026-03-02,3,7.50", "A1,S1,2026-03-02,-1,-2.50")
    result = world.run(write_csv(restated + "A2,S1,2026-03-04,6,15.00\n", "restated.csv"))
    assert (result.new, result.changed, result.unchanged) == (1, 1, 4)
    s1, s2 = (s["id"] for s in world.stores)
    a1, a2 = (s["id"] for s in world.skus)
    assert world.raw(
        "SELECT units, net_sales_minor FROM pos_sales WHERE id = %s",
        f"{world.d}:{s1}:{a1}:2026-03-02",
    ) == [(-1, -250)]
    week = pg_admin.read_items(
        "pos_week_location",
        filter={"_and": [{"distributor": {"_eq": world.d}}, {"iso_week": {"_eq": "2026-W10"}}]},
        fields=["location", "sku", "units", "net_sales_minor", "days", "week_start", "week_end"],
        sort=["location", "sku"],
    )
    # W10 = 2026-03-02..08: S1/A1 = -1 + 2 (a return replaced 3), S1/A2 = 1 + 6, S2/A1 = 4
    keys = ("location", "sku", "units", "net_sales_minor", "days")
    assert [tuple(w[k] for k in keys) for w in as_ints(week, "units", "net_sales_minor")] == [
        (s1, a1, 1, 250, 2),
        (s1, a2, 7, 1750, 2),
        (s2, a1, 4, 1000, 1),
    ]
    assert {(w["week_start"], w["week_end"]) for w in week} == {("2026-03-02", "2026-03-08")}
    by_sku = pg_admin.read_items(
        "pos_week_distributor",
        filter={"distributor": {"_eq": world.d}},
        fields=["sku", "iso_week", "units", "net_sales_minor", "days", "locations"],
        sort=["iso_week", "sku"],
    )
    assert as_ints(by_sku, "units", "net_sales_minor") == [
        {"sku": a1, "iso_week": "2026-W10", "units": 5, "net_sales_minor": 1250, "days": 3,
         "locations": 2},
        {"sku": a2, "iso_week": "2026-W10", "units": 7, "net_sales_minor": 1750, "days": 2,
         "locations": 1},
        {"sku": a2, "iso_week": "2026-W11", "units": 5, "net_sales_minor": 1250, "days": 1,
         "locations": 1},
    ]  # fmt: skip
    again = world.run(write_csv(restated + "A2,S1,2026-03-04,6,15.00\n", "restated.csv"))
    assert (again.new, again.changed, again.unchanged) == (0, 0, 6)
    assert (
        world.raw("SELECT count(*) FROM pos_week_location WHERE distributor = %s", world.d)
        == [(4,)]  # W10: S1/A1, S1/A2, S2/A1; W11: S2/A2
    )


def test_forecasts_land_by_copy_and_a_restatement_replaces_them(
    pg_admin: HubClient, world: World, write_csv: Callable[..., Path]
) -> None:
    text = "item,store,week,forecast\nA1,S1,2027-W03,10\nA2,S2,2027-01-25,4\nA1,S1,2027-W02,9\n"
    with pinned(dt.date(2026, 12, 30)):  # the SKUs' 14 days: 2027-W03 is the first open week
        first = world.run(write_csv(text, "forecast.csv"), kind="forecasts")
        assert (first.rows_rejected, first.new) == (1, 2)
        key = f"{world.d}:{world.stores[0]['id']}:{world.skus[0]['id']}:2027-01-18"
        restated = world.run(
            write_csv("item,store,week,forecast\nA1,S1,2027-W03,12\n", "again.csv"),
            kind="forecasts",
        )
    assert (restated.new, restated.changed) == (0, 1)
    assert world.raw("SELECT week_start, forecast_units FROM forecasts WHERE id = %s", key) == [
        (dt.date(2027, 1, 18), 12)
    ]
    # Delivered 19 days ahead: it stands for the forecast 1 and 2 weeks ahead.
    assert world.raw(
        "SELECT forecast_h1, forecast_h2, forecast_h4 FROM forecasts WHERE id = %s", key
    ) == [(12, 12, None)]


def test_a_key_delivered_twice_keeps_its_last_line(
    pg_admin: HubClient, world: World, write_csv: Callable[..., Path]
) -> None:
    text = (
        "item,store,date,units,net_sales\n"
        "A1,S1,2026-03-02,3,7.50\n"
        "A2,S1,2026-03-02,1,2.50\n"
        "A1,S1,2026-03-02,9,22.50\n"  # the same key again: this line wins
        "A1,S1,2026-03-02,4,10.00\n"  # and again: this one wins
    )
    result = world.run(write_csv(text))
    assert (result.rows_read, result.new, result.changed, result.unchanged) == (4, 2, 0, 0)
    s1, a1 = world.stores[0]["id"], world.skus[0]["id"]
    rows = pg_admin.read_items(
        "pos_sales",
        filter={"_and": [{"distributor": {"_eq": world.d}}, {"sku": {"_eq": a1}}]},
        fields=["id", "units", "net_sales_minor"],
    )
    assert as_ints(rows, "net_sales_minor") == [
        {"id": f"{world.d}:{s1}:{a1}:2026-03-02", "units": 4, "net_sales_minor": 1000}
    ]
    weeks = pg_admin.read_items(
        "pos_week_distributor",
        filter={"distributor": {"_eq": world.d}},
        fields=["sku", "units", "days"],
        sort=["sku"],
    )
    assert as_ints(weeks, "units") == [
        {"sku": a1, "units": 4, "days": 1},
        {"sku": world.skus[1]["id"], "units": 1, "days": 1},
    ]


def test_imported_rows_follow_the_share_policy_at_once(
    pg_hub: PgHub, pg_admin: HubClient, world: World, write_csv: Callable[..., Path]
) -> None:
    other = _world(pg_admin, pg_hub.lane_url, skus=1, stores=1)  # another pair's rows: unseen
    other.run(write_csv("item,store,date,units,net_sales\nA1,S1,2026-03-02,100,1.00\n", "o.csv"))
    grant(pg_admin, world.d, world.supplier["id"], ["pos"], valid_from=MONDAY, via="test")
    member = make_user(pg_admin, "supplier_user", world.supplier)
    client = member.login(pg_hub.url)
    assert client.read_items("pos_sales", fields=["units"], limit=-1) == []
    world.run(write_csv(POS))
    seen = client.read_items("pos_sales", fields=["units", "net_sales_minor"], limit=-1)
    assert sorted((r["units"], int(r["net_sales_minor"])) for r in seen) == [
        (1, 250),
        (2, 500),
        (3, 750),
        (4, 1000),
        (5, 1250),
    ]
    weeks = client.read_items("pos_week_distributor", fields=["iso_week", "units"], limit=-1)
    assert sorted((w["iso_week"], int(w["units"])) for w in weeks) == [
        ("2026-W10", 1),
        ("2026-W10", 9),
        ("2026-W11", 5),
    ]
    by_store = client.read_items("pos_week_location", fields=["units"], limit=-1)
    assert sorted(int(w["units"]) for w in by_store) == [1, 4, 5, 5]


#: libc locales other than C, tried in turn (a Debian image often has only C.UTF-8).
OTHER_LOCALES = ("en_US.UTF-8", "C.UTF-8", "de_DE.UTF-8")


def test_two_imports_of_one_distributor_at_once_count_and_sum_each_row_once(
    world: World,
) -> None:
    """Seen: two imports at once both counted the same rows new and doubled every rollup
    (15 units stored, 30 in both rollups). Merges of one distributor now take turns."""
    day = dt.date(2026, 3, 2)
    rows = [
        (world.d, store["id"], sku["id"], day + dt.timedelta(days=n), n + 1, 100, "USD")
        for n in range(5)
        for store in world.stores
        for sku in world.skus
    ]
    merged = race_imports(world.url, "pos", rows)
    assert sorted(m.new for m in merged) == [0, len(rows)]
    stored = world.raw("SELECT sum(units) FROM pos_sales WHERE distributor = %s", world.d)
    for table in ("pos_week_location", "pos_week_distributor"):
        summed = world.raw(f"SELECT sum(units) FROM {table} WHERE distributor = %s", world.d)  # noqa: S608
        assert int(summed[0][0]) == int(stored[0][0]) == sum(r[4] for r in rows), table


def _missing_location_row(world: World) -> tuple[Any, ...]:
    return (world.d, 10**9, world.skus[0]["id"], MONDAY, 1, 100, "USD")


def test_a_row_naming_a_location_that_does_not_exist_lands_nothing(world: World) -> None:
    """The merge checks the rows its staged rows name once each, in place of the foreign
    keys' per-row triggers it skips (it may: the tests' role is a superuser)."""
    good = (world.d, world.stores[0]["id"], world.skus[0]["id"], MONDAY, 1, 100, "USD")
    with open_lane(world.url) as lane, pytest.raises(LaneError, match="location 1000000000"):
        write_rows(lane, "pos", [good, _missing_location_row(world)])
    assert world.raw("SELECT count(*) FROM pos_sales WHERE distributor = %s", world.d) == [(0,)]
    assert world.raw("SELECT count(*) FROM feeds WHERE distributor = %s", world.d) == [(0,)]


def test_a_role_that_may_not_skip_triggers_merges_through_them(
    pg: PgCluster, world: World, write_csv: Callable[..., Path]
) -> None:
    """A role that may not set session_replication_role (not a superuser, no SET grant)
    writes with the foreign keys' triggers checking each row: same counts and rollups."""
    import psycopg

    role = "tandem_lane_plain"
    pg.execute(f"DROP ROLE IF EXISTS {role}", HUB_DB)
    pg.execute(f"CREATE ROLE {role} LOGIN", HUB_DB)
    pg.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}", HUB_DB)
    pg.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}", HUB_DB)
    plain = World(world.supplier, world.distributor, world.skus, world.stores,
                  f"postgresql://{role}@127.0.0.1:{pg.port}/{HUB_DB}")  # fmt: skip
    result = plain.run(write_csv(POS))
    assert (result.new, result.changed, result.unchanged) == (5, 0, 0)
    assert world.raw(
        "SELECT (SELECT sum(units) FROM pos_sales WHERE distributor = %s), "
        "(SELECT sum(units) FROM pos_week_distributor WHERE distributor = %s)",
        world.d,
        world.d,
    ) == [(15, 15)]
    with open_lane(plain.url) as lane, pytest.raises(psycopg.errors.ForeignKeyViolation):
        write_rows(lane, "pos", [_missing_location_row(world)])
    assert world.raw("SELECT count(*) FROM pos_sales WHERE distributor = %s", world.d) == [(5,)]


def test_a_database_not_in_byte_order_collation_is_refused(pg: PgCluster) -> None:
    import psycopg

    for n, locale in enumerate(OTHER_LOCALES):
        options = f"TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE '{locale}' LC_CTYPE '{locale}'"
        try:
            url = pg.create_database(f"tandem_not_c_{n}", options)
            break
        except psycopg.Error:
            continue
    else:
        pytest.skip(f"the server knows none of the locales {', '.join(OTHER_LOCALES)}")
    with pytest.raises(LaneError, match=rf"collation is '{re.escape(locale)}'.*LC_COLLATE 'C'"):
        open_lane(url)


def test_an_icu_database_is_refused(pg: PgCluster) -> None:
    import psycopg

    try:
        url = pg.create_database(
            "tandem_icu", "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
    except psycopg.Error as exc:  # an older server, or one built without ICU
        pytest.skip(f"this server cannot make an ICU database: {exc}")
    # The key ranges the rollups rely on do not hold in this database:
    assert pg.execute("SELECT '1:2:2026-03-02:3:USD' < '1:2:2026-03-02:3:~'", "tandem_icu") == [
        (False,)
    ]
    with pytest.raises(LaneError, match="collation"):
        open_lane(url).close()


def test_throughput_of_a_large_import(
    pg_admin: HubClient, pg_hub: PgHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """200,000 generated rows (20 SKUs x 25 stores x 400 days): timed, printed, not asserted."""
    world = _world(pg_admin, pg_hub.lane_url, skus=20, stores=25)
    days = [MONDAY + dt.timedelta(days=n) for n in range(400)]
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write("item,store,date,units,net_sales\n")
        for day in days:
            iso = day.isoformat()
            for s in range(1, 26):
                for a in range(1, 21):
                    units = (a * 7 + s * 3 + day.toordinal()) % 13 - 2
                    out.write(f"A{a},S{s},{iso},{units},{units * 2.5:.2f}\n")
    started = time.perf_counter()
    first = world.run(path)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    again = world.run(path)
    again_s = time.perf_counter() - started
    assert (first.rows_read, first.new, first.rows_rejected) == (200_000, 200_000, 0)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 200_000)
    totals = world.raw(
        "SELECT (SELECT sum(units) FROM pos_sales WHERE distributor = %s), "
        "(SELECT sum(units) FROM pos_week_distributor WHERE distributor = %s), "
        "(SELECT sum(days) FROM pos_week_location WHERE distributor = %s)",
        world.d,
        world.d,
        world.d,
    )[0]
    assert totals[0] == totals[1]
    assert totals[2] == 200_000
    with capsys.disabled():
        print(
            f"\nPostgreSQL bulk lane, 200,000 POS rows: first load {load_s:.1f} s "
            f"({200_000 / load_s:,.0f} rows/s), re-import {again_s:.1f} s "
            f"({200_000 / again_s:,.0f} rows/s)"
        )
