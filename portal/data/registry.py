"""The API's resources, declared as data: name, hub collection, schema, scope, filters,
children, and which role may write what (mirroring migrations/0003_governance.py).

One :class:`Resource` per URL (``/api/v1/<name>``). The data layer reads ``scope`` to add
the user's scope to every query; the API routes and the OpenAPI document are generated
from the same entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate
from werkzeug.routing import BaseConverter

from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.schemas import (
    business_plans,
    edi_messages,
    exceptions,
    forecasts,
    inventory_positions,
    invoices,
    locations,
    organizations,
    partnerships,
    pos_sales,
    promotions,
    purchase_orders,
    risks,
    scorecards,
    share_agreements,
    shipments,
    sku_codes,
    skus,
)
from portal.schemas.base import MAX_ID, PageQuerySchema


def numerals_up_to(limit: int) -> str:
    """A regular expression matching exactly the decimal numerals 1 to ``limit`` (no sign,
    no leading zero): each shorter length, then each digit below the limit's own at each
    place, then the limit itself."""
    digits = str(limit)
    places = len(digits)
    parts = [rf"[1-9]\d{{0,{places - 2}}}"] if places > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            parts.append(rf"{digits[:i]}[{low}-{int(digit) - 1}]\d{{{places - i - 1}}}")
    return "(?:" + "|".join([*parts, digits]) + ")"


class KeyConverter(BaseConverter):
    """``<key:key>``: an integer id from 1 to MAX_ID, matched by the path alone.

    Werkzeug's ``int(max=…)`` refuses a larger number only after it has matched the
    method, so a PATCH or POST to ``/promotions/2147483648`` answered 405 (naming GET in
    Allow, which answers 404 there). A path that holds no such id matches no route, for
    every method: 404.
    """

    regex = numerals_up_to(MAX_ID)
    part_isolating = True
    weight = 50  # as werkzeug's int: a static segment still wins

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


#: An integer key in a route: a larger one matches no route (404), never reaches the hub.
#: The app registers :class:`KeyConverter` as ``key`` before any blueprint.
INT_KEY = "/<key:key>"

MAX_PER_PAGE = 500


@dataclass(frozen=True)
class Filter:
    """A query parameter of a list: ``?<name>=value`` becomes ``{<field>: {<op>: value}}``."""

    name: str
    field: str
    op: str = "_eq"
    type: str = "int"  # int | str | date
    description: str = ""

    def marshmallow_field(self) -> fields.Field:
        words = {"_eq": "is", "_gte": "is on or after", "_lte": "is on or before"}
        meta = {"description": self.description or f"only rows whose {self.field} {words[self.op]}"}
        if self.type == "int":
            return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata=meta)
        if self.type == "date":
            return fields.Date(metadata=meta)
        return fields.String(validate=validate.Length(min=1, max=255), metadata=meta)


@dataclass(frozen=True)
class Write:
    """One write a role may make: its input schema (and view) and the data-layer handler."""

    schema: type[Schema]
    handler: str  # name of a function in portal.data.writes


@dataclass(frozen=True)
class Child:
    """Rows that belong to one parent row: ``/api/v1/<resource>/<id>/<name>``."""

    name: str
    collection: str
    parent_field: str
    schema: type[Schema]
    embed: bool = False  # also dumped inside the parent's detail
    writes: Mapping[str, Write] = field(default_factory=dict)  # role -> create

    @property
    def hub_fields(self) -> list[str]:
        return hub_fields(self.schema)


@dataclass(frozen=True)
class Resource:
    name: str
    collection: str
    schema: type[Schema]
    scope: str  # see portal.data.scope.Scope.filter_for
    title: str
    filters: tuple[Filter, ...] = ()
    sorts: tuple[str, ...] = ()
    key_type: str = "int"  # int | str
    children: tuple[Child, ...] = ()
    creates: Mapping[str, Write] = field(default_factory=dict)  # role -> write
    updates: Mapping[str, Write] = field(default_factory=dict)
    hide_drafts_from_supplier: bool = False
    summary: bool = False
    #: A natural key that orders the rows totally (text ids derived from it): the list's
    #: order unless it is sorted by ``id``, ties of a sort broken by the rest of it.
    order: tuple[str, ...] = ()

    @property
    def embedded(self) -> tuple[str, ...]:
        """Children dumped inside a single record (never in lists)."""
        return tuple(c.name for c in self.children if c.embed)

    @property
    def hub_fields(self) -> list[str]:
        return hub_fields(self.schema, exclude=set(self.embedded))

    def child(self, name: str) -> Child | None:
        return next((c for c in self.children if c.name == name), None)

    def query_schema(
        self, extra: Mapping[str, fields.Field] | None = None, suffix: str = "Query"
    ) -> type[Schema]:
        """The list's query parameters: paging, sort and this resource's filters."""
        attrs: dict[str, Any] = {f.name: f.marshmallow_field() for f in self.filters}
        sorts = ["id", "-id", *self.sorts, *(f"-{s}" for s in self.sorts)]
        attrs["sort"] = fields.String(
            validate=validate.OneOf(sorts),
            metadata={"description": self.sort_description()},
        )
        attrs.update(extra or {})
        return PageQuerySchema.from_dict(attrs, name=f"{camel(self.name)}{suffix}")

    def sort_description(self) -> str:
        if not self.order:
            return "sort field; `-` for descending; ties break on id"
        key = ", ".join(self.order)
        return f"sort field; `-` for descending; by default, and ties, by ({key})"

    def sort_for(self, asked: str | None) -> list[str]:
        """The total order of a list sorted by ``asked`` (None: the default): the asked
        field, then the natural key's other fields (ascending), or else ``id``."""
        sort = [asked] if asked else []
        if self.order and not (asked and asked.lstrip("-") == "id"):
            return [*sort, *(f for f in self.order if not sort or f != asked.lstrip("-"))]
        if not any(s.lstrip("-") == "id" for s in sort):
            sort.append("id")
        return sort

    def summary_query_schema(self) -> type[Schema]:
        """The summary's query parameters: the list's, plus ``group_by``, ``from``, ``to``."""
        return self.query_schema(
            {
                "group_by": pos_sales.group_by_field(),
                "from": fields.Date(
                    metadata={"description": "whole ISO weeks starting on or after"}
                ),
                "to": fields.Date(metadata={"description": "whole ISO weeks ending on or before"}),
            },
            "SummaryQuery",
        )


