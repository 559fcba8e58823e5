"""Governed reads and writes: every query carries the user's scope, every write is audited.

:class:`DataAccess` is built per request from the signed-in user and the user's own
:class:`~directus.HubClient` (never an admin client). Reads add
:meth:`Scope.filter_for` to the caller's filters; a record outside the scope is
"not found", never "forbidden", so the answer does not tell whether it exists. Records
named in a request body that are outside the scope are refused, and the refusal is
written to the audit log with the user's own token.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow.fields import Date, DateTime, Number

from directus import (
    AuthFailed,
    ForbiddenOrMissing,
    HubClient,
    HubError,
    InvalidPayload,
    RecordNotUnique,
    Unavailable,
)
from domain.roles import DISTRIBUTOR_USER
from governance import audit
from portal.data import writes
from portal.data.errors import (
    Conflict,
    DataError,
    Forbidden,
    HubFailed,
    HubUnavailable,
    Invalid,
    NotFound,
)
from portal.data.registry import RESOURCES, Child, Resource, Write
from portal.data.scope import NOTHING, Actor, Filter, Pair, Scope, all_of

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The largest page where the hub can only page by offset (text ids or a text sort):
#: each page re-reads every row before it, so fewer, larger pages cost less in all.
PAGE_MAX = 50_000  # an export's largest page, by key or by offset


class Unauthenticated(DataError):
    """The hub no longer accepts the user's session."""

    status = 401
    code = "UNAUTHORIZED"


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    page: int
    per_page: int
    total: int

    @property
    def meta(self) -> dict[str, int]:
        return {"page": self.page, "per_page": self.per_page, "total": self.total}


def _rollup_query(query: Mapping[str, Any]) -> Filter:
    """The summary's filters, on a weekly rollup: ids, region, category, the SKUs'
    supplier, and whole weeks."""
    rules: list[Filter] = []
    for name in ("distributor", "sku", "location"):
        if query.get(name) is not None:
            rules.append({name: {"_eq": query[name]}})
    if query.get("region") is not None:
        rules.append({"location": {"region": {"_eq": query["region"]}}})
    if query.get("category") is not None:
        rules.append({"sku": {"category": {"_eq": query["category"]}}})
    if query.get("supplier") is not None:
        rules.append({"sku": {"supplier": {"_eq": query["supplier"]}}})
    first = query.get("from") or query.get("day_from")
    last = query.get("to") or query.get("day_to")
    if first is not None:
        rules.append({"week_start": {"_gte": first.isoformat()}})
    if last is not None:
        rules.append({"week_end": {"_lte": last.isoformat()}})
    return all_of(*rules)


def _summary_row(group: Mapping[str, Any], keys: Sequence[str], by_week: bool) -> dict[str, Any]:
    out: dict[str, Any] = {k: as_int(group[k], k) for k in keys}
    if by_week:
        out["week"] = group["iso_week"]
        out["week_start"] = str(group["week_start"])[:10]
    out["currency"] = group["currency"]
    out["units"] = as_int(group["units"], "units")
    out["net_sales_minor"] = as_int(group["net_sales_minor"], "money")
    out["rows"] = as_int(group["rows"], "rows")
    return out


def _comparable(res: Resource, field: str) -> bool:
    """Whether the hub can range-compare a resource's field (a number, date or time)."""
    declared = res.schema._declared_fields.get(field)
    return isinstance(declared, Number | Date | DateTime)


def resource(name: str) -> Resource:
    try:
        return RESOURCES[name]
    except KeyError:
        raise NotFound(f"no resource {name!r}") from None


