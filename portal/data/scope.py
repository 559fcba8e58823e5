"""The user's scope, written out explicitly on every query.

The hub's policies already limit what each user's token sees. This is the second,
independent layer: from the user's role and organization (and, for suppliers and account
managers, the sharing agreements in force *today*), it builds the filter each query must
carry, so a mistake in either layer alone does not leak another partner's rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from directus import ForbiddenOrMissing, HubClient
from domain import clock
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, OPERATOR_ADMIN, SUPPLIER_USER
from domain.sharing import (
    AGREEMENT_FIELDS,
    ROW_COLLECTIONS,
    Agreement,
    covers_locations,
    rollup_scope,
    row_scope,
    weekly_parts,
)

log = logging.getLogger(__name__)

Filter = dict[str, Any]


class Actor(Protocol):
    """Who is asking: :class:`portal.auth.PortalUser` is one."""

    @property
    def id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def organization_id(self) -> int | None: ...


class _Nothing:
    """The scope allows no row at all: the hub is not even asked."""

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING = _Nothing()
ALL: Filter = {}


@dataclass(frozen=True)
class Pair:
    id: int
    supplier: int
    distributor: int


def all_of(*filters: Filter | None) -> Filter:
    """AND of the non-empty filters."""
    parts = [f for f in filters if f]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"_and": parts}


def _id(value: Any) -> int:
    return int(value["id"] if isinstance(value, dict) else value)


def _either(clauses: Sequence[Filter | None]) -> Filter | _Nothing:
    """OR of the clauses; NOTHING if there are none."""
    found = [c for c in clauses if c is not None]
    if not found:
        return NOTHING
    return found[0] if len(found) == 1 else {"_or": found}


class Scope:
    """One user's scope for one request; lookups are made once and kept."""

    def __init__(
        self,
        actor: Actor,
        hub: HubClient,
        today: dt.date | None = None,
        *,
        pair: int | None = None,
    ) -> None:
        self.actor = actor
        self.hub = hub
        self.today = today or clock.today()
        self.role = actor.role
        self.org = int(actor.organization_id) if actor.organization_id else None
        #: One of the user's pairs the request is narrowed to (a manager's pair pages):
        #: everything else, agreements included, is then out of scope.
        self.only_pair = pair

    @property
    def reads_by_agreement(self) -> bool:
        """Whether the user reads a distributor's POS, inventory and forecasts only as
        its agreements share them: a supplier, and an account manager of the pair (who
        reads what the pair's supplier may, of the pair's distributor only)."""
        return self.role in (SUPPLIER_USER, ACCOUNT_MANAGER)

    # -- lookups (each one itself filtered explicitly, never trusting the hub alone) -----

    @cached_property
    def pairs(self) -> dict[int, Pair]:
        """The partnerships the user is a side of, or (account managers) is assigned to."""
        if self.org is None:
            return {}
        if self.role == SUPPLIER_USER:
            side: Filter = {"supplier": {"_eq": self.org}}
        elif self.role == DISTRIBUTOR_USER:
            side = {"distributor": {"_eq": self.org}}
        elif self.role == ACCOUNT_MANAGER:
            assigned = self.hub.read_items(
                "partnership_managers",
                filter={"user": {"_eq": self.actor.id}},
                fields=["partnership"],
                limit=-1,
            )
            ids = sorted({_id(a["partnership"]) for a in assigned})
            if not ids:
                return {}
            side = {"id": {"_in": ids}}
        else:
            return {}
        rows = self.hub.read_items(
            "partnerships", filter=side, fields=["id", "supplier", "distributor"], limit=-1
        )
        pairs = {
            int(r["id"]): Pair(int(r["id"]), _id(r["supplier"]), _id(r["distributor"]))
            for r in rows
        }
        # The same condition again, on what came back.
        if self.role == SUPPLIER_USER:
            pairs = {k: p for k, p in pairs.items() if p.supplier == self.org}
        elif self.role == DISTRIBUTOR_USER:
            pairs = {k: p for k, p in pairs.items() if p.distributor == self.org}
        if self.only_pair is not None:
            pairs = {k: p for k, p in pairs.items() if k == self.only_pair}
        return pairs

    @property
    def pair_ids(self) -> list[int]:
        return sorted(self.pairs)

    @cached_property
    def agreements(self) -> list[Agreement]:
        """Agreements in force today that share store-level rows with the user's supplier."""
        return [a for a in self.agreements_in_force if a.granularity == "store_day"]

    @cached_property
    def agreements_in_force(self) -> list[Agreement]:
        """Every agreement in force today that the user reads by: a supplier's as grantee
        (with every distributor, or the narrowed pair's only); an account manager's, those
        between the two sides of each of its pairs."""
        if self.org is None or not self.reads_by_agreement:
            return []
        if self.role == SUPPLIER_USER and self.only_pair is None:
            sides: set[tuple[int, int]] | None = None
            parties: Filter = {"grantee": {"_eq": self.org}}
        else:
            sides = {(p.distributor, p.supplier) for p in self.pairs.values()}
            if not sides:
                return []
            parties = _either(
                [
                    {"_and": [{"grantor": {"_eq": d}}, {"grantee": {"_eq": s}}]}
                    for d, s in sorted(sides)
                ]
            )
        today = self.today.isoformat()
        try:
            rows = self.hub.read_items(
                "share_agreements",
                filter={
                    "_and": [
                        parties,
                        {"status": {"_eq": "active"}},
                        {"valid_from": {"_lte": today}},
                        {"_or": [{"valid_to": {"_null": True}}, {"valid_to": {"_gte": today}}]},
                    ]
                },
                fields=AGREEMENT_FIELDS,
                limit=-1,
            )
        except ForbiddenOrMissing:
            return []
        agreements = [Agreement.from_row(r) for r in rows]
        if sides is None:
            return [a for a in agreements if a.grantee == self.org and a.in_force(self.today)]
        return [a for a in agreements if (a.grantor, a.grantee) in sides and a.in_force(self.today)]

    @cached_property
    def shipped_to(self) -> dict[int, set[int]]:
        """Locations the POs of the user's pairs ship to, per distributor owning the pair."""
        if not self.pairs:
            return {}
        groups = self.hub.aggregate(
            "purchase_orders",
            {"count": ["id"]},
            group_by=["ship_to", "partnership"],
            filter={"partnership": {"_in": self.pair_ids}},
        )
        places: dict[int, set[int]] = {}
        for group in groups:
            if group.get("ship_to") is None or group.get("partnership") is None:
                continue
            pair = self.pairs.get(_id(group["partnership"]))
            if pair is not None:
                places.setdefault(pair.distributor, set()).add(_id(group["ship_to"]))
        return places

    # -- filters ------------------------------------------------------------------------

    def filter_for(
        self, scope: str, *, parent_field: str | None = None, hide_drafts: bool = False
    ) -> Filter | _Nothing:
        """The filter a query of this scope kind must carry, or NOTHING.

        ``parent_field`` is set for a child collection (its parent's partnership is checked
        too); ``hide_drafts`` hides a distributor's draft promotions from suppliers.
        """
        if self.role == OPERATOR_ADMIN:
            return ALL
        if self.org is None or self.role not in (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER):
            return NOTHING
        if scope.startswith("shared:"):
            return self._shared(scope.split(":", 1)[1])
        if scope == "pair":
            return self._pair(parent_field, hide_drafts)
        if scope == "mine":  # rows addressed to the user: its notifications
            return {"user": {"_eq": self.actor.id}}
        return {
            "organizations": self._organizations,
            "partnerships": self._partnerships,
            "skus": self._skus,
            "sku_codes": self._sku_codes,
            "locations": self._locations,
            "agreements": self._agreements,
            "edi": self._edi,
        }[scope]()

    def _organizations(self) -> Filter | _Nothing:
        ids = {self.org}
        for pair in self.pairs.values():
            if self.role != DISTRIBUTOR_USER:
                ids.add(pair.distributor)
            if self.role != SUPPLIER_USER:
                ids.add(pair.supplier)
        return {"id": {"_in": sorted(i for i in ids if i is not None)}}

    def _partnerships(self) -> Filter | _Nothing:
        if not self.pairs:
            return NOTHING
        rules: list[Filter] = [{"id": {"_in": self.pair_ids}}]
        if self.role == SUPPLIER_USER:
            rules.append({"supplier": {"_eq": self.org}})
        elif self.role == DISTRIBUTOR_USER:
            rules.append({"distributor": {"_eq": self.org}})
        return all_of(*rules)

    def _pair(self, parent_field: str | None, hide_drafts: bool) -> Filter | _Nothing:
        if not self.pairs:
            return NOTHING
        mine = {"partnership": {"_in": self.pair_ids}}
        rules: list[Filter] = [mine]
        if parent_field:
            rules.append({parent_field: mine})
        if hide_drafts and self.role == SUPPLIER_USER:
            not_draft = {"status": {"_neq": "draft"}}
            rules.append({parent_field: not_draft} if parent_field else not_draft)
        return all_of(*rules)

    def _partner_suppliers(self) -> list[int]:
        return sorted({p.supplier for p in self.pairs.values()})

    def _partner_distributors(self) -> list[int]:
        return sorted({p.distributor for p in self.pairs.values()})

    def _skus(self) -> Filter | _Nothing:
        if self.role == SUPPLIER_USER:
            return {"supplier": {"_eq": self.org}}
        suppliers = self._partner_suppliers()
        return {"supplier": {"_in": suppliers}} if suppliers else NOTHING

    def _sku_codes(self) -> Filter | _Nothing:
        if self.role == DISTRIBUTOR_USER:
            return {"distributor": {"_eq": self.org}}
        if self.role == SUPPLIER_USER and self.pairs:
            return all_of(
                {"sku": {"supplier": {"_eq": self.org}}},
                {"distributor": {"_in": self._partner_distributors()}},
            )
        return NOTHING

    def _locations(self) -> Filter | _Nothing:
        if self.role == DISTRIBUTOR_USER:
            return {"distributor": {"_eq": self.org}}
        clauses: list[Filter] = [
            {"_and": [{"distributor": {"_eq": d}}, {"id": {"_in": sorted(ids)}}]}
            for d, ids in sorted(self.shipped_to.items())
        ]
        for agreement in self.agreements_in_force:
            if not covers_locations(agreement):
                continue
            rules: list[Filter] = [{"distributor": {"_eq": agreement.grantor}}]
            if agreement.locations:
                rules.append({"id": {"_in": list(agreement.locations)}})
            elif agreement.regions:
                rules.append({"region": {"_in": list(agreement.regions)}})
            clauses.append(all_of(*rules))
        if not clauses:
            return NOTHING
        return clauses[0] if len(clauses) == 1 else {"_or": clauses}

    def _shared(self, kind: str) -> Filter | _Nothing:
        """POS, inventory or forecast rows: a distributor's own; a supplier's or a
        manager's by agreement."""
        if self.role == DISTRIBUTOR_USER:
            return {"distributor": {"_eq": self.org}}
        if not self.reads_by_agreement:
            return NOTHING
        _, date_field = ROW_COLLECTIONS[kind]
        clauses = [
            row_scope(agreement, date_field, live=False)
            for agreement in self.agreements
            if kind in agreement.kinds
        ]
        if not clauses:
            return NOTHING
        return clauses[0] if len(clauses) == 1 else {"_or": clauses}

    def rollup_parts(
        self, *, by_location: bool = False
    ) -> tuple[Filter | _Nothing, Filter | _Nothing]:
        """The weekly POS rollups in scope, in two disjoint parts: what whole distributors'
        totals may show (the SKU x distributor rollup can answer it), and what only some
        of a distributor's stores may (only the per-store rollup can), less the weeks a
        whole agreement already counts, so overlapping agreements count each row once. A
        distributor's own data is all whole; a supplier's depends on each agreement's
        scope. ``by_location``: for sums by store, which aggregated agreements do not
        share."""
        if self.role == OPERATOR_ADMIN:
            return ALL, NOTHING
        if self.org is None:
            return NOTHING, NOTHING
        if self.role == DISTRIBUTOR_USER:
            return {"distributor": {"_eq": self.org}}, NOTHING
        if not self.reads_by_agreement:
            return NOTHING, NOTHING
        whole, scoped = weekly_parts(self.agreements_in_force, by_location=by_location)
        return _either(whole), _either(scoped)

    def rollup_filter(self, by_location: bool) -> Filter | _Nothing:
        """The weekly POS rollups: a distributor's own; a supplier's or a manager's by
        agreement (whole weeks inside its validity; the per-store rollup only at
        store_day)."""
        if self.role == OPERATOR_ADMIN:
            return ALL
        if self.org is None:
            return NOTHING
        if self.role == DISTRIBUTOR_USER:
            return {"distributor": {"_eq": self.org}}
        if not self.reads_by_agreement:
            return NOTHING
        clauses = [
            c
            for a in self.agreements_in_force
            if (c := rollup_scope(a, by_location, live=False)) is not None
        ]
        if not clauses:
            return NOTHING
        return clauses[0] if len(clauses) == 1 else {"_or": clauses}

    def _agreements(self) -> Filter | _Nothing:
        if self.role == ACCOUNT_MANAGER:
            return NOTHING
        return {"_or": [{"grantor": {"_eq": self.org}}, {"grantee": {"_eq": self.org}}]}

    def _edi(self) -> Filter | _Nothing:
        if self.role == ACCOUNT_MANAGER:
            return NOTHING
        return {"_or": [{"sender": {"_eq": self.org}}, {"receiver": {"_eq": self.org}}]}
