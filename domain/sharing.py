"""Data-sharing agreements: when one is in force, and the hub row rules it implies.

A supplier (the grantee) sees a distributor's (the grantor's) POS, inventory or forecast
rows only for its own SKUs, only for the locations in scope, only for row dates inside
the agreement's validity, and only while the agreement is active and in force. Promotions
and orders need no agreement: both parties of a pair see those by the pair rules.

The rules are compiled into one hub policy per grantee organization. Each clause also
re-checks its agreement live (status and ``$NOW``), so a revocation or an expiry takes
effect on the very next request even before the policy is regenerated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.roles import DATA_KINDS, GRANULARITIES

Filter = dict[str, Any]

# The raw collections an agreement kind opens, and each one's date field.
ROW_COLLECTIONS: dict[str, tuple[str, str]] = {
    "pos": ("pos_sales", "day"),
    "inventory": ("inventory_positions", "day"),
    "forecasts": ("forecasts", "week_start"),
}
#: An agreement's fields, as its parties and the pair's account managers read them.
AGREEMENT_FIELDS = [
    "id",
    "grantor",
    "grantee",
    "kinds",
    "regions",
    "locations",
    "granularity",
    "valid_from",
    "valid_to",
    "purpose",
    "status",
    "revoked_at",
]
# The weekly POS rollups, and whether each is per location. A store_day agreement
# shares both, except that one scoped to regions or locations shares only the
# per-location one (a distributor-wide total would include stores outside its scope).
# An aggregated agreement shares the SKU x distributor totals only: no store-level row
# anywhere (no daily rows, no per-store weeks, no locations).
ROLLUP_COLLECTIONS: dict[str, bool] = {"pos_week_location": True, "pos_week_distributor": False}
# Kinds whose rows are per location, which an aggregated agreement cannot share.
PER_LOCATION_KINDS = ("inventory", "forecasts")


@dataclass(frozen=True)
class Agreement:
    id: int
    grantor: int
    grantee: int
    kinds: tuple[str, ...]
    valid_from: dt.date
    valid_to: dt.date | None = None
    granularity: str = "store_day"
    regions: tuple[str, ...] = ()
    locations: tuple[int, ...] = ()
    status: str = "active"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Agreement:
        def org(value: Any) -> int:
            return int(value["id"] if isinstance(value, Mapping) else value)

        return cls(
            id=int(row["id"]),
            grantor=org(row["grantor"]),
            grantee=org(row["grantee"]),
            kinds=tuple(row.get("kinds") or ()),
            valid_from=dt.date.fromisoformat(str(row["valid_from"])[:10]),
            valid_to=dt.date.fromisoformat(str(row["valid_to"])[:10])
            if row.get("valid_to")
            else None,
            granularity=row.get("granularity") or "store_day",
            regions=tuple(row.get("regions") or ()),
            locations=tuple(int(x) for x in row.get("locations") or ()),
            status=row.get("status") or "active",
        )

    def in_force(self, today: dt.date) -> bool:
        if self.status != "active" or self.valid_from > today:
            return False
        return self.valid_to is None or self.valid_to >= today


@dataclass
class AgreementDraft:
    """An agreement as entered, before it is stored."""

    grantor_kind: str
    grantee_kind: str
    kinds: Sequence[str]
    valid_from: dt.date | None
    valid_to: dt.date | None = None
    granularity: str = "store_day"
    regions: Sequence[str] = ()
    locations: Sequence[int] = ()
    same_org: bool = False


def agreement_errors(draft: AgreementDraft) -> dict[str, list[str]]:
    """Every problem with a draft agreement, by field. Empty means it may be stored."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if draft.same_org:
        add("grantee", "an organization cannot share with itself")
    if draft.grantor_kind not in ("distributor", "retailer"):
        add("grantor", "the grantor must be a distributor or retailer (the data's owner)")
    if draft.grantee_kind != "supplier":
        add("grantee", "the grantee must be a supplier: sharing is scoped to its own SKUs")
    if not draft.kinds:
        add("kinds", f"name at least one data kind: {', '.join(DATA_KINDS)}")
    for kind in draft.kinds:
        if kind not in DATA_KINDS:
            add("kinds", f"unknown data kind {kind!r}; known: {', '.join(DATA_KINDS)}")
    if len(set(draft.kinds)) != len(draft.kinds):
        add("kinds", "a data kind is named twice")
    if draft.granularity not in GRANULARITIES:
        add("granularity", f"granularity must be one of {', '.join(GRANULARITIES)}")
    if draft.valid_from is None:
        add("valid_from", "a start date is required")
    elif draft.valid_to is not None and draft.valid_to < draft.valid_from:
        add("valid_to", "the end date is before the start date")
    if draft.regions and draft.locations:
        add("locations", "scope by regions or by locations, not both")
    if draft.granularity == "aggregated":
        per_location = [k for k in draft.kinds if k in PER_LOCATION_KINDS]
        if per_location:
            add(
                "granularity",
                f"an aggregated agreement shares weekly POS totals of the whole distributor "
                f"only; {', '.join(per_location)} are per location: share them at store_day",
            )
        if draft.regions or draft.locations:
            add(
                "granularity",
                "an aggregated agreement covers the whole distributor (its totals include "
                "every store): scope by regions or locations only at store_day",
            )
    return errors