@dataclass(frozen=True)
class Route:
    """One API route: the Flask rule and the OpenAPI path are made from the same entry."""

    method: str
    action: str  # list | summary | create | read | update
    resource: Resource
    child: Child | None = None

    @property
    def endpoint(self) -> str:
        base = self.resource.name.replace("-", "_")
        return f"{base}_{self.child.name}_{self.action}" if self.child else f"{base}_{self.action}"

    @property
    def has_key(self) -> bool:
        return self.action in ("read", "update") or self.child is not None

    def path(self, openapi: bool = False) -> str:
        path = f"/{self.resource.name}"
        if self.has_key:
            if openapi:
                path += "/{key}"
            else:
                path += INT_KEY if self.resource.key_type == "int" else "/<string:key>"
        if self.child:
            path += f"/{self.child.name}"
        if self.action == "summary":
            path += "/summary"
        return path


def routes() -> list[Route]:
    """Every resource route of the API, in registration order."""
    table: list[Route] = []
    for res in RESOURCES.values():
        table.append(Route("GET", "list", res))
        if res.summary:
            table.append(Route("GET", "summary", res))
        if res.creates:
            table.append(Route("POST", "create", res))
        table.append(Route("GET", "read", res))
        if res.updates:
            table.append(Route("PATCH", "update", res))
        for child in res.children:
            table.append(Route("GET", "list", res, child))
            if child.writes:
                table.append(Route("POST", "create", res, child))
    return table


