"""GS1 identifiers: GTIN-8/12/13/14 and GLN-13 carry a mod-10 check digit.

Weights 3, 1, 3, ... start from the rightmost data digit; the check digit is
(10 - sum mod 10) mod 10 (GS1 General Specifications section 7.9.1).
"""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(data: str) -> int:
    """The check digit for these data digits (the identifier without its last digit)."""
    if not data.isdigit():
        raise ValueError(f"{data!r} is not all digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return (10 - total % 10) % 10


def gtin_problem(value: str) -> str | None:
    """Why this GTIN is invalid, or None if it is valid."""
    if not value.isdigit():
        return "a GTIN has digits only"
    if len(value) not in GTIN_LENGTHS:
        return "a GTIN has 8, 12, 13 or 14 digits"
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        return f"check digit should be {expected}"
    return None


def normalize_gtin(value: str) -> str:
    """The GTIN-14 form (zero-padded), raising ValueError with the reason if invalid."""
    value = value.strip()
    problem = gtin_problem(value)
    if problem:
        raise ValueError(f"GTIN {value!r}: {problem}")
    return value.zfill(14)


def gln_problem(value: str) -> str | None:
    """Why this GLN is invalid, or None if it is valid."""
    if not value.isdigit() or len(value) != 13:
        return "a GLN has 13 digits"
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        return f"check digit should be {expected}"
    return None


def with_check_digit(data: str) -> str:
    """Append the check digit: ``with_check_digit("0614141000001")[-1]`` is the digit."""
    return data + str(check_digit(data))
