"""The ``scorecards.compute`` job on a real hub pinned to a day past a year's end: what it
stores, that it rewrites only what changed, and that nobody else writes what it computed."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest

from directus import HubClient
from directus.errors import HubError
from governance.partners import assign_manager, ensure_partnership
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync.runs import JobContext
from sync.scorecards import compute_scorecards
from tests.factories import make_org, make_sku, make_user
from tests.pinning import module_hub

TODAY = dt.date(2027, 1, 6)
hub, admin = module_hub(TODAY)


@pytest.fixture(scope="module")
def sync(hub, admin) -> HubClient:
    token = secrets.token_urlsafe(32)
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    return HubClient(hub.url, token=token)


def run(sync: HubClient) -> dict[str, int]:
    ctx = JobContext(hub=sync, job_id="scorecards.compute", run_id=str(uuid.uuid4()),
                     settings={"quarters": 5})  # fmt: skip
    compute_scorecards(ctx)
    return dict(ctx.counts)


def stamp(day: str, hour: int) -> str:
    return f"{day}T{hour:02d}:00:00Z"


@pytest.fixture(scope="module")
def pair(hub, admin, sync):
    """A pair with three December orders: one perfect, one late, short and answered late,
    one cancelled; its manager; and the job's first run."""
    supplier, distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    pid = ensure_partnership(admin, supplier["id"], distributor["id"])
    manager = make_user(admin, "account_manager", make_org(admin, "operator"))
    assign_manager(admin, manager.id, supplier["id"], distributor["id"], via="test")
    sku = make_sku(admin, supplier)
    admin.update_item("skus", sku["id"], {"case_pack": 6})
    ids = {}
    for name, ordered, due, acked, status in (
        ("perfect", "2026-12-01", "2026-12-15", stamp("2026-12-01", 15), "received"),
        ("late", "2026-12-08", "2026-12-22", stamp("2026-12-10", 9), "partially_shipped"),
        ("cancelled", "2026-12-09", "2026-12-23", None, "cancelled"),
    ):
        po = admin.create_item("purchase_orders", {
            "number": f"PO-{name}-{pid}", "status": status, "ordered_on": ordered,
            "requested_date": due, "promised_date": due, "original_promised_date": due,
            "acknowledged_at": acked, "currency": "USD", "partnership": pid,
        })  # fmt: skip
        admin.update_item("purchase_orders", po["id"], {"placed_at": stamp(ordered, 9)})
        line = admin.create_item("po_lines", {
            "purchase_order": po["id"], "line_no": 1, "sku": sku["id"], "qty_ordered": 60,
            "qty_promised": 60, "unit_cost_minor": 100, "partnership": pid,
        })  # fmt: skip
        ids[name], ids[f"{name}_line"] = po["id"], line["id"]
    for name, ship, received, qty in (("perfect", "2026-12-12", "2026-12-14", 60),
                                      ("late", "2026-12-26", "2026-12-28", 48)):  # fmt: skip
        asn = admin.create_item("shipments", {
            "number": f"ASN-{name}-{pid}", "status": "received", "ship_date": ship,
            "received_date": received, "purchase_order": ids[name], "partnership": pid,
        })  # fmt: skip
        admin.update_item("shipments", asn["id"], {"recorded_at": stamp(ship, 18)})
        admin.create_item("shipment_lines", {
            "shipment": asn["id"], "po_line": ids[f"{name}_line"], "qty_shipped": qty,
            "qty_received": qty, "partnership": pid,
        })  # fmt: skip
        invoice = admin.create_item("invoices", {
            "number": f"INV-{name}-{pid}", "invoice_date": ship, "total_minor": qty * 100,
            "currency": "USD", "purchase_order": ids[name], "partnership": pid,
        })  # fmt: skip
        line = admin.create_item("invoice_lines", {
            "invoice": invoice["id"], "po_line": ids[f"{name}_line"], "qty": qty,
            "unit_price_minor": 100, "amount_minor": qty * 100, "partnership": pid,
        })  # fmt: skip
        ids[f"{name}_invoice_line"] = line["id"]
    first = run(sync)
    return {"id": pid, "ids": ids, "manager": manager, "supplier": supplier,
            "distributor": distributor, "first": first}  # fmt: skip