def live_check(agreement_id: int) -> Filter:
    """Row rule: the row's distributor still grants this agreement, active, right now.

    No ``_some`` here: below the top level of a filter Directus ignores it (and matches
    every row); a plain nested o2m filter means "some agreement matches all of these".
    """
    return {
        "distributor": {
            "granted_agreements": {
                "_and": [
                    {"id": {"_eq": agreement_id}},
                    {"status": {"_eq": "active"}},
                    {"valid_from": {"_lte": "$NOW"}},
                    {
                        "_or": [
                            {"valid_to": {"_null": True}},
                            {"valid_to": {"_gte": "$NOW(-1 day)"}},
                        ]
                    },
                ]
            }
        }
    }


def _scope(agreement: Agreement, location_path: str | None) -> list[Filter]:
    """The location scope, as a rule on a location (or on a row's ``location_path``)."""
    if agreement.locations:
        rule: Filter = {"id": {"_in": list(agreement.locations)}}
    elif agreement.regions:
        rule = {"region": {"_in": list(agreement.regions)}}
    else:
        return []
    return [{location_path: rule} if location_path else rule]


def row_scope(agreement: Agreement, date_field: str, *, live: bool = True) -> Filter:
    """The rows one agreement shares: grantor's, grantee's SKUs, dates, locations in scope.

    ``live`` adds the re-check of the agreement row itself, for the hub's policy. The
    portal leaves it out: it reads the agreements in force on each request.
    """
    rules: list[Filter] = [
        {"distributor": {"_eq": agreement.grantor}},
        {"sku": {"supplier": {"_eq": agreement.grantee}}},
        {date_field: {"_gte": agreement.valid_from.isoformat()}},
    ]
    if agreement.valid_to is not None:
        rules.append({date_field: {"_lte": agreement.valid_to.isoformat()}})
    rules += _scope(agreement, "location")
    if live:
        rules.append(live_check(agreement.id))
    return {"_and": rules}


def rollup_scope(agreement: Agreement, by_location: bool, *, live: bool = True) -> Filter | None:
    """The weekly rollups one POS agreement shares: whole ISO weeks inside its validity
    (a week it covers only in part would reveal days outside it), or None. The
    per-store rollup only at store_day; the distributor rollup only unscoped."""
    if "pos" not in agreement.kinds:
        return None
    if by_location and agreement.granularity != "store_day":
        return None
    if not by_location and (agreement.regions or agreement.locations):
        return None
    rules: list[Filter] = [
        {"distributor": {"_eq": agreement.grantor}},
        {"sku": {"supplier": {"_eq": agreement.grantee}}},
        {"week_start": {"_gte": agreement.valid_from.isoformat()}},
    ]
    if agreement.valid_to is not None:
        rules.append({"week_end": {"_lte": agreement.valid_to.isoformat()}})
    if by_location:
        rules += _scope(agreement, "location")
    if live:
        rules.append(live_check(agreement.id))
    return {"_and": rules}


