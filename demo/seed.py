"""Seed the demo into a hub.

Partners, logins, pairs, account-manager assignments and sharing agreements go through
the governance service (audited, ``via="demo"``); the catalog, stores and pair-bound
records through the hub client; POS and inventory through :mod:`directus.bulk`.

Idempotent. Each step creates only what is missing, found by natural keys (names,
e-mails, GTINs, location refs, order numbers), and POS and inventory rows are upserted
on their natural-key ids, so an interrupted seed resumes without duplicating anything.
A seed writes a ``demo.seed.start`` audit entry with its day and spec when it begins and
a ``demo.seed`` entry when it has finished; while that one is there, seeding again does
nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from demo.generate import (
    ACCOUNTS,
    CURRENCY,
    DISTRIBUTORS,
    FULL,
    MANAGED_PAIRS,
    MANAGER,
    ORGS,
    SUPPLIERS,
    Demo,
    Spec,
    build,
    org_fields,
)
from directus import HubClient
from directus.bulk import LaneError, open_lane, write_rows
from domain.roles import DISTRIBUTOR_USER, SUPPLIER_USER
from governance import audit
from governance.partners import (
    add_partner,
    assign_manager,
    ensure_partnership,
    find_partner,
    set_edi_profile,
)
from governance.sharing import grant, list_agreements, revoke
from governance.users import add_user, list_users

MARKER = "demo.seed"  # audited when a seed has finished
STARTED = "demo.seed.start"  # audited when one begins, with its day and spec
VIA = "demo"
Echo = Callable[[str], None]
Filter = dict[str, Any]
Key = tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class SeedResult:
    seeded: bool  # False: the demo was there already and nothing was done
    as_of: dt.date
    counts: dict[str, int]  # the demo's rows per collection
    seconds: float


def _mark(admin: HubClient, action: str) -> dict[str, Any] | None:
    """The detail of the latest audit entry with this action, or None."""
    rows = admin.read_items(
        "audit_log", filter={"action": {"_eq": action}}, fields=["detail"], sort=["-id"], limit=1
    )
    return dict(rows[0]["detail"]) if rows else None


def seeded_as_of(admin: HubClient) -> dt.date | None:
    """The ``as_of`` day of the finished demo seed in this hub, or None."""
    done = _mark(admin, MARKER)
    return dt.date.fromisoformat(done["as_of"]) if done else None


def other_partners(admin: HubClient) -> list[str]:
    """Names of the hub's organizations that are not the demo's."""
    demo = {o.name for o in ORGS}
    rows = admin.read_items("organizations", fields=["name"], sort=["id"], limit=-1)
    return [row["name"] for row in rows if row["name"] not in demo]


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _keys(admin: HubClient, collection: str, key: Sequence[str], scope: Filter) -> dict[Key, Any]:
    fields = list(dict.fromkeys(["id", *key]))
    rows = admin.read_items(collection, filter=scope, fields=fields, limit=-1)
    return {tuple(row[k] for k in key): row["id"] for row in rows}


def _ensure_rows(
    admin: HubClient,
    collection: str,
    key: Sequence[str],
    scope: Filter,
    rows: Sequence[Mapping[str, Any]],
) -> dict[Key, Any]:
    """Create the rows whose key is not yet in scope; return every key's id."""
    have = _keys(admin, collection, key, scope)
    missing = [row for row in rows if tuple(row[k] for k in key) not in have]
    if not missing:
        return have
    admin.create_items(collection, missing)
    return _keys(admin, collection, key, scope)


def _single(ids: Mapping[Key, Any]) -> dict[Any, Any]:
    return {key[0]: value for key, value in ids.items()}


