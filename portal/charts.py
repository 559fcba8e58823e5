"""Charts drawn on the server as SVG: no script, no CDN, nothing to download.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` for screen
readers; the page shows the same figures in a table beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from markupsafe import Markup

from domain import risks


@dataclass(frozen=True)
class Point:
    label: str  # shown under the axis (a week's Monday, or a month)
    start: dt.date  # the first day the point covers
    end: dt.date  # the last day it covers
    value: int | None  # None: not shared with the viewer (no line is drawn through it)
    partial: bool = False  # the value is of the shared part only


def _said(p: Point) -> str:
    """A point's value in words."""
    if p.value is None:
        return "not shared"
    return f"{_fmt(p.value)} units" + (" (part not shared)" if p.partial else "")


@dataclass(frozen=True)
class Span:
    """A period marked on the chart: a promotion."""

    label: str
    start: dt.date
    end: dt.date
    status: str


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (an axis maximum)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _fmt(value: int) -> str:
    return f"{value:,}"


#: A promotion label's font size (svg.chart in portal.css), the width allowed per
#: character (generous: wide capitals too), and the height of a lane of labels.
LABEL_FONT = 11
LABEL_CHAR = 0.62 * LABEL_FONT
LANE = 14
MAX_LANES = 6
_GAP = 6  # between two labels on one lane
_LABEL_CHARS = 28