def covers_locations(agreement: Agreement) -> bool:
    """Whether the agreement shares rows of its locations, so the grantee may read them.
    An aggregated agreement covers no location: its totals are the whole distributor's."""
    return agreement.granularity == "store_day" and any(
        kind in ROW_COLLECTIONS for kind in agreement.kinds
    )


def weekly_parts(
    agreements: Iterable[Agreement], *, by_location: bool
) -> tuple[list[Filter], list[Filter]]:
    """The weekly POS rollups some agreements in force share, in two disjoint parts, so
    that a sum over both counts each week of each store once however they overlap:

    - *whole*: clauses on ``pos_week_distributor``, weeks a whole (unscoped) agreement
      covers, all of the grantor's stores at once;
    - *scoped*: clauses on ``pos_week_location``, weeks of the stores a region- or
      store-scoped agreement covers, less the weeks a whole agreement of the same
      grantor already counts.

    ``by_location`` is for sums by store, which only store_day agreements share. Without
    the agreements' live check: the portal reads the agreements in force per request.
    """
    pos = [a for a in agreements if "pos" in a.kinds]
    whole = [
        a
        for a in pos
        if not (a.regions or a.locations) and (a.granularity == "store_day" or not by_location)
    ]
    whole_clauses = [c for a in whole if (c := rollup_scope(a, False, live=False)) is not None]
    scoped_clauses = []
    for a in pos:
        if not (a.regions or a.locations):
            continue
        clause = rollup_scope(a, True, live=False)
        if clause is None:
            continue
        counted = [
            _outside_weeks(w, False)
            for w in whole
            if (w.grantor, w.grantee) == (a.grantor, a.grantee)
        ]
        scoped_clauses.append({"_and": [*clause["_and"], *counted]})
    return whole_clauses, scoped_clauses


@dataclass(frozen=True)
class Store:
    """A grantor's store as coverage needs it: its id and region."""

    id: int
    region: str | None = None


def _covers_store(agreement: Agreement, store: Store) -> bool:
    if agreement.locations:
        return store.id in agreement.locations
    if agreement.regions:
        return store.region in agreement.regions
    return True


def reaches(
    agreement: Agreement, *, stores: Collection[Store] | None = None, per_store: bool = False
) -> bool:
    """Whether the agreement shares POS at ``stores`` (some of them) if named, and per
    store if asked (an aggregated agreement shares no store's week), whatever the dates."""
    if "pos" not in agreement.kinds:
        return False
    if stores is None and not per_store:
        return True
    if agreement.granularity != "store_day":
        return False
    return stores is None or any(_covers_store(agreement, s) for s in stores)


def shares_week(
    agreement: Agreement,
    monday: dt.date,
    *,
    stores: Collection[Store] | None = None,
    per_store: bool = False,
) -> bool:
    """Whether the agreement shares the POS of the ISO week starting ``monday``: the
    week lies wholly inside its validity (the weekly rollups hold whole weeks, so a week
    it covers only in part shows nothing), at ``stores`` (some of them) if named, and
    per store if asked (an aggregated agreement shares no store's week)."""
    if agreement.valid_from > monday:
        return False
    if agreement.valid_to is not None and agreement.valid_to < monday + dt.timedelta(days=6):
        return False
    return reaches(agreement, stores=stores, per_store=per_store)


def shared_weeks(
    agreements: Iterable[Agreement],
    grantor: int,
    mondays: Iterable[dt.date],
    *,
    stores: Collection[Store] | None = None,
    per_store: bool = False,
) -> frozenset[dt.date]:
    """The weeks among ``mondays`` whose POS some of the agreements of ``grantor``
    share (see :func:`shares_week`). A week not among them is *not shared*: a figure
    for it is unknown, not 0."""
    mine = [a for a in agreements if a.grantor == grantor]
    return frozenset(
        m
        for m in mondays
        if any(shares_week(a, m, stores=stores, per_store=per_store) for a in mine)
    )


