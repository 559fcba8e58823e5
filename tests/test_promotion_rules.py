"""The promotion rules in domain/promotions.py, pure: no hub, no files."""

from __future__ import annotations

import datetime as dt

import pytest

from domain import promotions as rules
from domain.promotions import Booked, Location, Partner, Reference, RowError, Sku
from portal.schemas import promotions as schema

TODAY = dt.date(2026, 3, 2)
ACME = Partner(pair=10, supplier=1, name="Acme Foods")
BRAVA = Partner(pair=11, supplier=2, name="Brava Drinks")
OATS = Sku(101, "00000000000017", 1, 14, "Oats", "OAT-1")
BRAN = Sku(102, "00000000000024", 1, 30, "Bran")
COLA = Sku(201, "00000000000031", 2, 7, "Cola")
EAST = Location(301, "S-EAST", "East store")
WEST = Location(302, "S-WEST", "West store")


def ref(*booked: Booked) -> Reference:
    return Reference((ACME, BRAVA), (OATS, BRAN, COLA), (EAST, WEST), booked)


def row(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "partner": "Acme Foods",
        "name": "Spring TPR",
        "type": "tpr",
        "start_date": dt.datetime(2026, 4, 1),
        "end_date": "2026-04-07",
        "expected_uplift_pct": 15,
        "mechanics": "20% off",
        "sku_gtin": OATS.gtin,
        "location_code": "S-EAST",
    }
    values.update(overrides)
    return values


def errors_of(*rows: dict[str, object], reference: Reference | None = None) -> set[tuple]:
    checked = rules.check_rows(list(enumerate(rows, start=2)), reference or ref(), TODAY)
    return {(e.row, e.field) for e in checked.errors}


def test_the_types_are_the_schemas_types():
    assert rules.TYPES == schema.TYPES


def test_rows_of_one_promotion_make_one_promotion_over_every_sku_and_location():
    checked = rules.check_rows(
        [
            (2, row()),
            (3, row(sku_gtin=BRAN.gtin, start_date="2026-04-01", type="TPR", mechanics=None)),
            (4, row(location_code="s-west", expected_uplift_pct=None)),
        ],
        ref(),
        TODAY,
    )
    assert checked.clean, checked.errors
    (plan,) = checked.promotions
    assert plan.as_create() == {
        "partnership": 10,
        "name": "Spring TPR",
        "type": "tpr",
        "mechanics": "20% off",
        "start_date": "2026-04-01",
        "end_date": "2026-04-07",
        "expected_uplift_pct": 15,
        "status": "submitted",
        "skus": [OATS.id, BRAN.id],
        "locations": [EAST.id, WEST.id],
    }
    assert plan.rows == [2, 3, 4]


def test_missing_required_fields_are_named():
    assert errors_of(row(partner=None, name="  ", sku_gtin=None, location_code="")) == {
        (2, "partner"),
        (2, "name"),
        (2, "sku_gtin"),
        (2, "location_code"),
    }


def test_unknown_partner_type_sku_and_location_are_named():
    found = errors_of(
        row(partner="Nobody Ltd"),
        row(type="flash-sale"),
        row(sku_gtin="00000000000093"),
        row(location_code="NOPE"),
        row(sku_gtin="12ab"),
    )
    assert found == {
        (2, "partner"),
        (3, "type"),
        (4, "sku_gtin"),
        (5, "location_code"),
        (6, "sku_gtin"),
    }


def test_a_sku_of_another_supplier_is_refused_naming_it_and_its_owner():
    checked = rules.check_rows([(2, row(sku_gtin=COLA.gtin))], ref(), TODAY)
    assert checked.errors == [
        RowError(2, "sku_gtin", "SKU 00000000000031 · Cola belongs to Brava Drinks, not Acme Foods")
    ]


def test_skus_and_stores_are_named_by_code_and_name_never_by_id():
    assert OATS.label == "OAT-1 · 00000000000017 · Oats"
    assert BRAN.label == "00000000000024 · Bran"  # no item code of the distributor's
    assert EAST.label == "S-EAST · East store"
    assert Location(303, "S-9").label == "S-9"


def test_a_gtin_typed_as_a_number_loses_no_leading_zeros():
    assert rules.parse_gtin(17) == OATS.gtin
    assert rules.parse_gtin(17.0) == OATS.gtin
    with pytest.raises(ValueError, match="not a GTIN"):
        rules.parse_gtin(1.5)


@pytest.mark.parametrize("text", ["01/02/2026", "2 Jan 2026", "2026/01/02", "20260102", "45000"])
def test_dates_typed_as_other_text_are_refused_saying_what_is_accepted(text):
    checked = rules.check_rows([(7, row(start_date=text))], ref(), TODAY)
    (error,) = checked.errors
    assert (error.row, error.field) == (7, "start_date")
    assert "YYYY-MM-DD" in error.message
    assert "date cell" in error.message


def test_a_number_in_a_date_column_is_not_taken_for_a_date():
    assert errors_of(row(end_date=46000)) == {(2, "end_date")}


def test_an_impossible_iso_date_is_refused():
    checked = rules.check_rows([(2, row(end_date="2026-02-30"))], ref(), TODAY)
    assert checked.errors[0].message == "“2026-02-30” is not a real date"


def test_reversed_dates_are_refused_on_the_end_date():
    assert errors_of(row(end_date="2026-03-31")) == {(2, "end_date")}


