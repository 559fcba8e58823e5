"""Pure domain rules: GS1 check digits, agreement validation, share-rule compilation."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.gs1 import check_digit, gln_problem, gtin_problem, normalize_gtin, with_check_digit
from domain.sharing import (
    Agreement,
    AgreementDraft,
    agreement_errors,
    manager_rules,
    rollup_scope,
    share_rules,
    weekly_parts,
)

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    "gtin",
    ["4006381333931", "036000291452", "96385074", "10614141000019", "00614141000012"],
)
def test_published_gtins_pass_the_gs1_check(gtin):
    assert gtin_problem(gtin) is None


@pytest.mark.parametrize(
    ("gtin", "problem"),
    [
        ("4006381333932", "check digit should be 1"),
        ("40063813339", "a GTIN has 8, 12, 13 or 14 digits"),
        ("40063813339A1", "a GTIN has digits only"),
        ("", "a GTIN has digits only"),
    ],
)
def test_bad_gtins_say_what_is_wrong(gtin, problem):
    assert gtin_problem(gtin) == problem


def test_gtins_normalize_to_fourteen_digits_and_refuse_bad_ones():
    assert normalize_gtin(" 036000291452 ") == "00036000291452"
    with pytest.raises(ValueError, match="check digit should be 2"):
        normalize_gtin("036000291451")


def test_check_digit_follows_the_3_1_weights_from_the_right():
    assert check_digit("400638133393") == 1
    assert with_check_digit("061414100001") == "0614141000012"
    assert gln_problem("0614141000012") is None
    assert gln_problem("0614141000013") == "check digit should be 2"


def draft(**overrides):
    values = {
        "grantor_kind": "distributor",
        "grantee_kind": "supplier",
        "kinds": ["pos"],
        "valid_from": dt.date(2026, 1, 1),
    }
    return AgreementDraft(**{**values, **overrides})


def test_a_plain_agreement_has_no_errors():
    assert agreement_errors(draft()) == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"grantee_kind": "distributor"}, "grantee"),
        ({"grantor_kind": "supplier"}, "grantor"),
        ({"kinds": []}, "kinds"),
        ({"kinds": ["pos", "salaries"]}, "kinds"),
        ({"kinds": ["pos", "pos"]}, "kinds"),
        ({"granularity": "hourly"}, "granularity"),
        ({"valid_from": None}, "valid_from"),
        ({"valid_to": dt.date(2025, 12, 31)}, "valid_to"),
        ({"regions": ["east"], "locations": [1]}, "locations"),
        ({"same_org": True}, "grantee"),
    ],
)
def test_agreement_errors_name_the_field(overrides, field):
    assert field in agreement_errors(draft(**overrides))


def agreement(**overrides):
    values = {
        "id": 7,
        "grantor": 3,
        "grantee": 1,
        "kinds": ("pos",),
        "valid_from": dt.date(2026, 3, 1),
    }
    return Agreement(**{**values, **overrides})


def test_rollups_are_shared_by_whole_weeks_and_never_wider_than_the_rows():
    mid_week = agreement(valid_from=dt.date(2026, 3, 4), valid_to=dt.date(2026, 6, 30))
    weekly = rollup_scope(mid_week, by_location=True)
    assert weekly is not None
    assert {"week_start": {"_gte": "2026-03-04"}} in weekly["_and"]
    assert {"week_end": {"_lte": "2026-06-30"}} in weekly["_and"]
    regional = agreement(regions=("east",))
    assert rollup_scope(regional, by_location=False) is None  # no distributor-wide totals
    assert {"location": {"region": {"_in": ["east"]}}} in rollup_scope(regional, True)["_and"]
    assert rollup_scope(agreement(kinds=("inventory",)), by_location=True) is None
    # aggregated: the distributor's weekly totals only, no store-level row (issue 11, part 8)
    aggregated = share_rules([agreement(granularity="aggregated")], 1, TODAY)
    assert {(r.collection, r.action) for r in aggregated} == {("pos_week_distributor", "read")}
    scoped = share_rules([agreement(granularity="aggregated", regions=("east",))], 1, TODAY)
    assert scoped == []


def test_an_aggregated_agreement_is_refused_what_it_cannot_share():
    errors = agreement_errors(draft(granularity="aggregated", kinds=["pos", "inventory"]))
    assert "inventory" in errors["granularity"][0]
    errors = agreement_errors(draft(granularity="aggregated", regions=["east"]))
    assert "whole distributor" in errors["granularity"][0]
    assert agreement_errors(draft(granularity="aggregated")) == {}


def test_overlapping_agreements_split_the_rollups_into_disjoint_parts():
    whole = agreement(id=1, valid_from=dt.date(2026, 3, 2), valid_to=dt.date(2026, 6, 28))
    east = agreement(id=2, valid_from=dt.date(2026, 1, 5), regions=("east",))
    other = agreement(id=3, grantor=4, regions=("east",))
    parts, scoped = weekly_parts([whole, east, other], by_location=False)
    assert parts == [rollup_scope(whole, False, live=False)]
    east_clause, other_clause = scoped
    outside = {"_or": [{"week_start": {"_lt": "2026-03-02"}}, {"week_end": {"_gt": "2026-06-28"}}]}
    assert outside in east_clause["_and"]  # the weeks the whole agreement counts are left out
    assert other_clause == rollup_scope(other, True, live=False)  # another grantor: untouched
    aggregated = agreement(id=4, granularity="aggregated")
    parts, scoped = weekly_parts([aggregated, east], by_location=True)
    assert parts == []  # by store: aggregated agreements share none
    assert scoped == [rollup_scope(east, True, live=False)]


def test_a_managers_rules_are_its_pairs_suppliers_read_rules_with_that_distributor():
    rules = manager_rules(
        [agreement(kinds=("pos", "forecasts")), agreement(id=8, grantor=5)], 1, 3, TODAY
    )
    assert {r.action for r in rules} == {"read"}  # no forecast commitment
    rows = [r for r in rules if r.collection != "share_agreements"]
    assert all({"distributor": {"_eq": 5}} not in c["_and"] for r in rows
               for c in r.permissions["_or"])  # fmt: skip
    (between,) = [r for r in rules if r.collection == "share_agreements"]
    assert between.permissions == {"_and": [{"grantor": {"_eq": 3}}, {"grantee": {"_eq": 1}}]}


def _agreement_of(clause):
    """The agreement a compiled clause re-checks live."""
    live = next(x for x in clause["_and"] if "granted_agreements" in x.get("distributor", {}))
    return live["distributor"]["granted_agreements"]["_and"][0]["id"]["_eq"]


def test_one_grantors_clauses_never_match_the_same_row():
    east = agreement(id=1, regions=("east",), valid_to=dt.date(2026, 12, 31))
    whole = agreement(id=2, valid_from=dt.date(2026, 6, 1))
    later = agreement(id=3, valid_from=dt.date(2027, 1, 4))  # starts after TODAY
    elsewhere = agreement(id=4, grantor=9)
    rules = share_rules([east, whole, later, elsewhere], 1, TODAY)
    pos = next(r for r in rules if r.collection == "pos_sales").permissions["_or"]
    # started before not yet started, and the longest-lasting first
    assert [_agreement_of(c) for c in pos] == [2, 4, 1, 3]
    first, other, second, third = pos
    not_whole = {"_or": [{"day": {"_lt": "2026-06-01"}}]}
    not_east = {"_or": [{"day": {"_lt": "2026-03-01"}}, {"day": {"_gt": "2026-12-31"}},
                        {"location": {"region": {"_nin": ["east"]}}},
                        {"location": {"region": {"_null": True}}}]}  # fmt: skip
    assert not_whole not in first["_and"]
    assert not_whole in second["_and"]  # east leaves whole's rows to it
    assert not_whole in third["_and"]
    assert not_east in third["_and"]
    assert other == share_rules([elsewhere], 1, TODAY)[0].permissions["_or"][0]


def test_share_rules_scope_rows_to_grantor_own_skus_dates_and_live_agreement():
    rules = {(r.collection, r.action): r for r in share_rules([agreement()], 1, TODAY)}
    assert set(rules) == {
        ("pos_sales", "read"),
        ("locations", "read"),
        ("pos_week_location", "read"),
        ("pos_week_distributor", "read"),
    }
    clause = rules[("pos_sales", "read")].permissions["_or"][0]["_and"]
    assert {"distributor": {"_eq": 3}} in clause
    assert {"sku": {"supplier": {"_eq": 1}}} in clause
    assert {"day": {"_gte": "2026-03-01"}} in clause
    live = clause[-1]["distributor"]["granted_agreements"]["_and"]
    assert {"id": {"_eq": 7}} in live
    assert {"status": {"_eq": "active"}} in live


def test_revoked_expired_foreign_and_aggregated_agreements_open_no_rows():
    agreements = [
        agreement(id=1, status="revoked"),
        agreement(id=2, valid_to=dt.date(2026, 11, 22)),
        agreement(id=3, grantee=99),
        agreement(id=4, granularity="aggregated"),
    ]
    collections = {r.collection for r in share_rules(agreements, 1, TODAY)}
    assert "pos_sales" not in collections


def test_regions_and_locations_narrow_the_scope():
    regional = share_rules([agreement(regions=("east",))], 1, TODAY)
    pos = next(r for r in regional if r.collection == "pos_sales")
    assert {"location": {"region": {"_in": ["east"]}}} in pos.permissions["_or"][0]["_and"]
    listed = share_rules([agreement(locations=(4, 5), kinds=("inventory",))], 1, TODAY)
    places = next(r for r in listed if r.collection == "locations")
    assert {"id": {"_in": [4, 5]}} in places.permissions["_or"][0]["_and"]


def test_forecast_agreements_let_the_supplier_read_and_never_write():
    """A supplier answers in its own commitments (migrations/0023_commitments.py); the
    distributor's forecast rows it only reads."""
    rules = share_rules([agreement(kinds=("forecasts",))], 1, TODAY)
    assert [r.action for r in rules if r.collection == "forecasts"] == ["read"]
    assert all(r.action == "read" for r in rules)
