"""Governance in the hub itself: each partner's own Directus token sees only what the rules
allow, in rows, aggregates, relational traversal and related-field filters, and cannot
write in another partner's name. Nothing here goes through the portal.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import pytest

from directus import AuthFailed, ForbiddenOrMissing, HubClient, InvalidPayload
from directus.bulk import open_lane, write_rows
from domain import clock
from governance import partners, sharing, users
from tests.factories import gs1_prefix, gtin_under

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    url: str
    admin: HubClient
    orgs: dict[str, int]
    emails: dict[str, str]
    skus: dict[str, int]
    locations: dict[str, int]
    pairs: dict[str, int]
    agreement: int

    def login(self, who: str) -> HubClient:
        return HubClient.login(self.url, self.emails[who], PASSWORD)


def pos_key(d: int, loc: int, sku: int, day: str) -> str:
    return f"{d}:{loc}:{sku}:{day}"


@pytest.fixture(scope="module")
def world(hub, admin: HubClient) -> World:
    tag = secrets.token_hex(3)
    acme, brava = gs1_prefix(), gs1_prefix()
    prefixes = {"acme": acme, "brava": brava}
    orgs = {
        "acme": partners.add_partner(admin, f"Acme {tag}", "supplier", gs1_prefixes=[acme])["id"],
        "brava": partners.add_partner(admin, f"Brava {tag}", "supplier", gs1_prefixes=[brava])[
            "id"
        ],
        "north": partners.add_partner(admin, f"North {tag}", "distributor")["id"],
        "south": partners.add_partner(admin, f"South {tag}", "distributor")["id"],
    }
    roles = {
        "acme": "supplier_user",
        "brava": "supplier_user",
        "north": "distributor_user",
        "south": "distributor_user",
    }
    emails = {}
    for who, role in roles.items():
        emails[who] = f"{who}-{tag}@tandem.example.com"
        users.add_user(admin, emails[who], PASSWORD, role, orgs[who])
    pairs = {
        f"{s}-{d}": partners.ensure_partnership(admin, orgs[s], orgs[d])
        for s in ("acme", "brava")
        for d in ("north", "south")
    }
    skus = {}
    for name, owner in (("oats", "acme"), ("cola", "brava")):
        skus[name] = admin.create_item(
            "skus",
            {
                "gtin": gtin_under(prefixes[owner]),
                "description": name,
                "cost_minor": 100,
                "list_price_minor": 199,
                "currency": "USD",
                "supplier": orgs[owner],
            },
        )["id"]
    locations = {}
    for dist in ("north", "south"):
        for code, region in (("e1", "east"), ("w1", "west")):
            locations[f"{dist}-{code}"] = admin.create_item(
                "locations",
                {
                    "ref": f"{orgs[dist]}:{code}",
                    "code": code,
                    "name": f"{dist} {code}",
                    "kind": "store",
                    "region": region,
                    "distributor": orgs[dist],
                },
            )["id"]
    rows = []
    for dist in ("north", "south"):
        for code in ("e1", "w1"):
            loc = locations[f"{dist}-{code}"]
            for sku in skus.values():
                for day in ("2026-01-15", "2026-06-15"):
                    rows.append(
                        {
                            "id": pos_key(orgs[dist], loc, sku, day),
                            "distributor": orgs[dist],
                            "location": loc,
                            "sku": sku,
                            "day": day,
                            "units": 3,
                            "net_sales_minor": 597,
                            "currency": "USD",
                        }
                    )
    with open_lane(hub.lane_url) as lane:  # POS's one writer
        write_rows(
            lane,
            "pos",
            [
                (
                    r["distributor"],
                    r["location"],
                    r["sku"],
                    dt.date.fromisoformat(r["day"]),
                    r["units"],
                    r["net_sales_minor"],
                    r["currency"],
                )
                for r in rows
            ],
        )
    # Acme sees North's east stores from March on; nothing of South's. (Fixed days: the
    # agreement is in force, and the assertions hold, on any day from 2026-03-01 on.)
    agreement = sharing.grant(
        admin,
        orgs["north"],
        orgs["acme"],
        ["pos"],
        valid_from=dt.date(2026, 3, 1),
        regions=["east"],
    )["id"]
    return World(hub.url, admin, orgs, emails, skus, locations, pairs, agreement)


def test_supplier_sees_only_its_own_skus_in_the_agreed_region_and_dates(world: World):
    acme = world.login("acme")
    seen = {r["id"] for r in acme.read_items("pos_sales", fields=["id"], limit=-1)}
    assert seen == {
        pos_key(world.orgs["north"], world.locations["north-e1"], world.skus["oats"], "2026-06-15")
    }


def test_supplier_without_an_agreement_cannot_read_pos_at_all(world: World):
    with pytest.raises(ForbiddenOrMissing):
        world.login("brava").read_items("pos_sales", limit=1)


def test_aggregates_cannot_reveal_another_partners_totals(world: World):
    acme = world.login("acme")
    total = acme.aggregate("pos_sales", {"sum": ["units"], "count": ["id"]})
    assert int(total[0]["sum"]["units"]) == 3  # a string on PostgreSQL (a bigint sum)
    by_distributor = acme.aggregate("pos_sales", {"sum": ["units"]}, group_by=["distributor"])
    assert [(g["distributor"], int(g["sum"]["units"])) for g in by_distributor] == [
        (world.orgs["north"], 3)
    ]
    other = acme.aggregate(
        "pos_sales", {"sum": ["units"]}, filter={"sku": {"supplier": {"_eq": world.orgs["brava"]}}}
    )
    assert other[0]["sum"]["units"] is None


def test_relational_traversal_and_related_filters_stay_inside_the_rules(world: World):
    acme = world.login("acme")
    rows = acme.read_items("pos_sales", fields=["*.*"], limit=-1)
    assert len(rows) == 1
    assert rows[0]["sku"]["supplier"] == world.orgs["acme"]
    assert acme.read_items("pos_sales", filter={"location": {"region": {"_eq": "west"}}}) == []
    orgs = acme.read_items("organizations", fields=["id"], limit=-1)
    assert {o["id"] for o in orgs} == {world.orgs["acme"], world.orgs["north"], world.orgs["south"]}
    with pytest.raises(ForbiddenOrMissing):
        acme.read_items("organizations", fields=["members.email"])
    people = acme.get("/users", fields=["email"], limit=-1)
    assert {p["email"] for p in people} == {world.emails["acme"]}
    skus = acme.read_items("skus", fields=["id"], limit=-1)
    assert {s["id"] for s in skus} == {world.skus["oats"]}
    places = acme.read_items("locations", fields=["id"], limit=-1)
    assert {p["id"] for p in places} == {world.locations["north-e1"]}


def test_distributor_sees_its_own_rows_and_none_of_another_distributors(world: World):
    north = world.login("north")
    rows = north.read_items("pos_sales", fields=["distributor"], limit=-1)
    assert len(rows) == 8
    assert {r["distributor"] for r in rows} == {world.orgs["north"]}
    with pytest.raises(ForbiddenOrMissing):
        north.read_item(
            "pos_sales",
            pos_key(
                world.orgs["south"], world.locations["south-e1"], world.skus["oats"], "2026-06-15"
            ),
        )


def test_a_direct_status_change_closes_the_rows_before_any_policy_rewrite(world: World):
    """The live check in each clause: the policy still names the agreement, but it is off."""
    acme = world.login("acme")
    world.admin.update_item("share_agreements", world.agreement, {"status": "suspended"})
    try:
        assert acme.read_items("pos_sales", fields=["id"]) == []
    finally:
        world.admin.update_item("share_agreements", world.agreement, {"status": "active"})
    assert len(acme.read_items("pos_sales", fields=["id"])) == 1


def test_an_agreement_not_yet_started_shares_nothing(world: World, admin: HubClient):
    brava = world.login("brava")
    future = clock.today() + dt.timedelta(days=30)
    row = sharing.grant(admin, world.orgs["south"], world.orgs["brava"], ["pos"], valid_from=future)
    try:
        assert brava.read_items("pos_sales", fields=["id"]) == []
    finally:
        sharing.revoke(admin, row["id"])


def test_revocation_takes_effect_on_the_next_request(world: World, admin: HubClient):
    brava = world.login("brava")
    row = sharing.grant(
        admin, world.orgs["south"], world.orgs["brava"], ["pos"], valid_from=dt.date(2026, 1, 1)
    )
    assert len(brava.read_items("pos_sales", fields=["id"], limit=-1)) == 4
    sharing.revoke(admin, row["id"])
    with pytest.raises(ForbiddenOrMissing):
        brava.read_items("pos_sales", fields=["id"])


def test_partners_cannot_create_records_in_another_partners_name(world: World):
    north = world.login("north")
    other_pair = world.pairs["acme-south"]
    with pytest.raises((InvalidPayload, ForbiddenOrMissing)):
        north.create_item(
            "promotions",
            {
                "partnership": other_pair,
                "name": "x",
                "type": "tpr",
                "start_date": "2027-01-01",
                "end_date": "2027-01-07",
                "status": "draft",
            },
        )
    with pytest.raises((InvalidPayload, ForbiddenOrMissing)):
        north.create_item(
            "pos_sales",
            {
                "id": "forged",
                "distributor": world.orgs["south"],
                "location": world.locations["south-e1"],
                "sku": world.skus["oats"],
                "day": "2026-07-01",
                "units": 1,
                "net_sales_minor": 1,
                "currency": "USD",
            },
        )
    acme = world.login("acme")
    with pytest.raises((InvalidPayload, ForbiddenOrMissing)):
        acme.create_item(
            "skus",
            {
                "gtin": "4006381333931",
                "description": "x",
                "cost_minor": 1,
                "list_price_minor": 1,
                "currency": "USD",
                "supplier": world.orgs["brava"],
            },
        )
    with pytest.raises((InvalidPayload, ForbiddenOrMissing)):
        acme.create_item(
            "audit_log",
            {"at": "2026-11-23T00:00:00Z", "action": "x", "organization": world.orgs["brava"]},
        )


def test_partners_cannot_read_the_audit_log_tokens_or_system_collections(world: World):
    acme = world.login("acme")
    for collection in ("audit_log", "sync_runs", "tandem_migrations"):
        with pytest.raises(ForbiddenOrMissing):
            acme.read_items(collection, limit=1)
    with pytest.raises(ForbiddenOrMissing):
        acme.get("/permissions", limit=1)
    assert acme.read_items("api_tokens", fields=["id"]) == []


def test_deactivating_an_organization_ends_its_users_hub_sessions(hub, admin: HubClient):
    tag = secrets.token_hex(3)
    org = partners.add_partner(admin, f"Gone {tag}", "supplier")
    email = f"gone-{tag}@tandem.example.com"
    users.add_user(admin, email, PASSWORD, "supplier_user", org["id"])
    session = HubClient.login(hub.url, email, PASSWORD)
    partners.deactivate_partner(admin, org["id"])
    with pytest.raises(AuthFailed):
        session.refresh()
    with pytest.raises(AuthFailed):
        HubClient.login(hub.url, email, PASSWORD)
