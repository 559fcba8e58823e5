"""GS1 identifiers: GTIN-8/12/13/14 and GLN-13 carry a mod-10 check digit.

Weights 3, 1, 3, ... start from the rightmost data digit; the check digit is
(10 - sum mod 10) mod 10 (GS1 General Specifications section 7.9.1).
"""

from __future__ import annotations

from collections.abc import Sequence

GTIN_LENGTHS = (8, 12, 13, 14)


def _digits(value: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes full-width and other Unicode digits,
    which would compare as text unlike the digits they look like."""
    return value.isascii() and value.isdigit()


def check_digit(data: str) -> int:
    """The check digit for these data digits (the identifier without its last digit)."""
    if not _digits(data):
        raise ValueError(f"{data!r} is not all digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return (10 - total % 10) % 10


def gtin_problem(value: str) -> str | None:
    """Why this GTIN is invalid, or None if it is valid."""
    if not _digits(value):
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
    if not _digits(value) or len(value) != 13:
        return "a GLN has 13 digits"
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        return f"check digit should be {expected}"
    return None


def with_check_digit(data: str) -> str:
    """Append the check digit: ``with_check_digit("0614141000001")[-1]`` is the digit."""
    return data + str(check_digit(data))


# -- GS1 company prefixes: which GTINs a supplier may register -------------------------

#: A GS1 company prefix has 6 to 12 digits (GS1 General Specifications section 1.4.4);
#: a U.P.C. company prefix is written with its leading zero (614141 is 0614141).
PREFIX_LENGTHS = range(6, 13)


def prefix_problem(prefix: str) -> str | None:
    """Why this is not a GS1 company prefix, or None if it is one."""
    if not _digits(prefix) or len(prefix) not in PREFIX_LENGTHS:
        return f"{prefix!r} is not a GS1 company prefix (6 to 12 digits)"
    return None


def prefixes_overlap(a: str, b: str) -> bool:
    """Whether two prefixes could both hold one GTIN (one begins the other)."""
    return a.startswith(b) or b.startswith(a)


def under_prefix(gtin14: str, prefix: str) -> bool:
    """Whether a GTIN-14 is under a company prefix: the digits after its indicator digit
    begin with it (GTIN-13 and GTIN-12 are padded with zeros to 14 digits first)."""
    return gtin14[1:].startswith(prefix)


def registration_problem(gtin: str, prefixes: Sequence[str]) -> str | None:
    """Why a supplier whose company prefixes are ``prefixes`` may not register this GTIN,
    or None. It does not say whether the GTIN is registered already: ask that only once
    this passes, so that a GTIN under someone else's prefix tells nothing."""
    problem = gtin_problem(gtin.strip())
    if problem:
        return f"GTIN {gtin.strip()!r}: {problem}"
    if not prefixes:
        return (
            "the supplier has no GS1 company prefixes on its partner record yet; the "
            "operator sets them (tandem partner prefixes, or the operator's partners page)"
        )
    gtin14 = gtin.strip().zfill(14)
    if not any(under_prefix(gtin14, p) for p in prefixes):
        return (
            f"GTIN {gtin14} is not under the supplier's GS1 company prefixes "
            f"({', '.join(prefixes)}); register only GTINs of your own prefixes, or ask "
            "the operator to add a prefix you hold"
        )
    return None
