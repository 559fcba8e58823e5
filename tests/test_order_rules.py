"""Purchase order rules (domain.orders), on hand-computed cases: promises that keep the
original commitment, quantities and prices exactly as the hub stores them, the three-way
match, and SSCC-18 carton codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.orders import (
    InvoicedLine,
    OrderError,
    answered_status,
    due_quantity,
    make_sscc,
    price_major,
    price_minor,
    promise_changes,
    shipped_status,
    sscc_problem,
    three_way_match,
    whole_units,
)

MAY_4, MAY_6 = dt.date(2026, 5, 4), dt.date(2026, 5, 6)


def test_the_first_promise_is_the_original_and_a_later_one_a_revision():
    first = promise_changes({}, MAY_4)
    assert first == {"promised_date": "2026-05-04", "original_promised_date": "2026-05-04"}
    again = promise_changes(first, MAY_4)
    assert again == {}  # the same promise changes nothing
    later = promise_changes(first, MAY_6)
    assert later == {"promised_date": "2026-05-06", "revised_date": "2026-05-06"}
    assert "original_promised_date" not in later  # the commitment is kept


def test_a_promise_made_before_originals_were_kept_becomes_the_original():
    legacy = {"promised_date": "2026-05-04T00:00:00", "original_promised_date": None}
    assert promise_changes(legacy, MAY_6) == {
        "original_promised_date": "2026-05-04",
        "promised_date": "2026-05-06",
        "revised_date": "2026-05-06",
    }


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [("12.50", "USD", 1250), ("12.5", "EUR", 1250), ("1200", "JPY", 1200),
     ("1.234", "KWD", 1234), ("0", "USD", 0), ("12.500", "USD", 1250)],
)  # fmt: skip
def test_a_price_is_its_exact_minor_units(price, currency, minor):
    assert price_minor(Decimal(price), currency) == minor
    assert price_major(minor, currency) == Decimal(price)


@pytest.mark.parametrize(
    ("price", "currency", "reason"),
    [("1.179", "USD", "more than 2 decimals for USD"), ("12.5", "JPY", "more than 0"),
     ("-1", "USD", "out of range"), ("1e30", "USD", "out of range")],
)  # fmt: skip
def test_a_price_the_hub_cannot_hold_exactly_is_refused_naming_the_line(price, currency, reason):
    with pytest.raises(OrderError, match=reason) as refused:
        price_minor(Decimal(price), currency, line="3")
    assert str(refused.value).startswith("line 3: ")


def test_quantities_are_whole_units():
    assert whole_units(Decimal("24.000"), "SN102") == 24
    with pytest.raises(OrderError, match=r"SN102 2\.5 is not a whole number"):
        whole_units(Decimal("2.5"), "SN102")
    with pytest.raises(OrderError, match="out of range"):
        whole_units(Decimal(2**31), "SN102")


@given(st.integers(0, 10**12), st.sampled_from(["USD", "JPY", "KWD"]))
def test_minor_units_round_trip(minor, currency):
    assert price_minor(price_major(minor, currency), currency) == minor


def test_a_short_shipment_and_a_price_difference_are_flagged_per_line():
    ordered = [("1", 10, 1250), ("2", 5, 300), ("3", 4, 99)]
    received = {"1": 10, "2": 3}  # line 2 short; line 3 not received yet
    billed = [InvoicedLine("1", 10, 1250), InvoicedLine("2", 5, 300), InvoicedLine("3", 4, 100)]
    match = {m.line: m for m in three_way_match(ordered, received, billed)}
    assert match["1"].matched
    assert match["2"].flags == ("short_received", "invoiced_over_received")
    assert (match["2"].ordered, match["2"].received, match["2"].invoiced) == (5, 3, 5)
    assert match["3"].flags == ("short_received", "invoiced_over_received", "price")
    assert (match["3"].order_price, match["3"].invoice_price) == (99, 100)


def test_until_a_receipt_the_asn_stands_for_it_and_unbilled_or_unknown_lines_show():
    ordered = [("1", 10, 1250), ("2", 5, 300)]
    billed = [InvoicedLine("1", 6, 1250), InvoicedLine("1", 4, 1250), InvoicedLine("9", 1, 5)]
    match = three_way_match(ordered, {}, billed, shipped={"1": 10, "2": 5})
    assert [(m.line, m.flags) for m in match] == [
        ("1", ()),  # two invoice lines of one PO line add up
        ("2", ("not_invoiced",)),
        ("9", ("not_on_order",)),
    ]


def test_no_orders_lines_match_nothing():
    assert three_way_match([], {}, []) == []


def test_an_sscc_has_eighteen_digits_and_its_check_digit():
    sscc = make_sscc(0, "0614141", 1234567)
    assert sscc == "006141410012345675"  # 0, 0614141, 001234567, check digit 5
    assert sscc_problem(sscc) is None
    wrong = sscc[:-1] + str((int(sscc[-1]) + 1) % 10)
    assert "check digit should be" in (sscc_problem(wrong) or "")
    assert sscc_problem("12345") == "an SSCC has 18 digits"
    assert sscc_problem("\uff10\uff106141410012345675") == "an SSCC has 18 digits"  # full-width
    with pytest.raises(ValueError, match="does not fit"):
        make_sscc(0, "0614141", 10**9)


def test_the_gs1_example_sscc_is_valid():
    # GS1 General Specifications, figure 2.2.1-1: (00) 1 0614141 123456789 ...
    assert make_sscc(1, "0614141", 123456789) == "106141411234567897"


def test_an_order_is_rejected_only_when_every_line_is():
    assert answered_status(["rejected", "rejected"]) == "rejected"
    assert answered_status(["rejected", "changed"]) == "acknowledged"
    assert answered_status(["rejected", None]) == "acknowledged"  # one not answered yet
    assert answered_status([]) == "acknowledged"


def test_an_order_ships_in_full_once_every_line_not_rejected_has_shipped_what_it_owes():
    lines = [
        {"id": 1, "qty_ordered": 10, "qty_promised": 8, "answer": "changed"},
        {"id": 2, "qty_ordered": 5, "qty_promised": None, "answer": None},
        {"id": 3, "qty_ordered": 7, "qty_promised": 0, "answer": "rejected"},
    ]
    assert [due_quantity(line) for line in lines] == [8, 5, 0]
    assert shipped_status(lines, {1: 8, 2: 4}) == "partially_shipped"
    assert shipped_status(lines, {1: 8, 2: 5}) == "shipped"
    assert shipped_status(lines, {1: 9, 2: 6}) == "shipped"  # over-shipping is the match's flag
