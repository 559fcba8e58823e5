"""A small partner world on the session's hub, for the data-layer, API and access tests.

Two suppliers (acme, brava), two distributors (north, south) and the operator's account
manager, assigned to acme-north. Pairs: acme-north, acme-south, brava-north (no
brava-south). Each distributor has an east and a west store; POS, inventory and forecast
rows cover every store and SKU. Sharing agreements:

- ``full``: north → acme, POS + inventory + forecasts, everywhere, since 30 days ago;
- ``partial``: south → acme, POS only, east region only, since last week's Thursday;
- ``revoked``: north → brava, POS, revoked;
- ``future``: south → brava, POS + forecasts, from 3 days ahead.

The days are taken from :func:`domain.clock.today` when a world is built and kept on it
(:class:`World`), so a test that pins the clock gets a world of its day. POS is on two
days, inventory on the newer one. They are placed so that what the tests rely on holds
on every weekday:

- ``new_day``, the newest data, is last week's Saturday (2 to 8 days ago): the default
  report range (the whole weeks before this one) holds the newest POS and the stock
  snapshot.
- ``old_day`` is 20 days ago: in an earlier week, inside ``full``, before ``partial``.
- ``partial`` begins on the Thursday before ``new_day``: after that week's Monday, so
  no whole week of it exists yet (the weekly rollups show none of south's POS), yet
  before ``new_day``, so south's daily rows of that day are shared.

Every row is written through the admin client; the tests read it back as each user.
Build it with :func:`world_for` (cached per hub and name: it takes a few seconds).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from directus import HubClient
from directus.bulk import open_lane, write_rows
from domain import clock
from governance import partners, sharing, users
from portal.data import DataAccess
from tests.factories import gs1_prefix, gtin_under

PASSWORD = "tandem-world-password-1"

SUPPLIERS = ("acme", "brava")
DISTRIBUTORS = ("north", "south")
PAIRS = (("acme", "north"), ("acme", "south"), ("brava", "north"))
SKUS = {"oats": "acme", "bran": "acme", "cola": "brava"}
STORES = {
    "north-east": ("north", "east"),
    "north-west": ("north", "west"),
    "south-east": ("south", "east"),
    "south-west": ("south", "west"),
}


@dataclass(frozen=True)
class Who:
    """A world user as the data layer takes them (what PortalUser carries)."""

    key: str
    id: str
    email: str
    role: str
    organization_id: int


@dataclass
class World:
    url: str
    admin: HubClient
    tag: str
    db_url: str = ""  # the bulk lane's database
    today: dt.date = field(default_factory=clock.today)  # the day it was built for
    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, Who] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)  # "acme-north" -> id
    skus: dict[str, int] = field(default_factory=dict)
    stores: dict[str, int] = field(default_factory=dict)
    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # coll -> id -> row
    agreements: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)  # named pair-bound records
    _clients: dict[str, HubClient] = field(default_factory=dict)

    @property
    def this_monday(self) -> dt.date:
        return self.today - dt.timedelta(days=self.today.weekday())

    @property
    def new_day(self) -> dt.date:
        """The newest POS and the inventory snapshot: last week's Saturday."""
        return self.this_monday - dt.timedelta(days=2)

    @property
    def old_day(self) -> dt.date:
        """The older POS: 20 days ago, two or more weeks before ``new_day``'s."""
        return self.today - dt.timedelta(days=20)

    @property
    def partial_from(self) -> dt.date:
        """When ``partial`` begins: within ``new_day``'s week, after its Monday."""
        return self.new_day - dt.timedelta(days=2)

    @property
    def past_week(self) -> dt.date:
        return self.this_monday - dt.timedelta(days=7)

    @property
    def future_week(self) -> dt.date:
        return self.this_monday + dt.timedelta(days=14)

    def client(self, who: str) -> HubClient:
        """The user's own hub client (signed in once, refreshed as needed)."""
        if who not in self._clients:
            self._clients[who] = HubClient.login(self.url, self.people[who].email, PASSWORD)
        return self._clients[who]

    def access(self, who: str, **kwargs: Any) -> DataAccess:
        return DataAccess(self.people[who], self.client(who), **kwargs)

    def ids(self, collection: str, **match: Any) -> set[Any]:
        """Ids of the world's rows of a collection matching every ``field=value``."""
        return {
            key
            for key, row in self.rows.get(collection, {}).items()
            if all(
                (value(row[k]) if callable(value) else row[k] == value)
                for k, value in match.items()
            )
        }

    def audit_entries(self, who: str, action: str, since_id: int = 0) -> list[dict[str, Any]]:
        return self.admin.read_items(
            "audit_log",
            filter={
                "_and": [
                    {"actor": {"_eq": self.people[who].id}},
                    {"action": {"_eq": action}},
                    {"id": {"_gt": since_id}},
                ]
            },
            sort=["id"],
            limit=-1,
        )

    def last_audit_id(self) -> int:
        rows = self.admin.read_items("audit_log", fields=["id"], sort=["-id"], limit=1)
        return int(rows[0]["id"]) if rows else 0