def as_int(value: Any, what: str = "value") -> int:
    """An integer from the hub: PostgreSQL sends big integers and sums as strings."""
    if isinstance(value, bool):
        raise HubFailed(f"the hub sent {what} as a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise HubFailed(f"the hub sent {what} as {value!r}, not a whole number")


def nested(path: str, condition: Mapping[str, Any]) -> Filter:
    """``"location.region", {"_eq": x}`` → ``{"location": {"region": {"_eq": x}}}``."""
    result: Filter = dict(condition)
    for part in reversed(path.split(".")):
        result = {part: result}
    return result


class DataAccess:
    """One user's governed access to the hub, for one request."""

    def __init__(
        self,
        actor: Actor,
        hub: HubClient,
        *,
        via: str = "api",
        today: dt.date | None = None,
        pair: int | None = None,
    ) -> None:
        self.actor = actor
        self.hub = hub
        self.via = via
        self.scope = Scope(actor, hub, today, pair=pair)

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def org(self) -> int | None:
        return self.scope.org

    # -- hub calls ------------------------------------------------------------------------

    @contextmanager
    def _hub_errors(self, writing: str | None = None) -> Iterator[None]:
        """Map the hub's failures; on a write, a hub refusal is audited as a denial."""
        try:
            yield
        except AuthFailed as exc:
            raise Unauthenticated("the hub session has ended; sign in again") from exc
        except Unavailable as exc:
            raise HubUnavailable("the data hub is unavailable; try again shortly") from exc
        except ForbiddenOrMissing as exc:
            if writing is None:
                raise
            self.record("denied", writing, [], {"reason": "hub refused", "hub": exc.message})
            raise Forbidden(f"not allowed to write {writing}") from exc
        except RecordNotUnique as exc:
            raise Conflict("a record with these values exists already") from exc
        except InvalidPayload as exc:
            if writing is None or exc.code == "INVALID_QUERY":
                # Not the user's values: the query or the hub's own rules could not run.
                log.error("hub refused a scoped query: %s", exc.message)
                raise HubFailed("the data hub could not run this request") from exc
            raise Invalid(
                "the data hub refused these values", {_hub_field(exc): [exc.message]}
            ) from exc
        except HubError as exc:
            raise HubFailed(f"the data hub failed: {exc.message}") from exc

    def _read(self, collection: str, filter_: Filter, **query: Any) -> list[dict[str, Any]]:
        with self._hub_errors():
            try:
                return self.hub.read_items(collection, filter=filter_ or None, **query)
            except ForbiddenOrMissing:
                # The hub refuses the whole collection: its layer says "nothing here".
                return []

    def _count(self, collection: str, filter_: Filter) -> int:
        """How many distinct rows match.

        ``countDistinct(id)``, not ``count(*)``: Directus 11.17.4 counts a row once per
        policy that lets the user read it, so ``count(*)`` over-counts a user with two.
        """
        with self._hub_errors():
            try:
                rows = self.hub.aggregate(
                    collection, {"countDistinct": ["id"]}, filter=filter_ or None
                )
            except ForbiddenOrMissing:
                return 0
        if not rows:
            return 0
        value = rows[0].get("countDistinct")
        return as_int(value.get("id") if isinstance(value, dict) else value or 0, "count")

    # -- filters ------------------------------------------------------------------------

    def scope_filter(self, res: Resource, child: Child | None = None) -> Filter | object:
        if child is None:
            return self.scope.filter_for(res.scope, hide_drafts=res.hide_drafts_from_supplier)
        return self.scope.filter_for(
            res.scope, parent_field=child.parent_field, hide_drafts=res.hide_drafts_from_supplier
        )

    @staticmethod
    def query_filter(res: Resource, query: Mapping[str, Any]) -> Filter:
        rules = []
        for f in res.filters:
            if query.get(f.name) is None:
                continue
            value = query[f.name]
            if isinstance(value, dt.date):
                value = value.isoformat()
            rules.append(nested(f.field, {f.op: value}))
        return all_of(*rules)

    # -- reads --------------------------------------------------------------------------

    def _listing(self, res: Resource, query: Mapping[str, Any]) -> tuple[Filter, list[str]] | None:
        """A list's filter (the user's scope and the query's filters) and its total order
        (:meth:`Resource.sort_for`: the asked sort, then ``id`` or the natural key, so
        pages neither skip nor repeat rows); None when the user's scope holds nothing."""
        scope = self.scope_filter(res)
        if scope is NOTHING:
            return None
        sort = res.sort_for(query.get("sort"))
        return all_of(scope, self.query_filter(res, query)), sort  # type: ignore[arg-type]

    def list(self, name: str, query: Mapping[str, Any], where: Filter | None = None) -> Page:
        """One page of a resource's rows in the user's scope, filtered and stably sorted
        (``where``: a page's own condition on top of the query's filters)."""
        res = resource(name)
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 50))
        listing = self._listing(res, query)
        if listing is None:
            return Page([], page, per_page, 0)
        filter_, sort = listing
        filter_ = all_of(filter_, where)
        rows = self._read(
            res.collection,
            filter_,
            fields=res.hub_fields,
            sort=sort,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
        if page == 1 and len(rows) < per_page:
            total = len(rows)  # a first page that is not full holds every row
        else:
            total = self._count(res.collection, filter_)
        return Page(rows, page, per_page, total)

    def iter_rows(
        self, name: str, query: Mapping[str, Any], *, page_size: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Every row :meth:`list` would page through, same scope, filters and order
        (``page`` and ``per_page`` are ignored): for exports, with no cap.

        Paged by key through the user's own hub session: by the integer id
        (:meth:`directus.HubClient.iter_by_key`), or for POS, inventory and forecasts by
        their natural key (:meth:`directus.HubClient.iter_in_order`). Each page costs the
        same wherever it is, and rows deleted or added meanwhile never make another repeat
        or go missing; rows with no value in the sorted field come first ascending, last
        descending. The hub compares numbers and dates but not text, so a sort on a text
        field (or a text id) pages by offset instead. Pages double up to :data:`PAGE_MAX`
        rows.
        """
        res = resource(name)
        listing = self._listing(res, query)
        if listing is None:
            return
        filter_, sort = listing
        comparable = all(_comparable(res, s.lstrip("-")) for s in sort)
        if res.order and comparable:
            rows = self.hub.iter_in_order(
                res.collection, sort, page_size=page_size, max_page_size=PAGE_MAX,
                filter=filter_ or None, fields=res.hub_fields,
            )  # fmt: skip
        elif res.key_type == "int" and comparable:
            rows = self.hub.iter_by_key(
                res.collection, page_size=page_size, max_page_size=PAGE_MAX, sort=sort,
                filter=filter_ or None, fields=res.hub_fields,
            )  # fmt: skip
        else:
            rows = self.hub.iter_items(
                res.collection, page_size=page_size, max_page_size=PAGE_MAX, sort=sort,
                filter=filter_ or None, fields=res.hub_fields,
            )  # fmt: skip
        started = False
        with self._hub_errors():
            try:
                for row in rows:
                    started = True
                    yield row
            except ForbiddenOrMissing:
                if started:
                    raise  # refused midway: never a silently shorter list
                # The hub refuses the whole collection: its layer says "nothing here".

    def visible(self, res: Resource, key: Any) -> dict[str, Any] | None:
        """The row if the user may see it, else None (missing and forbidden alike)."""
        scope = self.scope_filter(res)
        if scope is NOTHING:
            return None
        rows = self._read(
            res.collection,
            all_of(scope, {"id": {"_eq": key}}),  # type: ignore[arg-type]
            fields=res.hub_fields,
            limit=1,
        )
        return rows[0] if rows and str(rows[0]["id"]) == str(key) else None

    def get(self, name: str, key: Any) -> dict[str, Any]:
        """One row, with its embedded children; 404 (audited) when not visible."""
        res = resource(name)
        row = self.visible(res, key)
        if row is None:
            self.record("denied", res.collection, [key], {"reason": "not visible", "read": True})
            raise NotFound(f"no {name} {key}")
        for child in res.children:
            if child.embed:
                row[child.name] = self.children_rows(res, child, key, limit=-1, offset=0)
        return row

    def children_rows(
        self, res: Resource, child: Child, key: Any, *, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        return self._children(res, child, {"_eq": key}, limit=limit, offset=offset)

    def children_of(self, name: str, child_name: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
        """The children of many parents in one read (each row names its parent)."""
        res = resource(name)
        child = res.child(child_name)
        if child is None:
            raise NotFound(f"{name} have no {child_name}")
        if not keys:
            return []
        return self._children(res, child, {"_in": list(keys)}, limit=-1, offset=0)

    def _children(
        self, res: Resource, child: Child, parent: Filter, *, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        scope = self.scope_filter(res, child)
        if scope is NOTHING:
            return []
        return self._read(
            child.collection,
            all_of(scope, {child.parent_field: parent}),  # type: ignore[arg-type]
            fields=child.hub_fields,
            sort=["id"],
            limit=limit,
            offset=offset,
        )

    def child_counts(self, name: str, child_name: str, keys: Sequence[Any]) -> dict[int, int]:
        """How many child rows each of these parents has in the user's scope (one
        aggregate; a parent with none is left out)."""
        res = resource(name)
        child = res.child(child_name)
        if child is None:
            raise NotFound(f"{name} have no {child_name}")
        scope = self.scope_filter(res, child)
        if not keys or scope is NOTHING:
            return {}
        filter_ = all_of(scope, {child.parent_field: {"_in": list(keys)}})  # type: ignore[arg-type]
        with self._hub_errors():
            try:
                groups = self.hub.aggregate(
                    child.collection,
                    {"countDistinct": ["id"]},  # not count(*): see _count
                    group_by=[child.parent_field],
                    filter=filter_,
                )
            except ForbiddenOrMissing:
                return {}
        out = {}
        for group in groups:
            value = group.get("countDistinct")
            value = value.get("id") if isinstance(value, dict) else value
            out[as_int(group[child.parent_field], "key")] = as_int(value or 0, "count")
        return out

    def list_children(self, name: str, key: Any, child_name: str, query: Mapping[str, Any]) -> Page:
        res = resource(name)
        child = res.child(child_name)
        if child is None:
            raise NotFound(f"{name} have no {child_name}")
        self.get_parent(res, key)
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 50))
        rows = self.children_rows(res, child, key, limit=per_page, offset=(page - 1) * per_page)
        if page == 1 and len(rows) < per_page:
            return Page(rows, page, per_page, len(rows))  # not full: it holds every row
        scope = self.scope_filter(res, child)
        total = self._count(child.collection, all_of(scope, {child.parent_field: {"_eq": key}}))  # type: ignore[arg-type]
        return Page(rows, page, per_page, total)

    def child_row(self, res: Resource, child: Child, key: Any) -> dict[str, Any]:
        """One child row by its own id (after a write), in the user's scope."""
        scope = self.scope_filter(res, child)
        rows = (
            []
            if scope is NOTHING
            else self._read(
                child.collection,
                all_of(scope, {"id": {"_eq": key}}),  # type: ignore[arg-type]
                fields=child.hub_fields,
                limit=1,
            )
        )
        if not rows:
            raise NotFound(f"no {child.name} {key}")
        return rows[0]

    def get_parent(self, res: Resource, key: Any) -> dict[str, Any]:
        row = self.visible(res, key)
        if row is None:
            self.record("denied", res.collection, [key], {"reason": "not visible"})
            raise NotFound(f"no {res.name} {key}")
        return row

    def summary(self, name: str, group_by: Sequence[str], query: Mapping[str, Any]) -> Page:
        """Weekly sums of units and money (per currency) in the user's scope, by the keys.

        Read from the weekly rollups (``pos_week_location`` / ``pos_week_distributor``),
        never the daily rows. Weeks are ISO weeks, whole: ``from``/``day_from`` keeps
        the weeks starting on or after it, ``to``/``day_to`` those ending on or before
        it. When the keys are the rollup's own grain the hub pages and counts; otherwise
        it sums the rollups by the keys.
        """
        res = resource(name)
        if not res.summary:
            raise NotFound(f"{name} have no summary")
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 50))
        keys = [k for k in ("distributor", "location", "sku") if k in group_by]
        by_week = "week" in group_by
        asked = _rollup_query(query)
        per_store = query.get("location") is not None or query.get("region") is not None
        whole, scoped = self.scope.rollup_parts()
        if per_store:  # a store or region asked for: only the per-store rollup answers
            whole, scoped = NOTHING, self.scope.rollup_filter(True)
        if whole is NOTHING and scoped is NOTHING:
            return Page([], page, per_page, 0)
        if by_week and "sku" in keys and "location" in keys:
            # The per-store rollup's own grain: the hub pages it in key order, and counts
            # it as whole distributors' stores plus the scoped stores they leave out.
            if not per_store:
                whole, scoped = self.scope.rollup_parts(by_location=True)
            everything = self.scope.rollup_filter(True)
            if everything is NOTHING:  # aggregated agreements share no store's weeks
                return Page([], page, per_page, 0)
            filter_ = all_of(everything, asked)  # type: ignore[arg-type]
            total = self._whole_stores(whole, asked) + self._count_in(
                "pos_week_location", scoped, asked
            )
            return self._rollup_page("pos_week_location", filter_, keys, page, per_page, total)
        if by_week and "sku" in keys and "distributor" in keys and scoped is NOTHING:
            filter_ = all_of(whole, asked)  # type: ignore[arg-type]
            total = self._count("pos_week_distributor", filter_)
            return self._rollup_page("pos_week_distributor", filter_, keys, page, per_page, total)
        if "location" in keys:  # the SKU x distributor rollup has no location
            whole, scoped = NOTHING, self.scope.rollup_filter(True)
        # Sums by the keys: whole distributors from their rollup, scoped stores from theirs.
        group_fields = [*keys, *(["week_start", "iso_week"] if by_week else []), "currency"]
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for collection, part in (("pos_week_distributor", whole), ("pos_week_location", scoped)):
            if part is NOTHING:
                continue
            for group in self._sum_groups(collection, all_of(part, asked), group_fields):  # type: ignore[arg-type]
                row = _summary_row(group, keys, by_week)
                key = tuple(row.get(k) for k in ("week_start", *keys, "currency"))
                if key in merged:
                    for total_field in ("units", "net_sales_minor", "rows"):
                        merged[key][total_field] += row[total_field]
                else:
                    merged[key] = row
        buckets = sorted(merged.values(), key=lambda r: tuple(
            str(r.get(k)) for k in ("week_start", *keys, "currency")
        ))  # fmt: skip
        start = (page - 1) * per_page
        return Page(buckets[start : start + per_page], page, per_page, len(buckets))

    def _count_in(self, collection: str, part: Filter | object, asked: Filter) -> int:
        return 0 if part is NOTHING else self._count(collection, all_of(part, asked))  # type: ignore[arg-type]

    def _whole_stores(self, whole: Filter | object, asked: Filter) -> int:
        """How many per-store rollup rows whole distributors have: the sum of their
        distributor rollups' ``locations`` (thousands of rows, not hundreds of
        thousands)."""
        if whole is NOTHING:
            return 0
        filter_ = all_of(whole, asked)  # type: ignore[arg-type]
        with self._hub_errors():
            try:
                rows = self.hub.aggregate(
                    "pos_week_distributor",
                    {"sum": ["locations"], "count": ["*"], "countDistinct": ["id"]},
                    filter=filter_ or None,
                )
            except ForbiddenOrMissing:
                return 0
        if not rows:
            return 0
        distinct = rows[0].get("countDistinct")
        distinct = distinct.get("id") if isinstance(distinct, dict) else distinct
        if as_int(rows[0].get("count") or 0, "count") != as_int(distinct or 0, "count"):
            # counted once per policy: count the per-store rows themselves
            return self._count("pos_week_location", filter_)
        sums = rows[0].get("sum") or {}
        return as_int(sums.get("locations") or 0, "locations")

    def _rollup_page(
        self,
        collection: str,
        filter_: Filter,
        keys: list[str],
        page: int,
        per_page: int,
        total: int,
    ) -> Page:
        """Rollup rows as they are, in primary-key order (distributor, SKU, week, location,
        currency): the hub walks its key index and stops at the page."""
        order = ["id"]
        with self._hub_errors():
            try:
                rows = self.hub.read_items(
                    collection,
                    filter=filter_ or None,
                    fields=[
                        *keys,
                        "week_start",
                        "iso_week",
                        "currency",
                        "units",
                        "net_sales_minor",
                        "days",
                    ],
                    sort=order,
                    limit=per_page,
                    offset=(page - 1) * per_page,
                )
            except ForbiddenOrMissing:
                return Page([], page, per_page, 0)
        out = [
            _summary_row(
                {**row, "units": row["units"], "net_sales_minor": row["net_sales_minor"],
                 "rows": row["days"]},
                keys,
                True,
            )
            for row in rows
        ]  # fmt: skip
        return Page(out, page, per_page, total)

    def _sum_groups(
        self, collection: str, filter_: Filter, group_fields: list[str]
    ) -> list[dict[str, Any]]:
        """A rollup's sums of units, money and daily rows per group (``days`` as ``rows``)."""
        groups = self._sums(collection, filter_, group_fields, ("units", "net_sales_minor", "days"))
        for group in groups:
            group["rows"] = group.pop("days")
        return groups

    def _sums(
        self,
        collection: str,
        filter_: Filter,
        group_fields: Sequence[str],
        sum_fields: Sequence[str],
    ) -> list[dict[str, Any]]:
        """Sums of integer fields per group, as integers, plus each group's ``count``.

        The hub's aggregate counts a row once per policy that lets the user read it
        (Directus 11.17.4), so each group's ``count(*)`` is checked against its
        ``countDistinct(id)``; if they differ, the sums are made here from the rows.
        """
        with self._hub_errors():
            try:
                groups = self.hub.aggregate(
                    collection,
                    {"sum": list(sum_fields), "count": ["*"], "countDistinct": ["id"]},
                    group_by=list(group_fields),
                    filter=filter_ or None,
                )
            except ForbiddenOrMissing:
                return []
        out = []
        for group in groups:
            sums = group.get("sum") or {}
            distinct = group.get("countDistinct")
            distinct = distinct.get("id") if isinstance(distinct, dict) else distinct
            count = as_int(group.get("count") or 0, "count")
            if count != as_int(distinct or 0, "count"):
                log.warning("hub aggregate counted rows twice on %s; summing rows", collection)
                return self._sum_rows(collection, filter_, group_fields, sum_fields)
            if count == 0 and not group_fields:
                return []
            out.append(
                {
                    **{k: group[k] for k in group_fields},
                    # A field with no value in the group sums to None, not 0.
                    **{f: None if sums.get(f) is None else as_int(sums[f], f) for f in sum_fields},
                    "count": count,
                }
            )
        return out

    def _sum_rows(
        self,
        collection: str,
        filter_: Filter,
        group_fields: Sequence[str],
        sum_fields: Sequence[str],
    ) -> list[dict[str, Any]]:
        sums: dict[tuple[Any, ...], dict[str, Any]] = {}
        with self._hub_errors():
            rows = self.hub.iter_items(
                collection,
                page_size=2000,
                filter=filter_ or None,
                fields=[*group_fields, "id", *sum_fields],
            )
            for row in rows:
                key = tuple(row[k] for k in group_fields)
                group = sums.setdefault(
                    key,
                    {**{k: row[k] for k in group_fields}, **dict.fromkeys(sum_fields),
                     "count": 0},
                )  # fmt: skip
                for f in sum_fields:
                    if row[f] is not None:
                        group[f] = (group[f] or 0) + as_int(row[f], f)
                group["count"] += 1
        return list(sums.values())

    # -- scoped aggregates for the pages ------------------------------------------------

    def sums(
        self, name: str, sum_fields: Sequence[str], group_by: Sequence[str], where: Filter
    ) -> list[dict[str, Any]]:
        """Sums of a resource's integer fields per group, over the rows in the user's
        scope that match ``where``; each group also has its row ``count``."""
        res = resource(name)
        scope = self.scope_filter(res)
        if scope is NOTHING:
            return []
        return self._sums(res.collection, all_of(scope, where), group_by, sum_fields)  # type: ignore[arg-type]

    def count(self, name: str, where: Filter) -> int:
        """How many of a resource's rows in the user's scope match ``where``."""
        res = resource(name)
        scope = self.scope_filter(res)
        if scope is NOTHING:
            return 0
        return self._count(res.collection, all_of(scope, where))  # type: ignore[arg-type]

    def rows(
        self,
        name: str,
        where: Filter,
        *,
        fields: Sequence[str] | None = None,
        sort: Sequence[str] = ("id",),
        limit: int = -1,
    ) -> list[dict[str, Any]]:
        """A resource's rows in the user's scope matching ``where`` (all of them unless
        ``limit``), for pages that need more than one list page, such as a chart."""
        res = resource(name)
        scope = self.scope_filter(res)
        if scope is NOTHING:
            return []
        return self._read(
            res.collection,
            all_of(scope, where),  # type: ignore[arg-type]
            fields=list(fields or res.hub_fields),
            sort=list(sort),
            limit=limit,
        )

    def feeds(self) -> list[dict[str, Any]]:
        """Freshness rows of the feeds the user may see: a distributor's own, or those of
        the user's partner distributors. The hub's policies scope them; so does this."""
        if self.role == DISTRIBUTOR_USER:
            mine: set[int] = {self.org} if self.org else set()
        else:
            mine = {p.distributor for p in self.scope.pairs.values()}
        if not mine:
            return []
        rows = self._read(
            "feeds",
            {"distributor": {"_in": sorted(mine)}},
            fields=[
                "id",
                "distributor",
                "kind",
                "data_through",
                "received_at",
                "stale_after_days",
                "cadence_days",
                "cadence_learned",
            ],
            sort=["distributor", "kind"],
            limit=-1,
        )
        return [r for r in rows if int(r["distributor"]) in mine]

    def latest(self, name: str, field: str, group_by: str, where: Filter) -> dict[Any, str]:
        """The greatest ``field`` (a date) per ``group_by`` value, in the user's scope."""
        res = resource(name)
        scope = self.scope_filter(res)
        if scope is NOTHING:
            return {}
        with self._hub_errors():
            try:
                groups = self.hub.aggregate(
                    res.collection,
                    {"max": [field]},
                    group_by=[group_by],
                    filter=all_of(scope, where) or None,  # type: ignore[arg-type]
                )
            except ForbiddenOrMissing:
                return {}
        out = {}
        for group in groups:
            value = (group.get("max") or {}).get(field)
            if value is not None and group.get(group_by) is not None:
                out[group[group_by]] = str(value)[:10]
        return out

    # -- writes -------------------------------------------------------------------------

    def write_for(self, name: str, action: str, child_name: str | None = None) -> Write:
        """The write this user's role may make, or 403 (audited) if none."""
        res = resource(name)
        if child_name is not None:
            child = res.child(child_name)
            if child is None:
                raise NotFound(f"{name} have no {child_name}")
            writes: Mapping[str, Write] = child.writes
            collection = child.collection
        else:
            writes = res.creates if action == "create" else res.updates
            collection = res.collection
        write = writes.get(self.role)
        if write is None:
            self.record("denied", collection, [], {"reason": f"role may not {action}"})
            raise Forbidden(f"a {self.role} may not {action} {child_name or name}")
        return write

    def create(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        write = self.write_for(name, "create")
        return self._handler(write)(self, resource(name), dict(data))

    def update(self, name: str, key: Any, data: Mapping[str, Any]) -> dict[str, Any]:
        write = self.write_for(name, "update")
        res = resource(name)
        current = self.get_parent(res, key)
        return self._handler(write)(self, res, current, dict(data))

    def create_child(
        self, name: str, key: Any, child_name: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        write = self.write_for(name, "create", child_name)
        res = resource(name)
        parent = self.get_parent(res, key)
        child = res.child(child_name)
        assert child is not None
        return self._handler(write)(self, res, child, parent, dict(data))

    @staticmethod
    def _handler(write: Write) -> Callable[..., dict[str, Any]]:
        return getattr(writes, write.handler)

    # -- helpers for the write handlers -------------------------------------------------

    def pair(self, pair_id: int, field: str = "partnership") -> Pair:
        """A partnership the user is a side of (or manages); 403 (audited) otherwise."""
        pair = self.scope.pairs.get(int(pair_id))
        if pair is None:
            self.deny("partnerships", [pair_id], field)
        assert pair is not None
        return pair

    def require(
        self, name: str, ids: Sequence[Any], field: str, where: Filter | None = None
    ) -> list[dict[str, Any]]:
        """The rows of ``name`` with these ids, all visible (and matching ``where``), or 403."""
        res = resource(name)
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        scope = self.scope_filter(res)
        found: list[dict[str, Any]] = []
        if scope is not NOTHING:
            found = self._read(
                res.collection,
                all_of(scope, where, {"id": {"_in": wanted}}),  # type: ignore[arg-type]
                fields=res.hub_fields,
                limit=-1,
            )
        have = {str(r["id"]) for r in found}
        missing = [i for i in wanted if str(i) not in have]
        if missing:
            self.deny(res.collection, missing, field)
        return found

    def deny(self, collection: str, ids: Sequence[Any], field: str) -> None:
        """Audit and refuse a request naming records the user may not use."""
        self.record("denied", collection, ids, {"field": field, "reason": "not yours or missing"})
        raise Forbidden(
            "the request names records that do not exist or are not yours",
            {field: [f"unknown or not yours: {', '.join(map(str, ids))}"]},
        )

    def record(
        self, action: str, collection: str, ids: Sequence[Any], detail: Mapping[str, Any]
    ) -> None:
        """Write an audit entry with the user's own token (the hub pins actor and org)."""
        try:
            audit.record(
                self.hub,
                action,
                collection,
                list(ids),
                detail={"role": self.role, **detail},
                via=self.via,
                actor=self.actor.id,
                organization=self.org,
            )
        except HubError as exc:
            log.exception("could not write the audit entry %s on %s %s", action, collection, ids)
            if action != "denied":
                raise HubFailed(f"{action} was written but its audit entry failed") from exc

    def write(self, fn: Callable[[], T], collection: str) -> T:
        """Run one hub write, mapping its failures (a refusal is audited)."""
        with self._hub_errors(writing=collection):
            return fn()


def _hub_field(exc: InvalidPayload) -> str:
    for error in exc.errors:
        field = (error.get("extensions") or {}).get("field")
        if field:
            return str(field)
    return "_schema"
