"""The one rule that reads a delivered quantity or amount under a mapping's decimal and
thousands separators (:func:`domain.ingest.parse_number`), and the validator's fast
paths that must agree with it. Pure: no hub.

Seen before the rule: ``12,50`` was stored as 1,250.00 and ``1,5`` units as 15 (every
comma was dropped). Now a value means one thing under the mapping, or it is refused.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ingest import (
    DECIMAL_SEPARATORS,
    MAX_MINOR,
    MAX_UNITS,
    THOUSANDS_SEPARATORS,
    check_separators,
    format_number,
    minor_exponent,
    parse_money,
    parse_number,
    parse_units,
)
from ingest.validate import Bad, _minor, _units

CONVENTIONS = [(d, t) for d in DECIMAL_SEPARATORS for t in THOUSANDS_SEPARATORS if t != d]
conventions = st.sampled_from(CONVENTIONS)
currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD"])  # 2, 2, 0 and 3 decimals


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "value"),
    [
        ("12,50", ",", "", "12.50"),
        ("1.234,5", ",", ".", "1234.5"),
        ("1.234.567,891", ",", ".", "1234567.891"),
        ("1234,5", ",", ".", "1234.5"),  # grouping is optional, never partial
        ("1,234", ",", "", "1.234"),  # under a decimal comma, 1,234 is 1.234: never 1234
        ("1,234", ",", ".", "1.234"),
        ("1,234.56", ".", ",", "1234.56"),
        ("1,234", ".", ",", "1234"),
        ("1 234,56", ",", " ", "1234.56"),
        ("1\u00a0234,56", ",", " ", "1234.56"),  # no-break space, as spreadsheets write
        ("1\u202f234,56", ",", " ", "1234.56"),  # narrow no-break space
        ("1'234.50", ".", "'", "1234.50"),
        ("1\u2019234.50", ".", "'", "1234.50"),
        ("  -2,50 ", ",", "", "-2.50"),
        ("+3", ".", "", "3"),
        ("-,5", ",", "", "-0.5"),
        ("0007", ".", "", "7"),
    ],
)
def test_a_value_that_fits_the_separators_means_one_number(text, decimal, thousands, value):
    assert parse_number(text, decimal, thousands) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "decimal", "thousands"),
    [
        ("12,50", ".", ""),  # seen stored as 1,250.00
        ("1,5", ".", ""),  # seen stored as 15 units
        ("1.234,5", ".", ""),
        ("1,234.5", ".", ""),  # grouped, but the mapping has no thousands separator
        ("1.234", ",", ""),
        ("12,50", ".", ","),  # a group of 2 digits is not a thousands group
        ("12.50", ",", "."),
        ("1.2345,6", ",", "."),
        ("1234.567,8", ",", "."),  # grouping begun late
        ("1,2,3", ",", ""),
        ("1 234", ",", ""),
        ("1.234", ",", " "),
        ("5,", ",", ""),  # a separator with no digits after it
        ("", ".", ""),
        ("-", ".", ""),
        (",", ",", ""),
        ("1e3", ".", ""),
        ("NaN", ".", ""),
        ("Infinity", ".", ""),
        ("€12,50", ",", ""),
        ("12,50 €", ",", ""),
        ("(12.50)", ".", ""),
        ("12.50-", ".", ""),
        ("1_000", ".", ""),
        ("\u0661\u0662", ".", ""),  # Arabic-Indic digits
        ("- 5", ".", ""),
    ],
)
def test_a_value_that_does_not_fit_is_refused_never_guessed(text, decimal, thousands):
    with pytest.raises(ValueError, match="is not a number under this mapping") as refused:
        parse_number(text, decimal, thousands)
    # the reason says which separators the mapping has, with an example
    assert f"decimal separator: {DECIMAL_SEPARATORS[decimal]}" in str(refused.value)
    assert format_number(Decimal("1234.56"), decimal, thousands) in str(refused.value)


def test_units_refuse_a_fraction_and_name_the_field():
    assert parse_units("1.200", "on_hand", ",", ".") == 1200
    assert parse_units("3,0", "units", ",", "") == 3  # whole, however written
    with pytest.raises(ValueError, match=r"^units '1,5' is not a whole number"):
        parse_units("1,5", "units", ",", "")
    with pytest.raises(ValueError, match=r"^on_hand '1,234' is not a whole number"):
        parse_units("1,234", "on_hand", ",", "")
    with pytest.raises(ValueError, match=r"^units '1,5' is not a number under this mapping"):
        parse_units("1,5")  # the default mapping: decimal point, no thousands separator
    with pytest.raises(ValueError, match="out of range"):
        parse_units(str(MAX_UNITS + 1))


def test_money_is_exact_minor_units_and_never_rounded():
    assert parse_money("12,50", "EUR", decimal=",") == 1250
    assert parse_money("1.234,56", "EUR", decimal=",", thousands=".") == 123456
    assert parse_money("1.234", "EUR", decimal=",", thousands=".") == 123400
    assert parse_money("7,500", "EUR", decimal=",") == 750  # trailing zeros are no decimals
    assert parse_money("1.234", "KWD") == 1234  # three decimals
    assert parse_money("1.234", "JPY", decimal=",", thousands=".") == 1234
    assert parse_money("", "EUR") == 0
    assert parse_money("90071992547409,91", "EUR", decimal=",") == MAX_MINOR == 2**53 - 1
    with pytest.raises(ValueError, match=r"^net_sales '1,234' has more than 2 decimals for EUR"):
        parse_money("1,234", "EUR", decimal=",")
    with pytest.raises(ValueError, match="more than 2 decimals"):
        parse_money("1.0000000000000000000000000001", "USD")  # 29 digits: no context rounding
    with pytest.raises(ValueError, match=r"^net_sales '12,50' is not a number under this"):
        parse_money("12,50", "USD")
    with pytest.raises(ValueError, match="out of range"):
        parse_money("90071992547409,92", "EUR", decimal=",")


@pytest.mark.parametrize(
    ("decimal", "thousands", "says"),
    [
        (".", ".", "cannot be the decimal separator"),
        (",", ",", "cannot be the decimal separator"),
        (";", "", "decimal separator ';' is not one of"),
        (".", "_", "thousands separator '_' is not one of"),
    ],
)
def test_separators_a_mapping_may_not_have(decimal, thousands, says):
    with pytest.raises(ValueError, match=says):
        check_separators(decimal, thousands)


@settings(max_examples=300, deadline=None)  # a loaded machine is not a slow rule
@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d.adjusted()) < 30
    ),
    convention=conventions,
)
def test_format_then_parse_gives_the_same_number_under_every_convention(value, convention):
    decimal, thousands = convention
    text = format_number(value, decimal, thousands)
    back = parse_number(text, decimal, thousands)
    assert back == value
    assert format_number(back, decimal, thousands) == text


@settings(max_examples=300, deadline=None)  # a loaded machine is not a slow rule
@given(minor=st.integers(-MAX_MINOR, MAX_MINOR), currency=currencies, convention=conventions)
def test_an_amount_written_in_either_convention_is_its_exact_minor_units(
    minor, currency, convention
):
    decimal, thousands = convention
    text = format_number(Decimal(minor).scaleb(-minor_exponent(currency)), decimal, thousands)
    assert parse_money(text, currency, decimal=decimal, thousands=thousands) == minor


@settings(max_examples=300, deadline=None)  # a loaded machine is not a slow rule
@given(units=st.integers(-MAX_UNITS, MAX_UNITS), convention=conventions)
def test_units_written_in_either_convention_read_back(units, convention):
    decimal, thousands = convention
    text = format_number(Decimal(units), decimal, thousands)
    assert parse_units(text, "units", decimal, thousands) == units


_TEXT = st.text(alphabet="0123456789.,-+ '_\u00a0\u0661e", max_size=12)


def _outcome(call):
    try:
        return call()
    except ValueError:
        return "refused"


@settings(max_examples=1000, deadline=None)  # a loaded machine is not a slow rule
@given(text=_TEXT, convention=conventions, currency=currencies)
def test_the_validators_fast_paths_agree_with_the_rule(text, convention, currency):
    """The hot loop reads plain integers and plain amounts without the rule; whatever
    it accepts, the rule reads the same, and what it refuses the rule refuses."""
    decimal, thousands = convention
    units = _units(text, "units", decimal, thousands)
    rule = _outcome(lambda: parse_units(text, "units", decimal, thousands))
    assert ("refused" if type(units) is Bad else units) == rule
    if text:  # an empty amount is 0 and never reaches the validator
        minor = _minor(text, currency, decimal, thousands)
        rule = _outcome(lambda: parse_money(text, currency, decimal=decimal, thousands=thousands))
        assert ("refused" if type(minor) is Bad else minor) == rule
