"""The sell-through and inventory pages, and their Excel downloads: a supplier's (what
distributors share with it), a distributor's (its own stores, by supplier), and an account
manager's of a pair (``?pair=``), which read what the pair's supplier may of the pair's
distributor.

Views load the filters through :class:`InsightQuerySchema`, ask
:mod:`portal.data.insights` for the report (governed reads only), and render it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from domain import clock, kpis
from domain.ingest import minor_exponent
from domain.listing import natural_key
from domain.roles import ACCOUNT_MANAGER, DISTRIBUTOR_USER, SUPPLIER_USER
from portal.auth import role_required
from portal.charts import Point, Span, trend_svg
from portal.data import DataAccess, insights
from portal.pages import Choice, access, add_nav, answer_errors_as_pages, reports
from portal.schemas.insights import MAX_WEEKS, InsightQuerySchema, InventoryQuerySchema
from portal.xlsx import xlsx_response

bp = Blueprint("sellthrough", __name__)
answer_errors_as_pages(bp)


def _query() -> tuple[insights.InsightQuery, dict[str, list[str]]]:
    """The filters asked for, or the defaults plus the errors to show beside the form."""
    first, last = insights.default_range(clock.today())
    try:
        data = InsightQuerySchema().load(request.args.to_dict(flat=True))
        errors: dict[str, list[str]] = {}
    except ValidationError as exc:
        data = {}
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}  # type: ignore[assignment]
    data["first"] = data.get("first") or first
    data["last"] = data.get("last") or last
    data["pair"] = data.get("pair") or _default_pair()
    if data["first"] > data["last"]:
        data["first"] = data["last"] - dt.timedelta(days=7 * 13 - 1)
    if (data["last"] - data["first"]).days > 7 * MAX_WEEKS:  # one end given, far away
        errors.setdefault("from", []).append(f"choose at most {MAX_WEEKS} weeks")
        data["first"], data["last"] = first, last
    return insights.InsightQuery(**data), errors


def _valid_query() -> insights.InsightQuery:
    """The filters of a download: refused (422, by field) rather than defaulted."""
    q, errors = _query()
    if errors:
        raise ValidationError(errors)
    return q


def _stale_after() -> int:
    return current_app.extensions["tandem.config"].stale_after_days


def _filters(q: insights.InsightQuery) -> dict[str, Any]:
    """The filters both pages share, as their query strings name them."""
    return {
        "pair": q.pair,
        "distributor": q.distributor,
        "supplier": q.supplier,
        "sku": q.sku,
        "category": q.category,
        "region": q.region,
        "location": q.location,
        "lookback": q.lookback,
    }


def _params(q: insights.InsightQuery, **changes: Any) -> dict[str, Any]:
    """The query string of ``q`` with ``changes`` (None drops a filter)."""
    values = {
        **_filters(q),
        "from": q.first.isoformat(),
        "to": q.last.isoformat(),
        "grain": q.grain,
        **changes,
    }
    return {k: v for k, v in values.items() if v is not None}


def money(minor: int, currency: str) -> str:
    """Integer minor units as an exact amount: 123456, USD → "USD 1,234.56"."""
    places = minor_exponent(currency)
    amount = Decimal(minor).scaleb(-places)
    return f"{currency} {amount:,.{places}f}"


def pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def units(value: int | None, missing: str = "not shared") -> str:
    """A count of units, or why there is none: not shared with the viewer."""
    return missing if value is None else f"{value:,}"


def change(row: insights.Row, unit: str = "") -> str:
    """A row's change against the previous period: n/a when that period was not (wholly)
    shared, "new this period" when it sold nothing then (no rise from zero)."""
    if row.change is None:
        return "n/a"
    return "new this period" if row.new else f"{row.change:+,}{unit}"


def weeks(value: Decimal | None, stock: int | None = None, sales_shared: bool = True) -> str:
    """Weeks of supply; with none, "no sales" only if stock and every week's sales are
    known (weeks not shared are not weeks without sales)."""
    if value is None:
        return "no sales" if stock and sales_shared else "n/a"
    return f"{value:.1f}"


def choices(labels: Mapping[int, str]) -> list[tuple[str, list[Choice]]]:
    """A filter's SKUs or locations (id -> code and name) as the searchable picker's
    options, by name in natural order (S2 before S10)."""
    ordered = sorted(labels.items(), key=lambda item: natural_key(item[1]))
    return [("", [Choice(str(key), label) for key, label in ordered])]


def _default_pair() -> int | None:
    """The pair a manager's page shows when none is asked for, the first by name: a
    manager reads one pair at a time, each by its own agreements only. None for others."""
    pairs = _pairs()
    return min(pairs, key=lambda p: (pairs[p], p)) if pairs else None


def _pairs() -> dict[int, str]:
    """A manager's pairs, for the pair filter (partners choose the other side instead);
    read once per request."""
    if current_user.role != ACCOUNT_MANAGER:
        return {}
    if "tandem_pairs" not in g:
        g.tandem_pairs = insights.pair_labels(access(), reports())
    return g.tandem_pairs


@bp.get("/sell-through")
@role_required(SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
def page() -> str:
    q, errors = _query()
    acc = access(q.pair)
    report = insights.sell_through(acc, q, _stale_after(), reports())
    spans = [
        Span(p["name"], dt.date.fromisoformat(str(p["start_date"])[:10]),
             dt.date.fromisoformat(str(p["end_date"])[:10]), p["status"])
        for p in report.promotions
    ]  # fmt: skip
    chart = trend_svg(
        [Point(p.label, p.start, p.end, p.units, p.partial) for p in report.points],
        spans,
        title=f"Units sold per {q.grain}, {q.first} to {q.last}",
    )
    return render_template(
        "sellthrough/page.html",
        report=report,
        q=q,
        errors=errors,
        chart=chart,
        params=lambda **c: _params(q, **c),
        kpis=kpis,
        pairs=_pairs(),
    )


@bp.get("/sell-through.xlsx")
@role_required(SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
def export() -> Response:
    q = _valid_query()
    acc = access(q.pair)
    report = insights.sell_through(acc, q, _stale_after(), reports())
    level = "location" if q.level == "location" else "sku"
    rows = [
        {
            level: r.label,
            "supplier": report.sku_suppliers.get(r.key) if level == "sku" else None,
            "units": r.units,
            "previous_units": r.previous_units,
            "change": r.change,
            **{f"net_sales_{c}": Decimal(v).scaleb(-minor_exponent(c))
               for c, v in r.net_sales.items()},
            "store_on_hand": r.store_on_hand,
            "in_transit": r.in_transit,
            "dc_on_hand": r.dc_on_hand,
            "on_order": r.on_order,
            "wos_on_hand": r.wos,
            "wos_pipeline": r.wos_pipeline,
            "band": r.band.value if r.band else None,
            "sell_through_pct": r.sell_through,
            "in_stock_pct": r.in_stock_pct,
        }
        for r in report.rows
    ]  # fmt: skip
    currencies = sorted({c for r in report.rows for c in r.net_sales})
    by_supplier = current_user.role == DISTRIBUTOR_USER and level == "sku"
    columns = [
        (level, level.upper() if level == "sku" else "Location"),
        *([("supplier", "Supplier")] if by_supplier else []),
        ("units", f"Units {q.first}..{q.last}"),
        ("previous_units", "Units, previous period"),
        ("change", "Change"),
        *[(f"net_sales_{c}", f"Net sales ({c})") for c in currencies],
        ("store_on_hand", "Store on hand"),
        ("in_transit", "In transit"),
        ("dc_on_hand", "DC on hand"),
        ("on_order", "On order"),
        ("wos_on_hand", f"Weeks of supply, on hand ({q.lookback}-week lookback)"),
        ("wos_pipeline", "Weeks of supply, pipeline"),
        ("band", "Band"),
        ("sell_through_pct", "Sell-through % (sold / (sold + on hand))"),
        ("in_stock_pct", "In-stock %"),
    ]
    return xlsx_response(
        acc,
        filename=f"sell-through-{q.first}-{q.last}.xlsx",
        sheet="Sell-through",
        columns=columns,
        rows=rows,
        collection="pos_week_location",
        detail={"query": _params(q)},
    )


@bp.get("/sell-through/freshness.xlsx")
@role_required(SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
def freshness_export() -> Response:
    """The page's data-freshness table (the same distributor filter) as Excel."""
    q = _valid_query()
    acc = access(q.pair)
    feeds = insights.feeds_with_staleness(acc, _stale_after())
    names = insights.org_names(acc, reports())
    rows = [
        {
            "distributor": names.get(int(f["distributor"]), f"#{f['distributor']}"),
            "kind": f["kind"],
            "data_through": _date(f.get("data_through")),
            "received_at": _moment(f.get("received_at")),
            "stale": "stale" if f["stale"] else "fresh",
            "stale_after_days": f["stale_after_days"],
            "cadence_days": f["cadence"],
            "cadence_source": f["cadence_source"],
            "expected": f["expected"],
        }
        for f in feeds
        if not q.distributor or int(f["distributor"]) == q.distributor
    ]
    columns = [
        ("distributor", "Distributor"), ("kind", "Data"), ("data_through", "Data through"),
        ("received_at", "Received (UTC)"), ("stale", "Status"),
        ("stale_after_days", "Stale after (days)"), ("cadence_days", "Cadence (days)"),
        ("cadence_source", "Cadence from"), ("expected", "Expected next data"),
    ]  # fmt: skip
    return xlsx_response(
        acc,
        filename=f"data-freshness-{clock.today().isoformat()}.xlsx",
        sheet="Data freshness",
        columns=columns,
        rows=rows,
        collection="feeds",
        detail={"query": _params(q)},
    )


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def _moment(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


#: Lines of the inventory table a page (the counts and the download cover them all).
STOCK_PER_PAGE = 50
STOCK_CHOICES = ("snapshot", "band", "sort", "order", "page")


#: The inventory page's choices when none is made, left out of its links.
STOCK_DEFAULTS = InventoryQuerySchema(exclude=("first", "last", "grain")).load({})


def _stock_query() -> tuple[insights.InsightQuery, dict[str, Any], dict[str, list[str]]]:
    """The inventory page's filters: the shared ones but the range (it is a snapshot
    page), and its own choices (snapshot, band, sort, order, page); with the errors to
    show beside the form, the valid ones kept."""
    schema = InventoryQuerySchema(exclude=("first", "last", "grain"))
    try:
        data = schema.load(request.args.to_dict(flat=True))
        errors: dict[str, list[str]] = {}
    except ValidationError as exc:
        data = {**schema.load({}), **(exc.valid_data if isinstance(exc.valid_data, dict) else {})}
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}  # type: ignore[assignment]
    choices = {k: data.pop(k) for k in STOCK_CHOICES}
    data["first"], data["last"] = insights.default_range(clock.today())
    data["pair"] = data.get("pair") or _default_pair()
    return insights.InsightQuery(**data), choices, errors