_WORLDS: dict[tuple[str, str], World] = {}


def world_for(hub: Any, admin: HubClient, name: str = "shared") -> World:
    """The world of this name on this hub, built on first use (for today's day).

    ``shared`` is read-only: tests that assert exact row sets rely on it staying as
    built. Tests that write take their own (``scratch``), so they disturb nobody.
    Worlds are keyed by the hub's database, which no other hub ever has (a stopped
    hub's port may be reused).
    """
    key = (hub.lane_url, name)
    if key not in _WORLDS:
        _WORLDS[key] = build(hub.url, admin, hub.lane_url)
    return _WORLDS[key]


def _add(world: World, collection: str, rows: list[dict[str, Any]]) -> list[Any]:
    """Create rows as the admin; keep them in ``world.rows``; return their ids."""
    ids = []
    for row in rows:
        if "id" in row:
            world.admin.create_item(collection, row, fields=["id"])
            key = row["id"]
        else:
            key = world.admin.create_item(collection, row, fields=["id"])["id"]
        world.rows.setdefault(collection, {})[key] = {**row, "id": key}
        ids.append(key)
    return ids


def build(url: str, admin: HubClient, db_url: str) -> World:
    tag = secrets.token_hex(3)
    w = World(url=url, admin=admin, tag=tag, db_url=db_url)
    kinds = {**dict.fromkeys(SUPPLIERS, "supplier"), **dict.fromkeys(DISTRIBUTORS, "distributor")}
    prefixes = {name: gs1_prefix() for name in SUPPLIERS}
    for name, kind in {**kinds, "operator": "operator"}.items():
        w.orgs[name] = partners.add_partner(
            admin,
            f"{name.title()} {tag}",
            kind,
            gs1_prefixes=[prefixes[name]] if name in prefixes else [],
            via="test",
        )["id"]
    roles = {
        **{s: ("supplier_user", s) for s in SUPPLIERS},
        **{d: ("distributor_user", d) for d in DISTRIBUTORS},
        "manager": ("account_manager", "operator"),
    }
    for key, (role, org) in roles.items():
        email = f"{key}-{tag}@tandem-world.example.com"
        user = users.add_user(admin, email, PASSWORD, role, w.orgs[org], via="test")
        w.people[key] = Who(key, str(user["id"]), email, role, w.orgs[org])
    for s, d in PAIRS:
        w.pairs[f"{s}-{d}"] = partners.ensure_partnership(admin, w.orgs[s], w.orgs[d])
    partners.assign_manager(admin, w.people["manager"].id, w.orgs["acme"], w.orgs["north"])

    for name, owner in SKUS.items():
        (w.skus[name],) = _add(
            w,
            "skus",
            [
                {
                    "gtin": gtin_under(prefixes[owner]),
                    "description": f"{name} {tag}",
                    "cost_minor": 120,
                    "list_price_minor": 199,
                    "currency": "USD",
                    "supplier": w.orgs[owner],
                }
            ],
        )
    for name, (owner, region) in STORES.items():
        (w.stores[name],) = _add(
            w,
            "locations",
            [
                {
                    "ref": f"{w.orgs[owner]}:{name}",
                    "code": name,
                    "name": f"{name} store",
                    "kind": "store",
                    "region": region,
                    "distributor": w.orgs[owner],
                }
            ],
        )
    _add(
        w,
        "sku_codes",
        [
            {
                "id": f"{w.orgs['north']}:N-OATS",
                "item_code": "N-OATS",
                "sku": w.skus["oats"],
                "distributor": w.orgs["north"],
            },
            {
                "id": f"{w.orgs['south']}:S-OATS",
                "item_code": "S-OATS",
                "sku": w.skus["oats"],
                "distributor": w.orgs["south"],
            },
            {
                "id": f"{w.orgs['north']}:N-COLA",
                "item_code": "N-COLA",
                "sku": w.skus["cola"],
                "distributor": w.orgs["north"],
            },
        ],
    )
    _rows(w)
    _agreements(w)
    _pair_records(w)
    return w


