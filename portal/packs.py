"""The quarterly business review pack as files: an Excel workbook with native charts, a
printable HTML page, and that page as a PDF.

The portal's pages and the CLI both build a :class:`portal.data.reviews.Pack` as the
user reads it, then call these. The HTML is rendered from ``templates/reviews/pack.html``
by a Jinja environment of its own (no request, no ``url_for``), so the CLI renders the
same page; the PDF is WeasyPrint's layout of it, honouring its print CSS (A4 landscape,
a page per section).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

import jinja2
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain import risks
from domain import scorecard as sc
from portal.charts import heat_map_svg, lines_svg
from portal.data.reviews import Pack
from portal.xlsx import FORMULA_START

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The KPIs the first trend chart draws (percentages), and the second (days).
TREND_CHART = ("otif.order.promised", "otif.unit.promised", "fill.unit", "perfect_order",
               "ack.24h", "asn.timely")  # fmt: skip
LEAD_CHART = ("lead_time.mean", "lead_time.sigma")
BAND_FILLS = {"low": "C8E6C9", "medium": "FFF59D", "high": "FFCC80", "critical": "EF9A9A"}
BOLD = Font(bold=True)
SOURCES = (
    "Definitions and their sources: ../shared/notes/kpis.md (McKinsey on OTIF variants; "
    "SupplyPike on Walmart's arrival window; SCOR RL.1.1 perfect order; RightChain on fill "
    "rate; VICS/NACDS on joint business plans)."
)


def filename(pack: Pack, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in pack.label).strip("-")
    return f"review-{safe}-{pack.quarter.label}.{suffix}"


def _unit(unit: str) -> str:
    return {"%": "%", "days": "days", "weeks": "weeks", "hours": "hours"}.get(unit, "")


def _append(ws: Worksheet, values: Sequence[object]) -> None:
    """A row, every text kept as text: openpyxl stores a string starting with ``=`` as a
    formula, and the pack holds text another party wrote (promotion names, actions,
    risks), which must never run in the reader's Excel."""
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
            cell.data_type = "s"


def _headers(ws: Worksheet, row: int, names: Sequence[str]) -> None:
    for col, name in enumerate(names, start=1):
        cell = ws.cell(row=row, column=col, value=name)
        cell.font = BOLD


def _widths(ws: Worksheet, widths: Sequence[int]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def workbook(pack: Pack) -> bytes:
    """The pack as an .xlsx: summary, KPI trends with native line charts, targets against
    actuals, plan actions, risks with the heat map as a table, promotions, definitions.
    Figures are exact decimals written as numbers (never floats); an empty cell is "no
    data"."""
    wb = Workbook()
    _summary(wb.active, pack)
    _trends(wb.create_sheet("KPI trends"), pack)
    _targets(wb.create_sheet("Targets vs actuals"), pack)
    _actions(wb.create_sheet("JBP actions"), pack)
    _risks(wb.create_sheet("Risks"), pack)
    _promotions(wb.create_sheet("Promotions"), pack)
    _escalations(wb.create_sheet("Escalations"), pack)
    _definitions(wb.create_sheet("Definitions"), pack)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _summary(ws: Worksheet, pack: Pack) -> None:
    ws.title = "Summary"
    ws["A1"] = f"Quarterly business review: {pack.label}"
    ws["A1"].font = Font(bold=True, size=14)
    _append(ws, ["Quarter", pack.quarter.label])
    _append(ws, ["Period", f"{pack.quarter.start.isoformat()} to {pack.quarter.end.isoformat()}"])
    _append(ws, ["Generated", f"{pack.generated_at:%Y-%m-%d %H:%M} UTC by {pack.generated_by}"])
    _append(ws, ["Headline OTIF", sc.KPI_NAMES[pack.settings.headline_otif]])
    _append(ws, [])
    _headers(ws, ws.max_row + 1, ["KPI", "Actual", "Target", "Unit", "Against target"])
    for cell in pack.cells:
        if cell.kpi not in sc.headline(pack.settings):
            continue
        _append(ws, [cell.name, cell.value, cell.target, _unit(cell.unit), _verdict(cell.off)])
    _append(ws, [])
    open_risks = [r for r in pack.register.rows if r["status"] in risks.OPEN]
    _append(ws, ["Open risks", len(open_risks)])
    _append(ws, ["Risk reviews overdue", pack.register.overdue])
    done = sum(1 for a in pack.actions if a["status"] == "done")
    _append(ws, ["Plan actions done", f"{done} of {len(pack.actions)}"])
    _append(ws, ["Promotions in the quarter", len(pack.promotions)])
    _widths(ws, (34, 16, 12, 8, 16))


def _verdict(off: bool | None) -> str:
    return "" if off is None else "misses" if off else "meets"


def _trends(ws: Worksheet, pack: Pack) -> None:
    _headers(ws, 1, ["KPI", *(q.label for q in pack.quarters), "Unit"])
    for _kpi, name, unit, values in pack.trends:
        _append(ws, [name, *values, _unit(unit)])
    _widths(ws, (36, *([12] * len(pack.quarters)), 8))
    rows = {kpi: i + 2 for i, (kpi, *_rest) in enumerate(pack.trends)}
    last = 1 + len(pack.quarters)
    for title, kpis, anchor, axis in (
        ("Delivery KPIs by quarter (%)", TREND_CHART, "A24", "%"),
        ("Lead time by quarter (days)", LEAD_CHART, "A42", "days"),
    ):
        chart = LineChart()
        chart.title, chart.y_axis.title, chart.x_axis.title = title, axis, "Quarter"
        chart.height, chart.width = 8, 22
        for kpi in kpis:
            row = rows[kpi]
            series = Reference(ws, min_col=1, max_col=last, min_row=row, max_row=row)
            chart.add_data(series, from_rows=True, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, max_col=last, min_row=1, max_row=1))
        ws.add_chart(chart, anchor)


