"""Comparisons: Wilson and Byar intervals against published figures, PHE's funnel limits, the
Fingertips better/similar/worse test, peer ranks and quartiles, targets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pcnkit.assurance.compare import (
    COMPARISONS,
    _byar_lower,
    _byar_upper,
    _exact_poisson,
    against_target,
    byar,
    compare_to,
    funnel_denominators,
    funnel_limits,
    rank_peers,
    wilson,
    z_value,
)
from pcnkit.errors import BadValue

# --- Wilson score intervals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "lower", "upper"),
    [
        # Newcombe RG (1998), Two-sided confidence intervals for the single proportion,
        # Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score, the method
        # OHID's Technical Guide cites through Newcombe and Altman)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_reproduces_newcombes_published_intervals(numerator, denominator, lower, upper):
    found = wilson(numerator, denominator)
    assert (round(found.lower, 4), round(found.upper, 4)) == (lower, upper)


def test_wilson_at_99_8_percent_by_hand():
    # 50/100, z = 3.0902: (100 + z² ∓ z√(z² + 100)) / (2(100 + z²)) = 0.3524 to 0.6476
    found = wilson(50, 100, 0.998)
    assert (round(found.lower, 4), round(found.upper, 4)) == (0.3524, 0.6476)
    assert round(z_value(0.998), 4) == 3.0902


def test_wilson_when_every_case_has_the_characteristic():
    found = wilson(20, 20)
    assert found.upper == 1.0
    assert round(found.lower, 4) == round(1 - 0.1611, 4)  # the mirror of 0/20


def test_wilson_accepts_decimals_and_unpacks_as_lower_upper():
    assert wilson(Decimal(81), Decimal(263)) == wilson(81, 263)
    lower, upper = wilson(81, 263)
    assert (round(lower, 4), round(upper, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(
    ("numerator", "denominator", "why"),
    [
        (0, 0, "denominator is 0"),
        (5, None, "denominator is missing"),
        (None, 5, "numerator is missing"),
        (6, 5, "exceeds the denominator"),
        (-1, 5, "negative"),
    ],
)
def test_wilson_says_why_it_cannot_be_calculated(numerator, denominator, why):
    found = wilson(numerator, denominator)
    assert (found.lower, found.upper, found.calculable) == (None, None, False)
    assert why in found.reason and "cannot be calculated" in found.reason


# --- Byar and exact Poisson intervals for rates ----------------------------------------------


def test_byar_for_100_events_by_hand():
    # 100 × (1 − 1/900 − 1.96/30)³ = 81.36; 101 × (1 − 1/909 + 1.96/(3√101))³ = 121.63
    found = byar(100, 1)
    assert (round(found.lower, 2), round(found.upper, 2)) == (81.36, 121.63)


def test_byar_scales_to_the_rate_per_multiplier():
    found = byar(100, 50_000, 1_000)  # 2.0 per 1,000
    assert (round(found.lower, 3), round(found.upper, 3)) == (1.627, 2.433)


@pytest.mark.parametrize(
    ("observed", "lower", "upper"),
    # exact 95% Poisson limits of a count (Garwood 1936), as tabulated in every statistics text
    [(0, 0.0, 3.689), (1, 0.0253, 5.5716), (2, 0.2422, 7.2247), (5, 1.6235, 11.6683)],
)
def test_fewer_than_10_events_use_the_exact_poisson_limits(observed, lower, upper):
    found = byar(observed, 1)
    assert found.lower == pytest.approx(lower, abs=1e-4)
    assert found.upper == pytest.approx(upper, abs=1e-3)


def test_byar_is_within_0_2_percent_of_exact_from_10_events():
    # OHID's Technical Guide: "for 95% confidence intervals, Byar's method is within 0.2% of
    # the exact value for numerators of 10 or more"
    z = z_value(0.95)
    for observed in range(10, 200):
        exact_lower, exact_upper = _exact_poisson(observed, 0.95)
        assert _byar_lower(observed, z) == pytest.approx(exact_lower, rel=0.002)
        assert _byar_upper(observed, z) == pytest.approx(exact_upper, rel=0.002)


def test_a_single_event_at_99_8_percent_has_a_positive_lower_limit():
    # Byar's formula alone gives a negative lower limit here; the exact one does not
    assert _byar_lower(1, z_value(0.998)) < 0
    found = byar(1, 1, 1, 0.998)
    assert 0 < found.lower < 0.01
    assert found.upper == pytest.approx(9.233, abs=1e-3)


def test_byar_says_why_it_cannot_be_calculated():
    found = byar(3, 0, 1000)
    assert not found.calculable and "population is 0" in found.reason


def test_confidence_must_be_a_level():
    with pytest.raises(BadValue, match="confidence"):
        wilson(1, 2, 95)


# --- funnel limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "limits"),
    # PHEindicatormethods' own expected output for its proportion funnel
    # (tests/testthat/testdata_funnel_prop_outputs.csv: baseline 80.642448%)
    [
        (1, (3.204264, 100, 0, 100)),
        (50, (69.691035, 91.593861, 63.375595, 97.909301)),
        (1008, (78.203374, 83.081521, 76.796814, 84.488082)),
        (110000, (80.408963, 80.875933, 80.274317, 81.010578)),
    ],
)
def test_proportion_funnel_reproduces_phe(n, limits):
    (point,) = funnel_limits(80.642448, [n], "percent")
    found = (point.lower_95, point.upper_95, point.lower_998, point.upper_998)
    assert found == pytest.approx(limits, abs=2e-6)


@pytest.mark.parametrize(
    ("benchmark", "unit", "denominators"),
    [(72.5, "%", [40, 500, 8000]), (55.0, "per 1,000", [300, 1000, 5000, 60000])],
)
def test_a_dot_outside_the_funnel_is_exactly_a_significant_difference(
    benchmark, unit, denominators
):
    scale = 100 if unit == "%" else 1000
    for point in funnel_limits(benchmark, denominators, unit):
        n = point.denominator
        for limit, outside in ((point.upper_95, 1.0001), (point.lower_95, 0.9999)):
            just_out = compare_to(limit * outside * n / scale, n, benchmark, unit, "neither")
            just_in = compare_to(limit * (2 - outside) * n / scale, n, benchmark, unit, "neither")
            assert just_out.result in ("higher", "lower")
            assert just_in.result == "similar"
        assert point.lower_998 < point.lower_95 < benchmark < point.upper_95 < point.upper_998


def test_rate_funnel_lower_limit_is_zero_when_few_events_are_expected():
    (point,) = funnel_limits(2.0, [1000], "per_1000")  # 2 events expected
    assert point.lower_95 == 0.0
    assert point.upper_95 > 2.0


def test_funnel_denominators_spread_on_a_log_scale():
    assert funnel_denominators(10, 1000, 3) == pytest.approx([10, 100, 1000])


def test_a_count_has_no_funnel():
    with pytest.raises(BadValue, match="unit"):
        funnel_limits(5, [10], "count")


# --- comparison with a benchmark -------------------------------------------------------------

# 60/100: Wilson 95% interval 50.20% to 69.06%


@pytest.mark.parametrize(
    ("benchmark", "polarity", "result"),
    [
        (50.0, "higher", "better"),
        (50.0, "lower", "worse"),
        (50.0, "neither", "higher"),
        (50.5, "higher", "similar"),
        (69.0, "higher", "similar"),
        (70.0, "higher", "worse"),
        (70.0, "lower", "better"),
        (70.0, "neither", "lower"),
    ],
)
def test_compare_to_a_proportion_benchmark(benchmark, polarity, result):
    found = compare_to(60, 100, benchmark, "percent", polarity)
    assert found.result == result
    assert found.label == COMPARISONS[result]
    assert found.value == pytest.approx(60.0)
    assert (round(found.lower, 2), round(found.upper, 2)) == (50.20, 69.06)


def test_compare_to_a_rate_benchmark():
    # 100 events in 50,000: 2.0 per 1,000 (1.627 to 2.433)
    assert compare_to(100, 50_000, 1.5, "per_1000", "lower").result == "worse"
    assert compare_to(100, 50_000, 2.3, "per_1000", "lower").result == "similar"
    assert compare_to(100, 50_000, 2.5, "per_1000", "lower").result == "better"


@pytest.mark.parametrize(
    ("num", "den", "benchmark", "unit", "why"),
    [
        (3, 0, 50.0, "percent", "denominator is 0"),
        (3, 10, None, "percent", "no benchmark"),
        (3, 10, 5.0, "count", "count has no confidence interval"),
        (None, 10, 5.0, "per_1000", "count is missing"),
    ],
)
def test_not_compared_says_why(num, den, benchmark, unit, why):
    found = compare_to(num, den, benchmark, unit, "higher")
    assert found.result == "not_compared"
    assert why in found.reason


def test_an_unknown_unit_is_refused():
    with pytest.raises(BadValue, match="unit"):
        compare_to(1, 2, 3, "furlongs", "higher")


# --- peers and targets ---------------------------------------------------------------------

PEERS = {"A": 10.0, "B": 20.0, "C": 20.0, "D": 5.0, "E": None}


def test_rank_peers_higher_is_better_with_ties_sharing_a_rank():
    ranking = rank_peers(PEERS, "higher")
    assert {c: r.rank for c, r in ranking.ranks.items()} == {
        "A": 3,
        "B": 1,
        "C": 1,
        "D": 4,
        "E": None,
    }
    assert {c: r.quartile for c, r in ranking.ranks.items()} == {
        "A": 3,
        "B": 1,
        "C": 1,
        "D": 4,
        "E": None,
    }
    assert (ranking.count, ranking.unranked) == (4, ["E"])


def test_rank_peers_lower_is_better():
    ranks = rank_peers(PEERS, "lower").ranks
    assert [ranks[c].rank for c in "DABC"] == [1, 2, 3, 3]


def test_rank_peers_neither_ranks_the_highest_first():
    assert rank_peers(PEERS, "neither").ranks["B"].rank == 1


def test_quartiles_of_ten_peers():
    ranking = rank_peers({str(k): float(k) for k in range(10)}, "lower")
    assert [ranking.ranks[str(k)].quartile for k in range(10)] == [1, 1, 1, 2, 2, 3, 3, 3, 4, 4]


@pytest.mark.parametrize(
    ("value", "target", "polarity", "result"),
    [
        (75, 75, "higher", "met"),
        (Decimal("74.9"), 75, "higher", "not_met"),
        (5, 6, "lower", "met"),
        (7, 6, "lower", "not_met"),
        (7, 6, "neither", None),
        (None, 6, "higher", None),
        (7, None, "higher", None),
    ],
)
def test_against_target(value, target, polarity, result):
    assert against_target(value, target, polarity) == result
