"""The sell-through chart (portal.charts.trend_svg), pure: where a promotion is shaded at
week and month grain, and where its label goes.

Label boxes are measured as the chart allows for them (``label_width``, the font's
height); the browser journey measures the drawn ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import xml.etree.ElementTree as ET

from portal import charts
from portal.charts import Point, Span, trend_svg

LEFT, PLOT_W = 64, 800  # trend_svg's left margin and plot width at its default width


def weeks(first: dt.date, n: int) -> list[Point]:
    return [
        Point(str(first + dt.timedelta(weeks=i)), first + dt.timedelta(weeks=i),
              first + dt.timedelta(weeks=i, days=6), 10 + i)
        for i in range(n)
    ]  # fmt: skip


def months() -> list[Point]:
    """Three retail months, as the report groups weeks: 4, 4 and 5 weeks."""
    out, first = [], dt.date(2026, 1, 5)
    for label, n in (("Jan", 4), ("Feb", 4), ("Mar", 5)):
        last = first + dt.timedelta(weeks=n) - dt.timedelta(days=1)
        out.append(Point(label, first, last, 100))
        first = last + dt.timedelta(days=1)
    return out


def shading(svg: str) -> dict[str, tuple[float, float]]:
    """Each promotion's shaded band: (x, width), by the name in its title."""
    root = ET.fromstring(svg)  # noqa: S314 - the chart's own output
    return {
        rect.find("title").text.split(":")[0]: (float(rect.get("x")), float(rect.get("width")))
        for rect in root.iter("rect")
        if rect.find("title") is not None
    }


def label_boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """(text, left, top, right, bottom) of every promotion label."""
    return [
        (t.text, float(t.get("x")), float(t.get("y")) - charts.LABEL_FONT,
         float(t.get("x")) + charts.label_width(t.text), float(t.get("y")) + 3)
        for t in ET.fromstring(svg).iter("text")  # noqa: S314 - the chart's own output
        if t.get("class") == "promo-label"
    ]  # fmt: skip


def collisions(boxes: list[tuple[str, float, float, float, float]]) -> list[tuple[str, str]]:
    return [
        (a[0], b[0])
        for a, b in itertools.combinations(boxes, 2)
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]


def test_at_week_grain_a_promotion_shades_the_weeks_it_runs_on():
    points = weeks(dt.date(2026, 3, 2), 8)
    # Wednesday of the third week to Monday of the fifth: weeks 3, 4 and 5.
    span = Span("Spring", dt.date(2026, 3, 18), dt.date(2026, 3, 30), "accepted")
    x, width = shading(trend_svg(points, [span], title="t"))["Spring"]
    assert (x, width) == (round(LEFT + PLOT_W * 2 / 8, 1), round(PLOT_W * 3 / 8, 1))


def test_at_month_grain_a_promotion_shades_only_its_weeks_of_the_month():
    """Two weeks of February's four shade half its band, not the whole month."""
    points = months()
    inside = Span("Mid-Feb", dt.date(2026, 2, 9), dt.date(2026, 2, 22), "accepted")
    across = Span("Turn", dt.date(2026, 1, 28), dt.date(2026, 2, 3), "submitted")
    late = Span("Late", dt.date(2026, 3, 30), dt.date(2026, 4, 20), "accepted")
    bands = shading(trend_svg(points, [inside, across, late], title="t"))
    band = PLOT_W / 3  # each month's band
    assert bands["Mid-Feb"] == (round(LEFT + band * (1 + 1 / 4), 1), round(band / 4 * 2, 1))
    # January's last week and February's first: a quarter of each band.
    assert bands["Turn"] == (round(LEFT + band * 3 / 4, 1), round(band / 2, 1))
    # March's fifth week only; the weeks after the chart's last are not drawn.
    assert bands["Late"] == (round(LEFT + band * (2 + 4 / 5), 1), round(band / 5, 1))


def test_a_promotion_outside_the_points_is_not_drawn_but_still_described():
    span = Span("Autumn", dt.date(2026, 9, 1), dt.date(2026, 9, 9), "accepted")
    svg = trend_svg(months(), [span], title="t")
    assert shading(svg) == {}
    assert "Autumn (accepted) 2026-09-01 to 2026-09-09" in svg


def test_overlapping_promotions_labels_sit_on_different_rows():
    points = weeks(dt.date(2026, 3, 2), 12)
    spans = [
        Span("Easter chocolate feature", dt.date(2026, 3, 9), dt.date(2026, 3, 29), "accepted"),
        Span("Spring cleaning TPR", dt.date(2026, 3, 16), dt.date(2026, 3, 22), "accepted"),
        Span("End-of-aisle display", dt.date(2026, 3, 16), dt.date(2026, 4, 5), "submitted"),
        Span("Later", dt.date(2026, 5, 4), dt.date(2026, 5, 10), "accepted"),
    ]
    boxes = label_boxes(trend_svg(points, spans, title="t"))
    assert [b[0] for b in boxes] == [s.label for s in spans]
    assert collisions(boxes) == []
    rows = {b[0]: b[2] for b in boxes}
    assert len({rows[s.label] for s in spans[:3]}) == 3
    assert rows["Later"] == rows["Easter chocolate feature"]  # a free row is reused


def test_labels_never_collide_however_many_promotions_overlap():
    """Past the rows the chart has, a label is cut to the room left or left out; the
    shading keeps every full name in its title."""
    points = months()
    first = dt.date(2026, 1, 5)
    spans = [
        Span(f"Promotion number {k} with a long name{' and more words' * 3}",
             first + dt.timedelta(days=3 * k), dt.date(2026, 3, 1), "accepted")
        for k in range(12)
    ]  # fmt: skip
    svg = trend_svg(points, spans, title="t")
    boxes = label_boxes(svg)
    assert collisions(boxes) == []
    assert len({b[2] for b in boxes}) <= charts.MAX_LANES
    assert all(b[3] <= 880 - 16 for b in boxes)  # inside the plot
    assert set(shading(svg)) == {s.label for s in spans}
    # a label cut to the room left is never longer than one with a row of its own
    assert max(len(b[0]) for b in boxes) <= charts._LABEL_CHARS


def test_random_calendars_of_promotions_never_collide():
    rng = random.Random(16)
    for grain_points in (weeks(dt.date(2026, 1, 5), 13), months()):
        for _ in range(40):
            spans = []
            for k in range(rng.randint(1, 15)):
                start = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 90))
                name = "".join(rng.choice("WMabcdefghij klmnop") for _ in range(rng.randint(3, 40)))
                end = start + dt.timedelta(days=rng.randint(0, 30))
                spans.append(Span(f"{k}{name}", start, end, "accepted"))
            boxes = label_boxes(trend_svg(grain_points, spans, title="t"))
            assert collisions(boxes) == [], spans
