"""Replenishment suggestions: a base-stock (order-up-to) policy per location x SKU.

Demand is the location's weekly units sold, d its mean and sigma_d its (population)
standard deviation; the lead time LT is in weeks, with its standard deviation sigma_LT,
from the pair's receipts. With z the standard normal quantile of the pair's service
level (cycle service level: the chance of no stock-out in a replenishment cycle):

- safety stock  SS = z * sqrt(LT * sigma_d^2 + d^2 * sigma_LT^2)
  (demand and lead-time variability together; kpis.md, King's formula);
- base stock    S  = d * (LT + R) + SS, R the review period (weeks between orders);
- position         = on hand + in transit + on order;
- suggestion       = S - position when positive, rounded up to whole case packs.

Quantities are exact decimals; only z comes from a float (the normal quantile), taken
to 4 places. Everything here is pure: the portal reads the inputs, this decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal, InvalidOperation
from statistics import NormalDist
from typing import Any

DEFAULT_SERVICE_LEVEL = Decimal("0.95")
DEFAULT_REVIEW_WEEKS = Decimal(1)
#: How far a commitment may differ from the forecast (% of the forecast) before the
#: comparison page highlights it.
DEFAULT_TOLERANCE_PCT = Decimal(20)
DEMAND_WEEKS = 13  # the weeks of history demand is measured over
TWO_PLACES = Decimal("0.01")
FORMULA = (
    "safety stock = z * sqrt(LT * sigma_d^2 + d^2 * sigma_LT^2); base stock = d * (LT + R) "
    "+ safety stock; suggested = base stock - (on hand + in transit + on order), up to "
    "whole cases"
)


def z_score(service_level: Decimal) -> Decimal:
    """The standard normal quantile of a service level in (0, 1), to 4 places:
    0.95 -> 1.6449."""
    if not Decimal(0) < service_level < Decimal(1):
        raise ValueError(
            f"service level: expected a fraction between 0 and 1, found {service_level}"
        )
    z = NormalDist().inv_cdf(float(service_level))
    return Decimal(str(z)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def mean_and_sigma(values: Sequence[int | Decimal]) -> tuple[Decimal, Decimal]:
    """Mean and population standard deviation, exact up to the square root."""
    if not values:
        return Decimal(0), Decimal(0)
    n = Decimal(len(values))
    mean = sum((Decimal(v) for v in values), Decimal(0)) / n
    variance = sum(((Decimal(v) - mean) ** 2 for v in values), Decimal(0)) / n
    return mean, variance.sqrt()


@dataclass(frozen=True)
class Policy:
    """A pair's planning policy: its cycle service level (a fraction), review period
    (weeks between orders), and the tolerance (% of the forecast) a commitment may
    differ by before the comparison page highlights it. Set by ``tandem partner
    planning``."""

    service_level: Decimal = DEFAULT_SERVICE_LEVEL
    review_weeks: Decimal = DEFAULT_REVIEW_WEEKS
    tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT

    def __post_init__(self) -> None:
        for name in ("service_level", "review_weeks", "tolerance_pct"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                try:
                    object.__setattr__(self, name, Decimal(str(value)))
                except InvalidOperation:
                    raise ValueError(f"{name.replace('_', ' ')}: not a number: {value!r}") from None
            if not getattr(self, name).is_finite():
                raise ValueError(f"{name.replace('_', ' ')}: not a number: {value!r}")
        z_score(self.service_level)  # refuses a level outside (0, 1)
        if not Decimal(0) <= self.review_weeks <= Decimal(52):
            raise ValueError(f"review weeks: expected 0 to 52, found {self.review_weeks}")
        if not Decimal(0) <= self.tolerance_pct <= Decimal(1000):
            raise ValueError(f"tolerance pct: expected 0 to 1000, found {self.tolerance_pct}")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Policy:
        """The policy a pair's stored settings name (the defaults for any not named)."""
        known = {
            k: v
            for k, v in (settings or {}).items()
            if k in ("service_level", "review_weeks", "tolerance_pct")
        }
        return cls(**known)

    def as_settings(self) -> dict[str, str]:
        return {
            "service_level": str(self.service_level),
            "review_weeks": str(self.review_weeks),
            "tolerance_pct": str(self.tolerance_pct),
        }


@dataclass(frozen=True)
class Inputs:
    """What one location x SKU's suggestion is computed from."""

    weekly_units: tuple[int, ...]  # the last weeks' sales, oldest first (0 for none)
    lead_time_weeks: Decimal
    lead_time_sigma_weeks: Decimal
    on_hand: int
    in_transit: int
    on_order: int
    case_pack: int = 1
    service_level: Decimal = DEFAULT_SERVICE_LEVEL
    review_weeks: Decimal = DEFAULT_REVIEW_WEEKS


@dataclass(frozen=True)
class Suggestion:
    """The numbers behind a suggestion, each shown beside it."""

    demand: Decimal  # d, units a week
    demand_sigma: Decimal  # sigma_d
    z: Decimal
    safety_stock: Decimal
    base_stock: Decimal
    position: int
    short: Decimal  # base stock - position, when positive
    quantity: int  # units to order: whole cases
    cases: int


def suggest(inputs: Inputs) -> Suggestion:
    """The base-stock suggestion for one location x SKU (see the module's formulas)."""
    if inputs.case_pack < 1:
        raise ValueError(f"case pack: expected at least 1, found {inputs.case_pack}")
    if inputs.lead_time_weeks < 0 or inputs.lead_time_sigma_weeks < 0:
        raise ValueError("lead time: expected weeks of 0 or more")
    d, sigma_d = mean_and_sigma(inputs.weekly_units)
    z = z_score(inputs.service_level)
    lt, sigma_lt = inputs.lead_time_weeks, inputs.lead_time_sigma_weeks
    safety = z * (lt * sigma_d**2 + d**2 * sigma_lt**2).sqrt()
    base = d * (lt + inputs.review_weeks) + safety
    position = inputs.on_hand + inputs.in_transit + inputs.on_order
    short = max(base - position, Decimal(0))
    cases = int((short / inputs.case_pack).to_integral_value(rounding=ROUND_CEILING))
    return Suggestion(
        demand=_two(d),
        demand_sigma=_two(sigma_d),
        z=z,
        safety_stock=_two(safety),
        base_stock=_two(base),
        position=position,
        short=_two(short),
        quantity=cases * inputs.case_pack,
        cases=cases,
    )


def _two(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_EVEN)