class _Seeder:
    def __init__(self, admin: HubClient, demo: Demo) -> None:
        self.admin = admin
        self.demo = demo
        self.counts: dict[str, int] = {}
        self.orgs: dict[str, int] = {}
        self.users: dict[str, str] = {}
        self.pairs: dict[tuple[str, str], int] = {}
        self.skus: dict[str, int] = {}
        self.locations: dict[tuple[str, str], int] = {}

    def ensure(
        self,
        collection: str,
        key: Sequence[str],
        scope: Filter,
        rows: Sequence[Mapping[str, Any]],
    ) -> dict[Key, Any]:
        self.counts[collection] = self.counts.get(collection, 0) + len(rows)
        return _ensure_rows(self.admin, collection, key, scope, rows)

    def stamp(self, collection: str, name: str, values: Mapping[int, dt.datetime]) -> None:
        """Set a timestamp the hub writes on create to the demo's own, where it differs."""
        wanted = {int(k): v for k, v in values.items()}
        changes = []
        for start in range(0, len(wanted), 500):
            keys = sorted(wanted)[start : start + 500]
            for row in self.admin.read_items(
                collection, filter={"id": {"_in": keys}}, fields=["id", name], limit=-1
            ):
                at, want = row.get(name), wanted[int(row["id"])]
                if not at or dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC) != want:
                    changes.append({"id": row["id"], name: want.isoformat()})
        for start in range(0, len(changes), 500):
            self.admin.patch(f"/items/{collection}", changes[start : start + 500])

    def pair_scope(self) -> Filter:
        return {"partnership": {"_in": sorted(self.pairs.values())}}

    # -- governance ---------------------------------------------------------------

    def partners(self) -> None:
        for org in ORGS:
            row = find_partner(self.admin, org.name) or add_partner(
                self.admin, org.name, org.kind, via=VIA, **org_fields(org)
            )
            self.orgs[org.key] = int(row["id"])
        existing = {u["email"]: u["id"] for u in list_users(self.admin)}
        for account in ACCOUNTS:
            if account.email not in existing:
                existing[account.email] = add_user(
                    self.admin,
                    account.email,
                    account.password,
                    account.role,
                    self.orgs[account.org],
                    first_name=account.first_name,
                    last_name=account.last_name,
                    via=VIA,
                )["id"]
            self.users[account.email] = str(existing[account.email])
        for supplier in SUPPLIERS:
            for dist in DISTRIBUTORS:
                self.pairs[(supplier.key, dist.key)] = ensure_partnership(
                    self.admin, self.orgs[supplier.key], self.orgs[dist.key]
                )
        for supplier_key, dist_key in MANAGED_PAIRS:
            assign_manager(
                self.admin,
                self.users[MANAGER.email],
                self.orgs[supplier_key],
                self.orgs[dist_key],
                via=VIA,
            )
        self.counts.update(
            organizations=len(ORGS),
            users=len(ACCOUNTS),
            partnerships=len(self.pairs),
            partnership_managers=len(MANAGED_PAIRS),
        )

    def agreements(self) -> None:
        for plan in self.demo.agreements:
            grantor, grantee = self.orgs[plan.grantor], self.orgs[plan.grantee]
            found = [
                a
                for a in list_agreements(self.admin, grantee)
                if a["grantor"] == grantor and a["purpose"] == plan.purpose
            ]
            row = (
                found[0]
                if found
                else grant(
                    self.admin,
                    grantor,
                    grantee,
                    plan.kinds,
                    valid_from=plan.valid_from,
                    regions=plan.regions,
                    purpose=plan.purpose,
                    via=VIA,
                )
            )
            if plan.revoked and row["status"] == "active":
                revoke(self.admin, int(row["id"]), via=VIA)
        self.counts["share_agreements"] = len(self.demo.agreements)

    # -- catalog and stores -------------------------------------------------------

    def catalog(self) -> None:
        suppliers = {"supplier": {"_in": [self.orgs[s.key] for s in SUPPLIERS]}}
        distributors = {"distributor": {"_in": [self.orgs[d.key] for d in DISTRIBUTORS]}}
        skus = [
            {
                "gtin": k.gtin,
                "description": k.description,
                "category": k.category,
                "unit": "EA",
                "case_pack": k.case_pack,
                "cost_minor": k.cost_minor,
                "list_price_minor": k.list_price_minor,
                "currency": CURRENCY,
                "lead_time_days": k.lead_time_days,
                "status": "active",
                "supplier": self.orgs[k.supplier],
            }
            for k in self.demo.skus
        ]
        self.skus = _single(self.ensure("skus", ("gtin",), suppliers, skus))
        locations = [
            {
                "ref": f"{self.orgs[loc.distributor]}:{loc.code}",
                "code": loc.code,
                "name": loc.name,
                "kind": loc.kind,
                "gln": loc.gln,
                "region": loc.region,
                "status": "active",
                "distributor": self.orgs[loc.distributor],
            }
            for loc in self.demo.locations
        ]
        by_ref = _single(self.ensure("locations", ("ref",), distributors, locations))
        self.locations = {
            (loc.distributor, loc.code): by_ref[f"{self.orgs[loc.distributor]}:{loc.code}"]
            for loc in self.demo.locations
        }
        codes = [
            {
                "id": f"{self.orgs[c.distributor]}:{c.item_code}",
                "item_code": c.item_code,
                "sku": self.skus[c.gtin],
                "distributor": self.orgs[c.distributor],
            }
            for c in self.demo.item_codes
        ]
        self.ensure("sku_codes", ("id",), distributors, codes)

    # -- pair-bound records -------------------------------------------------------

    def promotions(self) -> None:
        demo, scope = self.demo, self.pair_scope()
        pair_of = {p.name: self.pairs[(p.supplier, p.distributor)] for p in demo.promotions}
        rows = [
            {
                "name": p.name,
                "type": p.type,
                "mechanics": p.mechanics,
                "start_date": _iso(p.start),
                "end_date": _iso(p.end),
                "expected_uplift_pct": p.uplift_pct,
                "status": p.status,
                "supplier_comment": p.supplier_comment,
                "partnership": pair_of[p.name],
            }
            for p in demo.promotions
        ]
        ids = _single(self.ensure("promotions", ("name",), scope, rows))
        actors = {
            a.org: self.users[a.email]
            for a in ACCOUNTS
            if a.role in (SUPPLIER_USER, DISTRIBUTOR_USER)
        }
        self.ensure(
            "promotion_skus",
            ("promotion", "sku"),
            scope,
            [
                {"promotion": ids[p.name], "sku": self.skus[g], "partnership": pair_of[p.name]}
                for p in demo.promotions
                for g in p.skus
            ],
        )
        self.ensure(
            "promotion_locations",
            ("promotion", "location"),
            scope,
            [
                {
                    "promotion": ids[p.name],
                    "location": self.locations[(p.distributor, code)],
                    "partnership": pair_of[p.name],
                }
                for p in demo.promotions
                for code in p.locations
            ],
        )
        self.ensure(
            "promotion_events",
            ("promotion", "status"),
            scope,
            [
                {
                    "promotion": ids[p.name],
                    "status": status,
                    "comment": comment,
                    "at": at.isoformat(),
                    # The distributor drafts and submits; the supplier answers.
                    "actor": actors[
                        p.supplier if status in ("accepted", "declined") else p.distributor
                    ],
                    "partnership": pair_of[p.name],
                }
                for p in demo.promotions
                for status, at, comment in p.history
            ],
        )

    def orders(self) -> None:
        demo, scope = self.demo, self.pair_scope()
        pair_of = {o.number: self.pairs[(o.supplier, o.distributor)] for o in demo.orders}
        rows = [
            {
                "number": o.number,
                "status": o.status,
                "ordered_on": _iso(o.ordered_on),
                "requested_date": _iso(o.requested_date),
                "promised_date": _iso(o.promised_date),
                "original_promised_date": _iso(o.original_promised_date),
                "revised_date": _iso(o.revised_date),
                "acknowledged_at": o.acknowledged_at.isoformat() if o.acknowledged_at else None,
                "currency": CURRENCY,
                "ship_to": self.locations[(o.distributor, o.ship_to)],
                "partnership": pair_of[o.number],
            }
            for o in demo.orders
        ]
        po_ids = _single(self.ensure("purchase_orders", ("number",), scope, rows))
        line_ids = self.ensure(
            "po_lines",
            ("purchase_order", "line_no"),
            scope,
            [
                {
                    "purchase_order": po_ids[o.number],
                    "line_no": line.line_no,
                    "sku": self.skus[line.gtin],
                    "qty_ordered": line.qty_ordered,
                    "unit_cost_minor": line.unit_cost_minor,
                    "qty_promised": line.qty_promised,
                    "promised_date": _iso(o.promised_date),
                    "original_promised_date": _iso(o.original_promised_date),
                    "revised_date": _iso(o.revised_date),
                    "partnership": pair_of[o.number],
                }
                for o in demo.orders
                for line in o.lines
            ],
        )
        asn_ids = _single(
            self.ensure(
                "shipments",
                ("number",),
                scope,
                [
                    {
                        "number": o.shipment.number,
                        "status": o.shipment.status,
                        "ship_date": _iso(o.shipment.ship_date),
                        "expected_delivery": _iso(o.shipment.expected_delivery),
                        "received_date": _iso(o.shipment.received_date),
                        "purchase_order": po_ids[o.number],
                        "partnership": pair_of[o.number],
                    }
                    for o in demo.orders
                    if o.shipment is not None
                ],
            )
        )
        # The hub stamps when an order and an ASN reach it; the demo's arrived earlier.
        self.stamp(
            "purchase_orders", "placed_at", {po_ids[o.number]: o.placed_at for o in demo.orders}
        )
        self.stamp("shipments", "recorded_at",
                   {asn_ids[o.shipment.number]: o.shipment.recorded_at
                    for o in demo.orders if o.shipment is not None})  # fmt: skip
        self.ensure(
            "shipment_lines",
            ("shipment", "po_line"),
            scope,
            [
                {
                    "shipment": asn_ids[o.shipment.number],
                    "po_line": line_ids[(po_ids[o.number], line.line_no)],
                    "qty_shipped": line.qty_shipped,
                    "qty_received": line.qty_received,
                    "partnership": pair_of[o.number],
                }
                for o in demo.orders
                if o.shipment is not None
                for line in o.lines
            ],
        )
        invoice_ids = _single(
            self.ensure(
                "invoices",
                ("number",),
                scope,
                [
                    {
                        "number": o.invoice.number,
                        "invoice_date": _iso(o.invoice.invoice_date),
                        "due_date": _iso(o.invoice.due_date),
                        "total_minor": sum(
                            (line.qty_shipped or 0) * line.unit_cost_minor for line in o.lines
                        ),
                        "currency": CURRENCY,
                        "status": o.invoice.status,
                        "purchase_order": po_ids[o.number],
                        "partnership": pair_of[o.number],
                    }
                    for o in demo.orders
                    if o.invoice is not None
                ],
            )
        )
        self.ensure(
            "invoice_lines",
            ("invoice", "po_line"),
            scope,
            [
                {
                    "invoice": invoice_ids[o.invoice.number],
                    "po_line": line_ids[(po_ids[o.number], line.line_no)],
                    "qty": line.qty_shipped or 0,
                    "unit_price_minor": line.unit_cost_minor,
                    "amount_minor": (line.qty_shipped or 0) * line.unit_cost_minor,
                    "partnership": pair_of[o.number],
                }
                for o in demo.orders
                if o.invoice is not None
                for line in o.lines
            ],
        )

    def edi(self, mailboxes: Path) -> None:
        """The first supplier's EDI profile: X12 004010 by a folder mailbox, answers,
        ship notices and invoices sent, orders and changes expected, with 997s."""
        supplier = SUPPLIERS[0]
        set_edi_profile(
            self.admin,
            self.orgs[supplier.key],
            {
                "standard": "x12",
                "isa_qualifier": "ZZ",
                "isa_id": supplier.x12_id,
                "gs_code": supplier.x12_id,
                "transport": "folder",
                "address": str((mailboxes / supplier.key).resolve()),
                "sends": ["order_response", "ship_notice", "invoice"],
                "expects": ["order", "order_change"],
                "acknowledgements": True,
            },
            via=VIA,
        )
        self.counts["edi_profiles"] = 1

    def edi_by_as2(self, as2_partner: Mapping[str, str]) -> None:
        """The second supplier's EDI profile: EDIFACT D96A over AS2 (its GLN in the UNB),
        answers, ship notices and invoices sent, orders and changes expected, with
        CONTRLs; its receipts come back on the connection."""
        supplier = SUPPLIERS[1]
        set_edi_profile(
            self.admin,
            self.orgs[supplier.key],
            {
                "standard": "edifact",
                "unb_qualifier": "14",
                "unb_id": supplier.gln,
                "transport": "as2",
                "address": as2_partner["address"],
                "as2_id": as2_partner["as2_id"],
                "as2_certificate": as2_partner["as2_certificate"],
                "as2_receipt": "sync",
                "sends": ["order_response", "ship_notice", "invoice"],
                "expects": ["order", "order_change"],
                "acknowledgements": True,
            },
            via=VIA,
        )
        self.counts["edi_profiles"] += 1

    def plans(self) -> None:
        scope = self.pair_scope()
        plan_ids = self.ensure(
            "business_plans",
            ("partnership", "year"),
            scope,
            [
                {
                    "partnership": self.pairs[(p.supplier, p.distributor)],
                    "year": p.year,
                    "targets": p.targets,
                    "sponsors": p.sponsors,
                    "status": p.status,
                }
                for p in self.demo.plans
            ],
        )
        self.ensure(
            "plan_actions",
            ("plan", "title"),
            scope,
            [
                {
                    "plan": plan_ids[(self.pairs[(p.supplier, p.distributor)], p.year)],
                    "partnership": self.pairs[(p.supplier, p.distributor)],
                    "title": a.title,
                    "owner_side": a.owner_side,
                    "due_date": _iso(a.due_date),
                    "status": a.status,
                    "completed_on": _iso(a.completed_on),
                }
                for p in self.demo.plans
                for a in p.actions
            ],
        )
        self.ensure(
            "risks",
            ("partnership", "title"),
            scope,
            [
                {
                    "partnership": self.pairs[(r.supplier, r.distributor)],
                    "title": r.title,
                    "description": r.description,
                    "category": r.category,
                    "likelihood": r.likelihood,
                    "impact": r.impact,
                    "mitigation": r.mitigation,
                    "review_date": _iso(r.review_date),
                    "status": r.status,
                }
                for r in self.demo.risks
            ],
        )

    # -- high-volume rows ---------------------------------------------------------

    def pos(self) -> Iterator[tuple[Any, ...]]:
        orgs, locations, skus = self.orgs, self.locations, self.skus
        for r in self.demo.pos_rows():
            d, loc, s = orgs[r.distributor], locations[(r.distributor, r.location)], skus[r.gtin]
            yield (d, loc, s, r.day, r.units, r.net_sales_minor, CURRENCY)

    def forecasts(self) -> dict[dt.date, list[tuple[Any, ...]]]:
        """The forecast rows by the day they were delivered."""
        orgs, locations, skus = self.orgs, self.locations, self.skus
        out: dict[dt.date, list[tuple[Any, ...]]] = {}
        for r in self.demo.forecast_rows():
            d, loc, s = orgs[r.distributor], locations[(r.distributor, r.location)], skus[r.gtin]
            out.setdefault(r.received, []).append((d, loc, s, r.week, r.units))
        return out

    def commitments(self) -> None:
        """The committing pair's commitments (the hub makes each one's key)."""
        rows = self.demo.commitments()
        pairs = {self.pairs[(r.supplier, r.distributor)] for r in rows}
        have = {
            str(r["id"])
            for r in self.admin.read_items(
                "commitments", filter={"partnership": {"_in": sorted(pairs)}}, fields=["id"],
                limit=-1,
            )
        }  # fmt: skip
        missing = []
        for r in rows:
            pair, sku = self.pairs[(r.supplier, r.distributor)], self.skus[r.gtin]
            if f"{pair}:{sku}:{r.week.isoformat()}" not in have:
                missing.append({"partnership": pair, "sku": sku, "week_start": r.week.isoformat(),
                                "units": r.units, **r.kept})  # fmt: skip
        if missing:
            self.admin.create_items("commitments", missing)
        self.counts["commitments"] = len(rows)

    def inventory(self) -> Iterator[tuple[Any, ...]]:
        orgs, locations, skus = self.orgs, self.locations, self.skus
        for r in self.demo.inventory_rows():
            d, loc, s = orgs[r.distributor], locations[(r.distributor, r.location)], skus[r.gtin]
            yield (d, loc, s, r.day, r.on_hand, r.in_transit, r.on_order)