def test_a_start_in_the_past_is_refused():
    checked = rules.check_rows([(2, row(start_date="2026-03-01"))], ref(), TODAY)
    assert [(e.field, e.message) for e in checked.errors] == [
        ("start_date", "2026-03-01 is in the past (today is 2026-03-02)")
    ]


def test_a_start_inside_the_lead_time_of_the_slowest_sku_is_refused():
    # Oats ships in 14 days: 2026-03-16 is the first day it can be on promotion.
    assert errors_of(row(start_date="2026-03-16")) == set()
    assert errors_of(row(start_date="2026-03-15")) == {(2, "start_date")}
    # Bran takes 30 days.
    found = rules.check_rows(
        [(2, row(sku_gtin=BRAN.gtin, start_date="2026-03-20"))], ref(), TODAY
    ).errors
    assert found[0].message == (
        "2026-03-20 is inside the supplier's lead time for SKU 00000000000024 · Bran (30 days): "
        "start on or after 2026-04-01"
    )


@pytest.mark.parametrize(("value", "bad"), [(0, False), (1000, False), (1001, True), (-1, True),
                                            ("12", False), (12.0, False), (12.5, True),
                                            ("lots", True), (True, True)])  # fmt: skip
def test_uplift_must_be_a_whole_number_from_0_to_1000(value, bad):
    assert errors_of(row(expected_uplift_pct=value)) == (
        {(2, "expected_uplift_pct")} if bad else set()
    )


def test_terms_of_one_promotion_may_be_omitted_on_later_rows_but_not_changed():
    found = errors_of(
        row(),
        row(sku_gtin=BRAN.gtin, type="display", expected_uplift_pct=20, mechanics="other"),
        row(location_code="S-WEST", expected_uplift_pct=None, mechanics=None),
    )
    assert found == {(3, "type"), (3, "expected_uplift_pct"), (3, "mechanics")}


def test_overlaps_with_booked_promotions_name_the_other_promotion():
    booked = Booked(9, "Easter", dt.date(2026, 4, 5), dt.date(2026, 4, 12), frozenset({OATS.id}),
                    frozenset({EAST.id}))  # fmt: skip
    checked = rules.check_rows([(2, row())], ref(booked), TODAY)
    (error,) = checked.errors
    assert (error.row, error.field) == (2, "start_date")
    assert error.message == (
        "overlaps promotion “Easter” (2026-04-05 to 2026-04-12) for SKU "
        "OAT-1 · 00000000000017 · Oats at store S-EAST · East store"
    )
    assert str(OATS.id) not in error.message
    assert "#" not in error.message
    # Another store, another SKU or other days: no overlap.
    assert errors_of(row(location_code="S-WEST"), reference=ref(booked)) == set()
    assert (
        errors_of(row(sku_gtin=BRAN.gtin, start_date="2026-04-02"), reference=ref(booked)) == set()
    )
    assert (
        errors_of(row(start_date="2026-03-20", end_date="2026-04-04"), reference=ref(booked))
        == set()
    )


def test_a_booked_promotion_without_locations_holds_every_location():
    everywhere = Booked(9, "Chainwide", dt.date(2026, 4, 7), dt.date(2026, 4, 7),
                        frozenset({OATS.id}), frozenset())  # fmt: skip
    assert errors_of(row(location_code="S-WEST"), reference=ref(everywhere)) == {(2, "start_date")}


def test_promotions_of_one_workbook_may_not_overlap_each_other():
    found = rules.check_rows(
        [
            (2, row()),
            (3, row(name="Other", start_date="2026-04-07", end_date="2026-04-09")),
            (4, row(name="Later", start_date="2026-04-10", end_date="2026-04-12")),
        ],
        ref(),
        TODAY,
    ).errors
    assert [(e.row, e.field) for e in found] == [(3, "start_date")]
    assert found[0].message == (
        "overlaps the promotion of row 2 (“Spring TPR”, 2026-04-01 to 2026-04-07) for SKU "
        "OAT-1 · 00000000000017 · Oats at store S-EAST · East store"
    )


def test_the_form_rules_skip_the_promotion_itself_and_unknown_ids():
    booked = Booked(9, "Mine", dt.date(2026, 4, 1), dt.date(2026, 4, 7), frozenset({OATS.id}),
                    frozenset({EAST.id}))  # fmt: skip
    terms = {"start": dt.date(2026, 4, 1), "end": dt.date(2026, 4, 7), "today": TODAY,
             "skus": [OATS.id, 999], "locations": [EAST.id], "ref": ref(booked)}  # fmt: skip
    assert rules.check_terms(**terms) == {
        "start_date": [
            "overlaps promotion “Mine” (2026-04-01 to 2026-04-07) for SKU "
            "OAT-1 · 00000000000017 · Oats at store S-EAST · East store"
        ]
    }
    assert rules.check_terms(**terms, exclude=9) == {}


def test_errors_are_grouped_by_row_and_field():
    checked = rules.check_rows([(5, row(type="x", end_date="2026-03-01"))], ref(), TODAY)
    assert set(checked.errors_by_row()[5]) == {"type", "end_date"}


def test_locations_are_counted_by_region_most_first_and_no_region_last():
    regions = ["west", "east", None, "west", " ", "north", "east", "west"]
    assert rules.by_region(regions) == [("west", 3), ("east", 2), ("north", 1), (None, 2)]
    assert rules.by_region([]) == []
