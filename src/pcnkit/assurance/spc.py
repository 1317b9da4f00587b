"""Statistical process control: XmR charts as NHS England's "Making Data Count" draws them.

An XmR chart asks whether a monthly figure is changing, or only wobbling as it always has. The
centre line is the mean of a baseline; the process limits sit 2.66 mean moving ranges either
side; four rules mark "special cause" points; two icons sum the chart up for a committee (is it
changing, for better or worse? will it meet its target?). The method and its published check
case follow NHS-R's plotthedots (the R reimplementation of the Making Data Count Excel tool);
where this module decides something plotthedots leaves open it says so below.

Pure functions over numbers: no database, no files. Values may be floats or Decimals (rates
are compared, not counted, so the chart works in float); None is a month without data.

Decisions, each tested:
- Gaps: a None value is not a point. It gets no limits' test and no signal, and the points
  either side of it are consecutive for moving ranges and runs (a month with no data is no
  evidence of change, so it neither breaks a run nor starts one).
- Segments: `rebase_at` dates start a new segment (the first point on or after each date) with
  its own baseline, mean and limits; moving ranges and runs never cross a segment boundary
  (as in plotthedots, which groups by rebase). `baseline=N` fixes each segment's limits on
  its first N points with data; later points are judged against them.
- Trial limits: a segment whose baseline has fewer than 12 points is flagged `trial`, and the
  chart says so in plain words (plotthedots' short-group warning).
- Two of three: two or three of three consecutive points beyond the same near-limit line,
  inside the limits (a point outside is rule 1's); the third point may be anywhere.
  plotthedots additionally requires all three on the same side of the mean; Making Data Count's
  guidance and the issue state the rule without it, so it is not required here.
- Trend direction: a trend's points get the trend's direction (+1 rising) whichever side of the
  mean they are on, so a rising trend where higher is better is an improvement even below the
  mean. The other rules use the side of the mean.
"""

from __future__ import annotations

import datetime as dt
import itertools
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import isfinite
from statistics import fmean
from typing import Literal

from pcnkit.errors import BadValue

Polarity = Literal["higher", "lower", "neither"]
POLARITIES = ("higher", "lower", "neither")

# --- The constants, once -------------------------------------------------------------------
# Sigma of individual values is estimated as mean moving range / d2, where d2 = 1.128 is the
# expected range of two normal values in sigma units; 3 sigma is therefore 3 / 1.128 = 2.66
# mean moving ranges (the process limits).
LIMIT_FACTOR = 2.66
# The "near limit" (two sigma) lines: two thirds of the way to the process limits (1.7733).
NEAR_LIMIT_FACTOR = LIMIT_FACTOR * 2 / 3
# The upper limit of the moving-range chart (D4 = 3.267 for ranges of two points): a moving
# range this large or larger is itself special cause, so screening leaves it out of the mean
# moving range (then recomputed once, not iterated) to keep one freak month from widening
# the limits. Screening off reproduces the NHS Excel tool.
SCREEN_FACTOR = 3.267
# Making Data Count's minimum baseline: fewer points give trial limits.
MIN_BASELINE = 12
# The length of a run (a trend, or a shift on one side of the mean).
RUN_LENGTH = 7

# The special-cause rules, in precedence order (the first that matches labels a point).
OUTSIDE_LIMITS = "outside_limits"
TREND = "trend"
TWO_OF_THREE = "two_of_three"
SHIFT = "shift"
RULES = {
    OUTSIDE_LIMITS: "A point outside the process limits",
    TREND: f"A run of {RUN_LENGTH} points each rising (or each falling)",
    TWO_OF_THREE: "Two of three points beyond the same near-limit line",
    SHIFT: f"A run of {RUN_LENGTH} points on one side of the mean",
}


@dataclass(frozen=True)
class Icon:
    """One of Making Data Count's icons: its code, a label and what it means in plain words."""

    code: str
    label: str
    description: str


