"""A feed's cadence, learned from its deliveries or set on it, and the staleness it gives
(:mod:`domain.ingest`): pure rules, no hub."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.ingest import (
    CADENCE_LEARNED,
    CADENCE_SET,
    cadence_label,
    feed_staleness,
    grace_days,
    learn_cadence,
)


def days(*texts: str) -> list[dt.date]:
    return [dt.date.fromisoformat(t) for t in texts]


def test_a_single_delivery_teaches_no_cadence():
    assert learn_cadence([]) is None
    assert learn_cadence(days("2026-12-01")) is None
    assert learn_cadence([None, None]) is None


def test_a_daily_feed_learns_one_day_across_a_year_end():
    throughs = days("2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02")
    assert learn_cadence(throughs) == 1


def test_a_weekly_feed_learns_seven_days_across_month_and_year_ends():
    # Sundays from late November to mid-January: 30 Nov, 31 Dec and New Year crossed.
    throughs = days("2026-11-22", "2026-11-29", "2026-12-06", "2026-12-27", "2027-01-03",
                    "2027-01-10")  # fmt: skip
    # One gap of three weeks (two skipped deliveries) among 7-day ones: the median holds.
    assert learn_cadence(throughs) == 7


def test_a_monthly_feed_learns_its_typical_month():
    # Month ends 30, 31, 31 (December to January) and 28 (to February) days apart: the
    # lower median, 30, is late only after 34 days, past the longest month.
    throughs = days("2026-10-31", "2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28")
    assert learn_cadence(throughs) == 30
    assert 30 + grace_days(30) > 31
    assert cadence_label(31) == "monthly"


def test_irregular_history_takes_the_median_of_the_recent_gaps_only():
    # Gaps 1, 2, 9, 3, 2: the median (the lower one of an even count) ignores the outlier.
    throughs = days("2026-12-01", "2026-12-02", "2026-12-04", "2026-12-13", "2026-12-16",
                    "2026-12-18")  # fmt: skip
    assert learn_cadence(throughs) == 2
    # Only the last `gaps` gaps count: a feed that went from monthly to weekly is weekly.
    monthly_then_weekly = days("2026-06-30", "2026-07-31", "2026-08-31", "2026-09-07",
                               "2026-09-14", "2026-09-21")  # fmt: skip
    assert learn_cadence(monthly_then_weekly) == 7  # gaps 31, 31, 7, 7, 7
    assert learn_cadence(monthly_then_weekly[:4]) == 31  # gaps 31, 31, 7
    assert learn_cadence(monthly_then_weekly, gaps=2) == 7
    assert learn_cadence(days("2026-01-01", "2026-03-01", "2026-03-02", "2026-03-03"), 2) == 1


def test_restatements_and_repeats_are_not_new_periods():
    # The same week again, then a restatement of older days: neither moved the feed.
    throughs = days("2026-12-06", "2026-12-06", "2026-12-13", "2026-12-01", "2026-12-20")
    assert learn_cadence([*throughs, None]) == 7


@pytest.mark.parametrize(
    ("cadence", "grace", "label"),
    [(1, 1, "daily"), (2, 1, "every 2 days"), (7, 2, "weekly"), (14, 2, "every 2 weeks"),
     (30, 4, "monthly")],
)  # fmt: skip
def test_the_grace_period_grows_with_the_cadence(cadence, grace, label):
    assert grace_days(cadence) == grace
    assert cadence_label(cadence) == label


def test_a_weekly_feed_is_stale_after_its_expected_day_and_grace_not_after_three_days():
    through = dt.date(2026, 12, 6)  # a Sunday
    expected = dt.date(2026, 12, 13)
    for today, stale in [("2026-12-10", False), ("2026-12-15", False), ("2026-12-16", True)]:
        found = feed_staleness(
            "inventory", through, None, dt.date.fromisoformat(today), None, 3, None, 7
        )
        assert (found.stale, found.after_days) == (stale, 9)
        assert (found.cadence_days, found.cadence_source, found.expected) == (
            7, CADENCE_LEARNED, expected
        )  # fmt: skip


def test_a_set_cadence_wins_over_the_learned_one_and_a_threshold_over_both():
    through, today = dt.date(2026, 12, 1), dt.date(2026, 12, 4)
    daily = feed_staleness("pos", through, None, today, None, 3, cadence_set=1, cadence_learned=7)
    assert daily == (True, 2, 1, CADENCE_SET, dt.date(2026, 12, 2))
    own = feed_staleness("pos", through, None, today, 5, 3, cadence_set=1, cadence_learned=7)
    assert (own.stale, own.after_days, own.cadence_source) == (False, 5, CADENCE_SET)


def test_a_forecasts_cadence_runs_from_its_last_delivery():
    def on(today: dt.date):
        return feed_staleness("forecasts", dt.date(2027, 3, 29), dt.date(2026, 12, 1), today,
                              None, 3, cadence_learned=7)  # fmt: skip

    assert on(dt.date(2026, 12, 10)) == (False, 9, 7, CADENCE_LEARNED, dt.date(2026, 12, 8))
    assert on(dt.date(2026, 12, 11)).stale


def test_without_a_cadence_a_feed_keeps_the_default_threshold():
    found = feed_staleness("pos", dt.date(2026, 12, 1), None, dt.date(2026, 12, 4), None, 3)
    assert found == (False, 3, None, None, None)
