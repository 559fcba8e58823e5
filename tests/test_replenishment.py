"""Replenishment suggestions (domain.replenishment), on cases computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.replenishment import Inputs, Policy, mean_and_sigma, suggest, z_score

D = Decimal


def test_z_is_the_normal_quantile_of_the_service_level():
    assert z_score(D("0.95")) == D("1.6449")
    assert z_score(D("0.98")) == D("2.0537")
    assert z_score(D("0.5")) == D("0.0000")
    for bad in (D(0), D(1), D("1.2"), D("-0.1")):
        with pytest.raises(ValueError, match="service level"):
            z_score(bad)


def test_demand_and_lead_time_variability_together_by_hand():
    # d = 10, sigma_d = sqrt((0 + 4 + 4 + 0) / 4) = sqrt 2; LT 2 weeks, sigma_LT 0.5.
    # SS = 1.6449 * sqrt(2 * 2 + 10^2 * 0.25) = 1.6449 * sqrt 29 = 8.858...
    # S = 10 * (2 + 1) + 8.858 = 38.858; position 12 + 6 + 0 = 18; short 20.858:
    # 4 cases of 6 = 24 units.
    got = suggest(Inputs((10, 12, 8, 10), D(2), D("0.5"), 12, 6, 0, case_pack=6))
    assert (got.demand, got.demand_sigma, got.z) == (D("10.00"), D("1.41"), D("1.6449"))
    assert (got.safety_stock, got.base_stock) == (D("8.86"), D("38.86"))
    assert (got.position, got.short, got.cases, got.quantity) == (18, D("20.86"), 4, 24)


def test_steady_demand_and_lead_time_need_no_safety_stock():
    # S = 5 * (1 + 1) = 10; position 4: 6 short, one case of 12.
    got = suggest(Inputs((5, 5, 5, 5), D(1), D(0), 4, 0, 0, case_pack=12))
    assert (got.safety_stock, got.base_stock, got.quantity, got.cases) == (
        D("0.00"),
        D("10.00"),
        12,
        1,
    )


def test_nothing_to_order():
    no_sales = suggest(Inputs((0, 0, 0, 0), D(2), D(1), 0, 0, 0))
    assert (no_sales.base_stock, no_sales.quantity) == (D("0.00"), 0)
    stocked = suggest(Inputs((10, 10), D(1), D(0), 15, 5, 10))  # S = 20, position 30
    assert (stocked.short, stocked.quantity) == (D("0.00"), 0)
    assert suggest(Inputs((), D(1), D(0), 0, 0, 0)).quantity == 0  # no history yet


def test_a_higher_service_level_and_a_longer_review_period_order_more():
    base = Inputs((10, 14, 6, 10), D(2), D("0.5"), 0, 0, 0)
    low = suggest(base).quantity
    high = suggest(Inputs(**{**base.__dict__, "service_level": D("0.99")})).quantity
    longer = suggest(Inputs(**{**base.__dict__, "review_weeks": D(2)})).quantity
    assert low < high
    assert longer == low + 10  # one more week of d = 10


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="case pack"):
        suggest(Inputs((1,), D(1), D(0), 0, 0, 0, case_pack=0))
    with pytest.raises(ValueError, match="lead time"):
        suggest(Inputs((1,), D(-1), D(0), 0, 0, 0))


def test_a_pairs_policy_is_checked():
    assert Policy.from_settings(None) == Policy(D("0.95"), D(1))
    assert Policy.from_settings({"service_level": "0.98", "other": 1}).service_level == D("0.98")
    for bad in ({"service_level": "nan"}, {"service_level": "ninety"}, {"review_weeks": "-1"},
                {"review_weeks": "Infinity"}, {"service_level": 1}):  # fmt: skip
        with pytest.raises(ValueError, match=r"service level|review weeks"):
            Policy.from_settings(bad)


def test_mean_and_sigma_are_population_figures():
    assert mean_and_sigma([2, 4, 4, 4, 5, 5, 7, 9]) == (D(5), D(2))
    assert mean_and_sigma([]) == (D(0), D(0))