def shares_whole(
    agreements: Iterable[Agreement],
    grantor: int,
    mondays: Collection[dt.date],
    stores: Collection[Store] = (),
) -> bool:
    """Whether the agreements share every one of these weeks at every one of these
    stores, per store; with no stores named, at every store of the grantor (which only
    an agreement scoped to no region or store list does). A figure over weeks or stores
    some of which are not shared would count them as 0: it is not given at all."""
    wanted = set(mondays)
    if not stores:
        unscoped = [a for a in agreements if not (a.regions or a.locations)]
        return shared_weeks(unscoped, grantor, wanted) == wanted
    agreements = list(agreements)
    return all(
        shared_weeks(agreements, grantor, wanted, stores=[store], per_store=True) == wanted
        for store in stores
    )


@dataclass(frozen=True)
class Coverage:
    """Which weeks of several grantors' POS a report's figures cover: weeks every one
    of them shares (``every``), and weeks at least one shares (``some``). A week in
    neither is not shared at all; a period compares with another only if both lie
    wholly in ``every``."""

    every: frozenset[dt.date]
    some: frozenset[dt.date]

    @classmethod
    def full(cls, mondays: Iterable[dt.date]) -> Coverage:
        """Every week: a distributor's own data, which no agreement limits."""
        weeks = frozenset(mondays)
        return cls(weeks, weeks)

    def covers(self, mondays: Iterable[dt.date]) -> bool:
        """Whether every one of these weeks is shared by every grantor."""
        return all(m in self.every for m in mondays)


def pos_coverage(
    agreements: Iterable[Agreement],
    grantors: Iterable[int],
    mondays: Iterable[dt.date],
    *,
    stores: Mapping[int, Collection[Store]] | None = None,
    per_store: bool = False,
) -> Coverage:
    """The weeks among ``mondays`` that the agreements share of each grantor's POS,
    combined (:class:`Coverage`). ``stores`` limits a grantor to some of its stores
    (a region or a store asked for); ``per_store`` is for sums by store. A grantor
    none of whose agreements reaches those stores at any date adds nothing to the
    figures and is left out; a grantor whose agreements start later is not: its weeks
    before are not shared. No grantor, no week."""
    agreements = list(agreements)
    weeks = list(mondays)
    each = []
    for g in dict.fromkeys(grantors):
        at = None if stores is None else stores.get(g, ())
        if any(a.grantor == g and reaches(a, stores=at, per_store=per_store) for a in agreements):
            each.append(shared_weeks(agreements, g, weeks, stores=at, per_store=per_store))
    if not each:
        return Coverage(frozenset(), frozenset())
    return Coverage(frozenset.intersection(*each), frozenset.union(*each))


def _location_clause(agreement: Agreement) -> Filter:
    rules: list[Filter] = [{"distributor": {"_eq": agreement.grantor}}]
    rules += _scope(agreement, None)
    rules.append(live_check(agreement.id))
    return {"_and": rules}


@dataclass(frozen=True)
class Rule:
    collection: str
    action: str
    permissions: Filter
    fields: tuple[str, ...] = ("*",)


def _off_scope(agreement: Agreement) -> list[Filter]:
    """A row's location outside the agreement's scope (none for a whole agreement)."""
    if agreement.locations:
        return [{"location": {"id": {"_nin": list(agreement.locations)}}}]
    if agreement.regions:
        regions = list(agreement.regions)
        return [
            {"location": {"region": {"_nin": regions}}},
            {"location": {"region": {"_null": True}}},
        ]
    return []


def _outside_rows(agreement: Agreement, date_field: str) -> Filter:
    """Rows the agreement does not share (its grantor's, its grantee's SKUs aside)."""
    alts: list[Filter] = [{date_field: {"_lt": agreement.valid_from.isoformat()}}]
    if agreement.valid_to is not None:
        alts.append({date_field: {"_gt": agreement.valid_to.isoformat()}})
    return {"_or": alts + _off_scope(agreement)}


