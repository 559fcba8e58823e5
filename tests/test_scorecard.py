"""The scorecard formulas (domain.scorecard), on cases computed by hand: no orders, zero
actuals, cancelled and rejected orders, partial receipts, agreed changes that replace a
commitment, and periods across week, month, quarter and year boundaries."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from domain import scorecard as sc
from domain.scorecard import Action, Line, Order, Receipt, Settings, Shipment

D = dt.date
UTC = dt.UTC
JAN = sc.period_of(D(2026, 1, 15), "month")
AS_OF = D(2026, 2, 10)
JAN_6, JAN_20 = D(2026, 1, 6), D(2026, 1, 20)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def by_kpi(measures: list[sc.Measure]) -> dict[str, sc.Measure]:
    return {m.kpi: m for m in measures}


# -- periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "grain", "start", "end", "label"),
    [
        # ISO weeks: the week of 2026-12-31 is 2026's 53rd; 2027-01-01 is in it too.
        (D(2026, 12, 31), "week", D(2026, 12, 28), D(2027, 1, 3), "2026-W53"),
        (D(2027, 1, 4), "week", D(2027, 1, 4), D(2027, 1, 10), "2027-W01"),
        (D(2024, 12, 30), "week", D(2024, 12, 30), D(2025, 1, 5), "2025-W01"),
        (D(2028, 2, 29), "month", D(2028, 2, 1), D(2028, 2, 29), "2028-02"),
        (D(2026, 12, 31), "month", D(2026, 12, 1), D(2026, 12, 31), "2026-12"),
        (D(2026, 12, 31), "quarter", D(2026, 10, 1), D(2026, 12, 31), "2026-Q4"),
        (D(2027, 1, 1), "quarter", D(2027, 1, 1), D(2027, 3, 31), "2027-Q1"),
    ],
)
def test_periods_follow_iso_weeks_and_calendar_months_and_quarters(day, grain, start, end, label):
    period = sc.period_of(day, grain)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert day in period


def test_a_fiscal_quarter_crosses_the_calendar_year():
    # A fiscal year starting in February (as retail's 4-5-4 year does): Q4 is Nov-Jan.
    q4 = sc.period_of(D(2027, 1, 20), "quarter", fiscal_start_month=2)
    assert (q4.start, q4.end, q4.label) == (D(2026, 11, 1), D(2027, 1, 31), "FY2026-Q4")
    assert sc.period_of(D(2027, 2, 1), "quarter", 2).label == "FY2027-Q1"
    five = sc.last_quarters(D(2027, 1, 20), 5, fiscal_start_month=2)
    assert [q.label for q in five] == [
        "FY2025-Q4", "FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4",
    ]  # fmt: skip
    assert five[0].start == D(2025, 11, 1)


def test_periods_between_cover_the_range_without_gaps():
    weeks = sc.periods_between(D(2026, 12, 20), D(2027, 1, 6), "week")
    assert [w.label for w in weeks] == ["2026-W51", "2026-W52", "2026-W53", "2027-W01"]
    for before, after in itertools.pairwise(weeks):
        assert after.start == before.end + dt.timedelta(days=1)
    with pytest.raises(ValueError, match="grain"):
        sc.period_of(D(2026, 1, 1), "fortnight")


# -- delivery -------------------------------------------------------------------------


def order(
    oid: int,
    *lines: Line,
    requested: dt.date = JAN_20,
    promised: dt.date | None = JAN_20,
    status: str = "acknowledged",
    ordered: dt.date = JAN_6,
) -> Order:
    return Order(oid, status, ordered, requested, promised, lines=lines)


def got(qty: int, day: dt.date | None, shipment: int = 1, shipped: int | None = None) -> Receipt:
    return Receipt(shipment, D(2026, 1, 15), qty if shipped is None else shipped, day,
                   None if day is None else qty)  # fmt: skip


def test_no_orders_means_no_data_not_zero():
    measures = sc.scorecard([], [], [], JAN, at(AS_OF))
    assert len({m.kpi for m in measures}) == len(measures)
    for m in measures:
        assert m.value is None, m.kpi
        assert m.basis == ()


def test_otif_order_unit_and_case_on_a_partial_receipt():
    # Line 1: 100 units, 60 by the due date, 40 a day late. Line 2: 50 units on time.
    # Order-binary: 0 of 1. Units: (60 + 50) / 150 = 73.3 %. Cases (pack 10 and 5):
    # (6 + 10) / (10 + 10) = 80.0 %.
    o = order(
        1,
        Line(11, 100, 100, case_pack=10,
             receipts=(got(60, D(2026, 1, 20)), got(40, D(2026, 1, 21), shipment=2))),
        Line(12, 50, 50, case_pack=5, receipts=(got(50, D(2026, 1, 19)),)),
    )  # fmt: skip
    assert sc.otif([o], JAN, AS_OF, "order", "promised").value == Decimal("0.0")
    unit = sc.otif([o], JAN, AS_OF, "unit", "promised")
    assert (unit.numerator, unit.denominator, unit.value) == (110, 150, Decimal("73.3"))
    assert (unit.basis, unit.misses) == ((1,), (1,))
    case = sc.otif([o], JAN, AS_OF, "case", "promised")
    assert (case.numerator, case.denominator, case.value) == (16, 20, Decimal("80.0"))


def test_zero_actuals_are_a_real_zero():
    o = order(1, Line(11, 100, 100))  # due, nothing shipped or received
    assert sc.otif([o], JAN, AS_OF, "unit", "promised").value == Decimal("0.0")
    assert sc.otif([o], JAN, AS_OF, "order", "requested").value == Decimal("0.0")


def test_a_promise_later_than_the_request_is_the_commitment_not_the_request():
    # Requested 20 Jan; the supplier promised 25 Jan (the distributor agreed); 80 of 100
    # units promised. Everything promised arrives on 24 Jan.
    o = order(1, Line(11, 100, 80, receipts=(got(80, D(2026, 1, 24)),)), promised=D(2026, 1, 25))
    assert sc.otif([o], JAN, AS_OF, "order", "promised").value == Decimal("100.0")
    requested = sc.otif([o], JAN, AS_OF, "unit", "requested")
    assert (requested.numerator, requested.denominator) == (0, 100)  # nothing by the 20th
    assert sc.perfect_order([o], JAN, AS_OF).value == Decimal("0.0")  # not invoiced yet


def test_cancelled_orders_are_excluded_and_rejected_ones_miss_in_every_variant():
    cancelled = order(1, Line(11, 10), status="cancelled")
    rejected = order(2, Line(21, 10, rejected=True), status="rejected", promised=None)
    ok = order(3, Line(31, 10, 10, receipts=(got(10, D(2026, 1, 19)),), invoiced=10))
    empty = order(4)  # no lines: nothing to judge
    orders = [cancelled, rejected, ok, empty]
    for basis in sc.BASES:
        m = sc.otif(orders, JAN, AS_OF, "order", basis)
        assert (m.basis, m.misses, m.value) == ((2, 3), (2,), Decimal("50.0")), basis
    units = sc.otif(orders, JAN, AS_OF, "unit", "promised")
    assert (units.numerator, units.denominator) == (10, 20)  # the rejected order owes 10
    perfect = sc.perfect_order(orders, JAN, AS_OF)
    assert (perfect.basis, perfect.misses) == ((2, 3), (2,))


def test_a_re_promise_does_not_move_the_commitment_and_no_promise_means_the_request():
    # Requested 15 Jan, first promised 20 Jan, re-promised 25 Jan; arrived 24 Jan: late
    # against the first promise (no agreement to the change is recorded).
    repromised = Order(1, "shipped", D(2026, 1, 2), D(2026, 1, 15), D(2026, 1, 25),
                       lines=(Line(11, 10, 10, receipts=(got(10, D(2026, 1, 24)),)),),
                       original_promised_date=D(2026, 1, 20))  # fmt: skip
    # Never promised (shipped without an answer): judged against its request, 18 Jan.
    unpromised = Order(2, "shipped", D(2026, 1, 2), D(2026, 1, 18),
                       lines=(Line(21, 10, receipts=(got(10, D(2026, 1, 17)),)),))  # fmt: skip
    m = sc.otif([repromised, unpromised], JAN, AS_OF, "order", "promised")
    assert (m.basis, m.misses) == ((1, 2), (1,))


def test_an_order_not_yet_due_is_not_judged():
    o = order(1, Line(11, 10, 10), requested=D(2026, 2, 10), promised=D(2026, 2, 10))
    feb = sc.period_of(D(2026, 2, 1), "month")
    assert sc.otif([o], feb, AS_OF, "order", "promised").basis == ()  # due today
    assert sc.otif([o], feb, D(2026, 2, 11), "order", "promised").basis == (1,)


def test_overages_do_not_make_up_for_a_short_line():
    o = order(1, Line(11, 10, 10, receipts=(got(15, D(2026, 1, 19)),)),
              Line(12, 10, 10, receipts=(got(5, D(2026, 1, 19)),)))  # fmt: skip
    unit = sc.otif([o], JAN, AS_OF, "unit", "promised")
    assert (unit.numerator, unit.denominator) == (15, 20)


def test_the_arrival_window_reports_on_time_and_in_full_apart():
    # Requested 20 Jan, window 17-20 Jan. 40 of 100 cases (pack 1) arrive on the 15th
    # (early), 50 on the 18th: on time 50 / 90 = 55.6 %, in full 90 / 100 = 90.0 %.
    o = order(1, Line(11, 100, 100, receipts=(got(40, D(2026, 1, 15)),
                                            got(50, D(2026, 1, 18), shipment=2))))  # fmt: skip
    on_time, in_full = sc.arrival_window([o], JAN, AS_OF, 3)
    assert (on_time.numerator, on_time.denominator, on_time.value) == (50, 90, Decimal("55.6"))
    assert (in_full.numerator, in_full.denominator, in_full.value) == (90, 100, Decimal("90.0"))


def test_perfect_order_needs_full_on_time_accurate_documents_and_no_damage():
    def line(lid: int, **kw) -> Line:
        base = {"receipts": (got(10, D(2026, 1, 19)),), "invoiced": 10}
        return Line(lid, 10, 10, **{**base, **kw})

    perfect = order(1, line(11))
    damaged = order(2, line(21, receipts=(got(9, D(2026, 1, 19), shipped=10),), invoiced=9))
    misbilled = order(3, line(31, invoiced=12))
    late = order(4, line(41, receipts=(got(10, D(2026, 1, 21)),)))
    m = sc.perfect_order([perfect, damaged, misbilled, late], JAN, AS_OF)
    assert (m.numerator, m.denominator, m.value) == (1, 4, Decimal("25.0"))
    assert m.misses == (2, 3, 4)


def test_fill_rates_line_unit_order_and_first_time():
    # Order 1: line A 100 shipped 70 then 30 (second shipment); line B 50 shipped 50.
    # Order 2: line C 20 shipped 0.
    # Line fill: A and B complete of 3 lines = 66.7 %. Unit: (100 + 50 + 0) / 170 = 88.2 %.
    # Order fill: 1 of 2 = 50.0 %. First time: (70 + 50 + 0) / 170 = 70.6 %.
    a = Line(11, 100, receipts=(Receipt(1, D(2026, 1, 12), 70), Receipt(2, D(2026, 1, 16), 30)))
    b = Line(12, 50, receipts=(Receipt(1, D(2026, 1, 12), 50),))
    c = Line(21, 20)
    fills = by_kpi(sc.fill_rates([order(1, a, b), order(2, c)], JAN, AS_OF))
    assert fills["fill.line"].value == Decimal("66.7")
    assert fills["fill.unit"].value == Decimal("88.2")
    assert fills["fill.order"].value == Decimal("50.0")
    assert fills["fill.first_time"].value == Decimal("70.6")
    assert (fills["fill.line"].basis, fills["fill.line"].misses) == ((1, 2), (2,))


def test_lead_time_mean_sigma_and_cv_by_hand():
    # Received after 10, 12 and 17 days: mean 13, sigma sqrt((9 + 1 + 16) / 3) = 2.944,
    # cv 2.944 / 13 = 0.23.
    def received(oid: int, days: int) -> Order:
        ordered = D(2026, 1, 2)
        arrival = ordered + dt.timedelta(days=days)
        return order(oid, Line(oid * 10, 5, 5, receipts=(got(5, arrival),)), ordered=ordered)

    partial = order(9, Line(90, 5, 5, receipts=(got(3, D(2026, 1, 12)),)))  # not complete
    mean, sigma, cv = sc.lead_time([received(1, 10), received(2, 12), received(3, 17), partial],
                                   JAN)  # fmt: skip
    assert (mean.value, mean.numerator, mean.denominator) == (Decimal("13.0"), 39, 3)
    assert sigma.value == Decimal("2.9")
    assert cv.value == Decimal("0.23")
    assert mean.basis == (1, 2, 3)


def test_asn_timeliness_and_accuracy():
    shipments = [
        Shipment(1, D(2026, 1, 10), at(D(2026, 1, 10)), D(2026, 1, 12), ((10, 10),)),
        Shipment(2, D(2026, 1, 10), at(D(2026, 1, 12), 8), D(2026, 1, 12), ((10, 9),)),
        Shipment(3, D(2026, 1, 10), None, D(2026, 1, 13), ((5, 5),)),  # before stamping
        Shipment(4, D(2026, 1, 30), at(D(2026, 1, 30)), None, ((5, None),)),  # in transit
    ]
    timely, accurate = sc.asn_measures(shipments, JAN)
    assert (timely.basis, timely.misses, timely.value) == ((1, 2), (2,), Decimal("50.0"))
    assert (accurate.basis, accurate.misses) == ((1, 2, 3), (2,))
    assert accurate.value == Decimal("66.7")


def test_acknowledgement_within_24_hours_of_placement():
    placed = at(D(2026, 1, 5), 9)

    def o(oid: int, acked: dt.datetime | None, **kw) -> Order:
        return Order(oid, kw.get("status", "acknowledged"), D(2026, 1, 5), D(2026, 1, 20),
                     placed_at=kw.get("placed", placed), acknowledged_at=acked)  # fmt: skip

    orders = [
        o(1, placed + dt.timedelta(hours=24)),  # exactly 24 h: in time
        o(2, placed + dt.timedelta(hours=24, seconds=1)),
        o(3, None),  # never answered, deadline long past
        o(4, None, placed=at(D(2026, 1, 31), 20)),  # placed 20:00 on the 31st: still open
        o(5, None, placed=None),  # placed before the hub stamped placement
        o(6, None, status="cancelled"),
    ]
    m = sc.acknowledged_in_time(orders, JAN, at(D(2026, 2, 1), 10))
    assert (m.basis, m.misses, m.value) == ((1, 2, 3), (2, 3), Decimal("33.3"))


def test_jbp_adherence_counts_actions_due_and_done_on_time():
    actions = [
        Action(1, "done", D(2026, 1, 10), D(2026, 1, 9)),
        Action(2, "done", D(2026, 1, 10), D(2026, 1, 11)),  # late
        Action(3, "open", D(2026, 1, 20), None),
        Action(4, "dropped", D(2026, 1, 20), None),  # not due
        Action(5, "open", D(2026, 2, 20), None),  # due next month
    ]
    m = sc.jbp_adherence(actions, JAN, AS_OF)
    assert (m.basis, m.misses, m.value) == ((1, 2, 3), (2, 3), Decimal("33.3"))


def test_a_quarter_that_crosses_the_year_counts_orders_on_both_sides():
    q4 = sc.period_of(D(2027, 1, 5), "quarter", fiscal_start_month=2)  # Nov 2026 - Jan 2027
    december = order(1, Line(11, 10, 10, receipts=(got(10, D(2026, 12, 20)),)),
                     requested=D(2026, 12, 20), promised=D(2026, 12, 20))  # fmt: skip
    january = order(2, Line(21, 10, 10), requested=D(2027, 1, 10), promised=D(2027, 1, 10))
    m = sc.otif([december, january], q4, D(2027, 2, 3), "order", "promised")
    assert (m.basis, m.misses, m.value) == ((1, 2), (2,), Decimal("50.0"))


def test_every_measure_names_its_variant_and_the_headline_is_the_pairs_choice():
    measures = sc.scorecard([], [], [], JAN, at(AS_OF), Settings("unit", "requested"))
    assert all(m.variant and m.collection for m in measures)
    assert Settings("unit", "requested").headline_otif in {m.kpi for m in measures}
    with pytest.raises(ValueError, match="otif_level"):
        Settings("pallet")


def test_the_digest_changes_with_the_figures_or_the_records_behind_them():
    o = order(1, Line(11, 10, 10, receipts=(got(10, D(2026, 1, 19)),)))
    first = sc.digest(sc.scorecard([o], [], [], JAN, at(AS_OF)))
    assert first == sc.digest(sc.scorecard([o], [], [], JAN, at(AS_OF)))
    late = order(1, Line(11, 10, 10, receipts=(got(10, D(2026, 1, 22)),)))
    assert first != sc.digest(sc.scorecard([late], [], [], JAN, at(AS_OF)))


def test_every_kpi_has_a_name_and_targets_are_read_in_the_right_direction():
    measures = sc.scorecard([], [], [], JAN, at(AS_OF))
    assert [m.kpi for m in measures] == list(sc.KPI_NAMES)
    assert sc.off_target("fill.unit", Decimal("94.9"), Decimal("95")) is True
    assert sc.off_target("fill.unit", Decimal("95.0"), Decimal("95")) is False
    assert sc.off_target("lead_time.mean", Decimal("15.0"), Decimal("14")) is True
    assert sc.off_target("fill.unit", None, Decimal("95")) is None
    assert sc.headline(Settings("case", "requested"))[0] == "otif.case.requested"


def test_risk_scores_bands_and_overdue_reviews():
    from domain import risks

    assert risks.score(4, 5) == 20
    assert [risks.band(s) for s in (1, 4, 5, 9, 10, 16, 20, 25)] == [
        "low", "low", "medium", "medium", "high", "high", "critical", "critical",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="impact"):
        risks.score(3, 6)
    today = D(2027, 1, 6)
    assert risks.review_overdue("open", D(2027, 1, 5), today)
    assert not risks.review_overdue("open", today, today)
    assert not risks.review_overdue("closed", D(2026, 1, 1), today)
    assert risks.review_overdue("mitigating", None, today)


def test_promotion_uplift_against_the_four_weeks_before():
    # A promotion from Wednesday 14 Jan to Sunday 25 Jan 2026 runs in the weeks of 12 and
    # 19 Jan; its baseline is the four weeks from 15 Dec. Baseline (100+100+80+120)/4 = 100,
    # during (150+130)/2 = 140: +40.0 %, against a plan of +25 %: 15.0 points over.
    weekly = {D(2025, 12, 15): 100, D(2025, 12, 22): 100, D(2025, 12, 29): 80,
              D(2026, 1, 5): 120, D(2026, 1, 12): 150, D(2026, 1, 19): 130,
              D(2026, 1, 26): 999}  # fmt: skip
    lift = sc.uplift(weekly, D(2026, 1, 14), D(2026, 1, 25), 25)
    assert (lift.baseline, lift.during, lift.pct, lift.vs_plan) == (
        Decimal("100.0"), Decimal("140.0"), Decimal("40.0"), Decimal("15.0"),
    )  # fmt: skip
    # A week with no sales counts as 0; no baseline at all: no lift to speak of.
    assert sc.uplift({D(2026, 1, 12): 50}, D(2026, 1, 12), D(2026, 1, 18), 10).pct is None
    during, baseline = sc.promotion_weeks(D(2026, 12, 30), D(2027, 1, 5))
    assert during == [D(2026, 12, 28), D(2027, 1, 4)]
    assert baseline[0] == D(2026, 11, 30)


def test_a_quarter_is_found_by_its_label():
    assert sc.quarter_named("2026-q4").start == D(2026, 10, 1)
    fiscal = sc.quarter_named("FY2026-Q4", fiscal_start_month=2)
    assert (fiscal.start, fiscal.end, fiscal.label) == (D(2026, 11, 1), D(2027, 1, 31), "FY2026-Q4")
    for bad in ("2026-Q5", "26-Q1", "2026Q1", ""):
        with pytest.raises(ValueError, match="quarter"):
            sc.quarter_named(bad)


# -- sell-through, weeks of supply, in-stock, promotions per period ---------------------


@pytest.mark.parametrize(
    ("day", "grain", "first", "last", "weeks"),
    [
        # A week belongs to the period of its Thursday: 2026-W53 (Mon 28 Dec) is December's
        # and 2026's; 2027's January starts with the week of Mon 4 Jan.
        (D(2026, 12, 2), "month", D(2026, 11, 30), D(2026, 12, 28), 5),
        (D(2027, 1, 1), "month", D(2027, 1, 4), D(2027, 1, 25), 4),
        (D(2026, 1, 15), "month", D(2025, 12, 29), D(2026, 1, 26), 5),
        (D(2026, 11, 1), "quarter", D(2026, 9, 28), D(2026, 12, 28), 14),
        (D(2027, 1, 1), "week", D(2026, 12, 28), D(2026, 12, 28), 1),
    ],
)
def test_a_periods_weeks_are_those_whose_thursday_it_holds(day, grain, first, last, weeks):
    got = sc.period_weeks(sc.period_of(day, grain))
    assert (got[0], got[-1], len(got)) == (first, last, weeks)


DEC = sc.period_of(D(2026, 12, 10), "month")  # weeks of 30 Nov .. 28 Dec
DEC_WEEKS = sc.period_weeks(DEC)
LOOKBACK = [D(2026, 12, 7), D(2026, 12, 14), D(2026, 12, 21), D(2026, 12, 28)]


def retail(weekly, shared=None, snapshots=None) -> sc.Retail:
    return sc.Retail(weekly, frozenset(shared if shared is not None else weekly), snapshots or {})


def test_sell_through_weeks_of_supply_and_in_stock_by_hand():
    weekly = {w: 100 for w in DEC_WEEKS}  # 500 sold in December
    weekly[D(2026, 12, 28)] = 60  # 460
    snapshots = {
        D(2026, 12, 20): sc.Snapshot(900, 10, 9),
        D(2026, 12, 31): sc.Snapshot(540, 10, 8),  # the last: 540 on hand
        D(2027, 1, 1): sc.Snapshot(1, 10, 1),  # January's, not December's
    }
    got = by_kpi(sc.retail_measures(retail(weekly, snapshots=snapshots), DEC, D(2027, 1, 5)))
    # 460 ÷ (460 + 540) = 46.0 %
    assert got["sell_through"].value == Decimal("46.0")
    assert (got["sell_through"].numerator, got["sell_through"].denominator) == (460, 1000)
    # 540 ÷ ((100 + 100 + 100 + 60) ÷ 4 = 90) = 6.0 weeks
    assert got["wos"].value == Decimal("6.0")
    assert (got["wos"].numerator, got["wos"].denominator) == (540, 90)
    assert got["wos"].unit == "weeks"
    # store-SKU-days with stock: 9 + 8 of 20
    assert got["in_stock"].value == Decimal("85.0")
    assert all("shares them with the pair's supplier" in m.variant for m in got.values())


def test_a_week_not_shared_is_unknown_not_zero():
    weekly = {w: 100 for w in DEC_WEEKS}
    shared = set(DEC_WEEKS) - {D(2026, 12, 7)}  # a week in December and in the lookback
    snapshots = {D(2026, 12, 31): sc.Snapshot(540, 10, 8)}
    got = by_kpi(sc.retail_measures(retail(weekly, shared, snapshots), DEC, D(2027, 1, 5)))
    assert got["sell_through"].value is None
    assert got["wos"].value is None
    assert got["in_stock"].value == Decimal("80.0")  # the snapshot is shared: still known
    nothing = by_kpi(sc.retail_measures(sc.Retail(), DEC, D(2027, 1, 5)))
    assert [m.value for m in nothing.values()] == [None, None, None]


def test_the_current_period_counts_its_weeks_ended_so_far():
    weekly = {w: 100 for w in [D(2026, 11, 9), D(2026, 11, 16), *DEC_WEEKS]}
    weekly[D(2026, 11, 23)] = 100
    snapshots = {D(2026, 12, 6): sc.Snapshot(300, 4, 4), D(2026, 12, 9): sc.Snapshot(80, 4, 2)}
    # On Thu 10 Dec only the week of 30 Nov has ended: 100 sold, and 300 on hand at its
    # end (9 Dec's stock has this week's sales, not counted yet, taken off already).
    got = by_kpi(sc.retail_measures(retail(weekly, snapshots=snapshots), DEC, D(2026, 12, 10)))
    assert got["sell_through"].value == Decimal("25.0")
    # The lookback is the 4 weeks to 30 Nov: 100 a week.
    assert got["wos"].value == Decimal("3.0")
    assert got["in_stock"].value == Decimal("75.0")  # every snapshot of the period: 6 of 8


def test_zero_sales_and_no_stock():
    weekly = dict.fromkeys(DEC_WEEKS, 0)
    snapshots = {D(2026, 12, 31): sc.Snapshot(0, 5, 0)}
    got = by_kpi(sc.retail_measures(retail(weekly, snapshots=snapshots), DEC, D(2027, 1, 5)))
    assert got["sell_through"].value is None  # 0 ÷ 0
    assert got["wos"].value == Decimal("0.0")  # no stock is out
    assert got["in_stock"].value == Decimal("0.0")
    stocked = {D(2026, 12, 31): sc.Snapshot(50, 5, 5)}
    got = by_kpi(sc.retail_measures(retail(weekly, snapshots=stocked), DEC, D(2027, 1, 5)))
    assert got["sell_through"].value == Decimal("0.0")
    assert got["wos"].value is None  # stock, no demand: no finite cover


def promo(id_, start, end, planned, weekly) -> sc.Promotion:
    return sc.Promotion(id_, start, end, planned, weekly)


def test_promotions_that_ended_in_the_period_uplift_and_plan_by_hand():
    # Runs 9-22 Nov (weeks of 9 and 16 Nov); baseline the 4 weeks from 12 Oct.
    base = {D(2026, 10, 12): 100, D(2026, 10, 19): 100, D(2026, 10, 26): 80, D(2026, 11, 2): 120}
    a = promo(1, D(2026, 11, 9), D(2026, 11, 22), 25, {**base, D(2026, 11, 9): 150,
                                                      D(2026, 11, 16): 130})  # fmt: skip
    # baseline 100/week, 140 during: +40 % (plan 25: met)
    b = promo(2, D(2026, 11, 2), D(2026, 11, 8), 30, {D(2026, 10, 5): 50, D(2026, 10, 12): 50,
              D(2026, 10, 19): 50, D(2026, 10, 26): 50, D(2026, 11, 2): 55})  # fmt: skip
    # baseline 50, 55 during: +10 % (plan 30: missed)
    c = promo(3, D(2026, 11, 2), D(2026, 11, 8), 10, None)  # not shared whole: left out
    d = promo(4, D(2026, 11, 16), D(2026, 11, 29), None, {})  # no baseline sales: no lift
    e = promo(5, D(2026, 12, 1), D(2026, 12, 6), 5, dict.fromkeys(DEC_WEEKS, 10))  # December's
    nov = sc.period_of(D(2026, 11, 1), "month")
    got = by_kpi(sc.promotion_measures([a, b, c, d, e], nov, D(2026, 12, 10)))
    # (140 - 100) + (55 - 50) = 45 extra a week over 150: 30.0 %
    uplift = got["promo.uplift"]
    assert (uplift.numerator, uplift.denominator, uplift.value) == (45, 150, Decimal("30.0"))
    assert uplift.basis == (1, 2)
    on_plan = got["promo.on_plan"]
    assert (on_plan.value, on_plan.basis, on_plan.misses) == (Decimal("50.0"), (1, 2), (2,))
    # A promotion still running (or ending today) is not judged yet.
    early = by_kpi(sc.promotion_measures([a], nov, D(2026, 11, 22)))
    assert early["promo.uplift"].value is None
