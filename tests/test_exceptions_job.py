"""The ``exceptions.evaluate`` job on a real hub pinned to Wednesday 2 December 2026: a
pair's agreed criteria, evaluated on what the distributor shares with the supplier, open
exceptions with their owner, due time and figures (all by hand below); a second run
changes nothing, a fixed condition is noted cleared, and only the pair reads them.

The pair's figures: Oats and Bran, 14 days' lead time (2026-W52, 21 December, is the
first open week); three stores' Saturday snapshots; four weeks of POS before the last.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import secrets
import uuid
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from directus import HubClient
from directus.bulk import open_lane, write_rows
from directus.errors import ForbiddenOrMissing, InvalidPayload
from governance.errors import GovernanceError
from governance.exceptions import set_criteria, set_escalation
from governance.partners import assign_manager, ensure_partnership
from governance.sharing import grant
from migrations.accounts import SYNC_SERVICE_EMAIL, set_service_token
from sync.exceptions import EXCEPTIONS_JOB, evaluate_exceptions
from sync.runs import JobContext
from sync.scorecards import compute_scorecards
from tests.factories import csrf_token, make_org, make_sku, make_store, make_user, sign_in
from tests.pinning import module_hub, pinned

TODAY = dt.date(2026, 12, 2)
hub, admin = module_hub(TODAY)
OPEN = dt.date(2026, 12, 21)
SNAPSHOTS = [dt.date(2026, 11, 14), dt.date(2026, 11, 21), dt.date(2026, 11, 28)]
POS_WEEKS = [dt.date(2026, 10, 26) + dt.timedelta(weeks=k) for k in range(4)]
CRITERIA = [
    {"name": "Plan gap", "metric": "forecast_commitment_gap_pct", "comparison": "above",
     "threshold": "20", "owner_side": "supplier", "response_hours": 48},
    {"name": "In-stock", "metric": "in_stock_pct", "comparison": "below", "threshold": "90",
     "owner_side": "distributor", "response_hours": 24},
    {"name": "Weeks of supply", "metric": "weeks_of_supply", "comparison": "outside",
     "threshold": "4", "upper": "13", "owner_side": "distributor", "response_hours": 72},
    {"name": "Late answer", "metric": "po_unacknowledged_hours", "comparison": "above",
     "threshold": "24", "owner_side": "supplier", "response_hours": 8},
    {"name": "Empty shelf", "metric": "store_out_of_stock_days", "comparison": "above",
     "threshold": "2", "owner_side": "distributor", "response_hours": 24},
]  # fmt: skip


@pytest.fixture(scope="module")
def sync(hub, admin) -> HubClient:
    token = secrets.token_urlsafe(32)
    set_service_token(admin, SYNC_SERVICE_EMAIL, token)
    return HubClient(hub.url, token=token)


def run(sync: HubClient) -> dict[str, int]:
    ctx = JobContext(hub=sync, job_id=EXCEPTIONS_JOB, run_id=str(uuid.uuid4()), settings={})
    evaluate_exceptions(ctx)
    return dict(ctx.counts)


@pytest.fixture(scope="module")
def world(hub, admin) -> dict:
    supplier, distributor = make_org(admin, "supplier"), make_org(admin, "distributor")
    rival = make_org(admin, "distributor")
    pid = ensure_partnership(admin, supplier["id"], distributor["id"])
    ensure_partnership(admin, supplier["id"], rival["id"])
    oats, bran = make_sku(admin, supplier), make_sku(admin, supplier)
    for sku in (oats, bran):
        admin.update_item("skus", sku["id"], {"lead_time_days": 14})
    e1, e2, e3 = (make_store(admin, distributor, c, "east") for c in ("E1", "E2", "E3"))
    d, o, b = distributor["id"], oats["id"], bran["id"]
    stock = []
    for day in SNAPSHOTS:
        stock += [(d, e1["id"], o, day, 0, 0, 0), (d, e2["id"], o, day, 12, 0, 0),
                  (d, e3["id"], o, day, 5, 0, 0), (d, e1["id"], b, day, 40, 0, 0),
                  (d, e2["id"], b, day, 40, 0, 0)]  # fmt: skip
    pos = []
    for week in POS_WEEKS:
        wednesday = week + dt.timedelta(days=2)
        pos += [(d, s["id"], o, wednesday, 5, 500, "USD") for s in (e1, e2, e3)]
        pos += [(d, s["id"], b, wednesday, 1, 100, "USD") for s in (e1, e2)]
    forecasts = [(d, e1["id"], o, OPEN, 30), (d, e2["id"], o, OPEN, 20), (d, e1["id"], b, OPEN, 10)]
    with open_lane(hub.lane_url) as lane:
        write_rows(lane, "inventory", stock)
        write_rows(lane, "pos", pos)
        write_rows(lane, "forecasts", forecasts)
    grant(admin, d, supplier["id"], ["pos", "inventory", "forecasts"],
          valid_from=dt.date(2026, 1, 1), via="test")  # fmt: skip
    for sku, units in ((o, 30), (b, 10)):  # Oats 40 % under the forecast, Bran on it
        row = {"partnership": pid, "sku": sku, "week_start": OPEN.isoformat(), "units": units}
        admin.create_item("commitments", row)
    order = admin.create_item("purchase_orders", {
        "number": "PO-late", "status": "open", "currency": "USD", "ordered_on": "2026-12-02",
        "requested_date": "2026-12-20", "partnership": pid,
    })  # fmt: skip
    set_criteria(admin, supplier["id"], distributor["id"], CRITERIA, via="test")
    manager = make_user(admin, "account_manager")
    assign_manager(admin, manager.id, supplier["id"], distributor["id"])
    return {
        "pid": pid, "oats": oats, "bran": bran, "e1": e1, "order": order,
        "supplier": supplier, "distributor": distributor,
        "seller": make_user(admin, "supplier_user", supplier),
        "buyer": make_user(admin, "distributor_user", distributor),
        "rival": make_user(admin, "distributor_user", rival),
        "manager": manager, "outsider": make_user(admin, "account_manager"),
    }  # fmt: skip


def found(admin, world) -> dict[str, dict]:
    rows = admin.read_items("exceptions", filter={"partnership": {"_eq": world["pid"]}},
                            fields=["*", "criterion.name", "events.kind"], limit=-1)  # fmt: skip
    return {f"{r['criterion']['name']} {r['subject']}": r for r in rows}


def test_the_criteria_find_what_the_pair_shares_with_owners_due_times_and_figures(
    admin, sync, world
):
    counts = run(sync)  # the order was placed at the pinned noon: not late yet
    assert counts["exceptions_open"] == 5
    o, b, e1 = world["oats"]["id"], world["bran"]["id"], world["e1"]["id"]
    got = found(admin, world)
    assert sorted(got) == sorted([
        f"Plan gap sku:{o}:week:2026-12-21",  # 30 against 50: 40 % off
        f"In-stock sku:{o}",  # 2 of 3 stores: 66.7 %
        f"Weeks of supply sku:{o}",  # 17 on hand, 15 a week: 1.1 weeks
        f"Weeks of supply sku:{b}",  # 80 on hand, 2 a week: 40 weeks
        f"Empty shelf store:{e1}:sku:{o}",  # empty since 14 November: 15 days
    ])  # fmt: skip
    gap = got[f"Plan gap sku:{o}:week:2026-12-21"]
    assert (gap["value"], gap["owner_side"], gap["status"]) == ("40.0", "supplier", "open")
    assert gap["figures"] == {"forecast": "50", "commitment": "30", "gap_pct": "-40.0"}
    assert gap["due_at"].startswith("2026-12-04T12:")  # 48 hours
    assert [e["kind"] for e in gap["events"]] == ["opened"]
    assert got[f"In-stock sku:{o}"]["value"] == "66.7"
    assert got[f"In-stock sku:{o}"]["due_at"].startswith("2026-12-03T12:")
    assert got[f"Weeks of supply sku:{o}"]["value"] == "1.1"
    assert got[f"Weeks of supply sku:{b}"]["value"] == "40.0"
    shelf = got[f"Empty shelf store:{e1}:sku:{o}"]
    assert (shelf["value"], shelf["figures"]["since"]) == ("15", "2026-11-14")


def test_a_second_run_opens_nothing_and_the_clock_ages_an_unanswered_order(admin, sync, world):
    before = found(admin, world)
    again = run(sync)
    assert again.get("exceptions_open", 0) == 0
    assert found(admin, world).keys() == before.keys()
    with pinned(dt.date(2026, 12, 4)):  # 48 hours after the order was placed
        later = run(sync)
    assert later.get("exceptions_open") == 1
    late = found(admin, world)[f"Late answer po:{world['order']['id']}"]
    assert D(late["value"]) >= D(47)
    assert late["owner_side"] == "supplier"


def test_a_fixed_condition_is_noted_cleared_and_its_return_recurs(admin, sync, world):
    o = world["oats"]["id"]
    key = f"{world['pid']}:{o}:{OPEN}"
    admin.update_item("commitments", key, {"units": 48})  # within 20 % of 50
    with pinned(dt.date(2026, 12, 4)):
        counts = run(sync)
    assert counts.get("exceptions_cleared") == 1
    gap = found(admin, world)[f"Plan gap sku:{o}:week:2026-12-21"]
    assert gap["cleared_at"] is not None
    assert gap["status"] == "open"  # cleared is noted; closing it is the owner's
    admin.update_item("commitments", key, {"units": 20})
    with pinned(dt.date(2026, 12, 4)):
        assert run(sync).get("exceptions_recurred") == 1
    gap = found(admin, world)[f"Plan gap sku:{o}:week:2026-12-21"]
    assert gap["cleared_at"] is None
    assert gap["value"] == "60.0"
    assert [e["kind"] for e in gap["events"]] == ["opened", "cleared", "recurred"]


def test_an_unchanged_pair_is_not_evaluated_again_but_the_clock_criteria_are(sync):
    with pinned(dt.date(2026, 12, 4)):
        run(sync)
        counts = run(sync)
    assert counts.get("pairs_evaluated") == 1  # the late-answer criterion only
    assert not any(v for k, v in counts.items() if k.startswith("exceptions_") and k not in (
        "exceptions_update", "exceptions_escalated"))  # fmt: skip


def test_only_the_pair_reads_its_exceptions(hub, world):
    expected = {r for r in found(hub.admin(), world)}
    assert expected
    for who in ("seller", "buyer", "manager"):
        client = HubClient.login(hub.url, world[who].email, world[who].password)
        assert len(client.read_items("exceptions", limit=-1)) == len(expected), who
        assert client.read_items("exception_criteria", limit=-1), who
    for who in ("rival", "outsider"):
        client = HubClient.login(hub.url, world[who].email, world[who].password)
        assert client.read_items("exceptions", limit=-1) == [], who
        assert client.read_items("exception_events", limit=-1) == [], who
        with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal: nothing written
            client.update_item("exceptions", next(iter(found(hub.admin(), world).values()))["id"],
                               {"status": "resolved"})  # fmt: skip


def test_criteria_are_checked_before_anything_is_stored(admin, world):
    bad = [{**CRITERIA[0], "name": "Bad", "threshold": "twenty"}]
    with pytest.raises(GovernanceError, match="criterion 1 \\(Bad\\): threshold"):
        set_criteria(admin, world["supplier"]["id"], world["distributor"]["id"], bad)
    twice = [CRITERIA[0], CRITERIA[0]]
    with pytest.raises(GovernanceError, match="its own name"):
        set_criteria(admin, world["supplier"]["id"], world["distributor"]["id"], twice)
    names = {r["name"] for r in admin.read_items(
        "exception_criteria", filter={"partnership": {"_eq": world["pid"]}}, limit=-1)}  # fmt: skip
    assert names == {c["name"] for c in CRITERIA}
    assert json.dumps(CRITERIA)  # the CLI's file is this JSON


# -- the workflow: moves, comments, the close the hub stamps -----------------------------------


@pytest.fixture
def app(hub, make_portal):
    return make_portal(hub)


def login(hub, member) -> HubClient:
    return HubClient.login(hub.url, member.email, member.password)


def test_either_side_moves_an_exception_as_the_table_says_and_the_hub_stamps_its_close(
    hub, admin, world
):
    shelf = next(v for k, v in found(admin, world).items() if k.startswith("Empty shelf"))
    seller, buyer = login(hub, world["seller"]), login(hub, world["buyer"])
    seller.update_item("exceptions", shelf["id"], {"status": "acknowledged"})
    with pytest.raises(InvalidPayload, match="status: the supplier may not move"):
        seller.update_item("exceptions", shelf["id"], {"status": "open"})
    with pytest.raises(InvalidPayload, match="closed_at"):  # the hub's to stamp
        buyer.update_item("exceptions", shelf["id"], {"closed_at": "2026-12-01T00:00:00Z"})
    with pytest.raises(InvalidPayload, match="value"):  # the job's figures
        buyer.update_item("exceptions", shelf["id"], {"value": "0"})
    buyer.update_item("exceptions", shelf["id"], {"status": "resolved", "resolution": "Restocked"})
    closed = admin.read_item("exceptions", shelf["id"])
    assert closed["closed_at"] is not None
    assert D(closed["hours_to_close"]) < D(1)  # found at the pinned noon, closed now
    with pytest.raises(ForbiddenOrMissing):
        login(hub, world["rival"]).update_item("exceptions", shelf["id"], {"status": "open"})
    buyer.update_item("exceptions", shelf["id"], {"status": "open"})  # reopened
    assert admin.read_item("exceptions", shelf["id"])["closed_at"] is None


def test_the_pages_list_move_and_comment_and_refuse_a_dismissal_without_a_reason(app, admin, world):
    buyer = sign_in(app, world["buyer"], remote_addr="10.16.0.1")
    home = buyer.get("/distributor").get_data(as_text=True)
    owned = r"\d exceptions your side owns</a> <span class=\"muted\">· none past due"
    assert re.search(owned, home)
    page = buyer.get("/exceptions").get_data(as_text=True)
    in_stock = next(v for k, v in found(admin, world).items() if k.startswith("In-stock"))
    assert f'id="exception-{in_stock["id"]}"' in page
    # an exception about a store names it, and its SKU, by name and code, never an id
    shelf = next(v for k, v in found(admin, world).items() if k.startswith("Empty shelf"))
    e1, oats = world["e1"], world["oats"]
    row = page[page.index(f'id="exception-{shelf["id"]}"') :].split("</tr>")[0]
    assert f"{oats['description']} ({oats['gtin']})" in row
    assert f"{e1['name']} ({e1['code']})" in row
    assert f"store {e1['id']}" not in row
    assert "(yours)" in page  # in-stock is the distributor's to answer
    assert buyer.get("/exceptions?owner_side=supplier").get_data(as_text=True).count(
        "(yours)") == 0  # fmt: skip
    token = csrf_token(buyer, f"/exceptions/{in_stock['id']}")
    refused = buyer.post(f"/exceptions/{in_stock['id']}/status",
                         data={"csrf_token": token, "status": "dismissed"})  # fmt: skip
    assert refused.status_code == 422
    assert "say why" in refused.get_data(as_text=True)
    assert admin.read_item("exceptions", in_stock["id"])["status"] == "open"
    done = buyer.post(f"/exceptions/{in_stock['id']}/status", data={
        "csrf_token": token, "status": "dismissed", "resolution": "Seasonal range"})  # fmt: skip
    assert done.status_code == 302
    manager = sign_in(app, world["manager"], remote_addr="10.16.0.2")
    said = manager.post(f"/exceptions/{in_stock['id']}/comment", data={
        "csrf_token": csrf_token(manager, f"/exceptions/{in_stock['id']}"),
        "comment": "Agreed at the review"})  # fmt: skip
    assert said.status_code == 302
    detail = manager.get(f"/exceptions/{in_stock['id']}").get_data(as_text=True)
    assert "Status: Dismissed: Seasonal range" in detail
    assert "Comment: Agreed at the review" in detail
    assert 'id="move-form"' not in detail  # a manager comments, the sides move
    outsider = sign_in(app, world["outsider"], remote_addr="10.16.0.3")
    assert outsider.get(f"/exceptions/{in_stock['id']}").status_code in (403, 404)


def test_the_api_lists_and_moves_a_pairs_exceptions(app, admin, world):
    seller = sign_in(app, world["seller"], remote_addr="10.16.0.4")
    headers = {"X-CSRFToken": csrf_token(seller, "/account/tokens")}
    listed = seller.get(f"/api/v1/exceptions?partnership={world['pid']}&status=open").get_json()
    gap = next(
        r for r in listed["data"] if r["subject"].startswith("sku:") and "week" in r["subject"]
    )
    moved = seller.patch(f"/api/v1/exceptions/{gap['id']}", json={"status": "acknowledged"},
                         headers=headers)  # fmt: skip
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["data"]["status"] == "acknowledged"
    assert [e["kind"] for e in moved.get_json()["data"]["events"]][-1] == "status"
    rival = sign_in(app, world["rival"], remote_addr="10.16.0.5")
    assert rival.get(f"/api/v1/exceptions/{gap['id']}").status_code == 404


# -- escalation and notifications -----------------------------------------------------------------


def test_an_agreed_protocol_escalates_what_is_past_due_and_tells_each_level(
    hub, admin, sync, app, world
):
    s, d = world["supplier"]["id"], world["distributor"]["id"]
    with pytest.raises(GovernanceError, match="not an active user of either side"):
        set_escalation(admin, s, d, [{"after_hours": 0, "contacts": [world["rival"].email]}])
    set_escalation(admin, s, d, [
        {"after_hours": 0, "contacts": [world["seller"].email]},
        {"after_hours": 24, "contacts": [world["buyer"].email, world["manager"].email]},
    ])  # fmt: skip
    levels = admin.read_item("partnerships", world["pid"])["escalation"]["levels"]
    assert [[c["side"] for c in lv["contacts"]] for lv in levels] == [
        ["supplier"], ["distributor", "manager"]]  # fmt: skip
    # Bran's commitment now 1 against a forecast of 10: a new exception for the supplier.
    admin.update_item("commitments", f"{world['pid']}:{world['bran']['id']}:{OPEN}", {"units": 1})
    with pinned(dt.date(2026, 12, 6)):  # the late order: due 4 December 20:00, now 40 h past
        counts = run(sync)
    assert counts["exceptions_open"] == 1
    assert counts["exceptions_escalated"] >= 1
    late = found(admin, world)[f"Late answer po:{world['order']['id']}"]
    assert late["level"] == 2
    assert [e["kind"] for e in late["events"]][-1] == "escalated"

    def told(who: str) -> list[str]:
        client = login(hub, world[who])
        return [n["title"] for n in client.read_items("notifications", limit=-1)]

    assert any(t.startswith("New exception for your side: Plan gap") for t in told("seller"))
    # Straight past both levels in one run: both levels' contacts are told where it is.
    for who in ("seller", "buyer", "manager"):
        assert "Exception escalated to level 2: Late answer" in " ".join(told(who)), who
    assert told("rival") == []
    with pinned(dt.date(2026, 12, 6)):
        assert run(sync).get("exceptions_escalated", 0) == 0  # once per level
    seller = sign_in(app, world["seller"], remote_addr="10.16.0.6")
    page = seller.get("/exceptions/notifications").get_data(as_text=True)
    mine = re.search(r'id="notification-(\d+)" class="unread">.*?Late answer', page, re.S)
    assert mine
    read = f"/exceptions/notifications/{mine[1]}/read"
    opened = seller.post(read, data={"csrf_token": csrf_token(seller, "/exceptions")})
    assert opened.status_code == 302
    detail = seller.get(opened.headers["Location"]).get_data(as_text=True)
    assert "Level 2 of 2 since" in detail
    assert f"{world['buyer'].email}" not in detail  # names, not addresses
    rival = sign_in(app, world["rival"], remote_addr="10.16.0.7")
    refused = rival.post(read, data={"csrf_token": csrf_token(rival, "/exceptions")})
    assert refused.status_code in (403, 404)


def test_the_review_pack_holds_the_pairs_escalation_history(app, world):
    manager = sign_in(app, world["manager"], remote_addr="10.16.0.8")
    got = manager.get(f"/reviews/pairs/{world['pid']}/pack.xlsx?quarter=2026-Q4")
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.data))["Escalations"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    late = next(r for r in rows if r[0] == "Late answer")
    assert (late[1], late[2], late[6]) == (f"po:{world['order']['id']}", "supplier", 2)
    page = manager.get(f"/reviews/pairs/{world['pid']}/pack?quarter=2026-Q4")
    assert 'id="escalation-table"' in page.get_data(as_text=True)
    earlier = manager.get(f"/reviews/pairs/{world['pid']}/pack.xlsx?quarter=2026-Q3")
    quiet = load_workbook(io.BytesIO(earlier.data))["Escalations"]
    assert quiet["A2"].value == "No exception was escalated in this quarter."


def test_the_time_to_resolve_reaches_the_pairs_scorecard(hub, admin, sync, world):
    gap = next(v for k, v in found(admin, world).items() if k.startswith("Plan gap sku:"))
    login(hub, world["seller"]).update_item(
        "exceptions", gap["id"], {"status": "resolved", "resolution": "Capacity added"}
    )
    hours = admin.read_item("exceptions", gap["id"])["hours_to_close"]
    ctx = JobContext(hub=sync, job_id="scorecards.compute", run_id=str(uuid.uuid4()),
                     settings={"quarters": 1})  # fmt: skip
    compute_scorecards(ctx)
    (card,) = admin.read_items(
        "scorecards",
        filter={"_and": [{"partnership": {"_eq": world["pid"]}}, {"grain": {"_eq": "quarter"}},
                         {"period_start": {"_eq": "2026-10-01"}}]},
        fields=["id", "values.kpi", "values.value", "values.basis"],
    )  # fmt: skip
    by_kpi = {v["kpi"]: v for v in card["values"]}
    assert by_kpi["exceptions.hours_to_resolve"]["basis"] == [gap["id"]]
    assert by_kpi["exceptions.hours_to_resolve"]["value"] == str(D(hours).quantize(D("0.1")))
