"""The order and pages of long lists (domain.listing): natural order for store codes,
sorts that keep rows without a value last, page numbers."""

from __future__ import annotations

from domain.listing import natural_key, ordered, page_of


def test_store_codes_sort_in_natural_order_whatever_their_case():
    codes = ["S10", "Store 9", "S2", "s3", "S10A", "S1", "S100"]
    assert sorted(codes, key=natural_key) == ["S1", "S2", "s3", "S10", "S10A", "S100", "Store 9"]


def test_natural_order_compares_text_with_text_and_numbers_with_numbers():
    """A code that starts with a digit and one that starts with a letter compare without a
    TypeError; equal-looking codes ("S02", "S2") keep a total order."""
    codes = ["B7", "12", "A", "2", "S02", "S2", ""]
    assert sorted(codes, key=natural_key) == ["", "2", "12", "A", "B7", "S02", "S2"]


def test_rows_without_a_value_stay_last_both_ways():
    rows = [("a", 3), ("b", None), ("c", 1), ("d", 3), ("e", None)]
    value = lambda r: r[1]  # noqa: E731
    assert [r[0] for r in ordered(rows, value)] == ["c", "a", "d", "b", "e"]
    assert [r[0] for r in ordered(rows, value, descending=True)] == ["a", "d", "c", "b", "e"]


def test_pages_hold_per_page_items_and_a_page_past_the_end_is_the_last():
    items = list(range(61))
    first = page_of(items, 1, 50)
    assert (first.items, first.page, first.pages, first.total) == (items[:50], 1, 2, 61)
    assert page_of(items, 2, 50).items == items[50:]
    assert page_of(items, 99, 50).page == 2
    assert page_of(items, 0, 50).page == 1
    assert page_of([], 3, 50) == ([], 1, 1, 0)