def _rows(w: World) -> None:
    """POS and inventory for every store and SKU, forecasts for the east stores."""
    pos, inventory, forecasts = [], [], []
    units = 0
    for store, (owner, region) in STORES.items():
        d, loc = w.orgs[owner], w.stores[store]
        for sku_name in SKUS:
            sku = w.skus[sku_name]
            for day in (w.old_day, w.new_day):
                units += 1
                pos.append(
                    {
                        "id": f"{d}:{loc}:{sku}:{day}",
                        "day": day.isoformat(),
                        "units": units,
                        "net_sales_minor": units * 250,
                        "currency": "USD",
                        "distributor": d,
                        "location": loc,
                        "sku": sku,
                    }
                )
            inventory.append(
                {
                    "id": f"{d}:{loc}:{sku}:{w.new_day}",
                    "day": w.new_day.isoformat(),
                    "on_hand": 40,
                    "in_transit": 5,
                    "on_order": 10,
                    "distributor": d,
                    "location": loc,
                    "sku": sku,
                }
            )
            if region == "east":
                for week in (w.past_week, w.future_week):
                    forecasts.append(
                        {
                            "id": f"{d}:{loc}:{sku}:{week}",
                            "week_start": week.isoformat(),
                            "forecast_units": 30,
                            "distributor": d,
                            "location": loc,
                            "sku": sku,
                        }
                    )
    # POS and inventory through the bulk lane (which keeps the weekly rollups), as
    # distributors' files arrive; forecasts through the API.
    with open_lane(w.db_url) as lane:
        for kind, rows, values in (
            ("pos", pos, ("units", "net_sales_minor", "currency")),
            ("inventory", inventory, ("on_hand", "in_transit", "on_order")),
        ):
            write_rows(
                lane,
                kind,
                [
                    (
                        r["distributor"],
                        r["location"],
                        r["sku"],
                        dt.date.fromisoformat(r["day"]),
                        *(r[v] for v in values),
                    )
                    for r in rows
                ],
            )
    w.admin.create_items("forecasts", forecasts)
    for collection, rows in (
        ("pos_sales", pos),
        ("inventory_positions", inventory),
        ("forecasts", forecasts),
    ):
        w.rows[collection] = {r["id"]: r for r in rows}


def _agreements(w: World) -> None:
    days = dt.timedelta(days=1)
    grants = {
        "full": ("north", "acme", ["pos", "inventory", "forecasts"], {}, w.today - 30 * days),
        "partial": ("south", "acme", ["pos"], {"regions": ["east"]}, w.partial_from),
        "revoked": ("north", "brava", ["pos"], {}, w.today - 30 * days),
        "future": ("south", "brava", ["pos", "forecasts"], {}, w.today + 3 * days),
    }
    for name, (grantor, grantee, kinds, scope, start) in grants.items():
        row = sharing.grant(
            w.admin,
            w.orgs[grantor],
            w.orgs[grantee],
            kinds,
            valid_from=start,
            via="test",
            **scope,
        )
        w.agreements[name] = int(row["id"])
        w.rows.setdefault("share_agreements", {})[row["id"]] = row
    sharing.revoke(w.admin, w.agreements["revoked"], via="test")
    w.rows["share_agreements"][w.agreements["revoked"]]["status"] = "revoked"