VARIATION_ICONS = {
    icon.code: icon
    for icon in (
        Icon(
            "common_cause",
            "Common cause variation",
            "No significant change: the latest point varies only as much as the past ones did.",
        ),
        Icon(
            "improvement_high",
            "Special cause variation — improving (higher is better)",
            "A significant rise, and higher is better.",
        ),
        Icon(
            "improvement_low",
            "Special cause variation — improving (lower is better)",
            "A significant fall, and lower is better.",
        ),
        Icon(
            "concern_high",
            "Special cause variation — concerning (lower is better)",
            "A significant rise, and lower is better.",
        ),
        Icon(
            "concern_low",
            "Special cause variation — concerning (higher is better)",
            "A significant fall, and higher is better.",
        ),
        Icon(
            "neither_high",
            "Special cause variation — higher",
            "A significant rise; neither direction is better.",
        ),
        Icon(
            "neither_low",
            "Special cause variation — lower",
            "A significant fall; neither direction is better.",
        ),
    )
}

ASSURANCE_ICONS = {
    icon.code: icon
    for icon in (
        Icon(
            "consistently_pass",
            "Consistently passing the target",
            "The target lies beyond the process limits on the failing side: unless the process "
            "changes, every month will meet it.",
        ),
        Icon(
            "consistently_fail",
            "Consistently failing the target",
            "The target lies beyond the process limits on the passing side: unless the process "
            "changes, no month will meet it.",
        ),
        Icon(
            "hit_and_miss",
            "Hit and miss",
            "The target lies within the process limits: some months will meet it and some will "
            "not, by chance alone.",
        ),
    )
}


@dataclass(frozen=True)
class Point:
    """One month on the chart. `value` None is a gap (no limits' test, no signal)."""

    index: int
    period: dt.date | None
    value: float | None
    segment: int
    centre: float | None
    upper: float | None
    lower: float | None
    near_upper: float | None
    near_lower: float | None
    moving_range: float | None  # from the previous point with data in the same segment
    in_baseline: bool
    screened_out: bool  # a baseline moving range left out of the mean moving range
    signal: str | None  # a key of RULES, or None
    direction: int | None  # +1 high (or rising), -1 low (or falling)
    assessment: str | None  # "improvement" / "concern" / "neither" given the polarity


@dataclass(frozen=True)
class Segment:
    """A stretch of the chart with its own baseline, mean and limits (a rebase starts one)."""

    index: int
    first: int  # index of its first and last point
    last: int
    start: dt.date | None  # period of its first and last point, when periods were given
    end: dt.date | None
    points: int  # points with data
    baseline_points: int
    mean: float | None
    mean_mr: float | None
    upper: float | None
    lower: float | None
    near_upper: float | None
    near_lower: float | None
    screened: int  # baseline moving ranges left out by screening
    trial: bool


@dataclass(frozen=True)
class Chart:
    points: list[Point]
    segments: list[Segment]
    polarity: str
    target: float | None
    variation: Icon | None  # None when the latest point cannot be judged (no limits)
    assurance: Icon | None  # None without a target, or for polarity "neither"
    notes: list[str]


def xmr(
    values: Sequence[float | Decimal | None],
    *,
    periods: Sequence[dt.date] | None = None,
    baseline: int | None = None,
    rebase_at: Sequence[dt.date] = (),
    screen_moving_ranges: bool = True,
    polarity: Polarity = "neither",
    target: float | Decimal | None = None,
) -> Chart:
    """The XmR chart of `values` (in time order), with its signals and icons."""
    ys = [_number(v, "values") for v in values]
    if periods is not None:
        periods = list(periods)
        if len(periods) != len(ys):
            raise BadValue(
                "periods",
                f"{len(periods)} periods were given for {len(ys)} values",
                "Give one period per value",
            )
        if any(b <= a for a, b in itertools.pairwise(periods)):
            raise BadValue(
                "periods", "the periods are not in increasing order", "Sort the values by period"
            )
    if polarity not in POLARITIES:
        raise BadValue(
            "polarity", f"'{polarity}' is not a polarity", "Use higher, lower or neither"
        )
    if baseline is not None and baseline < 2:
        raise BadValue(
            "baseline",
            f"a baseline of {baseline} point(s) has no moving range",
            "Fix the limits after 2 points or more (Making Data Count recommends 12 or more)",
        )
    goal = _number(target, "target")
    notes: list[str] = []

    starts = _segment_starts(rebase_at, periods, len(ys), notes)
    points: list[Point] = []
    segments: list[Segment] = []
    ends = [*starts[1:], len(ys)] if starts else []
    for s, (first, end) in enumerate(zip(starts, ends, strict=True)):
        segment, seg_points = _segment(s, first, end, ys, periods, baseline, screen_moving_ranges)
        segments.append(segment)
        points.extend(_judged(seg_points, polarity))
    _describe(segments, ys, baseline, screen_moving_ranges, notes)

    latest = next((p for p in reversed(points) if p.value is not None), None)
    variation = None
    if latest is not None and latest.upper is not None:
        if latest.signal is None:
            variation = VARIATION_ICONS["common_cause"]
        else:
            side = "high" if latest.direction == 1 else "low"
            variation = VARIATION_ICONS[f"{latest.assessment}_{side}"]
    assurance = None
    if goal is not None and polarity != "neither" and latest is not None:
        limits = segments[latest.segment]
        if limits.upper is not None and limits.lower is not None:
            if goal > limits.upper:
                code = "consistently_fail" if polarity == "higher" else "consistently_pass"
            elif goal < limits.lower:
                code = "consistently_pass" if polarity == "higher" else "consistently_fail"
            else:
                code = "hit_and_miss"
            assurance = ASSURANCE_ICONS[code]
    return Chart(points, segments, polarity, goal, variation, assurance, notes)