def _targets(ws: Worksheet, pack: Pack) -> None:
    _headers(ws, 1, ["KPI", "Target", "Actual", "Unit", "Difference", "Against target"])
    for cell in pack.cells:
        if cell.target is None:
            continue
        diff = None if cell.value is None else cell.value - cell.target
        _append(
            ws, [cell.name, cell.target, cell.value, _unit(cell.unit), diff, _verdict(cell.off)]
        )
    for name, value in pack.other_targets.items():
        _append(ws, [name, value, None, "", None, "not on the scorecard"])
    if ws.max_row == 1:
        _append(ws, ["No plan targets for this year."])
    _widths(ws, (36, 10, 10, 8, 12, 20))


def _actions(ws: Worksheet, pack: Pack) -> None:
    _headers(ws, 1, ["Action", "Owner side", "Due", "Status", "Completed", "On time"])
    for a in pack.actions:
        due, done = (a.get("due_date") or "")[:10], (a.get("completed_on") or "")[:10]
        on_time = "" if a["status"] != "done" else "yes" if done and due and done <= due else "no"
        _append(ws, [a["title"], a["owner_side"], due, a["status"], done, on_time])
    _widths(ws, (44, 12, 12, 10, 12, 9))


def _risks(ws: Worksheet, pack: Pack) -> None:
    _headers(ws, 1, ["Risk", "Category", "Likelihood", "Impact", "Score", "Band", "Mitigation",
                     "Review", "Review overdue", "Status"])  # fmt: skip
    for r in pack.register.rows:
        _append(ws, [r["title"], r.get("category") or "", r["likelihood"], r["impact"], r["score"],
                   r["band"], r.get("mitigation") or "", (r.get("review_date") or "")[:10],
                   "yes" if r["overdue"] else "", r["status"]])  # fmt: skip
        ws.cell(row=ws.max_row, column=6).fill = _fill(r["band"])
    top = ws.max_row + 3
    ws.cell(row=top - 1, column=1, value="Heat map: open risks by impact (rows) and likelihood")
    ws.cell(row=top - 1, column=1).font = BOLD
    ws.cell(row=top, column=1, value="impact \\ likelihood").font = BOLD
    for lk in risks.SCALE:
        ws.cell(row=top, column=1 + lk, value=lk).font = BOLD
    for i, im in enumerate(reversed(risks.SCALE), start=1):
        ws.cell(row=top + i, column=1, value=im).font = BOLD
        for lk in risks.SCALE:
            cell = ws.cell(row=top + i, column=1 + lk, value=pack.register.heat.get((lk, im), 0))
            cell.fill = _fill(risks.band(risks.score(lk, im)))
            cell.alignment = Alignment(horizontal="center")
    _widths(ws, (30, 12, 10, 8, 7, 9, 40, 11, 14, 11))