def _outside_weeks(agreement: Agreement, by_location: bool) -> Filter:
    """Rollup weeks the agreement does not share: not wholly inside its validity, or
    (per store) at a store outside its scope."""
    alts: list[Filter] = [{"week_start": {"_lt": agreement.valid_from.isoformat()}}]
    if agreement.valid_to is not None:
        alts.append({"week_end": {"_gt": agreement.valid_to.isoformat()}})
    if by_location:
        alts += _off_scope(agreement)
    return {"_or": alts}


def _first_served(agreements: Iterable[Agreement], today: dt.date) -> list[Agreement]:
    """The order in which agreements claim a row: those already in force before those
    that start later, and among each the longest-lasting first."""
    return sorted(
        agreements,
        key=lambda a: (a.valid_from > today, -(a.valid_to or dt.date.max).toordinal(), a.id),
    )


def _disjoint(
    claims: list[tuple[Agreement, Filter]], outside: Callable[[Agreement], Filter]
) -> list[Filter]:
    """Each agreement's clause less the rows an earlier one of the same grantor claims.

    The hub checks each clause's agreement live through the grantor's o2m
    ``granted_agreements``, which it joins: a row two clauses match came back once per
    matching agreement, and the hub's own aggregates counted it twice. Clauses that
    never match the same row join one agreement per row. The order
    (:func:`_first_served`) keeps a row visible while any agreement sharing it is in
    force: an earlier agreement lasts at least as long as a later one, or had already
    started when a later one had not (until the next regeneration, a row of both is
    then shown only while the earlier one is in force).
    """
    out = []
    for i, (agreement, clause) in enumerate(claims):
        earlier = [outside(b) for b, _ in claims[:i] if b.grantor == agreement.grantor]
        out.append({"_and": [*clause["_and"], *earlier]} if earlier else clause)
    return out


def share_rules(agreements: Iterable[Agreement], grantee: int, today: dt.date) -> list[Rule]:
    """The grantee's share-policy permissions, from its agreements.

    Expired and revoked agreements give nothing. Agreements that start later are
    compiled already: their live check keeps them closed until their start date. The
    clauses of one grantor never match the same row (see :func:`_disjoint`), so the
    hub counts each row once however the agreements overlap.
    """
    live = _first_served(
        (
            a
            for a in agreements
            if a.grantee == grantee
            and a.status == "active"
            and (a.valid_to is None or a.valid_to >= today)
        ),
        today,
    )
    rules: list[Rule] = []
    for kind, (collection, date_field) in ROW_COLLECTIONS.items():
        clauses = _disjoint(
            [
                (a, row_scope(a, date_field))
                for a in live
                if kind in a.kinds and a.granularity == "store_day"
            ],
            lambda b, field=date_field: _outside_rows(b, field),
        )
        if not clauses:
            continue
        rule = {"_or": clauses}
        rules.append(Rule(collection, "read", rule))
    for collection, by_location in ROLLUP_COLLECTIONS.items():
        weekly = _disjoint(
            [(a, c) for a in live if (c := rollup_scope(a, by_location)) is not None],
            lambda b, per_store=by_location: _outside_weeks(b, per_store),
        )
        if weekly:
            rules.append(Rule(collection, "read", {"_or": weekly}))
    places = [_location_clause(a) for a in live if covers_locations(a)]
    if places:
        rules.append(Rule("locations", "read", {"_or": places}))
    return rules


def manager_rules(
    agreements: Iterable[Agreement], supplier: int, distributor: int, today: dt.date
) -> list[Rule]:
    """An account manager's rules for one assigned pair: what the pair's supplier reads
    of the pair's distributor's data (their agreements only, never the supplier's with
    other distributors), read only: forecast commitments stay the supplier's to write;
    and those agreements themselves, which the manager's pages read their scope from."""
    between = [a for a in agreements if a.grantor == distributor]
    parties = {"_and": [{"grantor": {"_eq": distributor}}, {"grantee": {"_eq": supplier}}]}
    return [
        *(r for r in share_rules(between, supplier, today) if r.action == "read"),
        Rule("share_agreements", "read", parties, tuple(AGREEMENT_FIELDS)),
    ]


SHARED_COLLECTIONS = tuple(
    sorted({c for c, _ in ROW_COLLECTIONS.values()} | set(ROLLUP_COLLECTIONS) | {"locations"})
)