def _number(value: float | Decimal | None, name: str) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not isfinite(number):
        raise BadValue(name, f"{value} is not a number", "Give finite numbers (None for a gap)")
    return number


def _segment_starts(
    rebase_at: Sequence[dt.date], periods: list[dt.date] | None, n: int, notes: list[str]
) -> list[int]:
    """The index each segment starts at: 0, then the first point on or after each rebase date."""
    starts = {0}
    if rebase_at and periods is None:
        raise BadValue(
            "rebase_at", "rebase dates need the points' periods", "Give periods with the values"
        )
    for day in sorted(set(rebase_at)):
        at = bisect_left(periods, day)  # type: ignore[arg-type]
        if at == 0 or at >= n:
            where = "on or before the first point" if at == 0 else "after the last point"
            notes.append(f"The rebase on {day.isoformat()} is {where}, so it changes nothing.")
        elif at in starts:
            notes.append(
                f"The rebase on {day.isoformat()} starts at the same point as an earlier one."
            )
        else:
            starts.add(at)
    return sorted(starts) if n else []


def _segment(
    s: int,
    first: int,
    end: int,
    ys: list[float | None],
    periods: list[dt.date] | None,
    baseline: int | None,
    screen: bool,
) -> tuple[Segment, list[dict]]:
    """One segment's baseline, limits and per-point moving ranges (signals come later)."""
    observed = [i for i in range(first, end) if ys[i] is not None]
    base = observed[:baseline] if baseline is not None else observed
    base_set = set(base)
    moving: dict[int, float] = {}
    for prev, i in itertools.pairwise(observed):
        moving[i] = abs(ys[i] - ys[prev])  # type: ignore[operator]
    base_mrs = {i: moving[i] for i in base[1:]}
    mean = fmean(ys[i] for i in base) if base else None  # type: ignore[misc]
    mean_mr = fmean(base_mrs.values()) if base_mrs else None
    screened: set[int] = set()
    if screen and mean_mr:
        screened = {i for i, mr in base_mrs.items() if mr >= SCREEN_FACTOR * mean_mr}
        mean_mr = fmean(mr for i, mr in base_mrs.items() if i not in screened)
    if mean is not None and mean_mr is not None:
        upper, lower = mean + LIMIT_FACTOR * mean_mr, mean - LIMIT_FACTOR * mean_mr
        near_upper, near_lower = (
            mean + NEAR_LIMIT_FACTOR * mean_mr,
            mean - NEAR_LIMIT_FACTOR * mean_mr,
        )
    else:
        upper = lower = near_upper = near_lower = None
    segment = Segment(
        index=s,
        first=first,
        last=end - 1,
        start=periods[first] if periods else None,
        end=periods[end - 1] if periods else None,
        points=len(observed),
        baseline_points=len(base),
        mean=mean,
        mean_mr=mean_mr,
        upper=upper,
        lower=lower,
        near_upper=near_upper,
        near_lower=near_lower,
        screened=len(screened),
        trial=len(base) < MIN_BASELINE,
    )
    rows = [
        {
            "index": i,
            "period": periods[i] if periods else None,
            "value": ys[i],
            "segment": s,
            "centre": mean,
            "upper": upper,
            "lower": lower,
            "near_upper": near_upper,
            "near_lower": near_lower,
            "moving_range": moving.get(i),
            "in_baseline": i in base_set,
            "screened_out": i in screened,
        }
        for i in range(first, end)
    ]
    return segment, rows


