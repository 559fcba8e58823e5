"""The access matrix, through the hub's REST API with each partner's own token.

A small world has records in every collection for four supplier-distributor pairs. For
every role and every collection this asserts the exact rows the role reads, and that
every row it cannot read it can neither update nor delete, and that it cannot create
pair-bound records for a pair it is not part of. An oracle (``expected``) states the
rules independently of the hub's policies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from directus import ForbiddenOrMissing, HubClient, HubError, InvalidPayload
from directus.bulk import open_lane, write_rows
from domain import ownership
from domain.forecasts import HORIZONS
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, HUB_ROLE_NAMES, SUPPLIER_USER
from governance import partners, sharing, users
from tests.factories import gs1_prefix, gtin_under
from tests.helpers import as_ints

PASSWORD = "correct horse battery staple"
SUPPLIERS = ("acme", "brava")
DISTRIBUTORS = ("north", "south")
PAIRS = [(s, d) for s in SUPPLIERS for d in DISTRIBUTORS]
MANAGED = ("acme", "north")

# Every pair-bound collection, its parent (or None), and how to make a row of it.
PAIR_CHILDREN = {
    "promotion_skus": "promotion",
    "promotion_locations": "promotion",
    "promotion_events": "promotion",
    "po_lines": "purchase_order",
    "shipments": "purchase_order",
    "shipment_lines": "shipment",
    "invoices": "purchase_order",
    "invoice_lines": "invoice",
    "plan_revisions": "plan",
    "plan_actions": "plan",
    "scorecard_values": "scorecard",
}
PROMOTION_PARTS = ("promotions", "promotion_skus", "promotion_locations", "promotion_events")


@dataclass
class Row:
    collection: str
    id: Any
    pair: tuple[str, str] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    url: str
    admin: HubClient
    tag: str
    orgs: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    pair_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    skus: dict[str, int] = field(default_factory=dict)
    locations: dict[str, int] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    pos: list[tuple[dict[str, Any], str, dict[str, Any]]] = field(default_factory=list)

    def add(self, collection: str, item: dict[str, Any], pair=None, **attrs: Any) -> Any:
        created = self.admin.create_item(collection, item, fields=["id"])
        self.rows.append(Row(collection, created["id"], pair, attrs))
        return created["id"]

    def of(self, collection: str) -> list[Row]:
        return [r for r in self.rows if r.collection == collection]

    def login(self, who: str) -> HubClient:
        return HubClient.login(self.url, self.emails[who], PASSWORD)


def build(url: str, admin: HubClient, db_url: str) -> World:
    w = World(url, admin, secrets.token_hex(3))
    prefixes = {name: gs1_prefix() for name in (*SUPPLIERS, "cedar")}
    for name in SUPPLIERS:
        w.orgs[name] = partners.add_partner(
            admin, f"{name} {w.tag}", "supplier", gs1_prefixes=[prefixes[name]]
        )["id"]
    for name in DISTRIBUTORS:
        w.orgs[name] = partners.add_partner(admin, f"{name} {w.tag}", "distributor")["id"]
    w.orgs["ops"] = partners.add_partner(admin, f"ops {w.tag}", "operator")["id"]
    # A supplier nobody trades with: no distributor may see its catalogue.
    w.orgs["cedar"] = partners.add_partner(
        admin, f"cedar {w.tag}", "supplier", gs1_prefixes=[prefixes["cedar"]]
    )["id"]
    people = {
        **{s: ("supplier_user", s) for s in SUPPLIERS},
        **{d: ("distributor_user", d) for d in DISTRIBUTORS},
        "manager": ("account_manager", "ops"),
    }
    user_ids = {}
    for who, (role, org) in people.items():
        w.emails[who] = f"{who}-{w.tag}@tandem.example.com"
        user_ids[who] = users.add_user(admin, w.emails[who], PASSWORD, role, w.orgs[org])["id"]
    for s, d in PAIRS:
        w.pair_ids[(s, d)] = partners.ensure_partnership(admin, w.orgs[s], w.orgs[d])
    partners.assign_manager(admin, user_ids["manager"], w.orgs["acme"], w.orgs["north"])
    for s in (*SUPPLIERS, "cedar"):
        w.skus[s] = w.add(
            "skus",
            {
                "gtin": gtin_under(prefixes[s]),
                "description": f"{s} item",
                "cost_minor": 100,
                "list_price_minor": 250,
                "currency": "USD",
                "supplier": w.orgs[s],
            },
            supplier=s,
        )
    for d in DISTRIBUTORS:
        for code, region in (("e1", "east"), ("w1", "west")):
            w.locations[f"{d}-{code}"] = w.add(
                "locations",
                {
                    "ref": f"{w.orgs[d]}:{code}",
                    "code": code,
                    "name": f"{d} {code}",
                    "kind": "store",
                    "region": region,
                    "distributor": w.orgs[d],
                },
                distributor=d,
                region=region,
            )
        for s in SUPPLIERS:
            w.add(
                "sku_codes",
                {
                    "id": f"{w.orgs[d]}:{s}-{w.tag}",
                    "item_code": f"{s}-{w.tag}",
                    "sku": w.skus[s],
                    "distributor": w.orgs[d],
                },
                distributor=d,
                supplier=s,
            )
    for d in DISTRIBUTORS:
        for loc in (f"{d}-e1", f"{d}-w1"):
            for s in SUPPLIERS:
                for day in ("2026-01-15", "2026-06-15"):
                    key = f"{w.orgs[d]}:{w.locations[loc]}:{w.skus[s]}:{day}"
                    base = {
                        "id": key,
                        "distributor": w.orgs[d],
                        "location": w.locations[loc],
                        "sku": w.skus[s],
                    }
                    attrs = {"distributor": d, "supplier": s, "location": loc, "day": day}
                    w.pos.append((base, day, attrs))
                    w.add("forecasts", {**base, "week_start": day, "forecast_units": 5}, **attrs)
    # POS rows through the bulk lane, their one writer (it keeps the weekly rollups).
    with open_lane(db_url) as lane:
        write_rows(
            lane,
            "pos",
            [
                (
                    b["distributor"],
                    b["location"],
                    b["sku"],
                    dt.date.fromisoformat(day),
                    2,
                    500,
                    "USD",
                )
                for b, day, _attrs in w.pos
            ],
        )
        write_rows(
            lane,
            "inventory",
            [
                (b["distributor"], b["location"], b["sku"], dt.date.fromisoformat(day), 9, 0, 0)
                for b, day, _attrs in w.pos
            ],
        )
    for base, _day, attrs in w.pos:
        w.rows.append(Row("pos_sales", base["id"], None, attrs))
        w.rows.append(Row("inventory_positions", base["id"], None, attrs))
    for s, d in PAIRS:
        pair_rows(w, s, d)
    sharing.grant(
        admin,
        w.orgs["north"],
        w.orgs["acme"],
        ["pos", "inventory", "forecasts"],
        valid_from=dt.date(2026, 1, 1),
    )
    sharing.grant(
        admin,
        w.orgs["south"],
        w.orgs["acme"],
        ["pos"],
        regions=["east"],
        valid_from=dt.date(2026, 3, 1),
    )
    revoked = sharing.grant(
        admin,
        w.orgs["north"],
        w.orgs["brava"],
        ["pos", "inventory"],
        valid_from=dt.date(2026, 1, 1),
    )
    sharing.revoke(admin, revoked["id"])
    for row in admin.read_items(
        "share_agreements",
        fields=["id", "grantor", "grantee"],
        filter={"grantor": {"_in": [w.orgs[d] for d in DISTRIBUTORS]}},
        limit=-1,
    ):
        w.rows.append(
            Row(
                "share_agreements",
                row["id"],
                None,
                {"grantor": row["grantor"], "grantee": row["grantee"]},
            )
        )
    for s, d in PAIRS:
        w.add(
            "edi_messages",
            {
                "direction": "in",
                "standard": "x12",
                "message_type": "850",
                "status": "accepted",
                "received_at": "2026-11-01T00:00:00Z",
                "sender": w.orgs[d],
                "receiver": w.orgs[s],
            },
            sender=d,
            receiver=s,
        )
    return w


def pair_rows(w: World, s: str, d: str) -> None:
    pair = (s, d)
    p = w.pair_ids[pair]
    loc = w.locations[f"{d}-e1"]
    for status in ("draft", "submitted"):
        promo = w.add(
            "promotions",
            {
                "partnership": p,
                "name": f"{s}/{d} {status}",
                "type": "tpr",
                "start_date": "2027-02-01",
                "end_date": "2027-02-07",
                "status": status,
            },
            pair,
            status=status,
        )
        w.add(
            "promotion_skus",
            {"partnership": p, "promotion": promo, "sku": w.skus[s]},
            pair,
            status=status,
        )
        w.add(
            "promotion_locations",
            {"partnership": p, "promotion": promo, "location": loc},
            pair,
            status=status,
        )
        w.add(
            "promotion_events",
            {"partnership": p, "promotion": promo, "status": status, "at": "2026-11-01T00:00:00Z"},
            pair,
            status=status,
        )
    po = w.add(
        "purchase_orders",
        {
            "partnership": p,
            "number": f"PO-{s}-{d}",
            "ship_to": loc,
            "ordered_on": "2026-10-01",
            "requested_date": "2026-10-15",
            "currency": "USD",
        },
        pair,
    )
    line = w.add(
        "po_lines",
        {
            "partnership": p,
            "purchase_order": po,
            "line_no": 1,
            "sku": w.skus[s],
            "qty_ordered": 10,
            "unit_cost_minor": 100,
        },
        pair,
    )
    ship = w.add(
        "shipments",
        {
            "partnership": p,
            "purchase_order": po,
            "number": f"ASN-{s}-{d}",
            "ship_date": "2026-10-10",
        },
        pair,
    )
    w.add(
        "shipment_lines",
        {"partnership": p, "shipment": ship, "po_line": line, "qty_shipped": 8},
        pair,
    )
    inv = w.add(
        "invoices",
        {
            "partnership": p,
            "purchase_order": po,
            "number": f"INV-{s}-{d}",
            "invoice_date": "2026-10-11",
            "total_minor": 800,
            "currency": "USD",
        },
        pair,
    )
    w.add(
        "invoice_lines",
        {
            "partnership": p,
            "invoice": inv,
            "po_line": line,
            "qty": 8,
            "unit_price_minor": 100,
            "amount_minor": 800,
        },
        pair,
    )
    plan = w.add("business_plans", {"partnership": p, "year": 2027}, pair)
    w.add(
        "plan_revisions",
        {"partnership": p, "plan": plan, "quarter": 1, "revised_on": "2026-11-01"},
        pair,
    )
    w.add(
        "plan_actions",
        {"partnership": p, "plan": plan, "title": "Shelf reset", "owner_side": "supplier"},
        pair,
    )
    w.add("risks", {"partnership": p, "title": "Port strike", "likelihood": 2, "impact": 4}, pair)
    card = w.add(
        "scorecards",
        {"partnership": p, "period_start": "2026-07-01", "period_end": "2026-09-30"},
        pair,
    )
    w.add(
        "scorecard_values",
        {
            "partnership": p,
            "scorecard": card,
            "kpi": "fill_rate",
            "variant": "unit",
            "value": "0.8",
        },
        pair,
    )


# -- the oracle ---------------------------------------------------------------------


def shared_with(who: str, row: Row, kind: str) -> bool:
    """Acme: all of North's rows (pos, inventory, forecasts); South's east POS from March.
    Acme-North's manager: what Acme reads of North (issue 11, part 4)."""
    if who == "manager":
        return row.attrs["distributor"] == MANAGED[1] and shared_with(MANAGED[0], row, kind)
    if who != "acme" or row.attrs["supplier"] != "acme":
        return False
    if row.attrs["distributor"] == "north":
        return True
    return kind == "pos" and row.attrs["location"] == "south-e1" and row.attrs["day"] >= "2026-03"


