"""Dismissing and snoozing attention items (:mod:`domain.attention`): pure rules."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.attention import SetAside, fingerprint, is_hidden, item_key, until

NOW = dt.datetime(2026, 12, 31, 22, 0, tzinfo=dt.UTC)


def test_an_items_key_does_not_depend_on_the_order_of_its_reference():
    assert item_key("stale-feed", {"kind": "pos", "distributor": 3}) == (
        item_key("stale-feed", {"distributor": 3, "kind": "pos"})
    )
    assert item_key("stale-feed", {"distributor": 3, "kind": "pos"}) == (
        "stale-feed:distributor=3,kind=pos"
    )
    assert item_key("low-stock", {}) == "low-stock:"


def test_a_cause_fingerprint_changes_with_any_of_its_parts():
    assert fingerprint("2026-12-06") == fingerprint("2026-12-06")
    assert fingerprint("2026-12-06") != fingerprint("2026-12-13")
    assert fingerprint("a", "b") != fingerprint("ab", "")
    assert fingerprint(None, 3) == fingerprint("", 3)


def test_a_dismissed_item_stays_hidden_until_its_cause_changes():
    aside = SetAside("c1", until("dismiss", NOW))
    assert aside.until is None
    assert is_hidden("c1", aside, NOW + dt.timedelta(days=400))
    assert not is_hidden("c2", aside, NOW)


def test_a_snoozed_item_comes_back_when_the_snooze_ends_or_its_cause_changes():
    day = SetAside("c1", until("snooze-day", NOW))
    assert day.until == dt.datetime(2027, 1, 1, 22, 0, tzinfo=dt.UTC)  # across the year end
    assert is_hidden("c1", day, NOW + dt.timedelta(hours=23, minutes=59))
    assert not is_hidden("c1", day, NOW + dt.timedelta(days=1))
    assert not is_hidden("c2", day, NOW)
    week = SetAside("c1", until("snooze-week", NOW))
    assert is_hidden("c1", week, NOW + dt.timedelta(days=6))
    assert not is_hidden("c1", week, NOW + dt.timedelta(days=7))


def test_an_item_never_set_aside_is_shown_and_unknown_actions_are_refused():
    assert not is_hidden("c1", None, NOW)
    with pytest.raises(ValueError, match="snooze-week"):
        until("snooze-year", NOW)