def _judged(rows: list[dict], polarity: str) -> list[Point]:
    """Apply the four rules to one segment's points, the first matching rule labelling each."""
    seen = [r for r in rows if r["value"] is not None]
    labels: dict[int, tuple[str, int]] = {}

    def label(row: dict, rule: str, direction: int) -> None:
        labels.setdefault(row["index"], (rule, direction))

    if seen and seen[0]["upper"] is not None:
        mean, upper, lower = seen[0]["centre"], seen[0]["upper"], seen[0]["lower"]
        near_upper, near_lower = seen[0]["near_upper"], seen[0]["near_lower"]
        # (1) outside the process limits
        for r in seen:
            if r["value"] > upper or r["value"] < lower:
                label(r, OUTSIDE_LIMITS, 1 if r["value"] > upper else -1)
        # (2) 7 points each rising (or each falling); a tie ends the run
        steps = [_sign(b["value"] - a["value"]) for a, b in itertools.pairwise(seen)]
        for start, stop, step in _runs(steps):
            if step != 0 and stop - start + 1 >= RUN_LENGTH:  # k steps join k + 1 points
                for r in seen[start : stop + 1]:
                    label(r, TREND, step)
        # (3) 2 of 3 consecutive points beyond the same near-limit line, inside the limits
        for k in range(len(seen) - 2):
            window = seen[k : k + 3]
            for side in (1, -1):
                if side == 1:
                    beyond = [r for r in window if near_upper < r["value"] <= upper]
                else:
                    beyond = [r for r in window if lower <= r["value"] < near_lower]
                if len(beyond) >= 2:
                    for r in beyond:
                        label(r, TWO_OF_THREE, side)
        # (4) 7 points on one side of the mean; a point on the mean ends the run
        sides = [_sign(r["value"] - mean) for r in seen]
        for start, stop, side in _runs(sides):
            if side != 0 and stop - start >= RUN_LENGTH:
                for r in seen[start:stop]:
                    label(r, SHIFT, side)

    points = []
    for r in rows:
        rule, direction = labels.get(r["index"], (None, None))
        assessment = None
        if direction is not None:
            if polarity == "neither":
                assessment = "neither"
            else:
                good = 1 if polarity == "higher" else -1
                assessment = "improvement" if direction == good else "concern"
        points.append(Point(**r, signal=rule, direction=direction, assessment=assessment))
    return points


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _runs(items: list[int]) -> list[tuple[int, int, int]]:
    """Maximal runs of equal items as (start, stop, item), stop exclusive."""
    runs = []
    start = 0
    for k in range(1, len(items) + 1):
        if k == len(items) or items[k] != items[start]:
            runs.append((start, k, items[start]))
            start = k
    return runs


def _describe(
    segments: list[Segment],
    ys: list[float | None],
    baseline: int | None,
    screen: bool,
    notes: list[str],
) -> None:
    """The chart's caveats in plain words."""
    gaps = sum(1 for y in ys if y is None)
    if gaps:
        notes.append(
            f"{gaps} period(s) have no data; they are left as gaps, and the points either side "
            "are treated as consecutive."
        )
    several = len(segments) > 1
    for seg in segments:
        name = f"Segment {seg.index + 1}" if several else "The chart"
        if seg.mean_mr is None:
            notes.append(
                f"{name} has {seg.baseline_points} point(s) with data in its baseline: at least 2 "
                "are needed for process limits, so its points are not tested."
            )
        elif seg.trial:
            notes.append(
                f"{name}: trial limits, from a baseline of only {seg.baseline_points} points "
                f"(Making Data Count recommends at least {MIN_BASELINE}); treat its signals "
                "with caution."
            )
        if baseline is not None and seg.points > seg.baseline_points:
            notes.append(
                f"{name}: limits fixed on its first {seg.baseline_points} points with data; "
                "later points are judged against them."
            )
        if seg.screened:
            notes.append(
                f"{name}: {seg.screened} unusually large moving range(s) (at least "
                f"{SCREEN_FACTOR} times the mean) left out of the limits."
            )
    if not screen:
        notes.append("Moving ranges are not screened (as in the NHS Excel tool).")