RAW = {"pos_sales": "pos", "inventory_positions": "inventory", "forecasts": "forecasts"}


def expected(w: World, who: str, row: Row) -> bool:
    """Whether ``who`` may read this row, by the written rules (not by the hub's)."""
    c, a = row.collection, row.attrs
    if row.pair is not None:
        if who in SUPPLIERS:
            hidden_draft = c in PROMOTION_PARTS and a.get("status") == "draft"
            return row.pair[0] == who and not hidden_draft
        if who in DISTRIBUTORS:
            return row.pair[1] == who
        return row.pair == MANAGED
    if c in RAW:
        return a["distributor"] == who or shared_with(who, row, RAW[c])
    if c == "skus":
        if who in SUPPLIERS:
            return a["supplier"] == who
        if who in DISTRIBUTORS:
            return a["supplier"] in SUPPLIERS  # partnered suppliers only
        return a["supplier"] == MANAGED[0]
    if c == "sku_codes":
        return a["distributor"] == who or a["supplier"] == who
    if c == "locations":
        ship_to = a["region"] == "east"  # every pair's PO ships to the distributor's east store
        if who in DISTRIBUTORS:
            return a["distributor"] == who
        if who in SUPPLIERS:
            in_share = who == "acme" and (a["distributor"] == "north" or a["region"] == "east")
            return ship_to or in_share
        return a["distributor"] == MANAGED[1]  # Acme's whole agreement with North
    if c == "share_agreements":
        if who == "manager":  # those between its pair's sides, which its pages scope by
            return (a["grantee"], a["grantor"]) == tuple(w.orgs[n] for n in MANAGED)
        org = w.orgs.get(who)
        return org in (a["grantor"], a["grantee"])
    if c == "edi_messages":
        return who in (a["sender"], a["receiver"])
    raise AssertionError(f"no rule for {c}")


ROLES = (*SUPPLIERS, *DISTRIBUTORS, "manager")
COLLECTIONS = sorted(
    {
        "skus",
        "sku_codes",
        "locations",
        "pos_sales",
        "inventory_positions",
        "forecasts",
        "promotions",
        *PAIR_CHILDREN,
        "purchase_orders",
        "business_plans",
        "risks",
        "scorecards",
        "share_agreements",
        "edi_messages",
    }
)


@pytest.fixture(scope="module")
def world(hub, admin: HubClient) -> World:
    return build(hub.url, admin, hub.lane_url)


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, HubClient]:
    return {who: world.login(who) for who in ROLES}