def _stock_params(
    q: insights.InsightQuery, choices: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    """The inventory page's query string with ``changes`` (None drops one); a change
    of filter or sort starts again at page 1."""
    values = {
        **_filters(q),
        **choices,
        "page": None,
        **changes,
    }
    if values.get("snapshot") is not None:
        values["snapshot"] = str(values["snapshot"])
    return {k: v for k, v in values.items() if v is not None and STOCK_DEFAULTS.get(k) != v}


def _stock_report(
    q: insights.InsightQuery, choices: dict[str, Any]
) -> tuple[DataAccess, insights.StockReport]:
    """The report at the snapshot asked for, or at the latest (each distributor's own)."""
    acc = access(q.pair)
    snapshot = choices["snapshot"] or clock.today()
    return acc, insights.inventory(acc, q, reports(), snapshot=snapshot)


@bp.get("/inventory")
@role_required(SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
def inventory() -> str:
    q, choices, errors = _stock_query()
    _, report = _stock_report(q, choices)
    shown = insights.stock_page(
        report, choices["sort"], choices["order"] == "desc", choices["band"], choices["page"],
        STOCK_PER_PAGE,
    )  # fmt: skip
    return render_template(
        "sellthrough/inventory.html",
        report=report,
        shown=shown,
        q=q,
        choices=choices,
        errors=errors,
        params=lambda **c: _stock_params(q, choices, **c),
        kpis=kpis,
        pairs=_pairs(),
    )


@bp.get("/inventory.xlsx")
@role_required(SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER)
def inventory_export() -> Response:
    """The inventory table as Excel: every line of the band asked for (not one page), in
    the page's order."""
    q, choices, errors = _stock_query()
    if errors:
        raise ValidationError(errors)
    acc, report = _stock_report(q, choices)
    lines = insights.stock_page(
        report, choices["sort"], choices["order"] == "desc", choices["band"], 1,
        max(1, len(report.rows)),
    ).items  # fmt: skip
    drill = q.location is not None
    rows = [
        {
            "line": r.label, "kind": r.kind, "region": r.region,
            "distributor": r.distributor, "on_hand": r.on_hand, "in_transit": r.in_transit,
            "on_order": r.on_order, "weekly_units": r.weekly_units, "wos": r.wos,
            "band": r.band.value if r.band else None,
        }
        for r in lines
    ]  # fmt: skip
    columns = [
        ("line", "SKU" if drill else "Location"), ("kind", "Kind"), ("region", "Region"),
        ("distributor", "Distributor"), ("on_hand", "On hand"), ("in_transit", "In transit"),
        ("on_order", "On order"), ("weekly_units", f"Avg weekly units ({q.lookback} weeks)"),
        ("wos", "Weeks of supply"), ("band", "Band"),
    ]  # fmt: skip
    return xlsx_response(
        acc,
        filename=f"inventory-{report.snapshot or clock.today()}.xlsx",
        sheet="Inventory",
        columns=columns,
        rows=rows,
        collection="inventory_positions",
        detail={"query": _stock_params(q, choices)},
    )


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> tuple[str, int]:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return render_template(
        "error.html", status=422, title="Invalid filters",
        message="These filters are not valid.", errors=messages,
    ), 422  # fmt: skip


def init_app(app: Flask) -> None:
    config = app.extensions["tandem.config"]
    app.extensions["tandem.reports"] = insights.ReportCache(config.report_cache_s)
    app.register_blueprint(bp)
    app.add_template_filter(money, "money")
    app.add_template_filter(pct, "pct")
    app.add_template_filter(weeks, "weeks")
    app.add_template_filter(units, "units")
    app.add_template_filter(change, "change")
    app.add_template_filter(choices, "choices")
    add_nav(
        app,
        "Sell-through",
        "sellthrough.page",
        (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER),
        10,
    )
    add_nav(
        app,
        "Inventory",
        "sellthrough.inventory",
        (SUPPLIER_USER, DISTRIBUTOR_USER, ACCOUNT_MANAGER),
        15,
    )