def _fill(band: str) -> PatternFill:
    return PatternFill("solid", start_color=BAND_FILLS[band], end_color=BAND_FILLS[band])


def _promotions(ws: Worksheet, pack: Pack) -> None:
    _headers(ws, 1, ["Promotion", "Type", "Start", "End", "SKUs", "Stores", "Planned uplift %",
                     "Baseline units/week", "Units/week during", "Actual uplift %",
                     "Against plan (points)"])  # fmt: skip
    for p in pack.promotions:
        row = p.row
        _append(ws, [row["name"], row.get("type") or "", str(row["start_date"])[:10],
                   str(row["end_date"])[:10], p.skus, p.locations or "all stores",
                   row.get("expected_uplift_pct"), p.lift.baseline, p.lift.during, p.lift.pct,
                   p.not_shared or p.lift.vs_plan])  # fmt: skip
    _append(ws, [])
    _append(ws, [f"Uplift: {sc.UPLIFT_VARIANT}; from the POS shared with the reader."])
    _widths(ws, (34, 9, 11, 11, 6, 7, 14, 18, 16, 14, 18))


def _escalations(ws: Worksheet, pack: Pack) -> None:
    _headers(ws, 1, ["Exception", "About", "Owner side", "Value", "Opened", "Due", "Level",
                     "Escalated", "Status", "Hours to close"])  # fmt: skip
    for e in pack.escalations:
        when = [str(e[k])[:16] for k in ("opened_at", "due_at")]
        _append(ws, [e["criterion_name"], e["subject"], e["owner_side"], e["value"], *when,
                   e["level"], str(e["escalated_at"])[:16], e["status"],
                   e.get("hours_to_close") or ""])  # fmt: skip
    if ws.max_row == 1:
        _append(ws, ["No exception was escalated in this quarter."])
    _widths(ws, (28, 26, 11, 9, 17, 17, 6, 17, 12, 13))


def _definitions(ws: Worksheet, pack: Pack) -> None:
    _headers(ws, 1, ["KPI", "Name", "Definition (the variant computed)"])
    for kpi, name, variant in pack.definitions:
        _append(ws, [kpi, name, variant])
    _append(ws, ["promotion uplift", "Promotion uplift", sc.UPLIFT_VARIANT])
    _append(ws, [])
    _append(ws, [SOURCES])
    _widths(ws, (22, 34, 110))


# -- the printable page and its PDF -------------------------------------------------------

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("portal", "templates"),
    autoescape=jinja2.select_autoescape(("html",)),
    undefined=jinja2.StrictUndefined,
)


def html(pack: Pack, *, printing: bool = False) -> str:
    """The pack as one self-contained HTML page (its CSS inline, its charts SVG)."""
    charts = {
        "delivery": lines_svg(
            [q.label for q in pack.quarters],
            {name: values for kpi, name, _, values in pack.trends if kpi in TREND_CHART},
            title="Delivery KPIs by quarter (%)",
            top_value=Decimal(100),
        ),
        "lead": lines_svg(
            [q.label for q in pack.quarters],
            {name: values for kpi, name, _, values in pack.trends if kpi in LEAD_CHART},
            title="Lead time by quarter (days)",
        ),
        "heat": heat_map_svg(pack.register.heat, title="Open risks by likelihood and impact"),
    }
    template = _ENV.get_template("reviews/pack.html")
    return template.render(pack=pack, charts=charts, printing=printing, sources=SOURCES,
                           uplift_variant=sc.UPLIFT_VARIANT, headline=sc.headline(pack.settings),
                           open_states=risks.OPEN, verdict=_verdict, unit=_unit)  # fmt: skip


def pdf(page: str) -> bytes:
    """The printable page laid out as a PDF by WeasyPrint."""
    import weasyprint  # deferred: Pango is loaded only when a PDF is asked for

    return bytes(weasyprint.HTML(string=page).write_pdf())
