"""Comparing an organisation with England, its peers and its target, as Fingertips does.

OHID's (formerly PHE's) public health methods are the standard NHS commissioners read: a
proportion's confidence interval by the Wilson score method, a crude rate's by Byar's
approximation (exact Poisson below 10 events), and an organisation "significantly better or
worse" than a benchmark when the benchmark lies outside the organisation's 95% interval.
Funnel plots draw the same test the other way round: the funnel at a denominator is the range
of values whose own interval would contain the benchmark, so a dot outside the 95% funnel is
exactly an organisation `compare_to` calls significantly different.

Pure functions over numbers (floats or Decimals). Something that cannot be calculated (a zero
denominator, a missing figure) says why; it is never shown as 0.

Units: an indicator's unit names its scale. "proportion" (0-1) and "percent" (0-100) are
proportions; "per_1000", "per_10000", "per_100000" and "rate" (per 1) are rates; "count" has
no interval. Spellings such as "%" or "per 1,000" are accepted. Values, benchmarks and limits
are all in the unit's scale (a benchmark of 72.5 for 72.5%).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from math import exp, lgamma, log, sqrt
from statistics import NormalDist
from typing import Literal

from pcnkit.errors import BadValue

Number = float | int | Decimal
Polarity = Literal["higher", "lower", "neither"]

# The two confidence levels Fingertips uses: 95% for comparisons, 99.8% (about 3 sigma) as the
# outer funnel.
CONFIDENCE_95 = 0.95
CONFIDENCE_998 = 0.998
# Below this many events OHID uses exact Poisson limits instead of Byar's approximation
# (Byar is within 0.2% of exact from 10 events up; below, its 99.8% lower limit can go negative).
BYAR_MIN_EVENTS = 10

# unit -> (kind, scale): a value in this unit is numerator / denominator × scale
UNITS = {
    "proportion": ("proportion", 1),
    "percent": ("proportion", 100),
    "%": ("proportion", 100),
    "rate": ("rate", 1),
    "per1000": ("rate", 1_000),
    "per10000": ("rate", 10_000),
    "per100000": ("rate", 100_000),
    "count": ("count", 1),
}

COMPARISONS = {
    "better": "Significantly better than the benchmark",
    "similar": "Similar to the benchmark",
    "worse": "Significantly worse than the benchmark",
    "higher": "Significantly higher than the benchmark",
    "lower": "Significantly lower than the benchmark",
    "not_compared": "Not compared",
}

TARGETS = {"met": "Target met", "not_met": "Target not met"}


@dataclass(frozen=True)
class Interval:
    """A confidence interval; `lower` and `upper` are None when it cannot be calculated, and
    `reason` then says why in plain words. Unpacks as `lower, upper = wilson(...)`."""

    lower: float | None
    upper: float | None
    reason: str | None = None

    @property
    def calculable(self) -> bool:
        return self.reason is None

    def __iter__(self):
        return iter((self.lower, self.upper))


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile: 1.96 for 95%, 3.09 for 99.8%."""
    if not 0 < confidence < 1:
        raise BadValue("confidence", f"{confidence} is not a confidence level", "Use 0.95 or 0.998")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def unit_scale(unit: str) -> tuple[str, float]:
    """("proportion" | "rate" | "count", scale) for an indicator's unit."""
    key = unit.strip().lower().replace(" ", "").replace(",", "").replace("_", "")
    if key not in UNITS:
        raise BadValue(
            "unit",
            f"'{unit}' is not a unit comparisons know",
            "Use proportion, percent, rate, per_1000, per_10000, per_100000 or count",
        )
    return UNITS[key]


# --- intervals -----------------------------------------------------------------------------


def wilson(
    numerator: Number | None, denominator: Number | None, confidence: float = CONFIDENCE_95
) -> Interval:
    """The Wilson score interval of a proportion (0-1), OHID's method for proportions."""
    z = z_value(confidence)
    problem = _counts_problem(numerator, denominator, proportion=True)
    if problem:
        return Interval(None, None, problem)
    o, n = float(numerator), float(denominator)  # type: ignore[arg-type]
    q = 1 - o / n
    half = z * sqrt(z * z + 4 * o * q)
    lower = (2 * o + z * z - half) / (2 * (n + z * z))
    upper = (2 * o + z * z + half) / (2 * (n + z * z))
    return Interval(max(0.0, lower), min(1.0, upper))


def byar(
    observed: Number | None,
    population: Number | None,
    multiplier: float = 1,
    confidence: float = CONFIDENCE_95,
) -> Interval:
    """The interval of a crude rate (`observed` events per `multiplier` of `population`):
    Byar's approximation to the Poisson limits of the count, or the exact Poisson limits
    below 10 events (OHID's rule), divided by the population and scaled."""
    z = z_value(confidence)
    problem = _counts_problem(observed, population, proportion=False)
    if problem:
        return Interval(None, None, problem)
    o, n = float(observed), float(population)  # type: ignore[arg-type]
    if o < BYAR_MIN_EVENTS and o == int(o):
        low, high = _exact_poisson(int(o), confidence)
    else:
        low, high = _byar_lower(o, z), _byar_upper(o, z)
    return Interval(max(0.0, low) / n * multiplier, high / n * multiplier)


