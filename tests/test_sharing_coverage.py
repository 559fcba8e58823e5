"""Weeks, periods and stock that a supplier's agreements do not cover are "not shared",
never 0 (black-box finding: "weeks outside the data-sharing agreement are shown as zero
sales").

The finding's demo: Harbor shares its POS with Brightwell only from Tuesday 2026-11-17,
and no inventory. The sell-through page and its workbook showed every week before as
"0 units" (week 47, 11-16..11-22, too: only its days from the 17th are shared, and
figures are whole weeks), the change against the never-shared previous period as the
whole volume, and Harbor's stock as 0 in the workbook's inventory columns while the page
said Harbor shares no inventory. The rule which weeks an agreement covers is
:func:`domain.sharing.pos_coverage`; the pages and the workbook say "not shared" or
leave the cell empty where it says a week is not covered. Covered weeks keep their
figures, and a distributor's own figures are all covered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.sharing import Agreement, Coverage, Store, pos_coverage, shared_weeks

TODAY = dt.date(2026, 12, 2)  # a Wednesday
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
FIRST_POS = dt.date(2026, 8, 3)  # a Monday: POS and stock from here to LAST_POS
LAST_POS = dt.date(2026, 11, 29)  # a Sunday, the last whole week before TODAY's
SNAPSHOT = LAST_POS
HARBOR_FROM = dt.date(2026, 11, 17)  # a Tuesday, inside ISO week 47 (11-16..11-22)
RANGE = {"from": "2026-10-05", "to": "2026-11-29", "grain": "week"}  # 8 weeks
PREVIOUS = (dt.date(2026, 8, 10), dt.date(2026, 10, 4))  # the 8 weeks before RANGE


def mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    out, monday = [], first - dt.timedelta(days=first.weekday())
    while monday <= last:
        out.append(monday)
        monday += WEEK
    return out


# -- the rule, pure --------------------------------------------------------------------


def agreement(**changes: Any) -> Agreement:
    values: dict[str, Any] = {
        "id": 1, "grantor": 4, "grantee": 9, "kinds": ("pos",), "valid_from": HARBOR_FROM,
    }  # fmt: skip
    return Agreement(**{**values, **changes})


def test_weeks_before_an_agreement_starts_are_not_shared():
    weeks = mondays(dt.date(2026, 10, 5), LAST_POS)
    shared = shared_weeks([agreement()], 4, weeks)
    assert shared == {dt.date(2026, 11, 23)}
    assert shared_weeks([agreement()], 5, weeks) == set()  # another grantor's


def test_a_partial_first_and_last_week_are_not_shared():
    weeks = mondays(dt.date(2026, 11, 9), dt.date(2026, 12, 20))
    ended = agreement(valid_to=dt.date(2026, 12, 9))  # a Wednesday
    assert shared_weeks([ended], 4, weeks) == {dt.date(2026, 11, 23), dt.date(2026, 11, 30)}
    monday = agreement(valid_from=dt.date(2026, 11, 16), valid_to=dt.date(2026, 11, 22))
    assert shared_weeks([monday], 4, weeks) == {dt.date(2026, 11, 16)}


def test_only_pos_agreements_at_the_stores_asked_cover_weeks():
    weeks = mondays(dt.date(2026, 11, 23), LAST_POS)
    stock = agreement(kinds=("inventory",))
    aggregated = agreement(granularity="aggregated")
    east = agreement(regions=("east",))
    assert shared_weeks([stock], 4, weeks) == set()
    assert shared_weeks([aggregated], 4, weeks) == set(weeks)
    assert shared_weeks([aggregated], 4, weeks, per_store=True) == set()
    assert shared_weeks([east], 4, weeks, stores=[Store(7, "east")]) == set(weeks)
    assert shared_weeks([east], 4, weeks, stores=[Store(8, "west")]) == set()
    assert shared_weeks([agreement(locations=(8,))], 4, weeks, stores=[Store(8)]) == set(weeks)


def test_coverage_of_several_distributors_is_every_week_all_share_and_some_week_one_shares():
    weeks = mondays(dt.date(2026, 11, 9), LAST_POS)
    early = agreement(id=2, grantor=5, valid_from=dt.date(2026, 11, 9))
    both = pos_coverage([agreement(), early], [4, 5], weeks)
    assert both.every == {dt.date(2026, 11, 23)}
    assert both.some == set(weeks)
    assert not both.covers(weeks)
    assert both.covers([dt.date(2026, 11, 23)])
    assert pos_coverage([agreement(), early], [], weeks).some == set()  # nobody shares
    # a grantor that shares no store's week adds nothing to sums by store: left out
    whole = agreement(id=3, grantor=6, granularity="aggregated", valid_from=FIRST_POS)
    by_store = pos_coverage([agreement(), whole], [4, 6], weeks, per_store=True)
    assert by_store.every == by_store.some == {dt.date(2026, 11, 23)}
    assert Coverage.full(weeks).covers(weeks)