def seed(
    admin: HubClient,
    db_url: str | None,
    as_of: dt.date,
    *,
    spec: Spec = FULL,
    mailboxes: Path | None = None,
    as2_partner: Mapping[str, str] | None = None,
    echo: Echo = lambda _line: None,
) -> SeedResult:
    """Seed the demo as of a day (its POS ends the day before), unless it is there already.

    An interrupted seed is finished with the day and spec it began with, whatever is
    asked now: a demo is never a mix of two. ``db_url`` is the hub's database, for the
    bulk lane (which keeps the weekly rollups and feeds, as distributors' files do).
    With ``mailboxes``, a folder of this machine, the demo's first supplier exchanges
    its orders by X12 through a folder mailbox there (the scheduler sends it the open
    orders). With ``as2_partner`` (its AS2 ``address``, ``as2_id`` and
    ``as2_certificate``), the second exchanges them by EDIFACT over AS2. The others
    answer on the web.
    """
    started = time.monotonic()
    done = seeded_as_of(admin)
    if done is not None:
        return SeedResult(False, done, {}, time.monotonic() - started)
    begun = _mark(admin, STARTED)
    if begun is not None:
        as_of, spec = dt.date.fromisoformat(begun["as_of"]), Spec(**begun["spec"])
        echo(f"demo: finishing the seed begun for {as_of}…")
    else:
        detail = {"as_of": as_of.isoformat(), "spec": dataclasses.asdict(spec)}
        audit.record(admin, STARTED, detail=detail, via=VIA)
    seeder = _Seeder(admin, build(as_of, spec))
    echo("demo: partners, logins, pairs, catalog and stores…")
    seeder.partners()
    seeder.catalog()
    echo("demo: sharing agreements, promotions, orders, plans…")
    seeder.agreements()  # after the stores: an agreement's regions must exist
    seeder.promotions()
    seeder.orders()
    seeder.plans()
    seeder.commitments()
    if mailboxes is not None:
        seeder.edi(mailboxes)
    if as2_partner is not None:
        seeder.edi_by_as2(as2_partner)
    echo(f"demo: {spec.days} days of POS and inventory, and weekly forecasts…")
    if db_url is None:
        raise LaneError(
            "bulk loading needs the hub's database: set TANDEM_HUB_DB_URL "
            "(sqlite:///path/to/hub.db or postgresql://user:password@host/db)"
        )
    with open_lane(db_url) as lane:
        for kind, rows, counted in (
            ("pos", seeder.pos, "pos_sales"),
            ("inventory", seeder.inventory, "inventory_positions"),
        ):
            seeder.counts[counted] = write_rows(lane, kind, rows()).staged
        # Forecasts as delivered, oldest first: each keeps what it stood at ahead.
        delivered = seeder.forecasts()
        seeder.counts["forecasts"] = sum(
            write_rows(lane, "forecasts", delivered[day],
                       received_at=dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)).staged
            for day in sorted(delivered)
        )  # fmt: skip
    audit.record(
        admin,
        MARKER,
        detail={
            "as_of": as_of.isoformat(),
            "spec": dataclasses.asdict(spec),
            "counts": seeder.counts,
        },
        via=VIA,
    )
    return SeedResult(True, as_of, seeder.counts, time.monotonic() - started)