def _byar_lower(o: float, z: float) -> float:
    if o <= 0:
        return 0.0
    return o * (1 - 1 / (9 * o) - z / (3 * sqrt(o))) ** 3


def _byar_upper(o: float, z: float) -> float:
    return (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * sqrt(o + 1))) ** 3


def _exact_poisson(o: int, confidence: float) -> tuple[float, float]:
    """The exact (Garwood) limits of a small Poisson count, by bisection on its distribution."""
    tail = (1 - confidence) / 2

    def cdf(k: int, mean: float) -> float:
        if mean == 0:
            return 1.0
        return sum(exp(i * log(mean) - mean - lgamma(i + 1)) for i in range(k + 1))

    # lower: P(X >= o) = tail; upper: P(X <= o) = tail (both monotone in the mean)
    lower = 0.0 if o == 0 else _solve(lambda m: 1 - cdf(o - 1, m), tail, 0.0, o)
    upper = _solve(lambda m: 1 - cdf(o, m), 1 - tail, o, 10.0 * o + 50)
    return lower, upper


def _solve(f, target: float, lo: float, hi: float) -> float:
    """x in [lo, hi] with f(x) = target, for f increasing (bisection; 100 halvings)."""
    for _ in range(100):
        mid = (lo + hi) / 2
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def interval(
    numerator: Number | None,
    denominator: Number | None,
    unit: str,
    confidence: float = CONFIDENCE_95,
) -> Interval:
    """The interval of an indicator value in its unit's scale (Wilson or Byar by its kind)."""
    kind, scale = unit_scale(unit)
    if kind == "count":
        return Interval(None, None, "a count has no confidence interval")
    if kind == "proportion":
        found = wilson(numerator, denominator, confidence)
        if not found.calculable:
            return found
        return Interval(found.lower * scale, found.upper * scale)  # type: ignore[operator]
    return byar(numerator, denominator, scale, confidence)


def _counts_problem(numerator: Number | None, denominator: Number | None, *, proportion: bool):
    top, bottom = ("numerator", "denominator") if proportion else ("count", "population")
    if numerator is None or denominator is None:
        return f"cannot be calculated: the {top if numerator is None else bottom} is missing"
    if denominator <= 0:
        return f"cannot be calculated: the {bottom} is {denominator}"
    if numerator < 0:
        return f"cannot be calculated: the {top} is negative ({numerator})"
    if proportion and numerator > denominator:
        return f"cannot be calculated: the numerator ({numerator}) exceeds the denominator"
    return None


# --- funnel plots --------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelPoint:
    """The control limits around the benchmark at one denominator, in the unit's scale."""

    denominator: float
    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float


def funnel_limits(
    benchmark_value: Number, denominators: Iterable[Number], unit: str
) -> list[FunnelPoint]:
    """95% and 99.8% control limits around `benchmark_value` at each denominator.

    Proportions: benchmark ± z·√(B(1−B)/n), clipped to 0-100% — the limits PHE's funnel plots
    (PHEindicatormethods) draw, and exactly the values whose Wilson interval just reaches the
    benchmark. Rates: the rates whose Byar interval just reaches the benchmark (the expected
    count B·n found by bisection); PHE's rate funnels invert exact Poisson limits instead, which
    Byar matches to within 0.2% from 10 events up."""
    kind, scale = unit_scale(unit)
    if kind == "count":
        raise BadValue("unit", "a count has no funnel plot", "Use a proportion or a rate")
    benchmark = float(benchmark_value) / scale
    if benchmark < 0 or (kind == "proportion" and benchmark > 1):
        raise BadValue(
            "benchmark_value", f"{benchmark_value} is outside the unit's range", "Check the unit"
        )
    z95, z998 = z_value(CONFIDENCE_95), z_value(CONFIDENCE_998)
    points = []
    for raw in denominators:
        n = float(raw)
        if n <= 0:
            raise BadValue("denominators", f"{raw} is not a positive denominator", "Drop it")
        if kind == "proportion":
            limits = [_proportion_limit(benchmark, n, z * s) for z in (z95, z998) for s in (-1, 1)]
        else:
            limits = [_rate_limit(benchmark, n, z, side) for z in (z95, z998) for side in (-1, 1)]
        l95, u95, l998, u998 = (limit * scale for limit in limits)
        points.append(FunnelPoint(n, l95, u95, l998, u998))
    return points


def funnel_denominators(smallest: Number, largest: Number, count: int = 100) -> list[float]:
    """`count` denominators spread evenly on a log scale, for drawing a smooth funnel."""
    low, high = float(smallest), float(largest)
    if not 0 < low <= high or count < 2:
        raise BadValue("denominators", f"{smallest} to {largest} is not a range", "Check them")
    return [low * (high / low) ** (k / (count - 1)) for k in range(count)]