def _band(points: Sequence[Point], span: Span) -> tuple[float, float] | None:
    """Where a span is shaded, in points: from (the first point's index plus the share of
    its weeks before the span's first week) to the same past its last week.

    A point of one week (week grain) is shaded whole if the span runs on any of its days;
    a month's point is split into its weeks, so a promotion of two weeks shades two of a
    month's four or five, not the month.
    """
    touched = [i for i, p in enumerate(points) if p.start <= span.end and span.start <= p.end]
    if not touched:
        return None
    head, tail = points[touched[0]], points[touched[-1]]
    head_weeks, tail_weeks = _weeks_in(head), _weeks_in(tail)
    first = max(0, (span.start - head.start).days // 7)
    last = min(tail_weeks - 1, (span.end - tail.start).days // 7)
    return touched[0] + first / head_weeks, touched[-1] + (last + 1) / tail_weeks


def _weeks_in(p: Point) -> int:
    return max(1, ((p.end - p.start).days + 1) // 7)


def label_width(text: str) -> float:
    """The width a promotion label may take on the chart."""
    return len(text) * LABEL_CHAR


def _short(name: str, chars: int) -> str:
    """The name in at most ``chars`` characters ("…" for the cut); none under four."""
    if len(name) <= chars:
        return name
    return name[: chars - 1] + "\N{HORIZONTAL ELLIPSIS}" if chars >= 4 else ""


def _labels(
    wanted: Sequence[tuple[str, float, float]], *, right: float
) -> list[tuple[str, float, int]]:
    """(text, x, lane) for each span's label, given as (name, x where its shading starts,
    x where it ends) in the spans' order.

    Each label goes on the first lane where it clears the labels before it, so two
    overlapping promotions' labels sit on different rows. With every lane taken, a label
    is cut to the room left on the lane that frees first, starting inside its own
    shading, or left out (its shading keeps its title; the page lists it).
    """
    placed: list[tuple[str, float, int]] = [("", 0.0, 0)] * len(wanted)
    ends: list[float] = []  # per lane, where its last label ends
    for k in sorted(range(len(wanted)), key=lambda k: wanted[k][1]):
        name, x0, x1 = wanted[k]
        text = _short(name, _LABEL_CHARS)
        x = min(x0 + 3, right - label_width(text))
        lane = next((i for i, end in enumerate(ends) if end + _GAP <= x), None)
        if lane is None and len(ends) < MAX_LANES:
            lane = len(ends)
            ends.append(x)
        if lane is None:
            lane = min(range(len(ends)), key=ends.__getitem__)
            x = max(x0 + 3, ends[lane] + _GAP)
            room = min(_LABEL_CHARS, int((right - x) // LABEL_CHAR))
            text = _short(name, room) if x < x1 - 3 else ""
        if text:
            ends[lane] = x + label_width(text)
        placed[k] = (text, x, lane)
    return placed


def trend_svg(
    points: Sequence[Point],
    spans: Sequence[Span] = (),
    *,
    title: str,
    width: int = 880,
    height: int = 280,
) -> Markup:
    """A line of ``points`` with each span shaded behind it and labelled."""
    left, right, top, bottom = 64, 16, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_ceiling(max((p.value or 0 for p in points), default=0))
    n = len(points)

    def x(i: float) -> float:
        return left + (plot_w * (i + 0.5) / n if n else 0)

    def y(value: int) -> float:
        return top + plot_h - plot_h * max(value, 0) / peak

    desc = ", ".join(f"{p.label}: {_said(p)}" for p in points) or "no data"
    if spans:
        desc += ". Promotions: " + "; ".join(
            f"{s.label} ({s.status}) {s.start.isoformat()} to {s.end.isoformat()}" for s in spans
        )
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        'preserveAspectRatio="xMidYMid meet" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
    ]
    for k in range(5):  # gridlines and the value axis
        value = peak * k // 4
        gy = y(value)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{_fmt(value)}</text>"
        )
    shaded = [(s, b) for s in spans if (b := _band(points, s))]
    labels = _labels([(s.label, x(b[0] - 0.5), x(b[1] - 0.5)) for s, b in shaded],
                     right=width - right)  # fmt: skip
    for (span, (first, last)), (label, lx, lane) in zip(shaded, labels, strict=True):
        x0, x1 = x(first - 0.5), x(last - 0.5)
        parts.append(
            f'<g class="promo promo-{escape(span.status)}">'
            f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{plot_h}">'
            f"<title>{escape(span.label)}: {span.start} to {span.end} "
            f"({escape(span.status)})</title></rect>"
        )
        if label:
            parts.append(
                f'<text class="promo-label" x="{lx:.1f}" y="{top + 12 + LANE * lane}">'
                f"{escape(label)}</text>"
            )
        parts.append("</g>")
    if points:
        # A point not shared breaks the line: drawing it at 0 would say nothing sold.
        path = " ".join(
            f"{'L' if i and points[i - 1].value is not None else 'M'}{x(i):.1f},{y(p.value):.1f}"
            for i, p in enumerate(points)
            if p.value is not None
        )
        if path:
            parts.append(f'<path class="line" d="{path}"/>')
        for i, p in enumerate(points):
            if p.value is None:
                continue
            parts.append(
                f'<circle class="dot" cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="3">'
                f"<title>{escape(p.label)}: {escape(_said(p))}</title></circle>"
            )
        every = max(1, -(-n // 7))  # at most 7 labels, so they never overlap
        for i, p in enumerate(points):
            if i % every == 0:
                parts.append(
                    f'<text class="axis" x="{x(i):.1f}" y="{height - bottom + 16}" '
                    f'text-anchor="middle">{escape(p.label)}</text>'
                )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def heat_map_svg(counts: Mapping[tuple[int, int], int], *, title: str, size: int = 320) -> Markup:
    """The risk heat map: likelihood 1-5 across, impact 1-5 upwards, each cell shaded by
    its score's band and showing how many risks sit in it."""
    left, top, bottom = 56, 12, 44
    cell = (size - left - 8) // 5
    height = top + 5 * cell + bottom
    said = ", ".join(f"likelihood {lk} impact {im}: {n}"
                     for (lk, im), n in sorted(counts.items()) if n) or "no open risks"  # fmt: skip
    parts = [
        f'<svg class="chart heat-map" role="img" viewBox="0 0 {size} {height}" width="{size}" '
        'aria-labelledby="heat-title heat-desc">',
        f'<title id="heat-title">{escape(title)}</title>',
        f'<desc id="heat-desc">{escape(said)}</desc>',
    ]
    for lk in risks.SCALE:
        for im in risks.SCALE:
            x, y = left + (lk - 1) * cell, top + (5 - im) * cell
            n = counts.get((lk, im), 0)
            band = risks.band(risks.score(lk, im))
            parts.append(
                f'<g class="heat heat-{band}"><rect x="{x}" y="{y}" width="{cell}" '
                f'height="{cell}"><title>likelihood {lk} times impact {im} = '
                f"{lk * im} ({band}): {n}</title></rect>"
                + (
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 5:.1f}" '
                    f'text-anchor="middle">{n}</text>'
                    if n
                    else ""
                )
                + "</g>"
            )
    for k in risks.SCALE:
        parts.append(
            f'<text class="axis" x="{left + (k - 0.5) * cell:.1f}" y="{top + 5 * cell + 16}" '
            f'text-anchor="middle">{k}</text>'
            f'<text class="axis" x="{left - 8}" y="{top + (5.5 - k) * cell + 4:.1f}" '
            f'text-anchor="end">{k}</text>'
        )
    parts.append(
        f'<text class="axis" x="{left + 2.5 * cell:.1f}" y="{height - 6}" '
        'text-anchor="middle">likelihood</text>'
        f'<text class="axis" x="12" y="{top + 2.5 * cell:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + 2.5 * cell:.1f})">impact</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def lines_svg(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Decimal | None]],
    *,
    title: str,
    top_value: Decimal | None = None,
    width: int = 720,
    height: int = 240,
) -> Markup:
    """A line per series over the same labels (quarters), with a legend; a missing value
    breaks its line rather than drawing a 0. The scale runs from 0 to ``top_value`` (100
    for percentages), or to a round number above the largest value."""
    left, right, top, bottom = 48, 180, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    present = [v for values in series.values() for v in values if v is not None]
    low = min([Decimal(0), *present])
    high = max([top_value or Decimal(_nice_ceiling(int(max(present, default=0)) + 1)), *present])
    n = len(labels)

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / max(n, 1)

    def y(value: Decimal) -> float:
        return top + plot_h - plot_h * float((value - low) / (high - low))

    desc = "; ".join(
        f"{name}: " + ", ".join(f"{lb} {v if v is not None else 'no data'}"
                                for lb, v in zip(labels, values, strict=True))
        for name, values in series.items()
    ) or "no data"  # fmt: skip
    parts = [
        f'<svg class="chart lines" role="img" viewBox="0 0 {width} {height}" width="100%" '
        'preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<text class="axis" x="{left}" y="{top - 8}">{escape(title)}</text>',
    ]
    if not present:
        parts.append(
            f'<text class="axis" x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            'text-anchor="middle">no data in these quarters</text></svg>'
        )
        return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
    for k in range(5):
        value = low + (high - low) * k / 4
        gy = y(value)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{value:.0f}</text>"
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text class="axis" x="{x(i):.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for s, (name, values) in enumerate(series.items()):
        path = " ".join(
            f"{'L' if i and values[i - 1] is not None else 'M'}{x(i):.1f},{y(v):.1f}"
            for i, v in enumerate(values)
            if v is not None
        )
        parts.append(f'<g class="series series-{s}">')
        if path:
            parts.append(f'<path class="line" d="{path}"/>')
        for i, v in enumerate(values):
            if v is not None:
                parts.append(
                    f'<circle class="dot" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3">'
                    f"<title>{escape(name)}, {escape(labels[i])}: {v}</title></circle>"
                )
        ly = top + 14 * s + 6
        parts.append(
            f'<line class="line" x1="{width - right + 12}" x2="{width - right + 28}" '
            f'y1="{ly}" y2="{ly}"/><text class="legend" x="{width - right + 32}" '
            f'y="{ly + 4}">{escape(name)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
