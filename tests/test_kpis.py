"""The sell-through and inventory KPI formulas (domain.kpis): exact, and named variants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain import kpis
from domain.kpis import Band


def test_ratios_are_exact_decimals_and_none_without_a_denominator():
    assert kpis.ratio(1, 3) == Decimal("0.3333")
    assert kpis.percent(2, 3) == Decimal("66.7")
    assert kpis.percent(1, 0) is None
    assert isinstance(kpis.percent(1, 8), Decimal)


def test_sell_through_is_sold_over_sold_plus_on_hand():
    assert kpis.sell_through_pct(30, 70) == Decimal("30.0")
    assert kpis.sell_through_pct(0, 0) is None
    assert kpis.sell_through_pct(-5, 10) is None  # net returns: meaningless


@pytest.mark.parametrize(
    ("stock", "weekly", "wos", "band"),
    [
        (0, [10, 10], Decimal("0.0"), Band.OUT),
        (-3, [10], Decimal("0.0"), Band.OUT),
        (39, [10, 10, 10, 10], Decimal("3.9"), Band.LOW),
        (40, [10, 10, 10, 10], Decimal("4.0"), Band.HEALTHY),
        (130, [10], Decimal("13.0"), Band.HEALTHY),
        (131, [10], Decimal("13.1"), Band.EXCESS),
        (5, [0, 0, 0, 0], None, Band.EXCESS),  # stock, no demand: no finite cover
        (20, [8, 0], Decimal("5.0"), Band.HEALTHY),  # a week with no sales counts as 0
    ],
)
def test_weeks_of_supply_and_its_banding(stock, weekly, wos, band):
    got = kpis.weeks_of_supply(stock, weekly)
    assert got == wos
    assert kpis.band(got, stock) is band


def test_pipeline_numerator_adds_every_stage():
    assert kpis.pipeline_stock(10, 5, 100, 20) == 135


def test_in_stock_counts_snapshots_with_stock():
    assert kpis.in_stock_pct(97, 100) == Decimal("97.0")
    assert kpis.in_stock_pct(0, 0) is None


def test_movers_rank_rises_and_falls_and_never_list_a_key_twice():
    moved = kpis.movers({"a": 10, "b": 5, "c": 0, "d": 7}, {"a": 2, "b": 9, "c": 4, "d": 7})
    up, down = moved.rising, moved.falling
    assert [(m.key, m.change) for m in up] == [("a", 8)]
    assert [(m.key, m.change) for m in down] == [("c", -4), ("b", -4)]  # ties: stable order
    assert up[0].change_pct == Decimal("400.0")
    assert {m.key for m in up}.isdisjoint(m.key for m in down)
    assert moved.new == []


def test_a_key_that_sold_nothing_before_is_new_not_the_top_riser():
    """From nothing, any sale would top the risers (the demo's first period showed
    "+247,438"): such a key is new this period, ranked by its units."""
    moved = kpis.movers({"a": 247_438, "b": 12, "c": 30, "d": 0}, {"b": 10, "d": 0})
    assert [(m.key, m.current) for m in moved.new] == [("a", 247_438), ("c", 30)]
    assert [(m.key, m.change) for m in moved.rising] == [("b", 2)]
    assert moved.falling == []
    nothing_before = kpis.movers({"a": 5, "b": 3}, {})
    assert (nothing_before.rising, nothing_before.falling) == ([], [])
    assert [m.key for m in nothing_before.new] == ["a", "b"]
    assert [m.key for m in kpis.movers({k: 1 for k in "abcdefg"}, {}, n=5).new] == list("abcde")
    assert nothing_before.compared == 0


def test_movers_count_what_was_compared_so_flat_is_not_said_as_nothing_sold():
    """Every compared key unchanged and one new: nothing rose or fell, yet two keys did
    sell before; the page says they were flat, not that nothing sold then."""
    flat = kpis.movers({"a": 4, "b": 6, "c": 9}, {"a": 4, "b": 6})
    assert (flat.rising, flat.falling, flat.compared) == ([], [], 2)
    assert [m.key for m in flat.new] == ["c"]


def test_a_retail_month_is_whole_weeks_by_their_thursday():
    assert kpis.retail_month(dt.date(2026, 6, 29)) == "2026-07"  # Thu 2 July
    assert kpis.retail_month(dt.date(2026, 8, 24)) == "2026-08"
    assert kpis.retail_month(dt.date(2025, 12, 29)) == "2026-01"  # ISO 2026-W01


def test_the_previous_range_has_the_same_length():
    assert kpis.previous_range(dt.date(2026, 3, 2), dt.date(2026, 3, 15)) == (
        dt.date(2026, 2, 16),
        dt.date(2026, 3, 1),
    )