def _proportion_limit(benchmark: float, n: float, z: float) -> float:
    return min(1.0, max(0.0, benchmark + z * sqrt(benchmark * (1 - benchmark) / n)))


def _rate_limit(benchmark: float, n: float, z: float, side: int) -> float:
    """The rate (per 1) at which a Byar interval's far end reaches the expected count."""
    expected = benchmark * n
    if side == 1:  # the count whose lower limit is the expected count
        ceiling = expected + 10 * z * sqrt(expected + 1) + 20
        count = _solve(lambda o: _byar_lower(o, z), expected, 0.0, ceiling)
    else:  # the count whose upper limit is the expected count; none below 0
        if _byar_upper(0.0, z) >= expected:
            return 0.0
        count = _solve(lambda o: _byar_upper(o, z), expected, 0.0, expected)
    return count / n


# --- comparisons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """An organisation against a benchmark: a key of COMPARISONS and its plain-words label."""

    result: str
    label: str
    value: float | None
    lower: float | None
    upper: float | None
    benchmark: float | None
    reason: str | None = None


def compare_to(
    value_num: Number | None,
    value_den: Number | None,
    benchmark_value: Number | None,
    unit: str,
    polarity: Polarity,
    *,
    confidence: float = CONFIDENCE_95,
) -> Comparison:
    """Fingertips' comparison: significantly different when the benchmark lies outside the
    organisation's interval; better or worse by polarity, or higher or lower for "neither"."""
    if polarity not in ("higher", "lower", "neither"):
        raise BadValue(
            "polarity", f"'{polarity}' is not a polarity", "Use higher, lower or neither"
        )
    _kind, scale = unit_scale(unit)
    found = interval(value_num, value_den, unit, confidence)
    value = None
    if found.calculable:
        value = float(value_num) / float(value_den) * scale  # type: ignore[arg-type]
    benchmark = None if benchmark_value is None else float(benchmark_value)

    def outcome(result: str, reason: str | None = None) -> Comparison:
        return Comparison(
            result, COMPARISONS[result], value, found.lower, found.upper, benchmark, reason
        )

    if not found.calculable:
        return outcome("not_compared", found.reason)
    if benchmark is None:
        return outcome("not_compared", "there is no benchmark value to compare with")
    if found.lower > benchmark:  # type: ignore[operator]
        side = "higher"
    elif found.upper < benchmark:  # type: ignore[operator]
        side = "lower"
    else:
        return outcome("similar")
    if polarity == "neither":
        return outcome(side)
    return outcome("better" if (side == "higher") == (polarity == "higher") else "worse")


@dataclass(frozen=True)
class PeerRank:
    code: str
    value: float | None
    rank: int | None  # 1 = best given polarity (highest for "neither"); None when no value
    quartile: int | None  # 1 = best quarter


@dataclass(frozen=True)
class PeerRanking:
    ranks: dict[str, PeerRank]
    count: int  # organisations ranked
    unranked: list[str]  # organisations without a value


def rank_peers(values: Mapping[str, Number | None], polarity: Polarity) -> PeerRanking:
    """Rank peers by value: 1 is best (lowest when lower is better, highest otherwise); ties
    share a rank and the next rank skips ("competition ranking": 1, 2, 2, 4). The quartile
    follows the rank: quartile q holds organisations with between (q−1)/4 and q/4 of the ranked
    peers above them, so tied organisations share a quartile."""
    if polarity not in ("higher", "lower", "neither"):
        raise BadValue(
            "polarity", f"'{polarity}' is not a polarity", "Use higher, lower or neither"
        )
    present = {code: float(v) for code, v in values.items() if v is not None}
    ordered = sorted(present.values(), reverse=polarity != "lower")
    count = len(ordered)
    first_at: dict[float, int] = {}
    for position, v in enumerate(ordered, start=1):
        first_at.setdefault(v, position)
    ranks = {}
    for code, v in values.items():
        if v is None:
            ranks[code] = PeerRank(code, None, None, None)
        else:
            rank = first_at[float(v)]
            ranks[code] = PeerRank(code, float(v), rank, (rank - 1) * 4 // count + 1)
    unranked = [code for code, v in values.items() if v is None]
    return PeerRanking(ranks, count, unranked)


def against_target(value: Number | None, target: Number | None, polarity: Polarity) -> str | None:
    """ "met" or "not_met" (a value equal to its target meets it); None without a value or a
    target, or when neither direction is better."""
    if value is None or target is None or polarity == "neither":
        return None
    if polarity == "higher":
        return "met" if float(value) >= float(target) else "not_met"
    if polarity == "lower":
        return "met" if float(value) <= float(target) else "not_met"
    raise BadValue("polarity", f"'{polarity}' is not a polarity", "Use higher, lower or neither")
