"""The data-access layer against the real hub, as each partner user (their own token).

Exact row sets per role and resource come from an oracle that states the rules
independently (:func:`tests.world.expected`). Writes check the pair, the SKUs, the
locations and the lines named in the request; refusals and writes are audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from marshmallow import ValidationError

from directus import HubClient
from governance import sharing, users
from portal.data import (
    RESOURCES,
    Conflict,
    DataAccess,
    Forbidden,
    Invalid,
    NotFound,
    writes,
)
from portal.data.scope import ALL, Scope
from portal.schemas.business_plans import BusinessPlanCreate
from portal.schemas.promotions import PromotionCreate, PromotionUpdate
from portal.schemas.purchase_orders import PurchaseOrderCreate, PurchaseOrderUpdate
from tests.world import (
    PASSWORD,
    Who,
    World,
    expected,
    expected_children,
    world_for,
)

WHO = ("acme", "brava", "north", "south", "manager")


@pytest.fixture(scope="module")
def world(hub, admin) -> World:
    """The read-only world: exact row sets are asserted on it."""
    return world_for(hub, admin)


@pytest.fixture(scope="module")
def scratch(hub, admin) -> World:
    """A world of the same shape that the writing tests may change."""
    return world_for(hub, admin, "scratch")


def all_ids(acc: DataAccess, resource: str, **query) -> list:
    ids, page = [], 1
    while True:
        result = acc.list(resource, {"page": page, "per_page": 500, **query})
        ids += [row["id"] for row in result.rows]
        if page * 500 >= result.total:
            return ids
        page += 1


def denials(world: World, who: str, since: int) -> list[dict]:
    return world.audit_entries(who, "denied", since)


# -- reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", sorted(RESOURCES))
@pytest.mark.parametrize("who", WHO)
def test_each_role_sees_exactly_its_rows(world, who, resource):
    ids = all_ids(world.access(who), resource)
    assert len(ids) == len(set(ids)), "a row came twice"
    assert set(ids) == expected(world, who, resource)


def test_the_oracle_is_not_vacuous(world):
    """Spot checks, so an oracle that returned nothing everywhere would fail."""
    assert len(expected(world, "acme", "pos-sales")) == 10  # 8 by `full` + 2 by `partial`
    assert len(expected(world, "north", "pos-sales")) == 12
    assert expected(world, "brava", "pos-sales") == set()
    assert expected(world, "acme", "locations") == {
        world.stores["north-east"],
        world.stores["north-west"],
        world.stores["south-east"],
    }


@pytest.mark.parametrize("who", WHO)
def test_children_follow_their_parent_and_pair(world, who):
    acc = world.access(who)
    cases = [
        ("promotions", "promo_submitted", "history", "promotion_events", "promotion"),
        ("promotions", "promo_draft", "history", "promotion_events", "promotion"),
        ("promotions", "promo_submitted", "skus", "promotion_skus", "promotion"),
        ("purchase-orders", "po_acme_north", "lines", "po_lines", "purchase_order"),
        ("purchase-orders", "po_brava_north", "lines", "po_lines", "purchase_order"),
        ("business-plans", "plan_acme_north", "actions", "plan_actions", "plan"),
        ("scorecards", "scorecard", "values", "scorecard_values", "scorecard"),
    ]
    for resource, record, child, collection, parent_field in cases:
        parent = world.records[record]
        want = expected_children(world, who, collection, parent_field, parent)
        if parent in expected(world, who, resource):
            page = acc.list_children(resource, parent, child, {"per_page": 500})
            assert {r["id"] for r in page.rows} == want, (resource, record, child)
            assert page.total == len(want)
        else:
            with pytest.raises(NotFound):
                acc.list_children(resource, parent, child, {})


def test_a_record_out_of_scope_reads_as_missing_and_the_attempt_is_audited(world):
    acc = world.access("acme")
    before = world.last_audit_id()
    with pytest.raises(NotFound) as hidden:
        acc.get("promotions", world.records["promo_draft"])
    with pytest.raises(NotFound) as missing:
        acc.get("promotions", 999_999_999)
    with pytest.raises(NotFound):
        acc.get("purchase-orders", world.records["po_brava_north"])
    # Same answer for "exists but not yours" and "does not exist".
    assert hidden.value.status == missing.value.status == 404
    assert hidden.value.errors == missing.value.errors == {}
    logged = denials(world, "acme", before)
    assert [(e["collection"], e["record_ids"]) for e in logged] == [
        ("promotions", [str(world.records["promo_draft"])]),
        ("promotions", ["999999999"]),
        ("purchase_orders", [str(world.records["po_brava_north"])]),
    ]
    assert all(e["organization"] == world.orgs["acme"] and e["via"] == "api" for e in logged)


def test_a_detail_embeds_only_the_childrens_visible_rows(world):
    order = world.access("acme").get("purchase-orders", world.records["po_acme_north"])
    assert {line["id"] for line in order["lines"]} == world.ids(
        "po_lines", purchase_order=world.records["po_acme_north"]
    )
    stored = world.admin.read_items(
        "po_lines", filter={"purchase_order": {"_eq": world.records["po_acme_north"]}},
        fields=["id", "unit_cost_minor"],
    )  # fmt: skip
    assert {line["id"]: int(line["unit_cost_minor"]) for line in order["lines"]} == {
        line["id"]: int(line["unit_cost_minor"]) for line in stored
    }


def test_filters_narrow_within_the_scope_never_beyond_it(world):
    acc = world.access("acme")
    south = set(all_ids(acc, "pos-sales", distributor=world.orgs["south"]))
    assert south == {
        k for k in expected(world, "acme", "pos-sales") if k.startswith(f"{world.orgs['south']}:")
    }
    assert len(south) == 2
    recent = set(all_ids(acc, "pos-sales", day_from=world.new_day))
    assert recent == {
        k for k in expected(world, "acme", "pos-sales") if k.endswith(str(world.new_day))
    }
    old = set(all_ids(acc, "pos-sales", day_to=world.old_day, region="west"))
    assert old == {
        k
        for k in expected(world, "acme", "pos-sales")
        if k.endswith(str(world.old_day))
        and world.rows["pos_sales"][k]["location"] == world.stores["north-west"]
    }
    # Asking for another partner's rows by filter gives nothing, not their rows.
    assert all_ids(world.access("brava"), "pos-sales", distributor=world.orgs["north"]) == []
    assert all_ids(acc, "promotions", partnership=world.pairs["brava-north"]) == []


def test_pages_are_stable_complete_and_counted(world):
    acc = world.access("north")
    pages = [acc.list("pos-sales", {"page": n, "per_page": 5}) for n in (1, 2, 3, 4)]
    assert [len(p.rows) for p in pages] == [5, 5, 2, 0]
    assert {p.total for p in pages} == {12}
    rows = [row for p in pages for row in p.rows]
    ids = [row["id"] for row in rows]
    natural = [tuple(row[f] for f in ("day", "location", "sku", "distributor")) for row in rows]
    assert natural == sorted(natural)  # in the natural key's order, so pages never overlap
    assert len(set(natural)) == len(natural)
    assert set(ids) == expected(world, "north", "pos-sales")
    by_day = acc.list("pos-sales", {"per_page": 500, "sort": "-day"}).rows
    assert [r["day"] for r in by_day] == sorted((r["day"] for r in by_day), reverse=True)


def _oracle_summary(world: World, who: str) -> dict[tuple, dict[str, int]]:
    sums: dict[tuple, dict[str, int]] = defaultdict(lambda: {"units": 0, "money": 0, "rows": 0})
    for key in expected(world, who, "pos-weekly"):
        row = world.rows["pos_sales"][key]
        year, week, _ = dt.date.fromisoformat(row["day"]).isocalendar()
        bucket = sums[(row["sku"], f"{year}-W{week:02d}", row["currency"])]
        bucket["units"] += row["units"]
        bucket["money"] += row["net_sales_minor"]
        bucket["rows"] += 1
    return dict(sums)


@pytest.mark.parametrize("who", WHO)
def test_weekly_sums_cover_only_the_users_rows_and_stay_integers(world, who):
    result = world.access(who).summary("pos-sales", ["sku", "week"], {"per_page": 500})
    got = {
        (g["sku"], g["week"], g["currency"]): {
            "units": g["units"],
            "money": g["net_sales_minor"],
            "rows": g["rows"],
        }
        for g in result.rows
    }
    assert got == _oracle_summary(world, who)
    for group in result.rows:
        assert all(type(group[k]) is int for k in ("sku", "units", "net_sales_minor", "rows"))
        start = dt.date.fromisoformat(group["week_start"])
        assert start.weekday() == 0


@pytest.mark.parametrize("who", WHO)
def test_sums_by_location_alone_come_from_the_per_store_rollup(world, who):
    """A bug: ``group_by=location`` (no SKU) asked the SKU x distributor rollup, which has
    no location, and answered nothing."""
    acc = world.access(who)
    got = {
        (g["location"], g["currency"]): g["units"]
        for g in acc.summary("pos-sales", ["location"], {"per_page": 500}).rows
    }
    want: dict[tuple, int] = defaultdict(int)
    for key in expected(world, who, "pos-weekly"):
        row = world.rows["pos_sales"][key]
        want[(row["location"], row["currency"])] += row["units"]
    assert got == dict(want)


def test_sums_by_distributor_never_mix_in_another_distributors_rows(world):
    groups = world.access("acme").summary("pos-sales", ["distributor"], {}).rows
    # from south only the east store, only the whole weeks since the partial agreement began
    weekly = [world.rows["pos_sales"][k] for k in expected(world, "acme", "pos-weekly")]
    rows = {d: sum(1 for r in weekly if r["distributor"] == d) for d in world.orgs.values()}
    assert {g["distributor"]: g["rows"] for g in groups} == {d: n for d, n in rows.items() if n}
    assert world.orgs["north"] in rows


# -- sharing agreements take effect (and end) on the next request -----------------------


def test_a_revocation_applies_to_the_very_next_request(scratch):
    acc_before = scratch.access("brava")
    assert all_ids(acc_before, "pos-sales") == []
    row = sharing.grant(
        scratch.admin,
        scratch.orgs["north"],
        scratch.orgs["brava"],
        ["pos"],
        valid_from=scratch.today - dt.timedelta(days=30),
        via="test",
    )
    try:
        granted = set(all_ids(scratch.access("brava"), "pos-sales"))
        assert granted == {
            k
            for k, r in scratch.rows["pos_sales"].items()
            if r["distributor"] == scratch.orgs["north"] and r["sku"] == scratch.skus["cola"]
        }
        assert len(granted) == 4
    finally:
        sharing.revoke(scratch.admin, int(row["id"]), via="test")
    assert all_ids(scratch.access("brava"), "pos-sales") == []
    assert scratch.access("brava").summary("pos-sales", ["sku"], {}).rows == []


def test_the_portal_layer_alone_keeps_rows_hidden_if_the_hubs_policy_is_too_wide(world):
    """Simulate a hub-side mistake: a policy that lets acme and brava read every POS row."""
    admin = world.admin
    policy = admin.post("/policies", {"name": f"too wide {world.tag}", "app_access": False})
    admin.post(
        "/permissions",
        {"policy": policy["id"], "collection": "pos_sales", "action": "read", "fields": ["*"]},
    )
    links = [
        admin.post("/access", {"user": world.people[who].id, "policy": policy["id"]})
        for who in ("acme", "brava")
    ]
    try:
        for who in ("acme", "brava"):
            hub_alone = world.client(who).read_items("pos_sales", limit=-1, fields=["id"])
            assert {r["id"] for r in hub_alone} >= set(world.rows["pos_sales"])  # the hub leaks
            assert set(all_ids(world.access(who), "pos-sales")) == expected(world, who, "pos-sales")
        sums = world.access("acme").summary("pos-sales", ["sku", "week"], {"per_page": 500})
        assert sum(g["rows"] for g in sums.rows) == len(expected(world, "acme", "pos-weekly"))
        assert world.access("brava").summary("pos-sales", ["sku"], {}).rows == []
    finally:
        for link in links:
            admin.delete(f"/access/{link['id']}")
        admin.delete(f"/policies/{policy['id']}")


@pytest.mark.parametrize(
    "resource",
    ["pos-sales", "inventory-positions", "forecasts", "locations", "promotions",
     "purchase-orders", "risks", "share-agreements"],
)  # fmt: skip
def test_the_hub_layer_alone_keeps_rows_hidden_if_the_portals_scope_is_too_wide(
    world, monkeypatch, resource
):
    """Simulate a portal-side mistake: a scope that adds no filter at all.

    Not for skus and organizations: there the hub is wider than the portal on purpose
    of 0003 (a distributor reads every SKU and every supplier).
    """
    monkeypatch.setattr(Scope, "filter_for", lambda self, *a, **k: ALL)
    for who in ("acme", "brava", "south"):
        assert set(all_ids(world.access(who), resource)) == expected(world, who, resource), who


def test_an_agreement_that_starts_later_shows_nothing_yet(world):
    assert all_ids(world.access("brava"), "forecasts") == []
    assert all_ids(world.access("brava"), "locations") == [world.stores["north-west"]]


# -- writes: promotions -----------------------------------------------------------------


def _promotion(world: World, **overrides) -> dict:
    body = {
        "partnership": world.pairs["acme-north"],
        "name": f"Spring TPR {world.tag}",
        "type": "tpr",
        "start_date": str(world.today + dt.timedelta(days=20)),
        "end_date": str(world.today + dt.timedelta(days=27)),
        "expected_uplift_pct": 15,
        "status": "submitted",
        "skus": [world.skus["oats"], world.skus["bran"]],
        "locations": [world.stores["north-east"]],
    }
    body.update(overrides)
    return PromotionCreate(view="distributor_user").load(body)


def test_a_distributor_proposes_a_promotion_and_the_supplier_answers_it(scratch):
    before = scratch.last_audit_id()
    north = scratch.access("north")
    created = north.create("promotions", _promotion(scratch))
    assert created["status"] == "submitted"
    assert {s["sku"] for s in created["skus"]} == {scratch.skus["oats"], scratch.skus["bran"]}
    assert [loc["location"] for loc in created["locations"]] == [scratch.stores["north-east"]]

    acme = scratch.access("acme")
    answered = acme.update(
        "promotions",
        created["id"],
        PromotionUpdate(view="supplier_user").load({"status": "accepted", "comment": "Agreed"}),
    )
    assert answered["status"] == "accepted"
    assert answered["supplier_comment"] == "Agreed"
    history = acme.list_children("promotions", created["id"], "history", {}).rows
    assert [(h["status"], h["comment"]) for h in history] == [
        ("submitted", None),
        ("accepted", "Agreed"),
    ]
    assert [h["actor"] for h in history] == [scratch.people["north"].id, scratch.people["acme"].id]
    assert scratch.audit_entries("north", "promotions.create", before)[0]["record_ids"] == [
        str(created["id"])
    ]
    answer = scratch.audit_entries("acme", "promotions.answer", before)
    assert answer[0]["record_ids"] == [str(created["id"])]
    assert answer[0]["detail"]["status"] == "accepted"

    with pytest.raises(Conflict):  # answered once; not again
        acme.update("promotions", created["id"], {"status": "declined", "comment": "No"})
    # Brava is not part of the pair: the promotion is not there for it.
    with pytest.raises(NotFound):
        scratch.access("brava").update("promotions", created["id"], {"status": "declined"})


def test_a_supplier_cannot_see_or_answer_a_draft(scratch):
    draft = scratch.access("north").create("promotions", _promotion(scratch, status="draft"))
    with pytest.raises(NotFound):
        scratch.access("acme").update("promotions", draft["id"], {"status": "accepted"})


@pytest.mark.parametrize(
    ("field", "value_of", "collection"),
    [
        ("partnership", lambda w: w.pairs["acme-south"], "partnerships"),
        ("skus", lambda w: [w.skus["cola"]], "skus"),  # brava's SKU on an acme pair
        ("locations", lambda w: [w.stores["south-east"]], "locations"),  # south's store
    ],
)
def test_forged_ids_in_a_promotion_are_refused_and_audited(scratch, field, value_of, collection):
    before = scratch.last_audit_id()
    with pytest.raises(Forbidden) as refused:
        scratch.access("north").create(
            "promotions", _promotion(scratch, **{field: value_of(scratch)})
        )
    assert field in refused.value.errors
    logged = denials(scratch, "north", before)
    assert len(logged) == 1
    forged = value_of(scratch)
    assert logged[0]["collection"] == collection
    assert logged[0]["record_ids"] == [
        str(i) for i in (forged if isinstance(forged, list) else [forged])
    ]
    assert logged[0]["detail"]["field"] == field


def test_a_role_that_may_not_write_a_resource_is_refused_and_audited(scratch):
    before = scratch.last_audit_id()
    with pytest.raises(Forbidden):
        scratch.access("acme").create("promotions", _promotion(scratch))
    with pytest.raises(Forbidden):
        scratch.access("north").create("risks", {"partnership": scratch.pairs["acme-north"]})
    assert len(denials(scratch, "acme", before)) == 1
    assert len(denials(scratch, "north", before)) == 1


def test_a_distributor_submits_its_draft_and_cancels_an_accepted_promotion(scratch):
    north = scratch.access("north")
    draft = north.create("promotions", _promotion(scratch, status="draft"))
    submitted = north.update(
        "promotions",
        draft["id"],
        PromotionUpdate(view="distributor_user").load({"status": "submitted"}),
    )
    assert submitted["status"] == "submitted"
    scratch.access("acme").update(
        "promotions", draft["id"], {"status": "accepted", "comment": "ok"}
    )
    with pytest.raises(Conflict):  # the terms of an accepted promotion are fixed
        north.update("promotions", draft["id"], {"name": "Changed"})
    cancelled = north.update("promotions", draft["id"], {"status": "cancelled"})
    assert cancelled["status"] == "cancelled"


def test_a_distributor_cannot_jump_a_promotion_to_an_answered_status(scratch):
    with pytest.raises(ValidationError) as refused:
        PromotionUpdate(view="distributor_user").load({"status": "accepted"})
    assert "status" in refused.value.messages


# -- writes: purchase orders ------------------------------------------------------------


def _order(world: World, **overrides) -> dict:
    body = {
        "partnership": world.pairs["acme-north"],
        "number": f"PO-{world.tag}-{overrides.pop('suffix', 'x')}",
        "ordered_on": str(world.today),
        "requested_date": str(world.today + dt.timedelta(days=10)),
        "currency": "USD",
        "ship_to": world.stores["north-west"],
        "lines": [
            {"line_no": 1, "sku": world.skus["oats"], "qty_ordered": 48, "unit_cost_minor": 118},
            {"line_no": 2, "sku": world.skus["bran"], "qty_ordered": 12, "unit_cost_minor": 240},
        ],
    }
    body.update(overrides)
    return PurchaseOrderCreate(view="distributor_user").load(body)


def test_a_distributor_orders_and_the_supplier_keeps_its_original_promise(scratch):
    before = scratch.last_audit_id()
    order = scratch.access("north").create("purchase-orders", _order(scratch, suffix="ack"))
    assert order["status"] == "open"
    assert [(line["line_no"], line["qty_ordered"]) for line in order["lines"]] == [(1, 48), (2, 12)]
    first_line = order["lines"][0]["id"]

    acme = scratch.access("acme")
    promise = scratch.today + dt.timedelta(days=12)
    ack = acme.update(
        "purchase-orders",
        order["id"],
        PurchaseOrderUpdate(view="supplier_user").load(
            {
                "status": "acknowledged",
                "promised_date": str(promise),
                "lines": [{"id": first_line, "qty_promised": 40, "promised_date": str(promise)}],
            }
        ),
    )
    assert ack["status"] == "acknowledged"
    assert ack["promised_date"] == ack["original_promised_date"] == str(promise)
    assert ack["revised_date"] is None
    assert ack["acknowledged_at"]
    assert ack["lines"][0]["qty_promised"] == 40
    assert ack["lines"][0]["original_promised_date"] == str(promise)

    later = promise + dt.timedelta(days=5)
    revised = acme.update(
        "purchase-orders",
        order["id"],
        {"promised_date": later, "lines": [{"id": first_line, "promised_date": later}]},
    )
    assert revised["promised_date"] == revised["revised_date"] == str(later)
    assert revised["original_promised_date"] == str(promise)  # the commitment stays
    assert revised["acknowledged_at"] == ack["acknowledged_at"]
    assert revised["lines"][0]["original_promised_date"] == str(promise)
    assert revised["lines"][0]["revised_date"] == str(later)

    assert len(scratch.audit_entries("north", "purchase_orders.create", before)) == 1
    acks = scratch.audit_entries("acme", "purchase_orders.acknowledge", before)
    assert [e["record_ids"] for e in acks] == [[str(order["id"])]] * 2


def test_acknowledging_needs_a_promised_date(scratch):
    order = scratch.access("north").create("purchase-orders", _order(scratch, suffix="nodate"))
    with pytest.raises(Invalid) as refused:
        scratch.access("acme").update("purchase-orders", order["id"], {"status": "acknowledged"})
    assert "promised_date" in refused.value.errors


def test_a_supplier_cannot_promise_on_another_orders_line(scratch):
    order = scratch.access("north").create("purchase-orders", _order(scratch, suffix="lines"))
    foreign = min(scratch.ids("po_lines", purchase_order=scratch.records["po_acme_south"]))
    before = scratch.last_audit_id()
    with pytest.raises(Forbidden):
        scratch.access("acme").update(
            "purchase-orders",
            order["id"],
            {"promised_date": scratch.today, "lines": [{"id": foreign, "qty_promised": 1}]},
        )
    logged = denials(scratch, "acme", before)
    assert [(e["collection"], e["record_ids"]) for e in logged] == [("po_lines", [str(foreign)])]
    # Nothing was written: the check comes before any write.
    assert scratch.access("acme").get("purchase-orders", order["id"])["promised_date"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "collection"),
    [
        ({"ship_to": "south-east"}, "ship_to", "locations"),
        ({"partnership": "brava-north"}, "partnership", "partnerships"),
        ({"sku": "cola"}, "lines", "skus"),
    ],
)
def test_forged_ids_in_an_order_are_refused_and_audited(scratch, overrides, field, collection):
    body = _order(scratch, suffix="forged")
    if "ship_to" in overrides:
        body["ship_to"] = scratch.stores[overrides["ship_to"]]
    if "partnership" in overrides:  # north's own pair, but the lines are acme's SKUs
        body["partnership"] = scratch.pairs["acme-south"]
    if "sku" in overrides:
        body["lines"][1]["sku"] = scratch.skus["cola"]
    before = scratch.last_audit_id()
    with pytest.raises(Forbidden) as refused:
        scratch.access("north").create("purchase-orders", body)
    assert field in refused.value.errors
    assert [e["collection"] for e in denials(scratch, "north", before)] == [collection]
    numbers = scratch.admin.read_items(
        "purchase_orders", filter={"number": {"_eq": body["number"]}}, fields=["id"]
    )
    assert numbers == []  # refused before anything was written


def test_a_distributor_cancels_its_open_order(scratch):
    order = scratch.access("north").create("purchase-orders", _order(scratch, suffix="cancel"))
    changed = scratch.access("north").update(
        "purchase-orders",
        order["id"],
        PurchaseOrderUpdate(view="distributor_user").load({"status": "cancelled"}),
    )
    assert changed["status"] == "cancelled"


# -- writes: what account managers keep --------------------------------------------------


def test_an_account_manager_keeps_plans_risks_and_scorecards_for_assigned_pairs(scratch):
    before = scratch.last_audit_id()
    manager = scratch.access("manager")
    plan = manager.create(
        "business-plans",
        BusinessPlanCreate(view="account_manager").load(
            {"partnership": scratch.pairs["acme-north"], "year": 2031, "targets": {"fill": "0.98"}}
        ),
    )
    assert plan["targets"] == {"fill": "0.98"}
    revision = manager.create_child(
        "business-plans",
        plan["id"],
        "revisions",
        {"quarter": 2, "targets": {"fill": "0.97"}, "revised_on": scratch.today},
    )
    assert revision["plan"] == plan["id"]
    assert revision["partnership"] == scratch.pairs["acme-north"]
    risk = manager.create(
        "risks",
        {"partnership": scratch.pairs["acme-north"], "title": "Port strike", "likelihood": 2,
         "impact": 5, "status": "open"},
    )  # fmt: skip
    updated = manager.update("risks", risk["id"], {"likelihood": 3})
    assert (updated["likelihood"], updated["impact"]) == (3, 5)
    card = manager.create(
        "scorecards",
        {
            "partnership": scratch.pairs["acme-north"],
            "period_start": scratch.today,
            "period_end": scratch.today,
        },
    )
    value = manager.create_child(
        "scorecards", card["id"], "values", {"kpi": "fill_rate", "variant": "unit", "value": "0.97"}
    )
    assert value["value"] == "0.97"
    actions = [
        e["action"]
        for e in scratch.admin.read_items(
            "audit_log",
            filter={
                "_and": [{"actor": {"_eq": scratch.people["manager"].id}}, {"id": {"_gt": before}}]
            },
            sort=["id"],
            limit=-1,
        )
    ]
    assert actions == [
        "business_plans.create",
        "plan_revisions.create",
        "risks.create",
        "risks.update",
        "scorecards.create",
        "scorecard_values.create",
    ]
    # The supplier of the pair sees the plan; the other distributor does not.
    assert scratch.access("acme").get("business-plans", plan["id"])["year"] == 2031
    with pytest.raises(NotFound):
        scratch.access("south").get("business-plans", plan["id"])


def test_an_account_manager_cannot_write_for_a_pair_not_assigned(scratch):
    before = scratch.last_audit_id()
    with pytest.raises(Forbidden):
        scratch.access("manager").create(
            "risks",
            {
                "partnership": scratch.pairs["acme-south"],
                "title": "x",
                "likelihood": 1,
                "impact": 1,
            },
        )
    with pytest.raises(NotFound):
        scratch.access("manager").update("risks", scratch.records["risk_acme_south"], {"impact": 1})
    assert [e["collection"] for e in denials(scratch, "manager", before)] == [
        "partnerships",
        "risks",
    ]


# -- the registry itself ------------------------------------------------------------------


def test_every_declared_write_has_a_handler_and_a_view_for_its_role():
    """A typo in the registry would otherwise only show when that role first writes."""
    for resource in RESOURCES.values():
        declared = [*resource.creates.items(), *resource.updates.items()]
        declared += [item for child in resource.children for item in child.writes.items()]
        for role, write in declared:
            assert callable(getattr(writes, write.handler)), (resource.name, write.handler)
            assert role in write.schema.views, (resource.name, write.schema.__name__, role)
            write.schema(view=role)  # every field the view names exists


def test_an_operator_admin_reads_across_partners_but_writes_nothing_here(world):
    operator = users.add_user(
        world.admin,
        f"operator-{world.tag}@tandem-world.example.com",
        PASSWORD,
        "operator_admin",
        world.orgs["operator"],
        via="test",
    )
    who = Who(
        "op", str(operator["id"]), operator["email"], "operator_admin", world.orgs["operator"]
    )
    acc = DataAccess(who, HubClient.login(world.url, who.email, PASSWORD))
    for resource in ("pos-sales", "promotions", "purchase-orders", "share-agreements"):
        collection = RESOURCES[resource].collection
        assert set(all_ids(acc, resource)) >= set(world.rows[collection]), resource
    with pytest.raises(Forbidden):
        acc.create("risks", {"partnership": world.pairs["acme-north"]})


@pytest.mark.parametrize("who", WHO)
def test_per_store_weekly_sums_count_and_page_exactly(world, who):
    """At the per-store grain the hub pages the rollup; the total (from whole
    distributors' rollups plus a count of the scoped stores' rows) matches the rows."""
    want: dict[tuple, int] = defaultdict(int)
    for key in expected(world, who, "pos-weekly"):
        row = world.rows["pos_sales"][key]
        year, week, _ = dt.date.fromisoformat(row["day"]).isocalendar()
        want[row["sku"], f"{year}-W{week:02d}", row["location"]] += row["units"]
    acc = world.access(who)
    first = acc.summary("pos-sales", ["week", "sku", "location"], {"per_page": 3})
    assert first.total == len(want)
    rows = acc.summary("pos-sales", ["week", "sku", "location"], {"per_page": 500}).rows
    assert {(r["sku"], r["week"], r["location"]): r["units"] for r in rows} == dict(want)