def _pair_records(w: World) -> None:
    p = w.pairs
    an, as_, bn = p["acme-north"], p["acme-south"], p["brava-north"]
    window = {
        "start_date": (w.today + dt.timedelta(days=10)).isoformat(),
        "end_date": (w.today + dt.timedelta(days=17)).isoformat(),
        "type": "tpr",
    }
    for name, pair, status in (
        ("promo_draft", an, "draft"),
        ("promo_submitted", an, "submitted"),
        ("promo_brava", bn, "submitted"),
        ("promo_south", as_, "submitted"),
    ):
        (w.records[name],) = _add(
            w,
            "promotions",
            [{"name": f"{name} {w.tag}", "status": status, "partnership": pair, **window}],
        )
    promo = w.records["promo_submitted"]
    _add(w, "promotion_skus", [{"promotion": promo, "partnership": an, "sku": w.skus["oats"]}])
    _add(
        w,
        "promotion_locations",
        [{"promotion": promo, "partnership": an, "location": w.stores["north-east"]}],
    )
    _add(
        w,
        "promotion_events",
        [
            {
                "promotion": promo,
                "partnership": an,
                "status": "submitted",
                "at": clock.now().isoformat(),
            },
            {
                "promotion": w.records["promo_draft"],
                "partnership": an,
                "status": "draft",
                "at": clock.now().isoformat(),
            },
        ],
    )
    orders = {
        "po_acme_north": (an, "north-east", ["oats", "bran"]),
        "po_acme_south": (as_, "south-east", ["oats"]),
        "po_brava_north": (bn, "north-west", ["cola"]),
    }
    for name, (pair, store, lines) in orders.items():
        (w.records[name],) = _add(
            w,
            "purchase_orders",
            [
                {
                    "number": f"{name}-{w.tag}",
                    "status": "open",
                    "ordered_on": (w.today - dt.timedelta(days=3)).isoformat(),
                    "requested_date": (w.today + dt.timedelta(days=14)).isoformat(),
                    "currency": "USD",
                    "ship_to": w.stores[store],
                    "partnership": pair,
                }
            ],
        )
        _add(
            w,
            "po_lines",
            [
                {
                    "purchase_order": w.records[name],
                    "partnership": pair,
                    "line_no": n,
                    "sku": w.skus[sku],
                    "qty_ordered": 24 * n,
                    "unit_cost_minor": 120,
                }
                for n, sku in enumerate(lines, start=1)
            ],
        )
    po = w.records["po_acme_north"]
    first_line = min(w.ids("po_lines", purchase_order=po))
    (w.records["shipment"],) = _add(
        w,
        "shipments",
        [
            {
                "number": f"ASN-{w.tag}",
                "ship_date": w.today.isoformat(),
                "purchase_order": po,
                "partnership": an,
            }
        ],
    )
    _add(
        w,
        "shipment_lines",
        [
            {
                "shipment": w.records["shipment"],
                "po_line": first_line,
                "qty_shipped": 24,
                "partnership": an,
            }
        ],
    )
    (w.records["invoice"],) = _add(
        w,
        "invoices",
        [
            {
                "number": f"INV-{w.tag}",
                "invoice_date": w.today.isoformat(),
                "total_minor": 2880,
                "currency": "USD",
                "purchase_order": po,
                "partnership": an,
            }
        ],
    )
    _add(
        w,
        "invoice_lines",
        [
            {
                "invoice": w.records["invoice"],
                "po_line": first_line,
                "qty": 24,
                "unit_price_minor": 120,
                "amount_minor": 2880,
                "partnership": an,
            }
        ],
    )
    for name, pair in (("plan_acme_north", an), ("plan_brava_north", bn)):
        (w.records[name],) = _add(
            w,
            "business_plans",
            [{"year": w.today.year + 1, "targets": {"units": "1200"}, "partnership": pair}],
        )
    plan = w.records["plan_acme_north"]
    _add(
        w,
        "plan_revisions",
        [{"plan": plan, "partnership": an, "quarter": 1, "revised_on": w.today.isoformat()}],
    )
    _add(
        w,
        "plan_actions",
        [{"plan": plan, "partnership": an, "title": "Endcap", "owner_side": "distributor"}],
    )
    # Commitments, keyed by the hub: acme's for north and for south, brava's for north.
    week = (w.this_monday + dt.timedelta(weeks=26)).isoformat()  # open for any lead time
    for pair, sku in ((an, "oats"), (as_, "oats"), (bn, "cola")):
        row = {"partnership": pair, "sku": w.skus[sku], "week_start": week, "units": 12}
        _add(w, "commitments", [row])
    # A criterion each of acme/north and brava/north agreed, and an exception it found.
    at = dt.datetime.combine(w.today, dt.time(9), tzinfo=dt.UTC).isoformat()
    for pair in (an, bn):
        (criterion,) = _add(w, "exception_criteria", [{
            "partnership": pair, "name": "Plan gap", "metric": "forecast_commitment_gap_pct",
            "comparison": "above", "threshold": "20", "owner_side": "supplier",
            "response_hours": 48,
        }])  # fmt: skip
        _add(w, "exceptions", [{
            "partnership": pair, "criterion": criterion, "subject": "sku:1", "status": "open",
            "owner_side": "supplier", "value": "40.0", "opened_at": at, "due_at": at,
            "last_seen_at": at,
        }])  # fmt: skip
    # What acme's and north's users were told (each reads only its own).
    _add(w, "notifications", [
        {"user": w.people[who].id, "partnership": an, "kind": "escalated",
         "title": f"Told {who}"}
        for who in ("acme", "north")
    ])  # fmt: skip
    for name, pair in (("risk_acme_north", an), ("risk_acme_south", as_)):
        (w.records[name],) = _add(
            w, "risks", [{"title": f"{name}", "likelihood": 2, "impact": 4, "partnership": pair}]
        )
    (w.records["scorecard"],) = _add(
        w,
        "scorecards",
        [
            {
                "period_start": w.past_week.isoformat(),
                "period_end": w.this_monday.isoformat(),
                "partnership": an,
            }
        ],
    )
    _add(
        w,
        "scorecard_values",
        [
            {
                "scorecard": w.records["scorecard"],
                "partnership": an,
                "kpi": "otif",
                "variant": "walmart_case",
                "value": "0.953",
            }
        ],
    )
    for name, sender, receiver in (("edi_north", "north", "acme"), ("edi_south", "south", "brava")):
        (w.records[name],) = _add(
            w,
            "edi_messages",
            [
                {
                    "direction": "in",
                    "standard": "x12",
                    "message_type": "850",
                    "status": "accepted",
                    "received_at": clock.now().isoformat(),
                    "sender": w.orgs[sender],
                    "receiver": w.orgs[receiver],
                }
            ],
        )