def card(admin: HubClient, pid: int, grain: str, start: str) -> dict:
    (row,) = admin.read_items(
        "scorecards",
        filter={"key": {"_eq": f"{pid}:{grain}:{start}"}},
        fields=["*", "values.*"],
        limit=1,
    )
    row["by_kpi"] = {v["kpi"]: v for v in row["values"]}
    return row


def test_the_job_stores_every_period_of_the_last_five_quarters_with_named_variants(admin, pair):
    pid = pair["id"]
    # Five calendar quarters back from 6 Jan 2027: 2026-Q1 .. 2027-Q1, 13 months, and the
    # ISO weeks from 2025-W01 (Monday 29 Dec 2025) to 2027-W01.
    stored = admin.read_items("scorecards", filter={"partnership": {"_eq": pid}},
                              fields=["grain", "label", "source"], limit=-1)  # fmt: skip
    labels = {
        g: sorted(r["label"] for r in stored if r["grain"] == g)
        for g in ("quarter", "month", "week")
    }
    assert labels["quarter"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]
    assert len(labels["month"]) == 13
    assert labels["week"][0] == "2026-W01"
    assert labels["week"][-1] == "2027-W01"
    assert {r["source"] for r in stored} == {"computed"}
    december = card(admin, pid, "month", "2026-12-01")
    assert december["label"] == "2026-12"
    assert december["period_end"] == "2026-12-31"
    for value in december["values"]:
        assert value["variant"], value["kpi"]


def test_december_by_hand(admin, pair):
    ids = pair["ids"]
    kpi = card(admin, pair["id"], "month", "2026-12-01")["by_kpi"]
    perfect, late = ids["perfect"], ids["late"]
    # The cancelled order counts nowhere; the late one misses on time and in full.
    assert (kpi["otif.order.promised"]["value"], kpi["otif.order.promised"]["basis"],
            kpi["otif.order.promised"]["misses"]) == ("50.0", [perfect, late], [late])  # fmt: skip
    assert (kpi["otif.unit.promised"]["numerator"], kpi["otif.unit.promised"]["denominator"]) == (
        "60",
        "120",
    )
    assert kpi["otif.case.promised"]["numerator"] == "10"  # 60 units in packs of 6
    assert kpi["fill.unit"]["value"] == "90.0"  # (60 + 48) / 120
    assert kpi["fill.order"]["value"] == "50.0"
    assert kpi["perfect_order"]["misses"] == [late]
    # Placed 09:00; answered 15:00 the same day, and two days later.
    assert (kpi["ack.24h"]["value"], kpi["ack.24h"]["misses"]) == ("50.0", [late])
    # Only the perfect order was received in full: 1 to 14 December.
    assert (kpi["lead_time.mean"]["value"], kpi["lead_time.mean"]["basis"]) == ("13.0", [perfect])
    assert kpi["lead_time.mean"]["unit"] == "days"
    assert kpi["asn.timely"]["value"] == "100.0"
    assert kpi["jbp.adherence"]["value"] is None  # no plan actions: no data, not 0
    assert kpi["otif.order.promised"]["collection"] == "purchase_orders"


def test_a_second_run_rewrites_nothing_and_a_change_rewrites_only_its_periods(admin, sync, pair):
    assert pair["first"]["created"] == pair["first"]["computed"]
    second = run(sync)
    assert (second["created"], second["updated"]) == (0, 0)
    assert second["unchanged"] == pair["first"]["computed"]
    before = card(admin, pair["id"], "quarter", "2026-10-01")
    # The perfect order's invoice is corrected to 59: it is no longer a perfect order.
    admin.update_item("invoice_lines", pair["ids"]["perfect_invoice_line"], {"qty": 59})
    again = run(sync)
    # Its week (due 15 Dec: 2026-W51), December and 2026-Q4.
    assert again["updated"] == 3
    after = card(admin, pair["id"], "quarter", "2026-10-01")
    assert after["id"] == before["id"]
    assert after["by_kpi"]["perfect_order"]["value"] == "0.0"
    assert before["by_kpi"]["perfect_order"]["value"] == "50.0"
    assert len(after["values"]) == len(before["values"])
    admin.update_item("invoice_lines", pair["ids"]["perfect_invoice_line"], {"qty": 60})
    assert run(sync)["updated"] == 3