def visible(client: HubClient, collection: str, ids: list[Any]) -> set[Any] | None:
    """The ids of these rows the client can read, or None if the collection is closed."""
    try:
        rows = client.read_items(collection, fields=["id"], filter={"id": {"_in": ids}}, limit=-1)
    except ForbiddenOrMissing:
        return None
    return {r["id"] for r in rows}


@pytest.mark.parametrize("collection", COLLECTIONS)
@pytest.mark.parametrize("who", ROLES)
def test_each_role_reads_exactly_the_rows_the_rules_allow(world, clients, who, collection):
    rows = world.of(collection)
    assert rows, f"the world has no {collection}"
    want = {r.id for r in rows if expected(world, who, r)}
    got = visible(clients[who], collection, [r.id for r in rows])
    assert (got or set()) == want
    if got is None:
        assert not want


def attempt(action: Callable[[], Any]) -> bool:
    """True if the hub accepted the write."""
    try:
        action()
    except (ForbiddenOrMissing, HubError):
        return False
    return True


@pytest.mark.parametrize("collection", COLLECTIONS)
@pytest.mark.parametrize("who", ROLES)
def test_no_role_updates_or_deletes_a_row_it_cannot_read(world, clients, who, collection):
    client = clients[who]
    hidden = [r for r in world.of(collection) if not expected(world, who, r)]
    before = {r.id: world.admin.read_item(collection, r.id) for r in hidden}
    for row in hidden:
        assert not attempt(lambda r=row: client.update_item(collection, r.id, {"id": r.id})), row
        assert not attempt(lambda r=row: client.delete_item(collection, r.id)), row
    after = {r.id: world.admin.read_item(collection, r.id) for r in hidden}
    assert after == before


def foreign_pair(world: World, who: str) -> tuple[str, str]:
    return next(p for p in PAIRS if who not in p and p != MANAGED)


def own_pair(who: str) -> tuple[str, str]:
    return MANAGED if who == "manager" else next(p for p in PAIRS if who in p)


#: Fields the hub stamps on create (Directus's date-created): nobody sends them.
STAMPED = ("placed_at", "recorded_at", "revised_by", "created_at")


def copy_of(world: World, collection: str, pair: tuple[str, str]) -> dict[str, Any]:
    """A pair's row of this collection as a new item: no id, no empty fields, no o2m lists.

    A submitted promotion's row is used, so the supplier may read back what it creates.
    """
    row = next(
        r for r in world.of(collection) if r.pair == pair and r.attrs.get("status") != "draft"
    )
    item = world.admin.read_item(collection, row.id)
    return {
        k: v
        for k, v in item.items()
        if k not in ("id", *STAMPED) and v is not None and not isinstance(v, list)
    }


# What each role may create (migrations/0003_governance.py), for its own pairs only.
CREATES = {
    "acme": {"shipments", "shipment_lines", "invoices", "invoice_lines", "promotion_events"},
    "north": {
        "promotions",
        "promotion_skus",
        "promotion_locations",
        "promotion_events",
        "purchase_orders",
        "po_lines",
    },
    "manager": {
        "business_plans",
        "plan_revisions",
        "plan_actions",
        "risks",
        "scorecards",
        "scorecard_values",
    },
}
CREATES["brava"], CREATES["south"] = CREATES["acme"], CREATES["north"]
PAIR_COLLECTIONS = sorted(
    {*PAIR_CHILDREN, "promotions", "purchase_orders", "business_plans", "risks", "scorecards"}
)


@pytest.mark.parametrize("collection", PAIR_COLLECTIONS)
@pytest.mark.parametrize("who", ROLES)
def test_no_role_creates_records_for_a_pair_it_is_not_part_of(world, clients, who, collection):
    item = copy_of(world, collection, foreign_pair(world, who))
    count = world.admin.count_items(collection)
    assert not attempt(lambda: clients[who].create_item(collection, item))
    assert world.admin.count_items(collection) == count


@pytest.mark.parametrize("collection", PAIR_COLLECTIONS)
@pytest.mark.parametrize("who", ROLES)
def test_each_role_creates_exactly_what_its_rules_allow_for_its_own_pairs(
    world, clients, who, collection
):
    """The control for the test above: refusals are the pair rule, not a broken item."""
    item = copy_of(world, collection, own_pair(who))
    if collection == "promotion_events":
        item.pop("actor", None)
    created: list[Any] = []
    allowed = attempt(lambda: created.append(clients[who].create_item(collection, item)["id"]))
    assert allowed == (collection in CREATES[who])
    for key in created:
        world.admin.delete_item(collection, key)


def test_partners_see_only_their_counterparties_pairs_and_colleagues(world, clients):
    o = world.orgs
    want_orgs = {
        "acme": {o["acme"], o["north"], o["south"]},
        "brava": {o["brava"], o["north"], o["south"]},
        "north": {o["north"], o["acme"], o["brava"]},
        "south": {o["south"], o["acme"], o["brava"]},
        "manager": {o["ops"], o["acme"], o["north"]},
    }
    for who, client in clients.items():
        assert visible(client, "organizations", list(o.values())) == want_orgs[who], who
        pairs = {
            pid
            for pair, pid in world.pair_ids.items()
            if who in pair or (who == "manager" and pair == MANAGED)
        }
        assert visible(client, "partnerships", list(world.pair_ids.values())) == pairs, who
        colleagues = {u["email"] for u in client.get("/users", fields=["email"], limit=-1)}
        assert colleagues == (
            {world.emails[who]} if who != "manager" else {world.emails["manager"]}
        ), who


# One allowed update per role and collection, on a row of the role's own (first) pair or
# its own data; values are the world's own, so the shared world does not drift.
UPDATES: dict[str, dict[str, dict[str, Any]]] = {
    "acme": {
        "promotions": {"status": "accepted", "supplier_comment": "Agreed"},
        "purchase_orders": {"promised_date": "2026-10-15"},
        "po_lines": {"qty_promised": 10},
        "shipments": {"ship_date": "2026-10-10"},
        "shipment_lines": {"qty_shipped": 8},
        "invoices": {"total_minor": 800},
        "invoice_lines": {"qty": 8},
        "skus": {"description": "acme item"},
    },
    "north": {
        "promotions": {"name": "acme/north submitted"},
        "promotion_skus": {"sku": None},
        "purchase_orders": {"requested_date": "2026-10-15"},
        "po_lines": {"qty_ordered": 10},
        "shipments": {"received_date": "2026-10-12"},
        "shipment_lines": {"qty_received": 8},
        "invoices": {"status": "open"},
        "sku_codes": {"sku": None},
        "locations": {"region": "east"},
    },
    "manager": {
        "business_plans": {"status": "draft"},
        "plan_actions": {"title": "Shelf reset"},
        "risks": {"impact": 4},
        "scorecards": {"period_end": "2026-09-30"},
        "scorecard_values": {"value": "0.8"},
    },
}


def own_row(world: World, who: str, collection: str) -> Row:
    rows = [r for r in world.of(collection) if expected(world, who, r)]
    pair = own_pair(who)
    paired = [r for r in rows if r.pair == pair and r.attrs.get("status") != "draft"]
    return (paired or rows)[0]


