"""The access matrix, through the hub's REST API with each partner's own token.

A small world has records in every collection for four supplier-distributor pairs. For
every role and every collection this asserts the exact rows the role reads, and that
every row it cannot read it can neither update nor delete, and that it cannot create
pair-bound records for a pair it is not part of. An oracle (``expected``) states the
rules independently of the hub's policies.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from directus import ForbiddenOrMissing, HubClient, HubError, InvalidPayload
from directus.bulk import open_lane, write_rows
from domain.gs1 import with_check_digit
from governance import partners, sharing, users

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
    for name in SUPPLIERS:
        w.orgs[name] = partners.add_partner(admin, f"{name} {w.tag}", "supplier")["id"]
    for name in DISTRIBUTORS:
        w.orgs[name] = partners.add_partner(admin, f"{name} {w.tag}", "distributor")["id"]
    w.orgs["ops"] = partners.add_partner(admin, f"ops {w.tag}", "operator")["id"]
    # A supplier nobody trades with: no distributor may see its catalogue.
    w.orgs["cedar"] = partners.add_partner(admin, f"cedar {w.tag}", "supplier")["id"]
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
        gtin = with_check_digit("0" + str(secrets.randbelow(10**11)).zfill(11))
        w.skus[s] = w.add(
            "skus",
            {
                "gtin": gtin,
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
    return build(hub.url, admin, f"sqlite:///{hub.db_path}")


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


def copy_of(world: World, collection: str, pair: tuple[str, str]) -> dict[str, Any]:
    """A pair's row of this collection as a new item: no id, no empty fields, no o2m lists.

    A submitted promotion's row is used, so the supplier may read back what it creates.
    """
    row = next(
        r for r in world.of(collection) if r.pair == pair and r.attrs.get("status") != "draft"
    )
    item = world.admin.read_item(collection, row.id)
    return {
        k: v for k, v in item.items() if k != "id" and v is not None and not isinstance(v, list)
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
        "forecasts": {"commit_units": 5},
        "skus": {"description": "acme item"},
    },
    "north": {
        "promotions": {"name": "acme/north submitted"},
        "promotion_skus": {"partnership": None},
        "purchase_orders": {"requested_date": "2026-10-15"},
        "po_lines": {"qty_ordered": 10},
        "shipments": {"received_date": "2026-10-12"},
        "shipment_lines": {"qty_received": 8},
        "invoices": {"status": "open"},
        "sku_codes": {"sku": None},
        "locations": {"region": "east"},
        "forecasts": {"forecast_units": 5},
    },
    "manager": {
        "business_plans": {"year": 2027},
        "plan_revisions": {"quarter": 1},
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
    assert {k: after[k] for k in change} == change


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
    "forecasts": (
        "id",
        lambda w, m, org: (
            f"{org}:{w.locations['north-e1']}:{w.skus['acme']}:"
            + {"pos": "2026-03-02", "inventory": "2026-03-09"}[m]
        ),
    ),
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


def test_a_forecast_week_is_written_one_way(world, clients):
    """Directus also takes "20260302" or a date-time with an offset, which would make a
    second key for the same week (or name another day than the key)."""
    row = _keyed_row(world, "forecasts", "pos")
    for spelling in ("20260302", "2026-03-02T00:00:00+01:00", "2026-W10-1"):
        assert not attempt(
            lambda s=spelling: clients["north"].create_item("forecasts", {**row, "week_start": s})
        )


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
    promotion = row_of(world, "promotions", ("acme", "north"))
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
