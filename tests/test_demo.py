"""The demo: generated deterministically and validly, seeded under governance, seeded once."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from demo.generate import ACCOUNTS, FULL, ORG_BY_KEY, ORGS, SUPPLIERS, Spec, build, logins
from demo.seed import MARKER, seed, seeded_as_of
from directus import HubClient
from directus.process import free_port
from domain import clock, kpis
from domain.edi_orders import read
from domain.gs1 import gln_problem, gtin_problem
from domain.roles import ROLE_ORG_KINDS, ROLES
from governance.users import MIN_PASSWORD
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync.exchange import exchange
from sync.runs import JobContext
from tandem.cli import cli
from tests.certificates import certificate_pem, make_identity, write_pem
from tests.helpers import serving

AS_OF = dt.date(2026, 11, 23)
SMALL = Spec(days=21, stores=8, skus_per_supplier=12, skus_per_store=6)


# -- generation (pure) ----------------------------------------------------------------


def test_the_same_day_and_spec_give_the_same_demo():
    first, again = build(AS_OF, SMALL), build(AS_OF, SMALL)
    assert first == again
    assert list(first.pos_rows()) == list(again.pos_rows())
    assert list(first.inventory_rows()) == list(again.inventory_rows())
    other = build(AS_OF, Spec(days=21, stores=8, skus_per_supplier=12, skus_per_store=6, seed=1))
    assert list(other.pos_rows()) != list(first.pos_rows())


def test_every_gtin_and_gln_carries_a_valid_check_digit():
    demo = build(AS_OF, FULL)
    gtins = [k.gtin for k in demo.skus]
    assert len(gtins) == len(set(gtins)) == 300
    assert all(len(g) == 14 and gtin_problem(g) is None for g in gtins)
    assert all(gtin_problem(g.lstrip("0")) is None for g in gtins)  # the GTIN-13 itself
    glns = [o.gln for o in ORGS] + [loc.gln for loc in demo.locations]
    assert len(glns) == len(set(glns))
    assert all(gln_problem(g) is None for g in glns)


def test_the_full_demo_has_the_promised_shape():
    demo = build(AS_OF, FULL)
    assert Counter(k.supplier for k in demo.skus) == {
        "northfield": 100,
        "brightwell": 100,
        "cascade": 100,
    }
    assert all(k.cost_minor < k.list_price_minor and k.case_pack >= 1 for k in demo.skus)
    kinds = Counter((loc.distributor, loc.kind) for loc in demo.locations)
    assert kinds[("harbor", "dc")] == kinds[("prairie", "dc")] == 2
    assert kinds[("harbor", "store")] + kinds[("prairie", "store")] == 150
    assert {loc.region for loc in demo.locations} >= {"northeast", "southeast", "midwest", "west"}
    assert all(len(carried) == 24 for carried in demo.assortment.values())
    assert len(demo.item_codes) == 600
    assert {p.status for p in demo.promotions} == {"draft", "submitted", "accepted", "declined"}
    assert sum(p.revoked for p in demo.agreements) == 1
    assert any(p.regions for p in demo.agreements)  # partial by region
    assert len({p.valid_from for p in demo.agreements}) > 1  # partial by start day
    late = [o for o in demo.orders if o.shipment and o.shipment.expected_delivery > o.promised_date]
    short = [o for o in demo.orders if o.status == "partially_shipped"]
    assert late
    assert short
    assert min(o.ordered_on for o in demo.orders) >= AS_OF - dt.timedelta(days=91)


def test_a_year_of_pos_is_about_a_million_rows_ending_yesterday():
    demo = build(AS_OF, FULL)
    count, returns, first, last = 0, 0, AS_OF, dt.date.min
    for row in demo.pos_rows():
        count += 1
        returns += row.units < 0
        first, last = min(first, row.day), max(last, row.day)
    assert 1_000_000 <= count <= 1_500_000
    assert returns > 0
    assert (first, last) == (AS_OF - dt.timedelta(days=365), AS_OF - dt.timedelta(days=1))


def test_store_stock_spreads_across_the_weeks_of_supply_bands():
    """Every store was "low" when stock was 0.5 to 2.5 weeks of sales everywhere: the
    demo's positions now spread over out, low, healthy and excess, as a real chain's do,
    by the weeks of supply the pages compute (the last snapshot over 4 weeks of POS)."""
    demo = build(AS_OF, Spec(days=56, stores=40, skus_per_supplier=12, skus_per_store=12))
    stores = {(loc.distributor, loc.code) for loc in demo.locations if loc.kind == "store"}
    snapshot = [r for r in demo.inventory_rows() if (r.distributor, r.location) in stores]
    last = max(r.day for r in snapshot)
    weekly: dict[tuple[str, str, str], list[int]] = {}
    for row in demo.pos_rows():
        back = (last - row.day).days
        if 0 <= back < 28:
            weekly.setdefault((row.distributor, row.location, row.gtin), [0] * 4)[back // 7] += (
                row.units
            )
    bands = Counter(
        kpis.band(kpis.weeks_of_supply(r.on_hand, weekly.get(r[:3], [])), r.on_hand)
        for r in snapshot
        if r.day == last
    )
    share = {band: n / sum(bands.values()) for band, n in bands.items()}
    assert share[kpis.Band.OUT] >= 0.01
    assert share[kpis.Band.LOW] >= 0.10
    assert share[kpis.Band.HEALTHY] >= 0.40
    assert share[kpis.Band.EXCESS] >= 0.10
    assert max(share.values()) <= 0.70


def test_accepted_promotions_lift_sales_and_cut_the_price():
    demo = build(AS_OF, SMALL)
    price = {k.gtin: k.list_price_minor for k in demo.skus}
    windows = {
        (p.distributor, code, gtin): p
        for p in demo.promotions
        if p.status == "accepted"
        for code in p.locations
        for gtin in p.skus
        if gtin in demo.assortment[(p.distributor, code)]
    }
    inside, outside = [], []
    for row in demo.pos_rows():
        promo = windows.get((row.distributor, row.location, row.gtin))
        if promo is None or row.units < 0:
            continue
        if promo.start <= row.day <= promo.end:
            inside.append(row.units)
            cut = price[row.gtin] * (100 - promo.discount_pct) // 100
            assert row.net_sales_minor == row.units * cut
        else:
            outside.append(row.units)
    assert inside
    assert sum(inside) / len(inside) > 1.1 * sum(outside) / len(outside)


def test_demo_logins_cover_every_role_with_public_example_addresses():
    rows = logins()
    assert len(rows) == len(ACCOUNTS) == 7
    assert {r["role"] for r in rows} == set(ROLES)
    assert all(r["email"].endswith(".example.com") for r in rows)
    assert all(len(r["password"]) >= MIN_PASSWORD for r in rows)
    for account in ACCOUNTS:
        assert ORG_BY_KEY[account.org].kind in ROLE_ORG_KINDS[account.role]


# -- seeded into a fresh hub ----------------------------------------------------------


@pytest.fixture(scope="module")
def demo_as2(tmp_path_factory) -> dict[str, Any]:
    """Tandem's AS2 identity and the demo AS2 partner's (its station's), as PEM files."""
    folder = tmp_path_factory.mktemp("demo-as2")
    station, tandem = make_identity("BRIGHTWELL-AS2"), make_identity("TANDEM")
    return {"port": free_port(), "folder": folder, "station": station,
            "station_files": write_pem(station, folder),
            "tandem_files": write_pem(tandem, folder)}  # fmt: skip


@pytest.fixture(scope="module")
def seeded(start_migrated_hub, tmp_path_factory, demo_as2):
    """A fresh hub with the small demo seeded, as of today (agreements are checked live),
    its first supplier's EDI mailbox in a folder of its own, its second an AS2 partner
    whose station listens on ``demo_as2``'s port (when a test starts it)."""
    running = start_migrated_hub()
    as_of = clock.today()  # the demo's days are relative to it: any day will do
    mailboxes = tmp_path_factory.mktemp("demo-edi")
    as2_partner = {
        "address": f"http://127.0.0.1:{demo_as2['port']}/as2",
        "as2_id": "BRIGHTWELL-AS2",
        "as2_certificate": certificate_pem(demo_as2["station"]),
    }
    result = seed(
        running.admin(), running.lane_url, as_of, spec=SMALL, mailboxes=mailboxes,
        as2_partner=as2_partner,
    )  # fmt: skip
    assert result.seeded
    return running, build(as_of, SMALL), result


def _org_ids(admin) -> dict[str, int]:
    names = {o.name: o.key for o in ORGS}
    return {names[r["name"]]: r["id"] for r in admin.read_items("organizations", limit=-1)}


def _login(running, org: str) -> HubClient:
    """Sign in as the demo's partner user of this supplier or distributor."""
    account = next(a for a in ACCOUNTS if a.org == org)
    return HubClient.login(running.url, account.email, account.password)


def _expected(demo, supplier: str, distributor: str, regions=(), since=None) -> tuple[int, int]:
    """(rows, units) of the supplier's POS at the distributor, from the generator itself."""
    supplier_of = {k.gtin: k.supplier for k in demo.skus}
    region_of = {(loc.distributor, loc.code): loc.region for loc in demo.locations}
    rows = [
        r
        for r in demo.pos_rows()
        if r.distributor == distributor
        and supplier_of[r.gtin] == supplier
        and (not regions or region_of[(r.distributor, r.location)] in regions)
        and (since is None or r.day >= since)
    ]
    return len(rows), sum(r.units for r in rows)


def _seen(client, distributor_id: int) -> tuple[int, int]:
    rows = client.aggregate(
        "pos_sales",
        {"count": ["*"], "sum": ["units"]},
        filter={"distributor": {"_eq": distributor_id}},
    )
    return (int(rows[0]["count"]), int(rows[0]["sum"]["units"] or 0)) if rows else (0, 0)


def test_every_demo_login_signs_in_with_its_role(seeded):
    running, _demo, _result = seeded
    for account in ACCOUNTS:
        client = HubClient.login(running.url, account.email, account.password)
        me = client.get("/users/me", fields=["email", "tandem_role"])
        assert me == {"email": account.email, "tandem_role": account.role}


def test_a_supplier_sees_its_own_skus_pos_as_its_agreements_say(seeded):
    running, demo, _result = seeded
    orgs = _org_ids(running.admin())
    northfield = _login(running, "northfield")
    assert _seen(northfield, orgs["harbor"]) == _expected(demo, "northfield", "harbor")
    partial = _expected(demo, "northfield", "prairie", regions=("midwest", "west"))
    assert 0 < partial[0] < _expected(demo, "northfield", "prairie")[0]
    assert _seen(northfield, orgs["prairie"]) == partial

    later = next(
        p.valid_from for p in demo.agreements if p.grantee == "brightwell" and p.grantor == "harbor"
    )
    brightwell = _login(running, "brightwell")
    assert _expected(demo, "brightwell", "harbor", since=later)[0] > 0
    assert _seen(brightwell, orgs["harbor"]) == _expected(demo, "brightwell", "harbor", since=later)
    skus = {r["sku"] for r in brightwell.read_items("pos_sales", fields=["sku"], limit=-1)}
    own = {r["id"] for r in brightwell.read_items("skus", fields=["id"], limit=-1)}
    assert skus
    assert skus <= own


def test_forecasts_and_commitments_are_seeded_and_shared_as_agreed(seeded):
    running, demo, result = seeded
    orgs = _org_ids(running.admin())
    assert result.counts["forecasts"] == sum(1 for _ in demo.forecast_rows()) > 0
    assert result.counts["commitments"] == len(demo.commitments()) > 0
    northfield = _login(running, "northfield")
    supplier_of = {k.gtin: k.supplier for k in demo.skus}
    since = next(
        a.valid_from for a in demo.agreements if (a.grantor, a.grantee) == ("harbor", "northfield")
    )
    theirs = sum(
        r.units
        for r in demo.forecast_rows()
        if r.distributor == "harbor" and supplier_of[r.gtin] == "northfield" and r.week >= since
    )
    shared = northfield.aggregate(
        "forecasts", {"sum": ["forecast_units"]}, filter={"distributor": {"_eq": orgs["harbor"]}}
    )
    assert int(shared[0]["sum"]["forecast_units"]) == theirs  # harbor shares its forecasts
    unshared = northfield.read_items(
        "forecasts", filter={"distributor": {"_eq": orgs["prairie"]}}, limit=1
    )
    assert unshared == []  # prairie shares none
    committed = northfield.read_items("commitments", fields=["units"], limit=-1)
    assert sum(r["units"] for r in committed) == sum(c.units for c in demo.commitments())
    assert _login(running, "brightwell").read_items("commitments", limit=1) == []


def test_the_revoked_agreement_gives_nothing(seeded):
    running, demo, _result = seeded
    orgs = _org_ids(running.admin())
    cascade = _login(running, "cascade")
    assert _seen(cascade, orgs["harbor"]) == (0, 0)
    assert _seen(cascade, orgs["prairie"]) == _expected(demo, "cascade", "prairie")


def test_a_distributor_sees_all_of_its_own_pos_and_nobody_elses(seeded):
    running, demo, _result = seeded
    orgs = _org_ids(running.admin())
    harbor = _login(running, "harbor")
    assert _seen(harbor, orgs["harbor"]) == (
        sum(1 for r in demo.pos_rows() if r.distributor == "harbor"),
        sum(r.units for r in demo.pos_rows() if r.distributor == "harbor"),
    )
    assert _seen(harbor, orgs["prairie"]) == (0, 0)


COLLECTIONS = (
    "organizations",
    "partnerships",
    "partnership_managers",
    "skus",
    "sku_codes",
    "locations",
    "share_agreements",
    "promotions",
    "promotion_skus",
    "promotion_locations",
    "promotion_events",
    "purchase_orders",
    "po_lines",
    "shipments",
    "shipment_lines",
    "invoices",
    "invoice_lines",
    "business_plans",
    "risks",
    "pos_sales",
    "inventory_positions",
)


def _census(admin) -> dict:
    counts = {c: admin.count_items(c) for c in COLLECTIONS}
    counts["users"] = len(admin.get("/users", fields=["id"], limit=-1))
    counts["permissions"] = len(admin.get("/permissions", fields=["id"], limit=-1))
    counts["units"] = admin.aggregate("pos_sales", {"sum": ["units"]})[0]["sum"]["units"]
    return counts


def test_seeding_again_changes_nothing_and_an_interrupted_seed_resumes(seeded):
    running, demo, result = seeded
    admin = running.admin()
    before = _census(admin)
    assert before["pos_sales"] == result.counts["pos_sales"] == sum(1 for _ in demo.pos_rows())

    again = seed(admin, running.lane_url, demo.as_of, spec=SMALL)
    assert not again.seeded
    assert _census(admin) == before

    # Without its finishing mark, a seed redoes every step (each finds its rows there),
    # with the day and spec it began with, not those asked for now.
    marks = admin.read_items("audit_log", filter={"action": {"_eq": MARKER}}, fields=["id"])
    admin.delete_items("audit_log", [m["id"] for m in marks])
    assert seeded_as_of(admin) is None
    tomorrow = demo.as_of + dt.timedelta(days=1)
    resumed = seed(admin, running.lane_url, tomorrow, spec=Spec(days=3))
    assert (resumed.seeded, resumed.as_of) == (True, demo.as_of)
    assert _census(admin) == before
    assert seeded_as_of(admin) == demo.as_of


def test_the_cli_says_when_the_demo_is_there_already(seeded):
    running, _demo, _result = seeded
    env = {
        "TANDEM_HUB_ADMIN_EMAIL": running.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": running.admin_password,
    }
    result = CliRunner().invoke(cli, ["demo", "seed", "--hub-url", running.url], env=env)
    assert result.exit_code == 0, result.output
    assert "already seeded" in result.output


def test_demo_accounts_prints_the_logins_as_json():
    result = CliRunner().invoke(cli, ["demo", "accounts", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == logins()
    assert set(logins()[0]) == {"email", "password", "role", "organization"}


def test_the_demos_suppliers_exchange_orders_by_x12_folder_by_edifact_as2_and_on_the_web(
    seeded, demo_as2
):
    running, demo, _result = seeded
    admin = running.admin()
    profiles = {
        r["name"]: r["edi_profile"]
        for r in admin.read_items("organizations", fields=["name", "edi_profile"], limit=-1)
    }
    first, second = SUPPLIERS[0], SUPPLIERS[1]
    assert profiles[first.name]["standard"] == "x12"
    assert profiles[first.name]["transport"] == "folder"
    assert (profiles[second.name]["standard"], profiles[second.name]["transport"]) == (
        "edifact", "as2")  # fmt: skip
    assert all(profiles[s.name] is None for s in SUPPLIERS[2:])
    # The scheduler's exchange sends the first two suppliers their open orders, and only
    # those: the first's to its folder, the second's to its AS2 station (tandem.station,
    # as make run starts it), whose signed receipts say it took them.
    token = secrets.token_urlsafe(32)
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    sync = HubClient(running.url, token=token)
    (station_cert, station_key), (tandem_cert, tandem_key) = (
        demo_as2["station_files"], demo_as2["tandem_files"])  # fmt: skip
    received = demo_as2["folder"] / "brightwell"
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{demo_as2['port']}",
            "tandem.station:create_app()"]  # fmt: skip
    env = {"TANDEM_STATION_ID": "BRIGHTWELL-AS2", "TANDEM_STATION_CERT": str(station_cert),
           "TANDEM_STATION_KEY": str(station_key), "TANDEM_STATION_FOLDER": str(received),
           "TANDEM_AS2_ID": "TANDEM", "TANDEM_AS2_CERT": str(tandem_cert)}  # fmt: skip
    with serving(argv, f"http://127.0.0.1:{demo_as2['port']}/as2", env):
        settings = {"settle_s": 0, "as2_id": "TANDEM", "as2_certificate": str(tandem_cert),
                    "as2_key": str(tandem_key)}  # fmt: skip
        context = JobContext(hub=sync, job_id="edi.exchange", run_id="demo", settings=settings)
        exchange(context)
    for supplier, code, folder in (
        (first, "850", Path(profiles[first.name]["address"]) / "outbox"),
        (second, "ORDERS", received / "received"),
    ):
        open_orders = [o for o in demo.orders if o.supplier == supplier.key and o.status == "open"]
        assert open_orders  # the demo has orders in flight
        sent = sorted(r.document.number for p in folder.iterdir() for r in read(p.read_bytes()))
        assert sent == sorted(o.number for o in open_orders)
        assert context.counts[f"sent_{code}"] == len(open_orders)
    receipts = {r["receipt"] for r in admin.read_items(
        "edi_messages", filter={"message_type": {"_eq": "ORDERS"}}, fields=["receipt"],
        limit=-1)}  # fmt: skip
    assert receipts == {"processed; signature valid; MIC matches"}
