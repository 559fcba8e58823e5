"""CPFR exception criteria, evaluated by hand on small figures, and how conditions become
changes of a pair's exceptions (domain/exceptions.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from domain import scorecard as sc
from domain.exceptions import (
    Change,
    Condition,
    Criterion,
    Figures,
    Known,
    Order,
    due,
    escalation_level,
    escalation_levels,
    evaluate,
    hours_to_resolve,
    may_move,
    reconcile,
)

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
W52, W53 = dt.date(2026, 12, 21), dt.date(2026, 12, 28)


def criterion(metric: str, comparison: str, threshold: str, **kw) -> Criterion:
    return Criterion(1, 7, metric, comparison, D(threshold), **kw)


def test_a_commitment_further_than_20_pct_from_the_forecast_either_way():
    c = criterion("forecast_commitment_gap_pct", "above", "20")
    figures = Figures(NOW, plan={
        (3, W52): (50, 30),  # -40 %
        (3, W53): (40, 44),  # +10 %
        (4, W52): (10, 13),  # +30 %
        (4, W53): (10, None),  # not answered: no gap to measure
        (5, W52): (0, 0),
    })  # fmt: skip
    found = evaluate(c, figures)
    assert [(x.subject, x.value, x.figures["gap_pct"]) for x in found] == [
        ("sku:3:week:2026-12-21", D("40.0"), "-40.0"),
        ("sku:4:week:2026-12-21", D("30.0"), "30.0"),
    ]
    scoped = criterion("forecast_commitment_gap_pct", "above", "20", skus=frozenset({4}))
    assert [x.sku for x in evaluate(scoped, figures)] == [4]


def test_in_stock_and_weeks_of_supply_per_sku_over_the_stores():
    on_hand = {(1, 3): 0, (2, 3): 12, (3, 3): 5, (1, 4): 40, (2, 4): 40}
    sold = {(1, 3): 8, (2, 3): 8, (3, 3): 4, (1, 4): 4, (2, 4): 4, (9, 4): 40}  # 4 weeks;
    # store 9's Bran sales have no shared snapshot beside them: left out of its supply
    figures = Figures(NOW, on_hand=on_hand, sold=sold, snapshot=dt.date(2026, 11, 28))
    in_stock = evaluate(criterion("in_stock_pct", "below", "90"), figures)
    assert [(x.subject, x.value) for x in in_stock] == [("sku:3", D("66.7"))]  # 2 of 3
    assert in_stock[0].figures == {"positions": "3", "in_stock": "2", "snapshot": "2026-11-28"}
    # SKU 3: 17 on hand over 20/4 = 5 a week: 3.4 weeks; SKU 4: 80 over 2 a week: 40 weeks.
    wos = evaluate(criterion("weeks_of_supply", "outside", "4", upper=D(13)), figures)
    assert [(x.subject, x.value) for x in wos] == [("sku:3", D("3.4")), ("sku:4", D("40.0"))]
    east = criterion("in_stock_pct", "below", "90", locations=frozenset({2, 3}))
    assert evaluate(east, figures) == []  # stores 2 and 3 both have SKU 3


def test_an_order_not_acknowledged_within_24_hours():
    orders = [
        Order(5, "PO-5", NOW - dt.timedelta(hours=30), "open"),
        Order(6, "PO-6", NOW - dt.timedelta(hours=20), "open"),
        Order(7, "PO-7", NOW - dt.timedelta(hours=50), "acknowledged"),
    ]
    found = evaluate(
        criterion("po_unacknowledged_hours", "above", "24"), Figures(NOW, orders=orders)
    )
    assert [(x.subject, x.value, x.purchase_order) for x in found] == [("po:5", D("30.0"), 5)]


def test_a_store_out_of_stock_for_3_days_or_more():
    figures = Figures(
        NOW,
        snapshot=dt.date(2026, 12, 1),
        out_since={(1, 3): dt.date(2026, 11, 29), (2, 3): dt.date(2026, 12, 1)},
    )
    found = evaluate(criterion("store_out_of_stock_days", "above", "2"), figures)
    assert [(x.subject, x.value) for x in found] == [("store:1:sku:3", D(3))]


def test_a_criterion_is_checked_when_it_is_made():
    for bad in (
        {"metric": "sales"},
        {"comparison": "equal"},
        {"comparison": "outside"},  # without its upper bound
        {"upper": D(5)},  # an upper bound without outside
        {"owner_side": "manager"},
        {"response_hours": 0},
    ):
        fields = {"metric": "in_stock_pct", "comparison": "below", "threshold": D(90), **bad}
        with pytest.raises(ValueError):  # noqa: PT011
            Criterion(1, 7, **fields)
    row = {"id": 2, "partnership": 7, "metric": "weeks_of_supply", "comparison": "outside",
           "threshold": "4", "upper": "13", "scope": {"skus": [3]}, "owner_side": "distributor",
           "response_hours": 72}  # fmt: skip
    c = Criterion.from_row(row)
    assert (c.upper, c.skus, c.owner_side) == (D(13), frozenset({3}), "distributor")
    assert c.describe() == "Weeks of supply outside 4-13 weeks"


def test_conditions_open_update_clear_and_recur_exceptions():
    a = Condition(1, "sku:3", D(50))
    b = Condition(1, "sku:4", D(60))
    c = Condition(1, "sku:7", D(65))
    known = [
        Known(10, 1, "sku:3", "acknowledged", cleared=False),  # persists
        Known(11, 1, "sku:5", "open", cleared=False),  # gone: cleared
        Known(12, 1, "sku:6", "open", cleared=True),  # still gone: nothing to note
        Known(13, 1, "sku:4", "dismissed", cleared=False),  # closed while it lasts: left
        Known(14, 1, "sku:7", "resolved", cleared=True),  # cleared, then back: a new one
        Known(15, 1, "sku:8", "resolved", cleared=False),  # closed and now gone: cleared
    ]
    assert reconcile(known, [a, b, c]) == [
        Change("update", a, known[0]),
        Change("open", c),
        Change("cleared", None, known[1]),
        Change("cleared", None, known[5]),
    ]
    again = Known(11, 1, "sku:5", "open", cleared=True)
    back = Condition(1, "sku:5", D(70))
    assert reconcile([again], [back]) == [Change("recurred", back, again)]
    # A reopened exception and the newer one its returning condition opened: the newer
    # is the current one, the reopened one noted cleared (never two updated as one).
    both = [Known(20, 1, "sku:9", "open", False), Known(21, 1, "sku:9", "open", False)]
    nine = Condition(1, "sku:9", D(1))
    assert reconcile(both, [nine]) == [
        Change("cleared", None, both[0]),
        Change("update", nine, both[1]),
    ]


def test_due_times_resolution_hours_and_moves():
    assert due(NOW, 48) == dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    assert hours_to_resolve(NOW, NOW + dt.timedelta(hours=25, minutes=30)) == D("25.5")
    assert may_move("open", "acknowledged")
    assert may_move("resolved", "open")
    assert not may_move("acknowledged", "open")
    assert not may_move("dismissed", "resolved")


def test_an_exception_past_due_climbs_the_pairs_levels():
    levels = escalation_levels([
        {"level": 1, "after_hours": 0, "contacts": [{"user": "u1", "side": "supplier"}]},
        {"level": 2, "after_hours": 24, "contacts": [{"user": "u2", "side": "distributor"},
                                                     {"user": "u3", "side": "manager"}]},
    ])  # fmt: skip
    due_at = NOW
    assert escalation_level(due_at, NOW, levels) == 0  # at its due time: not late
    assert escalation_level(due_at, NOW + dt.timedelta(minutes=1), levels) == 1
    assert escalation_level(due_at, NOW + dt.timedelta(hours=24), levels) == 2
    assert escalation_level(due_at, NOW + dt.timedelta(days=9), ()) == 0  # no protocol
    assert [c.user for c in levels[1].contacts] == ["u2", "u3"]
    for bad in (
        [{"level": 2, "after_hours": 0, "contacts": [{"user": "u", "side": "supplier"}]}],
        [{"after_hours": 5, "contacts": [{"user": "u", "side": "supplier"}]},
         {"after_hours": 1, "contacts": [{"user": "u", "side": "supplier"}]}],
        [{"after_hours": 0, "contacts": []}],
        [{"after_hours": 0, "contacts": [{"user": "u", "side": "buyer"}]}],
        [{"contacts": [{"user": "u", "side": "supplier"}]}],
    ):  # fmt: skip
        with pytest.raises(ValueError, match="level"):
            escalation_levels(bad)


def test_time_to_resolution_is_a_scorecard_kpi():
    q4 = sc.period_of(dt.date(2026, 12, 2), "quarter")
    at = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)
    done = [
        sc.Resolution(1, "resolved", at, D("10.5")),
        sc.Resolution(2, "resolved", at, D("60.0")),  # too slow for 48 h
        sc.Resolution(3, "dismissed", at, D("1.0")),  # not a resolution
        sc.Resolution(4, "resolved", dt.datetime(2026, 9, 30, tzinfo=dt.UTC), D("2.0")),  # Q3
        sc.Resolution(5, "open", None, None),
    ]
    mean, within = sc.exception_response(done, q4)
    assert (mean.value, mean.unit, mean.basis) == (D("35.2"), "hours", (1, 2))  # 70.5 / 2
    assert (within.value, within.misses) == (D("50.0"), (2,))
    assert sc.exception_response([], q4)[0].value is None