@pytest.mark.parametrize(
    ("who", "collection"), [(who, c) for who, cs in UPDATES.items() for c in sorted(cs)]
)
def test_each_role_makes_the_updates_its_rules_allow_on_its_own_rows(
    world, clients, who, collection
):
    """The control for the update refusals: the rules do let each role do its job."""
    row = own_row(world, who, collection)
    current = world.admin.read_item(collection, row.id)
    change = {k: (current[k] if v is None else v) for k, v in UPDATES[who][collection].items()}
    clients[who].update_item(collection, row.id, change)
    after = world.admin.read_item(collection, row.id)
    # money in minor units is a bigint, which Directus sends as a string on PostgreSQL
    money = [k for k in change if k.endswith("_minor")]
    assert as_ints([{k: after[k] for k in change}], *money) == [change]


@pytest.mark.parametrize(
    ("collection", "figure"), [("pos_sales", "units"), ("inventory_positions", "on_hand")]
)
@pytest.mark.parametrize("who", DISTRIBUTORS)
def test_pos_rows_are_written_only_by_the_bulk_lane(world, clients, who, collection, figure):
    """Rollups are kept by difference as the lane writes rows, and the lane makes each
    row's key from the import's own distributor: a distributor may read its POS and
    inventory rows through the hub but not create, change or delete them there."""
    row = own_row(world, who, collection)
    item = world.admin.read_item(collection, row.id)
    assert clients[who].read_item(collection, row.id)[figure] == item[figure]
    assert not attempt(lambda: clients[who].update_item(collection, row.id, {figure: 99}))
    assert not attempt(lambda: clients[who].delete_items(collection, [row.id]))
    copy = {**item, "id": f"{item['id']}-copy", "day": "2026-02-01"}
    assert not attempt(lambda: clients[who].create_item(collection, copy))
    assert world.admin.read_item(collection, row.id)[figure] == item[figure]


def test_no_one_plants_an_inventory_row_for_another_distributor(world, clients):
    """Seen before the hardening: a row created under another distributor's key was
    later filled with that distributor's figures by its import, and stayed readable by
    the planter."""
    row = own_row(world, "south", "inventory_positions")
    south, north = world.orgs["south"], world.orgs["north"]
    loc, sku = row.id.split(":")[1:3]
    planted = {"id": f"{south}:{loc}:{sku}:2026-02-02", "day": "2026-02-02", "on_hand": 1,
               "distributor": north, "location": int(loc), "sku": int(sku)}  # fmt: skip
    assert not attempt(lambda: clients["north"].create_item("inventory_positions", planted))
    assert not attempt(lambda: world.admin.create_item("inventory_positions", planted))
    assert (
        world.admin.read_items("inventory_positions", filter={"id": {"_eq": planted["id"]}}) == []
    )


def _keyed_row(world: World, collection: str, marker: str) -> dict[str, Any]:
    """A new row of ``collection`` for north, without its key."""
    if collection == "column_mappings":
        return {"kind": marker, "columns": {}, "date_format": "%Y-%m-%d"}
    if collection == "sku_codes":
        return {"item_code": f"K-{marker}", "sku": world.skus["acme"]}
    if collection == "locations":
        return {"code": f"k-{marker}", "name": "Keyed", "kind": "store", "region": "east"}
    week = {"pos": "2026-03-02", "inventory": "2026-03-09"}[marker]
    return {"location": world.locations["north-e1"], "sku": world.skus["acme"],
            "week_start": week, "forecast_units": 3}  # fmt: skip


#: collection -> (key field, the key north's row gets for marker, made from its fields)
KEYED = {
    "column_mappings": ("id", lambda w, m, org: f"{org}:{m}"),
    "sku_codes": ("id", lambda w, m, org: f"{org}:K-{m}"),
    "locations": ("ref", lambda w, m, org: f"{org}:k-{m}"),
}


@pytest.mark.parametrize("collection", sorted(KEYED))
def test_a_partner_cannot_create_a_row_under_another_partners_key(world, clients, collection):
    """Seen before the hardening: north created south's ``<south>:pos`` column mapping,
    after which south's imports read north's columns and south's own save failed. The
    hub makes a natural key from the row's own fields, so a foreign key is refused
    whether or not that key exists (no oracle), and nothing is stored under it."""
    field, key_of = KEYED[collection]
    foreign = key_of(world, "pos", world.orgs["south"])
    row = {**_keyed_row(world, collection, "pos"), field: foreign}
    assert not attempt(lambda: clients["north"].create_item(collection, row))
    found = world.admin.read_items(collection, filter={field: {"_eq": foreign}}, fields=["id"])
    assert found == []


@pytest.mark.parametrize("collection", sorted(KEYED))
def test_the_hub_makes_a_rows_natural_key_from_its_own_fields(world, clients, collection):
    """The control: leaving the key out, or giving the right one, creates the row."""
    field, key_of = KEYED[collection]
    north = world.orgs["north"]
    made = clients["north"].create_item(
        collection, _keyed_row(world, collection, "inventory"), fields=["id", field]
    )
    assert made[field] == key_of(world, "inventory", north)
    with pytest.raises(HubError):  # the same key again: its own row, so it may know
        clients["north"].create_item(
            collection,
            {**_keyed_row(world, collection, "inventory"), field: made[field]},
        )
    world.admin.delete_items(collection, [made["id"]])
    again = clients["north"].create_item(
        collection,
        {**_keyed_row(world, collection, "inventory"), field: key_of(world, "inventory", north)},
        fields=["id", field],
    )
    assert again[field] == key_of(world, "inventory", north)
    world.admin.delete_items(collection, [again["id"]])


def _refusal(action: Callable[[], Any]) -> tuple[str, str]:
    try:
        action()
    except (ForbiddenOrMissing, HubError) as exc:
        return type(exc).__name__, str(exc)
    raise AssertionError("the hub accepted it")


def test_a_refused_key_does_not_tell_whether_the_row_exists(world, clients):
    """A guess at another partner's key, by create or update, is answered the
    same whether that key is stored or not (seen: 400 for an existing item code, 403
    for a missing one)."""
    north = clients["north"]
    south = world.orgs["south"]
    stored = own_row(world, "south", "sku_codes").id
    missing = f"{south}:NO-SUCH-CODE"
    assert world.admin.read_items("sku_codes", filter={"id": {"_eq": missing}}) == []
    updates = {
        key: _refusal(lambda k=key: north.update_item("sku_codes", k, {"item_code": "x"}))
        for key in (stored, missing)
    }
    assert updates[stored] == updates[missing]
    code = stored.split(":", 1)[1]
    creates = {
        key: _refusal(
            lambda k=key: north.create_item(
                "sku_codes", {"id": k, "item_code": code, "sku": world.skus["acme"]}
            )
        )
        for key in (stored, f"{south}:{code}-missing")
    }
    assert len(set(creates.values())) == 1, creates


def test_a_distributor_writes_forecasts_only_through_the_lane(world, clients):
    """Through REST a distributor could change a frozen week or plant a row under another
    distributor's key (or spell one week two ways): forecasts come through imports only
    (migrations/0022), and the distributor's own rows are still read."""
    north = clients["north"]
    row = _keyed_row(world, "forecasts", "pos")
    for spelling in ("2026-03-02", "20260302", "2026-03-02T00:00:00+01:00"):
        assert not attempt(
            lambda s=spelling: north.create_item("forecasts", {**row, "week_start": s})
        )
    own = own_row(world, "north", "forecasts")
    before = world.admin.read_item("forecasts", own.id)
    assert not attempt(lambda: north.update_item("forecasts", own.id, {"forecast_units": 1}))
    assert not attempt(lambda: north.delete_items("forecasts", [own.id]))
    assert world.admin.read_item("forecasts", own.id) == before
    assert north.read_item("forecasts", own.id)["id"] == own.id