def test_nobody_but_the_job_writes_a_computed_scorecard(hub, admin, pair):
    manager = pair["manager"].login(hub.url)
    computed = card(admin, pair["id"], "month", "2026-12-01")
    value = computed["values"][0]
    attempts = [
        lambda: manager.update_item("scorecard_values", value["id"], {"value": "100.0"}),
        lambda: manager.update_item("scorecards", computed["id"], {"label": "better"}),
        lambda: manager.create_item("scorecard_values", {
            "scorecard": computed["id"], "partnership": pair["id"], "kpi": "otif",
            "variant": "mine", "value": "100"}),
        lambda: manager.delete_item("scorecard_values", value["id"]),
        lambda: manager.create_item("scorecards", {
            "partnership": pair["id"], "period_start": "2026-12-01", "period_end": "2026-12-31",
            "source": "computed"}),
    ]  # fmt: skip
    for attempt in attempts:
        with pytest.raises(HubError):
            attempt()
    assert card(admin, pair["id"], "month", "2026-12-01")["by_kpi"] == computed["by_kpi"]
    # The manager's own scorecards are still theirs to keep.
    december = {"period_start": "2026-12-01", "period_end": "2026-12-31"}
    mine = manager.create_item("scorecards", {"partnership": pair["id"], **december})
    manager.create_item(
        "scorecard_values",
        {"scorecard": mine["id"], "partnership": pair["id"], "kpi": "otif", "variant": "mine"},
    )
    assert admin.read_item("scorecards", mine["id"])["source"] == "manual"


def test_the_hub_stamps_placement_and_no_partner_changes_it(hub, admin, pair):
    distributor = make_user(admin, "distributor_user", pair["distributor"]).login(hub.url)
    order = pair["ids"]["perfect"]
    with pytest.raises(HubError):
        distributor.update_item("purchase_orders", order, {"placed_at": "2026-11-01T00:00:00Z"})
    assert admin.read_item("purchase_orders", order)["placed_at"].startswith("2026-12-01T09:00")


def test_another_pairs_partner_reads_none_of_it(hub, admin, pair):
    outsider = make_user(admin, "supplier_user").login(hub.url)
    assert outsider.read_items("scorecards", filter={"partnership": {"_eq": pair["id"]}}) == []
    assert (
        outsider.read_items("scorecard_values", filter={"partnership": {"_eq": pair["id"]}}) == []
    )


def test_the_portal_refuses_a_managers_value_on_a_computed_scorecard(hub, admin, pair):
    from portal.data import DataError
    from tests.factories import governed_access

    manager = governed_access(hub, pair["manager"])
    computed = card(admin, pair["id"], "month", "2026-12-01")
    with pytest.raises(DataError) as refused:
        manager.create_child("scorecards", computed["id"], "values",
                             {"kpi": "otif", "variant": "mine", "value": "100"})  # fmt: skip
    assert "scorecard" in str(refused.value.errors or refused.value.message)
    assert len(card(admin, pair["id"], "month", "2026-12-01")["values"]) == len(computed["values"])


# -- the pages ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(hub):
    from portal import create_app
    from portal.config import Config

    token = secrets.token_urlsafe(32)
    from migrations.accounts import PORTAL_AUTH_EMAIL

    set_service_token(hub.admin(), PORTAL_AUTH_EMAIL, token)
    portal = create_app(Config(secret_key=secrets.token_urlsafe(48), hub_url=hub.url,
                               portal_auth_token=token))  # fmt: skip
    portal.testing = True
    return portal