def hub_fields(schema: type[Schema], exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The hub fields a schema dumps: plain fields only, never embedded or computed ones."""
    names = []
    for name, f in schema._declared_fields.items():
        if name in exclude or isinstance(f, fields.Function | fields.Method):
            continue
        if isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            continue
        names.append(f.data_key or name)
    return names


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


PARTNERSHIP = Filter("partnership", "partnership", description="the supplier-distributor pair")
STATUS = Filter("status", "status", type="str")

_RESOURCES = [
    Resource(
        "organizations",
        "organizations",
        organizations.OrganizationSchema,
        "organizations",
        "Organizations: the user's own and its partners",
        filters=(Filter("kind", "kind", type="str"),),
        sorts=("name",),
    ),
    Resource(
        "partnerships",
        "partnerships",
        partnerships.PartnershipSchema,
        "partnerships",
        "Supplier-distributor pairs the user is a side of (or manages)",
        filters=(Filter("supplier", "supplier"), Filter("distributor", "distributor"), STATUS),
    ),
    Resource(
        "skus",
        "skus",
        skus.SkuSchema,
        "skus",
        "SKUs: a supplier's own, or its partner suppliers' for a distributor",
        filters=(
            Filter("supplier", "supplier"),
            Filter("gtin", "gtin", type="str"),
            STATUS,
        ),
        sorts=("gtin",),
    ),
    Resource(
        "sku-codes",
        "sku_codes",
        sku_codes.SkuCodeSchema,
        "sku_codes",
        "Distributors' own item codes for SKUs",
        filters=(Filter("sku", "sku"), Filter("distributor", "distributor")),
        key_type="str",
    ),
    Resource(
        "locations",
        "locations",
        locations.LocationSchema,
        "locations",
        "Stores and DCs: a distributor's own; for a supplier, those its orders ship to "
        "and those its agreements in force cover",
        filters=(
            Filter("distributor", "distributor"),
            Filter("region", "region", type="str"),
            Filter("kind", "kind", type="str"),
        ),
        sorts=("ref",),
    ),
    Resource(
        "pos-sales",
        "pos_sales",
        pos_sales.PosSaleSchema,
        "shared:pos",
        "Daily point of sale: a distributor's own; for a supplier, what agreements in "
        "force share (grantor, kinds, scope, dates, own SKUs)",
        filters=(
            Filter("distributor", "distributor"),
            Filter("sku", "sku"),
            Filter("location", "location"),
            Filter("region", "location.region", type="str", description="the location's region"),
            Filter("day_from", "day", "_gte", "date", "first day, inclusive"),
            Filter("day_to", "day", "_lte", "date", "last day, inclusive"),
        ),
        sorts=("day",),
        key_type="str",
        order=("day", "location", "sku", "distributor"),
        summary=True,
    ),
    Resource(
        "inventory-positions",
        "inventory_positions",
        inventory_positions.InventoryPositionSchema,
        "shared:inventory",
        "Daily inventory, scoped as POS is",
        filters=(
            Filter("distributor", "distributor"),
            Filter("sku", "sku"),
            Filter("location", "location"),
            Filter("day_from", "day", "_gte", "date", "first day, inclusive"),
            Filter("day_to", "day", "_lte", "date", "last day, inclusive"),
        ),
        sorts=("day",),
        key_type="str",
        order=("day", "location", "sku", "distributor"),
    ),
    Resource(
        "forecasts",
        "forecasts",
        forecasts.ForecastSchema,
        "shared:forecasts",
        "Weekly forecasts per SKU, location and week, scoped as POS is",
        filters=(
            Filter("distributor", "distributor"),
            Filter("sku", "sku"),
            Filter("location", "location"),
            Filter("week_from", "week_start", "_gte", "date", "first week start, inclusive"),
            Filter("week_to", "week_start", "_lte", "date", "last week start, inclusive"),
        ),
        sorts=("week_start",),
        key_type="str",
        order=("week_start", "location", "sku", "distributor"),
    ),
    Resource(
        "promotions",
        "promotions",
        promotions.PromotionSchema,
        "pair",
        "Promotions of the user's pairs (suppliers never see a distributor's drafts)",
        filters=(
            PARTNERSHIP,
            STATUS,
            Filter("starts_from", "start_date", "_gte", "date"),
            Filter("starts_to", "start_date", "_lte", "date"),
        ),
        sorts=("start_date",),
        children=(
            Child("skus", "promotion_skus", "promotion", promotions.PromotionSkuSchema, True),
            Child(
                "locations",
                "promotion_locations",
                "promotion",
                promotions.PromotionLocationSchema,
                True,
            ),
            Child("history", "promotion_events", "promotion", promotions.PromotionEventSchema),
        ),
        creates={DISTRIBUTOR_USER: Write(promotions.PromotionCreate, "create_promotion")},
        updates={
            DISTRIBUTOR_USER: Write(promotions.PromotionUpdate, "edit_promotion"),
            SUPPLIER_USER: Write(promotions.PromotionUpdate, "answer_promotion"),
        },
        hide_drafts_from_supplier=True,
    ),
    Resource(
        "purchase-orders",
        "purchase_orders",
        purchase_orders.PurchaseOrderSchema,
        "pair",
        "Purchase orders of the user's pairs, with their lines",
        filters=(
            PARTNERSHIP,
            STATUS,
            Filter("ordered_from", "ordered_on", "_gte", "date"),
            Filter("ordered_to", "ordered_on", "_lte", "date"),
        ),
        sorts=("ordered_on", "number"),
        children=(
            Child("lines", "po_lines", "purchase_order", purchase_orders.PoLineSchema, True),
        ),
        creates={
            DISTRIBUTOR_USER: Write(purchase_orders.PurchaseOrderCreate, "create_purchase_order")
        },
        updates={
            DISTRIBUTOR_USER: Write(purchase_orders.PurchaseOrderUpdate, "change_purchase_order"),
            SUPPLIER_USER: Write(purchase_orders.PurchaseOrderUpdate, "acknowledge_purchase_order"),
        },
    ),
    Resource(
        "shipments",
        "shipments",
        shipments.ShipmentSchema,
        "pair",
        "Advance ship notices of the user's pairs, with their lines",
        filters=(PARTNERSHIP, Filter("purchase_order", "purchase_order"), STATUS),
        sorts=("ship_date",),
        children=(
            Child("lines", "shipment_lines", "shipment", shipments.ShipmentLineSchema, True),
        ),
        creates={SUPPLIER_USER: Write(shipments.ShipmentCreate, "create_shipment")},
    ),
    Resource(
        "invoices",
        "invoices",
        invoices.InvoiceSchema,
        "pair",
        "Invoices of the user's pairs, with their lines",
        filters=(PARTNERSHIP, Filter("purchase_order", "purchase_order"), STATUS),
        sorts=("invoice_date",),
        children=(Child("lines", "invoice_lines", "invoice", invoices.InvoiceLineSchema, True),),
        creates={SUPPLIER_USER: Write(invoices.InvoiceCreate, "create_invoice")},
    ),
    Resource(
        "business-plans",
        "business_plans",
        business_plans.BusinessPlanSchema,
        "pair",
        "Joint business plans of the user's pairs",
        filters=(PARTNERSHIP, Filter("year", "year"), STATUS),
        sorts=("year",),
        children=(
            Child(
                "revisions",
                "plan_revisions",
                "plan",
                business_plans.PlanRevisionSchema,
                writes={
                    ACCOUNT_MANAGER: Write(business_plans.PlanRevisionCreate, "add_plan_child")
                },
            ),
            Child(
                "actions",
                "plan_actions",
                "plan",
                business_plans.PlanActionSchema,
                writes={ACCOUNT_MANAGER: Write(business_plans.PlanActionCreate, "add_plan_child")},
            ),
        ),
        creates={ACCOUNT_MANAGER: Write(business_plans.BusinessPlanCreate, "create_managed")},
        updates={ACCOUNT_MANAGER: Write(business_plans.BusinessPlanUpdate, "update_managed")},
    ),
    Resource(
        "plan-actions",
        "plan_actions",
        business_plans.PlanActionSchema,
        "pair",
        "The actions of the user's pairs' joint business plans; each side reports its own",
        filters=(
            PARTNERSHIP,
            Filter("plan", "plan"),
            STATUS,
            Filter("owner_side", "owner_side", type="str"),
        ),
        sorts=("due_date",),
        updates={
            ACCOUNT_MANAGER: Write(business_plans.PlanActionUpdate, "update_managed"),
            SUPPLIER_USER: Write(business_plans.PlanActionReport, "report_plan_action"),
            DISTRIBUTOR_USER: Write(business_plans.PlanActionReport, "report_plan_action"),
        },
    ),
    Resource(
        "commitments",
        "commitments",
        forecasts.CommitmentSchema,
        "pair",
        "The supplier's commitments per SKU x week, answering the pair's forecast",
        filters=(
            PARTNERSHIP,
            Filter("sku", "sku"),
            Filter("week_from", "week_start", "_gte", "date", "first week start, inclusive"),
            Filter("week_to", "week_start", "_lte", "date", "last week start, inclusive"),
        ),
        sorts=("week_start",),
        key_type="str",
        creates={SUPPLIER_USER: Write(forecasts.CommitmentCreate, "set_commitment")},
        updates={SUPPLIER_USER: Write(forecasts.CommitmentUpdate, "update_commitment")},
    ),
    Resource(
        "exception-criteria",
        "exception_criteria",
        exceptions.CriterionSchema,
        "pair",
        "The CPFR exception criteria each of the user's pairs agreed",
        filters=(PARTNERSHIP, Filter("metric", "metric", type="str")),
        sorts=("name",),
    ),
    Resource(
        "exceptions",
        "exceptions",
        exceptions.ExceptionSchema,
        "pair",
        "CPFR exceptions the pairs' criteria found, with what happened to each",
        filters=(
            PARTNERSHIP,
            STATUS,
            Filter("criterion", "criterion"),
            Filter("owner_side", "owner_side", type="str"),
            Filter("sku", "sku"),
        ),
        sorts=("opened_at", "due_at"),
        children=(
            Child(
                "events",
                "exception_events",
                "exception",
                exceptions.ExceptionEventSchema,
                True,
                writes={
                    role: Write(exceptions.ExceptionComment, "comment_on_exception")
                    for role in (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
                },
            ),
        ),
        updates={
            role: Write(exceptions.ExceptionMove, "move_exception")
            for role in (SUPPLIER_USER, DISTRIBUTOR_USER)
        },
    ),
    Resource(
        "notifications",
        "notifications",
        exceptions.NotificationSchema,
        "mine",
        "What the user has been told (an exception its side owns, an escalation), newest first",
        filters=(Filter("exception", "exception"), Filter("kind", "kind", type="str")),
        sorts=("created_at",),
        updates={
            role: Write(exceptions.NotificationRead, "mark_notification")
            for role in (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
        },
    ),
    Resource(
        "risks",
        "risks",
        risks.RiskSchema,
        "pair",
        "The risk register of the user's pairs",
        filters=(PARTNERSHIP, STATUS, Filter("category", "category", type="str")),
        sorts=("review_date",),
        creates={ACCOUNT_MANAGER: Write(risks.RiskCreate, "create_managed")},
        updates={ACCOUNT_MANAGER: Write(risks.RiskUpdate, "update_managed")},
    ),
    Resource(
        "scorecards",
        "scorecards",
        scorecards.ScorecardSchema,
        "pair",
        "Scorecards of the user's pairs, with their KPI values",
        filters=(
            PARTNERSHIP,
            Filter("period_from", "period_start", "_gte", "date"),
            Filter("period_to", "period_end", "_lte", "date"),
        ),
        sorts=("period_start",),
        children=(
            Child(
                "values",
                "scorecard_values",
                "scorecard",
                scorecards.ScorecardValueSchema,
                True,
                writes={
                    ACCOUNT_MANAGER: Write(scorecards.ScorecardValueCreate, "add_scorecard_value")
                },
            ),
        ),
        creates={ACCOUNT_MANAGER: Write(scorecards.ScorecardCreate, "create_managed")},
        updates={ACCOUNT_MANAGER: Write(scorecards.ScorecardUpdate, "update_managed")},
    ),
    Resource(
        "share-agreements",
        "share_agreements",
        share_agreements.ShareAgreementSchema,
        "agreements",
        "Data-sharing agreements the user's organization grants or receives",
        filters=(Filter("grantor", "grantor"), Filter("grantee", "grantee"), STATUS),
        sorts=("valid_from",),
    ),
    Resource(
        "edi-messages",
        "edi_messages",
        edi_messages.EdiMessageSchema,
        "edi",
        "EDI interchanges the user's organization sent or received",
        filters=(
            Filter("direction", "direction", type="str"),
            Filter("message_type", "message_type", type="str"),
            STATUS,
        ),
        sorts=("received_at",),
    ),
]

RESOURCES: dict[str, Resource] = {r.name: r for r in _RESOURCES}
BY_COLLECTION: dict[str, Resource] = {r.collection: r for r in _RESOURCES}