def test_a_natural_key_does_not_change_with_the_fields_it_is_made_of(world, clients):
    """A key names what its fields say: editing them would leave a row whose key names
    something else, so it is refused (re-create the row instead)."""
    row = own_row(world, "north", "sku_codes")
    before = world.admin.read_item("sku_codes", row.id)
    change = {"item_code": f"{before['item_code']}-renamed"}
    assert not attempt(lambda: clients["north"].update_item("sku_codes", row.id, change))
    assert world.admin.read_item("sku_codes", row.id)["item_code"] == before["item_code"]
    place = world.locations["north-e1"]
    assert not attempt(lambda: clients["north"].update_item("locations", place, {"code": "zz"}))


def test_an_order_and_its_lines_are_one_hub_transaction(world, clients):
    """A line for another pair refuses the whole order: no order is left without lines."""
    own, foreign = world.pair_ids[("acme", "north")], world.pair_ids[("brava", "south")]
    line = {"line_no": 1, "sku": world.skus["acme"], "qty_ordered": 4, "unit_cost_minor": 100}
    order = {
        "partnership": own,
        "number": f"PO-atomic-{world.tag}",
        "status": "open",
        "ordered_on": "2026-11-01",
        "requested_date": "2026-11-15",
        "currency": "USD",
        "ship_to": world.locations["north-e1"],
    }
    orders, lines = (world.admin.count_items(c) for c in ("purchase_orders", "po_lines"))
    bad = {**order, "lines": [{**line, "partnership": own}, {**line, "partnership": foreign}]}
    assert not attempt(lambda: clients["north"].create_item("purchase_orders", bad))
    assert world.admin.count_items("purchase_orders") == orders
    assert world.admin.count_items("po_lines") == lines
    good = {**order, "lines": [{**line, "partnership": own}]}
    created = clients["north"].create_item("purchase_orders", good, fields=["id", "lines"])
    assert len(created["lines"]) == 1
    world.admin.delete_items("po_lines", created["lines"])
    world.admin.delete_item("purchase_orders", created["id"])


# -- cross-row integrity (directus/extensions/tandem-integrity) -----------------------


def row_of(world: World, collection: str, pair: tuple[str, str]) -> Any:
    return next(
        r.id for r in world.of(collection) if r.pair == pair and r.attrs.get("status") != "draft"
    )


def refusal(action: Callable[[], Any]) -> str:
    """The hub's 400 message for a refused write (fails if the write was accepted)."""
    with pytest.raises(InvalidPayload) as refused:
        action()
    return str(refused.value)


def test_a_record_cannot_hang_under_another_pairs_parent(world, clients):
    """North and South share the supplier Acme: a line of North's on South's order would
    show on that order to Acme. The hook refuses it inside the hub."""
    own = world.pair_ids[("acme", "north")]
    line = {
        "partnership": own,
        "purchase_order": row_of(world, "purchase_orders", ("acme", "south")),
        "line_no": 9,
        "sku": world.skus["acme"],
        "qty_ordered": 1,
        "unit_cost_minor": 100,
    }
    count = world.admin.count_items("po_lines")
    assert "purchase_order" in refusal(lambda: clients["north"].create_item("po_lines", line))
    asn_line = {
        "partnership": own,
        "shipment": row_of(world, "shipments", ("acme", "north")),
        "po_line": row_of(world, "po_lines", ("acme", "south")),
        "qty_shipped": 1,
    }
    assert "po_line" in refusal(lambda: clients["acme"].create_item("shipment_lines", asn_line))
    assert world.admin.count_items("po_lines") == count


def test_a_record_cannot_name_another_partners_sku_or_store(world, clients):
    own = world.pair_ids[("acme", "north")]
    # A draft: its terms are open, so only the SKU's owner refuses the link.
    promotion = next(
        r.id
        for r in world.of("promotions")
        if r.pair == ("acme", "north") and r.attrs["status"] == "draft"
    )
    foreign_sku = {"partnership": own, "promotion": promotion, "sku": world.skus["brava"]}
    assert "sku" in refusal(lambda: clients["north"].create_item("promotion_skus", foreign_sku))
    order = row_of(world, "purchase_orders", ("acme", "north"))
    south_store = world.locations["south-e1"]
    assert "ship_to" in refusal(
        lambda: clients["north"].update_item("purchase_orders", order, {"ship_to": south_store})
    )
    assert world.admin.read_item("purchase_orders", order)["ship_to"] == world.locations["north-e1"]


def test_the_original_commitment_is_kept_once_set(world, clients):
    pair = world.pair_ids[("acme", "north")]
    order = world.admin.create_item(
        "purchase_orders",
        {
            "partnership": pair,
            "number": f"PO-commit-{world.tag}",
            "ordered_on": "2026-11-01",
            "requested_date": "2026-11-20",
            "currency": "USD",
        },
        fields=["id"],
    )["id"]
    acme = clients["acme"]
    first = {"promised_date": "2026-11-18", "original_promised_date": "2026-11-18"}
    acme.update_item("purchase_orders", order, first)
    assert "original_promised_date" in refusal(
        lambda: acme.update_item("purchase_orders", order, {"original_promised_date": "2026-11-25"})
    )
    acme.update_item("purchase_orders", order, {"revised_date": "2026-11-25"})
    kept = world.admin.read_item("purchase_orders", order)
    assert (kept["original_promised_date"], kept["revised_date"]) == ("2026-11-18", "2026-11-25")
    world.admin.delete_item("purchase_orders", order)


def test_a_supplier_cannot_write_history_on_a_draft_it_cannot_see(world, clients):
    draft = next(
        r.id
        for r in world.of("promotions")
        if r.pair == ("acme", "north") and r.attrs["status"] == "draft"
    )
    event = {
        "partnership": world.pair_ids[("acme", "north")],
        "promotion": draft,
        "status": "accepted",
        "at": "2026-11-23T00:00:00Z",
    }
    assert "promotion" in refusal(lambda: clients["acme"].create_item("promotion_events", event))
    created = clients["north"].create_item("promotion_events", {**event, "status": "draft"})
    world.admin.delete_item("promotion_events", created["id"])


# -- each side owns its fields and its moves (domain/ownership.py) ----------------------
#
# Every case below is made from the ownership table, so a field or a move added to it is
# tested with no new code: each role, with its own login, on the managed pair (which all
# three roles read), tries every field some role writes, every status move, every create
# and every delete, in the statuses that decide it. A refusal is the hook's 400 naming the
# field (or Directus's 403 where the role cannot read the record at all, as a supplier a
# distributor's draft), and leaves the record as it was; a permitted write passes.