# -- the oracle: what each user should see, stated from the rules, not from the code ----


def _pairs_of(w: World, who: str) -> dict[int, tuple[str, str]]:
    """Pair id -> (supplier, distributor) names, for the pairs ``who`` may see."""
    role = w.people[who].role
    out = {}
    for key, pair_id in w.pairs.items():
        supplier, distributor = key.split("-")
        if (
            (role == "supplier_user" and supplier == who)
            or (role == "distributor_user" and distributor == who)
            or (role == "account_manager" and key == "acme-north")
        ):
            out[pair_id] = (supplier, distributor)
    return out


def _in_force(w: World, who: str) -> list[dict[str, Any]]:
    """The agreements ``who`` reads by: a supplier's as grantee; an account manager's,
    those between the two sides of its pairs."""
    person = w.people[who]
    if person.role == "account_manager":
        sides = {(w.orgs[s], w.orgs[d]) for s, d in _pairs_of(w, who).values()}
    else:
        sides = None
    return [
        a
        for a in w.rows["share_agreements"].values()
        if (
            (a["grantee"], a["grantor"]) in sides
            if sides is not None
            else a["grantee"] == person.organization_id
        )
        and a["status"] == "active"
        and dt.date.fromisoformat(a["valid_from"]) <= w.today
        and (a["valid_to"] is None or dt.date.fromisoformat(a["valid_to"]) >= w.today)
    ]


