"""XmR charts (Making Data Count): the published plotthedots check case, each special-cause rule,
the precedence between them, ties, gaps, baselines, rebasing and both icons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pcnkit.assurance.spc import (
    NEAR_LIMIT_FACTOR,
    OUTSIDE_LIMITS,
    SHIFT,
    TREND,
    TWO_OF_THREE,
    xmr,
)
from pcnkit.errors import BadValue

# A baseline of 12 points alternating 12, 10: mean 11 exactly, every moving range 2, so the
# limits are 11 ± 5.32 (5.68 to 16.32) and the near-limit lines 11 ± 3.5467 (7.4533 to 14.5467).
# Alternating points make no run of either kind; it ends on 10, below the mean.
BASE = [12, 10] * 6


def later(extra, **options):
    """A chart whose limits are fixed on BASE, judging the `extra` points after it."""
    return xmr([*BASE, *extra], baseline=12, **options)


def signals(chart, start=12):
    return [(p.signal, p.direction) for p in chart.points[start:]]


def months(n):
    """n month starts from January 2024."""
    return [dt.date(2024 + k // 12, k % 12 + 1, 1) for k in range(n)]


# --- the published check case (NHS-R plotthedots documentation) ----------------------------

CHECK = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


def test_published_case_with_screening():
    chart = xmr(CHECK)
    (segment,) = chart.segments
    assert round(segment.mean, 2) == 1.94
    assert round(segment.upper, 2) == 4.6
    assert round(segment.lower, 2) == -0.72
    # the two moving ranges either side of the 10 (8 and 9) are screened out, leaving 15 ones
    assert segment.screened == 2
    assert segment.mean_mr == 1.0
    assert [p.index for p in chart.points if p.screened_out] == [4, 5]
    assert [(p.index, p.signal, p.direction) for p in chart.points if p.signal] == [
        (4, OUTSIDE_LIMITS, 1)
    ]


def test_published_case_without_screening_reproduces_the_excel_tool():
    chart = xmr(CHECK, screen_moving_ranges=False)
    (segment,) = chart.segments
    assert round(segment.mean, 2) == 1.94
    assert round(segment.upper, 2) == 6.95
    assert round(segment.lower, 2) == -3.06
    assert segment.mean_mr == pytest.approx(32 / 17)
    assert segment.screened == 0
    assert [(p.index, p.signal) for p in chart.points if p.signal] == [(4, OUTSIDE_LIMITS)]
    assert any("not screened" in note for note in chart.notes)


def test_limits_and_near_limit_lines():
    chart = xmr(BASE)
    (segment,) = chart.segments
    assert (segment.mean, segment.mean_mr) == (11.0, 2.0)
    assert segment.upper == pytest.approx(16.32)
    assert segment.lower == pytest.approx(5.68)
    assert round(NEAR_LIMIT_FACTOR, 4) == 1.7733
    assert segment.near_upper == pytest.approx(14.5467, abs=1e-4)
    assert segment.near_lower == pytest.approx(7.4533, abs=1e-4)
    assert all(p.signal is None for p in chart.points)
    assert chart.variation.code == "common_cause"


def test_decimal_values_give_the_same_chart():
    floats = xmr(CHECK)
    decimals = xmr([Decimal(v) for v in CHECK])
    assert decimals.segments == floats.segments
    assert decimals.points == floats.points


# --- rule 1: outside the limits ------------------------------------------------------------


def test_a_point_below_the_lower_limit_is_special_cause_low():
    assert signals(later([5])) == [(OUTSIDE_LIMITS, -1)]


def test_a_point_on_the_limit_is_not_outside():
    chart = xmr([0, 2] * 6 + [1 + 2.66 * 2], baseline=12)  # exactly on the upper limit
    assert chart.segments[0].upper == chart.points[-1].value
    assert chart.points[-1].signal is None


# --- rule 2: trends ------------------------------------------------------------------------


def test_seven_rising_points_are_a_trend_all_labelled():
    # crosses the mean (4 below, 3 above) so no shift; 10 → 8 before it is a fall
    chart = later([8, 9, 10, 10.5, 11.5, 12, 13])
    assert signals(chart) == [(TREND, 1)] * 7
    assert chart.points[11].signal is None


def test_seven_falling_points_are_a_trend_with_direction_down():
    chart = later([14, 13, 12, 11.5, 10.5, 10, 9])
    assert signals(chart) == [(TREND, -1)] * 7


def test_six_rising_points_are_not_a_trend():
    assert signals(later([8, 9, 10, 10.5, 11.5, 12])) == [(None, None)] * 6


def test_a_tie_breaks_a_trend():
    chart = later([8, 9, 10, 10.5, 10.5, 11.5, 12, 13])
    assert signals(chart) == [(None, None)] * 8


# --- rule 3: two of three beyond the near-limit line -----------------------------------------


def test_two_of_three_beyond_the_same_near_limit_line():
    chart = later([15, 11, 15])
    assert signals(chart) == [(TWO_OF_THREE, 1), (None, None), (TWO_OF_THREE, 1)]


def test_two_consecutive_points_beyond_the_lower_near_limit_line():
    assert signals(later([7, 7])) == [(TWO_OF_THREE, -1), (TWO_OF_THREE, -1)]


def test_two_of_three_on_mixed_sides_is_no_signal():
    assert signals(later([15, 11, 7])) == [(None, None)] * 3


def test_a_point_outside_the_limits_does_not_count_towards_two_of_three():
    # 17 is outside (rule 1); 15 is then alone beyond the near-limit line
    assert signals(later([15, 17, 11])) == [(None, None), (OUTSIDE_LIMITS, 1), (None, None)]


# --- rule 4: shifts ------------------------------------------------------------------------

ABOVE = [11.5, 11.2, 11.8, 11.3, 11.6, 11.4, 11.7]  # 7 points above 11, alternating


def test_seven_points_above_the_mean_are_a_shift_all_labelled():
    assert signals(later(ABOVE)) == [(SHIFT, 1)] * 7


def test_six_points_above_the_mean_are_not_a_shift():
    assert signals(later(ABOVE[:6])) == [(None, None)] * 6


def test_a_point_on_the_mean_breaks_a_shift():
    chart = later([*ABOVE[:3], 11, *ABOVE[3:]])
    assert chart.points[15].value == chart.points[15].centre == 11.0
    assert signals(chart) == [(None, None)] * 8


def test_seven_points_below_the_mean_are_a_shift_down():
    below = [22 - v for v in ABOVE]
    assert signals(later(below)) == [(SHIFT, -1)] * 7


# --- precedence: the first matching rule labels a point --------------------------------------


def test_outside_limits_wins_over_trend():
    chart = later([8, 9, 10, 11, 12, 13, 17])
    assert signals(chart) == [(TREND, 1)] * 6 + [(OUTSIDE_LIMITS, 1)]


def test_trend_wins_over_shift():
    # 10 then 11.1 … 11.7: 8 rising points, the last 7 also a shift above the mean
    chart = later([11.1, 11.2, 11.3, 11.4, 11.5, 11.6, 11.7])
    assert [p.signal for p in chart.points[11:]] == [TREND] * 8


def test_two_of_three_wins_over_shift():
    chart = later([11.5, 15, 11.2, 15, 11.4, 11.6, 11.3])
    assert signals(chart) == [
        (SHIFT, 1),
        (TWO_OF_THREE, 1),
        (SHIFT, 1),
        (TWO_OF_THREE, 1),
        (SHIFT, 1),
        (SHIFT, 1),
        (SHIFT, 1),
    ]


# --- gaps ----------------------------------------------------------------------------------


def test_a_gap_neither_breaks_nor_joins_a_run():
    chart = later([*ABOVE[:3], None, *ABOVE[3:]])
    gap = chart.points[15]
    assert (gap.value, gap.signal, gap.moving_range) == (None, None, None)
    assert [p.signal for p in chart.points[12:] if p.value is not None] == [SHIFT] * 7
    # the moving range after the gap joins the points either side of it
    assert chart.points[16].moving_range == pytest.approx(abs(11.3 - 11.8))
    assert any("no data" in note for note in chart.notes)


def test_a_gap_in_the_baseline_is_skipped():
    chart = xmr([12, 10, None, 12, 10, 12, 10, 12, 10, 12, 10, 12, 10, 12])
    (segment,) = chart.segments
    assert segment.baseline_points == 13
    assert (segment.mean, segment.mean_mr) == (pytest.approx(144 / 13), 2.0)


# --- baselines and rebasing ----------------------------------------------------------------


def test_fewer_than_twelve_baseline_points_give_trial_limits():
    short = xmr(BASE[:11])
    assert short.segments[0].trial
    assert any("trial limits" in note for note in short.notes)
    full = xmr(BASE)
    assert not full.segments[0].trial
    assert not any("trial" in note for note in full.notes)


def test_fixed_baseline_judges_later_points_against_it():
    chart = later([20, 22] * 3)
    (segment,) = chart.segments
    assert (segment.baseline_points, segment.points, segment.mean) == (12, 18, 11.0)
    assert [p.in_baseline for p in chart.points] == [True] * 12 + [False] * 6
    assert all(p.centre == 11.0 for p in chart.points)
    assert signals(chart) == [(OUTSIDE_LIMITS, 1)] * 6
    # without the fixed baseline the later points pull the mean up
    assert xmr([*BASE, 20, 22, 20, 22, 20, 22]).segments[0].mean == pytest.approx(258 / 18)


def test_rebasing_starts_a_segment_with_its_own_limits():
    periods = months(24)
    values = [*BASE, *[22, 20] * 6]
    chart = xmr(values, periods=periods, rebase_at=[dt.date(2025, 1, 1)], polarity="higher")
    first, second = chart.segments
    assert (first.start, first.end, first.mean) == (dt.date(2024, 1, 1), dt.date(2024, 12, 1), 11)
    assert (second.start, second.end, second.mean) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 1),
        21,
    )
    assert (second.first, second.mean_mr) == (12, 2.0)
    assert chart.points[12].moving_range is None  # no moving range across the rebase
    assert all(p.signal is None for p in chart.points)
    # unrebased, the second year is a shift above the first year's mean
    assert xmr(values).points[12].signal is not None


def test_rebasing_with_each_segment_fixed_after_n_points():
    periods = months(20)
    values = [12, 10, 12, 10, 12, 10, 40, 40, 40, 40, 22, 20, 22, 20, 22, 20, 2, 2, 2, 2]
    chart = xmr(values, periods=periods, baseline=6, rebase_at=[periods[10]])
    assert [(s.baseline_points, s.mean, s.trial) for s in chart.segments] == [
        (6, 11, True),
        (6, 21, True),
    ]
    assert [p.signal for p in chart.points[6:10]] == [OUTSIDE_LIMITS] * 4
    assert [p.direction for p in chart.points[16:]] == [-1] * 4


def test_rebase_dates_outside_the_chart_are_noted_not_applied():
    periods = months(12)
    chart = xmr(BASE, periods=periods, rebase_at=[dt.date(2023, 6, 1), dt.date(2030, 1, 1)])
    assert len(chart.segments) == 1
    assert sum("changes nothing" in note for note in chart.notes) == 2


def test_bad_options_are_refused():
    with pytest.raises(BadValue, match="periods"):
        xmr([1, 2, 3], periods=months(2))
    with pytest.raises(BadValue, match="rebase"):
        xmr([1, 2, 3], rebase_at=[dt.date(2024, 1, 1)])
    with pytest.raises(BadValue, match="baseline"):
        xmr([1, 2, 3], baseline=1)


# --- icons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "polarity", "icon", "assessment"),
    [
        (17, "higher", "improvement_high", "improvement"),
        (17, "lower", "concern_high", "concern"),
        (17, "neither", "neither_high", "neither"),
        (5, "higher", "concern_low", "concern"),
        (5, "lower", "improvement_low", "improvement"),
        (5, "neither", "neither_low", "neither"),
    ],
)
def test_variation_icon_from_the_last_point_and_polarity(last, polarity, icon, assessment):
    chart = later([last], polarity=polarity)
    assert chart.variation.code == icon
    assert chart.points[-1].assessment == assessment
    assert chart.variation.label and chart.variation.description


def test_a_rising_trend_below_the_mean_is_an_improvement_when_higher_is_better():
    # all below the mean (a shift) and the first three beyond the near-limit line: trend wins
    chart = later([6, 6.5, 7, 7.5, 8, 8.5, 9], polarity="higher")
    assert signals(chart) == [(TREND, 1)] * 7
    assert chart.variation.code == "improvement_high"


def test_variation_icon_is_common_cause_when_the_last_point_is_quiet():
    chart = later([17, 11], polarity="higher")
    assert chart.points[-2].signal == OUTSIDE_LIMITS
    assert chart.variation.code == "common_cause"


@pytest.mark.parametrize(
    ("polarity", "target", "icon"),
    [
        ("higher", 5, "consistently_pass"),
        ("higher", 17, "consistently_fail"),
        ("higher", 11, "hit_and_miss"),
        ("lower", 17, "consistently_pass"),
        ("lower", 5, "consistently_fail"),
        ("lower", 6, "hit_and_miss"),
        ("higher", None, None),
        ("neither", 5, None),
    ],
)
def test_assurance_icon_from_the_target_against_the_limits(polarity, target, icon):
    chart = xmr(BASE, polarity=polarity, target=target)
    assert (chart.assurance.code if chart.assurance else None) == icon


def test_assurance_uses_the_latest_segment():
    periods = months(24)
    values = [*BASE, *[22, 20] * 6]  # limits 5.68-16.32, then 15.68-26.32
    chart = xmr(values, periods=periods, rebase_at=[periods[12]], polarity="higher", target=17)
    assert chart.assurance.code == "hit_and_miss"
    assert xmr(BASE, polarity="higher", target=17).assurance.code == "consistently_fail"


def test_no_icon_without_limits():
    chart = xmr([5], polarity="higher", target=3)
    assert (chart.variation, chart.assurance) == (None, None)
    assert any("at least 2" in note for note in chart.notes)