ACTORS = {"acme": SUPPLIER_USER, "north": DISTRIBUTOR_USER, "manager": ACCOUNT_MANAGER}
#: The pair each actor may name when it tries to move a record to another pair.
OTHER_PAIR = {"acme": ("acme", "south"), "north": ("brava", "north"), "manager": ("brava", "south")}
PROMOTION_FAMILY = {"promotions", "promotion_skus", "promotion_locations", "promotion_events"}


#: child collection -> (the field naming its parent, the parent's collection)
LINKS = {
    "promotion_skus": ("promotion", "promotions"),
    "promotion_locations": ("promotion", "promotions"),
    "promotion_events": ("promotion", "promotions"),
    "po_lines": ("purchase_order", "purchase_orders"),
    "shipment_lines": ("shipment", "shipments"),
    "invoice_lines": ("invoice", "invoices"),
    "plan_revisions": ("plan", "business_plans"),
    "plan_actions": ("plan", "business_plans"),
    "scorecard_values": ("scorecard", "scorecards"),
    "exception_events": ("exception", "exceptions"),
}


def gate_field(collection: str) -> str:
    """The field a refusal names when a status decides it: the status, or the parent."""
    rules = ownership.TABLE[collection]
    return rules.status or (rules.parent[0] if rules.parent else "status")