def expected(w: World, who: str, resource: str) -> set[Any]:
    """The exact ids ``who`` should see in ``resource``."""
    person = w.people[who]
    role, org = person.role, person.organization_id
    pairs = _pairs_of(w, who)
    store_owner = {w.stores[s]: w.orgs[o] for s, (o, _) in STORES.items()}
    store_region = {w.stores[s]: r for s, (_, r) in STORES.items()}
    sku_owner = {w.skus[s]: w.orgs[o] for s, o in SKUS.items()}
    pair_sides = {pid: (w.orgs[s], w.orgs[d]) for pid, (s, d) in pairs.items()}

    def pair_bound(collection: str, parent: tuple[str, str] | None = None) -> set[Any]:
        rows = w.rows.get(collection, {})
        hidden = set()
        if role == "supplier_user":
            hidden = {k for k, r in w.rows["promotions"].items() if r["status"] == "draft"}
        out = set()
        for key, row in rows.items():
            if row["partnership"] not in pairs:
                continue
            if collection == "promotions" and key in hidden:
                continue
            if parent and parent[0] == "promotions" and row[parent[1]] in hidden:
                continue
            out.add(key)
        return out

    if resource == "organizations":
        ids = {org}
        for s, d in pair_sides.values():
            if role != "distributor_user":
                ids.add(d)
            if role != "supplier_user":
                ids.add(s)
        return ids
    if resource == "partnerships":
        return set(pairs)
    if resource == "skus":
        if role == "supplier_user":
            return {k for k, o in sku_owner.items() if o == org}
        return {k for k, o in sku_owner.items() if o in {s for s, _ in pair_sides.values()}}
    if resource == "sku-codes":
        rows = w.rows["sku_codes"]
        if role == "distributor_user":
            return {k for k, r in rows.items() if r["distributor"] == org}
        if role == "supplier_user":
            partners_ = {d for _, d in pair_sides.values()}
            return {
                k
                for k, r in rows.items()
                if sku_owner[r["sku"]] == org and r["distributor"] in partners_
            }
        return set()
    if resource == "locations":
        if role == "distributor_user":
            return {k for k, o in store_owner.items() if o == org}
        shown = {
            r["ship_to"]
            for r in w.rows["purchase_orders"].values()
            if r["partnership"] in pair_sides
            and store_owner[r["ship_to"]] == pair_sides[r["partnership"]][1]
        }
        if role in ("supplier_user", "account_manager"):
            for a in _in_force(w, who):
                shown |= {
                    k
                    for k, o in store_owner.items()
                    if o == a["grantor"] and (not a["regions"] or store_region[k] in a["regions"])
                }
        return shown
    shared = {
        "pos-weekly": ("pos_sales", "pos", "day"),
        "pos-sales": ("pos_sales", "pos", "day"),
        "inventory-positions": ("inventory_positions", "inventory", "day"),
        "forecasts": ("forecasts", "forecasts", "week_start"),
    }
    if resource in shared:
        collection, kind, date_field = shared[resource]
        rows = w.rows[collection]
        if role == "distributor_user":
            return {k for k, r in rows.items() if r["distributor"] == org}
        if role not in ("supplier_user", "account_manager"):
            return set()
        out = set()
        weekly = resource == "pos-weekly"  # rollups: whole weeks inside the validity
        for a in _in_force(w, who):
            if kind not in a["kinds"]:
                continue
            for k, r in rows.items():
                first = _monday(r[date_field]) if weekly else r[date_field]
                if (
                    r["distributor"] == a["grantor"]
                    and sku_owner[r["sku"]] == a["grantee"]
                    and first >= a["valid_from"]
                    and (not a["regions"] or store_region[r["location"]] in a["regions"])
                ):
                    out.add(k)
        return out
    if resource == "notifications":  # each person's own
        mine = w.people[who].id
        return {k for k, r in w.rows.get("notifications", {}).items() if r["user"] == mine}
    if resource == "share-agreements":
        if role == "account_manager":
            return set()
        return {
            k for k, a in w.rows["share_agreements"].items() if org in (a["grantor"], a["grantee"])
        }
    if resource == "edi-messages":
        if role == "account_manager":
            return set()
        return {k for k, r in w.rows["edi_messages"].items() if org in (r["sender"], r["receiver"])}
    collections = {
        "promotions": "promotions",
        "purchase-orders": "purchase_orders",
        "shipments": "shipments",
        "invoices": "invoices",
        "business-plans": "business_plans",
        "plan-actions": "plan_actions",
        "risks": "risks",
        "scorecards": "scorecards",
        "commitments": "commitments",
        "exception-criteria": "exception_criteria",
        "exceptions": "exceptions",
    }
    return pair_bound(collections[resource])


def _monday(day: str) -> str:
    date = dt.date.fromisoformat(day)
    return (date - dt.timedelta(days=date.weekday())).isoformat()


def expected_children(w: World, who: str, collection: str, parent_field: str, parent: Any) -> set:
    """The child rows ``who`` should see under one parent (empty if the parent is hidden)."""
    pairs = _pairs_of(w, who)
    drafts = {k for k, r in w.rows["promotions"].items() if r["status"] == "draft"}
    if w.people[who].role == "supplier_user" and parent_field == "promotion" and parent in drafts:
        return set()
    return {
        k
        for k, r in w.rows.get(collection, {}).items()
        if r[parent_field] == parent and r["partnership"] in pairs
    }