@pytest.fixture(scope="module")
def reviewed(admin, sync, pair):
    """The pair's plan for 2027 with a target the quarter misses, an overdue action and
    an overdue risk review; scorecards computed again."""
    pid = pair["id"]
    plan = admin.create_item("business_plans", {
        "partnership": pid, "year": 2027, "status": "active",
        "targets": {"fill.unit": "98.0", "ack.24h": "95.0", "net_sales_growth_pct": "4.0"},
    })  # fmt: skip
    admin.create_item("plan_actions", {
        "plan": plan["id"], "partnership": pid, "title": "Weekly allocation call",
        "owner_side": "supplier", "due_date": "2027-01-04", "status": "open",
    })  # fmt: skip
    admin.create_item("risks", {
        "partnership": pid, "title": "Port strike", "category": "supply", "likelihood": 4,
        "impact": 5, "review_date": "2027-01-02", "status": "open",
    })  # fmt: skip
    # An order due in January, short: the quarter to date misses the fill target.
    po = admin.create_item("purchase_orders", {
        "number": f"PO-jan-{pid}", "status": "partially_shipped", "ordered_on": "2026-12-20",
        "requested_date": "2027-01-04", "promised_date": "2027-01-04", "currency": "USD",
        "partnership": pid,
    })  # fmt: skip
    line = admin.create_item("po_lines", {
        "purchase_order": po["id"], "line_no": 1, "sku": admin.read_items(
            "po_lines", filter={"purchase_order": {"_eq": pair["ids"]["perfect"]}},
            fields=["sku"], limit=1)[0]["sku"],
        "qty_ordered": 100, "qty_promised": 100, "unit_cost_minor": 100, "partnership": pid,
    })  # fmt: skip
    asn = admin.create_item("shipments", {
        "number": f"ASN-jan-{pid}", "status": "shipped", "ship_date": "2027-01-02",
        "purchase_order": po["id"], "partnership": pid,
    })  # fmt: skip
    admin.create_item("shipment_lines", {"shipment": asn["id"], "po_line": line["id"],
                                         "qty_shipped": 90, "partnership": pid})  # fmt: skip
    run(sync)
    return {"plan": plan["id"], "january": po["id"]}


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_managers_home_leads_with_what_needs_attention_and_lists_the_pair(app, pair, reviewed):
    from tests.factories import sign_in

    home = page(sign_in(app, pair["manager"]), "/manager")
    assert "1 risk review overdue" in home
    assert "1 plan action due within 14 days" in home
    # Quarter to date: 90 of 100 units shipped against a 98 % target.
    assert "Unit fill: 90.0 %" in home
    assert f"/reviews/pairs/{pair['id']}" in home
    assert 'href="/manager"' not in home.split('id="attention"')[1].split("</ul>")[0]


def test_the_pair_page_shows_plan_targets_actions_and_the_risk_heat_map(app, pair, reviewed):
    from tests.factories import sign_in

    body = page(sign_in(app, pair["manager"]), f"/reviews/pairs/{pair['id']}")
    assert '<svg class="chart heat-map"' in body
    assert "likelihood 4 times impact 5 = 20 (critical): 1" in body
    assert "Weekly allocation call" in body
    assert "overdue" in body
    assert "net_sales_growth_pct 4.0" in body
    assert "2027-Q1" in body


def test_the_scorecard_table_and_its_drill_down_to_the_orders(app, admin, pair, reviewed):
    from tests.factories import sign_in

    client = sign_in(app, pair["manager"])
    table = page(client, f"/reviews/pairs/{pair['id']}/scorecard?grain=month")
    assert "2026-12" in table
    assert "Perfect order" in table
    december = card(admin, pair["id"], "month", "2026-12-01")
    drill = page(client, f"/reviews/scorecards/{december['id']}/otif.order.promised")
    assert f"PO-late-{pair['id']}" in drill
    assert f"PO-perfect-{pair['id']}" in drill
    assert "cancelled" not in drill.split('id="records"')[1]
    assert drill.index(f"PO-late-{pair['id']}") < drill.index(f"PO-perfect-{pair['id']}")
    # Both partners of the pair read it too.
    supplier = make_user(admin, "supplier_user", pair["supplier"])
    assert "2026-12" in page(sign_in(app, supplier), f"/reviews/pairs/{pair['id']}/scorecard")


def test_nobody_outside_the_pair_reads_its_review_or_its_figures(app, admin, pair, reviewed):
    from tests.factories import sign_in

    december = card(admin, pair["id"], "month", "2026-12-01")
    other_manager = make_user(admin, "account_manager", make_org(admin, "operator"))
    outsider = make_user(admin, "supplier_user")
    for member in (other_manager, outsider):
        client = sign_in(app, member)
        page(client, f"/reviews/pairs/{pair['id']}", 403)
        page(client, f"/reviews/scorecards/{december['id']}/otif.order.promised", 404)
        body = page(client, f"/reviews/pairs/{pair['id']}/scorecard", 403)
        assert f"PO-late-{pair['id']}" not in body
        assert "PO-" not in page(client, "/reviews")