@dataclass
class Owned:
    """The world's extra rows for these tests, and what each field is changed to."""

    world: World
    users: dict[str, str]
    sku2: int
    made: list[tuple[str, Any]] = field(default_factory=list)
    cache: dict[tuple[str, str | None, str], dict[str, Any]] = field(default_factory=dict)
    weeks: int = 0

    @property
    def pair(self) -> int:
        return self.world.pair_ids[MANAGED]

    def add(self, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        row = self.world.admin.create_item(collection, item)
        self.made.append((collection, row["id"]))
        return row

    def payload(self, collection: str, status: str | None, who: str) -> dict[str, Any]:
        """A new record of ``collection`` on the managed pair, whose gate (its own status
        or its parent's) is ``status``; its parents are made here."""
        w = self.world
        rules = ownership.TABLE[collection]
        item: dict[str, Any] = {"partnership": self.pair}
        if collection in LINKS:
            field_name, parent = LINKS[collection]
            gated = rules.parent is not None and status is not None
            parent_status = status if gated else ownership.TABLE[parent].initial
            if parent == "promotions" and not gated:
                parent_status = "submitted"  # one the supplier reads too
            item[field_name] = self.record(parent, parent_status, who)["id"]
        if rules.status:
            item[rules.status] = status
        store, sku, tag = w.locations["north-e1"], w.skus["acme"], secrets.token_hex(3)
        if collection == "promotions":
            item |= {
                "name": f"own {tag}",
                "type": "tpr",
                "start_date": "2027-02-01",
                "end_date": "2027-02-07",
            }
        elif collection == "promotion_skus":
            item["sku"] = sku
        elif collection == "promotion_locations":
            item["location"] = store
        elif collection == "promotion_events":
            item |= {"status": "submitted", "at": "2026-11-01T00:00:00Z"}
        elif collection == "purchase_orders":
            item |= {
                "number": f"PO-own-{tag}",
                "ship_to": store,
                "ordered_on": "2026-10-01",
                "requested_date": "2026-10-15",
                "currency": "USD",
            }
            item.setdefault("status", "open")
        elif collection == "po_lines":
            item |= {"line_no": 1, "sku": sku, "qty_ordered": 10, "unit_cost_minor": 100}
        elif collection == "shipments":
            item |= {
                "number": f"ASN-own-{tag}",
                "ship_date": "2026-10-10",
                "purchase_order": self.record("purchase_orders", "acknowledged", who)["id"],
            }
        elif collection == "invoices":
            item |= {
                "number": f"INV-own-{tag}",
                "invoice_date": "2026-10-11",
                "total_minor": 800,
                "currency": "USD",
                "purchase_order": self.record("purchase_orders", "shipped", who)["id"],
            }
        elif collection == "shipment_lines":
            item |= {"qty_shipped": 8, "po_line": self.line("shipments", item["shipment"])}
        elif collection == "invoice_lines":
            item |= {
                "qty": 8,
                "unit_price_minor": 100,
                "amount_minor": 800,
                "po_line": self.line("invoices", item["invoice"]),
            }
        elif collection == "business_plans":
            item["year"] = 2027
        elif collection == "plan_revisions":
            item |= {"quarter": 1, "revised_on": "2026-11-01"}
        elif collection == "plan_actions":
            item |= {"title": "Shelf reset", "owner_side": "supplier", "owner": self.users[who]}
        elif collection == "risks":
            item |= {"title": "Port strike", "likelihood": 2, "impact": 4}
        elif collection == "scorecards":
            item |= {"period_start": "2026-07-01", "period_end": "2026-09-30"}
        elif collection == "scorecard_values":
            item |= {"kpi": "fill_rate", "variant": "unit", "value": "0.8"}
        elif collection == "exceptions":
            criterion = self.add("exception_criteria", {
                "partnership": self.pair, "name": f"gap {tag}", "metric": "in_stock_pct",
                "comparison": "below", "threshold": "90", "owner_side": "distributor",
            })  # fmt: skip
            at = "2026-11-02T09:00:00Z"
            item |= {"criterion": criterion["id"], "subject": f"sku:{tag}", "value": "50.0",
                     "owner_side": "distributor", "opened_at": at, "due_at": at,
                     "last_seen_at": at}  # fmt: skip
        elif collection == "exception_events":
            item |= {"kind": "comment", "comment": "seen"}
        elif collection == "commitments":
            # A week of its own (one commitment per SKU and week), long after any lead time.
            self.weeks += 1
            week = dt.date(2030, 1, 7) + dt.timedelta(weeks=self.weeks)
            item |= {"sku": sku, "week_start": week.isoformat(), "units": 10}
        if rules.status and item.get(rules.status) is None:
            item[rules.status] = rules.initial
        return item

    def record(self, collection: str, status: str | None, who: str) -> dict[str, Any]:
        return self.add(collection, self.payload(collection, status, who))

    def line(self, parent: str, key: Any) -> Any:
        """A new line on the purchase order of this shipment or invoice."""
        order = self.world.admin.read_item(parent, key)["purchase_order"]
        line = {
            "partnership": self.pair,
            "purchase_order": order,
            "line_no": 2,
            "sku": self.world.skus["acme"],
            "qty_ordered": 5,
            "unit_cost_minor": 100,
        }
        return self.add("po_lines", line)["id"]

    def shared(self, collection: str, status: str | None, who: str) -> dict[str, Any]:
        """A record for refusals, made once: a refused write leaves it as it was."""
        key = (collection, status, who if collection == "plan_actions" else "")
        if key not in self.cache:
            self.cache[key] = self.record(collection, status, who)
        return self.cache[key]

    def value(self, who: str, name: str, row: dict[str, Any]) -> Any:
        """A value for ``name`` that differs from the record's own."""
        w = self.world
        if name == "partnership":
            return w.pair_ids[OTHER_PAIR[who]]
        if name == "events" and "criterion" in row:  # an exception's, with its move
            event = {"partnership": self.pair, "kind": "status", "status": row["status"]}
            return {"create": [event], "update": [], "delete": []}
        if name == "history":
            event = {
                "partnership": self.pair,
                "status": row["status"],
                "at": "2026-11-02T00:00:00Z",
            }
            return {"create": [event], "update": [], "delete": []}
        if name == "po_line":
            return self.line("invoices", row["invoice"])
        refs = {
            "sku": self.sku2,
            "location": w.locations["north-w1"],
            "ship_to": w.locations["north-w1"],
            "owner": self.users["acme" if who == "manager" else "manager"],
            "supplier_owner": self.users["acme"],
            "distributor_owner": self.users["north"],
        }
        return refs[name] if name in refs else CHANGED[name]


#: A new value for every plain field some role writes (a field missing here fails loudly).
CHANGED: dict[str, Any] = {
    "name": "renamed",
    "events": [{"date": "2027-03-01", "kind": "store_opening", "title": "Ten stores"}],
    "type": "display",
    "mechanics": "2 for 1",
    "start_date": "2027-02-02",
    "end_date": "2027-02-08",
    "expected_uplift_pct": 12,
    "supplier_comment": "noted",
    "requested_date": "2026-10-20",
    "promised_date": "2026-10-14",
    "original_promised_date": "2026-10-14",
    "revised_date": "2026-10-16",
    "acknowledged_at": "2026-10-02T10:00:00.000Z",
    "qty_ordered": 12,
    "unit_cost_minor": 110,
    "qty_promised": 9,
    "answer": "changed",
    "answer_reason": "short of stock",
    "sscc": "006141410000000012",
    "number": "X-renamed",
    "ship_date": "2026-10-11",
    "expected_delivery": "2026-10-13",
    "received_date": "2026-10-12",
    "qty_shipped": 7,
    "qty_received": 7,
    "invoice_date": "2026-10-12",
    "due_date": "2026-11-11",
    "total_minor": 900,
    "currency": "EUR",
    "qty": 7,
    "unit_price_minor": 110,
    "amount_minor": 770,
    "targets": {"fill_rate": "0.95"},
    "sponsors": "CEO",
    "quarter": 2,
    "notes": "n",
    "revised_on": "2026-12-01",
    "title": "new title",
    "owner_side": "distributor",
    "completed_on": "2026-12-02",
    "description": "d",
    "category": "supply",
    "likelihood": 3,
    "impact": 5,
    "mitigation": "m",
    "review_date": "2027-01-01",
    "period_start": "2026-07-02",
    "period_end": "2026-09-29",
    "label": "Q3",
    "units": 11,
    "resolution": "restocked",
    "note": "a line down",
    "kpi": "in_stock",
    "variant": "store",
    "value": "0.9",
    "numerator": "9",
    "denominator": "10",
}


@pytest.fixture(scope="module")
def owned(world: World, clients) -> Any:
    users = {
        who: world.admin.get("/users", filter={"email": {"_eq": world.emails[who]}}, fields=["id"])[
            0
        ]["id"]
        for who in ACTORS
    }
    sku2 = world.add(
        "skus",
        {
            "gtin": gtin_under(
                partners.get_partner(world.admin, world.orgs["acme"])["gs1_prefixes"][0]
            ),
            "description": "acme second item",
            "cost_minor": 100,
            "list_price_minor": 250,
            "currency": "USD",
            "supplier": world.orgs["acme"],
        },
        supplier="acme",
    )
    made = Owned(world, users, sku2)
    yield made
    for collection, key in reversed(made.made):
        with contextlib.suppress(HubError):
            world.admin.delete_item(collection, key)


def gates(collection: str) -> tuple[str | None, ...]:
    """The statuses that decide writes to a record: its own, its parent's, or none."""
    rules = ownership.TABLE[collection]
    if rules.statuses:
        return rules.statuses
    if rules.parent and ownership.TABLE[rules.parent[1]].statuses:
        return ownership.TABLE[rules.parent[1]].statuses
    return (None,)


def hidden(who: str, collection: str, status: str | None) -> bool:
    """Whether the actor cannot read such a record (a supplier, a distributor's draft)."""
    return who == "acme" and collection in PROMOTION_FAMILY and status == "draft"


def field_cases() -> list[tuple[str, str, str, str | None, bool]]:
    """(who, collection, field, gate status, allowed) for every field some role writes
    and every field that never changes: for its owner, in a status where it may and in one
    where it may not; for everyone else, in a status where its owner may."""
    cases = []
    for collection, rules in sorted(ownership.TABLE.items()):
        names = {f for grants in rules.update.values() for g in grants for f in g.fields}
        for name in sorted(names | ownership.IMMUTABLE):
            owner_ok = [
                s
                for s in gates(collection)
                if any(
                    not ownership.update_refusals(r, collection, s, {name: 1})
                    for r in ownership.PARTIES
                )
            ]
            for who, role in ACTORS.items():
                verdict = {
                    s: not ownership.update_refusals(role, collection, s, {name: 1})
                    for s in gates(collection)
                }
                yes = [s for s, ok in verdict.items() if ok and not hidden(who, collection, s)]
                no = [s for s, ok in verdict.items() if not ok]
                seen = [s for s in owner_ok or no if not hidden(who, collection, s)]
                if yes:
                    cases.append((who, collection, name, yes[0], True))
                    if no:
                        visible_no = [s for s in no if not hidden(who, collection, s)]
                        cases.append((who, collection, name, (visible_no or no)[0], False))
                else:
                    cases.append((who, collection, name, (seen or owner_ok or no)[0], False))
    return cases


def move_cases() -> list[tuple[str, str, str, str, bool]]:
    """(who, collection, from, to, allowed) for every status move of every collection."""
    return [
        (who, collection, old, new, ownership.may_move(role, collection, old, new))
        for collection, rules in sorted(ownership.TABLE.items())
        if rules.moves
        for who, role in ACTORS.items()
        for old in rules.statuses
        for new in rules.statuses
        if old != new
    ]


def refused_as_expected(who: str, collection: str, status: str | None, name: str, action) -> None:
    """The write is refused: the hook's 400 naming the field, or a 403 where the actor
    cannot read the record."""
    if hidden(who, collection, status):
        with pytest.raises(ForbiddenOrMissing):
            action()
        return
    with pytest.raises(InvalidPayload) as refused:
        action()
    assert f"{name}:" in str(refused.value)


@pytest.mark.parametrize(("who", "collection", "name", "status", "allowed"), field_cases())
def test_each_side_changes_only_the_fields_it_owns(
    owned, clients, who, collection, name, status, allowed
):
    """Seen before the table: a supplier set a shipment's received_date and qty_received,
    a distributor changed an accepted promotion's terms or its partnership, an account
    manager moved plans and scorecards to another pair."""
    row = (
        owned.record(collection, status, who) if allowed else owned.shared(collection, status, who)
    )
    change = {name: owned.value(who, name, row)}
    before = owned.world.admin.read_item(collection, row["id"])
    if not allowed:
        refused_as_expected(
            who,
            collection,
            status,
            name,
            lambda: clients[who].update_item(collection, row["id"], change),
        )
        assert owned.world.admin.read_item(collection, row["id"]) == before
        return
    clients[who].update_item(collection, row["id"], change)
    after = owned.world.admin.read_item(collection, row["id"])
    if name != "history":
        assert after[name] != before[name]


@pytest.mark.parametrize(("who", "collection", "old", "new", "allowed"), move_cases())
def test_each_side_makes_only_its_own_status_moves(
    owned, clients, who, collection, old, new, allowed
):
    """Seen before the table: a distributor moved an accepted promotion back to draft (it
    vanished for the supplier) and set a purchase order acknowledged or shipped."""
    row = owned.record(collection, old, who) if allowed else owned.shared(collection, old, who)
    status = ownership.TABLE[collection].status or "status"
    if not allowed:
        refused_as_expected(
            who,
            collection,
            old,
            status,
            lambda: clients[who].update_item(collection, row["id"], {status: new}),
        )
        assert owned.world.admin.read_item(collection, row["id"])[status] == old
        return
    clients[who].update_item(collection, row["id"], {status: new})
    assert owned.world.admin.read_item(collection, row["id"])[status] == new


def create_cases() -> list[tuple[str, str, str, str | None, bool]]:
    """(who, collection, field, gate status, allowed) for every create a role makes: each
    with a field another side writes (refused), and in every status it might start in
    (or under a parent in), as the table says."""
    cases = []
    for collection, rules in sorted(ownership.TABLE.items()):
        written = {f for grants in rules.update.values() for g in grants for f in g.fields}
        written |= {f for g in rules.create.values() for f in g.fields}
        for who, role in ACTORS.items():
            grant = rules.create.get(role)
            if grant is None:
                continue
            open_in = [s for s in gates(collection) if grant.when is None or s in grant.when]
            for name in sorted(written - grant.fields):
                cases.append((who, collection, name, open_in[0], False))
            for status in gates(collection):
                cases.append((who, collection, gate_field(collection), status, status in open_in))
    return cases


@pytest.mark.parametrize(("who", "collection", "name", "status", "allowed"), create_cases())
def test_each_side_creates_only_with_its_own_fields_and_statuses(
    owned, clients, who, collection, name, status, allowed
):
    """Seen before the table: a distributor added SKUs to an accepted promotion."""
    item = owned.payload(collection, status, who)
    if name != gate_field(collection):
        item[name] = owned.value(who, name, item)
    if not allowed:
        with pytest.raises(InvalidPayload) as refused:
            clients[who].create_item(collection, item)
        assert f"{name}:" in str(refused.value)
        return
    created = clients[who].create_item(collection, item, fields=["id"])
    owned.made.append((collection, created["id"]))


def delete_cases() -> list[tuple[str, str, str | None, bool]]:
    """(who, collection, gate status, allowed) for every collection some role deletes."""
    return [
        (who, collection, status, ownership.delete_refusal(role, collection, status) is None)
        for collection, rules in sorted(ownership.TABLE.items())
        if rules.delete
        for who, role in ACTORS.items()
        for status in gates(collection)
    ]


@pytest.mark.parametrize(("who", "collection", "status", "allowed"), delete_cases())
def test_each_side_deletes_only_what_the_table_lets_it(
    owned, clients, who, collection, status, allowed
):
    rules = ownership.TABLE[collection]
    row = (
        owned.record(collection, status, who) if allowed else owned.shared(collection, status, who)
    )
    if allowed:
        clients[who].delete_item(collection, row["id"])
        assert world_lacks(owned.world, collection, row["id"])
        return
    gate = gate_field(collection)
    role = ACTORS[who]
    if role not in rules.delete or hidden(who, collection, status):
        with pytest.raises(ForbiddenOrMissing):
            clients[who].delete_item(collection, row["id"])
    else:
        refused_as_expected(
            who, collection, status, gate, lambda: clients[who].delete_item(collection, row["id"])
        )
    assert not world_lacks(owned.world, collection, row["id"])


def world_lacks(world: World, collection: str, key: Any) -> bool:
    return world.admin.read_items(collection, filter={"id": {"_eq": key}}, fields=["id"]) == []


def test_the_hooks_table_is_the_domains_table():
    """The hub's hook reads ownership.json: it must be domain/ownership.py's table.

    Regenerate it with ``.venv/bin/python -m domain.ownership > <that file>``.
    """
    path = (
        Path(__file__).resolve().parents[1] / "directus/extensions/tandem-integrity/ownership.json"
    )
    assert path.read_text() == ownership.as_json()


#: Pair-bound records whose key the integrity hook derives from their fields.
HUB_KEYED = {"commitments"}


def table_grants(role: str) -> dict[tuple[str, str], list[str]]:
    """(collection, action) -> the fields the ownership table lets ``role`` write."""
    grants: dict[tuple[str, str], list[str]] = {}
    for collection, rules in ownership.TABLE.items():
        # A key the hook derives (a commitment's), and the units it keeps at each horizon,
        # are put into the payload Directus then checks against the policy.
        kept = (
            {f"{ownership.FROZEN[collection][2]}_h{h}" for h in HORIZONS}
            if collection in ownership.FROZEN
            else set()
        )
        if role in rules.create:
            keyed = {"id"} if collection in HUB_KEYED else set()
            grants[(collection, "create")] = sorted(rules.create[role].fields | keyed | kept)
        names = {f for g in rules.update.get(role, ()) for f in g.fields}
        if names:
            names |= kept | set(ownership.STAMPED.get(collection, ()))
        if role in rules.moves and rules.status:
            names.add(rules.status)
        if names:
            grants[(collection, "update")] = sorted(names)
    return grants


@pytest.mark.parametrize("role", ownership.PARTIES)
def test_the_policies_grant_exactly_the_fields_the_table_gives(world, role):
    """The policies are the hub's first door: none grants a field (or a create or an
    update) the table gives to the other side, or withholds one the table gives."""
    policy = world.admin.get(
        "/policies", filter={"name": {"_eq": HUB_ROLE_NAMES[role]}}, fields=["id"]
    )[0]["id"]
    rows = world.admin.get(
        "/permissions",
        filter={
            "policy": {"_eq": policy},
            "collection": {"_in": sorted(ownership.TABLE)},
            "action": {"_in": ["create", "update"]},
        },
        fields=["collection", "action", "fields"],
        limit=-1,
    )
    granted = {(r["collection"], r["action"]): sorted(r["fields"] or []) for r in rows}
    assert granted == table_grants(role)


def test_a_day_alone_on_a_timestamp_the_table_fixes_is_a_change_and_refused(owned, clients):
    """Seen (probe 4): a supplier set a shipped PO's acknowledged_at from 10:00 to
    "2026-10-20", the same day: the hook took a day alone for the same value, as it is
    for a date, and Directus stored midnight."""
    admin = owned.world.admin
    types = {
        (collection, f["field"]): f["type"]
        for collection in ownership.TABLE
        for f in admin.get(f"/fields/{collection}")
    }
    tried = []
    for who, collection, name, status, allowed in field_cases():
        if allowed or types.get((collection, name)) not in ("timestamp", "dateTime"):
            continue
        if hidden(who, collection, status):
            continue
        row = owned.shared(collection, status, who)
        admin.update_item(collection, row["id"], {name: "2026-10-20T10:00:00Z"})
        before = admin.read_item(collection, row["id"])
        refused_as_expected(
            who, collection, status, name,
            lambda: clients[who].update_item(collection, row["id"], {name: "2026-10-20"}),  # noqa: B023
        )  # fmt: skip
        assert admin.read_item(collection, row["id"]) == before
        tried.append((who, collection, name))
    assert ("acme", "purchase_orders", "acknowledged_at") in tried
